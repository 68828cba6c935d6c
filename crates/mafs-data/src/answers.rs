//! The VQA answer vocabulary: the top-k most frequent (normalised) answers of the training
//! split, `answer -> id`, and the soft targets VQA models train on. Answers are normalised
//! by [`normalize_answer`], the normalisation of the official VQA evaluation.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{DataError, Instance};

/// The answer id unknown answers get when the vocabulary has an unknown class.
pub const UNKNOWN_ANSWER: &str = "<unk>";

/// The answer normalisation of the vocabulary and of the soft targets: the workspace's one
/// VQA answer normalisation, `vqaEval.py`'s processing of a predicted answer (punctuation,
/// number words to digits, articles dropped, contractions restored), the same function
/// mafs-eval's VQA accuracy applies, so a class is exactly the string the scorer compares.
pub use mafs_core::vqa_answer::normalize_answer;

/// The answer vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerVocab {
    answers: Vec<String>,
    /// Id 0 is [`UNKNOWN_ANSWER`] and unknown answers map to it.
    with_unknown: bool,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl AnswerVocab {
    /// The `top_k` most frequent normalised `answer`s (VQA's `multiple_choice_answer`) of
    /// the questions of `instances` (pass the training split), ties broken alphabetically.
    /// With `with_unknown`, id 0 is [`UNKNOWN_ANSWER`] and `top_k` answers follow.
    pub fn from_instances(instances: &[Instance], top_k: usize, with_unknown: bool) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for inst in instances {
            for q in &inst.questions {
                let a = normalize_answer(&q.answer);
                if !a.is_empty() {
                    *counts.entry(a).or_default() += 1;
                }
            }
        }
        let mut list: Vec<(String, usize)> = counts.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(top_k);
        let answers: Vec<String> = with_unknown
            .then(|| UNKNOWN_ANSWER.to_string())
            .into_iter()
            .chain(list.into_iter().map(|(a, _)| a))
            .collect();
        Self::from_list(answers, with_unknown)
    }

    fn from_list(answers: Vec<String>, with_unknown: bool) -> Self {
        let index = answers
            .iter()
            .enumerate()
            .map(|(i, a)| (a.clone(), i as u32))
            .collect();
        Self {
            answers,
            with_unknown,
            index,
        }
    }

    /// Number of classes (the unknown class included).
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether there are no classes.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// Whether unknown answers map to class 0.
    pub fn has_unknown(&self) -> bool {
        self.with_unknown
    }

    /// The class of an answer (normalised first); unknown answers give the unknown class or
    /// `None`.
    pub fn id(&self, answer: &str) -> Option<u32> {
        self.index
            .get(&normalize_answer(answer))
            .copied()
            .or(self.with_unknown.then_some(0))
    }

    /// The answer of a class.
    pub fn answer(&self, id: u32) -> Option<&str> {
        self.answers.get(id as usize).map(String::as_str)
    }

    /// VQA soft scores of the human answers: `min(count / 3, 1)` per answer class that
    /// occurs (unknown answers are left out).
    pub fn soft_scores(&self, human_answers: &[String]) -> Vec<(u32, f32)> {
        let mut counts: Vec<(u32, usize)> = Vec::new();
        for a in human_answers {
            let Some(&id) = self.index.get(&normalize_answer(a)) else {
                continue;
            };
            if self.with_unknown && id == 0 {
                continue;
            }
            match counts.iter_mut().find(|(i, _)| *i == id) {
                Some((_, n)) => *n += 1,
                None => counts.push((id, 1)),
            }
        }
        counts
            .into_iter()
            .map(|(i, n)| (i, (n as f32 / 3.0).min(1.0)))
            .collect()
    }

    /// Saves as JSON.
    ///
    /// # Errors
    ///
    /// [`DataError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), DataError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| DataError::Io {
            path: path.to_path_buf(),
            action: "serialise JSON",
            source: std::io::Error::other(e),
        })?;
        std::fs::write(path, text).map_err(|e| DataError::io(path, "write", e))
    }

    /// Loads a vocabulary saved by [`AnswerVocab::save`].
    ///
    /// # Errors
    ///
    /// [`DataError::Io`], [`DataError::Json`].
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = crate::karpathy::read_to_string(path)?;
        let raw: AnswerVocab = serde_json::from_str(&text).map_err(|e| {
            DataError::json(
                path,
                "an answer vocabulary {\"answers\": [...], \"with_unknown\"}",
                &e,
            )
        })?;
        Ok(Self::from_list(raw.answers, raw.with_unknown))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{World, WorldConfig};

    #[test]
    fn vocabulary_classes_are_the_normalised_answers() {
        let inst = |answers: &[&str]| {
            let mut i = World::new(WorldConfig::tiny(1, 1))
                .unwrap()
                .split(crate::Split::Train)[0]
                .clone();
            i.questions.truncate(1);
            i.questions[0].answers = answers.iter().map(|s| s.to_string()).collect();
            i.questions[0].answer = answers[0].to_string();
            i
        };
        let train = [
            inst(&["ten"]),
            inst(&["10"]),
            inst(&["dont"]),
            inst(&["The Red."]),
        ];
        let v = AnswerVocab::from_instances(&train, 10, false);
        assert_eq!(v.len(), 3, "ten and 10 are one class");
        assert_eq!(v.id("ten"), v.id("10"));
        assert_eq!(v.answer(v.id("ten").unwrap()), Some("10"));
        assert_eq!(v.answer(v.id("don't").unwrap()), Some("don't"));
        assert_eq!(v.answer(v.id("red").unwrap()), Some("red"));
        let humans: Vec<String> = ["ten", "10", "Ten!"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(v.soft_scores(&humans), vec![(v.id("10").unwrap(), 1.0)]);
    }

    #[test]
    fn vocab_from_world_scores_and_round_trips() {
        let world = World::new(WorldConfig::tiny(60, 1)).unwrap();
        let train = world.split(crate::Split::Train);
        let v = AnswerVocab::from_instances(&train, 10, true);
        assert_eq!(v.len(), 11);
        assert_eq!(v.answer(0), Some(UNKNOWN_ANSWER));
        assert!(v.id("yes").unwrap() > 0);
        assert_eq!(v.id("definitely not an answer"), Some(0));
        let strict = AnswerVocab::from_instances(&train, 10, false);
        assert_eq!(strict.id("definitely not an answer"), None);
        let humans: Vec<String> = ["yes", "yes", "no", "yes", "yes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = v.soft_scores(&humans);
        let yes = v.id("yes").unwrap();
        let no = v.id("no").unwrap();
        assert!(s.contains(&(yes, 1.0)));
        assert!(
            s.iter()
                .any(|&(i, x)| i == no && (x - 1.0 / 3.0).abs() < 1e-6)
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("answers.json");
        v.save(&p).unwrap();
        assert_eq!(AnswerVocab::load(&p).unwrap(), v);
    }
}
