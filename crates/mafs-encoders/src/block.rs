//! Pre-norm residual attention block and the block stack, laid out as open_clip's
//! `ResidualAttentionBlock` and `Transformer` so that module paths map one-to-one to keys.
//!
//! | ours                                   | open_clip                                      |
//! |----------------------------------------|------------------------------------------------|
//! | `resblocks.N.ln_1.{gamma,beta}`        | `resblocks.N.ln_1.{weight,bias}`               |
//! | `resblocks.N.attn.in_proj.weight` (T)  | `resblocks.N.attn.in_proj_weight`              |
//! | `resblocks.N.attn.in_proj.bias`        | `resblocks.N.attn.in_proj_bias`                |
//! | `resblocks.N.attn.out_proj.{weight (T),bias}` | `resblocks.N.attn.out_proj.{weight,bias}` |
//! | `resblocks.N.ln_2.{gamma,beta}`        | `resblocks.N.ln_2.{weight,bias}`               |
//! | `resblocks.N.mlp.c_fc.{weight (T),bias}`   | `resblocks.N.mlp.c_fc.{weight,bias}`       |
//! | `resblocks.N.mlp.c_proj.{weight (T),bias}` | `resblocks.N.mlp.c_proj.{weight,bias}`     |
//!
//! (T): transposed, burn stores linear weights `[d_in, d_out]`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Bool, Device, Tensor};

use crate::activation::Activation;
use crate::attention::{
    AttentionOutput, MultiHeadAttention, MultiHeadAttentionConfig, SelfAttentionInput,
    WeightsRequest,
};
use crate::mlp::{Mlp, MlpConfig};

/// Configuration of a [`ResidualAttentionBlock`].
#[derive(Config, Debug)]
pub struct ResidualAttentionBlockConfig {
    /// Width `d`.
    pub d_model: usize,
    /// Attention heads.
    pub n_heads: usize,
    /// MLP hidden width as a multiple of `d` (open_clip `mlp_ratio`).
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// MLP non-linearity.
    #[config(default = "Activation::Gelu")]
    pub activation: Activation,
    /// Dropout on attention weights and in the MLP (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Layer-norm epsilon (PyTorch's default).
    #[config(default = 1e-5)]
    pub layer_norm_eps: f64,
}

/// `x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))`.
#[derive(Module, Debug)]
pub struct ResidualAttentionBlock {
    /// Norm before attention.
    pub ln_1: LayerNorm,
    /// Self-attention.
    pub attn: MultiHeadAttention,
    /// Norm before the MLP.
    pub ln_2: LayerNorm,
    /// Feed-forward.
    pub mlp: Mlp,
}

impl ResidualAttentionBlockConfig {
    /// Builds the block.
    pub fn init(&self, device: &Device) -> ResidualAttentionBlock {
        let ln = LayerNormConfig::new(self.d_model).with_epsilon(self.layer_norm_eps);
        ResidualAttentionBlock {
            ln_1: ln.init(device),
            attn: MultiHeadAttentionConfig::new(self.d_model, self.n_heads)
                .with_dropout(self.dropout)
                .init(device),
            ln_2: ln.init(device),
            mlp: MlpConfig::new(self.d_model, mlp_width(self.d_model, self.mlp_ratio))
                .with_activation(self.activation)
                .with_dropout(self.dropout)
                .init(device),
        }
    }
}

/// open_clip's `mlp_width = int(width * mlp_ratio)`.
pub fn mlp_width(d_model: usize, mlp_ratio: f64) -> usize {
    (d_model as f64 * mlp_ratio) as usize
}

impl ResidualAttentionBlock {
    /// # Shapes
    ///
    /// - `x`: `[batch, seq, d]`, `padding`: `[batch, seq]` (`true` = padding)
    /// - output: `[batch, seq, d]` and the requested head-averaged attention weights
    ///
    /// # Panics
    ///
    /// Panics if a shape disagrees.
    pub fn forward(
        &self,
        x: Tensor<3>,
        padding: Option<&Tensor<2, Bool>>,
        causal: bool,
        weights: WeightsRequest,
    ) -> (Tensor<3>, Option<Tensor<3>>) {
        let AttentionOutput {
            output,
            weights: attn_weights,
        } = self.attn.forward(
            SelfAttentionInput::new(self.ln_1.forward(x.clone()))
                .padding(padding.cloned())
                .causal(causal)
                .weights(weights),
        );
        let x = x + output;
        let x = x.clone() + self.mlp.forward(self.ln_2.forward(x));
        (x, attn_weights)
    }
}

/// Configuration of a [`Transformer`] (a stack of residual attention blocks).
#[derive(Config, Debug)]
pub struct TransformerConfig {
    /// Width `d`.
    pub width: usize,
    /// Number of blocks.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP hidden width as a multiple of `d`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// MLP non-linearity.
    #[config(default = "Activation::Gelu")]
    pub activation: Activation,
    /// Dropout (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// open_clip's `Transformer`: `resblocks` applied in order.
#[derive(Module, Debug)]
pub struct Transformer {
    /// The blocks.
    pub resblocks: Vec<ResidualAttentionBlock>,
}

impl TransformerConfig {
    /// Builds the stack.
    pub fn init(&self, device: &Device) -> Transformer {
        let block = ResidualAttentionBlockConfig::new(self.width, self.heads)
            .with_mlp_ratio(self.mlp_ratio)
            .with_activation(self.activation)
            .with_dropout(self.dropout);
        Transformer {
            resblocks: (0..self.layers).map(|_| block.init(device)).collect(),
        }
    }
}

impl Transformer {
    /// Runs every block; the attention weights requested are those of the **last** block
    /// (earlier blocks take the fast path).
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, seq, d]`, `padding`: `[batch, seq]`
    /// - output: `[batch, seq, d]`
    pub fn forward(
        &self,
        mut x: Tensor<3>,
        padding: Option<&Tensor<2, Bool>>,
        causal: bool,
        last_weights: WeightsRequest,
    ) -> (Tensor<3>, Option<Tensor<3>>) {
        let n = self.resblocks.len();
        let mut last_weights = Some(last_weights);
        let mut weights = None;
        for (i, block) in self.resblocks.iter().enumerate() {
            let request = if i + 1 == n {
                last_weights.take().unwrap_or_default()
            } else {
                WeightsRequest::None
            };
            let (y, w) = block.forward(x, padding, causal, request);
            x = y;
            weights = w;
        }
        (x, weights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn stack_shapes_and_last_layer_weights() {
        let (_rng, device) = crate::test_util::seeded(0);
        let t = TransformerConfig::new(16, 2, 4).init(&device);
        let x = Tensor::<3>::random([2, 5, 16], Distribution::Normal(0.0, 1.0), &device);
        let (y, w) = t.forward(x, None, false, WeightsRequest::Full);
        assert_eq!(y.dims(), [2, 5, 16]);
        assert_eq!(w.unwrap().dims(), [2, 5, 5]);
        assert_eq!(t.resblocks.len(), 2);
        // 2 * (ln 2*16*2 + attn 16*48+48+16*16+16 + mlp 16*64+64+64*16+16)
        assert_eq!(t.num_params(), 2 * (64 + 1088 + 2128));
        assert_eq!(mlp_width(768, 4.0), 3072);
    }
}
