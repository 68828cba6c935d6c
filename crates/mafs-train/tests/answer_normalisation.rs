//! The answer vocabulary (mafs-data) and the VQA scorer (mafs-eval) normalise answers the
//! same way, the way the official `vqaEval.py` does: checked on the committed reference
//! cases (`datasets/fixtures/metrics/vqa_results.json`, whose `processed_answers` in
//! `vqa_reference.json` were written by `scripts/metrics_reference.py` with vqaEval.py's own
//! code): number words, articles, punctuation, contractions.

use std::path::PathBuf;

use mafs_data::answers::{AnswerVocab, normalize_answer};
use mafs_data::world::{World, WorldConfig};
use mafs_eval::metrics::vqa::{HumanAnswer, normalize_predicted_answer, vqa_accuracy};

fn fixture(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/fixtures/metrics")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// (raw answer, what vqaEval.py makes of it) for every reference case.
fn reference_cases() -> Vec<(String, String)> {
    let processed = fixture("vqa_reference.json")["processed_answers"].clone();
    fixture("vqa_results.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let q = r["question_id"].to_string();
            let raw = r["answer"].as_str().unwrap().to_string();
            (raw, processed[&q].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn vocabulary_and_scorer_agree_with_vqa_eval() {
    let cases = reference_cases();
    assert!(cases.len() >= 40);
    for want in [
        "10",
        "0",
        "don't know",
        "he's happy",
        "t shirt",
        "slice of pizza",
        "1000",
    ] {
        assert!(cases.iter().any(|(_, p)| p == want), "{want} is a case");
    }
    for (raw, processed) in &cases {
        assert_eq!(&normalize_answer(raw), processed, "vocabulary: {raw:?}");
        assert_eq!(
            &normalize_predicted_answer(raw),
            processed,
            "scorer: {raw:?}"
        );
    }
}

#[test]
fn a_vocabulary_class_scores_full_marks_against_its_own_answer() {
    // The answers as training data: the vocabulary's classes are vqaEval.py's forms, and a
    // predicted class matches ten humans who all gave that form.
    let mut train = World::new(WorldConfig::tiny(1, 1))
        .unwrap()
        .split(mafs_data::Split::Train);
    let template = train[0].questions[0].clone();
    train[0].questions = reference_cases()
        .into_iter()
        .map(|(raw, _)| {
            let mut q = template.clone();
            q.answer = raw.clone();
            q.answers = vec![raw; 10];
            q
        })
        .collect();
    let vocab = AnswerVocab::from_instances(&train, 1000, false);
    for (raw, processed) in reference_cases() {
        let class = vocab.answer(vocab.id(&raw).unwrap()).unwrap();
        assert_eq!(class, processed, "class of {raw:?}");
        let humans = HumanAnswer::numbered(&vec![processed.clone(); 10]);
        assert_eq!(vqa_accuracy(class, &humans), 1.0, "{raw:?}");
    }
}
