//! # mafs-signals
//!
//! Per-instance, per-modality uncertainty and agreement signals for modality-aware fusion
//! (DESIGN §1): prototype entropy (the default, label-free "visual/textual entropy"),
//! attention entropy, predictive entropy and energy of unimodal heads, learned confidence
//! (PDF's confidence network, optionally taught the known corruption flag), and cross-modal
//! agreement (cosine and Jensen-Shannon). Each signal implements
//! [`mafs_core::UncertaintySignal`] and returns `[batch, M]` for any number of modalities;
//! a [`SignalStack`] computes several into a [`mafs_core::SignalSet`], the scheduler's input.
//!
//! This crate depends on mafs-core and burn only; it must not depend on the scheduler, the
//! encoders, the fusion heads or any task: signals read encodings and logits, nothing else.

#![warn(missing_docs)]

pub mod attention;
pub mod confidence;
pub mod cosine;
pub mod energy;
pub mod error;
pub mod js;
mod logits;
pub mod predictive;
pub mod prototype;
pub mod stack;
pub mod standardize;
#[cfg(test)]
mod test_util;
pub mod util;

pub use attention::{ATTENTION_ENTROPY, AttentionEntropy};
pub use confidence::{
    CONFIDENCE, CONFIDENCE_CLEAN, ConfidenceLogits, ConfidenceOutput, ConfidenceSignal,
    LearnedConfidence, LearnedConfidenceConfig,
};
pub use cosine::{AGREEMENT_COSINE, CosineAgreement};
pub use energy::{ENERGY, Energy, EnergyConfig};
pub use error::SignalError;
pub use js::{AGREEMENT_JS, JsAgreement, js_agreement_pairwise};
pub use predictive::{PREDICTIVE_ENTROPY, PredictiveEntropy};
pub use prototype::{
    PROTOTYPE_ENTROPY, PrototypeEntropy, PrototypeEntropyConfig, distributions, proto_loss_counted,
    proto_loss_encoded,
};
pub use stack::{SignalKind, SignalModules, SignalStack};
pub use standardize::{SignalStandardizer, SignalStandardizerConfig};
