//! Multi-head self-attention with one fused in-projection, laid out as PyTorch's
//! `nn.MultiheadAttention` (and therefore open_clip) stores it.
//!
//! # Key mapping to open_clip
//!
//! | ours (burn module path)   | open_clip / PyTorch key | transform                     |
//! |---------------------------|-------------------------|-------------------------------|
//! | `attn.in_proj.weight`     | `attn.in_proj_weight`   | transpose (`[3d, d]` → `[d, 3d]`) |
//! | `attn.in_proj.bias`       | `attn.in_proj_bias`     | none (`[3d]`)                 |
//! | `attn.out_proj.weight`    | `attn.out_proj.weight`  | transpose                     |
//! | `attn.out_proj.bias`      | `attn.out_proj.bias`    | none                          |
//!
//! The `3d` output columns are `[q | k | v]` in that order, each split into heads as
//! `[head 0 | head 1 | ...]` of width `d / heads`, exactly as PyTorch's
//! `F.multi_head_attention_forward` splits `in_proj_weight`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::module::linear;
use burn::tensor::{Bool, Device, Int, Tensor};

use crate::sdpa;

/// Configuration of a [`MultiHeadAttention`].
#[derive(Config, Debug)]
pub struct MultiHeadAttentionConfig {
    /// Model width `d`.
    pub d_model: usize,
    /// Number of heads; must divide `d_model`.
    pub n_heads: usize,
    /// Dropout on the attention weights (training only). Non-zero dropout forces the plain
    /// (materialised-weights) path while training, since the fused op has no dropout.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// Which attention weights a forward pass should return, averaged over heads.
// Built once per forward pass and moved, never stored in bulk: boxing the tensor would only
// add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Default)]
pub enum WeightsRequest {
    /// None (the fast path).
    #[default]
    None,
    /// Every row, `[batch, n_q, n_k]`.
    Full,
    /// One query row per instance, `[batch, 1, n_k]`: `rows[b]` is the query position of
    /// instance `b` (the class token, the end-of-text token). The context still takes the fast
    /// path; only `batch * heads` score rows are recomputed for the weights.
    Rows(Tensor<1, Int>),
}

/// Output of an attention layer.
#[derive(Debug, Clone)]
pub struct AttentionOutput {
    /// `[batch, n_q, d_model]`, after the output projection.
    pub output: Tensor<3>,
    /// Head-averaged attention weights as requested: `[batch, n_q, n_k]` for
    /// [`WeightsRequest::Full`], `[batch, 1, n_k]` for [`WeightsRequest::Rows`].
    pub weights: Option<Tensor<3>>,
}

/// Input of [`MultiHeadAttention::forward`].
#[derive(Debug, Clone)]
pub struct SelfAttentionInput {
    /// `[batch, seq, d_model]`.
    pub x: Tensor<3>,
    /// Key padding mask `[batch, seq]`, `true` = padding (never attended to).
    pub padding: Option<Tensor<2, Bool>>,
    /// Whether position `i` may only attend to positions `<= i`.
    pub causal: bool,
    /// Which weights to return.
    pub weights: WeightsRequest,
}

impl SelfAttentionInput {
    /// Unmasked self-attention over `x`, no weights returned.
    pub fn new(x: Tensor<3>) -> Self {
        Self {
            x,
            padding: None,
            causal: false,
            weights: WeightsRequest::None,
        }
    }

    /// Sets the key padding mask `[batch, seq]` (`true` = padding).
    pub fn padding(mut self, padding: Option<Tensor<2, Bool>>) -> Self {
        self.padding = padding;
        self
    }

    /// Sets the causal flag.
    pub fn causal(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }

    /// Sets which attention weights to return.
    pub fn weights(mut self, weights: WeightsRequest) -> Self {
        self.weights = weights;
        self
    }
}

/// Multi-head self-attention with a fused `[d, 3d]` in-projection.
///
/// See the module docs for the open_clip key mapping.
#[derive(Module, Debug)]
pub struct MultiHeadAttention {
    /// Fused query/key/value projection, `d -> 3d` (`[q | k | v]`).
    pub in_proj: Linear,
    /// Output projection, `d -> d`.
    pub out_proj: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Model width.
    pub d_model: usize,
    /// Number of heads.
    pub n_heads: usize,
}

impl MultiHeadAttentionConfig {
    /// Builds the layer.
    ///
    /// # Panics
    ///
    /// Panics if `n_heads` is zero or does not divide `d_model`.
    pub fn init(&self, device: &Device) -> MultiHeadAttention {
        assert!(
            self.n_heads > 0 && self.d_model.is_multiple_of(self.n_heads),
            "MultiHeadAttention: n_heads ({}) must divide d_model ({})",
            self.n_heads,
            self.d_model
        );
        MultiHeadAttention {
            in_proj: LinearConfig::new(self.d_model, 3 * self.d_model).init(device),
            out_proj: LinearConfig::new(self.d_model, self.d_model).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: self.d_model,
            n_heads: self.n_heads,
        }
    }
}

/// Whether attention dropout would act in this forward pass (training on an autodiff device).
pub(crate) fn dropout_active(dropout: &Dropout, device: &Device) -> bool {
    dropout.prob > 0.0 && dropout.training.is_enabled() && device.is_autodiff()
}

/// Splits `[batch, seq, heads * d_head]` into `[batch, heads, seq, d_head]`.
pub(crate) fn split_heads(x: Tensor<3>, n_heads: usize) -> Tensor<4> {
    let [b, n, d] = x.dims();
    x.reshape([b, n, n_heads, d / n_heads]).swap_dims(1, 2)
}

/// `parts` equal column blocks of `lin(x)` (`[q | k | v]` of a fused in-projection, `[k | v]`
/// of a key/value projection), each split into heads: `parts` tensors
/// `[batch, heads, seq, d_out / (parts * heads)]`.
///
/// On an autodiff device the weight `[d_in, parts * d]` and bias are sliced into blocks and
/// each block is one linear: burn-autodiff's slice backward (`float_slice`,
/// `burn-autodiff-0.22.1/src/ops/tensor.rs`) allocates a zero tensor of the sliced input's
/// full shape and assigns the gradient into it, so slicing the `[batch, seq, parts * d]`
/// activation costs `parts` full-size zero tensors, assignments and sums per backward, and
/// slicing the parameter costs the same on a tensor `batch * seq / d_in` times smaller. The
/// matmuls do the same FLOPs. Elsewhere the fused projection runs as one linear.
pub(crate) fn project_heads(
    lin: &Linear,
    x: Tensor<3>,
    parts: usize,
    n_heads: usize,
) -> Vec<Tensor<4>> {
    if !x.device().is_autodiff() {
        return split_heads(lin.forward(x), parts * n_heads).chunk(parts, 1);
    }
    let weight = lin.weight.val();
    let [d_in, d_out] = weight.dims();
    let d = d_out / parts;
    let bias = lin.bias.as_ref().map(|b| b.val());
    (0..parts)
        .map(|i| {
            let cols = i * d..(i + 1) * d;
            let w = weight.clone().slice([0..d_in, cols.clone()]);
            let b = bias.clone().map(|b| b.slice([cols]));
            split_heads(linear(x.clone(), w, b), n_heads)
        })
        .collect()
}

/// Merges `[batch, heads, seq, d_head]` back into `[batch, seq, heads * d_head]`.
pub(crate) fn merge_heads(x: Tensor<4>) -> Tensor<3> {
    let [b, h, n, dh] = x.dims();
    x.swap_dims(1, 2).reshape([b, n, h * dh])
}

/// Attention of per-head `q`, `k`, `v` with the requested weights: the shared core of self-
/// and cross-attention. Returns the merged context `[batch, n_q, d]` (before the output
/// projection) and the head-averaged weights.
pub(crate) fn attend(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    padding: Option<&Tensor<2, Bool>>,
    causal: bool,
    request: WeightsRequest,
    dropout: &Dropout,
) -> (Tensor<3>, Option<Tensor<3>>) {
    let [b, _, n_q, _] = q.dims();
    let n_k = k.dims()[2];
    let device = q.device();
    // On an autodiff device burn's fused op falls back to a decomposition with more
    // differentiated ops than ours, so the plain path is the fast one there.
    let plain = device.is_autodiff()
        || dropout_active(dropout, &device)
        || matches!(request, WeightsRequest::Full);
    if plain {
        let mask = sdpa::key_mask(padding, causal, b, n_q, n_k, &device);
        let weights = sdpa::attention_weights(q, k, mask);
        let averaged = match request {
            WeightsRequest::None => None,
            WeightsRequest::Full => Some(weights.clone().mean_dim(1).reshape([b, n_q, n_k])),
            WeightsRequest::Rows(rows) => {
                // pick the rows first, then average the few of them over heads
                let h = weights.dims()[1];
                let index = rows.reshape([b, 1, 1, 1]).expand([b, h, 1, n_k]);
                Some(
                    weights
                        .clone()
                        .gather(2, index)
                        .mean_dim(1)
                        .reshape([b, 1, n_k]),
                )
            }
        };
        let context = dropout.forward(weights).matmul(v);
        return (merge_heads(context), averaged);
    }
    let averaged = match request {
        WeightsRequest::Rows(rows) => Some(
            sdpa::row_weights(q.clone(), k.clone(), rows, padding, causal).reshape([b, 1, n_k]),
        ),
        _ => None,
    };
    let mask = sdpa::key_mask(padding, false, b, n_q, n_k, &device);
    let context = sdpa::fused_attention(q, k, v, mask, causal);
    (merge_heads(context), averaged)
}

impl MultiHeadAttention {
    /// Self-attention.
    ///
    /// # Shapes
    ///
    /// - `input.x`: `[batch, seq, d_model]`
    /// - `input.padding`: `[batch, seq]`
    /// - `input.weights`: `Rows(rows)` with `rows: [batch]`
    /// - output: `[batch, seq, d_model]`; weights `[batch, seq, seq]` (`Full`) or
    ///   `[batch, 1, seq]` (`Rows`)
    ///
    /// # Panics
    ///
    /// Panics if a shape disagrees; the message names the argument.
    pub fn forward(&self, input: SelfAttentionInput) -> AttentionOutput {
        let SelfAttentionInput {
            x,
            padding,
            causal,
            weights,
        } = input;
        let [b, n, d] = x.dims();
        assert_eq!(
            d,
            self.d_model,
            "MultiHeadAttention: x must be [batch, seq, {}], got {:?}",
            self.d_model,
            x.dims()
        );
        if let Some(p) = &padding {
            assert_eq!(
                p.dims(),
                [b, n],
                "MultiHeadAttention: padding must be [batch, seq] = [{b}, {n}]"
            );
        }
        if let WeightsRequest::Rows(rows) = &weights {
            assert_eq!(
                rows.dims(),
                [b],
                "MultiHeadAttention: weight rows must be [batch] = [{b}]"
            );
        }
        let mut parts = project_heads(&self.in_proj, x, 3, self.n_heads).into_iter();
        let (q, k, v) = (
            parts.next().expect("q"),
            parts.next().expect("k"),
            parts.next().expect("v"),
        );
        let (context, weights) = attend(q, k, v, padding.as_ref(), causal, weights, &self.dropout);
        AttentionOutput {
            output: self.out_proj.forward(context),
            weights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    fn layer(device: &Device) -> MultiHeadAttention {
        MultiHeadAttentionConfig::new(16, 4).init(device)
    }

    fn random(device: &Device) -> Tensor<3> {
        Tensor::random([3, 5, 16], Distribution::Normal(0.0, 1.0), device)
    }

    fn padding(device: &Device) -> Tensor<2, Bool> {
        Tensor::<2, Int>::from_ints([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1], [0, 1, 1, 1, 1]], device)
            .equal_elem(1)
    }

    /// A reference written out from PyTorch's definition, head by head.
    fn reference(
        attn: &MultiHeadAttention,
        x: Tensor<3>,
        pad: Option<Tensor<2, Bool>>,
        causal: bool,
    ) -> Tensor<3> {
        let [b, n, d] = x.dims();
        let h = attn.n_heads;
        let dh = d / h;
        let qkv = attn.in_proj.forward(x);
        let mut heads = Vec::new();
        for head in 0..h {
            let q = qkv.clone().slice([0..b, 0..n, head * dh..(head + 1) * dh]);
            let k = qkv
                .clone()
                .slice([0..b, 0..n, d + head * dh..d + (head + 1) * dh]);
            let v = qkv
                .clone()
                .slice([0..b, 0..n, 2 * d + head * dh..2 * d + (head + 1) * dh]);
            let mut s = q.matmul(k.swap_dims(1, 2)).div_scalar((dh as f32).sqrt());
            if let Some(p) = &pad {
                s = s.mask_fill(p.clone().reshape([b, 1, n]).expand([b, n, n]), -1e9);
            }
            if causal {
                let c = Tensor::<2, Bool>::tril_mask([n, n], 0, &s.device())
                    .reshape([1, n, n])
                    .expand([b, n, n]);
                s = s.mask_fill(c, -1e9);
            }
            heads.push(burn::tensor::activation::softmax(s, 2).matmul(v));
        }
        attn.out_proj.forward(Tensor::cat(heads, 2))
    }

    #[test]
    fn fast_and_plain_paths_compute_the_same_function() {
        let (_rng, device) = crate::test_util::seeded(0);
        let attn = layer(&device);
        let x = random(&device);
        for (pad, causal) in [
            (None, false),
            (Some(padding(&device)), false),
            (None, true),
            (Some(padding(&device)), true),
        ] {
            let fast = attn.forward(
                SelfAttentionInput::new(x.clone())
                    .padding(pad.clone())
                    .causal(causal),
            );
            assert!(fast.weights.is_none());
            let plain = attn.forward(
                SelfAttentionInput::new(x.clone())
                    .padding(pad.clone())
                    .causal(causal)
                    .weights(WeightsRequest::Full),
            );
            let tol = Tolerance::absolute(1e-5);
            fast.output
                .to_data()
                .assert_approx_eq::<f32>(&plain.output.to_data(), tol);
            let expected = reference(&attn, x.clone(), pad.clone(), causal);
            plain
                .output
                .to_data()
                .assert_approx_eq::<f32>(&expected.to_data(), tol);

            // Rows: the fast path with one recomputed row equals the row of the full weights.
            let rows = Tensor::<1, Int>::from_ints([4, 2, 0], &device);
            let row = attn.forward(
                SelfAttentionInput::new(x.clone())
                    .padding(pad.clone())
                    .causal(causal)
                    .weights(WeightsRequest::Rows(rows.clone())),
            );
            let full = plain.weights.expect("full weights");
            let picked = full.gather(1, rows.reshape([3, 1, 1]).expand([3, 1, 5]));
            row.weights
                .expect("row weights")
                .to_data()
                .assert_approx_eq::<f32>(&picked.to_data(), tol);
        }
    }

    #[test]
    fn training_path_equals_the_fused_inference_path() {
        let (_rng, device) = crate::test_util::seeded_autodiff(3);
        let attn = layer(&device);
        let x = random(&device);
        for causal in [false, true] {
            // autodiff device: the plain path
            let train = attn.forward(
                SelfAttentionInput::new(x.clone())
                    .padding(Some(padding(&device)))
                    .causal(causal),
            );
            // inner device: burn's fused op
            let valid = attn.valid();
            let x_inner = x.clone().inner();
            let pad = padding(&x_inner.device());
            let infer = valid.forward(
                SelfAttentionInput::new(x_inner)
                    .padding(Some(pad))
                    .causal(causal),
            );
            train
                .output
                .inner()
                .to_data()
                .assert_approx_eq::<f32>(&infer.output.to_data(), Tolerance::absolute(1e-5));
        }
    }

    #[test]
    fn sliced_weight_projection_has_the_fused_values_and_gradients() {
        let (_rng, device) = crate::test_util::seeded_autodiff(11);
        let lin = LinearConfig::new(16, 48).init(&device);
        let x = random(&device);
        let w: Vec<Tensor<4>> = (0..3)
            .map(|_| Tensor::random([3, 4, 5, 4], Distribution::Normal(0.0, 1.0), &device))
            .collect();
        // gradients of x, the weight and the bias through a loss weighting every output
        let grads = |sliced: bool| {
            let xi = x.clone().detach().require_grad();
            let parts = if sliced {
                project_heads(&lin, xi.clone(), 3, 4)
            } else {
                split_heads(lin.forward(xi.clone()), 12).chunk(3, 1)
            };
            let values: Vec<_> = parts
                .iter()
                .map(|p| p.clone().detach().into_data())
                .collect();
            let loss = parts
                .into_iter()
                .zip(&w)
                .map(|(p, w)| (p * w.clone()).sum())
                .reduce(|a, b| a + b)
                .expect("three parts");
            let g = loss.backward();
            let bias = lin.bias.as_ref().expect("bias");
            (
                values,
                [
                    xi.grad(&g).expect("x").into_data(),
                    lin.weight.grad(&g).expect("weight").into_data(),
                    bias.grad(&g).expect("bias").into_data(),
                ],
            )
        };
        let (v1, g1) = grads(true);
        let (v2, g2) = grads(false);
        let tol = Tolerance::absolute(1e-5);
        for (a, b) in v1.iter().zip(&v2).chain(g1.iter().zip(&g2)) {
            a.assert_approx_eq::<f32>(b, tol);
        }
    }

    #[test]
    fn weights_are_distributions_that_skip_padding() {
        let (_rng, device) = crate::test_util::seeded(1);
        let attn = layer(&device);
        let out = attn.forward(
            SelfAttentionInput::new(random(&device))
                .padding(Some(padding(&device)))
                .weights(WeightsRequest::Full),
        );
        let w = out.weights.unwrap();
        assert_eq!(w.dims(), [3, 5, 5]);
        let sums = w.clone().sum_dim(2).reshape([15]);
        sums.to_data().assert_approx_eq::<f32>(
            &Tensor::<1>::ones([15], &device).to_data(),
            Tolerance::absolute(1e-5),
        );
        // instance 2 has only token 0: all weight on it
        let col0 = w.slice([2..3, 0..5, 0..1]).reshape([5]);
        col0.to_data().assert_approx_eq::<f32>(
            &Tensor::<1>::ones([5], &device).to_data(),
            Tolerance::absolute(1e-5),
        );
    }

    #[test]
    fn all_padding_rows_give_zero_context_not_nan() {
        let (_rng, device) = crate::test_util::seeded(2);
        let attn = layer(&device);
        let pad =
            Tensor::<2, Bool>::from_bool(burn::tensor::TensorData::from([[true; 5]; 3]), &device);
        for request in [WeightsRequest::None, WeightsRequest::Full] {
            let out = attn.forward(
                SelfAttentionInput::new(random(&device))
                    .padding(Some(pad.clone()))
                    .weights(request),
            );
            // context is zero, so the output is the out-projection bias everywhere
            let bias = attn
                .out_proj
                .bias
                .as_ref()
                .unwrap()
                .val()
                .reshape([1, 1, 16])
                .expand([3, 5, 16]);
            out.output
                .to_data()
                .assert_approx_eq::<f32>(&bias.to_data(), Tolerance::absolute(1e-6));
        }
    }

    #[test]
    #[should_panic(expected = "padding must be [batch, seq]")]
    fn wrong_padding_shape_panics_with_a_message() {
        let (_rng, device) = crate::test_util::seeded(0);
        let attn = layer(&device);
        let pad = Tensor::<2, Bool>::empty([3, 4], &device);
        attn.forward(SelfAttentionInput::new(random(&device)).padding(Some(pad)));
    }
}
