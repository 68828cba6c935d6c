//! Dataset statistics: sizes, caption and question counts, and answer balance per question
//! type (the histogram of `answer` for each `question_type`).

use std::collections::BTreeMap;

use crate::{Instance, Split};

/// Histogram of answers for each question type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnswerBalance {
    /// `question_type -> answer -> count`.
    pub per_type: BTreeMap<String, BTreeMap<String, usize>>,
}

impl AnswerBalance {
    /// Share of `answer` among the questions of `qtype` (0 when there are none).
    pub fn share(&self, qtype: &str, answer: &str) -> f64 {
        let Some(h) = self.per_type.get(qtype) else {
            return 0.0;
        };
        let total: usize = h.values().sum();
        if total == 0 {
            return 0.0;
        }
        *h.get(answer).unwrap_or(&0) as f64 / total as f64
    }

    /// Number of questions of a type.
    pub fn total(&self, qtype: &str) -> usize {
        self.per_type
            .get(qtype)
            .map(|h| h.values().sum())
            .unwrap_or(0)
    }

    /// Share of the most frequent answer of a type (the accuracy of always answering it).
    pub fn majority_share(&self, qtype: &str) -> f64 {
        let Some(h) = self.per_type.get(qtype) else {
            return 0.0;
        };
        let total: usize = h.values().sum();
        let max = h.values().copied().max().unwrap_or(0);
        if total == 0 {
            0.0
        } else {
            max as f64 / total as f64
        }
    }
}

/// The answer balance of the questions of `instances`.
pub fn answer_balance(instances: &[Instance]) -> AnswerBalance {
    let mut b = AnswerBalance::default();
    for inst in instances {
        for q in &inst.questions {
            *b.per_type
                .entry(q.question_type.clone())
                .or_default()
                .entry(q.answer.clone())
                .or_default() += 1;
        }
    }
    b
}

impl std::fmt::Display for AnswerBalance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (t, h) in &self.per_type {
            let total: usize = h.values().sum();
            let mut items: Vec<(&String, &usize)> = h.iter().collect();
            items.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            write!(
                f,
                "{t:<10} n={total:<6} majority {:>5.1}% |",
                100.0 * self.majority_share(t)
            )?;
            for (a, n) in items {
                write!(f, " {a} {:.1}%", 100.0 * *n as f64 / total as f64)?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Sizes of one split.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SplitStats {
    /// Instances.
    pub instances: usize,
    /// Instances with an image.
    pub with_image: usize,
    /// Instances with a side text.
    pub with_side_text: usize,
    /// Captions.
    pub captions: usize,
    /// Questions.
    pub questions: usize,
    /// Mean caption length in words.
    pub mean_caption_words: f64,
    /// Distinct caption strings.
    pub distinct_captions: usize,
}

/// Per-split sizes.
pub fn split_stats(instances: &[Instance]) -> BTreeMap<Split, SplitStats> {
    let mut out: BTreeMap<Split, SplitStats> = BTreeMap::new();
    let mut words: BTreeMap<Split, usize> = BTreeMap::new();
    let mut distinct: BTreeMap<Split, std::collections::HashSet<&str>> = BTreeMap::new();
    for inst in instances {
        let s = out.entry(inst.split).or_default();
        s.instances += 1;
        s.with_image += inst.image.is_some() as usize;
        s.with_side_text += inst.side_text.is_some() as usize;
        s.captions += inst.captions.len();
        s.questions += inst.questions.len();
        *words.entry(inst.split).or_default() += inst
            .captions
            .iter()
            .map(|c| c.split_whitespace().count())
            .sum::<usize>();
        distinct
            .entry(inst.split)
            .or_default()
            .extend(inst.captions.iter().map(String::as_str));
    }
    for (split, s) in out.iter_mut() {
        if s.captions > 0 {
            s.mean_caption_words = words[split] as f64 / s.captions as f64;
        }
        s.distinct_captions = distinct.get(split).map(|d| d.len()).unwrap_or(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::{World, WorldConfig};

    #[test]
    fn world_answers_are_balanced() {
        let w = World::new(WorldConfig::tiny(400, 0)).unwrap();
        let train = w.split(Split::Train);
        let b = answer_balance(&train);
        for t in ["color", "shape", "count", "exist", "relation"] {
            assert!(b.total(t) > 50, "{t}: {}", b.total(t));
        }
        let yes = b.share("exist", "yes");
        assert!((0.42..0.58).contains(&yes), "exist yes share {yes}");
        assert!(b.majority_share("color") < 0.25, "{b}");
        assert!(b.majority_share("shape") < 0.25, "{b}");
        let s = split_stats(&train);
        assert_eq!(s[&Split::Train].instances, 400);
        assert_eq!(s[&Split::Train].captions, 2000);
        assert!(b.to_string().contains("exist"));
    }
}
