//! VQA accuracy exactly as the official VQA v2 evaluation (`GT-Vision-Lab/VQA`,
//! `PythonEvaluationTools/vqaEvaluation/vqaEval.py`, master) computes it.
//!
//! For each question: the predicted answer has `\n` and `\t` replaced by spaces, is
//! stripped, then goes through `processPunctuation` and `processDigitArticle`. The human
//! answers go through `processPunctuation` only, and only when they are not all identical
//! (`if len(set(gtAnswers)) > 1`). Accuracy is the 10-choose-9 average: for each human
//! answer left out, `min(1, #matches among the others / 3)`, averaged. Overall, per
//! answer type and per question type accuracies are means over questions, in percent.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result};
use super::id::{Id, read_json, records};

pub use mafs_core::vqa_answer::{process_digit_article, process_punctuation};

/// The normalisation applied to a predicted answer before matching: the workspace's one
/// VQA answer normalisation ([`mafs_core::vqa_answer::normalize_answer`]), which the
/// answer vocabulary of mafs-data uses too.
pub use mafs_core::vqa_answer::normalize_answer as normalize_predicted_answer;

/// One human answer of a VQA v2 annotation. Two answers are "the same" (left out together
/// in the 10-choose-9 loop, `item != gtAnsDatum`) when all their fields are equal, as
/// Python's dict comparison does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HumanAnswer {
    /// The answer text.
    pub answer: String,
    /// `answer_confidence` ("yes", "maybe", "no"), if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_confidence: Option<serde_json::Value>,
    /// `answer_id` (1..10), if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_id: Option<serde_json::Value>,
    /// Any other field, kept for the equality test.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl HumanAnswer {
    /// An answer with only its text (as in the built-in world).
    pub fn new(answer: impl Into<String>, answer_id: i64) -> Self {
        Self {
            answer: answer.into(),
            answer_confidence: None,
            answer_id: Some(answer_id.into()),
            extra: BTreeMap::new(),
        }
    }

    /// The human answers of one question, numbered 1, 2, … in order (`answer_id`), as VQA v2
    /// numbers its ten.
    pub fn numbered<S: AsRef<str>>(answers: &[S]) -> Vec<Self> {
        answers
            .iter()
            .enumerate()
            .map(|(j, a)| Self::new(a.as_ref(), j as i64 + 1))
            .collect()
    }
}

/// VQA accuracy in [0, 1] of one predicted answer against the human answers (10 in VQA v2).
///
/// Returns 0 when there are no human answers.
pub fn vqa_accuracy(predicted: &str, human: &[HumanAnswer]) -> f64 {
    if human.is_empty() {
        return 0.0;
    }
    let res = normalize_predicted_answer(predicted);
    let first = &human[0].answer;
    let mut gts: Vec<HumanAnswer> = human.to_vec();
    if human.iter().any(|a| &a.answer != first) {
        for a in &mut gts {
            a.answer = process_punctuation(&a.answer);
        }
    }
    let mut sum = 0.0;
    for datum in &gts {
        let matching = gts
            .iter()
            .filter(|item| *item != datum && item.answer == res)
            .count();
        // acc = min(1, float(len(matchingAns))/3)
        sum += (matching as f64 / 3.0).min(1.0);
    }
    sum / gts.len() as f64
}

/// One VQA v2 annotation (`annotations[i]` of `*_annotations.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct VqaAnnotation {
    /// The question.
    pub question_id: Id,
    /// The image.
    #[serde(default)]
    pub image_id: Option<Id>,
    /// E.g. "what color is the".
    #[serde(default)]
    pub question_type: Option<String>,
    /// "yes/no", "number" or "other".
    #[serde(default)]
    pub answer_type: Option<String>,
    /// The human answers.
    pub answers: Vec<HumanAnswer>,
}

/// A VQA v2 annotation file.
#[derive(Debug, Clone, Deserialize)]
pub struct VqaAnnotationFile {
    /// The annotations.
    pub annotations: Vec<VqaAnnotation>,
}

/// One question of a VQA v2 question file.
#[derive(Debug, Clone, Deserialize)]
pub struct VqaQuestion {
    /// The question.
    pub question_id: Id,
    /// The image.
    #[serde(default)]
    pub image_id: Option<Id>,
    /// The question text.
    #[serde(default)]
    pub question: Option<String>,
    /// The choices of the multiple-choice task.
    #[serde(default)]
    pub multiple_choices: Option<Vec<String>>,
}

/// A VQA v2 question file (`*_questions.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct VqaQuestionFile {
    /// "Open-Ended" or "Multiple Choice".
    #[serde(default)]
    pub task_type: Option<String>,
    /// The questions.
    pub questions: Vec<VqaQuestion>,
}

/// One result (`[{"question_id", "answer"}]`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct VqaResult {
    /// The question.
    pub question_id: Id,
    /// The predicted answer.
    pub answer: String,
}

/// VQA accuracies, in percent, unrounded (`vqaEval.py` rounds to 2 decimals when it
/// reports: see [`round_half_even`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VqaMetrics {
    /// Mean accuracy over questions.
    pub overall: f64,
    /// Mean accuracy per answer type.
    pub per_answer_type: BTreeMap<String, f64>,
    /// Mean accuracy per question type.
    pub per_question_type: BTreeMap<String, f64>,
    /// Accuracy of each question.
    pub per_question: BTreeMap<Id, f64>,
    /// Number of questions evaluated.
    pub n_questions: usize,
}

/// Rounds as Python's `round(x, digits)` does: to the nearest decimal, ties to even, on the
/// exact binary value (Rust's formatting is exact too).
pub fn round_half_even(x: f64, digits: usize) -> f64 {
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// Evaluates results against VQA v2 annotations, as `VQAEval(vqa, vqaRes).evaluate()` does.
///
/// `questions` is only used for the multiple-choice check (`task_type == "Multiple
/// Choice"`: each answer must be one of the question's `multiple_choices`) and to check that
/// the files belong together.
///
/// # Errors
/// A result for an unknown question, a duplicate result, a missing result (the official
/// `loadRes` asserts that the result ids equal the annotation ids), or an answer outside the
/// multiple choices.
pub fn evaluate_vqa(
    annotations: &VqaAnnotationFile,
    questions: Option<&VqaQuestionFile>,
    results: &[VqaResult],
    files: &VqaPaths<'_>,
) -> Result<VqaMetrics> {
    let mut ann_index: HashMap<&Id, &VqaAnnotation> = HashMap::new();
    for (i, a) in annotations.annotations.iter().enumerate() {
        if ann_index.insert(&a.question_id, a).is_some() {
            return Err(record(
                files.annotations,
                format!("annotations[{i}] (question_id {})", a.question_id),
                "duplicate question_id",
            ));
        }
    }
    let q_index: Option<HashMap<&Id, &VqaQuestion>> =
        questions.map(|q| q.questions.iter().map(|q| (&q.question_id, q)).collect());
    let multiple_choice = questions
        .and_then(|q| q.task_type.as_deref())
        .is_some_and(|t| t == "Multiple Choice");

    let mut res_index: HashMap<&Id, &VqaResult> = HashMap::new();
    for (i, r) in results.iter().enumerate() {
        let rec = || format!("results[{i}] (question_id {})", r.question_id);
        if !ann_index.contains_key(&r.question_id) {
            return Err(record(
                files.results,
                rec(),
                "question_id is not in the annotation file",
            ));
        }
        if let Some(qi) = &q_index {
            match qi.get(&r.question_id) {
                None => {
                    return Err(record(
                        files.results,
                        rec(),
                        "question_id is not in the question file",
                    ));
                }
                Some(q) if multiple_choice => {
                    let ok = q
                        .multiple_choices
                        .as_ref()
                        .is_some_and(|c| c.iter().any(|c| c == &r.answer));
                    if !ok {
                        return Err(record(
                            files.results,
                            rec(),
                            "predicted answer is not one of the multiple choices",
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        if res_index.insert(&r.question_id, r).is_some() {
            return Err(record(
                files.results,
                rec(),
                "more than one result for this question",
            ));
        }
    }
    let missing: Vec<&Id> = annotations
        .annotations
        .iter()
        .map(|a| &a.question_id)
        .filter(|q| !res_index.contains_key(q))
        .collect();
    if !missing.is_empty() {
        return Err(MetricsError::MissingResults {
            path: files.results.to_path_buf(),
            what: "questions",
            count: missing.len(),
            total: annotations.annotations.len(),
            first: first_ids(&missing),
        });
    }

    // quesIds = vqa.getQuesIds(): annotation order.
    let mut acc_qa = Vec::with_capacity(annotations.annotations.len());
    let mut per_q = BTreeMap::new();
    let mut by_ans: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_ques: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for a in &annotations.annotations {
        let acc = vqa_accuracy(&res_index[&a.question_id].answer, &a.answers);
        acc_qa.push(acc);
        per_q.insert(a.question_id.clone(), 100.0 * acc);
        let at = a.answer_type.clone().unwrap_or_else(|| "unknown".into());
        let qt = a.question_type.clone().unwrap_or_else(|| "unknown".into());
        by_ans.entry(at).or_default().push(acc);
        by_ques.entry(qt).or_default().push(acc);
    }
    // round(100*float(sum(accQA))/len(accQA), self.n): (100 * sum) / len
    let mean = |v: &[f64]| 100.0 * v.iter().sum::<f64>() / v.len() as f64;
    Ok(VqaMetrics {
        overall: mean(&acc_qa),
        per_answer_type: by_ans.iter().map(|(k, v)| (k.clone(), mean(v))).collect(),
        per_question_type: by_ques.iter().map(|(k, v)| (k.clone(), mean(v))).collect(),
        per_question: per_q,
        n_questions: acc_qa.len(),
    })
}

/// The files of a VQA evaluation, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct VqaPaths<'a> {
    /// The results file.
    pub results: &'a Path,
    /// The question file.
    pub questions: &'a Path,
    /// The annotation file.
    pub annotations: &'a Path,
}

impl VqaPaths<'static> {
    /// Placeholder names for data that did not come from files.
    pub fn in_memory() -> Self {
        Self {
            results: Path::new("<results>"),
            questions: Path::new("<questions>"),
            annotations: Path::new("<annotations>"),
        }
    }
}

fn record(path: &Path, record: String, message: &str) -> MetricsError {
    MetricsError::Record {
        path: path.to_path_buf(),
        record,
        message: message.to_string(),
    }
}

pub(crate) fn first_ids(ids: &[&Id]) -> String {
    let shown: Vec<String> = ids.iter().take(5).map(|i| i.to_string()).collect();
    let more = if ids.len() > 5 { ", ..." } else { "" };
    format!("{}{more}", shown.join(", "))
}

/// Reads the three VQA v2 files and evaluates them ([`evaluate_vqa`]).
///
/// # Errors
/// Unreadable or malformed files, and the errors of [`evaluate_vqa`].
pub fn evaluate_vqa_files(
    results: &Path,
    questions: &Path,
    annotations: &Path,
) -> Result<VqaMetrics> {
    let ann_json = read_json(annotations, "VQA v2 annotation")?;
    let ann = VqaAnnotationFile {
        annotations: records(annotations, &ann_json, Some("annotations"), "annotations")?,
    };
    let q_json = read_json(questions, "VQA v2 question")?;
    let ques = VqaQuestionFile {
        task_type: q_json
            .get("task_type")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string),
        questions: records(questions, &q_json, Some("questions"), "questions")?,
    };
    let res: Vec<VqaResult> = records(
        results,
        &read_json(results, "VQA results")?,
        None,
        "results",
    )?;
    evaluate_vqa(
        &ann,
        Some(&ques),
        &res,
        &VqaPaths {
            results,
            questions,
            annotations,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(list: &[&str]) -> Vec<HumanAnswer> {
        HumanAnswer::numbered(list)
    }

    #[test]
    fn numbered_answers_count_from_one_in_order() {
        let h = HumanAnswer::numbered(&["red".to_string(), "blue".to_string()]);
        assert_eq!(h.len(), 2);
        assert_eq!(
            (h[0].answer.as_str(), h[0].answer_id.clone()),
            ("red", Some(1.into()))
        );
        assert_eq!(
            (h[1].answer.as_str(), h[1].answer_id.clone()),
            ("blue", Some(2.into()))
        );
    }

    #[test]
    fn ten_choose_nine_averaging() {
        // 2 of 10 humans said "cat": leaving out one of those leaves 1 match (1/3), leaving
        // out any other leaves 2 (2/3): (2 * 1/3 + 8 * 2/3) / 10 = 0.6.
        let mut list = vec!["dog"; 8];
        list.extend(["cat", "cat"]);
        let acc = vqa_accuracy("cat", &answers(&list));
        assert!((acc - 0.6).abs() < 1e-12, "{acc}");
        // 3 humans: (3 * 2/3 + 7 * 1) / 10 = 0.9; 4 or more: 1.
        let mut list = vec!["dog"; 7];
        list.extend(["cat"; 3]);
        assert!((vqa_accuracy("cat", &answers(&list)) - 0.9).abs() < 1e-12);
        assert_eq!(vqa_accuracy("cat", &answers(&["cat"; 10])), 1.0);
        assert_eq!(vqa_accuracy("bird", &answers(&["cat"; 10])), 0.0);
    }

    #[test]
    fn python_rounding() {
        assert_eq!(round_half_even(12.3456, 2), 12.35);
        assert_eq!(round_half_even(66.666_666, 2), 66.67);
        assert_eq!(round_half_even(0.125, 2), 0.12);
        assert_eq!(round_half_even(0.375, 2), 0.38);
    }
}
