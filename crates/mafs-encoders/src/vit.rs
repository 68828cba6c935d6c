//! The image tower: a CLIP vision transformer with open_clip's parameter layout.
//!
//! # Key mapping to open_clip (`visual.` prefix there)
//!
//! | ours (burn module path)          | open_clip key                    | transform |
//! |----------------------------------|----------------------------------|-----------|
//! | `conv1.weight`                   | `visual.conv1.weight`            | none (`[width, 3, p, p]`) |
//! | `class_embedding`                | `visual.class_embedding`         | none (`[width]`) |
//! | `positional_embedding`           | `visual.positional_embedding`    | none (`[1 + n_patches, width]`) |
//! | `ln_pre.{gamma,beta}`            | `visual.ln_pre.{weight,bias}`    | rename |
//! | `transformer.resblocks.N.…`      | `visual.transformer.resblocks.N.…` | see [`crate::block`] |
//! | `ln_post.{gamma,beta}`           | `visual.ln_post.{weight,bias}`   | rename |
//! | `proj`                           | `visual.proj`                    | none (`[width, output_dim]`, a plain matrix in both) |

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::module::linear;
use burn::tensor::{Bool, Device, Int, Tensor};
use mafs_core::{Encoded, ModalityBatch, ModalityEncoder, ModalityInput};

use crate::activation::Activation;
use crate::attention::WeightsRequest;
use crate::block::{Transformer, TransformerConfig};
use crate::patch::{PatchEmbedding, PatchEmbeddingConfig};

/// Configuration of an [`ImageVit`] (open_clip `CLIPVisionCfg` fields, plus ours).
#[derive(Config, Debug)]
pub struct ImageVitConfig {
    /// Side of the (square) input images.
    pub image_size: usize,
    /// Patch side; must divide `image_size`.
    pub patch_size: usize,
    /// Transformer width.
    pub width: usize,
    /// Number of blocks.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP hidden width as a multiple of `width`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// Width of the projected tokens and pooled embedding (open_clip `embed_dim`).
    pub output_dim: usize,
    /// QuickGELU instead of GELU (OpenAI CLIP weights).
    #[config(default = false)]
    pub quick_gelu: bool,
    /// Dropout in the blocks (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Modality name the encoder reads and writes.
    #[config(default = "String::from(\"image\")")]
    pub modality: String,
}

impl ImageVitConfig {
    /// Number of patches, `(image_size / patch_size)^2`.
    pub fn n_patches(&self) -> usize {
        let g = self.image_size / self.patch_size;
        g * g
    }

    /// Builds the encoder. Initialisation follows open_clip (`scale = width^-0.5` normals for
    /// the class and positional embeddings and the projection).
    ///
    /// # Panics
    ///
    /// Panics if `patch_size` does not divide `image_size` or `heads` does not divide `width`.
    pub fn init(&self, device: &Device) -> ImageVit {
        assert!(
            self.patch_size > 0 && self.image_size.is_multiple_of(self.patch_size),
            "ImageVitConfig: patch_size {} must divide image_size {}",
            self.patch_size,
            self.image_size
        );
        let scale = (self.width as f64).powf(-0.5);
        let normal = Initializer::Normal {
            mean: 0.0,
            std: scale,
        };
        let ln = LayerNormConfig::new(self.width);
        ImageVit {
            conv1: PatchEmbeddingConfig::new(self.in_channels, self.patch_size, self.width)
                .init(device),
            class_embedding: normal.init([self.width], device),
            positional_embedding: normal.init([1 + self.n_patches(), self.width], device),
            ln_pre: ln.init(device),
            transformer: TransformerConfig::new(self.width, self.layers, self.heads)
                .with_mlp_ratio(self.mlp_ratio)
                .with_activation(Activation::from_quick_gelu(self.quick_gelu))
                .with_dropout(self.dropout)
                .init(device),
            ln_post: ln.init(device),
            proj: normal.init([self.width, self.output_dim], device),
            modality: self.modality.clone(),
            image_size: self.image_size,
        }
    }
}

/// CLIP vision transformer: patches + class token + positions, `ln_pre`, pre-norm blocks,
/// `ln_post`, projection.
///
/// Its [`Encoded`] has `1 + n_patches` tokens (class token first), every token projected by
/// `proj` to `output_dim` so that all towers meet the fusion at one width; `pooled` is the
/// projected class token (open_clip's image embedding, before normalisation) and
/// `pool_attention` is the class token's last-layer attention over all tokens (itself
/// included), averaged over heads.
#[derive(Module, Debug)]
pub struct ImageVit {
    /// Patch embedding (open_clip `conv1`).
    pub conv1: PatchEmbedding,
    /// Learned class token, `[width]`.
    pub class_embedding: Param<Tensor<1>>,
    /// Learned positions, `[1 + n_patches, width]`.
    pub positional_embedding: Param<Tensor<2>>,
    /// Norm before the blocks.
    pub ln_pre: LayerNorm,
    /// The blocks.
    pub transformer: Transformer,
    /// Norm after the blocks.
    pub ln_post: LayerNorm,
    /// Output projection, `[width, output_dim]`.
    pub proj: Param<Tensor<2>>,
    /// Modality name.
    #[module(skip)]
    pub modality: String,
    /// Expected image side.
    pub image_size: usize,
}

/// What [`ImageVit::forward`] returns.
#[derive(Debug, Clone)]
pub struct VitOutput {
    /// `[batch, 1 + n_patches, output_dim]`, projected token states.
    pub tokens: Tensor<3>,
    /// `[batch, output_dim]`, projected class token.
    pub pooled: Tensor<2>,
    /// `[batch, 1 + n_patches]`, the class token's last-layer attention.
    pub pool_attention: Tensor<2>,
    /// `[batch, n_patches, width]`, the patch embeddings (before the class token, positions
    /// and any block), whose statistics the encoding carries as `stem_stats`.
    pub stem: Tensor<3>,
}

impl ImageVit {
    /// Transformer width.
    pub fn width(&self) -> usize {
        self.class_embedding.dims()[0]
    }

    /// Output width (`proj` columns).
    pub fn output_dim(&self) -> usize {
        self.proj.dims()[1]
    }

    /// Encodes images.
    ///
    /// # Shapes
    ///
    /// - `images`: `[batch, in_channels, image_size, image_size]`
    /// - output: see [`VitOutput`]
    ///
    /// # Panics
    ///
    /// Panics if the images are not `[batch, in_channels, image_size, image_size]`.
    pub fn forward(&self, images: Tensor<4>) -> VitOutput {
        let [_, c, _, _] = self.conv1.weight.dims();
        let s = self.image_size;
        let [b, ci, h, w] = images.dims();
        assert!(
            ci == c && h == s && w == s,
            "ImageVit `{}`: images must be [batch, {c}, {s}, {s}], got {:?}",
            self.modality,
            images.dims()
        );
        let device = images.device();
        let width = self.width();
        let patches = self.conv1.forward(images);
        let stem = patches.clone();
        let n = patches.dims()[1] + 1;
        let cls = self
            .class_embedding
            .val()
            .reshape([1, 1, width])
            .expand([b, 1, width]);
        let x = Tensor::cat(vec![cls, patches], 1)
            + self.positional_embedding.val().reshape([1, n, width]);
        let x = self.ln_pre.forward(x);
        let rows = Tensor::<1, Int>::zeros([b], &device);
        let (x, weights) = self
            .transformer
            .forward(x, None, false, WeightsRequest::Rows(rows));
        let tokens = linear(self.ln_post.forward(x), self.proj.val(), None);
        let d = self.output_dim();
        let pooled = tokens.clone().slice([0..b, 0..1, 0..d]).reshape([b, d]);
        let pool_attention = weights
            .expect("the last block returns the requested row")
            .reshape([b, n]);
        VitOutput {
            tokens,
            pooled,
            pool_attention,
            stem,
        }
    }
}

impl ModalityEncoder for ImageVit {
    fn modality(&self) -> &str {
        &self.modality
    }

    fn d_model(&self) -> usize {
        self.output_dim()
    }

    /// # Panics
    ///
    /// Panics if the input is not [`ModalityInput::Image`] of the configured size.
    fn encode(&self, batch: &ModalityBatch) -> Encoded {
        let ModalityInput::Image(images) = &batch.input else {
            panic!(
                "ImageVit `{}`: expected ModalityInput::Image for modality `{}`",
                self.modality, batch.name
            );
        };
        let out = self.forward(images.clone());
        let [b, n, _] = out.tokens.dims();
        // no padding: made on the device, no host buffer
        let padding: Tensor<2, Bool> = Tensor::<2, Int>::zeros([b, n], &out.tokens.device()).bool();
        let [_, n_patches, _] = out.stem.dims();
        let patch_padding = padding.clone().slice([0..b, 0..n_patches]);
        let stem_stats = mafs_core::token_mean_std(out.stem, patch_padding);
        Encoded::new(
            self.modality.clone(),
            out.tokens,
            padding,
            out.pooled,
            batch.present.clone(),
        )
        .with_pool_attention(out.pool_attention)
        .with_stem_stats(stem_stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    fn config() -> ImageVitConfig {
        ImageVitConfig::new(16, 4, 32, 2, 4, 24)
    }

    #[test]
    fn encodes_with_the_documented_shapes() {
        let (_rng, device) = crate::test_util::seeded(0);
        let vit = config().init(&device);
        let images = Tensor::<4>::random([3, 3, 16, 16], Distribution::Normal(0.0, 1.0), &device);
        let present = Tensor::<1, Int>::from_ints([1, 0, 1], &device).equal_elem(1);
        let batch = ModalityBatch::new("image", ModalityInput::Image(images), present.clone());
        let enc = vit.encode(&batch);
        assert_eq!(enc.dims(), [3, 17, 24]);
        assert_eq!(enc.pooled.dims(), [3, 24]);
        assert_eq!(vit.d_model(), 24);
        assert_eq!(enc.name, "image");
        assert_eq!(enc.present.to_data(), present.to_data());
        assert!(!enc.padding.clone().any().into_scalar::<bool>());
        // pooled is the projected class token
        enc.pooled.to_data().assert_approx_eq::<f32>(
            &enc.tokens
                .clone()
                .slice([0..3, 0..1, 0..24])
                .reshape([3, 24])
                .to_data(),
            Tolerance::absolute(1e-6),
        );
        // pool attention is a distribution over the tokens
        let sums = enc.pool_attention.unwrap().sum_dim(1).reshape([3]);
        sums.to_data().assert_approx_eq::<f32>(
            &Tensor::<1>::ones([3], &device).to_data(),
            Tolerance::absolute(1e-5),
        );
    }

    #[test]
    fn same_seed_same_numbers() {
        let run = || {
            let (_rng, device) = crate::test_util::seeded(7);
            let vit = config().init(&device);
            let images = Tensor::<4>::ones([1, 3, 16, 16], &device);
            vit.forward(images).pooled.into_data()
        };
        run().assert_eq(&run(), true);
    }

    #[test]
    #[should_panic(expected = "images must be [batch, 3, 16, 16]")]
    fn wrong_image_size_panics_with_a_message() {
        let (_rng, device) = crate::test_util::seeded(0);
        let vit = config().init(&device);
        vit.forward(Tensor::zeros([1, 3, 8, 8], &device));
    }
}
