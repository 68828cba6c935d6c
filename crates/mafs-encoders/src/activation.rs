//! The MLP non-linearity of a transformer block: exact GELU or CLIP's QuickGELU.

use burn::config::Config;
use burn::tensor::Tensor;

/// Which non-linearity a block's MLP uses.
///
/// OpenAI's CLIP checkpoints were trained with QuickGELU (`x * sigmoid(1.702 x)`); open_clip
/// selects it with `"quick_gelu": true` in the model config, and uses the exact (erf) GELU
/// otherwise.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Exact GELU, `x * Phi(x)` (PyTorch `nn.GELU()`).
    Gelu,
    /// QuickGELU, `x * sigmoid(1.702 x)` (open_clip `QuickGELU`).
    QuickGelu,
}

impl Activation {
    /// The activation for open_clip's `quick_gelu` flag.
    pub fn from_quick_gelu(quick_gelu: bool) -> Self {
        if quick_gelu {
            Activation::QuickGelu
        } else {
            Activation::Gelu
        }
    }

    /// Applies the activation element-wise: on the flex device as one multi-threaded pass
    /// with a hand-written backward ([`crate::pointwise`]), elsewhere with burn's ops.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        match self {
            Activation::Gelu => crate::pointwise::gelu(x),
            Activation::QuickGelu => quick_gelu(x),
        }
    }
}

/// QuickGELU, `x * sigmoid(1.702 x)`, as open_clip's `QuickGELU` module computes it.
pub fn quick_gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    crate::pointwise::quick_gelu(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tolerance;

    #[test]
    fn quick_gelu_matches_its_formula() {
        let (_rng, device) = crate::test_util::seeded(0);
        let x = Tensor::<1>::from_floats([-2.0, -0.5, 0.0, 0.5, 3.0], &device);
        let expected: Vec<f32> = [-2.0f32, -0.5, 0.0, 0.5, 3.0]
            .iter()
            .map(|v| v / (1.0 + (-1.702 * v).exp()))
            .collect();
        Activation::QuickGelu
            .forward(x)
            .into_data()
            .assert_approx_eq::<f32>(
                &burn::tensor::TensorData::new(expected, [5]),
                Tolerance::absolute(1e-6),
            );
    }

    #[test]
    fn gelu_is_exact_erf_gelu() {
        let (_rng, device) = crate::test_util::seeded(0);
        let x = Tensor::<1>::from_floats([1.0], &device);
        // Phi(1) = 0.841344746...
        let y: f32 = Activation::Gelu.forward(x).into_scalar();
        assert!((y - 0.841_344_7).abs() < 1e-5, "gelu(1) = {y}");
        assert_eq!(Activation::from_quick_gelu(true), Activation::QuickGelu);
    }
}
