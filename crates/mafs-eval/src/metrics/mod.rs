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

/// Splits as Python's `str.split()` with no argument does: on runs of Unicode whitespace
/// (Python's `str.isspace`: Rust's `char::is_whitespace` plus U+001C..U+001F), dropping
/// empty pieces. BLEU and CIDEr tokenise this way (`words = s.split()`).
pub(crate) fn python_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
        .filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::python_split;

    #[test]
    fn python_split_matches_str_split() {
        // Python: "a  b\u00a0c\x1dd ".split() == ['a', 'b', 'c', 'd']
        let got: Vec<&str> = python_split(" a  b\u{a0}c\u{1d}d ").collect();
        assert_eq!(got, vec!["a", "b", "c", "d"]);
        assert_eq!(python_split("").count(), 0);
        assert_eq!(python_split("   ").count(), 0);
    }
}
