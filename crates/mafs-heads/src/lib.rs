//! # mafs-heads
//!
//! The task heads of mafs and the losses that train them (DESIGN §1, §3): retrieval
//! ([`ItcHead`] contrastive candidates with a learned temperature, [`ItmHead`] matching with
//! hard negatives drawn from the ITC similarities, ITM re-ranking of the top k), captioning
//! ([`CaptioningHead`]: a pre-norm transformer decoder over the fused query tokens, teacher
//! forcing, greedy and beam search), and VQA ([`VqaHead`], an answer classifier, with
//! [`UnimodalHeads`] whose per-modality logits feed the scheduler's predictive signals and the
//! unimodal loss). Every head implements [`mafs_core::TaskHead`], and each task has its
//! unimodal loss ([`UnimodalLoss`]: the head on one modality alone, missing instances masked
//! out). [`loss`] holds the losses as plain functions so property tests check the very code
//! the training runs; [`search`] runs greedy and beam search over any [`StepDecoder`].
//!
//! Among the mafs crates this one depends on mafs-core only (besides burn, serde, thiserror
//! and rand_chacha); it must not depend on encoders, fusion, data, training or evaluation, and
//! does no I/O.

pub mod captioning;
pub mod decoder;
pub mod error;
pub mod guided_pool;
pub mod loss;
pub mod retrieval;
pub mod search;
pub mod task;
pub mod unimodal;
pub mod vqa;

pub use captioning::{CaptionTarget, CaptioningHead, CaptioningHeadConfig};
pub use decoder::{CaptionDecoder, CaptionDecoderConfig, CaptionStepper, DecodeState};
pub use error::HeadsError;
pub use guided_pool::{GuidedPool, GuidedPoolConfig};
pub use loss::InfoNceOutput;
pub use retrieval::{
    HardNegatives, ItcHead, ItcHeadConfig, ItcTarget, ItmHead, ItmHeadConfig, ItmPair,
    hard_negatives, hard_negatives_seeded, rerank_top_k,
};
pub use search::{GenerationConfig, Hypothesis, LengthPenalty, StepDecoder, beam_search, greedy};
pub use task::TaskKind;
pub use unimodal::UnimodalLoss;
pub use vqa::{
    AnswerClassifier, AnswerClassifierConfig, UnimodalHeads, UnimodalHeadsConfig, VqaHead,
    VqaHeadConfig, VqaLoss, VqaPrediction, VqaTarget,
};
