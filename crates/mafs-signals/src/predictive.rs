//! Predictive entropy of a unimodal auxiliary head.

use burn::tensor::Tensor;
use mafs_core::{SignalContext, UncertaintySignal};

use crate::logits::unimodal_logits;
use crate::util::{entropy_from_logits, stack_modalities};

/// Name of the signal in a [`mafs_core::SignalSet`].
pub const PREDICTIVE_ENTROPY: &str = "predictive_entropy";

/// `H(softmax(logits_m)) / ln(classes)` in `[0, 1]`, from
/// [`SignalContext::unimodal_logits`]. With a single class the value is 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct PredictiveEntropy;

impl PredictiveEntropy {
    /// Normalised predictive entropy of one logit tensor.
    ///
    /// # Shapes
    ///
    /// - `logits`: `[batch, classes]`, output `[batch]`
    pub fn of(&self, logits: Tensor<2>) -> Tensor<1> {
        let [_, c] = logits.dims();
        if c < 2 {
            let [b, _] = logits.dims();
            return Tensor::zeros([b], &logits.device());
        }
        entropy_from_logits(logits).div_scalar((c as f64).ln())
    }
}

impl UncertaintySignal for PredictiveEntropy {
    fn name(&self) -> &str {
        PREDICTIVE_ENTROPY
    }

    /// `[batch, M]`.
    ///
    /// # Panics
    ///
    /// Panics if the context has no unimodal logits or not one tensor per modality.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        let logits = unimodal_logits(ctx, PREDICTIVE_ENTROPY);
        stack_modalities(logits.iter().map(|l| self.of(l.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::encoded_present;
    use burn::tensor::Device;

    #[test]
    fn uniform_is_one_peaked_is_zero() {
        let device = Device::flex();
        let l = Tensor::<2>::from_floats(
            [[1.0, 1.0, 1.0, 1.0, 1.0], [80.0, 0.0, 0.0, 0.0, 0.0]],
            &device,
        );
        let u: Vec<f32> = PredictiveEntropy.of(l).try_into_vec_as::<f32>().unwrap();
        assert!((u[0] - 1.0).abs() < 1e-6);
        assert!(u[1].abs() < 1e-6);
    }

    #[test]
    fn reads_one_tensor_per_modality() {
        let device = Device::flex();
        let enc = vec![
            encoded_present("a", vec![true, true], 3),
            encoded_present("b", vec![true, false], 3),
            encoded_present("c", vec![false, true], 3),
        ];
        let logits = vec![
            Tensor::<2>::from_floats([[0.0, 0.0], [5.0, 0.0]], &device),
            Tensor::<2>::from_floats([[3.0, 1.0], [0.0, 0.0]], &device),
            Tensor::<2>::from_floats([[0.0, 9.0], [2.0, 2.0]], &device),
        ];
        let u = PredictiveEntropy.compute(&SignalContext::new(&enc).with_logits(&logits));
        assert_eq!(u.dims(), [2, 3]);
        let v: Vec<f32> = u.try_into_vec_as::<f32>().unwrap();
        assert!((v[0] - 1.0).abs() < 1e-6 && (v[5] - 1.0).abs() < 1e-6);
        assert!(v.iter().all(|x| (0.0..=1.0 + 1e-6).contains(x)));
    }

    #[test]
    #[should_panic(expected = "has no unimodal logits")]
    fn without_logits_panics() {
        let enc = vec![encoded_present("a", vec![true], 2)];
        let _ = PredictiveEntropy.compute(&SignalContext::new(&enc));
    }
}
