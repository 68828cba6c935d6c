//! Multi-head cross-attention: queries from one sequence, keys and values from another (with
//! its own width and key padding mask). The building block of query fusion.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};

use crate::attention::{AttentionOutput, WeightsRequest, attend, project_heads, split_heads};

/// Configuration of a [`CrossAttention`].
#[derive(Config, Debug)]
pub struct CrossAttentionConfig {
    /// Width `d` of the queries and of the output.
    pub d_model: usize,
    /// Width of the key/value sequence (the memory); `None` = `d_model`.
    #[config(default = "None")]
    pub d_kv: Option<usize>,
    /// Number of heads; must divide `d_model`.
    pub n_heads: usize,
    /// Dropout on the attention weights (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// Cross-attention `out_proj(softmax(q k^T / sqrt(d_head)) v)` with `q = q_proj(x)` and one
/// fused `[d_kv, 2d]` key/value projection of the memory (`[k | v]` columns).
///
/// Because `kv_proj` reads the memory at its own width, a modality of any width can be
/// attended to without a separate input projection.
#[derive(Module, Debug)]
pub struct CrossAttention {
    /// Query projection, `d -> d`.
    pub q_proj: Linear,
    /// Fused key/value projection, `d_kv -> 2d`.
    pub kv_proj: Linear,
    /// Output projection, `d -> d`.
    pub out_proj: Linear,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Query/output width.
    pub d_model: usize,
    /// Memory width.
    pub d_kv: usize,
    /// Number of heads.
    pub n_heads: usize,
}

impl CrossAttentionConfig {
    /// Builds the layer.
    ///
    /// # Panics
    ///
    /// Panics if `n_heads` is zero or does not divide `d_model`.
    pub fn init(&self, device: &Device) -> CrossAttention {
        assert!(
            self.n_heads > 0 && self.d_model.is_multiple_of(self.n_heads),
            "CrossAttention: n_heads ({}) must divide d_model ({})",
            self.n_heads,
            self.d_model
        );
        let d_kv = self.d_kv.unwrap_or(self.d_model);
        CrossAttention {
            q_proj: LinearConfig::new(self.d_model, self.d_model).init(device),
            kv_proj: LinearConfig::new(d_kv, 2 * self.d_model).init(device),
            out_proj: LinearConfig::new(self.d_model, self.d_model).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: self.d_model,
            d_kv,
            n_heads: self.n_heads,
        }
    }
}

impl CrossAttention {
    /// Attends from `query` to `memory`.
    ///
    /// # Shapes
    ///
    /// - `query`: `[batch, n_q, d_model]`
    /// - `memory`: `[batch, n_k, d_kv]`
    /// - `key_padding`: `[batch, n_k]`, `true` = padding
    /// - output: `[batch, n_q, d_model]`; weights `[batch, n_q, n_k]` when `need_weights`
    ///
    /// A query row whose memory is all padding gets a zero context (its output is the
    /// out-projection bias), never NaN.
    ///
    /// # Panics
    ///
    /// Panics if a shape disagrees; the message names the argument.
    pub fn forward(
        &self,
        query: Tensor<3>,
        memory: Tensor<3>,
        key_padding: Option<&Tensor<2, Bool>>,
        need_weights: bool,
    ) -> AttentionOutput {
        let (context, weights) = self.context(query, memory, key_padding, need_weights);
        AttentionOutput {
            output: self.out_proj.forward(context),
            weights,
        }
    }

    /// Like [`CrossAttention::forward`] but stops before the output projection: returns the
    /// merged per-head context `[batch, n_q, d_model]`. Query fusion with a shared
    /// cross-attention sums the weighted contexts of every modality and projects once.
    pub fn context(
        &self,
        query: Tensor<3>,
        memory: Tensor<3>,
        key_padding: Option<&Tensor<2, Bool>>,
        need_weights: bool,
    ) -> (Tensor<3>, Option<Tensor<3>>) {
        let q = self.project_query(query);
        self.context_from_query(q, memory, key_padding, need_weights)
    }

    /// The per-head projected queries `[batch, heads, n_q, d_head]` of `query`
    /// `[batch, n_q, d_model]`, reusable across several memories.
    ///
    /// # Panics
    ///
    /// Panics if the last axis of `query` is not `d_model`.
    pub fn project_query(&self, query: Tensor<3>) -> Tensor<4> {
        assert_eq!(
            query.dims()[2],
            self.d_model,
            "CrossAttention: query must be [batch, n_q, {}], got {:?}",
            self.d_model,
            query.dims()
        );
        split_heads(self.q_proj.forward(query), self.n_heads)
    }

    /// The merged context for already projected queries `q` `[batch, heads, n_q, d_head]`
    /// (from [`CrossAttention::project_query`]).
    ///
    /// # Panics
    ///
    /// Panics if a shape disagrees; the message names the argument.
    pub fn context_from_query(
        &self,
        q: Tensor<4>,
        memory: Tensor<3>,
        key_padding: Option<&Tensor<2, Bool>>,
        need_weights: bool,
    ) -> (Tensor<3>, Option<Tensor<3>>) {
        let [b, h, _, _] = q.dims();
        let [bm, n_k, d_kv] = memory.dims();
        assert_eq!(
            h, self.n_heads,
            "CrossAttention: projected query must have {} heads, got {h}",
            self.n_heads
        );
        assert_eq!(
            (bm, d_kv),
            (b, self.d_kv),
            "CrossAttention: memory must be [batch, n_k, d_kv] = [{b}, _, {}], got {:?}",
            self.d_kv,
            memory.dims()
        );
        if let Some(p) = key_padding {
            assert_eq!(
                p.dims(),
                [b, n_k],
                "CrossAttention: key_padding must be [batch, n_k] = [{b}, {n_k}]"
            );
        }
        let mut parts = project_heads(&self.kv_proj, memory, 2, self.n_heads).into_iter();
        let (k, v) = (parts.next().expect("k"), parts.next().expect("v"));
        let request = if need_weights {
            WeightsRequest::Full
        } else {
            WeightsRequest::None
        };
        attend(q, k, v, key_padding, false, request, &self.dropout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Int, Tolerance};

    #[test]
    fn shapes_paths_and_padding() {
        let (_rng, device) = crate::test_util::seeded(0);
        let ca = CrossAttentionConfig::new(16, 4)
            .with_d_kv(Some(24))
            .init(&device);
        let q = Tensor::<3>::random([2, 3, 16], Distribution::Normal(0.0, 1.0), &device);
        let mem = Tensor::<3>::random([2, 6, 24], Distribution::Normal(0.0, 1.0), &device);
        let pad = Tensor::<2, Int>::from_ints([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], &device)
            .equal_elem(1);
        let fast = ca.forward(q.clone(), mem.clone(), Some(&pad), false);
        let plain = ca.forward(q.clone(), mem.clone(), Some(&pad), true);
        assert_eq!(fast.output.dims(), [2, 3, 16]);
        assert_eq!(plain.weights.as_ref().unwrap().dims(), [2, 3, 6]);
        let tol = Tolerance::absolute(1e-5);
        fast.output
            .to_data()
            .assert_approx_eq::<f32>(&plain.output.to_data(), tol);

        // Changing padded memory positions changes nothing.
        let noise = Tensor::<3>::random([2, 6, 24], Distribution::Normal(0.0, 5.0), &device);
        let keep = pad.clone().reshape([2, 6, 1]).expand([2, 6, 24]);
        let mem2 = mem.clone().mask_where(keep, noise);
        let out2 = ca.forward(q, mem2, Some(&pad), false);
        out2.output
            .to_data()
            .assert_approx_eq::<f32>(&fast.output.to_data(), tol);
    }
}
