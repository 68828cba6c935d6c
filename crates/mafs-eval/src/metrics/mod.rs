//! Task metrics, each mirroring one reference implementation (see `docs/metrics.md`).
//!
//! - [`ptb_tokenizer`]: the tokenisation `pycocoevalcap` applies before scoring;
//! - [`bleu`], [`cider`], [`rouge`]: the scorers of `pycocoevalcap`, on tokenised text;
//! - [`caption`]: COCO caption result/annotation files → all caption metrics;
//! - [`vqa`]: VQA v2 accuracy (`vqaEval.py`);
//! - [`retrieval`]: recall at k in both directions and ITM re-ranking.

pub mod bleu;
pub mod caption;
pub mod cider;
pub mod error;
pub mod id;
pub mod ptb_tokenizer;
pub mod retrieval;
pub mod rouge;
pub mod vqa;

pub use bleu::{BleuScores, bleu};
pub use caption::{
    CaptionMetrics, CaptionSample, CaptionScorer, ImageSet, evaluate_caption_files,
    evaluate_captions,
};
pub use cider::{CiderScores, cider_d};
pub use error::MetricsError;
pub use id::Id;
pub use ptb_tokenizer::PtbTokenizer;
pub use retrieval::{
    RerankScore, RetrievalMetrics, TiePolicy, itm_rerank, retrieval_metrics,
    retrieval_metrics_two_way, top_k,
};
pub use rouge::{RougeScores, rouge_l};
pub use vqa::{HumanAnswer, VqaMetrics, evaluate_vqa, evaluate_vqa_files, vqa_accuracy};

pub(crate) use mafs_core::pystr::python_split;
