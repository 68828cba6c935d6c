//! # mafs-scheduler
//!
//! The MA-AFS fusion scheduler (DESIGN §1): per instance, it turns each modality's
//! uncertainty and agreement signals into a fusion weight, `w = softmax(l / tau)` with exact
//! zeros for missing modalities. Two schedulers ([`MlpScheduler`], one MLP shared by all
//! modalities; [`MonotoneScheduler`], monotone in uncertainty by construction), temperature
//! schedules, the baseline weightings run in the same framework ([`FixedWeights`],
//! [`QmfWeighting`], [`PdfWeighting`], [`DynMmGate`]), one name/config for all of them
//! ([`WeightingKind`], [`FusionWeightingConfig`]), the reliability target and `KL(t || w)`
//! loss that teach the scheduler which modality to trust ([`reliability`]), standardised
//! scheduler inputs ([`SignalStandardizer`]), the `KL(w || uniform)` regulariser and
//! per-instance explanations. Every weighting returns [`mafs_core::FusionWeights`], so the
//! same fusion heads take any of them. `tests/theory.rs` checks T1-T7 (docs/theory.md).
//!
//! This crate depends on mafs-core and mafs-signals (and burn) only; it must not depend on
//! encoders, fusion heads or task heads (those appear only as dev-dependencies of the theory
//! tests).

#![warn(missing_docs)]

mod common;
pub mod dynmm;
pub mod error;
pub mod explain;
pub mod fixed;
pub mod mlp;
pub mod monotone;
pub mod pdf;
pub mod qmf;
pub mod regularizer;
pub mod reliability;
pub mod temperature;
#[cfg(test)]
mod test_util;
pub mod weighting;

pub use dynmm::{DynMmGate, DynMmGateConfig, straight_through};
pub use error::SchedulerError;
pub use explain::{Explanation, ModalityExplanation, SignalValue, explain};
pub use fixed::FixedWeights;
pub use mafs_signals::standardize::{SignalStandardizer, SignalStandardizerConfig};
pub use mlp::{MlpScheduler, MlpSchedulerConfig};
pub use monotone::{AgreementMlp, MonotoneScheduler, MonotoneSchedulerConfig};
pub use pdf::{
    ConfidNet, PdfWeighting, PdfWeightingConfig, relative_calibration, true_class_probability,
};
pub use qmf::{QmfMode, QmfWeighting, QmfWeightingConfig, qmf_rank_loss};
pub use regularizer::kl_to_uniform;
pub use reliability::{
    gain_over_condition, in_batch_tcp, kl_to_target, kl_to_target_logits,
    leave_one_out_reliability, reliability_target, soft_target_tcp, weight_rank_loss,
};
pub use temperature::TemperatureSchedule;
pub use weighting::{FusionWeighting, FusionWeightingConfig, WeightingKind};
