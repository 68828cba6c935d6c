//! The text side of a run: the tokenizer (a word vocabulary built from the training split,
//! or a Hugging Face `tokenizer.json`) and the VQA answer vocabulary, saved beside the
//! weights as `tokenizer.json` and `answers.json`.

use std::sync::Arc;

use mafs_data::Instance;
use mafs_data::answers::AnswerVocab;
use mafs_data::batcher::word_tokenizer_for;
use mafs_data::tokenizer::{TextTokenizer, WordTokenizerConfig};

use crate::checkpoint::RunDir;
use crate::config::RunConfig;
use crate::error::TrainError;
use crate::model::VocabSizes;

/// The text side of a run: tokenizer and answer vocabulary, saved beside the weights.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// Tokenizer.
    pub tokenizer: Arc<TextTokenizer>,
    /// Answer vocabulary (VQA; empty otherwise).
    pub answers: Arc<AnswerVocab>,
}

impl Vocabulary {
    /// Builds the vocabulary from the training split.
    pub fn build(train: &[Instance], config: &RunConfig) -> Self {
        let cfg = WordTokenizerConfig {
            min_freq: config.min_word_count,
            ..WordTokenizerConfig::default()
        };
        let tokenizer = Arc::new(TextTokenizer::Word(word_tokenizer_for(train, &cfg)));
        let answers = Arc::new(AnswerVocab::from_instances(train, config.max_answers, true));
        Self { tokenizer, answers }
    }

    /// Saves `tokenizer.json` and `answers.json` in the run directory.
    pub fn save(&self, run: &RunDir) -> Result<(), TrainError> {
        let err = |e: mafs_data::DataError| TrainError::Data(e.to_string());
        match self.tokenizer.as_ref() {
            TextTokenizer::Word(w) => w.save(&run.file("tokenizer.json")).map_err(err)?,
            TextTokenizer::HuggingFace(h) => {
                let dest = run.file("tokenizer.json");
                // copying a file onto itself would truncate it
                let same = std::fs::canonicalize(h.path()).ok()
                    == std::fs::canonicalize(&dest).ok()
                    && dest.exists();
                if !same {
                    std::fs::copy(h.path(), &dest).map_err(|e| TrainError::io(h.path(), e))?;
                }
            }
        }
        self.answers.save(&run.file("answers.json")).map_err(err)
    }

    /// Loads them back.
    pub fn load(run: &RunDir) -> Result<Self, TrainError> {
        let err = |e: mafs_data::DataError| TrainError::Data(e.to_string());
        Ok(Self {
            tokenizer: Arc::new(TextTokenizer::load(&run.file("tokenizer.json")).map_err(err)?),
            answers: Arc::new(AnswerVocab::load(&run.file("answers.json")).map_err(err)?),
        })
    }

    /// The sizes the model is built with.
    pub fn sizes(&self) -> VocabSizes {
        let s = self.tokenizer.specials();
        VocabSizes {
            vocab_size: self.tokenizer.vocab_size(),
            n_answers: self.answers.len(),
            bos_id: s.bos.unwrap_or(s.pad),
            eos_id: s.eos.unwrap_or(s.pad),
            has_bos_eos: s.bos.is_some() && s.eos.is_some(),
            pad_id: s.pad,
        }
    }
    /// The run's vocabulary: the `tokenizer.json` of `config.tokenizer` if set, else the
    /// word-level tokenizer built from the training split; the answers from the training
    /// split either way.
    ///
    /// # Errors
    ///
    /// [`TrainError::Data`] naming the tokenizer file if it cannot be loaded.
    pub fn for_run(train: &[Instance], config: &RunConfig) -> Result<Self, TrainError> {
        let Some(path) = &config.tokenizer else {
            return Ok(Self::build(train, config));
        };
        let tokenizer = TextTokenizer::load(path).map_err(|e| TrainError::Data(e.to_string()))?;
        Ok(Self {
            tokenizer: Arc::new(tokenizer),
            answers: Arc::new(AnswerVocab::from_instances(train, config.max_answers, true)),
        })
    }

    /// Whether encoder texts are wrapped in begin and end tokens: with a Hugging Face
    /// tokenizer that has both (CLIP's `<|startoftext|>`/`<|endoftext|>`, BERT's
    /// `[CLS]`/`[SEP]`), as its own post-processor would; the word tokenizer encodes plain
    /// tokens.
    pub fn wraps_text(&self) -> bool {
        let s = self.tokenizer.specials();
        matches!(self.tokenizer.as_ref(), TextTokenizer::HuggingFace(_))
            && s.bos.is_some()
            && s.eos.is_some()
    }
}
