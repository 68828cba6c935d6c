//! How much of a dataset a run's vocabulary covers, for evaluating a run on data it was not
//! trained on: the share of text tokens that fall to `[UNK]` under the run's tokenizer, and
//! the share of questions whose answer is outside the run's answer vocabulary (those count
//! as wrong, whatever the model predicts).

use serde::{Deserialize, Serialize};

use crate::Instance;
use crate::answers::AnswerVocab;
use crate::tokenizer::{EncodeOptions, TextTokenizer};

/// Token and answer coverage of some instances.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Coverage {
    /// Texts encoded (captions, side texts, questions).
    pub texts: usize,
    /// Tokens in them (specials excluded).
    pub tokens: usize,
    /// Of which `[UNK]` (0 for tokenizers without one, such as byte-level BPE).
    pub unknown_tokens: usize,
    /// Questions.
    pub questions: usize,
    /// Questions whose majority answer is not in the answer vocabulary.
    pub unknown_answers: usize,
    /// Questions none of whose human answers is in the vocabulary (the model cannot score
    /// on them).
    pub unanswerable: usize,
}

impl Coverage {
    /// Share of tokens that are `[UNK]`, in percent.
    pub fn unknown_token_pct(&self) -> f64 {
        100.0 * self.unknown_tokens as f64 / self.tokens.max(1) as f64
    }

    /// Share of questions whose answer is unknown, in percent.
    pub fn unknown_answer_pct(&self) -> f64 {
        100.0 * self.unknown_answers as f64 / self.questions.max(1) as f64
    }
}

impl std::fmt::Display for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} texts, {} tokens, {} unknown ({:.2}%)",
            self.texts,
            self.tokens,
            self.unknown_tokens,
            self.unknown_token_pct()
        )?;
        if self.questions > 0 {
            write!(
                f,
                "; {} questions, {} with an unknown answer ({:.2}%), {} unanswerable",
                self.questions,
                self.unknown_answers,
                self.unknown_answer_pct(),
                self.unanswerable
            )?;
        }
        Ok(())
    }
}

fn known(vocab: &AnswerVocab, answer: &str) -> bool {
    match vocab.id(answer) {
        None => false,
        Some(0) => !vocab.has_unknown(),
        Some(_) => true,
    }
}

/// The coverage of `instances` by a run's tokenizer and answer vocabulary.
pub fn coverage(
    instances: &[Instance],
    tokenizer: &TextTokenizer,
    answers: &AnswerVocab,
) -> Coverage {
    let unk = tokenizer.specials().unk;
    let mut c = Coverage::default();
    let text = |t: &str, c: &mut Coverage| {
        let (ids, len) = tokenizer.encode(t, 1 << 16, EncodeOptions::plain());
        c.texts += 1;
        c.tokens += len;
        c.unknown_tokens += unk.map_or(0, |u| ids[..len].iter().filter(|&&i| i == u).count());
    };
    for inst in instances {
        for cap in &inst.captions {
            text(cap, &mut c);
        }
        if let Some(s) = &inst.side_text {
            text(s, &mut c);
        }
        for q in &inst.questions {
            text(&q.question, &mut c);
            c.questions += 1;
            if !known(answers, &q.answer) {
                c.unknown_answers += 1;
            }
            if !q.answers.iter().any(|a| known(answers, a)) {
                c.unanswerable += 1;
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::{WordTokenizer, WordTokenizerConfig};
    use crate::world::{World, WorldConfig};

    #[test]
    fn counts_unknown_tokens_and_answers() {
        let world = World::new(WorldConfig::tiny(20, 1)).unwrap();
        let train = world.split(crate::Split::Train);
        let tok = TextTokenizer::Word(WordTokenizer::build(
            ["a red circle"],
            &WordTokenizerConfig::default(),
        ));
        let mut only_yes = train.clone();
        for i in &mut only_yes {
            for q in &mut i.questions {
                q.answer = "yes".into();
                q.answers = vec!["yes".into(); 10];
            }
        }
        let vocab = AnswerVocab::from_instances(&only_yes, 10, true);
        let c = coverage(&train, &tok, &vocab);
        assert!(
            c.tokens > 0 && c.unknown_tokens > 0 && c.unknown_tokens < c.tokens,
            "{c}"
        );
        assert!(c.questions > 0);
        let not_yes = train
            .iter()
            .flat_map(|i| &i.questions)
            .filter(|q| q.answer != "yes")
            .count();
        assert_eq!(c.unknown_answers, not_yes, "{c}");
        let full = coverage(&only_yes, &tok, &vocab);
        assert_eq!(full.unknown_answers, 0);
    }
}
