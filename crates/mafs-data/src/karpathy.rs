//! The Karpathy-split caption JSON used for COCO and Flickr30k (`dataset_coco.json`,
//! `dataset_flickr30k.json`):
//!
//! ```json
//! {"images": [{"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg",
//!              "imgid": 0, "split": "test", "cocoid": 391895, "sentids": [0, 1],
//!              "sentences": [{"raw": "A man with a red helmet.", "tokens": ["a", "man", ...],
//!                             "imgid": 0, "sentid": 0}, ...]}, ...],
//!  "dataset": "coco"}
//! ```
//!
//! `filepath` is optional (Flickr30k has none); an image is read from
//! `images_dir/[filepath/]filename`. Splits are `train`, `val`, `test` and `restval`
//! (folded into train unless told otherwise) and, for our own exports, `shift`. Our exporter
//! adds one optional field per image, `side_text`, which real files do not have.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::RecordRef;
use crate::image_io::{self, ResizeMode};
use crate::paths::DataRoot;
use crate::report::{LoadReport, skip_or_fail};
use crate::{DataError, Instance, Split};

/// One sentence of a Karpathy record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KarpathySentence {
    /// The caption as written.
    #[serde(default)]
    pub raw: String,
    /// Lower-cased tokens without punctuation.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Image id (repeated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imgid: Option<u64>,
    /// Sentence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentid: Option<u64>,
}

/// One image record of a Karpathy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KarpathyImage {
    /// Sub-folder of the image (COCO: `train2014` / `val2014`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filepath: Option<String>,
    /// Image file name.
    pub filename: String,
    /// `train`, `val`, `test`, `restval` (or `shift`).
    pub split: String,
    /// The captions.
    pub sentences: Vec<KarpathySentence>,
    /// Image id within the file.
    pub imgid: u64,
    /// Sentence ids, one per sentence.
    #[serde(default)]
    pub sentids: Vec<u64>,
    /// COCO image id (COCO only; VQA's `image_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cocoid: Option<u64>,
    /// Side text (mafs extension; absent in COCO and Flickr30k).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_text: Option<String>,
}

/// A whole Karpathy file, as the exporter writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KarpathyFile {
    /// The image records.
    pub images: Vec<KarpathyImage>,
    /// Dataset name (`coco`, `flickr30k`, `mafs-world`).
    pub dataset: String,
}

/// Which id an instance gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdSource {
    /// `imgid` (Flickr30k, and COCO when not joined with VQA).
    #[default]
    ImgId,
    /// `cocoid`, falling back to `imgid` where absent: use this to join COCO with VQA v2,
    /// whose `image_id` is the COCO id.
    CocoId,
}

/// Options of the Karpathy loader.
#[derive(Debug, Clone, PartialEq)]
pub struct KarpathyOptions {
    /// Folder the images are read from; `None` loads captions only (images `None`).
    pub images_dir: Option<PathBuf>,
    /// Join `filepath` (when present) between `images_dir` and `filename`.
    pub use_filepath: bool,
    /// Resize images to this square size (`None` keeps the original size).
    pub image_size: Option<u32>,
    /// How images are brought to the size.
    pub resize: ResizeMode,
    /// Fold `restval` into train (Karpathy's "train + restval" training set); otherwise
    /// restval records are excluded.
    pub restval_as_train: bool,
    /// Keep only these splits (`None`: all).
    pub splits: Option<Vec<Split>>,
    /// Which id instances get.
    pub id_source: IdSource,
    /// Skip bad records (reported in the [`LoadReport`]) instead of failing on the first.
    pub skip_bad: bool,
    /// Keep the decoded images; `false` only checks that they decode (images `None`).
    pub keep_images: bool,
}

impl Default for KarpathyOptions {
    fn default() -> Self {
        Self {
            images_dir: None,
            use_filepath: true,
            image_size: Some(64),
            resize: ResizeMode::CenterCrop,
            restval_as_train: true,
            splits: None,
            id_source: IdSource::ImgId,
            skip_bad: false,
            keep_images: true,
        }
    }
}

#[derive(Deserialize)]
struct RawFile<'a> {
    #[serde(borrow)]
    images: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct IdOnly {
    imgid: Option<u64>,
}

/// Reads a file to a string, after checking its size against
/// [`mafs_core::limits::Limits::max_file_bytes`].
pub(crate) fn read_to_string(path: &Path) -> Result<String, DataError> {
    let len = std::fs::metadata(path)
        .map_err(|e| DataError::io(path, "read", e))?
        .len();
    let limit = mafs_core::limits::current().max_file_bytes;
    if len > limit {
        return Err(DataError::LimitExceeded {
            context: path.display().to_string(),
            what: "file size in bytes",
            value: len,
            limit,
            flag: "--max-file-bytes / MAFS_MAX_FILE_BYTES",
        });
    }
    std::fs::read_to_string(path).map_err(|e| DataError::io(path, "read", e))
}

/// The images folder of a loader as a [`DataRoot`], when one is given.
pub(crate) fn data_root(dir: Option<&PathBuf>) -> Result<Option<DataRoot>, DataError> {
    dir.map(|d| DataRoot::new(d)).transpose()
}

/// The path of a dataset-named file under `root`, or the record's [`DataError::UnsafePath`].
pub(crate) fn confined(root: &DataRoot, name: &Path, r: &RecordRef) -> Result<PathBuf, DataError> {
    root.resolve(name).map_err(|reason| DataError::UnsafePath {
        record: r.clone(),
        name: name.display().to_string(),
        root: root.path().to_path_buf(),
        reason,
    })
}

/// Parses a Karpathy split name.
pub fn parse_split(
    s: &str,
    restval_as_train: bool,
    context: &RecordRef,
) -> Result<Option<Split>, DataError> {
    match s {
        "restval" if restval_as_train => Ok(Some(Split::Train)),
        "restval" => Ok(None),
        other => other
            .parse::<Split>()
            .map(Some)
            .map_err(|_| DataError::UnknownSplit {
                split: other.to_string(),
                context: format!("{context}: field `split` (Karpathy also allows restval)"),
            }),
    }
}

/// Checks one record and turns it into an instance without its image; returns the
/// instance and the image path, or `None` when the record is excluded.
fn convert(
    rec: KarpathyImage,
    r: &RecordRef,
    opts: &KarpathyOptions,
    root: Option<&DataRoot>,
) -> Result<Option<(Instance, Option<PathBuf>)>, DataError> {
    let Some(split) = parse_split(&rec.split, opts.restval_as_train, r)? else {
        return Ok(None);
    };
    if let Some(keep) = &opts.splits
        && !keep.contains(&split)
    {
        return Ok(None);
    }
    if rec.sentences.is_empty() {
        return Err(DataError::NoCaptions { record: r.clone() });
    }
    let mut captions = Vec::with_capacity(rec.sentences.len());
    for (k, s) in rec.sentences.iter().enumerate() {
        let raw = s.raw.trim();
        let text = if raw.is_empty() {
            s.tokens.join(" ")
        } else {
            raw.to_string()
        };
        if text.trim().is_empty() {
            return Err(DataError::EmptyCaption {
                record: r.clone(),
                sentence: k,
            });
        }
        captions.push(text);
    }
    let sentids: Vec<u64> = if rec.sentids.len() == rec.sentences.len() {
        rec.sentids.clone()
    } else {
        rec.sentences
            .iter()
            .enumerate()
            .map(|(k, s)| {
                s.sentid
                    .unwrap_or(rec.imgid.wrapping_mul(16).wrapping_add(k as u64))
            })
            .collect()
    };
    let id = match opts.id_source {
        IdSource::ImgId => rec.imgid,
        IdSource::CocoId => rec.cocoid.unwrap_or(rec.imgid),
    };
    let path = match root {
        None => None,
        Some(root) => {
            let mut name = PathBuf::new();
            if opts.use_filepath
                && let Some(fp) = &rec.filepath
            {
                name.push(fp);
            }
            name.push(&rec.filename);
            Some(confined(root, &name, r)?)
        }
    };
    Ok(Some((
        Instance {
            id,
            split,
            filename: rec.filename,
            image: None,
            captions,
            sentids,
            side_text: rec.side_text,
            questions: Vec::new(),
            corruptions: Vec::new(),
        },
        path,
    )))
}

/// Loads a Karpathy-split caption file.
///
/// # Errors
///
/// [`DataError::Io`] and [`DataError::Json`] (with line and column) for the file; for a
/// record (unless `skip_bad`): [`DataError::BadRecord`], [`DataError::UnknownSplit`],
/// [`DataError::NoCaptions`], [`DataError::EmptyCaption`], [`DataError::DuplicateId`],
/// [`DataError::MissingImage`], [`DataError::BadImage`], [`DataError::UnsafePath`] (a
/// `filepath`/`filename` with `..`, an absolute path or a symlink out of `images_dir`),
/// [`DataError::LimitExceeded`].
pub fn load_karpathy(
    path: &Path,
    opts: &KarpathyOptions,
) -> Result<(Vec<Instance>, LoadReport), DataError> {
    let text = read_to_string(path)?;
    let file: RawFile = serde_json::from_str(&text)
        .map_err(|e| DataError::json(path, "a Karpathy caption file {\"images\": [...]}", &e))?;
    let mut report = LoadReport {
        files: vec![path.to_path_buf()],
        total: file.images.len(),
        ..LoadReport::default()
    };
    let mut pending: Vec<(Instance, Option<PathBuf>, RecordRef)> = Vec::new();
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let root = data_root(opts.images_dir.as_ref())?;
    for (index, raw) in file.images.iter().enumerate() {
        let id = serde_json::from_str::<IdOnly>(raw.get())
            .ok()
            .and_then(|x| x.imgid);
        let r = RecordRef::new(path, index, id);
        let rec: KarpathyImage = match serde_json::from_str(raw.get()) {
            Ok(rec) => rec,
            Err(e) => {
                let err = DataError::BadRecord {
                    record: r,
                    expected: "{filename, split, sentences: [{raw, tokens}], imgid, sentids}",
                    message: e.to_string(),
                };
                skip_or_fail(&mut report, opts.skip_bad, err)?;
                continue;
            }
        };
        match convert(rec, &r, opts, root.as_ref()) {
            Ok(Some((inst, p))) => {
                if let Some(&first) = seen.get(&inst.id) {
                    let err = DataError::DuplicateId {
                        record: r,
                        what: "image id",
                        id: inst.id,
                        first,
                    };
                    skip_or_fail(&mut report, opts.skip_bad, err)?;
                    continue;
                }
                seen.insert(inst.id, index);
                pending.push((inst, p, r));
            }
            Ok(None) => report.excluded += 1,
            Err(err) => skip_or_fail(&mut report, opts.skip_bad, err)?,
        }
    }
    let instances = attach_images(
        pending,
        (opts.image_size, opts.resize, opts.keep_images),
        opts.skip_bad,
        &mut report,
    )?;
    report.loaded = instances.len();
    Ok((instances, report))
}

/// Loads the images of checked records in parallel and attaches them; bad images fail or
/// are skipped.
pub(crate) fn attach_images(
    pending: Vec<(Instance, Option<PathBuf>, RecordRef)>,
    (size, mode, keep): (Option<u32>, ResizeMode, bool),
    skip_bad: bool,
    report: &mut LoadReport,
) -> Result<Vec<Instance>, DataError> {
    let jobs: Vec<(PathBuf, RecordRef)> = pending
        .iter()
        .filter_map(|(_, p, r)| p.clone().map(|p| (p, r.clone())))
        .collect();
    let mut images = image_io::load_images(&jobs, size, mode, keep).into_iter();
    let mut out = Vec::with_capacity(pending.len());
    for (mut inst, p, _) in pending {
        if p.is_some() {
            match images.next().expect("one result per job") {
                Ok(img) => inst.image = img,
                Err(err) => {
                    skip_or_fail(report, skip_bad, err)?;
                    continue;
                }
            }
        }
        out.push(inst);
    }
    Ok(out)
}

/// Karpathy's tokens of a caption: lower-cased words, punctuation removed.
pub fn karpathy_tokens(caption: &str) -> Vec<String> {
    caption
        .split(|c: char| c.is_whitespace())
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const GOOD: &str = r#"{"images": [
      {"filepath": "val2014", "filename": "a.jpg", "imgid": 0, "split": "test", "cocoid": 42,
       "sentids": [0, 1], "sentences": [{"raw": "A dog runs.", "tokens": ["a", "dog", "runs"]},
                                        {"raw": "", "tokens": ["a", "dog"]}]},
      {"filename": "b.jpg", "imgid": 1, "split": "restval", "sentids": [2],
       "sentences": [{"raw": "Two cats.", "tokens": ["two", "cats"]}]}
    ], "dataset": "coco"}"#;

    #[test]
    fn reads_records_and_maps_restval() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "k.json", GOOD);
        let (inst, rep) = load_karpathy(&p, &KarpathyOptions::default()).unwrap();
        assert_eq!(inst.len(), 2);
        assert_eq!(inst[0].captions, vec!["A dog runs.", "a dog"]);
        assert_eq!(inst[1].split, Split::Train);
        assert!(rep.is_clean());
        let opts = KarpathyOptions {
            restval_as_train: false,
            id_source: IdSource::CocoId,
            ..KarpathyOptions::default()
        };
        let (inst, rep) = load_karpathy(&p, &opts).unwrap();
        assert_eq!(inst.len(), 1);
        assert_eq!(inst[0].id, 42);
        assert_eq!(rep.excluded, 1);
    }

    #[test]
    fn bad_records_fail_or_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"{"images": [
          {"filename": "a.jpg", "imgid": 5, "split": "training", "sentences": [{"raw": "x"}]},
          {"filename": "b.jpg", "imgid": 6, "split": "val", "sentences": [{"raw": "  "}]},
          {"filename": "c.jpg", "imgid": 7, "split": "val", "sentences": [{"raw": "ok"}]},
          {"filename": 3, "imgid": 8, "split": "val", "sentences": []}
        ]}"#;
        let p = write(dir.path(), "bad.json", text);
        let e = load_karpathy(&p, &KarpathyOptions::default()).unwrap_err();
        assert!(matches!(e, DataError::UnknownSplit { .. }), "{e}");
        assert!(e.to_string().contains("bad.json: record 0 (id 5)"), "{e}");
        let opts = KarpathyOptions {
            skip_bad: true,
            ..KarpathyOptions::default()
        };
        let (inst, rep) = load_karpathy(&p, &opts).unwrap();
        assert_eq!(inst.len(), 1);
        assert_eq!(rep.skipped.len(), 3);
        assert!(matches!(
            rep.skipped[1],
            DataError::EmptyCaption { sentence: 0, .. }
        ));
        assert!(matches!(rep.skipped[2], DataError::BadRecord { .. }));
        assert_eq!(rep.skipped[2].record().unwrap().id, Some(8));
    }

    #[test]
    fn file_names_stay_inside_the_images_folder() {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(&images).unwrap();
        for (fp, name) in [
            ("null", "\"../k.json\""),
            ("\"..\"", "\"k.json\""),
            ("null", "\"/etc/passwd\""),
            ("\"/etc\"", "\"passwd\""),
        ] {
            let text = format!(
                r#"{{"images": [{{"filepath": {fp}, "filename": {name}, "imgid": 18446744073709551615,
                    "split": "val", "sentences": [{{"raw": "x"}}]}}]}}"#
            );
            let p = write(dir.path(), "k.json", &text);
            let opts = KarpathyOptions {
                images_dir: Some(images.clone()),
                ..KarpathyOptions::default()
            };
            let e = load_karpathy(&p, &opts).unwrap_err();
            assert!(matches!(e, DataError::UnsafePath { .. }), "{e}");
            assert!(e.to_string().contains("k.json: record 0"), "{e}");
        }
        let opts = KarpathyOptions {
            images_dir: Some(dir.path().join("no-such-folder")),
            ..KarpathyOptions::default()
        };
        let e = load_karpathy(&write(dir.path(), "g.json", GOOD), &opts).unwrap_err();
        assert!(e.to_string().contains("no-such-folder"), "{e}");
    }

    #[test]
    fn tokens_follow_karpathy() {
        assert_eq!(
            karpathy_tokens("A red circle, left of it."),
            vec!["a", "red", "circle", "left", "of", "it"]
        );
    }
}
