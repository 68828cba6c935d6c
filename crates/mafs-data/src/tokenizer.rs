//! Text tokenizers behind one API: a word-level tokenizer built from training text, and a
//! Hugging Face `tokenizer.json` loaded through the `tokenizers` crate.
//!
//! Both encode to a fixed length with padding (`[PAD]` = 0 for the word tokenizer) and
//! optional `[CLS]` / `[BOS]` / `[EOS]`, and decode up to the first `[EOS]`, skipping special
//! tokens.
//!
//! ```
//! use mafs_data::tokenizer::{EncodeOptions, TextTokenizer, WordTokenizer, WordTokenizerConfig};
//! let tok = WordTokenizer::build(["A red circle.", "a blue star"], &WordTokenizerConfig::default());
//! let tok = TextTokenizer::Word(tok);
//! let (ids, len) = tok.encode("A red star!", 8, EncodeOptions::caption_target());
//! assert_eq!(len, 5); // a, red, star, `!` ([UNK]: not in the vocabulary), [EOS]
//! assert_eq!(ids.len(), 8);
//! assert_eq!(tok.decode(&ids), "a red star"); // specials ([UNK], [EOS], [PAD]) are skipped
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::DataError;

/// Padding token (id 0 in the word tokenizer).
pub const PAD: &str = "[PAD]";
/// Begin-of-sequence token (id 1).
pub const BOS: &str = "[BOS]";
/// End-of-sequence token (id 2).
pub const EOS: &str = "[EOS]";
/// Unknown-word token (id 3).
pub const UNK: &str = "[UNK]";
/// Mask token (id 4).
pub const MASK: &str = "[MASK]";
/// Classifier token (id 5).
pub const CLS: &str = "[CLS]";
/// The special tokens of the word tokenizer, in id order.
pub const SPECIALS: [&str; 6] = [PAD, BOS, EOS, UNK, MASK, CLS];

/// Ids of the special tokens of a tokenizer (`None` where a Hugging Face tokenizer has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialIds {
    /// Padding (0 when the tokenizer defines none).
    pub pad: u32,
    /// Begin of sequence.
    pub bos: Option<u32>,
    /// End of sequence.
    pub eos: Option<u32>,
    /// Unknown.
    pub unk: Option<u32>,
    /// Mask.
    pub mask: Option<u32>,
    /// Classifier.
    pub cls: Option<u32>,
}

impl SpecialIds {
    fn is_special(&self, id: u32) -> bool {
        id == self.pad || [self.bos, self.eos, self.unk, self.mask, self.cls].contains(&Some(id))
    }
}

/// Which special tokens `encode` adds, in the order `[CLS] [BOS] tokens [EOS]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EncodeOptions {
    /// Prepend `[CLS]`.
    pub cls: bool,
    /// Prepend `[BOS]`.
    pub bos: bool,
    /// Append `[EOS]` (kept even when the text is truncated).
    pub eos: bool,
}

impl EncodeOptions {
    /// No special tokens.
    pub fn plain() -> Self {
        Self::default()
    }
    /// `[CLS] tokens` (encoder input with a pooling position).
    pub fn with_cls() -> Self {
        Self {
            cls: true,
            ..Self::default()
        }
    }
    /// `[BOS] tokens` (decoder input).
    pub fn caption_input() -> Self {
        Self {
            bos: true,
            ..Self::default()
        }
    }
    /// `tokens [EOS]` (decoder target).
    pub fn caption_target() -> Self {
        Self {
            eos: true,
            ..Self::default()
        }
    }
}

/// Assembles `[CLS] [BOS] content [EOS]`, truncates the content so everything fits in
/// `max_len`, and pads with `pad`. Returns the ids (length `max_len`) and the number of
/// non-padding positions.
fn assemble(
    content: &[u32],
    max_len: usize,
    opts: EncodeOptions,
    sp: &SpecialIds,
) -> (Vec<u32>, usize) {
    let mut ids = Vec::with_capacity(max_len);
    let head: Vec<u32> = [
        opts.cls.then_some(sp.cls).flatten(),
        opts.bos.then_some(sp.bos).flatten(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let tail = opts.eos.then_some(sp.eos).flatten();
    let room = max_len.saturating_sub(head.len() + tail.is_some() as usize);
    ids.extend(head.iter().take(max_len));
    ids.extend(content.iter().take(room));
    if let Some(e) = tail
        && ids.len() < max_len
    {
        ids.push(e);
    }
    let len = ids.len();
    ids.resize(max_len, sp.pad);
    (ids, len)
}

/// Configuration of [`WordTokenizer::build`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WordTokenizerConfig {
    /// Words seen fewer times are `[UNK]`.
    pub min_freq: usize,
    /// Keep at most this many words (most frequent first), besides the specials.
    pub max_vocab: Option<usize>,
    /// Lower-case before splitting.
    pub lowercase: bool,
}

impl Default for WordTokenizerConfig {
    fn default() -> Self {
        Self {
            min_freq: 1,
            max_vocab: None,
            lowercase: true,
        }
    }
}

/// Splits text into words and single punctuation marks (BERT's basic tokenizer without
/// accent stripping): `"A red, big star."` -> `a red , big star .`.
pub fn basic_tokenize(text: &str, lowercase: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in text.chars() {
        if ch.is_whitespace() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if ch.is_ascii_punctuation() || (!ch.is_alphanumeric() && !ch.is_whitespace()) {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(ch.to_string());
        } else if lowercase {
            cur.extend(ch.to_lowercase());
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A word-level tokenizer: specials first (`[PAD]`=0, `[BOS]`=1, `[EOS]`=2, `[UNK]`=3,
/// `[MASK]`=4, `[CLS]`=5), then the words by decreasing frequency (ties alphabetical).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordTokenizer {
    /// Always `"word"` (tells the format apart from a Hugging Face file).
    #[serde(rename = "type")]
    kind: String,
    lowercase: bool,
    vocab: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl WordTokenizer {
    /// Builds the vocabulary from texts (usually the training captions, side texts and
    /// questions).
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a str>, cfg: &WordTokenizerConfig) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for t in texts {
            for w in basic_tokenize(t, cfg.lowercase) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(w, n)| *n >= cfg.min_freq && !SPECIALS.contains(&w.as_str()))
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if let Some(m) = cfg.max_vocab {
            words.truncate(m);
        }
        let vocab: Vec<String> = SPECIALS
            .iter()
            .map(|s| s.to_string())
            .chain(words.into_iter().map(|(w, _)| w))
            .collect();
        Self::from_vocab(vocab, cfg.lowercase)
    }

    fn from_vocab(vocab: Vec<String>, lowercase: bool) -> Self {
        let index = vocab
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Self {
            kind: "word".to_string(),
            lowercase,
            vocab,
            index,
        }
    }

    /// Number of tokens, specials included.
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The special ids (all defined).
    pub fn specials(&self) -> SpecialIds {
        SpecialIds {
            pad: 0,
            bos: Some(1),
            eos: Some(2),
            unk: Some(3),
            mask: Some(4),
            cls: Some(5),
        }
    }

    /// Id of a word, `[UNK]`'s for unknown words.
    pub fn token_id(&self, word: &str) -> u32 {
        self.index.get(word).copied().unwrap_or(3)
    }

    /// The token of an id.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.vocab.get(id as usize).map(String::as_str)
    }

    /// Encodes to exactly `max_len` ids; returns the ids and the non-padding length.
    pub fn encode(&self, text: &str, max_len: usize, opts: EncodeOptions) -> (Vec<u32>, usize) {
        let content: Vec<u32> = basic_tokenize(text, self.lowercase)
            .iter()
            .map(|w| self.token_id(w))
            .collect();
        assemble(&content, max_len, opts, &self.specials())
    }

    /// Decodes up to the first `[EOS]`, skipping special tokens; punctuation attaches to the
    /// previous word.
    pub fn decode(&self, ids: &[u32]) -> String {
        let sp = self.specials();
        let mut out = String::new();
        for &id in ids {
            if Some(id) == sp.eos {
                break;
            }
            if sp.is_special(id) {
                continue;
            }
            let Some(w) = self.token(id) else { continue };
            let punct = w.chars().count() == 1 && w.chars().all(|c| c.is_ascii_punctuation());
            if !out.is_empty() && !punct {
                out.push(' ');
            }
            out.push_str(w);
        }
        out
    }

    /// Saves as JSON (`{"type": "word", "lowercase": ..., "vocab": [...]}`).
    ///
    /// # Errors
    ///
    /// [`DataError::Io`] when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| DataError::Tokenizer {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text).map_err(|e| DataError::io(path, "write", e))
    }

    /// Loads a tokenizer saved by [`WordTokenizer::save`].
    ///
    /// # Errors
    ///
    /// [`DataError::Io`], [`DataError::Json`], or [`DataError::Tokenizer`] when the specials
    /// are not in their places.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = crate::karpathy::read_to_string(path)?;
        let raw: WordTokenizer = serde_json::from_str(&text).map_err(|e| {
            DataError::json(
                path,
                "a word tokenizer {\"type\": \"word\", \"lowercase\", \"vocab\"}",
                &e,
            )
        })?;
        if raw.kind != "word" || raw.vocab.len() < SPECIALS.len() || raw.vocab[..6] != SPECIALS {
            return Err(DataError::Tokenizer {
                path: path.to_path_buf(),
                message: format!("expected type \"word\" and a vocab starting with {SPECIALS:?}"),
            });
        }
        check_vocab(path, raw.vocab.len())?;
        Ok(Self::from_vocab(raw.vocab, raw.lowercase))
    }
}

/// A Hugging Face tokenizer (`tokenizer.json`), with its special tokens found by their usual
/// names (`[PAD]`/`<pad>`, `[CLS]`/`<s>`, `[SEP]`/`</s>`/`<|endoftext|>`, ...).
#[derive(Debug, Clone)]
pub struct HfTokenizer {
    inner: tokenizers::Tokenizer,
    specials: SpecialIds,
    path: PathBuf,
    /// Highest token id + 1.
    rows: usize,
}

impl HfTokenizer {
    /// Loads a `tokenizer.json`.
    ///
    /// # Errors
    ///
    /// [`DataError::Tokenizer`] when the file cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = crate::karpathy::read_to_string(path)?;
        let fail = |message: String| DataError::Tokenizer {
            path: path.to_path_buf(),
            message,
        };
        let inner = no_panic(|| text.parse::<tokenizers::Tokenizer>())
            .map_err(&fail)?
            .map_err(|e| fail(e.to_string()))?;
        // Ids need not be dense (an added token may sit far above the model's vocabulary): the
        // embedding needs a row for the highest id.
        let rows = inner
            .get_vocab(true)
            .values()
            .map(|&id| id as u64 + 1)
            .max()
            .unwrap_or(0);
        check_vocab(path, rows.min(usize::MAX as u64) as usize)?;
        if rows == 0 {
            return Err(fail("the tokenizer has no tokens".into()));
        }
        let find = |names: &[&str]| names.iter().find_map(|n| inner.token_to_id(n));
        let specials = SpecialIds {
            pad: find(&["[PAD]", "<pad>", "<|pad|>"]).unwrap_or(0),
            bos: find(&["[BOS]", "<s>", "<bos>", "<|startoftext|>", "[CLS]"]),
            eos: find(&["[EOS]", "</s>", "<eos>", "<|endoftext|>", "[SEP]"]),
            unk: find(&["[UNK]", "<unk>", "<|unk|>"]),
            mask: find(&["[MASK]", "<mask>"]),
            cls: find(&["[CLS]", "<s>", "<|startoftext|>"]),
        };
        Ok(Self {
            inner,
            specials,
            path: path.to_path_buf(),
            rows: rows as usize,
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The wrapped tokenizer.
    pub fn inner(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Number of embedding rows the ids need: the highest token id + 1, added tokens
    /// included (every id `encode` returns is below it).
    pub fn vocab_size(&self) -> usize {
        self.rows
    }

    /// The special ids found.
    pub fn specials(&self) -> SpecialIds {
        self.specials
    }

    /// Encodes to exactly `max_len` ids (the tokenizer's own post-processor is not run; the
    /// options decide the specials). Text the tokenizer rejects encodes to no tokens.
    pub fn encode(&self, text: &str, max_len: usize, opts: EncodeOptions) -> (Vec<u32>, usize) {
        let mut content = no_panic(|| self.inner.encode(text, false))
            .ok()
            .and_then(Result::ok)
            .map(|e| e.get_ids().to_vec())
            .unwrap_or_default();
        content.retain(|&id| (id as usize) < self.rows);
        assemble(&content, max_len, opts, &self.specials)
    }

    /// Decodes up to the first end token, skipping special tokens.
    pub fn decode(&self, ids: &[u32]) -> String {
        let end = ids
            .iter()
            .position(|&i| Some(i) == self.specials.eos)
            .unwrap_or(ids.len());
        let kept: Vec<u32> = ids[..end]
            .iter()
            .copied()
            .filter(|&i| !self.specials.is_special(i))
            .collect();
        no_panic(|| self.inner.decode(&kept, true))
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default()
    }
}

/// Runs a call into the `tokenizers` crate, turning a panic on a hostile tokenizer file into
/// an error message.
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the tokenizers crate failed".into())
    })
}

/// Checks a tokenizer's size against [`mafs_core::limits::Limits::max_vocab`].
fn check_vocab(path: &Path, rows: usize) -> Result<(), DataError> {
    let limit = mafs_core::limits::current().max_vocab;
    if rows > limit {
        return Err(DataError::LimitExceeded {
            context: format!("{}: tokenizer", path.display()),
            what: "vocabulary size (highest token id + 1)",
            value: rows as u64,
            limit: limit as u64,
            flag: "--max-vocab / MAFS_MAX_VOCAB",
        });
    }
    Ok(())
}

/// A tokenizer of either kind, with one API.
#[derive(Debug, Clone)]
pub enum TextTokenizer {
    /// The built-in word-level tokenizer.
    Word(WordTokenizer),
    /// A Hugging Face `tokenizer.json` (boxed: it is much larger than the word tokenizer).
    HuggingFace(Box<HfTokenizer>),
}

impl TextTokenizer {
    /// Loads a tokenizer file: a word tokenizer (`"type": "word"`) or a Hugging Face
    /// `tokenizer.json`.
    ///
    /// # Errors
    ///
    /// As [`WordTokenizer::load`] and [`HfTokenizer::load`].
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = crate::karpathy::read_to_string(path)?;
        #[derive(Deserialize)]
        struct Kind {
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        let kind = serde_json::from_str::<Kind>(&text)
            .map_err(|e| DataError::json(path, "a tokenizer JSON file", &e))?;
        if kind.kind.as_deref() == Some("word") {
            WordTokenizer::load(path).map(TextTokenizer::Word)
        } else {
            HfTokenizer::load(path).map(|t| TextTokenizer::HuggingFace(Box::new(t)))
        }
    }

    /// Number of tokens.
    pub fn vocab_size(&self) -> usize {
        match self {
            TextTokenizer::Word(t) => t.vocab_size(),
            TextTokenizer::HuggingFace(t) => t.vocab_size(),
        }
    }

    /// The special ids.
    pub fn specials(&self) -> SpecialIds {
        match self {
            TextTokenizer::Word(t) => t.specials(),
            TextTokenizer::HuggingFace(t) => t.specials(),
        }
    }

    /// Padding id.
    pub fn pad_id(&self) -> u32 {
        self.specials().pad
    }

    /// Encodes to exactly `max_len` ids; returns the ids and the non-padding length.
    pub fn encode(&self, text: &str, max_len: usize, opts: EncodeOptions) -> (Vec<u32>, usize) {
        match self {
            TextTokenizer::Word(t) => t.encode(text, max_len, opts),
            TextTokenizer::HuggingFace(t) => t.encode(text, max_len, opts),
        }
    }

    /// Decodes up to the first end token, skipping special tokens.
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            TextTokenizer::Word(t) => t.decode(ids),
            TextTokenizer::HuggingFace(t) => t.decode(ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word() -> WordTokenizer {
        WordTokenizer::build(
            [
                "A red circle.",
                "A red star, left of a blue square.",
                "rare",
            ],
            &WordTokenizerConfig {
                min_freq: 1,
                ..WordTokenizerConfig::default()
            },
        )
    }

    #[test]
    fn specials_come_first_and_frequent_words_next() {
        let t = word();
        for (i, s) in SPECIALS.iter().enumerate() {
            assert_eq!(t.token(i as u32), Some(*s));
        }
        assert_eq!(t.token(6), Some("a"));
        let t2 = WordTokenizer::build(
            ["a a b", "a c"],
            &WordTokenizerConfig {
                min_freq: 2,
                ..WordTokenizerConfig::default()
            },
        );
        assert_eq!(t2.vocab_size(), 7);
        assert_eq!(t2.token_id("b"), 3);
    }

    #[test]
    fn encode_pads_truncates_and_adds_specials() {
        let t = word();
        let (ids, len) = t.encode(
            "A RED circle!",
            8,
            EncodeOptions {
                cls: true,
                bos: true,
                eos: true,
            },
        );
        assert_eq!(len, 7);
        assert_eq!(ids[..2], [5, 1]);
        assert_eq!(ids[5], 3, "`!` is unknown");
        assert_eq!(ids[6], 2);
        assert_eq!(ids[7], 0);
        let (ids, len) = t.encode(
            "a red star left of a blue square",
            4,
            EncodeOptions::caption_target(),
        );
        assert_eq!(len, 4);
        assert_eq!(ids[3], 2, "EOS survives truncation");
        let (ids, len) = t.encode("", 3, EncodeOptions::plain());
        assert_eq!((ids, len), (vec![0, 0, 0], 0));
    }

    #[test]
    fn decode_stops_at_eos_and_skips_specials() {
        let t = word();
        let (ids, _) = t.encode(
            "A red star, left of a blue square.",
            16,
            EncodeOptions::caption_input(),
        );
        assert_eq!(t.decode(&ids), "a red star, left of a blue square.");
        let mut ids = ids;
        ids[3] = 2;
        assert_eq!(t.decode(&ids), "a red");
    }

    #[test]
    fn word_tokenizer_json_round_trip_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok.json");
        let t = word();
        t.save(&p).unwrap();
        let back = WordTokenizer::load(&p).unwrap();
        assert_eq!(back, t);
        let any = TextTokenizer::load(&p).unwrap();
        assert!(matches!(any, TextTokenizer::Word(_)));
        std::fs::write(&p, r#"{"type": "word", "lowercase": true, "vocab": ["a"]}"#).unwrap();
        assert!(matches!(
            WordTokenizer::load(&p),
            Err(DataError::Tokenizer { .. })
        ));
        std::fs::write(&p, r#"{"type": "word", "vocab": ["#).unwrap();
        assert!(matches!(
            WordTokenizer::load(&p),
            Err(DataError::Json {
                truncated: true,
                ..
            })
        ));
    }

    #[test]
    fn hugging_face_tokenizer_through_the_same_api() {
        use tokenizers::models::wordlevel::WordLevel;
        use tokenizers::pre_tokenizers::whitespace::Whitespace;
        let dir = tempfile::tempdir().unwrap();
        let vocab: HashMap<&str, u32> = [
            ("<pad>", 0),
            ("<unk>", 1),
            ("<s>", 2),
            ("</s>", 3),
            ("a", 4),
            ("red", 5),
            ("circle", 6),
        ]
        .into_iter()
        .collect();
        let vpath = dir.path().join("vocab.json");
        std::fs::write(&vpath, serde_json::to_string(&vocab).unwrap()).unwrap();
        let model = WordLevel::from_file(vpath.to_str().unwrap(), "<unk>".to_string()).unwrap();
        let mut hf = tokenizers::Tokenizer::new(model);
        hf.with_pre_tokenizer(Some(Whitespace {}));
        hf.add_special_tokens(&[
            tokenizers::AddedToken::from("<pad>", true),
            tokenizers::AddedToken::from("<s>", true),
            tokenizers::AddedToken::from("</s>", true),
        ]);
        let path = dir.path().join("tokenizer.json");
        hf.save(&path, false).unwrap();
        let tok = TextTokenizer::load(&path).unwrap();
        assert!(matches!(tok, TextTokenizer::HuggingFace(_)));
        let sp = tok.specials();
        assert_eq!(
            (sp.pad, sp.bos, sp.eos, sp.unk),
            (0, Some(2), Some(3), Some(1))
        );
        let (ids, len) = tok.encode(
            "a red blob",
            6,
            EncodeOptions {
                cls: false,
                bos: true,
                eos: true,
            },
        );
        assert_eq!(ids, vec![2, 4, 5, 1, 3, 0]);
        assert_eq!(len, 5);
        assert_eq!(tok.decode(&[2, 4, 5, 6, 3, 4]), "a red circle");
        // ids need not be dense: the embedding needs a row for the highest one
        let mut json: serde_json::Value =
            serde_json::from_str(&hf.to_string(false).unwrap()).unwrap();
        json["model"]["vocab"]["circle"] = 5000.into();
        std::fs::write(&path, json.to_string()).unwrap();
        let sparse = HfTokenizer::load(&path).unwrap();
        assert_eq!(sparse.vocab_size(), 5001);
        let (ids, _) = sparse.encode("a circle", 4, EncodeOptions::plain());
        assert_eq!(ids[..2], [4, 5000]);
        json["model"]["vocab"]["circle"] = 4_000_000_000u64.into();
        std::fs::write(&path, json.to_string()).unwrap();
        let err = HfTokenizer::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("4000000001") && err.contains("--max-vocab"),
            "{err}"
        );
        std::fs::write(&path, "{\"model\": 3}").unwrap();
        assert!(matches!(
            HfTokenizer::load(&path),
            Err(DataError::Tokenizer { .. })
        ));
    }
}
