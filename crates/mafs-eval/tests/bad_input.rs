//! Bad input files give typed errors that name the file and the record.

mod common;

use std::path::{Path, PathBuf};

use mafs_eval::MetricsError;
use mafs_eval::metrics::{ImageSet, evaluate_caption_files, evaluate_vqa_files};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn caption_err(results: &str) -> (PathBuf, MetricsError) {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "results.json", results);
    let err = evaluate_caption_files(
        &r,
        &common::fixture("captions_annotations.json"),
        ImageSet::AllAnnotated,
    )
    .unwrap_err();
    // Keep the directory alive until here.
    let p = r.clone();
    drop(dir);
    (p, err)
}

#[test]
fn malformed_json_names_the_file() {
    let (p, err) = caption_err(r#"[{"image_id": 1001, "caption": "x"}"#);
    assert!(
        matches!(&err, MetricsError::Json { path, .. } if *path == p),
        "{err:?}"
    );
    assert!(err.to_string().contains("results.json"));
}

#[test]
fn record_with_a_missing_field_is_named() {
    let (_, err) = caption_err(r#"[{"image_id": 1001}]"#);
    match err {
        MetricsError::Record {
            record, message, ..
        } => {
            assert_eq!(record, "results[0]");
            assert!(message.contains("caption"), "{message}");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn result_for_an_unknown_image_is_rejected() {
    let (_, err) = caption_err(r#"[{"image_id": 424242, "caption": "x"}]"#);
    let msg = err.to_string();
    assert!(
        msg.contains("results[0]") && msg.contains("424242"),
        "{msg}"
    );
}

#[test]
fn missing_and_duplicate_results_are_rejected() {
    let (_, err) = caption_err(r#"[{"image_id": 1001, "caption": "x"}]"#);
    assert!(
        matches!(
            err,
            MetricsError::MissingResults {
                count: 39,
                total: 40,
                ..
            }
        ),
        "{err:?}"
    );
    let (_, err) =
        caption_err(r#"[{"image_id": 1001, "caption": "x"}, {"image_id": 1001, "caption": "y"}]"#);
    assert!(err.to_string().contains("results[1]"), "{err}");
}

#[test]
fn subset_evaluation_needs_only_the_results_given() {
    let dir = tempfile::tempdir().unwrap();
    let r = write(
        dir.path(),
        "results.json",
        r#"[{"image_id": 1001, "caption": "a man riding a wave on a surfboard"}]"#,
    );
    let m = evaluate_caption_files(
        &r,
        &common::fixture("captions_annotations.json"),
        ImageSet::WithResults,
    )
    .unwrap();
    assert_eq!(m.per_item.len(), 1);
    assert!(m.bleu[0] > 0.5);
}

fn vqa_err(results: &str, questions: Option<&str>) -> MetricsError {
    let dir = tempfile::tempdir().unwrap();
    let r = write(dir.path(), "results.json", results);
    let q = match questions {
        Some(q) => write(dir.path(), "questions.json", q),
        None => common::fixture("vqa_questions.json"),
    };
    evaluate_vqa_files(&r, &q, &common::fixture("vqa_annotations.json")).unwrap_err()
}

#[test]
fn vqa_unknown_missing_and_duplicate_questions_are_rejected() {
    let err = vqa_err(r#"[{"question_id": 1, "answer": "yes"}]"#, None);
    assert!(
        err.to_string().contains("results[0] (question_id 1)"),
        "{err}"
    );
    let err = vqa_err(r#"[{"question_id": 9000, "answer": "yes"}]"#, None);
    assert!(
        matches!(
            err,
            MetricsError::MissingResults {
                count: 41,
                total: 42,
                ..
            }
        ),
        "{err:?}"
    );
    let err = vqa_err(
        r#"[{"question_id": 9000, "answer": "yes"}, {"question_id": 9000, "answer": "no"}]"#,
        None,
    );
    assert!(err.to_string().contains("results[1]"), "{err}");
    let err = vqa_err(r#"{"question_id": 9000}"#, None);
    assert!(err.to_string().contains("expected a JSON array"), "{err}");
}

#[test]
fn vqa_multiple_choice_answers_must_be_choices() {
    let questions = r#"{"task_type": "Multiple Choice", "questions": [
        {"question_id": 9000, "image_id": 500, "question": "?", "multiple_choices": ["yes", "no"]}
    ]}"#;
    let err = vqa_err(
        r#"[{"question_id": 9000, "answer": "maybe"}]"#,
        Some(questions),
    );
    assert!(err.to_string().contains("multiple choices"), "{err}");
}
