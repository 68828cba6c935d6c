//! Attention entropy: how spread the pooling token's attention is over a modality's tokens.

use burn::tensor::Tensor;
use mafs_core::{Encoded, SignalContext, UncertaintySignal};

use crate::util::{PROB_FLOOR, stack_modalities};

/// Name of the signal in a [`mafs_core::SignalSet`].
pub const ATTENTION_ENTROPY: &str = "attention_entropy";

/// Entropy of [`Encoded::pool_attention`] over the non-padding tokens, divided by
/// `ln(N_valid)` (`N_valid` = number of non-padding tokens of the instance), in `[0, 1]`.
///
/// The attention is renormalised over the non-padding tokens first (an encoder that leaks a
/// little mass onto padding does not shift the value). An instance with `N_valid <= 1` has
/// nothing to spread over and gets 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct AttentionEntropy;

impl AttentionEntropy {
    /// The signal for one modality.
    ///
    /// # Shapes
    ///
    /// - output `[batch]`
    ///
    /// # Panics
    ///
    /// Panics, naming the modality, if the encoding carries no pooling attention.
    pub fn of(&self, encoded: &Encoded) -> Tensor<1> {
        let attention = encoded.pool_attention.clone().unwrap_or_else(|| {
            panic!(
                "AttentionEntropy: modality `{}` has no pool_attention; its encoder must \
                 attach one with Encoded::with_pool_attention",
                encoded.name
            )
        });
        let [b, _] = attention.dims();
        let valid = encoded.padding.clone().bool_not().float();
        let a = attention.clamp_min(0.0) * valid.clone();
        let a = a.clone() / a.sum_dim(1).clamp_min(PROB_FLOOR);
        let h = (a.clone() * a.clamp_min(PROB_FLOOR).log())
            .sum_dim(1)
            .neg()
            .reshape([b]);
        let n_valid = valid.sum_dim(1).reshape([b]);
        // ln(N_valid) for N_valid >= 2; for N_valid <= 1 the entropy is 0 and any positive
        // divisor gives the defined value 0.
        let norm = n_valid.clamp_min(2.0).log();
        h / norm
    }
}

impl UncertaintySignal for AttentionEntropy {
    fn name(&self) -> &str {
        ATTENTION_ENTROPY
    }

    /// `[batch, M]`.
    ///
    /// # Panics
    ///
    /// Panics, naming the modality, if an encoding carries no pooling attention.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        stack_modalities(ctx.encoded.iter().map(|e| self.of(e)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Bool, Device, TensorData};

    fn enc(attention: Vec<f32>, padding: Vec<bool>, b: usize, n: usize) -> Encoded {
        let device = Device::flex();
        Encoded::new(
            "text",
            Tensor::zeros([b, n, 2], &device),
            Tensor::<2, Bool>::from_data(TensorData::new(padding, [b, n]), &device),
            Tensor::zeros([b, 2], &device),
            Tensor::<1, Bool>::from_data(TensorData::new(vec![true; b], [b]), &device),
        )
        .with_pool_attention(Tensor::from_data(
            TensorData::new(attention, [b, n]),
            &device,
        ))
    }

    #[test]
    fn uniform_is_one_and_one_hot_is_zero_over_valid_tokens() {
        let e = enc(
            vec![
                1.0 / 3.0,
                1.0 / 3.0,
                1.0 / 3.0,
                0.0, // uniform over 3 valid tokens
                0.0,
                1.0,
                0.0,
                0.0, // one-hot
                1.0,
                0.0,
                0.0,
                0.0, // a single valid token
            ],
            vec![
                false, false, false, true, //
                false, false, false, false, //
                false, true, true, true,
            ],
            3,
            4,
        );
        let u: Vec<f32> = AttentionEntropy.of(&e).try_into_vec_as::<f32>().unwrap();
        assert!((u[0] - 1.0).abs() < 1e-5, "{u:?}");
        assert!(u[1].abs() < 1e-6, "{u:?}");
        assert_eq!(u[2], 0.0);
    }

    #[test]
    fn values_in_unit_interval_and_any_m() {
        let a = vec![0.1, 0.2, 0.3, 0.4, 0.7, 0.1, 0.1, 0.1];
        let e1 = enc(a.clone(), vec![false; 8], 2, 4);
        let e2 = enc(
            a,
            vec![false, false, true, true, false, false, false, true],
            2,
            4,
        );
        let encs = [e1.clone(), e2, e1];
        let u = AttentionEntropy.compute(&SignalContext::new(&encs));
        assert_eq!(u.dims(), [2, 3]);
        for v in u.try_into_vec_as::<f32>().unwrap() {
            assert!((0.0..=1.0 + 1e-6).contains(&v), "{v}");
        }
    }

    #[test]
    #[should_panic(expected = "modality `image` has no pool_attention")]
    fn missing_attention_names_the_modality() {
        let device = Device::flex();
        let e = Encoded::new(
            "image",
            Tensor::zeros([1, 2, 2], &device),
            Tensor::<2, Bool>::from_data(TensorData::new(vec![false; 2], [1, 2]), &device),
            Tensor::zeros([1, 2], &device),
            Tensor::<1, Bool>::from_data(TensorData::new(vec![true], [1]), &device),
        );
        let _ = AttentionEntropy.of(&e);
    }
}
