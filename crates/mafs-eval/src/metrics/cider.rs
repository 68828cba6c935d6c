//! CIDEr-D exactly as `pycocoevalcap/cider/cider_scorer.py` computes it (the COCO caption
//! evaluation's "CIDEr" is CIDEr-D).
//!
//! - n-grams n = 1..4 of the whitespace-split sentences, `sigma = 6.0`;
//! - document frequency from the *references* of the evaluated set: an n-gram counts once per
//!   item whose references contain it; `idf = log(N) - log(max(1, df))`, N = number of items;
//! - one tf-idf vector per n, cosine-like similarity with the candidate's counts clipped by
//!   the reference's (`min(vec_hyp, vec_ref) * vec_ref`), a gaussian length penalty
//!   `e^(-(delta^2) / (2 sigma^2))`, averaged over n and over references, times 10.
//!
//! One quirk is kept on purpose: the "length" in the penalty counts *bigrams*
//! (`if n == 1: length += term_freq`, with `n` the 0-based n-gram index), so a sentence of w
//! words has length `max(w - 1, 0)`.

use std::collections::{HashMap, HashSet};

use super::error::{MetricsError, Result};
use super::python_split;

/// n-gram order of CIDEr-D.
pub const CIDER_N: usize = 4;
/// Standard deviation of the gaussian length penalty.
pub const CIDER_SIGMA: f64 = 6.0;

/// Corpus and per-item CIDEr-D.
#[derive(Debug, Clone, PartialEq)]
pub struct CiderScores {
    /// Mean of the per-item scores (`CIDEr` of the COCO caption evaluation).
    pub corpus: f64,
    /// Score of each item, in input order.
    pub per_item: Vec<f64>,
}

/// An n-gram as interned token ids; unused slots are `u32::MAX`.
type Ngram = [u32; CIDER_N];

#[derive(Default)]
struct Interner<'a> {
    ids: HashMap<&'a str, u32>,
}

impl<'a> Interner<'a> {
    fn id(&mut self, w: &'a str) -> u32 {
        let next = self.ids.len() as u32;
        *self.ids.entry(w).or_insert(next)
    }
}

/// `precook`: term frequencies of all n-grams, n = 1..4.
fn precook<'a>(s: &'a str, interner: &mut Interner<'a>) -> HashMap<Ngram, f64> {
    let words: Vec<u32> = python_split(s).map(|w| interner.id(w)).collect();
    let mut counts = HashMap::new();
    for k in 1..=CIDER_N {
        if words.len() < k {
            break;
        }
        for i in 0..=words.len() - k {
            let mut g = [u32::MAX; CIDER_N];
            g[..k].copy_from_slice(&words[i..i + k]);
            *counts.entry(g).or_insert(0.0) += 1.0;
        }
    }
    counts
}

fn order(g: &Ngram) -> usize {
    g.iter().take_while(|&&t| t != u32::MAX).count() - 1
}

/// `counts2vec`: tf-idf vector per n, its norms and the (bigram) length.
struct TfIdf {
    vec: [HashMap<Ngram, f64>; CIDER_N],
    norm: [f64; CIDER_N],
    length: f64,
}

fn counts2vec(cnts: &HashMap<Ngram, f64>, df: &HashMap<Ngram, f64>, ref_len: f64) -> TfIdf {
    let mut vec: [HashMap<Ngram, f64>; CIDER_N] = Default::default();
    let mut norm = [0.0; CIDER_N];
    let mut length = 0.0;
    for (g, &tf) in cnts {
        // df = np.log(max(1.0, self.document_frequency[ngram]))
        let d = df.get(g).copied().unwrap_or(0.0).max(1.0).ln();
        let n = order(g);
        // vec[n][ngram] = float(term_freq)*(self.ref_len - df)
        let v = tf * (ref_len - d);
        vec[n].insert(*g, v);
        norm[n] += v.powi(2);
        // if n == 1: length += term_freq   (n is the 0-based order: bigrams)
        if n == 1 {
            length += tf;
        }
    }
    TfIdf {
        vec,
        norm: norm.map(f64::sqrt),
        length,
    }
}

fn sim(hyp: &TfIdf, reference: &TfIdf, sigma: f64) -> [f64; CIDER_N] {
    let delta = hyp.length - reference.length;
    let mut val = [0.0; CIDER_N];
    for (n, v) in val.iter_mut().enumerate() {
        for (g, &vh) in &hyp.vec[n] {
            let vr = reference.vec[n].get(g).copied().unwrap_or(0.0);
            // vrama91 : added clipping
            *v += vh.min(vr) * vr;
        }
        if hyp.norm[n] != 0.0 && reference.norm[n] != 0.0 {
            *v /= hyp.norm[n] * reference.norm[n];
        }
        // val[n] *= np.e**(-(delta**2)/(2*self.sigma**2))
        *v *= std::f64::consts::E.powf(-(delta.powi(2)) / (2.0 * sigma.powi(2)));
    }
    val
}

/// CIDEr-D of tokenised `candidates` against tokenised `references` (one list per
/// candidate), as `pycocoevalcap`'s `Cider().compute_score` returns it. The document
/// frequencies come from these references, so the score of an item depends on the whole
/// evaluated set, as in the reference.
///
/// # Errors
/// [`MetricsError::InvalidInput`] if the lengths differ, the set is empty or an item has no
/// reference.
pub fn cider_d<C: AsRef<str>, R: AsRef<str>>(
    candidates: &[C],
    references: &[Vec<R>],
) -> Result<CiderScores> {
    cider_d_with(candidates, references, CIDER_SIGMA)
}

/// [`cider_d`] with another gaussian `sigma`.
///
/// # Errors
/// As [`cider_d`].
pub fn cider_d_with<C: AsRef<str>, R: AsRef<str>>(
    candidates: &[C],
    references: &[Vec<R>],
    sigma: f64,
) -> Result<CiderScores> {
    if candidates.len() != references.len() {
        return Err(MetricsError::InvalidInput(format!(
            "CIDEr-D: {} candidates but {} reference lists",
            candidates.len(),
            references.len()
        )));
    }
    if candidates.is_empty() {
        return Err(MetricsError::InvalidInput(
            "CIDEr-D: no items to score".into(),
        ));
    }
    let mut interner = Interner::default();
    let mut crefs = Vec::with_capacity(references.len());
    for (i, refs) in references.iter().enumerate() {
        if refs.is_empty() {
            return Err(MetricsError::InvalidInput(format!(
                "CIDEr-D: item {i} has no reference"
            )));
        }
        let cooked: Vec<HashMap<Ngram, f64>> = refs
            .iter()
            .map(|r| precook(r.as_ref(), &mut interner))
            .collect();
        crefs.push(cooked);
    }
    let ctest: Vec<HashMap<Ngram, f64>> = candidates
        .iter()
        .map(|c| precook(c.as_ref(), &mut interner))
        .collect();

    // compute_doc_freq: each n-gram counts once per item whose references contain it.
    let mut df: HashMap<Ngram, f64> = HashMap::new();
    for refs in &crefs {
        let set: HashSet<&Ngram> = refs.iter().flat_map(|r| r.keys()).collect();
        for g in set {
            *df.entry(*g).or_insert(0.0) += 1.0;
        }
    }
    // self.ref_len = np.log(float(len(self.crefs)))
    let ref_len = (crefs.len() as f64).ln();

    let per_item: Vec<f64> = ctest
        .iter()
        .zip(&crefs)
        .map(|(test, refs)| {
            let hyp = counts2vec(test, &df, ref_len);
            let mut score = [0.0; CIDER_N];
            for r in refs {
                let rv = counts2vec(r, &df, ref_len);
                let s = sim(&hyp, &rv, sigma);
                for n in 0..CIDER_N {
                    score[n] += s[n];
                }
            }
            // score_avg = np.mean(score); score_avg /= len(refs); score_avg *= 10.0
            let mut avg = score.iter().sum::<f64>() / CIDER_N as f64;
            avg /= refs.len() as f64;
            avg * 10.0
        })
        .collect();
    let corpus = per_item.iter().sum::<f64>() / per_item.len() as f64;
    Ok(CiderScores { corpus, per_item })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_item_scores_zero_because_idf_vanishes() {
        // With one item, log(N) = 0 and every reference n-gram has df = 1: all weights 0.
        let s = cider_d(&["a cat"], &[vec!["a cat"]]).unwrap();
        assert_eq!(s.corpus, 0.0);
    }

    #[test]
    fn hand_computed_two_items() {
        // Items: ("a b", ["a b"]) and ("c", ["c d"]). N = 2, ref_len = ln 2.
        // Item 0: n-grams a, b, "a b" have df 1 -> weight ln 2 each; candidate == reference,
        // so the cosine is 1 for n = 1, 2 and 0 (zero norm) for n = 3, 4; lengths equal.
        // score = 10 * (1 + 1 + 0 + 0) / 4 = 5.
        // Item 1: hyp "c" (unigram c, weight ln 2), ref "c d" (c, d, "c d").
        // n=1: min(l,l)*l / (l * sqrt(2) l) = 1/sqrt(2); n=2: hyp has no bigram -> 0.
        // lengths (bigram counts): 0 vs 1 -> penalty e^(-1/72).
        // score = 10 * (1/sqrt(2)) * e^(-1/72) / 4.
        let s = cider_d(&["a b", "c"], &[vec!["a b"], vec!["c d"]]).unwrap();
        assert!((s.per_item[0] - 5.0).abs() < 1e-12, "{:?}", s.per_item);
        let want = 10.0 * (1.0 / 2f64.sqrt()) * (-1.0f64 / 72.0).exp() / 4.0;
        assert!((s.per_item[1] - want).abs() < 1e-12, "{:?}", s.per_item);
        assert!((s.corpus - (5.0 + want) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn repeated_words_are_clipped() {
        // The clipped candidate "a a a a" cannot beat the exact match "a b".
        let refs = vec![vec!["a b", "a c"], vec!["x y", "x z"], vec!["p q", "p r"]];
        let exact = cider_d(&["a b", "x y", "p q"], &refs).unwrap();
        let rep = cider_d(&["a a a a", "x y", "p q"], &refs).unwrap();
        assert!(rep.per_item[0] < exact.per_item[0]);
    }

    #[test]
    fn errors_on_bad_input() {
        assert!(cider_d(&["a"], &[Vec::<&str>::new()]).is_err());
        assert!(cider_d::<&str, &str>(&[], &[]).is_err());
        assert!(cider_d(&["a", "b"], &[vec!["a"]]).is_err());
    }
}
