//! The feed-forward part of a transformer block, named as open_clip names it (`c_fc`, `c_proj`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, assert_shape};

use crate::activation::Activation;

/// Configuration of an [`Mlp`].
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Input and output width.
    pub d_model: usize,
    /// Hidden width (open_clip: `int(width * mlp_ratio)`).
    pub d_hidden: usize,
    /// The non-linearity between the two linears.
    #[config(default = "Activation::Gelu")]
    pub activation: Activation,
    /// Dropout after the activation.
    #[config(default = 0.0)]
    pub dropout: f64,
}

/// `c_proj(act(c_fc(x)))`, open_clip's `ResidualAttentionBlock.mlp`.
///
/// Key mapping: `c_fc.weight` is open_clip's `mlp.c_fc.weight` transposed (burn stores linear
/// weights `[d_in, d_out]`, PyTorch `[d_out, d_in]`); biases map unchanged.
#[derive(Module, Debug)]
pub struct Mlp {
    /// First linear, `d_model -> d_hidden`.
    pub c_fc: Linear,
    /// Second linear, `d_hidden -> d_model`.
    pub c_proj: Linear,
    /// Dropout after the activation.
    pub dropout: Dropout,
    /// The non-linearity (not a parameter).
    #[module(skip)]
    pub activation: Activation,
}

impl MlpConfig {
    /// Builds the MLP.
    pub fn init(&self, device: &Device) -> Mlp {
        Mlp {
            c_fc: LinearConfig::new(self.d_model, self.d_hidden).init(device),
            c_proj: LinearConfig::new(self.d_hidden, self.d_model).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            activation: self.activation,
        }
    }
}

impl Mlp {
    /// # Shapes
    ///
    /// - `x`: `[batch, seq, d_model]`
    /// - output: `[batch, seq, d_model]`
    ///
    /// # Panics
    ///
    /// Panics if the last axis of `x` is not `d_model`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let d_model = self.c_fc.weight.dims()[0];
        assert_shape!(x, [_, _, d_model]);
        let h = self.activation.forward(self.c_fc.forward(x));
        self.c_proj.forward(self.dropout.forward(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_params() {
        let (_rng, device) = crate::test_util::seeded(0);
        let mlp = MlpConfig::new(8, 32).init(&device);
        let y = mlp.forward(Tensor::zeros([2, 3, 8], &device));
        assert_eq!(y.dims(), [2, 3, 8]);
        assert_eq!(mlp.num_params(), 8 * 32 + 32 + 32 * 8 + 8);
    }
}
