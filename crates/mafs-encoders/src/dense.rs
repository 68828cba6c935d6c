//! An encoder for pre-computed feature sequences ([`ModalityInput::Dense`]): the entry point
//! for a new modality (audio frames, sensor windows, detector features) without writing a
//! tower of its own.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Int, Tensor};
use mafs_core::{Encoded, ModalityBatch, ModalityEncoder, ModalityInput};

use crate::activation::Activation;
use crate::attention::WeightsRequest;
use crate::block::{Transformer, TransformerConfig};

/// Where a [`DenseEncoder`] pools.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum DensePool {
    /// Mean over non-padding positions.
    Mean,
    /// The first position.
    First,
}

/// Configuration of a [`DenseEncoder`].
#[derive(Config, Debug)]
pub struct DenseEncoderConfig {
    /// Width of the input features.
    pub d_input: usize,
    /// Width of the output tokens and pooled embedding.
    pub d_model: usize,
    /// Transformer blocks after the input projection (0: projection and norm only).
    #[config(default = 0)]
    pub layers: usize,
    /// Attention heads (when `layers > 0`).
    #[config(default = 4)]
    pub heads: usize,
    /// MLP hidden width as a multiple of `d_model`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// Learned positions for sequences up to this length; `None`: no positions (a set).
    #[config(default = "None")]
    pub max_len: Option<usize>,
    /// Pooling.
    #[config(default = "DensePool::Mean")]
    pub pool: DensePool,
    /// Dropout in the blocks (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Modality name.
    #[config(default = "String::from(\"dense\")")]
    pub modality: String,
}

/// `ln_final(blocks(input_proj(x) + positions))`, pooled by mean or first position.
///
/// `pool_attention`: with blocks, the pooling position's last-layer attention (for `Mean`,
/// the mean row over non-padding positions); without blocks, `None`.
#[derive(Module, Debug)]
pub struct DenseEncoder {
    /// Input projection `d_input -> d_model`.
    pub input_proj: Linear,
    /// Optional learned positions `[max_len, d_model]`.
    pub positional_embedding: Option<Param<Tensor<2>>>,
    /// The blocks (possibly none).
    pub transformer: Transformer,
    /// Final norm.
    pub ln_final: LayerNorm,
    /// Pooling.
    #[module(skip)]
    pub pool: DensePool,
    /// Modality name.
    #[module(skip)]
    pub modality: String,
}

impl DenseEncoderConfig {
    /// Builds the encoder.
    pub fn init(&self, device: &Device) -> DenseEncoder {
        DenseEncoder {
            input_proj: LinearConfig::new(self.d_input, self.d_model).init(device),
            positional_embedding: self.max_len.map(|n| {
                Initializer::Normal {
                    mean: 0.0,
                    std: 0.01,
                }
                .init([n, self.d_model], device)
            }),
            transformer: TransformerConfig::new(self.d_model, self.layers, self.heads)
                .with_mlp_ratio(self.mlp_ratio)
                .with_activation(Activation::Gelu)
                .with_dropout(self.dropout)
                .init(device),
            ln_final: LayerNormConfig::new(self.d_model).init(device),
            pool: self.pool,
            modality: self.modality.clone(),
        }
    }
}

impl DenseEncoder {
    /// Output width.
    pub fn output_dim(&self) -> usize {
        self.input_proj.weight.dims()[1]
    }

    /// Encodes feature sequences.
    ///
    /// # Shapes
    ///
    /// - `values`: `[batch, seq, d_input]`, `padding`: `[batch, seq]` (`true` = padding)
    /// - output: tokens `[batch, seq, d_model]`, pooled `[batch, d_model]`, pool attention
    ///   `[batch, seq]` when there are blocks
    ///
    /// # Panics
    ///
    /// Panics if the shapes disagree or `seq` exceeds `max_len`.
    pub fn forward(
        &self,
        values: Tensor<3>,
        padding: Tensor<2, Bool>,
    ) -> (Tensor<3>, Tensor<2>, Option<Tensor<2>>) {
        let [b, n, d_in] = values.dims();
        let d_input = self.input_proj.weight.dims()[0];
        assert_eq!(
            d_in,
            d_input,
            "DenseEncoder `{}`: values must be [batch, seq, {d_input}], got {:?}",
            self.modality,
            values.dims()
        );
        assert_eq!(
            padding.dims(),
            [b, n],
            "DenseEncoder `{}`: padding must be [batch, seq] = [{b}, {n}]",
            self.modality
        );
        let d = self.output_dim();
        let mut x = self.input_proj.forward(values);
        if let Some(pos) = &self.positional_embedding {
            let max_len = pos.dims()[0];
            assert!(
                n <= max_len,
                "DenseEncoder `{}`: sequence length {n} exceeds max_len {max_len}",
                self.modality
            );
            x = x + pos.val().slice([0..n, 0..d]).reshape([1, n, d]);
        }
        let request = match self.pool {
            DensePool::First => WeightsRequest::Rows(Tensor::<1, Int>::zeros([b], &x.device())),
            DensePool::Mean => WeightsRequest::Full,
        };
        let has_blocks = !self.transformer.resblocks.is_empty();
        let (x, weights) = if has_blocks {
            self.transformer.forward(x, Some(&padding), false, request)
        } else {
            (x, None)
        };
        let tokens = self.ln_final.forward(x);
        let keep = padding.bool_not().float();
        let count = keep.clone().sum_dim(1).clamp_min(1.0);
        let (pooled, attention) = match self.pool {
            DensePool::First => (
                tokens.clone().slice([0..b, 0..1, 0..d]).reshape([b, d]),
                weights.map(|w| w.reshape([b, n])),
            ),
            DensePool::Mean => (
                (tokens.clone() * keep.clone().reshape([b, n, 1]))
                    .sum_dim(1)
                    .reshape([b, d])
                    / count.clone(),
                weights.map(|w| (w * keep.reshape([b, n, 1])).sum_dim(1).reshape([b, n]) / count),
            ),
        };
        (tokens, pooled, attention)
    }
}

impl ModalityEncoder for DenseEncoder {
    fn modality(&self) -> &str {
        &self.modality
    }

    fn d_model(&self) -> usize {
        self.output_dim()
    }

    /// # Panics
    ///
    /// Panics if the input is not [`ModalityInput::Dense`] or its shapes are wrong.
    fn encode(&self, batch: &ModalityBatch) -> Encoded {
        let ModalityInput::Dense { values, padding } = &batch.input else {
            panic!(
                "DenseEncoder `{}`: expected ModalityInput::Dense for modality `{}`",
                self.modality, batch.name
            );
        };
        let (tokens, pooled, attention) = self.forward(values.clone(), padding.clone());
        let enc = Encoded::new(
            self.modality.clone(),
            tokens,
            padding.clone(),
            pooled,
            batch.present.clone(),
        );
        match attention {
            Some(a) => enc.with_pool_attention(a),
            None => enc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn shapes_with_and_without_blocks() {
        let (_rng, device) = crate::test_util::seeded(0);
        for layers in [0, 2] {
            for pool in [DensePool::Mean, DensePool::First] {
                let enc = DenseEncoderConfig::new(5, 16)
                    .with_layers(layers)
                    .with_max_len(Some(8))
                    .with_pool(pool)
                    .with_modality("audio".into())
                    .init(&device);
                let values =
                    Tensor::<3>::random([3, 6, 5], Distribution::Normal(0.0, 1.0), &device);
                let padding = Tensor::<2, Int>::from_ints(
                    [[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1], [0, 1, 1, 1, 1, 1]],
                    &device,
                )
                .equal_elem(1);
                let present = Tensor::<1, Int>::ones([3], &device).equal_elem(1);
                let batch = ModalityBatch::new(
                    "audio",
                    ModalityInput::Dense {
                        values: values.clone(),
                        padding: padding.clone(),
                    },
                    present,
                );
                let e = enc.encode(&batch);
                assert_eq!(e.dims(), [3, 6, 16]);
                assert_eq!(e.name, "audio");
                assert_eq!(e.pool_attention.is_some(), layers > 0);
                // padded values do not matter
                let noise = Tensor::<3>::random([3, 6, 5], Distribution::Normal(0.0, 9.0), &device);
                let mask = padding.clone().reshape([3, 6, 1]).expand([3, 6, 5]);
                let (_, pooled2, _) = enc.forward(values.mask_where(mask, noise), padding);
                e.pooled
                    .to_data()
                    .assert_approx_eq::<f32>(&pooled2.to_data(), Tolerance::absolute(1e-5));
            }
        }
    }
}
