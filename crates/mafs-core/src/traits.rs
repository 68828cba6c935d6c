//! The five traits of the framework. None of them requires `burn::module::Module` (which is
//! not object safe); implementors are usually modules all the same.

use burn::tensor::Tensor;

use crate::{Encoded, Fused, FusionWeights, ModalityBatch, SignalSet};

/// Turns one modality's raw input into token states, a pooled embedding and a presence mask.
pub trait ModalityEncoder {
    /// Name of the modality this encoder reads (`"image"`, `"text"`, ...).
    fn modality(&self) -> &str;
    /// Width of the token states and of the pooled embedding.
    fn d_model(&self) -> usize;
    /// Encodes a batch. The presence mask is passed through unchanged.
    fn encode(&self, batch: &ModalityBatch) -> Encoded;
}

/// What an uncertainty signal may read.
#[derive(Debug, Clone, Copy)]
pub struct SignalContext<'a> {
    /// The encodings of every modality, in scheduler order.
    pub encoded: &'a [Encoded],
    /// Optional unimodal task logits `[batch, classes]`, one per modality, in the same order
    /// (predictive entropy and energy read these).
    pub unimodal_logits: Option<&'a [Tensor<2>]>,
}

impl<'a> SignalContext<'a> {
    /// A context with encodings only.
    pub fn new(encoded: &'a [Encoded]) -> Self {
        Self {
            encoded,
            unimodal_logits: None,
        }
    }

    /// Adds unimodal logits.
    pub fn with_logits(mut self, logits: &'a [Tensor<2>]) -> Self {
        self.unimodal_logits = Some(logits);
        self
    }
}

/// One per-modality signal, e.g. visual/textual entropy or cross-modal agreement.
pub trait UncertaintySignal {
    /// Stable name, used in [`SignalSet::names`] and reports.
    fn name(&self) -> &str;
    /// Computes `[batch, M]`, one value per instance and modality, normalised as its
    /// definition says (entropies in `[0, 1]`). Values for missing modalities must be finite.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2>;
}

/// Maps signals to per-instance fusion weights.
pub trait Scheduler {
    /// Fusion weights for a batch at temperature `tau`.
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, tau: f64) -> FusionWeights;
}

/// Fuses the modalities with given weights.
pub trait FusionHead {
    /// Width of the fused representation.
    fn d_fused(&self) -> usize;
    /// Fuses `encoded` with `weights` (`[batch, M]`, rows on the simplex).
    fn fuse(&self, encoded: &[Encoded], weights: &FusionWeights) -> Fused;
}

/// A task on top of the fused representation: retrieval, captioning, VQA, or a user's own.
pub trait TaskHead {
    /// Supervision for one batch (answer ids, caption tokens, caption embeddings...).
    type Target;
    /// What the head predicts for one batch.
    type Output;
    /// Task name, for reports.
    fn task(&self) -> &str;
    /// Mean loss over the batch, a scalar `[1]`.
    fn loss(&self, fused: &Fused, target: &Self::Target) -> Tensor<1>;
    /// Predictions for a batch.
    fn predict(&self, fused: &Fused) -> Self::Output;
}
