//! # The corruption suite
//!
//! Image, text and pair corruptions at severities 1–5, for robustness evaluation and
//! corruption-aware training. They are the ones the field measures with:
//!
//! - **image**: the fifteen ImageNet-C corruptions of Hendrycks and Dietterich (2019) with the
//!   constants of their reference code, using their own Tiny-ImageNet-C (64x64) and CIFAR-10-C
//!   (32x32) tables at those sizes and size-scaled ImageNet-C constants otherwise
//!   ([`profile`]); plus occlusion and missing;
//! - **text**: Qiu et al.'s multimodal robustness perturbations at rate `0.05 * severity` —
//!   nlpaug's keyboard, OCR and random character operations, EDA's word operations — QMF's
//!   masking of words to `_`, and missing;
//! - **pair**: misalignment with another instance's text at rate `0.2 * severity`.
//!
//! Every corruption is deterministic given (seed, instance id, corruption, severity, salt):
//! each draws from its own ChaCha stream ([`rng`]). Use a [`CorruptionSpec`]
//! (`"image:gaussian_noise:3,text:keyboard:2"`) with a [`CorruptedDataset`] for evaluation, and
//! a [`CorruptionAugmenter`] for training. `docs/corruptions.md` lists every constant with the
//! reference line it mirrors.

pub mod augment;
pub mod buffer;
pub mod dataset;
pub mod error;
pub mod filters;
pub mod gallery;
pub mod hsv;
pub mod image;
pub mod image_blur;
pub mod image_digital;
pub mod image_elastic;
pub mod image_noise;
pub mod image_weather;
pub mod keyboard;
pub mod occlusion;
pub mod pair;
pub mod profile;
pub mod rng;
pub mod spec;
pub mod synonyms;
pub mod text;
pub mod text_char;
pub mod text_tokenize;
pub mod text_word;

pub use augment::{AugmentChoice, CorruptionAugmenter, CorruptionAugmenterConfig};
pub use dataset::CorruptedDataset;
pub use error::CorruptError;
pub use image::ImageCorruption;
pub use pair::{Donor, DonorPool, DonorSource, PairCorruption};
pub use profile::{ConstantSet, SizeProfile};
pub use spec::{Corruption, CorruptionSpec, SpecEntry};
pub use synonyms::SynonymTable;
pub use text::{TextCorruption, TextTarget, text_rate};
