//! ROUGE-L exactly as `pycocoevalcap/rouge/rouge.py` computes it.
//!
//! For each item: LCS length between the candidate and each reference (tokens from
//! `split(" ")`, a single-space split that keeps empty tokens, as the reference does), then
//! the *maximum* precision and the *maximum* recall over references, combined as
//! `F = (1 + beta^2) P R / (R + beta^2 P)` with `beta = 1.2`; 0 if either is 0. The corpus
//! score is the mean over items.

use super::error::{MetricsError, Result};

/// `self.beta = 1.2` ("updated the value below based on discussion with Hovey").
pub const ROUGE_BETA: f64 = 1.2;

/// Corpus and per-item ROUGE-L.
#[derive(Debug, Clone, PartialEq)]
pub struct RougeScores {
    /// Mean of the per-item scores (`ROUGE_L` of the COCO caption evaluation).
    pub corpus: f64,
    /// Score of each item, in input order.
    pub per_item: Vec<f64>,
}

/// Length of the longest common subsequence of two token lists (`my_lcs`).
pub fn lcs_len(a: &[&str], b: &[&str]) -> usize {
    let (long, short) = if a.len() < b.len() { (b, a) } else { (a, b) };
    let mut prev = vec![0usize; short.len() + 1];
    let mut cur = vec![0usize; short.len() + 1];
    for x in long {
        for (j, y) in short.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[short.len()]
}

/// `Rouge.calc_score` for one candidate and its references.
pub fn rouge_l_item<R: AsRef<str>>(candidate: &str, references: &[R]) -> f64 {
    let token_c: Vec<&str> = candidate.split(' ').collect();
    let mut prec_max = f64::NEG_INFINITY;
    let mut rec_max = f64::NEG_INFINITY;
    for reference in references {
        let token_r: Vec<&str> = reference.as_ref().split(' ').collect();
        let lcs = lcs_len(&token_r, &token_c) as f64;
        prec_max = prec_max.max(lcs / token_c.len() as f64);
        rec_max = rec_max.max(lcs / token_r.len() as f64);
    }
    if prec_max != 0.0 && rec_max != 0.0 {
        let b2 = ROUGE_BETA.powi(2);
        ((1.0 + b2) * prec_max * rec_max) / (rec_max + b2 * prec_max)
    } else {
        0.0
    }
}

/// ROUGE-L of tokenised `candidates` against tokenised `references`, as `pycocoevalcap`'s
/// `Rouge().compute_score` returns it.
///
/// # Errors
/// [`MetricsError::InvalidInput`] if the lengths differ, the set is empty or an item has no
/// reference.
pub fn rouge_l<C: AsRef<str>, R: AsRef<str>>(
    candidates: &[C],
    references: &[Vec<R>],
) -> Result<RougeScores> {
    if candidates.len() != references.len() {
        return Err(MetricsError::InvalidInput(format!(
            "ROUGE-L: {} candidates but {} reference lists",
            candidates.len(),
            references.len()
        )));
    }
    if candidates.is_empty() {
        return Err(MetricsError::InvalidInput(
            "ROUGE-L: no items to score".into(),
        ));
    }
    let mut per_item = Vec::with_capacity(candidates.len());
    for (i, (c, refs)) in candidates.iter().zip(references).enumerate() {
        if refs.is_empty() {
            return Err(MetricsError::InvalidInput(format!(
                "ROUGE-L: item {i} has no reference"
            )));
        }
        per_item.push(rouge_l_item(c.as_ref(), refs));
    }
    let corpus = per_item.iter().sum::<f64>() / per_item.len() as f64;
    Ok(RougeScores { corpus, per_item })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_examples() {
        assert_eq!(lcs_len(&["a", "b", "c", "d"], &["a", "c", "d"]), 3);
        assert_eq!(lcs_len(&["a", "b"], &["c"]), 0);
        assert_eq!(lcs_len(&["b", "a"], &["a", "b", "a"]), 2);
        assert_eq!(lcs_len(&[], &["a"]), 0);
    }

    #[test]
    fn hand_computed_score() {
        // cand "a b c" vs refs ["a c", "a b c d e"]:
        // ref 1: lcs 2, P 2/3, R 1; ref 2: lcs 3, P 1, R 3/5. P_max = 1, R_max = 1.
        let s = rouge_l_item("a b c", &["a c", "a b c d e"]);
        assert!((s - 1.0).abs() < 1e-12);
        // cand "a x" vs ref "a b c": lcs 1, P 1/2, R 1/3.
        let (p, r) = (0.5, 1.0 / 3.0);
        let b2 = 1.44;
        let want = (1.0 + b2) * p * r / (r + b2 * p);
        assert!((rouge_l_item("a x", &["a b c"]) - want).abs() < 1e-12);
    }

    #[test]
    fn empty_candidate_is_one_empty_token() {
        // "".split(" ") == [""]: no match with a non-empty reference.
        assert_eq!(rouge_l_item("", &["a b"]), 0.0);
        assert_eq!(rouge_l_item("", &[""]), 1.0);
    }
}
