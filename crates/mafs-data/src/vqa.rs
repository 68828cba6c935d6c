//! VQA v2 files: a questions file and an annotations file.
//!
//! ```json
//! {"data_subtype": "val2014", "questions": [{"image_id": 42, "question": "What color...?",
//!                                            "question_id": 420}]}
//! {"annotations": [{"question_id": 420, "image_id": 42, "question_type": "what color is the",
//!                   "answer_type": "other", "multiple_choice_answer": "red",
//!                   "answers": [{"answer": "red", "answer_confidence": "yes", "answer_id": 1},
//!                               ...]}]}
//! ```
//!
//! Images are found through an [`ImageLayout`]: COCO's
//! `<subtype>/COCO_<subtype>_<12-digit id>.jpg`,
//! our exports' `<image_id>.png`, or a pattern.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::RecordRef;
use crate::image_io::ResizeMode;
use crate::karpathy::{attach_images, read_to_string};
use crate::report::{LoadReport, skip_or_fail};
use crate::{DataError, Instance, Qa, Split};

/// One question record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VqaQuestion {
    /// COCO image id.
    pub image_id: u64,
    /// The question.
    pub question: String,
    /// Question id.
    pub question_id: u64,
}

/// One human answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VqaAnswer {
    /// The answer as typed.
    pub answer: String,
    /// `yes`, `maybe` or `no`.
    #[serde(default = "default_confidence")]
    pub answer_confidence: String,
    /// 1-based position.
    #[serde(default)]
    pub answer_id: u32,
}

fn default_confidence() -> String {
    "yes".to_string()
}

/// One annotation record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VqaAnnotation {
    /// Question id.
    pub question_id: u64,
    /// COCO image id.
    pub image_id: u64,
    /// Question type (the question's first words in VQA v2).
    #[serde(default)]
    pub question_type: String,
    /// `yes/no`, `number` or `other`.
    #[serde(default)]
    pub answer_type: String,
    /// The most frequent answer.
    pub multiple_choice_answer: String,
    /// The human answers (10).
    pub answers: Vec<VqaAnswer>,
}

/// A questions file, as the exporter writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VqaQuestionsFile {
    /// Free-form information.
    pub info: serde_json::Value,
    /// `Open-Ended`.
    pub task_type: String,
    /// `mscoco` in VQA v2.
    pub data_type: String,
    /// `train2014`, `val2014`...; used by the COCO image layout.
    pub data_subtype: String,
    /// The questions.
    pub questions: Vec<VqaQuestion>,
    /// License.
    pub license: serde_json::Value,
}

/// An annotations file, as the exporter writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VqaAnnotationsFile {
    /// Free-form information.
    pub info: serde_json::Value,
    /// `mscoco` in VQA v2.
    pub data_type: String,
    /// `train2014`, `val2014`...
    pub data_subtype: String,
    /// The annotations.
    pub annotations: Vec<VqaAnnotation>,
    /// License.
    pub license: serde_json::Value,
}

/// Where the image of an `image_id` is, relative to the images folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageLayout {
    /// `<subtype>/COCO_<subtype>_<12-digit id>.jpg` under the COCO root (as COCO unpacks, and
    /// as Karpathy's `filepath` has it); the subtype defaults to the questions file's
    /// `data_subtype`.
    Coco {
        /// Overrides `data_subtype` (e.g. `val2014`).
        subtype: Option<String>,
    },
    /// `<image_id>.png` (our exports).
    ById,
    /// A pattern with `{image_id}`, `{image_id:012}` (zero-padded to 12 digits) and
    /// `{subtype}`, e.g. `"{subtype}/{image_id:012}.jpg"`.
    Pattern(String),
}

impl ImageLayout {
    /// The file name of an image.
    pub fn file_name(&self, image_id: u64, data_subtype: &str) -> String {
        match self {
            ImageLayout::Coco { subtype } => {
                let sub = subtype.as_deref().unwrap_or(data_subtype);
                format!("{sub}/COCO_{sub}_{image_id:012}.jpg")
            }
            ImageLayout::ById => format!("{image_id}.png"),
            ImageLayout::Pattern(p) => p
                .replace("{image_id:012}", &format!("{image_id:012}"))
                .replace("{image_id}", &image_id.to_string())
                .replace("{subtype}", data_subtype),
        }
    }
}

impl ImageLayout {
    /// The path of an image under `dir`. The COCO layout also accepts `dir` being the
    /// subtype folder itself (`val2014/`): when `dir/<subtype>/<name>` does not exist but
    /// `dir/<name>` does, that one is used. This is only the lexical choice: the loader then
    /// confines the name to `dir` ([`crate::paths::DataRoot`]).
    pub fn resolve(&self, dir: &Path, file_name: &str) -> PathBuf {
        dir.join(self.relative(dir, file_name))
    }

    /// The name, relative to `dir`, that [`ImageLayout::resolve`] picks.
    pub fn relative(&self, dir: &Path, file_name: &str) -> PathBuf {
        if let ImageLayout::Coco { .. } = self
            && crate::paths::DataRoot::check_name(Path::new(file_name)).is_ok()
            && !dir.join(file_name).exists()
            && let Some(base) = Path::new(file_name).file_name()
            && dir.join(base).exists()
        {
            return PathBuf::from(base);
        }
        PathBuf::from(file_name)
    }
}

/// Options of the VQA loader.
#[derive(Debug, Clone, PartialEq)]
pub struct VqaOptions {
    /// Folder the images are read from; `None` loads questions only (images `None`).
    pub images_dir: Option<PathBuf>,
    /// File names of the images.
    pub layout: ImageLayout,
    /// Resize images to this square size (`None` keeps the original size).
    pub image_size: Option<u32>,
    /// How images are brought to the size.
    pub resize: ResizeMode,
    /// The split every instance gets (VQA v2 ships one file pair per split).
    pub split: Split,
    /// Skip bad records (reported) instead of failing on the first.
    pub skip_bad: bool,
    /// Keep the decoded images; `false` only checks that they decode (images `None`).
    pub keep_images: bool,
}

impl Default for VqaOptions {
    fn default() -> Self {
        Self {
            images_dir: None,
            layout: ImageLayout::Coco { subtype: None },
            image_size: Some(64),
            resize: ResizeMode::CenterCrop,
            split: Split::Train,
            skip_bad: false,
            keep_images: true,
        }
    }
}

#[derive(Deserialize)]
struct RawQuestions<'a> {
    #[serde(default)]
    data_subtype: Option<String>,
    #[serde(borrow)]
    questions: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawAnnotations<'a> {
    #[serde(borrow)]
    annotations: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct QidOnly {
    question_id: Option<u64>,
}

fn parse_records<T: serde::de::DeserializeOwned>(
    raws: &[&RawValue],
    path: &Path,
    expected: &'static str,
    skip_bad: bool,
    report: &mut LoadReport,
) -> Result<Vec<(usize, T)>, DataError> {
    let mut out = Vec::with_capacity(raws.len());
    for (index, raw) in raws.iter().enumerate() {
        match serde_json::from_str::<T>(raw.get()) {
            Ok(v) => out.push((index, v)),
            Err(e) => {
                let id = serde_json::from_str::<QidOnly>(raw.get())
                    .ok()
                    .and_then(|q| q.question_id);
                let err = DataError::BadRecord {
                    record: RecordRef::new(path, index, id),
                    expected,
                    message: e.to_string(),
                };
                skip_or_fail(report, skip_bad, err)?;
            }
        }
    }
    Ok(out)
}

/// The answer with the most votes (ties: the one seen first), VQA's
/// `multiple_choice_answer` when a file lacks it.
pub fn majority_answer(answers: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for a in answers {
        match counts.iter_mut().find(|(x, _)| *x == a) {
            Some((_, n)) => *n += 1,
            None => counts.push((a, 1)),
        }
    }
    let mut best: Option<(&str, usize)> = None;
    for (a, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((a, n));
        }
    }
    best.map(|(a, _)| a.to_string()).unwrap_or_default()
}

/// Loads VQA v2 questions with their annotations (`annotations = None` for test files,
/// which have none: answers are then empty). Instances are grouped by `image_id`, in the
/// order images first appear; captions are empty and side texts `None`.
///
/// # Errors
///
/// [`DataError::Io`] and [`DataError::Json`] for the files; for a record (unless
/// `skip_bad`): [`DataError::BadRecord`], [`DataError::DuplicateId`],
/// [`DataError::QuestionWithoutAnnotation`], [`DataError::AnnotationWithoutQuestion`],
/// [`DataError::AnnotationMismatch`], [`DataError::NoAnswers`],
/// [`DataError::MissingImage`], [`DataError::BadImage`], [`DataError::UnsafePath`] (a
/// `data_subtype` or pattern that leads out of `images_dir`), [`DataError::LimitExceeded`].
pub fn load_vqa(
    questions: &Path,
    annotations: Option<&Path>,
    opts: &VqaOptions,
) -> Result<(Vec<Instance>, LoadReport), DataError> {
    let qtext = read_to_string(questions)?;
    let qfile: RawQuestions = serde_json::from_str(&qtext).map_err(|e| {
        DataError::json(questions, "a VQA questions file {\"questions\": [...]}", &e)
    })?;
    let mut report = LoadReport {
        files: vec![questions.to_path_buf()],
        total: qfile.questions.len(),
        ..LoadReport::default()
    };
    let qs: Vec<(usize, VqaQuestion)> = parse_records(
        &qfile.questions,
        questions,
        "{image_id, question, question_id}",
        opts.skip_bad,
        &mut report,
    )?;
    let atext;
    let mut anns: HashMap<u64, (usize, VqaAnnotation)> = HashMap::new();
    if let Some(apath) = annotations {
        report.files.push(apath.to_path_buf());
        atext = read_to_string(apath)?;
        let afile: RawAnnotations = serde_json::from_str(&atext).map_err(|e| {
            DataError::json(apath, "a VQA annotations file {\"annotations\": [...]}", &e)
        })?;
        let parsed: Vec<(usize, VqaAnnotation)> = parse_records(
            &afile.annotations,
            apath,
            "{question_id, image_id, question_type, answer_type, multiple_choice_answer, answers: [{answer, answer_confidence, answer_id}]}",
            opts.skip_bad,
            &mut report,
        )?;
        let qids: HashMap<u64, u64> = qs
            .iter()
            .map(|(_, q)| (q.question_id, q.image_id))
            .collect();
        for (index, a) in parsed {
            let r = RecordRef::new(apath, index, Some(a.question_id));
            let problem = if let Some((first, _)) = anns.get(&a.question_id) {
                Some(DataError::DuplicateId {
                    record: r,
                    what: "question_id",
                    id: a.question_id,
                    first: *first,
                })
            } else {
                match qids.get(&a.question_id) {
                    None => Some(DataError::AnnotationWithoutQuestion {
                        record: r,
                        question_id: a.question_id,
                        questions: questions.to_path_buf(),
                    }),
                    Some(&img) if img != a.image_id => Some(DataError::AnnotationMismatch {
                        record: r,
                        question_id: a.question_id,
                        question_image: img,
                        annotation_image: a.image_id,
                    }),
                    Some(_) if a.answers.is_empty() => Some(DataError::NoAnswers { record: r }),
                    Some(_) => None,
                }
            };
            match problem {
                Some(err) => skip_or_fail(&mut report, opts.skip_bad, err)?,
                None => {
                    anns.insert(a.question_id, (index, a));
                }
            }
        }
    }
    let subtype = qfile.data_subtype.clone().unwrap_or_default();
    let root = crate::karpathy::data_root(opts.images_dir.as_ref())?;
    let mut by_image: HashMap<u64, usize> = HashMap::new();
    let mut pending: Vec<(Instance, Option<PathBuf>, RecordRef)> = Vec::new();
    let mut seen_q: HashMap<u64, usize> = HashMap::new();
    for (index, q) in qs {
        let r = RecordRef::new(questions, index, Some(q.question_id));
        if let Some(&first) = seen_q.get(&q.question_id) {
            let err = DataError::DuplicateId {
                record: r,
                what: "question_id",
                id: q.question_id,
                first,
            };
            skip_or_fail(&mut report, opts.skip_bad, err)?;
            continue;
        }
        seen_q.insert(q.question_id, index);
        let qa = match annotations {
            None => Qa {
                question_id: q.question_id,
                question: q.question,
                question_type: String::new(),
                answer_type: String::new(),
                answers: Vec::new(),
                answer: String::new(),
            },
            Some(apath) => match anns.remove(&q.question_id) {
                Some((_, a)) => {
                    let answers: Vec<String> = a.answers.into_iter().map(|x| x.answer).collect();
                    let answer = if a.multiple_choice_answer.is_empty() {
                        majority_answer(&answers)
                    } else {
                        a.multiple_choice_answer
                    };
                    Qa {
                        question_id: q.question_id,
                        question: q.question,
                        question_type: a.question_type,
                        answer_type: a.answer_type,
                        answers,
                        answer,
                    }
                }
                None => {
                    let err = DataError::QuestionWithoutAnnotation {
                        record: r,
                        question_id: q.question_id,
                        image_id: q.image_id,
                        annotations: apath.to_path_buf(),
                    };
                    skip_or_fail(&mut report, opts.skip_bad, err)?;
                    continue;
                }
            },
        };
        report.loaded += 1;
        match by_image.get(&q.image_id) {
            Some(&k) => pending[k].0.questions.push(qa),
            None => {
                let filename = opts.layout.file_name(q.image_id, &subtype);
                let path = match &root {
                    None => None,
                    Some(root) => {
                        let name = opts.layout.relative(root.path(), &filename);
                        match crate::karpathy::confined(root, &name, &r) {
                            Ok(p) => Some(p),
                            Err(err) => {
                                skip_or_fail(&mut report, opts.skip_bad, err)?;
                                report.loaded -= 1;
                                continue;
                            }
                        }
                    }
                };
                by_image.insert(q.image_id, pending.len());
                pending.push((
                    Instance {
                        id: q.image_id,
                        split: opts.split,
                        filename,
                        image: None,
                        captions: Vec::new(),
                        sentids: Vec::new(),
                        side_text: None,
                        questions: vec![qa],
                        corruptions: Vec::new(),
                    },
                    path,
                    r,
                ));
            }
        }
    }
    let n_before: usize = pending.iter().map(|p| p.0.questions.len()).sum();
    let instances = attach_images(
        pending,
        (opts.image_size, opts.resize, opts.keep_images),
        opts.skip_bad,
        &mut report,
    )?;
    let n_after: usize = instances.iter().map(|i| i.questions.len()).sum();
    report.loaded = report.loaded.saturating_sub(n_before - n_after);
    Ok((instances, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_name_files() {
        let coco = ImageLayout::Coco { subtype: None };
        assert_eq!(
            coco.file_name(42, "val2014"),
            "val2014/COCO_val2014_000000000042.jpg"
        );
        assert_eq!(ImageLayout::ById.file_name(42, ""), "42.png");
        let dir = tempfile::tempdir().unwrap();
        let name = coco.file_name(42, "val2014");
        assert_eq!(coco.resolve(dir.path(), &name), dir.path().join(&name));
        std::fs::write(dir.path().join("COCO_val2014_000000000042.jpg"), b"x").unwrap();
        assert_eq!(
            coco.resolve(dir.path(), &name),
            dir.path().join("COCO_val2014_000000000042.jpg"),
            "the subtype folder itself may be given"
        );
        let p = ImageLayout::Pattern("{subtype}/x_{image_id:012}_{image_id}.jpg".into());
        assert_eq!(p.file_name(7, "s"), "s/x_000000000007_7.jpg");
    }

    #[test]
    fn a_hostile_data_subtype_cannot_leave_the_images_folder() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        let q = dir.path().join("q.json");
        for sub in ["../..", "/etc", "x/../../y"] {
            std::fs::write(
                &q,
                format!(
                    r#"{{"data_subtype": "{sub}", "questions": [{{"image_id": 1, "question": "Q?", "question_id": 7}}]}}"#
                ),
            )
            .unwrap();
            let opts = VqaOptions {
                images_dir: Some(images.clone()),
                ..VqaOptions::default()
            };
            let e = load_vqa(&q, None, &opts).unwrap_err();
            assert!(matches!(e, DataError::UnsafePath { .. }), "{sub}: {e}");
            assert!(e.to_string().contains("q.json: record 0 (id 7)"), "{e}");
            let skip = VqaOptions {
                skip_bad: true,
                ..opts
            };
            let (inst, rep) = load_vqa(&q, None, &skip).unwrap();
            assert!(inst.is_empty() && rep.loaded == 0 && rep.skipped.len() == 1);
        }
    }

    #[test]
    fn majority_prefers_first_on_ties() {
        let a: Vec<String> = ["b", "a", "a", "b", "c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(majority_answer(&a), "b");
    }

    #[test]
    fn questions_and_annotations_join_and_orphans_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let q = dir.path().join("q.json");
        let a = dir.path().join("a.json");
        std::fs::write(
            &q,
            r#"{"questions": [{"image_id": 1, "question": "Q1?", "question_id": 10},
                              {"image_id": 1, "question": "Q2?", "question_id": 11},
                              {"image_id": 2, "question": "Q3?", "question_id": 20}]}"#,
        )
        .unwrap();
        let ann = |qid: u64, img: u64| {
            format!(
                r#"{{"question_id": {qid}, "image_id": {img}, "question_type": "what", "answer_type": "other",
                   "multiple_choice_answer": "red", "answers": [{{"answer": "red", "answer_confidence": "yes", "answer_id": 1}}]}}"#
            )
        };
        std::fs::write(
            &a,
            format!(
                r#"{{"annotations": [{}, {}, {}]}}"#,
                ann(10, 1),
                ann(11, 1),
                ann(99, 3)
            ),
        )
        .unwrap();
        let e = load_vqa(&q, Some(&a), &VqaOptions::default()).unwrap_err();
        assert!(
            matches!(
                e,
                DataError::AnnotationWithoutQuestion {
                    question_id: 99,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("a.json: record 2"), "{e}");
        let opts = VqaOptions {
            skip_bad: true,
            ..VqaOptions::default()
        };
        let (inst, rep) = load_vqa(&q, Some(&a), &opts).unwrap();
        assert_eq!(inst.len(), 1);
        assert_eq!(inst[0].questions.len(), 2);
        assert_eq!(inst[0].questions[1].answer, "red");
        assert_eq!(rep.skipped.len(), 2);
        assert!(matches!(
            rep.skipped[1],
            DataError::QuestionWithoutAnnotation {
                question_id: 20,
                image_id: 2,
                ..
            }
        ));
        assert!(
            rep.skipped[1]
                .to_string()
                .contains("q.json: record 2 (id 20)")
        );
        let (inst, _) = load_vqa(&q, None, &VqaOptions::default()).unwrap();
        assert_eq!(inst.len(), 2);
        assert!(inst[1].questions[0].answers.is_empty());
    }
}
