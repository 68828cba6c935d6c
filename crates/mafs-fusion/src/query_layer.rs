//! One layer of query fusion: self-attention over the queries, weighted cross-attention to
//! every modality, MLP — each a pre-norm residual.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Tensor};
use mafs_encoders::attention::{MultiHeadAttention, MultiHeadAttentionConfig, SelfAttentionInput};
use mafs_encoders::block::mlp_width;
use mafs_encoders::{Activation, CrossAttention, CrossAttentionConfig, Mlp, MlpConfig};

/// Configuration of a [`QueryFusionLayer`].
#[derive(Config, Debug)]
pub struct QueryFusionLayerConfig {
    /// Query width `d`.
    pub d_model: usize,
    /// Attention heads.
    pub heads: usize,
    /// Key/value width of each modality's cross-attention (per-modality mode), or a single
    /// entry `d_model` (shared mode).
    pub kv_widths: Vec<usize>,
    /// MLP hidden width as a multiple of `d`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// MLP non-linearity.
    #[config(default = "Activation::Gelu")]
    pub activation: Activation,
    /// Dropout on attention weights and in the MLP (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// `h += SA(ln_1 h); h += sum_m w_m CA_m(ln_cross h, H_m); h += MLP(ln_2 h)`.
///
/// With one shared cross-attention (`shared`, `cross_attn.len() == 1`) the query projection is computed
/// once and the weighted contexts are summed before a single output projection, whose bias is
/// scaled by `sum_m w_m` — the same function as applying the full cross-attention per modality.
#[derive(Module, Debug)]
pub struct QueryFusionLayer {
    /// Norm before self-attention.
    pub ln_1: LayerNorm,
    /// Self-attention over the queries.
    pub self_attn: MultiHeadAttention,
    /// Norm before cross-attention.
    pub ln_cross: LayerNorm,
    /// Cross-attention, one per modality or one shared.
    pub cross_attn: Vec<CrossAttention>,
    /// Norm before the MLP.
    pub ln_2: LayerNorm,
    /// Feed-forward.
    pub mlp: Mlp,
}

/// One modality's memory for the cross-attention: tokens (missing instances already zeroed),
/// key padding, and its effective weight column `[batch, 1, 1]`.
#[derive(Debug, Clone)]
pub struct Memory {
    /// `[batch, n_tokens, d_kv]`.
    pub tokens: Tensor<3>,
    /// `[batch, n_tokens]`, `true` = padding.
    pub padding: Tensor<2, Bool>,
    /// `[batch, 1, 1]`, zero where the modality is missing.
    pub weight: Tensor<3>,
}

impl QueryFusionLayerConfig {
    /// Builds the layer.
    pub fn init(&self, device: &Device) -> QueryFusionLayer {
        let ln = LayerNormConfig::new(self.d_model);
        QueryFusionLayer {
            ln_1: ln.init(device),
            self_attn: MultiHeadAttentionConfig::new(self.d_model, self.heads)
                .with_dropout(self.dropout)
                .init(device),
            ln_cross: ln.init(device),
            cross_attn: self
                .kv_widths
                .iter()
                .map(|&w| {
                    CrossAttentionConfig::new(self.d_model, self.heads)
                        .with_d_kv(Some(w))
                        .with_dropout(self.dropout)
                        .init(device)
                })
                .collect(),
            ln_2: ln.init(device),
            mlp: MlpConfig::new(self.d_model, mlp_width(self.d_model, self.mlp_ratio))
                .with_activation(self.activation)
                .with_dropout(self.dropout)
                .init(device),
        }
    }
}

impl QueryFusionLayer {
    /// # Shapes
    ///
    /// - `h`: `[batch, n_queries, d]`
    /// - `memories[m].tokens`: `[batch, n_m, d_kv_m]`
    /// - output: `[batch, n_queries, d]`
    ///
    /// # Panics
    ///
    /// Panics if `shared` is false and there is not one memory per cross-attention.
    pub fn forward(&self, h: Tensor<3>, memories: &[Memory], shared: bool) -> Tensor<3> {
        let h = h.clone()
            + self
                .self_attn
                .forward(SelfAttentionInput::new(self.ln_1.forward(h)))
                .output;
        let hn = self.ln_cross.forward(h.clone());
        let cross = if shared {
            self.shared_cross(hn, memories)
        } else {
            assert_eq!(
                self.cross_attn.len(),
                memories.len(),
                "QueryFusionLayer: {} cross-attentions for {} modalities",
                self.cross_attn.len(),
                memories.len()
            );
            memories
                .iter()
                .zip(&self.cross_attn)
                .map(|(mem, ca)| {
                    ca.forward(hn.clone(), mem.tokens.clone(), Some(&mem.padding), false)
                        .output
                        * mem.weight.clone()
                })
                .reduce(|a, b| a + b)
                .expect("at least one modality")
        };
        let h = h + cross;
        h.clone() + self.mlp.forward(self.ln_2.forward(h))
    }

    fn shared_cross(&self, hn: Tensor<3>, memories: &[Memory]) -> Tensor<3> {
        let ca = &self.cross_attn[0];
        let q = ca.project_query(hn);
        let mut context = None;
        let mut weight_sum = None;
        for mem in memories {
            let (c, _) =
                ca.context_from_query(q.clone(), mem.tokens.clone(), Some(&mem.padding), false);
            let c = c * mem.weight.clone();
            context = Some(match context {
                Some(acc) => acc + c,
                None => c,
            });
            weight_sum = Some(match weight_sum {
                Some(s) => s + mem.weight.clone(),
                None => mem.weight.clone(),
            });
        }
        let context = context.expect("at least one modality");
        let weight_sum = weight_sum.expect("at least one modality");
        // out_proj(sum_m w_m c_m) with the bias counted sum_m w_m times
        let out = burn::tensor::module::linear(context, ca.out_proj.weight.val(), None);
        match &ca.out_proj.bias {
            Some(bias) => {
                let d = bias.dims()[0];
                out + bias.val().reshape([1, 1, d]) * weight_sum
            }
            None => out,
        }
    }
}
