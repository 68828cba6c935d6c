//! What "chance" is for each task: blind references computed from the data alone, with the
//! same metrics the models are scored with, so that "well above chance" has a number.
//!
//! - **Retrieval**: the expected R@K of a uniformly random ranking. Text → item: `K / N`.
//!   Item → text with `c` of the `T` captions correct: `1 - C(T - c, K) / C(T, K)`, averaged
//!   over items.
//! - **Captioning**: one constant caption for every image, the most frequent training caption
//!   (ties: the lexicographically first), scored with the COCO metrics.
//! - **VQA**: the answer prior per question type (the most frequent training answer of the
//!   type), and the stronger question prior (the most frequent training answer of the same
//!   question text, falling back to the type prior): what a model that never looks at the
//!   image or the side text can reach. Also the uniform guess over the answer vocabulary.

use std::collections::{BTreeMap, HashMap};

use mafs_data::Instance;
use mafs_eval::metrics::caption::{CaptionSample, CaptionScorer};
use mafs_eval::metrics::vqa::{HumanAnswer, vqa_accuracy};
use serde::Serialize;

use crate::config::Task;
use crate::error::TrainError;

/// One blind reference: its name, what it is, and its metrics (named as the evaluation names
/// them, with `main` the task's headline metric).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reference {
    /// Short name (`random-ranking`, `constant-caption`, `type-prior`, ...).
    pub name: String,
    /// One line saying what it is.
    pub description: String,
    /// Metrics.
    pub metrics: BTreeMap<String, f64>,
}

/// The blind references of `task`: fitted on `train`, scored on `test`.
///
/// # Errors
///
/// [`TrainError::Data`] when `test` has nothing to score (no captions, no questions) or
/// `train` has nothing to fit on.
pub fn references(
    task: Task,
    train: &[Instance],
    test: &[Instance],
) -> Result<Vec<Reference>, TrainError> {
    match task {
        Task::Retrieval => Ok(vec![random_ranking(test)?]),
        Task::Captioning => Ok(vec![constant_caption(train, test)?]),
        Task::Vqa => vqa_priors(train, test),
    }
}

/// `C(n - c, k) / C(n, k)`: the chance that none of `c` marked among `n` is in a random `k`.
fn none_in_top(n: usize, c: usize, k: usize) -> f64 {
    if k >= n {
        return 0.0;
    }
    if c > n - k {
        return 0.0;
    }
    // prod_{i=0}^{k-1} (n - c - i) / (n - i)
    (0..k).fold(1.0, |p, i| p * (n - c - i) as f64 / (n - i) as f64)
}

fn random_ranking(test: &[Instance]) -> Result<Reference, TrainError> {
    let items: Vec<usize> = test
        .iter()
        .map(|i| i.captions.len())
        .filter(|&c| c > 0)
        .collect();
    let n = items.len();
    let t: usize = items.iter().sum();
    if n == 0 {
        return Err(TrainError::Data(
            "retrieval reference: the test split has no captioned items".into(),
        ));
    }
    let mut metrics = BTreeMap::new();
    let mut rsum = 0.0;
    for k in [1usize, 5, 10] {
        let t2i = 100.0 * (k.min(n) as f64) / n as f64;
        let i2t = 100.0
            * items
                .iter()
                .map(|&c| 1.0 - none_in_top(t, c, k))
                .sum::<f64>()
            / n as f64;
        metrics.insert(format!("i2t_r{k}"), i2t);
        metrics.insert(format!("t2i_r{k}"), t2i);
        rsum += i2t + t2i;
    }
    metrics.insert("rsum".into(), rsum);
    metrics.insert("main".into(), rsum);
    Ok(Reference {
        name: "random-ranking".into(),
        description: format!(
            "expected recall of a uniformly random ranking of {n} items and {t} captions"
        ),
        metrics,
    })
}

fn constant_caption(train: &[Instance], test: &[Instance]) -> Result<Reference, TrainError> {
    let caption = majority(
        train
            .iter()
            .flat_map(|i| &i.captions)
            .map(|c| ((), c.clone())),
    )
    .remove(&())
    .ok_or_else(|| {
        TrainError::Data("captioning reference: the training split has no captions".into())
    })?;
    let caption = caption.as_str();
    let samples: Vec<CaptionSample> = test
        .iter()
        .filter(|i| !i.captions.is_empty())
        .map(|i| CaptionSample {
            candidate: caption.to_string(),
            references: i.captions.clone(),
        })
        .collect();
    if samples.is_empty() {
        return Err(TrainError::Data(
            "captioning reference: the test split has no captions".into(),
        ));
    }
    let scores = CaptionScorer::new()
        .score(&samples)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    let mut metrics: BTreeMap<String, f64> = scores
        .named()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    metrics.insert("main".into(), scores.cider);
    Ok(Reference {
        name: "constant-caption".into(),
        description: format!("the most frequent training caption for every image: \"{caption}\""),
        metrics,
    })
}

/// Most frequent value per key (ties: the lexicographically first answer).
fn majority<K: std::hash::Hash + Eq>(
    pairs: impl Iterator<Item = (K, String)>,
) -> HashMap<K, String> {
    let mut counts: HashMap<K, BTreeMap<String, usize>> = HashMap::new();
    for (k, a) in pairs {
        *counts.entry(k).or_default().entry(a).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(k, per)| {
            let best = per
                .iter()
                .fold(None::<(&String, usize)>, |best, (a, &n)| match best {
                    Some((_, bn)) if bn >= n => best,
                    _ => Some((a, n)),
                })
                .map(|(a, _)| a.clone())
                .expect("at least one answer per key");
            (k, best)
        })
        .collect()
}

fn vqa_priors(train: &[Instance], test: &[Instance]) -> Result<Vec<Reference>, TrainError> {
    let train_qs = || train.iter().flat_map(|i| &i.questions);
    let by_type = majority(train_qs().map(|q| (q.question_type.clone(), q.answer.clone())));
    let by_question = majority(train_qs().map(|q| (q.question.to_lowercase(), q.answer.clone())));
    let vocab: std::collections::BTreeSet<&str> = train_qs().map(|q| q.answer.as_str()).collect();
    if vocab.is_empty() {
        return Err(TrainError::Data(
            "VQA reference: the training split has no questions".into(),
        ));
    }
    // The questions the evaluation scores: those whose answer is in the training vocabulary.
    let test_qs: Vec<_> = test
        .iter()
        .flat_map(|i| &i.questions)
        .filter(|q| vocab.contains(q.answer.as_str()))
        .collect();
    if test_qs.is_empty() {
        return Err(TrainError::Data(
            "VQA reference: the test split has no questions with a known answer".into(),
        ));
    }
    let human = |q: &mafs_data::Qa| HumanAnswer::numbered(&q.answers);
    let score = |guess: &dyn Fn(&mafs_data::Qa) -> f64| {
        let mut metrics = BTreeMap::new();
        let mut per_type: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        let mut total = 0.0;
        for q in &test_qs {
            let acc = 100.0 * guess(q);
            total += acc;
            let e = per_type
                .entry(q.question_type.as_str())
                .or_insert((0.0, 0.0));
            e.0 += acc;
            e.1 += 1.0;
        }
        let overall = total / test_qs.len() as f64;
        metrics.insert("accuracy".into(), overall);
        for (t, (s, c)) in per_type {
            metrics.insert(format!("accuracy_{t}"), s / c);
        }
        metrics.insert("main".into(), overall);
        metrics
    };
    let type_prior = |q: &mafs_data::Qa| {
        by_type
            .get(&q.question_type)
            .map_or(0.0, |a| vqa_accuracy(a, &human(q)))
    };
    let question_prior = |q: &mafs_data::Qa| {
        let a = by_question
            .get(&q.question.to_lowercase())
            .or_else(|| by_type.get(&q.question_type));
        a.map_or(0.0, |a| vqa_accuracy(a, &human(q)))
    };
    let uniform = |q: &mafs_data::Qa| {
        let h = human(q);
        vocab.iter().map(|a| vqa_accuracy(a, &h)).sum::<f64>() / vocab.len() as f64
    };
    Ok(vec![
        Reference {
            name: "uniform".into(),
            description: format!(
                "a uniformly random answer from the {} training answers",
                vocab.len()
            ),
            metrics: score(&uniform),
        },
        Reference {
            name: "type-prior".into(),
            description: "the most frequent training answer of the question's type".into(),
            metrics: score(&type_prior),
        },
        Reference {
            name: "question-prior".into(),
            description: "the most frequent training answer of the same question text \
                          (blind: never sees the image or the side text)"
                .into(),
            metrics: score(&question_prior),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use mafs_data::Split;
    use mafs_data::world::{World, WorldConfig};

    fn world(n: usize) -> (Vec<Instance>, Vec<Instance>) {
        let mut cfg = WorldConfig {
            seed: 3,
            image_size: 16,
            ..WorldConfig::default()
        };
        cfg.set_count(Split::Train, n);
        cfg.set_count(Split::Test, n / 2);
        let w = World::new(cfg).unwrap();
        (w.split(Split::Train), w.split(Split::Test))
    }

    #[test]
    fn random_ranking_matches_closed_forms() {
        // 1 - C(T-c, K)/C(T, K) by direct counting for small numbers: T = 6, c = 2, K = 2:
        // C(4,2)/C(6,2) = 6/15.
        assert!((none_in_top(6, 2, 2) - 6.0 / 15.0).abs() < 1e-12);
        assert_eq!(none_in_top(6, 5, 2), 0.0);
        assert_eq!(none_in_top(3, 1, 5), 0.0);
        let (_, test) = world(40);
        let r = random_ranking(&test).unwrap();
        let n = test.len() as f64;
        assert!((r.metrics["t2i_r1"] - 100.0 / n).abs() < 1e-9);
        assert!((r.metrics["t2i_r10"] - 1000.0 / n).abs() < 1e-9);
        // five captions each among 5n: i2t R@1 = 5 / (5n) = 1/n
        assert!((r.metrics["i2t_r1"] - 100.0 / n).abs() < 1e-9);
        // R@5 item -> text with 5 of 5n captions correct: 1 - prod_{i<5} (5n-5-i)/(5n-i)
        let t = 5.0 * n;
        let none: f64 = (0..5)
            .map(|i| (t - 5.0 - i as f64) / (t - i as f64))
            .product();
        assert!((r.metrics["i2t_r5"] - 100.0 * (1.0 - none)).abs() < 1e-9);
        let sum: f64 = ["i2t_r1", "i2t_r5", "i2t_r10", "t2i_r1", "t2i_r5", "t2i_r10"]
            .iter()
            .map(|k| r.metrics[*k])
            .sum();
        assert!((r.metrics["rsum"] - sum).abs() < 1e-9);
    }

    #[test]
    fn vqa_priors_are_ordered_and_below_perfect() {
        let (train, test) = world(300);
        let refs = vqa_priors(&train, &test).unwrap();
        let main = |name: &str| refs.iter().find(|r| r.name == name).unwrap().metrics["main"];
        assert!(main("uniform") < main("type-prior"));
        assert!(main("type-prior") <= main("question-prior") + 1e-9);
        assert!(main("question-prior") < 100.0);
        // yes/no questions: the type prior is right about half the time or better
        let tp = refs.iter().find(|r| r.name == "type-prior").unwrap();
        assert!(tp.metrics["accuracy_exist"] >= 50.0);
    }

    #[test]
    fn constant_caption_scores_low_but_not_zero() {
        let (train, test) = world(60);
        let r = constant_caption(&train, &test).unwrap();
        assert!(r.metrics["main"] < 0.5, "CIDEr-D {}", r.metrics["main"]);
        assert!(r.metrics["Bleu_1"] > 0.0);
        assert!(r.description.contains('"'));
    }

    #[test]
    fn empty_splits_are_named_errors() {
        let (train, _) = world(10);
        let e = references(Task::Vqa, &[], &train).unwrap_err().to_string();
        assert!(e.contains("training split"), "{e}");
        let e = references(Task::Retrieval, &train, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("test split"), "{e}");
    }
}
