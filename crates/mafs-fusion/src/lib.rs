//! # mafs-fusion
//!
//! The fusion heads of MA-AFS (DESIGN §1), each a [`mafs_core::FusionHead`] for any number of
//! modalities `M`, taking per-instance weights `[batch, M]` from a scheduler (or constant
//! weights for the fixed-fusion baselines):
//!
//! - [`LateFusionHead`]: `z_f = sum_m w_m P_m(z_m)` over pooled embeddings (CLIP-style late
//!   fusion when the weights are uniform);
//! - [`QueryFusionHead`]: learned queries that self-attend, then cross-attend to every
//!   modality with `h += sum_m w_m CrossAttn_m(LN(h), H_m)`, then an MLP (ALBEF/BLIP-style
//!   fusion, modality-symmetric); its fused query tokens are the memory of a captioning
//!   decoder.
//!
//! In both, a missing modality contributes exactly nothing: its inputs are replaced by zeros
//! and its weight is masked to zero ([`presence`]), so garbage or NaN in a missing slot can
//! neither reach the output nor the gradients.
//!
//! This crate depends on burn, mafs-core and mafs-encoders (for the attention layers); it
//! must not depend on signals, schedulers, task heads, data or training.

#![warn(missing_docs)]

pub mod late;
pub mod presence;
pub mod query;
pub mod query_layer;
#[cfg(test)]
mod testing;

pub use late::{LateFusionConfig, LateFusionHead};
pub use query::{QueryFusionConfig, QueryFusionHead, QueryPool};
pub use query_layer::{QueryFusionLayer, QueryFusionLayerConfig};
