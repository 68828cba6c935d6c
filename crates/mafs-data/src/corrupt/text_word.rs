//! Word-level text corruptions: EDA's synonym replacement, random insertion, random swap and
//! random deletion (Wei and Zou 2019, as vendored in `MM_Robustness/text_perturbation/eda.py`
//! and called with one technique at `0.05 * level` and `num_aug=1`), and QMF's masking of
//! words to `_` (`QMF/text-image-classification/src/data/dataset.py`).
//!
//! **What the rate means.** Synonym replacement, insertion and swap act on
//! `n = max(1, int(rate * n_words))` words (EDA's `alpha * num_words`); deletion and masking
//! drop or mask each word independently with probability `rate`. EDA first cleans the sentence
//! (`get_only_chars`: lower case, only the letters a–z and spaces kept, hyphens to spaces) and
//! returns the cleaned text; QMF does not clean.

use super::rng::{CorruptRng, index, unit};
use super::synonyms::SynonymTable;

/// EDA's stop words: never chosen for synonym replacement.
pub const EDA_STOP_WORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "her",
    "hers",
    "herself",
    "it",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "should",
    "now",
    "",
];

/// A word-level operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordOp {
    /// EDA synonym replacement (`alpha_sr`).
    SynonymReplacement,
    /// EDA random insertion of a synonym of a random word (`alpha_ri`).
    Insert,
    /// EDA random swap of two words (`alpha_rs`).
    Swap,
    /// EDA random deletion (`p_rd`).
    Delete,
    /// QMF: each word replaced by `_` with probability `rate`.
    Mask,
}

/// EDA's `get_only_chars`.
pub fn get_only_chars(line: &str) -> String {
    let line = line
        .replace(['\u{2019}', '\''], "")
        .replace(['-', '\t', '\n'], " ")
        .to_lowercase();
    let mut clean: String = line
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    while clean.contains("  ") {
        clean = clean.replace("  ", " ");
    }
    if let Some(rest) = clean.strip_prefix(' ') {
        clean = rest.to_string();
    }
    clean
}

fn words_of(sentence: &str) -> Vec<String> {
    get_only_chars(sentence)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// EDA's `synonym_replacement(words, n)`: distinct non-stop words in random order; each with a
/// synonym has every occurrence replaced by a random synonym, until `n` words are replaced.
pub fn synonym_replacement(
    words: &[String],
    n: usize,
    syn: &SynonymTable,
    rng: &mut CorruptRng,
) -> Vec<String> {
    let mut candidates: Vec<String> = Vec::new();
    for w in words {
        if !EDA_STOP_WORDS.contains(&w.as_str()) && !candidates.contains(w) {
            candidates.push(w.clone());
        }
    }
    shuffle(&mut candidates, rng);
    let mut new_words = words.to_vec();
    let mut replaced = 0;
    for w in candidates {
        let s = syn.synonyms(&w);
        if !s.is_empty() {
            let choice = s[index(rng, s.len())].clone();
            for nw in new_words.iter_mut() {
                if *nw == w {
                    *nw = choice.clone();
                }
            }
            replaced += 1;
        }
        if replaced >= n {
            break;
        }
    }
    new_words.join(" ").split(' ').map(str::to_string).collect()
}

/// EDA's `random_insertion(words, n)`: `n` times, a random word with synonyms (up to 10 tries)
/// gives its first synonym, inserted at a random position `0..len` (never after the last word).
/// As in EDA, the tenth try gives up even when it found a synonym.
pub fn random_insertion(
    words: &[String],
    n: usize,
    syn: &SynonymTable,
    rng: &mut CorruptRng,
) -> Vec<String> {
    let mut new_words = words.to_vec();
    if new_words.is_empty() {
        return new_words;
    }
    for _ in 0..n {
        let mut synonyms = Vec::new();
        let mut counter = 0;
        let mut gave_up = false;
        while synonyms.is_empty() {
            let w = &new_words[index(rng, new_words.len())];
            synonyms = syn.synonyms(w);
            counter += 1;
            if counter >= 10 {
                gave_up = true;
                break;
            }
        }
        if gave_up {
            continue;
        }
        let at = index(rng, new_words.len());
        new_words.insert(at, synonyms[0].clone());
    }
    new_words
}

/// EDA's `random_swap(words, n)`: `n` swaps of two random positions (a swap is skipped after
/// four draws, as EDA's `counter > 3` check does, even when the fourth draw differed).
pub fn random_swap(words: &[String], n: usize, rng: &mut CorruptRng) -> Vec<String> {
    let mut new_words = words.to_vec();
    if new_words.is_empty() {
        return new_words;
    }
    for _ in 0..n {
        let i = index(rng, new_words.len());
        let mut j = i;
        let mut counter = 0;
        let mut skip = false;
        while j == i {
            j = index(rng, new_words.len());
            counter += 1;
            if counter > 3 {
                skip = true;
                break;
            }
        }
        if !skip {
            new_words.swap(i, j);
        }
    }
    new_words
}

/// EDA's `random_deletion(words, p)`: each word kept when `uniform(0, 1) > p`; a single word is
/// never deleted, and if all go, one random word is kept.
pub fn random_deletion(words: &[String], p: f64, rng: &mut CorruptRng) -> Vec<String> {
    if words.len() <= 1 {
        return words.to_vec();
    }
    let kept: Vec<String> = words.iter().filter(|_| unit(rng) > p).cloned().collect();
    if kept.is_empty() {
        return vec![words[index(rng, words.len())].clone()];
    }
    kept
}

/// QMF's masking: `text.split(' ')`, each word replaced by `_` with probability `p`, rejoined.
pub fn mask_words(text: &str, p: f64, rng: &mut CorruptRng) -> String {
    text.split(' ')
        .map(|w| if unit(rng) < p { "_" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

fn shuffle<T>(v: &mut [T], rng: &mut CorruptRng) {
    for i in (1..v.len()).rev() {
        let j = index(rng, i + 1);
        v.swap(i, j);
    }
}

/// Applies one word-level operation at `rate` as `eda(sentence, ...)` with that technique only
/// and `num_aug=1` (or QMF's masking).
pub fn word_augment(
    text: &str,
    op: WordOp,
    rate: f64,
    syn: &SynonymTable,
    rng: &mut CorruptRng,
) -> String {
    if op == WordOp::Mask {
        return mask_words(text, rate, rng);
    }
    let words = words_of(text);
    if words.is_empty() {
        return get_only_chars(text);
    }
    let n = ((rate * words.len() as f64) as usize).max(1);
    let out = match op {
        WordOp::SynonymReplacement => synonym_replacement(&words, n, syn, rng),
        WordOp::Insert => random_insertion(&words, n, syn, rng),
        WordOp::Swap => random_swap(&words, n, rng),
        WordOp::Delete => random_deletion(&words, rate, rng),
        WordOp::Mask => unreachable!("handled above"),
    };
    get_only_chars(&out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::rng::rng_from_hash;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn get_only_chars_cleans_like_eda() {
        assert_eq!(
            get_only_chars("A red-circle, left of 2 stars."),
            "a red circle left of stars "
        );
        assert_eq!(get_only_chars("don't"), "dont");
    }

    #[test]
    fn operations_keep_or_change_counts_as_defined() {
        let syn = SynonymTable::builtin();
        let mut rng = rng_from_hash(3);
        let words = w("small red circle above large blue square");
        let sr = synonym_replacement(&words, 2, &syn, &mut rng);
        let changed = sr.iter().zip(&words).filter(|(a, b)| a != b).count();
        assert!(changed >= 2, "{sr:?}");
        let ri = random_insertion(&words, 3, &syn, &mut rng);
        assert_eq!(ri.len(), words.len() + 3);
        let rs = random_swap(&words, 1, &mut rng);
        let mut a = rs.clone();
        let mut b = words.clone();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        assert_ne!(rs, words);
        assert_eq!(random_deletion(&w("alone"), 1.0, &mut rng), w("alone"));
        assert_eq!(random_deletion(&words, 1.0, &mut rng).len(), 1);
        assert_eq!(mask_words("a b c", 1.0, &mut rng), "_ _ _");
        assert_eq!(mask_words("a b c", 0.0, &mut rng), "a b c");
    }
}
