//! # mafs-core
//!
//! The shared vocabulary of the mafs framework (Modality-Aware Adaptive Fusion Scheduling):
//! the tensors that flow between the stages of a multimodal model and the five traits each
//! stage implements.
//!
//! ```text
//! ModalityBatch --ModalityEncoder--> Encoded --UncertaintySignal--> SignalSet
//!                                       |                              |
//!                                       |            Scheduler <-------+
//!                                       |                |
//!                                       +--> FusionHead <-- FusionWeights --> Fused --TaskHead--> loss / prediction
//! ```
//!
//! Every stage works for any number of modalities `M`: modalities are slices, never named
//! fields, so a new modality needs one new [`ModalityEncoder`] and nothing else.
//!
//! This crate depends on burn only; it must not depend on any other mafs crate.

pub mod atomic;
pub mod batch;
pub mod corruption;
pub mod encoded;
pub mod error;
pub mod fused;
pub mod json;
pub mod limits;
pub mod mask;
pub mod pystr;
pub mod seed;
pub mod signals;
pub mod table;
pub mod traits;
pub mod vqa_answer;
pub mod weights;

pub use batch::{ModalityBatch, ModalityInput};
pub use corruption::{CorruptionFlags, ModalityCorruption};
pub use encoded::{Encoded, token_mean_std};
pub use error::CoreError;
pub use fused::Fused;
pub use signals::SignalSet;
pub use traits::{
    FusionHead, ModalityEncoder, Scheduler, SignalContext, TaskHead, UncertaintySignal,
};
pub use weights::FusionWeights;

/// Re-export of the burn version this crate is built against, so downstream crates can name
/// the same types without a version mismatch.
pub use burn;
