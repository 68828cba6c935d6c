//! BLEU-1..4 exactly as `pycocoevalcap/bleu/bleu_scorer.py` computes it.
//!
//! Corpus BLEU with the "closest" effective reference length (`Bleu.compute_score` calls
//! `compute_score(option='closest')`), the constants `tiny = 1e-15` and `small = 1e-9`, and
//! the brevity penalty `exp(1 - 1/ratio)` when `ratio = (testlen + tiny) / (reflen + small)`
//! is below 1. Per-item scores are the scorer's `bleu_list`, with the same formula applied
//! to each item alone. Input sentences are already tokenised (tokens joined by spaces) and
//! split as Python's `str.split()` does.

use std::collections::HashMap;

use super::error::{MetricsError, Result};
use super::python_split;

/// The BLEU order used by the COCO caption evaluation.
pub const BLEU_N: usize = 4;
/// `tiny = 1e-15 ## so that if guess is 0 still return 0`
const TINY: f64 = 1e-15;
/// `small = 1e-9`
const SMALL: f64 = 1e-9;

/// Corpus and per-item BLEU-1..4.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScores {
    /// Corpus-level BLEU-1..4 (`Bleu_1` .. `Bleu_4` of the COCO caption evaluation).
    pub corpus: [f64; BLEU_N],
    /// BLEU-1..4 of each item on its own, in input order.
    pub per_item: Vec<[f64; BLEU_N]>,
}

/// What `cook_test` keeps of one candidate against its references.
struct Cooked {
    testlen: usize,
    /// `reflen` with the "closest" option, resolved per item.
    reflen: usize,
    guess: [usize; BLEU_N],
    correct: [usize; BLEU_N],
}

/// `precook`: n-gram counts for n = 1..4 of a whitespace-split sentence.
fn precook<'a, 'b>(words: &'b [&'a str]) -> HashMap<&'b [&'a str], usize> {
    let mut counts = HashMap::new();
    for k in 1..=BLEU_N {
        if words.len() < k {
            break;
        }
        for i in 0..=words.len() - k {
            *counts.entry(&words[i..i + k]).or_insert(0) += 1;
        }
    }
    counts
}

fn cook<S: AsRef<str>>(candidate: &str, references: &[S]) -> Cooked {
    let ref_words: Vec<Vec<&str>> = references
        .iter()
        .map(|r| python_split(r.as_ref()).collect())
        .collect();
    // cook_refs: maxcounts[ngram] = max over references of the count.
    let mut maxcounts: HashMap<&[&str], usize> = HashMap::new();
    for words in &ref_words {
        for (ngram, count) in precook(words) {
            let e = maxcounts.entry(ngram).or_insert(0);
            *e = (*e).max(count);
        }
    }
    let test_words: Vec<&str> = python_split(candidate).collect();
    let testlen = test_words.len();
    // result["reflen"] = min((abs(l-testlen), l) for l in reflen)[1]: the closest length,
    // the shorter one on a tie.
    let reflen = ref_words
        .iter()
        .map(|w| w.len())
        .min_by_key(|&l| (l.abs_diff(testlen), l))
        .unwrap_or(0);
    let mut guess = [0; BLEU_N];
    let mut correct = [0; BLEU_N];
    for (k, g) in guess.iter_mut().enumerate() {
        // result["guess"] = [max(0,testlen-k+1) for k in range(1,n+1)]
        *g = (testlen + 1).saturating_sub(k + 1);
    }
    for (ngram, count) in precook(&test_words) {
        // result['correct'][len(ngram)-1] += min(refmaxcounts.get(ngram,0), count)
        correct[ngram.len() - 1] += maxcounts.get(ngram).copied().unwrap_or(0).min(count);
    }
    Cooked {
        testlen,
        reflen,
        guess,
        correct,
    }
}

/// BLEU-1..4 from totals, as `compute_score` does for the corpus and for each item.
fn score(testlen: f64, reflen: f64, guess: &[f64; BLEU_N], correct: &[f64; BLEU_N]) -> [f64; 4] {
    let mut bleus = [0.0; BLEU_N];
    let mut bleu = 1.0_f64;
    for k in 0..BLEU_N {
        // bleu *= float(correct[k] + tiny) / (guess[k] + small)
        bleu *= (correct[k] + TINY) / (guess[k] + SMALL);
        bleus[k] = bleu.powf(1.0 / (k as f64 + 1.0));
    }
    // ratio = (testlen + tiny) / (reflen + small) ## N.B.: avoid zero division
    let ratio = (testlen + TINY) / (reflen + SMALL);
    if ratio < 1.0 {
        for b in &mut bleus {
            *b *= (1.0 - 1.0 / ratio).exp();
        }
    }
    bleus
}

/// BLEU-1..4 of tokenised `candidates` against tokenised `references` (one list per
/// candidate, in the same order), as `pycocoevalcap`'s `Bleu(4).compute_score` returns them.
///
/// # Errors
/// [`MetricsError::InvalidInput`] if the lengths differ or an item has no reference
/// (`assert(len(ref) >= 1)` in the reference).
pub fn bleu<C: AsRef<str>, R: AsRef<str>>(
    candidates: &[C],
    references: &[Vec<R>],
) -> Result<BleuScores> {
    if candidates.len() != references.len() {
        return Err(MetricsError::InvalidInput(format!(
            "BLEU: {} candidates but {} reference lists",
            candidates.len(),
            references.len()
        )));
    }
    let mut total_test = 0.0;
    let mut total_ref = 0.0;
    let mut total_guess = [0.0; BLEU_N];
    let mut total_correct = [0.0; BLEU_N];
    let mut per_item = Vec::with_capacity(candidates.len());
    for (i, (cand, refs)) in candidates.iter().zip(references).enumerate() {
        if refs.is_empty() {
            return Err(MetricsError::InvalidInput(format!(
                "BLEU: item {i} has no reference"
            )));
        }
        let c = cook(cand.as_ref(), refs);
        let guess = c.guess.map(|g| g as f64);
        let correct = c.correct.map(|g| g as f64);
        total_test += c.testlen as f64;
        total_ref += c.reflen as f64;
        for k in 0..BLEU_N {
            total_guess[k] += guess[k];
            total_correct[k] += correct[k];
        }
        per_item.push(score(c.testlen as f64, c.reflen as f64, &guess, &correct));
    }
    Ok(BleuScores {
        corpus: score(total_test, total_ref, &total_guess, &total_correct),
        per_item,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn identical_sentence_scores_one() {
        let s = bleu(&["a b c d e"], &[vec!["a b c d e"]]).unwrap();
        for k in 0..4 {
            // Not exactly 1: (correct + tiny) / (guess + small) < 1.
            assert!((s.corpus[k] - 1.0).abs() < 1e-8, "{:?}", s.corpus);
            assert!(s.corpus[k] < 1.0);
            assert!((s.per_item[0][k] - 1.0).abs() < 1e-8);
        }
    }

    #[test]
    fn hand_computed_example() {
        // candidate "the cat sat" vs refs ["the cat sat down", "a cat"]:
        // testlen 3, closest reflen: |4-3| = 1, |2-3| = 1 -> tie, shorter wins -> 2.
        // ratio >= 1 so no brevity penalty. 1-grams 3/3, 2-grams 2/2, 3-grams 1/1, 4-grams 0/0.
        let s = bleu(&["the cat sat"], &[vec!["the cat sat down", "a cat"]]).unwrap();
        let p1 = (3.0 + TINY) / (3.0 + SMALL);
        let p2 = (2.0 + TINY) / (2.0 + SMALL);
        let p3 = (1.0 + TINY) / (1.0 + SMALL);
        let p4 = TINY / SMALL;
        assert!(close(s.corpus[0], p1));
        assert!(close(s.corpus[1], (p1 * p2).sqrt()));
        assert!(close(s.corpus[2], (p1 * p2 * p3).powf(1.0 / 3.0)));
        assert!(close(s.corpus[3], (p1 * p2 * p3 * p4).powf(0.25)));
    }

    #[test]
    fn brevity_penalty_applies_to_short_candidates() {
        // testlen 2, reflen 4: bp = exp(1 - 4/2) = exp(-1).
        let s = bleu(&["a b"], &[vec!["a b c d"]]).unwrap();
        let ratio = (2.0 + TINY) / (4.0 + SMALL);
        let p1 = (2.0 + TINY) / (2.0 + SMALL);
        assert!(close(s.corpus[0], p1 * (1.0 - 1.0 / ratio).exp()));
    }

    #[test]
    fn clipping_by_max_reference_count() {
        // "the the the" vs "the cat": 1-gram correct = min(1, 3) = 1.
        let s = bleu(&["the the the"], &[vec!["the cat"]]).unwrap();
        let p1 = (1.0 + TINY) / (3.0 + SMALL);
        assert!(close(s.corpus[0], p1));
    }

    #[test]
    fn empty_candidate_scores_zero_without_panicking() {
        let s = bleu(&[""], &[vec!["a b"]]).unwrap();
        assert!(s.corpus[0] < 1e-5);
        assert!(s.corpus.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn errors_on_bad_input() {
        assert!(bleu(&["a"], &[Vec::<&str>::new()]).is_err());
        assert!(bleu(&["a", "b"], &[vec!["a"]]).is_err());
    }
}
