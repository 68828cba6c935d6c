//! Temperature schedules for the scheduler softmax: from near-uniform (`tau_start`, e.g. 5)
//! down to `tau_min` over training.

use serde::{Deserialize, Serialize};

use crate::SchedulerError;

/// How `tau` evolves with the optimisation step.
///
/// Serialised with a `kind` tag: `{"kind": "cosine", "tau_start": 5.0, "tau_min": 0.5,
/// "total_steps": 1000}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TemperatureSchedule {
    /// `tau(step) = tau` for every step.
    Constant {
        /// The temperature.
        tau: f64,
    },
    /// Linear interpolation from `tau_start` at step 0 to `tau_min` at `total_steps`, then
    /// constant.
    Linear {
        /// Temperature at step 0.
        tau_start: f64,
        /// Final temperature.
        tau_min: f64,
        /// Steps of the decay.
        total_steps: usize,
    },
    /// Half-cosine decay `tau_min + (tau_start - tau_min) * (1 + cos(pi * t)) / 2`,
    /// `t = min(step / total_steps, 1)`.
    Cosine {
        /// Temperature at step 0.
        tau_start: f64,
        /// Final temperature.
        tau_min: f64,
        /// Steps of the decay.
        total_steps: usize,
    },
}

impl Default for TemperatureSchedule {
    /// Cosine from 5.0 (near-uniform weights) to 0.5 over 1000 steps.
    fn default() -> Self {
        TemperatureSchedule::Cosine {
            tau_start: 5.0,
            tau_min: 0.5,
            total_steps: 1000,
        }
    }
}

impl TemperatureSchedule {
    /// Checks every temperature is positive and finite.
    ///
    /// # Errors
    ///
    /// [`SchedulerError::Temperature`] naming the bad parameter.
    pub fn validate(&self) -> Result<(), SchedulerError> {
        let check = |what: &'static str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(SchedulerError::Temperature { what, value })
            }
        };
        match *self {
            TemperatureSchedule::Constant { tau } => check("tau", tau),
            TemperatureSchedule::Linear {
                tau_start, tau_min, ..
            }
            | TemperatureSchedule::Cosine {
                tau_start, tau_min, ..
            } => {
                check("tau_start", tau_start)?;
                check("tau_min", tau_min)
            }
        }
    }

    /// The temperature at an optimisation step (0-based). A decay over 0 steps is at
    /// `tau_min` from the start.
    pub fn tau(&self, step: usize) -> f64 {
        let progress = |total: usize| {
            if total == 0 {
                1.0
            } else {
                (step as f64 / total as f64).min(1.0)
            }
        };
        match *self {
            TemperatureSchedule::Constant { tau } => tau,
            TemperatureSchedule::Linear {
                tau_start,
                tau_min,
                total_steps,
            } => tau_start + (tau_min - tau_start) * progress(total_steps),
            TemperatureSchedule::Cosine {
                tau_start,
                tau_min,
                total_steps,
            } => {
                let t = progress(total_steps);
                tau_min + (tau_start - tau_min) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_midpoints() {
        let lin = TemperatureSchedule::Linear {
            tau_start: 5.0,
            tau_min: 1.0,
            total_steps: 100,
        };
        assert_eq!(lin.tau(0), 5.0);
        assert_eq!(lin.tau(50), 3.0);
        assert_eq!(lin.tau(100), 1.0);
        assert_eq!(lin.tau(1000), 1.0);
        let cos = TemperatureSchedule::Cosine {
            tau_start: 5.0,
            tau_min: 1.0,
            total_steps: 100,
        };
        assert!((cos.tau(0) - 5.0).abs() < 1e-12);
        assert!((cos.tau(50) - 3.0).abs() < 1e-12);
        assert!((cos.tau(100) - 1.0).abs() < 1e-12);
        assert!(cos.tau(25) > lin.tau(25));
        assert_eq!(TemperatureSchedule::Constant { tau: 0.7 }.tau(12345), 0.7);
    }

    #[test]
    fn monotone_non_increasing() {
        for s in [
            TemperatureSchedule::default(),
            TemperatureSchedule::Linear {
                tau_start: 5.0,
                tau_min: 0.1,
                total_steps: 37,
            },
        ] {
            let mut prev = f64::INFINITY;
            for step in 0..2000 {
                let t = s.tau(step);
                assert!(t <= prev + 1e-12 && t > 0.0);
                prev = t;
            }
        }
    }

    #[test]
    fn serde_round_trip_and_validation() {
        let s: TemperatureSchedule = serde_json::from_str(
            r#"{"kind": "cosine", "tau_start": 5.0, "tau_min": 0.5, "total_steps": 10}"#,
        )
        .unwrap();
        assert_eq!(
            s,
            TemperatureSchedule::Cosine {
                tau_start: 5.0,
                tau_min: 0.5,
                total_steps: 10
            }
        );
        let back: TemperatureSchedule =
            serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        assert!(s.validate().is_ok());
        assert_eq!(
            TemperatureSchedule::Linear {
                tau_start: 5.0,
                tau_min: 0.0,
                total_steps: 1
            }
            .validate(),
            Err(SchedulerError::Temperature {
                what: "tau_min",
                value: 0.0
            })
        );
    }
}
