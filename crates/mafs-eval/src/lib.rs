//! # mafs-eval
//!
//! Evaluation for mafs: the metrics of the three tasks, computed exactly as the reference
//! tools that published numbers come from compute them.
//!
//! - captioning: BLEU-1..4, CIDEr-D and ROUGE-L as the COCO caption evaluation
//!   (`pycocoevalcap`) computes them, including its PTB tokenisation
//!   ([`metrics::ptb_tokenizer`]) and punctuation removal;
//! - VQA: VQA accuracy with the answer normalisation and 10-choose-9 averaging of the
//!   official VQA v2 `vqaEval.py`;
//! - retrieval: R@1/5/10 in both directions and rsum, as the ALBEF/BLIP evaluation code
//!   ranks, plus the ITM re-ranking of the ITC top k.
//!
//! Metrics work on plain Rust data (strings, `f32` slices, serde file formats), so they can
//! be used on results made anywhere; the `mafs metrics` command is a thin wrapper.
//! Robustness sweeps, reports and plots are separate modules of this crate.
//!
//! This crate must not depend on the model crates (encoders, fusion, heads, train): metrics
//! know nothing of how predictions were made.

/// Atomic writes of reports and figures (mafs-core's, re-exported).
pub use mafs_core::atomic;
pub mod metrics;
pub mod plot;
pub mod robustness;
pub mod weights;

pub use metrics::error::MetricsError;
