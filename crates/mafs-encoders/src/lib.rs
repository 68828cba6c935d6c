//! # mafs-encoders
//!
//! The modality encoders of mafs: a CLIP vision transformer ([`ImageVit`]) and a text
//! transformer ([`TextTransformer`]), both implementing [`mafs_core::ModalityEncoder`], built
//! from layers whose module paths follow open_clip's parameter names so that open_clip
//! checkpoints map onto them one-to-one (see the key tables in [`vit`], [`text`] and
//! [`block`], and the crate README). Architectures are named JSON presets ([`EncoderPreset`]:
//! `tiny`, `small`, `clip-b32`). A third, generic encoder ([`DenseEncoder`]) reads
//! pre-computed feature sequences, the quickest way to plug in a new modality.
//!
//! The attention layers ([`MultiHeadAttention`] with one fused `[d, 3d]` in-projection,
//! [`CrossAttention`]) take burn's fused attention op whenever no attention weights are asked
//! for, and are reused by the fusion heads. On the flex CPU device the MLP activations run as
//! one multi-threaded pass with a hand-written backward ([`pointwise`]).
//!
//! Pretrained open_clip towers load through [`import`] (checkpoint keys mapped, converted and
//! shape-checked, all or nothing).
//!
//! This crate depends on burn and mafs-core only (plus `safetensors`/`half` to read
//! checkpoints, and rayon, burn's own thread pool, for the activation kernels): it does no I/O beyond reading a preset file or a checkpoint, and knows
//! nothing of data sets, signals, schedulers, fusion or training.

#![warn(missing_docs)]

pub mod activation;
pub mod attention;
pub mod block;
pub mod cross_attention;
pub mod dense;
pub mod error;
pub mod import;
mod kernels;
pub mod mlp;
pub mod open_clip_config;
pub mod patch;
pub mod pointwise;
pub mod preset;
mod sdpa;
pub mod text;
pub mod vit;

pub use activation::Activation;
pub use attention::{
    AttentionOutput, MultiHeadAttention, MultiHeadAttentionConfig, SelfAttentionInput,
    WeightsRequest,
};
pub use block::{
    ResidualAttentionBlock, ResidualAttentionBlockConfig, Transformer, TransformerConfig,
};
pub use cross_attention::{CrossAttention, CrossAttentionConfig};
pub use dense::{DenseEncoder, DenseEncoderConfig, DensePool};
pub use error::EncoderError;
pub use mlp::{Mlp, MlpConfig};
pub use patch::{PatchEmbedding, PatchEmbeddingConfig};
pub use preset::{DEFAULT_PRESET, EncoderPreset};
pub use text::{TextOutput, TextPool, TextTransformer, TextTransformerConfig};
pub use vit::{ImageVit, ImageVitConfig, VitOutput};

#[cfg(test)]
mod test_util;
