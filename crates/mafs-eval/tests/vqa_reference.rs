//! VQA accuracy against the official vqaEval.py logic on the committed fixtures
//! (`scripts/metrics_reference.py`).

mod common;

use mafs_eval::metrics::evaluate_vqa_files;
use mafs_eval::metrics::vqa::{normalize_predicted_answer, round_half_even};

fn files() -> mafs_eval::metrics::VqaMetrics {
    evaluate_vqa_files(
        &common::fixture("vqa_results.json"),
        &common::fixture("vqa_questions.json"),
        &common::fixture("vqa_annotations.json"),
    )
    .expect("fixtures evaluate")
}

#[test]
fn overall_and_per_type_accuracy_match_vqa_eval() {
    let reference = common::json("vqa_reference.json");
    let m = files();
    let un = &reference["unrounded"];
    assert!((m.overall - un["overall"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(
        round_half_even(m.overall, 2),
        reference["accuracy"]["overall"].as_f64().unwrap()
    );
    for (key, got) in [
        ("perAnswerType", &m.per_answer_type),
        ("perQuestionType", &m.per_question_type),
    ] {
        let want = un[key].as_object().unwrap();
        assert_eq!(got.len(), want.len(), "{key}");
        for (t, w) in want {
            let g = got[t];
            assert!(
                (g - w.as_f64().unwrap()).abs() < 1e-9,
                "{key} {t}: {g} vs {w}"
            );
            assert_eq!(
                round_half_even(g, 2),
                reference["accuracy"][key][t].as_f64().unwrap()
            );
        }
    }
}

#[test]
fn per_question_accuracy_and_normalisation_match_vqa_eval() {
    let reference = common::json("vqa_reference.json");
    let m = files();
    let per_q = reference["per_question"].as_object().unwrap();
    assert_eq!(m.per_question.len(), per_q.len());
    for (q, acc) in &m.per_question {
        let want = per_q[&q.to_string()].as_f64().unwrap();
        assert_eq!(round_half_even(*acc, 2), want, "question {q}");
    }
    let results = common::json("vqa_results.json");
    let processed = reference["processed_answers"].as_object().unwrap();
    for r in results.as_array().unwrap() {
        let q = r["question_id"].to_string();
        assert_eq!(
            normalize_predicted_answer(r["answer"].as_str().unwrap()),
            processed[&q].as_str().unwrap(),
            "question {q}"
        );
    }
}
