//! Per-instance fusion weights and the evidence behind them.

use burn::tensor::{Bool, Tensor};

/// The output of a [`crate::Scheduler`]: weights on the simplex, the logits before the
/// softmax, and the signals that produced them, so a user can ask why an instance trusted one
/// modality.
///
/// # Shapes
///
/// - `weights`: `[batch, M]`, each row on the simplex, exactly 0 for missing modalities
/// - `logits`: `[batch, M]`, `-inf` (or a large negative) where the modality is missing
/// - `present`: `[batch, M]`
#[derive(Debug, Clone)]
pub struct FusionWeights {
    /// Fusion weights.
    pub weights: Tensor<2>,
    /// Scheduler logits before the temperature softmax (constant for fixed fusion).
    pub logits: Tensor<2>,
    /// Presence of each modality.
    pub present: Tensor<2, Bool>,
    /// The signals the scheduler read, when it read any.
    pub signals: Option<crate::SignalSet>,
    /// Temperature the weights were computed at.
    pub tau: f64,
}

impl FusionWeights {
    /// `[batch, M]`.
    pub fn dims(&self) -> [usize; 2] {
        self.weights.dims()
    }

    /// Weight column of modality `m`, `[batch]`.
    pub fn of(&self, m: usize) -> Tensor<1> {
        let [b, _] = self.dims();
        self.weights.clone().slice([0..b, m..m + 1]).reshape([b])
    }

    /// Stops gradients through the weights (QMF and PDF train the weighting apart from the
    /// task gradient).
    pub fn detached(mut self) -> Self {
        self.weights = self.weights.detach();
        self.logits = self.logits.detach();
        self
    }
}

/// Masked softmax over modalities with temperature `tau`: `w = softmax(l / tau)` with
/// `w_m = 0` exactly where `present` is false. A row with no present modality gets all zeros.
///
/// # Shapes
///
/// - `logits`: `[batch, M]`
/// - `present`: `[batch, M]`
/// - output: `[batch, M]`
///
/// # Panics
///
/// Panics if the shapes differ or `tau` is not positive and finite.
pub fn masked_softmax(logits: Tensor<2>, present: Tensor<2, Bool>, tau: f64) -> Tensor<2> {
    assert_eq!(
        logits.dims(),
        present.dims(),
        "masked_softmax: logits {:?} and presence {:?} differ",
        logits.dims(),
        present.dims()
    );
    assert!(
        tau.is_finite() && tau > 0.0,
        "masked_softmax: tau must be positive and finite, got {tau}"
    );
    let absent = present.clone().bool_not();
    let scaled = logits.div_scalar(tau);
    // Subtract the max over present entries for stability; absent entries are pushed far
    // below, then their exp is zeroed exactly by the mask (so w_m = 0 holds bit for bit).
    let scaled = scaled.mask_fill(absent.clone(), -1.0e30);
    let max = scaled.clone().max_dim(1).detach();
    let exp = (scaled - max).exp().mask_fill(absent, 0.0);
    let sum = exp.clone().sum_dim(1).clamp_min(1.0e-30);
    exp / sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn masked_softmax_zeroes_missing_and_sums_to_one() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [5.0, -1.0, 0.5]], &device);
        let present = Tensor::<2, burn::tensor::Bool>::from_data(
            TensorData::from([[true, false, true], [false, false, true]]),
            &device,
        );
        let w = masked_softmax(logits, present, 1.0)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(w[1], 0.0);
        assert_eq!(w[3], 0.0);
        assert_eq!(w[4], 0.0);
        assert!((w[0] + w[2] - 1.0).abs() < 1e-6);
        let e = (-2.0f32).exp();
        assert!((w[0] - e / (1.0 + e)).abs() < 1e-6);
        assert!((w[5] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn masked_softmax_row_without_modalities_is_zero() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_floats([[1.0, 2.0]], &device);
        let present =
            Tensor::<2, burn::tensor::Bool>::from_data(TensorData::from([[false, false]]), &device);
        let w = masked_softmax(logits, present, 0.5)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(w, vec![0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "tau must be positive")]
    fn masked_softmax_rejects_bad_tau() {
        let device = Device::flex();
        let logits = Tensor::<2>::zeros([1, 2], &device);
        let present =
            Tensor::<2, burn::tensor::Bool>::from_data(TensorData::from([[true, true]]), &device);
        let _ = masked_softmax(logits, present, 0.0);
    }
}
