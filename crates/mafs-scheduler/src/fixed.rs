//! Fixed uniform fusion weights: the `fixed-late` and `fixed-query` baselines.

use burn::module::Module;
use burn::tensor::{Bool, Tensor};
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};

use crate::common::finish;

/// Uniform weights over the present modalities of each instance (`1 / #present`), 0 for the
/// missing ones; the temperature is ignored (constant logits give the same weights at every
/// `tau`, T2). The signals are passed through for reports.
#[derive(Module, Debug, Default)]
pub struct FixedWeights {}

impl FixedWeights {
    /// Uniform weights from a presence mask.
    ///
    /// # Shapes
    ///
    /// - `present`: `[batch, M]`, output `[batch, M]`
    pub fn weights(&self, present: Tensor<2, Bool>) -> FusionWeights {
        let logits = Tensor::zeros(present.dims(), &present.device());
        finish(logits, present, None, 1.0)
    }
}

impl Scheduler for FixedWeights {
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, _tau: f64) -> FusionWeights {
        let mut w = self.weights(mafs_core::mask::presence_of(encoded));
        w.signals = Some(signals.clone());
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn uniform_over_present() {
        let device = Device::flex();
        let present = Tensor::<2, Bool>::from_data(
            TensorData::new(
                vec![true, true, true, true, false, true, false, false, false],
                [3, 3],
            ),
            &device,
        );
        let w: Vec<f32> = FixedWeights::default()
            .weights(present)
            .weights
            .try_into_vec_as()
            .unwrap();
        let third = 1.0 / 3.0;
        assert_eq!(w, vec![third, third, third, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0]);
    }
}
