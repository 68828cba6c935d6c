//! The text corruptions by name, the text fields they target, and the entry point that applies
//! any of them at a severity (rate `0.05 * severity`, as Qiu et al.).

use serde::{Deserialize, Serialize};

use super::profile::sev_index;
use super::rng::CorruptRng;
use super::synonyms::SynonymTable;
use super::text_char::{CharOp, char_augment};
use super::text_word::{WordOp, word_augment};

/// The rate of a text corruption at `severity`: `0.05 * severity` (Qiu et al.'s levels 1–5).
pub fn text_rate(severity: u8) -> f64 {
    0.05 * (sev_index(severity) + 1) as f64
}

/// Which text of an instance a text corruption acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextTarget {
    /// The side text: the text modality of an item (spec prefix `text:` or `side:`).
    Side,
    /// Every reference caption (spec prefix `caption:`).
    Caption,
    /// Every VQA question (spec prefix `question:`).
    Question,
}

impl TextTarget {
    /// All targets.
    pub const ALL: [TextTarget; 3] = [TextTarget::Side, TextTarget::Caption, TextTarget::Question];

    /// The spec prefix.
    pub fn prefix(&self) -> &'static str {
        match self {
            TextTarget::Side => "text",
            TextTarget::Caption => "caption",
            TextTarget::Question => "question",
        }
    }

    /// Looks a prefix up (`side` is an alias of `text`).
    pub fn from_prefix(p: &str) -> Option<Self> {
        match p {
            "text" | "side" => Some(TextTarget::Side),
            "caption" | "captions" => Some(TextTarget::Caption),
            "question" | "questions" => Some(TextTarget::Question),
            _ => None,
        }
    }
}

/// A text corruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextCorruption {
    /// nlpaug `KeyboardAug`.
    Keyboard,
    /// nlpaug `OcrAug`.
    Ocr,
    /// nlpaug `RandomCharAug('insert')`.
    CharInsert,
    /// nlpaug `RandomCharAug('substitute')`.
    CharSubstitute,
    /// nlpaug `RandomCharAug('swap')`.
    CharSwap,
    /// nlpaug `RandomCharAug('delete')`.
    CharDelete,
    /// EDA synonym replacement.
    SynonymReplacement,
    /// EDA random insertion.
    WordInsert,
    /// EDA random swap.
    WordSwap,
    /// EDA random deletion.
    WordDelete,
    /// QMF masking of words to `_`.
    WordMask,
    /// The text is absent (side text only).
    Missing,
}

impl TextCorruption {
    /// Every text corruption, in order.
    pub const ALL: [TextCorruption; 12] = [
        Self::Keyboard,
        Self::Ocr,
        Self::CharInsert,
        Self::CharSubstitute,
        Self::CharSwap,
        Self::CharDelete,
        Self::SynonymReplacement,
        Self::WordInsert,
        Self::WordSwap,
        Self::WordDelete,
        Self::WordMask,
        Self::Missing,
    ];

    /// The name used in specs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Keyboard => "keyboard",
            Self::Ocr => "ocr",
            Self::CharInsert => "char_insert",
            Self::CharSubstitute => "char_substitute",
            Self::CharSwap => "char_swap",
            Self::CharDelete => "char_delete",
            Self::SynonymReplacement => "synonym_replacement",
            Self::WordInsert => "word_insert",
            Self::WordSwap => "word_swap",
            Self::WordDelete => "word_delete",
            Self::WordMask => "word_mask",
            Self::Missing => "missing",
        }
    }

    /// Looks a name up (`synonym`, `mask`, `typo` are accepted too).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "synonym" => return Some(Self::SynonymReplacement),
            "mask" => return Some(Self::WordMask),
            "typo" => return Some(Self::Keyboard),
            _ => {}
        }
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Applies the corruption at `severity` to one text. `None` for [`TextCorruption::Missing`].
    pub fn apply(
        &self,
        text: &str,
        severity: u8,
        syn: &SynonymTable,
        rng: &mut CorruptRng,
    ) -> Option<String> {
        let rate = text_rate(severity);
        let mut char_op = |op| Some(char_augment(text, op, rate, rng));
        match self {
            Self::Keyboard => char_op(CharOp::Keyboard),
            Self::Ocr => char_op(CharOp::Ocr),
            Self::CharInsert => char_op(CharOp::Insert),
            Self::CharSubstitute => char_op(CharOp::Substitute),
            Self::CharSwap => char_op(CharOp::Swap),
            Self::CharDelete => char_op(CharOp::Delete),
            Self::SynonymReplacement => Some(word_augment(
                text,
                WordOp::SynonymReplacement,
                rate,
                syn,
                rng,
            )),
            Self::WordInsert => Some(word_augment(text, WordOp::Insert, rate, syn, rng)),
            Self::WordSwap => Some(word_augment(text, WordOp::Swap, rate, syn, rng)),
            Self::WordDelete => Some(word_augment(text, WordOp::Delete, rate, syn, rng)),
            Self::WordMask => Some(word_augment(text, WordOp::Mask, rate, syn, rng)),
            Self::Missing => None,
        }
    }
}

impl std::fmt::Display for TextCorruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
