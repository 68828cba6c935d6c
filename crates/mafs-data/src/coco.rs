//! COCO captions annotation files (`captions_train2014.json`, `captions_val2017.json`):
//!
//! ```json
//! {"info": {...}, "licenses": [...],
//!  "images": [{"id": 57870, "file_name": "COCO_train2014_000000057870.jpg",
//!              "width": 640, "height": 480, ...}, ...],
//!  "annotations": [{"id": 787980, "image_id": 57870,
//!                   "caption": "A restaurant has modern wooden tables and chairs."}, ...]}
//! ```
//!
//! One file is one split (the split is given in [`CocoOptions`]). An image is read from
//! `images_dir/file_name` or, when that does not exist, `images_dir/<subtype>/file_name`,
//! the subtype (`train2014`) taken from the file name (`COCO_train2014_...`) or the
//! annotation file's name (`captions_train2017.json`), so both the COCO root and the split
//! folder can be given. Our exporter adds an optional `side_text` per image, which COCO
//! files do not have.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::RecordRef;
use crate::image_io::ResizeMode;
use crate::karpathy::{attach_images, read_to_string};
use crate::report::{LoadReport, skip_or_fail};
use crate::{DataError, Instance, Split};

/// One `images` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoImage {
    /// Image id (VQA's `image_id`).
    pub id: u64,
    /// File name relative to the split's image folder.
    pub file_name: String,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Side text (mafs extension; absent in COCO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_text: Option<String>,
}

/// One `annotations` record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoCaption {
    /// Annotation id (the caption's sentence id).
    pub id: u64,
    /// The image it describes.
    pub image_id: u64,
    /// The caption.
    pub caption: String,
}

/// A whole captions file, as the exporter writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CocoCaptionsFile {
    /// Free-form information.
    pub info: serde_json::Value,
    /// Licences.
    pub licenses: serde_json::Value,
    /// Images.
    pub images: Vec<CocoImage>,
    /// Captions.
    pub annotations: Vec<CocoCaption>,
}

/// Options of the COCO captions loader.
#[derive(Debug, Clone, PartialEq)]
pub struct CocoOptions {
    /// Folder the images are read from (the COCO root or the split's folder); `None` loads
    /// captions only.
    pub images_dir: Option<PathBuf>,
    /// Resize images to this square size (`None` keeps the original size).
    pub image_size: Option<u32>,
    /// How images are brought to the size.
    pub resize: ResizeMode,
    /// The split every instance gets.
    pub split: Split,
    /// Skip bad records (reported) instead of failing on the first.
    pub skip_bad: bool,
    /// Keep the decoded images; `false` only checks that they decode.
    pub keep_images: bool,
}

impl Default for CocoOptions {
    fn default() -> Self {
        Self {
            images_dir: None,
            image_size: Some(64),
            resize: ResizeMode::CenterCrop,
            split: Split::Test,
            skip_bad: false,
            keep_images: true,
        }
    }
}

#[derive(Deserialize)]
struct RawFile<'a> {
    #[serde(borrow)]
    images: Vec<&'a RawValue>,
    #[serde(borrow)]
    annotations: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<u64>,
}

/// The subtype folder of a COCO image (`train2014`), from its file name
/// (`COCO_train2014_000000057870.jpg`) or the annotation file's (`captions_val2017.json`).
pub fn subtype(file_name: &str, annotation_file: &Path) -> Option<String> {
    if let Some(rest) = file_name.strip_prefix("COCO_")
        && let Some((sub, _)) = rest.split_once('_')
    {
        return Some(sub.to_string());
    }
    let stem = annotation_file.file_stem()?.to_str()?;
    stem.strip_prefix("captions_").map(str::to_string)
}

/// The record reference of `images[index]` or `annotations[index]`: the file, with the list
/// named after it.
fn record(path: &Path, list: &str, index: usize, id: Option<u64>) -> RecordRef {
    RecordRef::new(format!("{} ({list})", path.display()), index, id)
}

fn parse<T: serde::de::DeserializeOwned>(
    raw: &RawValue,
    r: RecordRef,
    expected: &'static str,
) -> Result<T, DataError> {
    serde_json::from_str(raw.get()).map_err(|e| DataError::BadRecord {
        record: r,
        expected,
        message: e.to_string(),
    })
}

/// Loads a COCO captions annotation file: one instance per image, its captions in the
/// order of `annotations`, their ids as sentence ids.
///
/// # Errors
///
/// [`DataError::Io`] and [`DataError::Json`] for the file; for a record (unless
/// `skip_bad`): [`DataError::BadRecord`] (wrong fields, or a caption of an image that
/// `images` does not list), [`DataError::DuplicateId`], [`DataError::EmptyCaption`],
/// [`DataError::NoCaptions`], [`DataError::PathEscapes`], [`DataError::MissingImage`],
/// [`DataError::BadImage`].
pub fn load_coco_captions(
    path: &Path,
    opts: &CocoOptions,
) -> Result<(Vec<Instance>, LoadReport), DataError> {
    let text = read_to_string(path)?;
    let file: RawFile = serde_json::from_str(&text).map_err(|e| {
        DataError::json(
            path,
            "a COCO captions file {\"images\": [...], \"annotations\": [...]}",
            &e,
        )
    })?;
    let mut report = LoadReport {
        files: vec![path.to_path_buf()],
        total: file.images.len(),
        ..LoadReport::default()
    };
    let mut images: Vec<(usize, CocoImage)> = Vec::with_capacity(file.images.len());
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    for (index, raw) in file.images.iter().enumerate() {
        let id = serde_json::from_str::<IdOnly>(raw.get())
            .ok()
            .and_then(|x| x.id);
        let r = record(path, "images", index, id);
        let img: CocoImage = match parse(raw, r.clone(), "{id, file_name, width, height}") {
            Ok(img) => img,
            Err(err) => {
                skip_or_fail(&mut report, opts.skip_bad, err)?;
                continue;
            }
        };
        if let Some(&first) = by_id.get(&img.id) {
            let err = DataError::DuplicateId {
                record: r,
                what: "image id",
                id: img.id,
                first: images[first].0,
            };
            skip_or_fail(&mut report, opts.skip_bad, err)?;
            continue;
        }
        by_id.insert(img.id, images.len());
        images.push((index, img));
    }
    let mut captions: Vec<Vec<(u64, String, usize)>> = vec![Vec::new(); images.len()];
    for (index, raw) in file.annotations.iter().enumerate() {
        let id = serde_json::from_str::<IdOnly>(raw.get())
            .ok()
            .and_then(|x| x.id);
        let r = record(path, "annotations", index, id);
        let cap: CocoCaption = match parse(raw, r.clone(), "{id, image_id, caption}") {
            Ok(c) => c,
            Err(err) => {
                skip_or_fail(&mut report, opts.skip_bad, err)?;
                continue;
            }
        };
        match by_id.get(&cap.image_id) {
            Some(&k) => captions[k].push((cap.id, cap.caption, index)),
            None => {
                let err = DataError::BadRecord {
                    record: r,
                    expected: "an image_id listed in `images`",
                    message: format!("image {} is not in `images`", cap.image_id),
                };
                skip_or_fail(&mut report, opts.skip_bad, err)?;
            }
        }
    }
    let mut pending = Vec::with_capacity(images.len());
    for ((index, img), caps) in images.into_iter().zip(captions) {
        let r = record(path, "images", index, Some(img.id));
        match convert(img, caps, &r, path, opts) {
            Ok((inst, p)) => pending.push((inst, p, r)),
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

fn convert(
    img: CocoImage,
    caps: Vec<(u64, String, usize)>,
    r: &RecordRef,
    path: &Path,
    opts: &CocoOptions,
) -> Result<(Instance, Option<PathBuf>), DataError> {
    if caps.is_empty() {
        return Err(DataError::NoCaptions { record: r.clone() });
    }
    let mut captions = Vec::with_capacity(caps.len());
    let mut sentids = Vec::with_capacity(caps.len());
    for (k, (id, text, _)) in caps.into_iter().enumerate() {
        let text = text.trim();
        if text.is_empty() {
            return Err(DataError::EmptyCaption {
                record: r.clone(),
                sentence: k,
            });
        }
        captions.push(text.to_string());
        sentids.push(id);
    }
    let image_path = match &opts.images_dir {
        None => None,
        Some(dir) => {
            let direct = crate::paths::inside(dir, &img.file_name, r)?;
            let nested = subtype(&img.file_name, path)
                .map(|sub| crate::paths::inside(dir, &format!("{sub}/{}", img.file_name), r))
                .transpose()?;
            Some(match nested {
                Some(n) if !direct.is_file() && n.is_file() => n,
                _ => direct,
            })
        }
    };
    Ok((
        Instance {
            id: img.id,
            split: opts.split,
            filename: img.file_name,
            image: None,
            captions,
            sentids,
            side_text: img.side_text,
            questions: Vec::new(),
            corruptions: Vec::new(),
        },
        image_path,
    ))
}

/// The captions file of `instances` (images as `file_name`, sizes from the decoded images,
/// captions with their sentence ids).
pub fn to_coco_file(instances: &[Instance], description: &str) -> CocoCaptionsFile {
    let images = instances
        .iter()
        .map(|i| CocoImage {
            id: i.id,
            file_name: i.filename.clone(),
            width: i.image.as_ref().map(|m| m.width()),
            height: i.image.as_ref().map(|m| m.height()),
            side_text: i.side_text.clone(),
        })
        .collect();
    let annotations = instances
        .iter()
        .flat_map(|i| {
            i.captions
                .iter()
                .zip(&i.sentids)
                .map(|(c, &id)| CocoCaption {
                    id,
                    image_id: i.id,
                    caption: c.clone(),
                })
        })
        .collect();
    CocoCaptionsFile {
        info: serde_json::json!({ "description": description }),
        licenses: serde_json::json!([]),
        images,
        annotations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"info": {}, "licenses": [],
      "images": [{"id": 7, "file_name": "COCO_val2014_000000000007.jpg", "width": 2, "height": 2},
                 {"id": 9, "file_name": "b.jpg"}],
      "annotations": [{"id": 1, "image_id": 7, "caption": "A dog. "},
                      {"id": 2, "image_id": 9, "caption": "Two cats."},
                      {"id": 3, "image_id": 7, "caption": "A brown dog."}]}"#;

    #[test]
    fn reads_images_with_their_captions_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("captions_val2014.json");
        std::fs::write(&p, GOOD).unwrap();
        let (inst, rep) = load_coco_captions(&p, &CocoOptions::default()).unwrap();
        assert!(rep.is_clean());
        assert_eq!(inst.len(), 2);
        assert_eq!(inst[0].captions, ["A dog.", "A brown dog."]);
        assert_eq!(inst[0].sentids, [1, 3]);
        assert_eq!(inst[1].split, Split::Test);
        assert_eq!(
            subtype("COCO_val2014_000000000007.jpg", &p).as_deref(),
            Some("val2014")
        );
        assert_eq!(
            subtype("000000000007.jpg", Path::new("captions_train2017.json")).as_deref(),
            Some("train2017")
        );
    }

    #[test]
    fn bad_records_are_named_and_can_be_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("captions_bad.json");
        std::fs::write(
            &p,
            r#"{"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 1, "file_name": "b.jpg"},
                          {"id": 2}, {"id": 3, "file_name": "c.jpg"}, {"id": 4, "file_name": "d.jpg"}],
               "annotations": [{"id": 10, "image_id": 1, "caption": "ok"},
                               {"id": 11, "image_id": 99, "caption": "orphan"},
                               {"id": 12, "image_id": 4, "caption": "  "}]}"#,
        )
        .unwrap();
        let e = load_coco_captions(&p, &CocoOptions::default()).unwrap_err();
        assert!(matches!(e, DataError::DuplicateId { id: 1, .. }), "{e}");
        assert!(
            e.to_string()
                .contains("captions_bad.json (images): record 1 (id 1)"),
            "{e}"
        );
        let opts = CocoOptions {
            skip_bad: true,
            ..CocoOptions::default()
        };
        let (inst, rep) = load_coco_captions(&p, &opts).unwrap();
        assert_eq!(inst.len(), 1);
        let kinds: Vec<String> = rep.skipped.iter().map(|e| e.to_string()).collect();
        assert_eq!(rep.skipped.len(), 5, "{kinds:#?}");
        assert!(matches!(rep.skipped[1], DataError::BadRecord { .. }));
        assert!(
            kinds[2].contains("image 99 is not in `images`"),
            "{}",
            kinds[2]
        );
        assert!(matches!(rep.skipped[3], DataError::NoCaptions { .. }));
        assert!(matches!(rep.skipped[4], DataError::EmptyCaption { .. }));
    }

    #[test]
    fn image_paths_may_not_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("captions_x.json");
        std::fs::write(
            &p,
            r#"{"images": [{"id": 1, "file_name": "../../etc/passwd"}],
               "annotations": [{"id": 10, "image_id": 1, "caption": "ok"}]}"#,
        )
        .unwrap();
        let opts = CocoOptions {
            images_dir: Some(dir.path().join("imgs")),
            ..CocoOptions::default()
        };
        let e = load_coco_captions(&p, &opts).unwrap_err();
        assert!(matches!(e, DataError::PathEscapes { .. }), "{e}");
    }
}
