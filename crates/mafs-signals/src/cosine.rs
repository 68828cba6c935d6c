//! Cross-modal agreement by cosine similarity of pooled embeddings.

use burn::tensor::Tensor;
use mafs_core::{SignalContext, UncertaintySignal};

use crate::util::{l2_normalize, mean_over_other_present};

/// Name of the signal in a [`mafs_core::SignalSet`].
pub const AGREEMENT_COSINE: &str = "agreement_cosine";

/// `a_m = mean over the other present modalities n of cos(z_m, z_n)`, in `[-1, 1]`; 0 where
/// no other modality is present. All modalities must share the width `d`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineAgreement;

impl UncertaintySignal for CosineAgreement {
    fn name(&self) -> &str {
        AGREEMENT_COSINE
    }

    /// `[batch, M]`.
    ///
    /// # Panics
    ///
    /// Panics, naming the modality, when the modalities do not share `d`.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        let encoded = ctx.encoded;
        assert!(!encoded.is_empty(), "CosineAgreement: no modalities");
        let d = encoded[0].d_model();
        for e in encoded {
            assert_eq!(
                e.d_model(),
                d,
                "CosineAgreement: modality `{}` has width {}, `{}` has {d}; cosine agreement \
                 needs a shared width",
                e.name,
                e.d_model(),
                encoded[0].name
            );
        }
        let z: Tensor<3> = Tensor::stack(
            encoded
                .iter()
                .map(|e| l2_normalize(e.pooled.clone()))
                .collect(),
            1,
        ); // [b, m, d]
        let cos = z.clone().matmul(z.swap_dims(1, 2)); // [b, m, m]
        mean_over_other_present(cos, mafs_core::mask::presence_of(encoded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::encoded_from;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn identical_embeddings_agree_fully() {
        let device = Device::flex();
        device.seed(3);
        let z = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 1.0), &device);
        let enc = vec![
            encoded_from("image", z.clone(), vec![true; 4]),
            encoded_from("text", z.mul_scalar(3.0), vec![true; 4]),
        ];
        let a: Vec<f32> = CosineAgreement
            .compute(&SignalContext::new(&enc))
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(a.iter().all(|v| (v - 1.0).abs() < 1e-5), "{a:?}");
    }

    #[test]
    fn opposite_orthogonal_and_missing() {
        let device = Device::flex();
        let enc = vec![
            encoded_from(
                "a",
                Tensor::from_floats([[1.0, 0.0], [1.0, 0.0]], &device),
                vec![true, true],
            ),
            encoded_from(
                "b",
                Tensor::from_floats([[-1.0, 0.0], [0.0, 1.0]], &device),
                vec![true, false],
            ),
            encoded_from(
                "c",
                Tensor::from_floats([[0.0, 1.0], [1.0, 0.0]], &device),
                vec![true, false],
            ),
        ];
        let a: Vec<f32> = CosineAgreement
            .compute(&SignalContext::new(&enc))
            .try_into_vec_as::<f32>()
            .unwrap();
        // instance 0: a = mean(-1, 0) = -0.5; b = mean(-1, 0) = -0.5; c = mean(0, 0) = 0
        // instance 1: only `a` present -> 0; b and c see only `a`: cos = 0 and 1
        let want = [-0.5, -0.5, 0.0, 0.0, 0.0, 1.0];
        for (x, y) in a.iter().zip(want) {
            assert!((x - y).abs() < 1e-6, "{a:?}");
        }
    }
}
