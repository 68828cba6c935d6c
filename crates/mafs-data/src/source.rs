//! Where a run's (or an evaluation's) data comes from: [`DataSource`], the `--data` spec
//! that names it, and [`load_splits`], which reads its splits in any of the formats.
//!
//! | spec | splits |
//! | --- | --- |
//! | `world` | the built-in world: train, val, test, shift |
//! | `karpathy:FILE` | the file's `split` fields (`restval` to train) |
//! | `vqa:Q,A` | one VQA v2 pair, images held out 80/10/10 by id |
//! | `vqa:train=Q,A;val=Q,A[;test=Q[,A]][;layout=coco\|id\|PATTERN]` | VQA v2 as it ships: train; the val pair is the test split (as the VQA papers report), and 1 image in 50 of train (by id) is held out as val; with `test=` given, val is val and test is test. Images in COCO's layout unless `layout=` says otherwise (`id`: `<image_id>.png`, our exports) |
//! | `coco:train=F;val=F;test=F` | COCO captions files, one per split (any subset) |
//! | `wds:train=S;val=S;test=S` | WebDataset shards: a `.tar`, a folder of them, or `s-{000..009}.tar`, several joined by `::` |
//! | `parquet:train=F;val=F;test=F` | parquet image-text tables (rows with a `split` column go to their split) |
//!
//! A single file (`coco:F`, `wds:S`, `parquet:F`) is the test split: the form for
//! evaluating a run on another dataset.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mafs_core::seed::mix;
use serde::{Deserialize, Serialize};

use crate::coco::{CocoOptions, load_coco_captions};
use crate::image_io::ResizeMode;
use crate::karpathy::{KarpathyOptions, load_karpathy};
use crate::report::LoadReport;
use crate::table::{TableOptions, load_table};
use crate::vqa::{ImageLayout, VqaOptions, load_vqa};
use crate::wds::{WdsOptions, load_webdataset, shards};
use crate::world::{World, WorldConfig};
use crate::{DataError, Instance, Split};

/// A VQA v2 questions file and, except for test-dev files, its annotations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VqaPair {
    /// Questions file.
    pub questions: PathBuf,
    /// Annotations file.
    pub annotations: Option<PathBuf>,
}

/// A file (or shard spec) per split; any may be absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SplitFiles {
    /// Training split.
    pub train: Option<String>,
    /// Validation split.
    pub val: Option<String>,
    /// Test split.
    pub test: Option<String>,
}

impl SplitFiles {
    /// The `(split, file)` pairs given.
    pub fn given(&self) -> Vec<(Split, &str)> {
        [
            (Split::Train, &self.train),
            (Split::Val, &self.val),
            (Split::Test, &self.test),
        ]
        .into_iter()
        .filter_map(|(s, f)| f.as_deref().map(|f| (s, f)))
        .collect()
    }
}

/// Where the data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum DataSource {
    /// The built-in world.
    World {
        /// World seed.
        seed: u64,
        /// Training scenes.
        train: usize,
        /// Validation scenes.
        val: usize,
        /// Test scenes.
        test: usize,
        /// Domain-shift scenes.
        shift: usize,
    },
    /// A Karpathy-split caption JSON with its image folder.
    Karpathy {
        /// The JSON file.
        file: PathBuf,
        /// The image folder.
        images: PathBuf,
    },
    /// One VQA v2 questions/annotations pair with the image folder (held out 80/10/10).
    Vqa {
        /// Questions file.
        questions: PathBuf,
        /// Annotations file.
        annotations: PathBuf,
        /// The image folder.
        images: PathBuf,
    },
    /// VQA v2 as it ships: a pair per split.
    #[serde(rename = "vqa_splits")]
    VqaSplits {
        /// Training pair.
        train: Option<VqaPair>,
        /// Validation pair (the test split unless `test` is given).
        val: Option<VqaPair>,
        /// Test questions (and annotations where they exist).
        test: Option<VqaPair>,
        /// The image folder (COCO root or split folder).
        images: PathBuf,
        /// Image file names (`layout=coco|id|PATTERN` in the spec; COCO's by default).
        #[serde(default)]
        layout: Option<ImageLayout>,
    },
    /// COCO captions annotation files.
    Coco {
        /// One file per split.
        files: SplitFiles,
        /// The image folder (COCO root or split folder).
        images: PathBuf,
    },
    /// WebDataset shards.
    #[serde(rename = "webdataset")]
    WebDataset {
        /// One shard spec per split.
        shards: SplitFiles,
    },
    /// Parquet image-text tables.
    Parquet {
        /// One table per split.
        files: SplitFiles,
        /// Folder of images given by path only.
        images: Option<PathBuf>,
    },
}

fn spec_err(spec: &str, expected: &str) -> DataError {
    DataError::InvalidConfig {
        field: "--data".into(),
        expected: expected.into(),
        found: format!("`{spec}`"),
    }
}

/// `KEY=VALUE;KEY=VALUE` (keys train, val, test), or a single value (the test split).
fn split_files(spec: &str, body: &str) -> Result<SplitFiles, DataError> {
    let mut out = SplitFiles::default();
    if !body.contains('=') {
        if body.is_empty() {
            return Err(spec_err(
                spec,
                "a file after the format, e.g. coco:captions_val2014.json",
            ));
        }
        out.test = Some(body.to_string());
        return Ok(out);
    }
    for part in body.split(';').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| spec_err(spec, "parts like train=FILE separated by `;`"))?;
        let slot = match k.trim() {
            "train" => &mut out.train,
            "val" => &mut out.val,
            "test" => &mut out.test,
            other => {
                return Err(spec_err(
                    spec,
                    &format!("split names train, val or test (not `{other}`)"),
                ));
            }
        };
        *slot = Some(v.trim().to_string());
    }
    Ok(out)
}

fn vqa_pair(spec: &str, v: &str, need_annotations: bool) -> Result<VqaPair, DataError> {
    let mut parts = v.split(',').map(str::trim);
    let q = parts.next().filter(|q| !q.is_empty());
    let a = parts.next().filter(|a| !a.is_empty());
    match (q, a) {
        (Some(q), a) if a.is_some() || !need_annotations => Ok(VqaPair {
            questions: q.into(),
            annotations: a.map(PathBuf::from),
        }),
        _ => Err(spec_err(
            spec,
            "QUESTIONS.json,ANNOTATIONS.json for train and val (test may be questions only)",
        )),
    }
}

impl DataSource {
    /// Training scenes of the built-in world when none are asked for (`mafs train`).
    pub const WORLD_TRAIN: usize = 2000;
    /// Validation and test scenes of the built-in world (each) when none are asked for.
    pub const WORLD_EVAL: usize = 500;
    /// Every spec form, for error messages and `--help`.
    pub const FORMS: &'static str = "world, karpathy:FILE, vqa:Q,A, vqa:train=Q,A;val=Q,A[;test=Q], coco:[train=]FILE[;val=FILE;test=FILE], wds:[train=]SHARDS[;...], parquet:[train=]FILE[;...]";

    /// [`DataSource::parse`], with the built-in world's training and validation/test sizes
    /// set (they are ignored for the real formats).
    ///
    /// # Errors
    /// Those of [`DataSource::parse`].
    pub fn parse_sized(
        spec: &str,
        images: Option<PathBuf>,
        seed: u64,
        world_train: usize,
        world_eval: usize,
    ) -> Result<Self, DataError> {
        Ok(match Self::parse(spec, images, seed)? {
            DataSource::World { seed, shift, .. } => DataSource::World {
                seed,
                train: world_train,
                val: world_eval,
                test: world_eval,
                shift,
            },
            other => other,
        })
    }

    /// Parses a `--data` spec (see the module documentation), with `images` for the
    /// formats whose records name image files.
    ///
    /// # Errors
    /// [`DataError::InvalidConfig`] naming the spec and what was expected.
    pub fn parse(spec: &str, images: Option<PathBuf>, seed: u64) -> Result<Self, DataError> {
        let need_images = |what: &str| {
            images
                .clone()
                .ok_or_else(|| spec_err(spec, &format!("--images DIR with --data {what}")))
        };
        if spec == "world" {
            return Ok(DataSource::World {
                seed,
                train: Self::WORLD_TRAIN,
                val: Self::WORLD_EVAL,
                test: Self::WORLD_EVAL,
                shift: 500,
            });
        }
        let (format, body) = spec
            .split_once(':')
            .ok_or_else(|| spec_err(spec, Self::FORMS))?;
        match format {
            "karpathy" => Ok(DataSource::Karpathy {
                file: body.into(),
                images: need_images("karpathy:FILE")?,
            }),
            "vqa" if !body.contains('=') => {
                let pair = vqa_pair(spec, body, true)?;
                Ok(DataSource::Vqa {
                    questions: pair.questions,
                    annotations: pair.annotations.expect("required above"),
                    images: need_images("vqa:Q,A")?,
                })
            }
            "vqa" => {
                let mut layout = None;
                let mut rest = Vec::new();
                for part in body.split(';') {
                    match part.trim().strip_prefix("layout=") {
                        Some("coco") => layout = Some(ImageLayout::Coco { subtype: None }),
                        Some("id") => layout = Some(ImageLayout::ById),
                        Some(p) if p.contains("{image_id") => {
                            layout = Some(ImageLayout::Pattern(p.to_string()));
                        }
                        Some(_) => {
                            return Err(spec_err(
                                spec,
                                "layout=coco, layout=id or a pattern with {image_id}",
                            ));
                        }
                        None => rest.push(part),
                    }
                }
                let f = split_files(spec, &rest.join(";"))?;
                let train = f.train.map(|v| vqa_pair(spec, &v, true)).transpose()?;
                let val = f.val.map(|v| vqa_pair(spec, &v, true)).transpose()?;
                let test = f.test.map(|v| vqa_pair(spec, &v, false)).transpose()?;
                Ok(DataSource::VqaSplits {
                    train,
                    val,
                    test,
                    images: need_images("vqa:train=Q,A;val=Q,A")?,
                    layout,
                })
            }
            "coco" => Ok(DataSource::Coco {
                files: split_files(spec, body)?,
                images: need_images("coco:...")?,
            }),
            "wds" | "webdataset" => Ok(DataSource::WebDataset {
                shards: split_files(spec, body)?,
            }),
            "parquet" => Ok(DataSource::Parquet {
                files: split_files(spec, body)?,
                images,
            }),
            _ => Err(spec_err(spec, Self::FORMS)),
        }
    }

    /// Whether instances of this source have VQA questions.
    pub fn has_questions(&self) -> bool {
        matches!(
            self,
            DataSource::World { .. } | DataSource::Vqa { .. } | DataSource::VqaSplits { .. }
        )
    }
}

/// How [`load_splits`] reads.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Square image size.
    pub image_size: u32,
    /// Only these splits (`None`: all).
    pub splits: Option<Vec<Split>>,
    /// Skip bad records (reported) instead of failing.
    pub skip_bad: bool,
    /// Keep the decoded images; `false` decodes each to check it and drops it (`mafs data
    /// check` on a large dataset).
    pub keep_images: bool,
}

impl LoadOptions {
    /// Every split at `image_size`, failing on the first bad record.
    pub fn new(image_size: u32) -> Self {
        Self {
            image_size,
            splits: None,
            skip_bad: false,
            keep_images: true,
        }
    }

    fn wants(&self, s: Split) -> bool {
        self.splits.as_ref().is_none_or(|v| v.contains(&s))
    }
}

/// The splits of a source, and what was read.
pub type Splits = BTreeMap<Split, Vec<Instance>>;

/// Reads the splits of a source (those asked for), with the report of every file read.
///
/// # Errors
/// The loaders' errors; [`DataError::InvalidConfig`] for a shard spec that names nothing.
pub fn load_splits(
    source: &DataSource,
    opts: &LoadOptions,
) -> Result<(Splits, LoadReport), DataError> {
    let size = Some(opts.image_size);
    let mut out: Splits = BTreeMap::new();
    let mut report = LoadReport::default();
    let add = |out: &mut Splits, split: Split, v: Vec<Instance>| {
        if opts.wants(split) {
            out.entry(split).or_default().extend(v);
        }
    };
    match source {
        DataSource::World {
            seed,
            train,
            val,
            test,
            shift,
        } => {
            let mut cfg = WorldConfig {
                seed: *seed,
                image_size: opts.image_size,
                ..WorldConfig::default()
            };
            for (split, n) in [
                (Split::Train, *train),
                (Split::Val, *val),
                (Split::Test, *test),
                (Split::Shift, *shift),
            ] {
                cfg.set_count(split, n);
            }
            let world = World::new(cfg)?;
            for split in Split::ALL.into_iter().filter(|s| opts.wants(*s)) {
                out.insert(split, world.split(split));
            }
        }
        DataSource::Karpathy { file, images } => {
            let kopts = KarpathyOptions {
                images_dir: Some(images.clone()),
                image_size: size,
                restval_as_train: true,
                splits: opts.splits.clone(),
                skip_bad: opts.skip_bad,
                keep_images: opts.keep_images,
                ..KarpathyOptions::default()
            };
            let (instances, r) = load_karpathy(file, &kopts)?;
            report.merge(r);
            for inst in instances {
                add(&mut out, inst.split, vec![inst]);
            }
        }
        DataSource::Vqa {
            questions,
            annotations,
            images,
        } => {
            let vopts = vqa_options(images, size, opts);
            let (instances, r) = load_vqa(questions, Some(annotations), &vopts)?;
            report.merge(r);
            // One VQA v2 file pair is one split: hold out images deterministically by id
            // (80/10/10) so that a run still validates and tests on unseen images.
            for mut inst in instances {
                inst.split = match mix(inst.id, 0) % 10 {
                    0 => Split::Val,
                    1 => Split::Test,
                    _ => Split::Train,
                };
                add(&mut out, inst.split, vec![inst]);
            }
        }
        DataSource::VqaSplits {
            train,
            val,
            test,
            images,
            layout,
        } => {
            let mut vopts = vqa_options(images, size, opts);
            if let Some(l) = layout {
                vopts.layout = l.clone();
            }
            let val_split = if test.is_some() {
                Split::Val
            } else {
                Split::Test
            };
            let read_train = opts.wants(Split::Train) || (test.is_none() && opts.wants(Split::Val));
            for (pair, split, wanted) in [
                (train, Split::Train, read_train),
                (val, val_split, opts.wants(val_split)),
                (test, Split::Test, test.is_some() && opts.wants(Split::Test)),
            ] {
                let Some(pair) = pair.as_ref().filter(|_| wanted) else {
                    continue;
                };
                let (instances, r) =
                    load_vqa(&pair.questions, pair.annotations.as_deref(), &vopts)?;
                report.merge(r);
                for mut inst in instances {
                    inst.split = split;
                    // Without a test file, 1 train image in 50 is the validation split.
                    if split == Split::Train
                        && test.is_none()
                        && mix(inst.id, 0x7A1).is_multiple_of(50)
                    {
                        inst.split = Split::Val;
                    }
                    add(&mut out, inst.split, vec![inst]);
                }
            }
        }
        DataSource::Coco { files, images } => {
            for (split, file) in files.given().into_iter().filter(|(s, _)| opts.wants(*s)) {
                let copts = CocoOptions {
                    images_dir: Some(images.clone()),
                    image_size: size,
                    resize: ResizeMode::CenterCrop,
                    split,
                    skip_bad: opts.skip_bad,
                    keep_images: opts.keep_images,
                };
                let (v, r) = load_coco_captions(std::path::Path::new(file), &copts)?;
                report.merge(r);
                add(&mut out, split, v);
            }
        }
        DataSource::WebDataset { shards: spec } => {
            for (split, s) in spec.given().into_iter().filter(|(s, _)| opts.wants(*s)) {
                let wopts = WdsOptions {
                    image_size: size,
                    split,
                    skip_bad: opts.skip_bad,
                    keep_images: opts.keep_images,
                    ..WdsOptions::default()
                };
                let (v, r) = load_webdataset(&shards::expand(s)?, &wopts)?;
                report.merge(r);
                add(&mut out, split, v);
            }
        }
        DataSource::Parquet { files, images } => {
            for (split, file) in files.given() {
                let topts = TableOptions {
                    images_dir: images.clone(),
                    image_size: size,
                    split,
                    skip_bad: opts.skip_bad,
                    keep_images: opts.keep_images,
                    ..TableOptions::default()
                };
                let (v, r) = load_table(std::path::Path::new(file), &topts)?;
                report.merge(r);
                for inst in v {
                    add(&mut out, inst.split, vec![inst]);
                }
            }
        }
    }
    Ok((out, report))
}

fn vqa_options(images: &std::path::Path, size: Option<u32>, opts: &LoadOptions) -> VqaOptions {
    VqaOptions {
        images_dir: Some(images.to_path_buf()),
        image_size: size,
        skip_bad: opts.skip_bad,
        keep_images: opts.keep_images,
        ..VqaOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_to_sources() {
        let img = Some(PathBuf::from("img"));
        assert!(matches!(
            DataSource::parse("world", None, 1).unwrap(),
            DataSource::World { seed: 1, .. }
        ));
        assert!(DataSource::parse("karpathy:a.json", None, 1).is_err());
        assert!(matches!(
            DataSource::parse("vqa:q.json,a.json", img.clone(), 1).unwrap(),
            DataSource::Vqa { .. }
        ));
        assert!(DataSource::parse("vqa:q.json", img.clone(), 1).is_err());
        let v = DataSource::parse(
            "vqa:train=tq.json,ta.json;val=vq.json,va.json;test=sq.json",
            img.clone(),
            1,
        )
        .unwrap();
        let DataSource::VqaSplits {
            train, val, test, ..
        } = v
        else {
            panic!("{v:?}")
        };
        assert_eq!(train.unwrap().annotations, Some("ta.json".into()));
        assert_eq!(val.unwrap().questions, PathBuf::from("vq.json"));
        assert_eq!(test.unwrap().annotations, None);
        assert!(DataSource::parse("vqa:train=tq.json", img.clone(), 1).is_err());
        let c = DataSource::parse("coco:captions_val2014.json", img.clone(), 1).unwrap();
        assert_eq!(
            c,
            DataSource::Coco {
                files: SplitFiles {
                    test: Some("captions_val2014.json".into()),
                    ..SplitFiles::default()
                },
                images: "img".into()
            }
        );
        let w = DataSource::parse("wds:train=a-{0..3}.tar;val=b.tar", None, 1).unwrap();
        let DataSource::WebDataset { shards } = w else {
            panic!()
        };
        assert_eq!(shards.given().len(), 2);
        assert!(DataSource::parse("parquet:x.parquet", None, 1).is_ok());
        let e = DataSource::parse("parquet:train=a;dev=b", None, 1).unwrap_err();
        assert!(e.to_string().contains("not `dev`"), "{e}");
        assert!(DataSource::parse("hdf5:x", None, 1).is_err());
    }

    #[test]
    fn sources_round_trip_through_json_and_old_run_configs_still_read() {
        let s = DataSource::parse("coco:train=a.json;val=b.json", Some("i".into()), 0).unwrap();
        let back: DataSource = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let old =
            r#"{"kind": "vqa", "questions": "q.json", "annotations": "a.json", "images": "i"}"#;
        assert!(matches!(
            serde_json::from_str::<DataSource>(old).unwrap(),
            DataSource::Vqa { .. }
        ));
    }
}
