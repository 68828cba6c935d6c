//! The one instance type every source produces.

use image::RgbImage;
use serde::{Deserialize, Serialize};

/// A dataset split. `Shift` is the built-in world's domain-shift split (unseen palette,
/// textures and caption templates). Its names (`train`, `val`, `test`, `shift`) are written
/// and parsed by strum from the variant names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = crate::DataError,
    parse_err_fn = unknown_split
)]
pub enum Split {
    /// Training split.
    Train,
    /// Validation split (Karpathy's `val`; `restval` is folded into `Train` by loaders that
    /// are asked to).
    Val,
    /// Test split.
    Test,
    /// Domain-shift split.
    Shift,
}

fn unknown_split(s: &str) -> crate::DataError {
    crate::DataError::UnknownSplit {
        split: s.to_string(),
        context: "split name".to_string(),
    }
}

impl Split {
    /// All splits, in order.
    pub const ALL: [Split; 4] = [Split::Train, Split::Val, Split::Test, Split::Shift];

    /// Lower-case name, as in Karpathy JSON (`"train"`, `"val"`, `"test"`) plus `"shift"`.
    pub fn as_str(&self) -> &'static str {
        self.into()
    }
}

/// One visual question with its human answers (VQA v2 has 10 per question).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Qa {
    /// VQA v2 `question_id`.
    pub question_id: u64,
    /// Question text.
    pub question: String,
    /// Question type (`"color"`, `"shape"`, `"count"`, `"exist"`, `"relation"`, or the VQA v2
    /// `question_type` string).
    pub question_type: String,
    /// VQA v2 `answer_type` (`"yes/no"`, `"number"`, `"other"`).
    pub answer_type: String,
    /// The human answers, raw (usually 10).
    pub answers: Vec<String>,
    /// The most frequent answer (VQA v2 `multiple_choice_answer`), the training target.
    pub answer: String,
}

/// One instance: an image, its captions, a side text and its questions.
///
/// A missing modality is `None`, never a placeholder: the batcher turns `None` into a
/// presence mask of 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Stable id within its dataset (Karpathy `imgid`, VQA `image_id`, world scene index).
    /// Corruptions are seeded by it, so it must not change when a dataset is re-read.
    pub id: u64,
    /// Split the instance belongs to.
    pub split: Split,
    /// File name of the image (for export and error messages).
    pub filename: String,
    /// RGB image, `None` when missing.
    pub image: Option<RgbImage>,
    /// Reference captions (the world makes 5).
    pub captions: Vec<String>,
    /// Karpathy `sentids`, one per caption.
    pub sentids: Vec<u64>,
    /// Side text (noisy alt-text / tag list), `None` when missing.
    pub side_text: Option<String>,
    /// Visual questions about the image.
    pub questions: Vec<Qa>,
    /// What corruptions did to the instance's modalities, in the order they were applied
    /// (empty for data as the dataset gave it). Written by the corruption suite, read by the
    /// batcher into each modality's [`mafs_core::CorruptionFlags`].
    pub corruptions: Vec<CorruptionMark>,
}

/// A record that a corruption touched one modality of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptionMark {
    /// The modality's batch name (`image`, `side_text`, `caption`, `question`).
    pub modality: &'static str,
    /// What was done to it.
    pub corruption: mafs_core::ModalityCorruption,
}

impl Instance {
    /// Records that `corruption` touched `modality` (the last record of a modality wins).
    pub fn mark(&mut self, modality: &'static str, corruption: mafs_core::ModalityCorruption) {
        self.corruptions.retain(|m| m.modality != modality);
        self.corruptions.push(CorruptionMark {
            modality,
            corruption,
        });
    }

    /// What was done to `modality` (clean when nothing was recorded).
    pub fn corruption_of(&self, modality: &str) -> mafs_core::ModalityCorruption {
        self.corruptions
            .iter()
            .rev()
            .find(|m| m.modality == modality)
            .map(|m| m.corruption.clone())
            .unwrap_or_default()
    }
}

/// A per-instance transformation applied before batching: corruptions at evaluation,
/// corruption-aware augmentation in training. Implementations must be deterministic given
/// (`instance.id`, `salt`): the same salt on the same instance gives the same output.
pub trait InstanceTransform: Send + Sync + std::fmt::Debug {
    /// Transforms one instance in place. `salt` varies what a random transform draws (the
    /// training loop passes the epoch; evaluation passes 0).
    fn apply(&self, instance: &mut Instance, salt: u64);
}
