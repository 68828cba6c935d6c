//! Energy score of unimodal logits, the QMF (ICML'23) uncertainty.

use burn::config::Config;
use burn::tensor::Tensor;
use mafs_core::{SignalContext, UncertaintySignal};

use crate::logits::unimodal_logits;
use crate::util::stack_modalities;

/// Name of the signal in a [`mafs_core::SignalSet`].
pub const ENERGY: &str = "energy";

/// Configuration of [`Energy`].
#[derive(Config, Debug)]
pub struct EnergyConfig {
    /// Temperature `T` of the energy `-T * logsumexp(logits / T)`.
    #[config(default = 1.0)]
    pub temperature: f64,
}

impl EnergyConfig {
    /// Builds the signal.
    ///
    /// # Panics
    ///
    /// Panics if the temperature is not positive and finite.
    pub fn init(&self) -> Energy {
        assert!(
            self.temperature.is_finite() && self.temperature > 0.0,
            "EnergyConfig: temperature must be positive and finite, got {}",
            self.temperature
        );
        Energy {
            temperature: self.temperature,
        }
    }
}

/// The free energy `E_m = -T * logsumexp(logits_m / T)` of each modality's unimodal logits
/// (Liu et al. 2020, used by QMF). It is *raw*, not in `[0, 1]`: lower energy means a more
/// confident, more in-distribution prediction, and its scale grows with the logits. QMF's
/// confidence is `-E_m / 10` (`mafs-scheduler`'s `QmfWeighting` reads this signal).
#[derive(Debug, Clone, Copy)]
pub struct Energy {
    /// Temperature `T`.
    pub temperature: f64,
}

impl Default for Energy {
    fn default() -> Self {
        EnergyConfig::new().init()
    }
}

impl Energy {
    /// Energy of one logit tensor, computed with the max subtracted so it never overflows.
    ///
    /// # Shapes
    ///
    /// - `logits`: `[batch, classes]`, output `[batch]`
    pub fn of(&self, logits: Tensor<2>) -> Tensor<1> {
        let [b, _] = logits.dims();
        let scaled = logits.div_scalar(self.temperature);
        let max = scaled.clone().max_dim(1).detach();
        let lse = (scaled - max.clone()).exp().sum_dim(1).log() + max;
        lse.mul_scalar(-self.temperature).reshape([b])
    }
}

impl UncertaintySignal for Energy {
    fn name(&self) -> &str {
        ENERGY
    }

    /// `[batch, M]`, raw energies.
    ///
    /// # Panics
    ///
    /// Panics if the context has no unimodal logits or not one tensor per modality.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        let logits = unimodal_logits(ctx, ENERGY);
        stack_modalities(logits.iter().map(|l| self.of(l.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::encoded_present;
    use burn::tensor::Device;

    #[test]
    fn matches_logsumexp_and_is_stable() {
        let device = Device::flex();
        let l = Tensor::<2>::from_floats([[0.0, 0.0, 0.0, 0.0], [1000.0, 0.0, 0.0, 0.0]], &device);
        let e: Vec<f32> = Energy::default().of(l).try_into_vec_as::<f32>().unwrap();
        assert!((e[0] + 4f32.ln()).abs() < 1e-6, "{e:?}");
        assert!((e[1] + 1000.0).abs() < 1e-3, "{e:?}");
        // T = 2: -2 * ln(4 * exp(0)) on zero logits.
        let l = Tensor::<2>::zeros([1, 4], &device);
        let e: Vec<f32> = EnergyConfig::new()
            .with_temperature(2.0)
            .init()
            .of(l)
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!((e[0] + 2.0 * 4f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn any_number_of_modalities() {
        let device = Device::flex();
        let enc: Vec<_> = (0..4)
            .map(|i| encoded_present(&format!("m{i}"), vec![true, i % 2 == 0], 2))
            .collect();
        let logits: Vec<_> = (0..4)
            .map(|i| Tensor::<2>::full([2, 3], i as f32, &device))
            .collect();
        let e = Energy::default().compute(&SignalContext::new(&enc).with_logits(&logits));
        assert_eq!(e.dims(), [2, 4]);
        let v: Vec<f32> = e.try_into_vec_as::<f32>().unwrap();
        assert!((v[3] + (3.0 + 3f32.ln())).abs() < 1e-5, "{v:?}");
    }
}
