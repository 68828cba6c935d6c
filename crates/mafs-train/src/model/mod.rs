//! One mafs model: encoders, prototypes, fusion weighting, fusion head and task heads,
//! assembled from a [`crate::config::RunConfig`] and the data's vocabulary sizes.
//!
//! Modalities per task (scheduler order):
//! - retrieval and captioning: `[image, side_text]`; the caption is the query (retrieval) or
//!   the target (captioning);
//! - VQA: `[image, question]`, plus `side_text` as a third, context modality when
//!   `vqa_side_text` is on.
//!
//! One text transformer encodes every text (side text, caption, question), as BLIP shares its
//! text encoder; each encoding carries its own modality name.

mod batch;
mod build;
mod forward;
mod heads;
mod unimodal;

pub use batch::ModelBatch;
pub use build::{
    ModelSpec, VocabSizes, build_model, is_ma_afs, modalities_for, signals_for, signals_for_run,
};
pub use forward::{ItemForward, LossParts, StepOutput, cat_bool, select, select_bool};
pub use heads::{CaptioningHeads, FusionModule, RetrievalHeads, TaskModule, VqaHeads};

use burn::module::Module;
use mafs_encoders::{ImageVit, TextTransformer};
use mafs_fusion::QueryFusionHead;
use mafs_scheduler::FusionWeighting;
use mafs_signals::{LearnedConfidence, PrototypeEntropy};

/// The whole model.
#[derive(Module, Debug)]
pub struct MafsModel {
    /// Image tower.
    pub image: ImageVit,
    /// Text tower, shared by every text modality.
    pub text: TextTransformer,
    /// Learned prototypes (prototype entropy and JS agreement read them).
    pub prototypes: PrototypeEntropy,
    /// The learned-confidence networks (MA-AFS fusions with the confidence signal on).
    pub confidence: Option<LearnedConfidence>,
    /// The fusion weighting (MA-AFS scheduler or a baseline's).
    pub weighting: FusionWeighting,
    /// The fusion head.
    pub fusion: FusionModule,
    /// Retrieval with query fusion only: the pair fusion ITM reads, over
    /// `[image, side_text, caption]`.
    pub itm_fusion: Option<QueryFusionHead>,
    /// The task heads.
    pub head: TaskModule,
    /// What the model is (task, fusion, modalities, signals, vocabulary sizes).
    #[module(skip)]
    pub spec: ModelSpec,
}

impl MafsModel {
    /// The same model whose forward passes leave every running statistic as it is (the
    /// statistics stay shared with `self`; only their updates are off).
    pub fn with_frozen_statistics(mut self) -> Self {
        self.weighting = self.weighting.with_frozen_statistics();
        self.confidence = self
            .confidence
            .map(LearnedConfidence::with_frozen_statistics);
        self
    }

    /// Parameters of the fusion weighting (the scheduler), for the capacity report.
    pub fn scheduler_params(&self) -> usize {
        self.weighting.num_params()
    }
}
