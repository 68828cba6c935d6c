//! Character-level text corruptions as nlpaug's `KeyboardAug`, `OcrAug` and `RandomCharAug`
//! (insert, substitute, swap, delete) with their default parameters, which is how Qiu et al.
//! call them (`MM_Robustness/text_perturbation/perturb_*_TP.py`: `aug_word_p = 0.05 * level`,
//! everything else default).
//!
//! **What the rate means.** `rate` is nlpaug's `aug_word_p`: the text is tokenised (words and
//! single punctuation marks), and `ceil(rate * n_tokens)` tokens, at least 1 and at most 10, are
//! drawn among the eligible ones (at least `min_char` characters: 4 for keyboard and random
//! operations, 1 for OCR). In each drawn word `ceil(0.3 * len)` characters (`aug_char_p = 0.3`;
//! at least 1, for OCR 2; at most 10) among those the operation can act on are changed.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::keyboard::keyboard_neighbours;
use super::rng::{CorruptRng, index, sample_indices};
use super::text_tokenize::{detokenize, tokenize};

/// A character-level operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharOp {
    /// Replace by a QWERTY neighbour (`KeyboardAug`).
    Keyboard,
    /// Replace by an OCR confusion (`OcrAug`).
    Ocr,
    /// Insert a random character before the chosen one (`RandomCharAug('insert')`).
    Insert,
    /// Replace by a random character (`RandomCharAug('substitute')`).
    Substitute,
    /// Swap with an adjacent character, keeping the case pattern (`RandomCharAug('swap')`).
    Swap,
    /// Delete (`RandomCharAug('delete')`).
    Delete,
}

/// nlpaug's defaults for one augmenter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CharAugParams {
    /// Words shorter than this are never drawn (`min_char`).
    pub min_char: usize,
    /// `aug_char_min`.
    pub aug_char_min: usize,
    /// `aug_char_max`.
    pub aug_char_max: usize,
    /// `aug_char_p`.
    pub aug_char_p: f64,
    /// `aug_word_min`.
    pub aug_word_min: usize,
    /// `aug_word_max`.
    pub aug_word_max: usize,
}

impl CharOp {
    /// The constructor defaults of the nlpaug augmenter (`keyboard.py`, `ocr.py`, `random.py`).
    pub fn params(&self) -> CharAugParams {
        let (min_char, aug_char_min) = match self {
            CharOp::Keyboard => (4, 1),
            CharOp::Ocr => (1, 2),
            _ => (4, 1),
        };
        CharAugParams {
            min_char,
            aug_char_min,
            aug_char_max: 10,
            aug_char_p: 0.3,
            aug_word_min: 1,
            aug_word_max: 10,
        }
    }
}

/// nlpaug `_generate_aug_cnt`: `ceil(p * size)` clamped to `[min, max]`.
pub fn aug_count(size: usize, min: usize, max: usize, p: f64) -> usize {
    let cnt = (p * size as f64).ceil() as usize;
    cnt.clamp(min, max.max(min))
}

/// The base OCR confusions of nlpaug's `res/char/ocr/en.json`.
const OCR_BASE: [(char, &[char]); 12] = [
    ('0', &['8', '9', 'o', 'O', 'D']),
    ('1', &['4', '7', 'l', 'I']),
    ('2', &['z', 'Z']),
    ('5', &['8']),
    ('6', &['b']),
    ('8', &['s', 'S', '@', '&']),
    ('9', &['g', 'q']),
    ('o', &['u']),
    ('r', &['k']),
    ('C', &['G']),
    ('O', &['D', 'U']),
    ('E', &['B']),
];

/// The OCR table as nlpaug's `Ocr.generate_mapping` builds it: the base lists plus every
/// reverse pair, appended in the order Python's loop appends them (it appends to the live
/// lists, so `8` gains `0` and `5`).
pub fn ocr_table() -> &'static BTreeMap<char, Vec<char>> {
    static TABLE: OnceLock<BTreeMap<char, Vec<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut order: Vec<char> = Vec::new();
        let mut lists: BTreeMap<char, Vec<char>> = BTreeMap::new();
        for (k, vs) in OCR_BASE {
            order.push(k);
            lists.insert(k, vs.to_vec());
        }
        for (k, _) in OCR_BASE {
            let mut i = 0;
            while i < lists[&k].len() {
                let v = lists[&k][i];
                let entry = lists.entry(v).or_default();
                if !entry.contains(&k) {
                    entry.push(k);
                }
                i += 1;
            }
        }
        lists
    })
}

fn keyboard_table() -> &'static BTreeMap<char, Vec<char>> {
    static TABLE: OnceLock<BTreeMap<char, Vec<char>>> = OnceLock::new();
    TABLE.get_or_init(keyboard_neighbours)
}

/// `RandomCharAug`'s candidates: upper case, lower case, digits, then `!@#$%^&*()_+`.
pub fn random_char_candidates() -> &'static [char] {
    static C: OnceLock<Vec<char>> = OnceLock::new();
    C.get_or_init(|| {
        ('A'..='Z')
            .chain('a'..='z')
            .chain('0'..='9')
            .chain("!@#$%^&*()_+".chars())
            .collect()
    })
}

fn with_case_of(c: char, upper: bool) -> char {
    if upper {
        c.to_uppercase().next().unwrap_or(c)
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// Applies one nlpaug character augmenter to `text` with `aug_word_p = rate`.
///
/// Returns the text rejoined by nlpaug's reverse tokenizer (so spacing around punctuation is
/// normalised even when nothing could be changed), or the input itself when it is blank.
pub fn char_augment(text: &str, op: CharOp, rate: f64, rng: &mut CorruptRng) -> String {
    char_augment_counted(text, op, rate, rng).0
}

/// [`char_augment`], also returning the indices of the tokens that were drawn.
pub fn char_augment_counted(
    text: &str,
    op: CharOp,
    rate: f64,
    rng: &mut CorruptRng,
) -> (String, Vec<usize>) {
    if text.trim().is_empty() {
        return (text.to_string(), Vec::new());
    }
    let prm = op.params();
    let mut tokens = tokenize(text.trim());
    let cnt = aug_count(tokens.len(), prm.aug_word_min, prm.aug_word_max, rate);
    let eligible: Vec<usize> = (0..tokens.len())
        .filter(|&i| tokens[i].chars().count() >= prm.min_char)
        .collect();
    let picked: Vec<usize> = sample_indices(rng, eligible.len(), cnt.min(eligible.len()))
        .into_iter()
        .map(|i| eligible[i])
        .collect();
    let mut chosen = picked.clone();
    chosen.sort_unstable();
    for &ti in &chosen {
        let mut chars: Vec<char> = tokens[ti].chars().collect();
        let table = match op {
            CharOp::Keyboard => Some(keyboard_table()),
            CharOp::Ocr => Some(ocr_table()),
            _ => None,
        };
        let char_cnt = aug_count(
            chars.len(),
            prm.aug_char_min,
            prm.aug_char_max,
            prm.aug_char_p,
        );
        let positions: Vec<usize> = match table {
            Some(t) => (0..chars.len())
                .filter(|&i| t.get(&chars[i]).is_some_and(|v| !v.is_empty()))
                .collect(),
            None => (0..chars.len()).collect(),
        };
        if positions.is_empty() {
            continue;
        }
        let mut aug: Vec<usize> =
            sample_indices(rng, positions.len(), char_cnt.min(positions.len()))
                .into_iter()
                .map(|i| positions[i])
                .collect();
        match op {
            CharOp::Keyboard | CharOp::Ocr => {
                let t = table.expect("table ops have a table");
                let mut set = aug.clone();
                set.sort_unstable();
                for i in set {
                    let opts = &t[&chars[i]];
                    chars[i] = opts[index(rng, opts.len())];
                }
            }
            CharOp::Substitute => {
                let cands = random_char_candidates();
                let mut set = aug.clone();
                set.sort_unstable();
                for i in set {
                    chars[i] = cands[index(rng, cands.len())];
                }
            }
            CharOp::Insert => {
                let cands = random_char_candidates();
                aug.sort_unstable_by(|a, b| b.cmp(a));
                for i in aug {
                    chars.insert(i, cands[index(rng, cands.len())]);
                }
            }
            CharOp::Delete => {
                aug.sort_unstable_by(|a, b| b.cmp(a));
                for i in aug {
                    chars.remove(i);
                }
            }
            CharOp::Swap => {
                let last = chars.len() - 1;
                for i in aug {
                    let j = if i == 0 {
                        1.min(last)
                    } else if i == last || index(rng, 2) == 0 {
                        i - 1
                    } else {
                        i + 1
                    };
                    let (ui, uj) = (chars[i].is_uppercase(), chars[j].is_uppercase());
                    chars.swap(i, j);
                    chars[i] = with_case_of(chars[i], ui);
                    chars[j] = with_case_of(chars[j], uj);
                }
            }
        }
        tokens[ti] = chars.into_iter().collect();
    }
    (detokenize(&tokens), picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::rng::rng_from_hash;

    #[test]
    fn ocr_table_matches_nlpaug_generate_mapping() {
        let t = ocr_table();
        assert_eq!(t[&'8'], vec!['s', 'S', '@', '&', '0', '5']);
        assert_eq!(t[&'D'], vec!['0', 'O']);
        assert_eq!(t[&'O'], vec!['D', 'U', '0']);
        assert_eq!(t[&'l'], vec!['1']);
        assert_eq!(t.len(), 31);
    }

    #[test]
    fn counts_follow_nlpaug() {
        assert_eq!(aug_count(10, 1, 10, 0.05), 1);
        assert_eq!(aug_count(30, 1, 10, 0.15), 5);
        assert_eq!(aug_count(100, 1, 10, 0.25), 10);
        assert_eq!(aug_count(5, 2, 10, 0.3), 2);
    }

    #[test]
    fn swap_keeps_letters_and_case_pattern() {
        let mut rng = rng_from_hash(9);
        let out = char_augment("Purple Triangles", CharOp::Swap, 1.0, &mut rng);
        let mut a: Vec<char> = out.to_lowercase().chars().collect();
        let mut b: Vec<char> = "purple triangles".chars().collect();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        let upper: Vec<bool> = out.chars().map(char::is_uppercase).collect();
        let want: Vec<bool> = "Purple Triangles".chars().map(char::is_uppercase).collect();
        assert_eq!(upper, want, "{out}");
        assert_ne!(out, "Purple Triangles");
    }

    #[test]
    fn delete_and_insert_change_length() {
        let mut rng = rng_from_hash(10);
        let text = "large yellow hexagon beside green square";
        let del = char_augment(text, CharOp::Delete, 0.25, &mut rng);
        let ins = char_augment(text, CharOp::Insert, 0.25, &mut rng);
        assert!(del.len() < text.len());
        assert!(ins.len() > text.len());
        assert_eq!(char_augment("   ", CharOp::Keyboard, 0.25, &mut rng), "   ");
    }
}
