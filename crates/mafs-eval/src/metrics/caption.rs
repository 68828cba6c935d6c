//! Caption metrics from raw captions or COCO caption files, as `COCOEvalCap.evaluate()`
//! computes them: PTB tokenisation and punctuation removal of results and references, then
//! BLEU-1..4, ROUGE-L and CIDEr-D (METEOR and SPICE, which need Java at scoring time, are
//! not computed).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::bleu::bleu;
use super::cider::cider_d;
use super::error::{MetricsError, Result};
use super::id::{Id, read_json, records};
use super::ptb_tokenizer::PtbTokenizer;
use super::rouge::rouge_l;
use super::vqa::first_ids;

/// One item to score: a generated caption and its human references, raw (untokenised).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionSample {
    /// The generated caption.
    pub candidate: String,
    /// The reference captions (at least one).
    pub references: Vec<String>,
}

/// Scores of one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptionItemScores {
    /// The image (or the sample's index when scoring in-memory samples).
    pub image_id: Id,
    /// BLEU-1..4.
    #[serde(rename = "Bleu")]
    pub bleu: [f64; 4],
    /// CIDEr-D.
    #[serde(rename = "CIDEr")]
    pub cider: f64,
    /// ROUGE-L.
    #[serde(rename = "ROUGE_L")]
    pub rouge_l: f64,
}

/// Corpus caption metrics (the names of `COCOEvalCap.eval`) and per-item scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptionMetrics {
    /// BLEU-1..4 (`Bleu_1` .. `Bleu_4`).
    pub bleu: [f64; 4],
    /// CIDEr-D (`CIDEr`).
    pub cider: f64,
    /// ROUGE-L (`ROUGE_L`).
    pub rouge_l: f64,
    /// Per-item scores, in evaluation order.
    pub per_item: Vec<CaptionItemScores>,
}

impl CaptionMetrics {
    /// The corpus metrics under the names pycocoevalcap uses.
    pub fn named(&self) -> BTreeMap<&'static str, f64> {
        BTreeMap::from([
            ("Bleu_1", self.bleu[0]),
            ("Bleu_2", self.bleu[1]),
            ("Bleu_3", self.bleu[2]),
            ("Bleu_4", self.bleu[3]),
            ("CIDEr", self.cider),
            ("ROUGE_L", self.rouge_l),
        ])
    }
}

/// Tokenises and scores captions. Build once (the tokenizer compiles its rules) and reuse.
#[derive(Debug, Default)]
pub struct CaptionScorer {
    tokenizer: PtbTokenizer,
}

impl CaptionScorer {
    /// A scorer with the COCO caption evaluation's tokenizer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tokenizer in use.
    pub fn tokenizer(&self) -> &PtbTokenizer {
        &self.tokenizer
    }

    /// Scores in-memory samples; the per-item ids are the sample indices.
    ///
    /// # Errors
    /// [`MetricsError::InvalidInput`] if there is no sample or a sample has no reference.
    pub fn score(&self, samples: &[CaptionSample]) -> Result<CaptionMetrics> {
        let ids: Vec<Id> = (0..samples.len() as i64).map(Id::Int).collect();
        let cands: Vec<&str> = samples.iter().map(|s| s.candidate.as_str()).collect();
        let refs: Vec<Vec<&str>> = samples
            .iter()
            .map(|s| s.references.iter().map(String::as_str).collect())
            .collect();
        self.score_raw(&ids, &cands, &refs)
    }

    fn score_raw(&self, ids: &[Id], cands: &[&str], refs: &[Vec<&str>]) -> Result<CaptionMetrics> {
        // COCOEvalCap tokenises the references and the results as two files, one caption
        // a line, in evaluation order (`tokenizer.tokenize(gts)`, `tokenizer.tokenize(res)`).
        let cands = self.tokenizer.tokenize_lines(cands);
        let flat: Vec<&str> = refs.iter().flatten().copied().collect();
        let mut flat_tok = self.tokenizer.tokenize_lines(&flat).into_iter();
        let refs: Vec<Vec<String>> = refs
            .iter()
            .map(|r| flat_tok.by_ref().take(r.len()).collect())
            .collect();
        let b = bleu(&cands, &refs)?;
        let c = cider_d(&cands, &refs)?;
        let r = rouge_l(&cands, &refs)?;
        let per_item = ids
            .iter()
            .enumerate()
            .map(|(i, id)| CaptionItemScores {
                image_id: id.clone(),
                bleu: b.per_item[i],
                cider: c.per_item[i],
                rouge_l: r.per_item[i],
            })
            .collect();
        Ok(CaptionMetrics {
            bleu: b.corpus,
            cider: c.corpus,
            rouge_l: r.corpus,
            per_item,
        })
    }
}

/// One caption of a COCO caption annotation or result file.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CocoCaption {
    /// The image.
    pub image_id: Id,
    /// The caption text.
    pub caption: String,
}

/// One entry of the `images` list.
#[derive(Debug, Clone, Deserialize)]
pub struct CocoImage {
    /// The image id.
    pub id: Id,
}

/// A COCO caption annotation file (`captions_val2014.json` layout).
#[derive(Debug, Clone, Deserialize)]
pub struct CocoCaptionAnnotations {
    /// The reference captions.
    pub annotations: Vec<CocoCaption>,
    /// The images; `COCOEvalCap` evaluates exactly these (`coco.getImgIds()`).
    #[serde(default)]
    pub images: Option<Vec<CocoImage>>,
}

/// Which images are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageSet {
    /// Every image of the annotation file (`params['image_id'] = coco.getImgIds()`, the
    /// default of `COCOEvalCap`): each needs exactly one result.
    #[default]
    AllAnnotated,
    /// Only the images that have a result (`coco_eval.params['image_id'] =
    /// coco_result.getImgIds()`, as the pycocoevalcap example and BLIP do).
    WithResults,
}

/// Evaluates COCO caption results against annotations, as `COCOEvalCap` does.
///
/// # Errors
/// A result for an image the annotations do not have (`loadRes` asserts this), more than
/// one result for an image, images without results (with [`ImageSet::AllAnnotated`]), or an
/// evaluated image without reference captions.
pub fn evaluate_captions(
    scorer: &CaptionScorer,
    annotations: &CocoCaptionAnnotations,
    results: &[CocoCaption],
    image_set: ImageSet,
    annotations_path: &Path,
    results_path: &Path,
) -> Result<CaptionMetrics> {
    let mut refs: HashMap<&Id, Vec<&str>> = HashMap::new();
    for a in &annotations.annotations {
        refs.entry(&a.image_id).or_default().push(&a.caption);
    }
    // Annotated images, in file order: the `images` list when present, otherwise the
    // images of the annotations in order of first appearance.
    let mut annotated: Vec<&Id> = Vec::new();
    let mut seen = HashSet::new();
    match &annotations.images {
        Some(images) if !images.is_empty() => {
            for (i, im) in images.iter().enumerate() {
                if !seen.insert(&im.id) {
                    return Err(MetricsError::Record {
                        path: annotations_path.to_path_buf(),
                        record: format!("images[{i}] (id {})", im.id),
                        message: "duplicate image id".into(),
                    });
                }
                annotated.push(&im.id);
            }
        }
        _ => {
            for a in &annotations.annotations {
                if seen.insert(&a.image_id) {
                    annotated.push(&a.image_id);
                }
            }
        }
    }
    let mut res: HashMap<&Id, &str> = HashMap::new();
    for (i, r) in results.iter().enumerate() {
        let rec = || format!("results[{i}] (image_id {})", r.image_id);
        if !seen.contains(&r.image_id) {
            return Err(MetricsError::Record {
                path: results_path.to_path_buf(),
                record: rec(),
                message: "image_id is not in the annotation file".into(),
            });
        }
        if res.insert(&r.image_id, &r.caption).is_some() {
            return Err(MetricsError::Record {
                path: results_path.to_path_buf(),
                record: rec(),
                message: "more than one result for this image (the evaluation needs exactly one)"
                    .into(),
            });
        }
    }
    let evaluated: Vec<&Id> = match image_set {
        ImageSet::AllAnnotated => {
            let missing: Vec<&Id> = annotated
                .iter()
                .copied()
                .filter(|id| !res.contains_key(id))
                .collect();
            if !missing.is_empty() {
                return Err(MetricsError::MissingResults {
                    path: results_path.to_path_buf(),
                    what: "images",
                    count: missing.len(),
                    total: annotated.len(),
                    first: first_ids(&missing),
                });
            }
            annotated
        }
        ImageSet::WithResults => annotated
            .into_iter()
            .filter(|id| res.contains_key(id))
            .collect(),
    };
    if evaluated.is_empty() {
        return Err(MetricsError::InvalidInput(format!(
            "{}: no image to evaluate",
            results_path.display()
        )));
    }
    let mut cands = Vec::with_capacity(evaluated.len());
    let mut ref_lists = Vec::with_capacity(evaluated.len());
    for id in &evaluated {
        let r = refs.get(id).ok_or_else(|| MetricsError::Record {
            path: annotations_path.to_path_buf(),
            record: format!("image {id}"),
            message: "listed in images but has no reference caption".into(),
        })?;
        cands.push(res[id]);
        ref_lists.push(r.clone());
    }
    let ids: Vec<Id> = evaluated.into_iter().cloned().collect();
    scorer.score_raw(&ids, &cands, &ref_lists)
}

/// Reads a COCO caption result file and annotation file and evaluates them
/// ([`evaluate_captions`]).
///
/// # Errors
/// Unreadable or malformed files, and the errors of [`evaluate_captions`].
pub fn evaluate_caption_files(
    results: &Path,
    annotations: &Path,
    image_set: ImageSet,
) -> Result<CaptionMetrics> {
    let ann_json = read_json(annotations, "COCO caption annotation")?;
    let images = match ann_json.get("images") {
        None | Some(serde_json::Value::Null) => None,
        Some(_) => Some(records(annotations, &ann_json, Some("images"), "images")?),
    };
    let ann = CocoCaptionAnnotations {
        annotations: records(annotations, &ann_json, Some("annotations"), "annotations")?,
        images,
    };
    let res: Vec<CocoCaption> = records(
        results,
        &read_json(results, "COCO caption results")?,
        None,
        "results",
    )?;
    evaluate_captions(
        &CaptionScorer::new(),
        &ann,
        &res,
        image_set,
        annotations,
        results,
    )
}
