//! Patch embedding: open_clip's `conv1` (a `Conv2d` with kernel = stride = patch size and no
//! bias), computed as one matrix multiply on unfolded patches.
//!
//! The weight keeps the convolution's layout `[width, channels, patch, patch]` so that
//! `conv1.weight` loads from open_clip unchanged; a stride-`p` convolution with a `p x p`
//! kernel is exactly `unfold(x) @ weight.reshape([width, c*p*p])^T`, which is cheaper than a
//! general convolution kernel on CPU.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::module::linear;
use burn::tensor::{Device, Tensor};

/// Configuration of a [`PatchEmbedding`].
#[derive(Config, Debug)]
pub struct PatchEmbeddingConfig {
    /// Input channels (3 for RGB).
    pub in_channels: usize,
    /// Patch side `p`.
    pub patch_size: usize,
    /// Output width.
    pub width: usize,
}

/// Non-overlapping `p x p` patches projected to `width` (no bias, as open_clip).
#[derive(Module, Debug)]
pub struct PatchEmbedding {
    /// `[width, in_channels, patch, patch]`, the convolution kernel (open_clip `conv1.weight`).
    pub weight: Param<Tensor<4>>,
}

impl PatchEmbeddingConfig {
    /// Builds the layer; the kernel is initialised as PyTorch initialises a `Conv2d`
    /// (`U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, `fan_in = c * p * p`).
    pub fn init(&self, device: &Device) -> PatchEmbedding {
        let fan_in = self.in_channels * self.patch_size * self.patch_size;
        let weight = Initializer::KaimingUniform {
            gain: 1.0 / 3.0f64.sqrt(),
            fan_out_only: false,
        }
        .init_with(
            [
                self.width,
                self.in_channels,
                self.patch_size,
                self.patch_size,
            ],
            Some(fan_in),
            Some(self.width),
            device,
        );
        PatchEmbedding { weight }
    }
}

impl PatchEmbedding {
    /// Patch side.
    pub fn patch_size(&self) -> usize {
        self.weight.dims()[2]
    }

    /// # Shapes
    ///
    /// - `images`: `[batch, channels, height, width]`, height and width multiples of `p`
    /// - output: `[batch, (height / p) * (width / p), width]`, patches in row-major order (as
    ///   open_clip's `conv1(x).reshape(b, width, -1).permute(0, 2, 1)`)
    ///
    /// # Panics
    ///
    /// Panics if the channels differ from the kernel's or a side is not a multiple of `p`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<3> {
        let [width, c, p, _] = self.weight.dims();
        let [b, ci, h, w] = images.dims();
        assert!(
            ci == c && h % p == 0 && w % p == 0,
            "PatchEmbedding: images must be [batch, {c}, H, W] with H, W multiples of {p}, got {:?}",
            images.dims()
        );
        let (gh, gw) = (h / p, w / p);
        // [b, c, gh, p, gw, p] -> [b, gh, gw, c, p, p]: each patch flattened as (c, y, x),
        // the order of the flattened kernel.
        let patches = images
            .reshape([b, c, gh, p, gw, p])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([b, gh * gw, c * p * p]);
        let kernel = self.weight.val().reshape([width, c * p * p]).transpose();
        linear(patches, kernel, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn equals_a_strided_convolution() {
        let (_rng, device) = crate::test_util::seeded(0);
        let pe = PatchEmbeddingConfig::new(3, 4, 8).init(&device);
        let mut conv = Conv2dConfig::new([3, 8], [4, 4])
            .with_stride([4, 4])
            .with_bias(false)
            .init(&device);
        conv.weight = Param::from_tensor(pe.weight.val());
        let x = Tensor::<4>::random([2, 3, 8, 12], Distribution::Normal(0.0, 1.0), &device);
        let ours = pe.forward(x.clone());
        assert_eq!(ours.dims(), [2, 6, 8]);
        let reference = conv.forward(x).reshape([2, 8, 6]).swap_dims(1, 2);
        ours.to_data()
            .assert_approx_eq::<f32>(&reference.to_data(), Tolerance::absolute(1e-5));
    }
}
