//! Query fusion (ALBEF/BLIP-style, modality-symmetric): learned query tokens cross-attend to
//! every modality's tokens, each modality's contribution scaled by its fusion weight.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use mafs_core::{Encoded, Fused, FusionHead, FusionWeights};
use mafs_encoders::Activation;

use crate::presence::{check_encodings, effective_weights, weight_column, zero_missing};
use crate::query_layer::{Memory, QueryFusionLayer, QueryFusionLayerConfig};

/// How the fused query tokens are pooled into one embedding.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum QueryPool {
    /// Mean over the queries.
    Mean,
    /// The first query.
    First,
}

/// Configuration of a [`QueryFusionHead`].
#[derive(Config, Debug)]
pub struct QueryFusionConfig {
    /// Token width of each modality, in scheduler order (`M = len`).
    pub modality_widths: Vec<usize>,
    /// Query width `d` (the fused width).
    pub d_model: usize,
    /// Number of learned queries `Q`.
    #[config(default = 8)]
    pub n_queries: usize,
    /// Number of layers.
    #[config(default = 2)]
    pub layers: usize,
    /// Attention heads; must divide `d_model`.
    #[config(default = 4)]
    pub heads: usize,
    /// MLP hidden width as a multiple of `d`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// One cross-attention shared by every modality (with a learned modality embedding added
    /// to its tokens) instead of one per modality. Shared: a new modality of width `d` needs
    /// only a new modality-embedding row.
    #[config(default = false)]
    pub shared_cross_attention: bool,
    /// With a shared cross-attention, add a learned per-modality embedding to its tokens.
    #[config(default = true)]
    pub modality_embedding: bool,
    /// Dropout on attention weights and in the MLPs (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// MLP non-linearity.
    #[config(default = "Activation::Gelu")]
    pub activation: Activation,
    /// Pooling of the fused queries.
    #[config(default = "QueryPool::Mean")]
    pub pool: QueryPool,
    /// Append one learned token to every modality's memory, which every query may attend
    /// to: a softmax attention's weights sum to one whether or not any token matches the
    /// query, so without it "nothing here" has no representation (the pooled context is the
    /// best partial match); with it the attention can go to the null token instead (as a
    /// sink token or softmax-plus-one). Off by default.
    #[config(default = false)]
    pub null_token: bool,
}

/// Learned queries `[Q, d]`; each layer: self-attention over queries, then
/// `h = h + sum_m w_m * CrossAttn_m(LN(h), H_m, padding_m)`, then an MLP; a final LN.
///
/// A missing modality (per instance) contributes exactly zero: its tokens are replaced by
/// zeros before any use and its weight is zeroed by a mask (see [`crate::presence`]).
#[derive(Module, Debug)]
pub struct QueryFusionHead {
    /// Learned queries `[n_queries, d_model]`.
    pub queries: Param<Tensor<2>>,
    /// Shared mode only: per-modality input projection to `d_model` (`None` where the width is
    /// already `d_model`).
    pub input_proj: Vec<Option<Linear>>,
    /// Shared mode only: learned modality embeddings `[M, d_model]`.
    pub modality_embedding: Option<Param<Tensor<2>>>,
    /// The layers.
    pub layers: Vec<QueryFusionLayer>,
    /// Final norm.
    pub ln_final: LayerNorm,
    /// Token width of each modality.
    pub modality_widths: Vec<usize>,
    /// Whether one cross-attention serves every modality.
    pub shared: bool,
    /// Pooling.
    #[module(skip)]
    pub pool: QueryPool,
    /// With [`QueryFusionConfig::null_token`]: one learned token `[1, width]` per modality
    /// (width `d_model` in shared mode), appended to its memory; else empty.
    pub null_tokens: Vec<Param<Tensor<2>>>,
}

impl QueryFusionConfig {
    /// Builds the head. Queries and modality embeddings start as `N(0, 0.02)`.
    ///
    /// # Panics
    ///
    /// Panics if there is no modality or query, or `heads` does not divide `d_model`.
    pub fn init(&self, device: &Device) -> QueryFusionHead {
        let m = self.modality_widths.len();
        assert!(m > 0, "QueryFusionConfig: at least one modality");
        assert!(self.n_queries > 0, "QueryFusionConfig: at least one query");
        let normal = Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        };
        let shared = self.shared_cross_attention;
        let kv_widths = if shared {
            vec![self.d_model]
        } else {
            self.modality_widths.clone()
        };
        let layer = QueryFusionLayerConfig::new(self.d_model, self.heads, kv_widths)
            .with_mlp_ratio(self.mlp_ratio)
            .with_activation(self.activation)
            .with_dropout(self.dropout);
        QueryFusionHead {
            queries: normal.init([self.n_queries, self.d_model], device),
            input_proj: if shared {
                self.modality_widths
                    .iter()
                    .map(|&w| {
                        (w != self.d_model).then(|| LinearConfig::new(w, self.d_model).init(device))
                    })
                    .collect()
            } else {
                Vec::new()
            },
            modality_embedding: (shared && self.modality_embedding)
                .then(|| normal.init([m, self.d_model], device)),
            layers: (0..self.layers).map(|_| layer.init(device)).collect(),
            ln_final: LayerNormConfig::new(self.d_model).init(device),
            modality_widths: self.modality_widths.clone(),
            shared,
            pool: self.pool,
            null_tokens: if self.null_token {
                self.modality_widths
                    .iter()
                    .map(|&w| normal.init([1, if shared { self.d_model } else { w }], device))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

impl QueryFusionHead {
    /// Number of modalities `M`.
    pub fn n_modalities(&self) -> usize {
        self.modality_widths.len()
    }

    /// Fused width `d`.
    pub fn d_model(&self) -> usize {
        self.queries.dims()[1]
    }

    /// Number of queries `Q`.
    pub fn n_queries(&self) -> usize {
        self.queries.dims()[0]
    }

    /// Whether one cross-attention serves every modality.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The fused query tokens `[batch, Q, d]` (after the final norm).
    ///
    /// # Panics
    ///
    /// Panics if the encodings or weights disagree with the configuration.
    pub fn forward(&self, encoded: &[Encoded], weights: &FusionWeights) -> Tensor<3> {
        check_encodings("QueryFusionHead", encoded, &self.modality_widths);
        let w = effective_weights(encoded, weights);
        let b = encoded[0].batch_size();
        let d = self.d_model();
        let shared = self.shared;
        let memories: Vec<Memory> = encoded
            .iter()
            .enumerate()
            .map(|(m, e)| {
                let mut tokens = zero_missing(e.tokens.clone(), &e.present);
                if shared {
                    if let Some(Some(proj)) = self.input_proj.get(m) {
                        tokens = proj.forward(tokens);
                    }
                    if let Some(emb) = &self.modality_embedding {
                        let row = emb.val().slice([m..m + 1, 0..d]).reshape([1, 1, d]);
                        tokens = tokens + row;
                    }
                }
                let (tokens, padding) = match self.null_tokens.get(m) {
                    Some(null) => with_null_token(tokens, e.padding.clone(), null.val()),
                    None => (tokens, e.padding.clone()),
                };
                Memory {
                    tokens,
                    padding,
                    weight: weight_column(&w, m),
                }
            })
            .collect();
        let q = self.n_queries();
        let mut h = self.queries.val().reshape([1, q, d]).expand([b, q, d]);
        for layer in &self.layers {
            h = layer.forward(h, &memories, shared);
        }
        self.ln_final.forward(h)
    }
}

/// Appends `null` (`[1, w]`) to every instance's tokens (`[b, n, w]` → `[b, n + 1, w]`), as a
/// non-padding position.
fn with_null_token(
    tokens: Tensor<3>,
    padding: Tensor<2, Bool>,
    null: Tensor<2>,
) -> (Tensor<3>, Tensor<2, Bool>) {
    let [b, _, w] = tokens.dims();
    let device = tokens.device();
    let null = null.reshape([1, 1, w]).expand([b, 1, w]);
    let open = Tensor::<2, Bool>::from_data(TensorData::new(vec![false; b], [b, 1]), &device);
    (
        Tensor::cat(vec![tokens, null], 1),
        Tensor::cat(vec![padding, open], 1),
    )
}

impl FusionHead for QueryFusionHead {
    fn d_fused(&self) -> usize {
        self.d_model()
    }

    /// # Shapes
    ///
    /// - `encoded[m].tokens`: `[batch, n_m, modality_widths[m]]`, `padding` `[batch, n_m]`
    /// - `weights.weights`: `[batch, M]`
    /// - output: `pooled` `[batch, d]`, `tokens` `Some([batch, Q, d])`
    ///
    /// # Panics
    ///
    /// Panics if the number of modalities, a width or the weights' shape disagree with the
    /// configuration.
    fn fuse(&self, encoded: &[Encoded], weights: &FusionWeights) -> Fused {
        let tokens = self.forward(encoded, weights);
        let [b, _, d] = tokens.dims();
        let pooled = match self.pool {
            QueryPool::Mean => tokens.clone().mean_dim(1).reshape([b, d]),
            QueryPool::First => tokens.clone().slice([0..b, 0..1, 0..d]).reshape([b, d]),
        };
        Fused {
            pooled,
            tokens: Some(tokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{encoding, poison_missing, random_weights, uniform, weights_from_logits};
    use burn::tensor::{Distribution, Tolerance};
    use mafs_core::Encoded;

    fn encodings(m: usize, d: &[usize], device: &Device) -> Vec<Encoded> {
        let present = [
            [true, true, true, true],
            [true, false, true, false],
            [false, true, true, false],
        ];
        let n = [5, 3, 4];
        let pads: [&[usize]; 3] = [&[0, 0, 0, 0], &[0, 2, 1, 3], &[4, 1, 0, 2]];
        (0..m)
            .map(|i| encoding(&format!("m{i}"), d[i], n[i], pads[i], &present[i], device))
            .collect()
    }

    fn head(widths: Vec<usize>, shared: bool, device: &Device) -> QueryFusionHead {
        QueryFusionConfig::new(widths, 16)
            .with_n_queries(3)
            .with_layers(2)
            .with_heads(4)
            .with_shared_cross_attention(shared)
            .init(device)
    }

    #[test]
    fn any_number_of_modalities_either_mode() {
        let (_rng, device) = crate::testing::seeded(0);
        for shared in [false, true] {
            for m in 1..=3 {
                let widths = [16, 12, 16][..m].to_vec();
                let enc = encodings(m, &widths, &device);
                let h = head(widths, shared, &device);
                let fused = h.fuse(&enc, &random_weights(&enc));
                assert_eq!(fused.pooled.dims(), [4, 16]);
                assert_eq!(fused.tokens.as_ref().unwrap().dims(), [4, 3, 16]);
                assert_eq!(h.d_fused(), 16);
                assert!(!fused.pooled.clone().is_nan().any().into_scalar::<bool>());
                // pooled = mean of the query tokens
                fused.pooled.to_data().assert_approx_eq::<f32>(
                    &fused.tokens.unwrap().mean_dim(1).reshape([4, 16]).to_data(),
                    Tolerance::absolute(1e-6),
                );
            }
        }
    }

    #[test]
    fn the_null_token_is_attended_to_and_learned() {
        let (_rng, device) = crate::testing::seeded(3);
        for shared in [false, true] {
            let widths = vec![16, 12];
            let enc = encodings(2, &widths, &device);
            let w = random_weights(&enc);
            let plain = head(widths.clone(), shared, &device);
            let mut h = QueryFusionConfig::new(widths.clone(), 16)
                .with_n_queries(3)
                .with_heads(4)
                .with_shared_cross_attention(shared)
                .with_null_token(true)
                .init(&device);
            let extra = if shared { 2 * 16 } else { 16 + 12 };
            assert_eq!(h.num_params(), plain.num_params() + extra);
            let base = h.fuse(&enc, &w).pooled;
            assert!(!base.clone().is_nan().any().into_scalar::<bool>());
            // The output depends on the null token: the queries attend to it.
            h.null_tokens[1] = h.null_tokens[1].clone().map(|t| t.mul_scalar(-50.0));
            let moved = h.fuse(&enc, &w).pooled;
            let diff: f32 = (moved - base).abs().max().into_scalar();
            assert!(diff > 1e-3, "shared {shared}: {diff}");
        }
    }

    #[test]
    fn a_missing_modality_contributes_exactly_nothing() {
        let (_rng, device) = crate::testing::seeded(1);
        for shared in [false, true] {
            let widths = vec![16, 12, 16];
            let enc = encodings(3, &widths, &device);
            let h = head(widths, shared, &device);
            let w = random_weights(&enc);
            let base = h.fuse(&enc, &w);
            for value in [f32::NAN, 1e6, -3.0] {
                let changed: Vec<_> = enc.iter().map(|e| poison_missing(e, value)).collect();
                let mut w2 = w.clone();
                w2.weights = w
                    .weights
                    .clone()
                    .mask_fill(w.present.clone().bool_not(), value);
                let out = h.fuse(&changed, &w2);
                out.tokens.unwrap().to_data().assert_approx_eq::<f32>(
                    &base.tokens.clone().unwrap().to_data(),
                    Tolerance::absolute(0.0),
                );
            }
        }
    }

    #[test]
    fn a_zero_weight_modality_and_padding_do_not_matter() {
        let (_rng, device) = crate::testing::seeded(2);
        let widths = vec![16, 16];
        let all = [true; 4];
        let enc = vec![
            encoding("a", 16, 5, &[0, 1, 2, 3], &all, &device),
            encoding("b", 16, 4, &[0, 0, 1, 2], &all, &device),
        ];
        let h = head(widths, false, &device);
        let one_hot = Tensor::<2>::from_floats([[0.0, -1e9]; 4], &device);
        let w = weights_from_logits(&enc, one_hot);
        let base = h.fuse(&enc, &w).pooled;
        let mut other = enc.clone();
        other[1].tokens = Tensor::random([4, 4, 16], Distribution::Normal(0.0, 3.0), &device);
        h.fuse(&other, &w)
            .pooled
            .to_data()
            .assert_approx_eq::<f32>(&base.to_data(), Tolerance::absolute(0.0));

        // padded positions of a weighted modality do not matter either
        let w = uniform(&enc);
        let base = h.fuse(&enc, &w).pooled;
        let mut other = enc.clone();
        let noise = Tensor::<3>::random([4, 5, 16], Distribution::Normal(0.0, 3.0), &device);
        let pad = enc[0].padding.clone().reshape([4, 5, 1]).expand([4, 5, 16]);
        other[0].tokens = enc[0].tokens.clone().mask_where(pad, noise);
        h.fuse(&other, &w)
            .pooled
            .to_data()
            .assert_approx_eq::<f32>(&base.to_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn shared_layer_equals_the_per_modality_formula() {
        let (_rng, device) = crate::testing::seeded(3);
        let layer = QueryFusionLayerConfig::new(16, 4, vec![16]).init(&device);
        let h = Tensor::<3>::random([2, 3, 16], Distribution::Normal(0.0, 1.0), &device);
        let mems: Vec<Memory> = (0..2)
            .map(|i| Memory {
                tokens: Tensor::random([2, 4 + i, 16], Distribution::Normal(0.0, 1.0), &device),
                padding: Tensor::<2, burn::tensor::Int>::zeros([2, 4 + i], &device).equal_elem(1),
                weight: Tensor::<3>::from_floats(
                    [[[0.3 + 0.2 * i as f32]], [[0.9 - 0.8 * i as f32]]],
                    &device,
                ),
            })
            .collect();
        let ours = layer.forward(h.clone(), &mems, true);
        let ca = &layer.cross_attn[0];
        let h1 = h.clone()
            + layer
                .self_attn
                .forward(mafs_encoders::SelfAttentionInput::new(
                    layer.ln_1.forward(h),
                ))
                .output;
        let hn = layer.ln_cross.forward(h1.clone());
        let cross = mems
            .iter()
            .map(|m| {
                ca.forward(hn.clone(), m.tokens.clone(), Some(&m.padding), false)
                    .output
                    * m.weight.clone()
            })
            .reduce(|a, b| a + b)
            .unwrap();
        let h2 = h1 + cross;
        let expected = h2.clone() + layer.mlp.forward(layer.ln_2.forward(h2));
        ours.to_data()
            .assert_approx_eq::<f32>(&expected.to_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn weights_receive_gradients() {
        let (_rng, device) = crate::testing::seeded_autodiff(4);
        let widths = vec![16, 12];
        let enc = encodings(2, &widths, &device);
        let h = head(widths, false, &device);
        let logits =
            Tensor::<2>::random([4, 2], Distribution::Normal(0.0, 1.0), &device).require_grad();
        let w = weights_from_logits(&enc, logits.clone());
        let grads = h.fuse(&enc, &w).pooled.powf_scalar(2.0).sum().backward();
        let g = logits.grad(&grads).expect("logit gradient");
        assert!(!g.clone().is_nan().any().into_scalar::<bool>());
        assert!(g.abs().sum().into_scalar::<f32>() > 0.0);
    }

    #[test]
    fn nan_in_missing_slots_never_reaches_a_gradient() {
        let (_rng, device) = crate::testing::seeded_autodiff(5);
        for shared in [false, true] {
            let widths = vec![16, 12, 16];
            let enc: Vec<_> = encodings(3, &widths, &device)
                .iter()
                .map(|e| poison_missing(e, f32::NAN))
                .collect();
            let h = head(widths, shared, &device);
            let grads = h.fuse(&enc, &random_weights(&enc)).pooled.sum().backward();
            let g = h.queries.val().grad(&grads).expect("query gradient");
            assert!(!g.is_nan().any().into_scalar::<bool>(), "shared = {shared}");
            for layer in &h.layers {
                for ca in &layer.cross_attn {
                    let g = ca.kv_proj.weight.val().grad(&grads).expect("kv gradient");
                    assert!(!g.is_nan().any().into_scalar::<bool>(), "shared = {shared}");
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "configured for 2 modalities, got 1")]
    fn wrong_modality_count_panics_with_a_message() {
        let (_rng, device) = crate::testing::seeded(0);
        let enc = encodings(1, &[16], &device);
        let h = head(vec![16, 16], false, &device);
        h.fuse(&enc, &uniform(&enc));
    }
}
