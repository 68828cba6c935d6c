//! Writes instances in the real formats (Karpathy caption JSON, VQA v2 questions and
//! annotations, PNG images) and reads such an export back.
//!
//! Layout of an export folder:
//!
//! ```text
//! DIR/karpathy.json         Karpathy-split captions (plus a `side_text` field per image)
//! DIR/vqa_questions.json    VQA v2 questions
//! DIR/vqa_annotations.json  VQA v2 annotations (10 answers per question)
//! DIR/images/<id>.png       the images (PNG, lossless)
//! ```
//!
//! Every instance must have an image; ids become Karpathy `imgid` and `cocoid` and VQA
//! `image_id`, so [`load_export`] gives back the same instances.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::RecordRef;
use crate::image_io::{self, ResizeMode};
use crate::karpathy::{
    IdSource, KarpathyFile, KarpathyImage, KarpathyOptions, KarpathySentence, karpathy_tokens,
    load_karpathy,
};
use crate::report::LoadReport;
use crate::vqa::{
    ImageLayout, VqaAnnotation, VqaAnnotationsFile, VqaAnswer, VqaOptions, VqaQuestion,
    VqaQuestionsFile, load_vqa,
};
use crate::{DataError, Instance};

/// File name of the Karpathy file in an export.
pub const KARPATHY_FILE: &str = "karpathy.json";
/// File name of the VQA questions in an export.
pub const VQA_QUESTIONS_FILE: &str = "vqa_questions.json";
/// File name of the VQA annotations in an export.
pub const VQA_ANNOTATIONS_FILE: &str = "vqa_annotations.json";
/// Folder of the images in an export.
pub const IMAGES_DIR: &str = "images";

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Images written.
    pub images: usize,
    /// Captions written.
    pub captions: usize,
    /// Questions written.
    pub questions: usize,
    /// The files written (JSON files; images are under `DIR/images`).
    pub files: Vec<PathBuf>,
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), DataError> {
    let text = serde_json::to_string(value).map_err(|e| DataError::Io {
        path: path.to_path_buf(),
        action: "serialise JSON",
        source: std::io::Error::other(e),
    })?;
    std::fs::write(path, text).map_err(|e| DataError::io(path, "write", e))
}

/// Writes instances to `dir` in the export layout. `dataset` names the dataset in the
/// Karpathy file (e.g. `mafs-world`).
///
/// # Errors
///
/// [`DataError::Io`] or [`DataError::ImageWrite`] when a file cannot be written;
/// [`DataError::BadRecord`] for an instance without an image.
pub fn export(
    instances: &[Instance],
    dir: &Path,
    dataset: &str,
) -> Result<ExportSummary, DataError> {
    let images_dir = dir.join(IMAGES_DIR);
    std::fs::create_dir_all(&images_dir)
        .map_err(|e| DataError::io(&images_dir, "create directory", e))?;
    let mut images = Vec::with_capacity(instances.len());
    let mut questions = Vec::new();
    let mut annotations = Vec::new();
    for (index, inst) in instances.iter().enumerate() {
        let Some(img) = &inst.image else {
            return Err(DataError::BadRecord {
                record: RecordRef::new("<instances>", index, Some(inst.id)),
                expected: "an instance with an image",
                message: "the image is missing".to_string(),
            });
        };
        // a file name that came from a dataset must not write outside the export folder
        if let Err(reason) = crate::paths::DataRoot::check_name(Path::new(&inst.filename)) {
            return Err(DataError::UnsafePath {
                record: RecordRef::new("<instances>", index, Some(inst.id)),
                name: inst.filename.clone(),
                root: images_dir.clone(),
                reason,
            });
        }
        image_io::save_png(img, &images_dir.join(&inst.filename))?;
        images.push(KarpathyImage {
            filepath: None,
            filename: inst.filename.clone(),
            split: inst.split.as_str().to_string(),
            sentences: inst
                .captions
                .iter()
                .zip(&inst.sentids)
                .map(|(c, &sid)| KarpathySentence {
                    raw: c.clone(),
                    tokens: karpathy_tokens(c),
                    imgid: Some(inst.id),
                    sentid: Some(sid),
                })
                .collect(),
            imgid: inst.id,
            sentids: inst.sentids.clone(),
            cocoid: Some(inst.id),
            side_text: inst.side_text.clone(),
        });
        for q in &inst.questions {
            questions.push(VqaQuestion {
                image_id: inst.id,
                question: q.question.clone(),
                question_id: q.question_id,
            });
            annotations.push(VqaAnnotation {
                question_id: q.question_id,
                image_id: inst.id,
                question_type: q.question_type.clone(),
                answer_type: q.answer_type.clone(),
                multiple_choice_answer: q.answer.clone(),
                answers: q
                    .answers
                    .iter()
                    .enumerate()
                    .map(|(k, a)| VqaAnswer {
                        answer: a.clone(),
                        answer_confidence: "yes".to_string(),
                        answer_id: k as u32 + 1,
                    })
                    .collect(),
            });
        }
    }
    let summary = ExportSummary {
        images: images.len(),
        captions: images.iter().map(|i| i.sentences.len()).sum(),
        questions: questions.len(),
        files: vec![
            dir.join(KARPATHY_FILE),
            dir.join(VQA_QUESTIONS_FILE),
            dir.join(VQA_ANNOTATIONS_FILE),
        ],
    };
    let info = serde_json::json!({"description": format!("{dataset} exported by mafs-data")});
    write_json(
        &summary.files[0],
        &KarpathyFile {
            images,
            dataset: dataset.to_string(),
        },
    )?;
    write_json(
        &summary.files[1],
        &VqaQuestionsFile {
            info: info.clone(),
            task_type: "Open-Ended".to_string(),
            data_type: dataset.to_string(),
            data_subtype: "all".to_string(),
            questions,
            license: serde_json::Value::Null,
        },
    )?;
    write_json(
        &summary.files[2],
        &VqaAnnotationsFile {
            info,
            data_type: dataset.to_string(),
            data_subtype: "all".to_string(),
            annotations,
            license: serde_json::Value::Null,
        },
    )?;
    Ok(summary)
}

/// Options of [`load_export`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExportLoadOptions {
    /// Resize images to this square size (`None`: as stored).
    pub image_size: Option<u32>,
    /// Skip bad records instead of failing.
    pub skip_bad: bool,
}

/// Reads an export folder back: the Karpathy file gives the instances (images, captions,
/// side texts, splits), the VQA files their questions, joined on the image id.
///
/// # Errors
///
/// Those of [`load_karpathy`] and [`load_vqa`], and [`DataError::BadRecord`] for a question
/// whose image is not in the Karpathy file.
pub fn load_export(
    dir: &Path,
    opts: &ExportLoadOptions,
) -> Result<(Vec<Instance>, LoadReport), DataError> {
    let kopts = KarpathyOptions {
        images_dir: Some(dir.join(IMAGES_DIR)),
        use_filepath: true,
        image_size: opts.image_size,
        resize: ResizeMode::Stretch,
        restval_as_train: true,
        splits: None,
        id_source: IdSource::CocoId,
        skip_bad: opts.skip_bad,
        keep_images: true,
    };
    let (mut instances, mut report) = load_karpathy(&dir.join(KARPATHY_FILE), &kopts)?;
    let vopts = VqaOptions {
        images_dir: None,
        layout: ImageLayout::ById,
        image_size: None,
        resize: ResizeMode::Stretch,
        split: crate::Split::Train,
        skip_bad: opts.skip_bad,
        keep_images: false,
    };
    let qpath = dir.join(VQA_QUESTIONS_FILE);
    let (vqa, vreport) = load_vqa(&qpath, Some(&dir.join(VQA_ANNOTATIONS_FILE)), &vopts)?;
    report.merge(vreport);
    let index: HashMap<u64, usize> = instances
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id, k))
        .collect();
    for (k, v) in vqa.into_iter().enumerate() {
        match index.get(&v.id) {
            Some(&i) => instances[i].questions.extend(v.questions),
            None => {
                let err = DataError::BadRecord {
                    record: RecordRef::new(&qpath, k, Some(v.id)),
                    expected: "an image_id that karpathy.json has",
                    message: format!("image {} has questions but no Karpathy record", v.id),
                };
                if opts.skip_bad {
                    report.skipped.push(err);
                } else {
                    return Err(err);
                }
            }
        }
    }
    Ok((instances, report))
}

/// The formats `mafs data export` writes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    strum::EnumString,
    strum::Display,
    strum::VariantNames,
)]
#[strum(serialize_all = "lowercase")]
pub enum ExportFormat {
    /// Karpathy JSON + VQA v2 JSON + `images/<id>.png` ([`export`]).
    #[default]
    Karpathy,
    /// `coco/captions_<split>.json` per split + `images/<id>.png`.
    Coco,
    /// `wds/<split>-NNNNNN.tar` WebDataset shards (`per_shard` samples each).
    Wds,
    /// `parquet/<split>.parquet` tables with the images inside.
    Parquet,
}

/// Writes instances in `format` under `dir` (see [`ExportFormat`]); one file (or set of
/// shards) per split present. Returns what was written.
///
/// # Errors
/// The writers' errors ([`DataError::Io`], [`DataError::ImageWrite`], ...).
pub fn export_as(
    instances: &[Instance],
    dir: &Path,
    format: ExportFormat,
    dataset: &str,
    per_shard: usize,
) -> Result<ExportSummary, DataError> {
    if format == ExportFormat::Karpathy {
        return export(instances, dir, dataset);
    }
    let mut files = Vec::new();
    for split in crate::Split::ALL {
        let part: Vec<Instance> = instances
            .iter()
            .filter(|i| i.split == split)
            .cloned()
            .collect();
        if part.is_empty() {
            continue;
        }
        match format {
            ExportFormat::Coco => {
                let images_dir = dir.join(IMAGES_DIR);
                for inst in &part {
                    if let Some(img) = &inst.image {
                        image_io::save_png(img, &images_dir.join(&inst.filename))?;
                    }
                }
                let path = dir.join("coco").join(format!("captions_{split}.json"));
                std::fs::create_dir_all(path.parent().expect("has a parent"))
                    .map_err(|e| DataError::io(&path, "create directory", e))?;
                write_json(&path, &crate::coco::to_coco_file(&part, dataset))?;
                files.push(path);
            }
            ExportFormat::Wds => files.extend(crate::wds::write::write_shards(
                &part,
                &dir.join("wds"),
                split.as_str(),
                per_shard,
            )?),
            ExportFormat::Parquet => {
                let path = dir.join("parquet").join(format!("{split}.parquet"));
                crate::table::write_table(&part, &path)?;
                files.push(path);
            }
            ExportFormat::Karpathy => unreachable!("handled above"),
        }
    }
    Ok(ExportSummary {
        images: instances.len(),
        captions: instances.iter().map(|i| i.captions.len()).sum(),
        questions: 0,
        files,
    })
}

/// The `--data` spec that reads back the `split` of an export in `format` as that split
/// (with `--images DIR/images` for COCO), e.g. `coco:test=DIR/coco/captions_test.json`.
pub fn export_spec(dir: &Path, format: ExportFormat, split: crate::Split) -> String {
    let key = match split {
        crate::Split::Train => "train",
        crate::Split::Val => "val",
        _ => "test",
    };
    match format {
        ExportFormat::Karpathy => format!("karpathy:{}", dir.join(KARPATHY_FILE).display()),
        ExportFormat::Coco => format!(
            "coco:{key}={}",
            dir.join("coco")
                .join(format!("captions_{split}.json"))
                .display()
        ),
        ExportFormat::Wds => format!(
            "wds:{key}={}",
            dir.join("wds")
                .join(format!(
                    "{split}-{{000000..{:06}}}.tar",
                    shard_count(dir, split).saturating_sub(1)
                ))
                .display()
        ),
        ExportFormat::Parquet => format!(
            "parquet:{key}={}",
            dir.join("parquet")
                .join(format!("{split}.parquet"))
                .display()
        ),
    }
}

fn shard_count(dir: &Path, split: crate::Split) -> usize {
    std::fs::read_dir(dir.join("wds"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    e.file_name()
                        .to_string_lossy()
                        .starts_with(&format!("{split}-"))
                })
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Split;
    use crate::world::{World, WorldConfig};

    #[test]
    fn export_round_trips_every_field() {
        let world = World::new(WorldConfig::tiny(6, 3)).unwrap();
        let all = world.all();
        let dir = tempfile::tempdir().unwrap();
        let s = export(&all, dir.path(), "mafs-world").unwrap();
        assert_eq!(s.images, all.len());
        let (back, rep) = load_export(dir.path(), &ExportLoadOptions::default()).unwrap();
        assert!(rep.is_clean(), "{rep}");
        assert_eq!(back, all);
        assert!(back.iter().any(|i| i.split == Split::Shift));
    }
}
