//! Learning-rate schedule: linear warm-up, then cosine decay to a floor.

use serde::{Deserialize, Serialize};

/// Linear warm-up from 0 to `peak` over `warmup_steps`, then cosine decay to
/// `peak * final_fraction` at `total_steps` (and constant after).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WarmupCosine {
    /// Peak learning rate, reached at the end of warm-up.
    pub peak: f64,
    /// Number of warm-up steps.
    pub warmup_steps: usize,
    /// Total number of optimisation steps.
    pub total_steps: usize,
    /// Final learning rate as a fraction of the peak.
    pub final_fraction: f64,
}

impl WarmupCosine {
    /// Learning rate at optimisation step `step` (0-based).
    pub fn at(&self, step: usize) -> f64 {
        if self.warmup_steps > 0 && step < self.warmup_steps {
            return self.peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let decay_steps = self.total_steps.saturating_sub(self.warmup_steps).max(1);
        let t = (step.saturating_sub(self.warmup_steps) as f64 / decay_steps as f64).min(1.0);
        let floor = self.peak * self.final_fraction;
        floor + (self.peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_floor() {
        let s = WarmupCosine {
            peak: 1e-3,
            warmup_steps: 10,
            total_steps: 110,
            final_fraction: 0.1,
        };
        assert!((s.at(0) - 1e-4).abs() < 1e-12);
        assert!((s.at(9) - 1e-3).abs() < 1e-12);
        assert!((s.at(10) - 1e-3).abs() < 1e-12);
        assert!((s.at(60) - (1e-4 + 0.9e-3 * 0.5)).abs() < 1e-12);
        assert!((s.at(110) - 1e-4).abs() < 1e-12);
        assert!((s.at(500) - 1e-4).abs() < 1e-12);
        for k in 10..110 {
            assert!(s.at(k + 1) <= s.at(k) + 1e-15, "not decreasing at {k}");
        }
    }
}
