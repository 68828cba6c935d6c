//! Batch-time corruption for corruption-aware training: with probability `p_image` the image
//! of an instance is corrupted (or dropped), else with probability `p_text` its text, else
//! with probability `p_pair` the pair is misaligned; one modality at most, as DESIGN §1's
//! training loss asks. The corruption is drawn uniformly from the configured lists and the
//! severity uniformly from the configured range; `salt` (the epoch) changes the draw.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::CorruptError;
use super::image::ImageCorruption;
use super::pair::{DonorPool, PairCorruption, misalign_now};
use super::rng::{CorruptRng, RngKey, index, unit};
use super::spec::{Corruption, SpecEntry, apply_entry, mark_misaligned};
use super::synonyms::SynonymTable;
use super::text::{TextCorruption, TextTarget};
use crate::{Instance, InstanceTransform};

/// Configuration of [`CorruptionAugmenter`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CorruptionAugmenterConfig {
    /// Probability that the image is corrupted (including dropped, if `missing` is listed).
    pub p_image: f64,
    /// Probability that the text is corrupted (including dropped).
    pub p_text: f64,
    /// Probability that the pair is misaligned.
    pub p_pair: f64,
    /// Lowest severity drawn.
    pub severity_min: u8,
    /// Highest severity drawn.
    pub severity_max: u8,
    /// Image corruptions to draw from.
    pub image_corruptions: Vec<ImageCorruption>,
    /// Text corruptions to draw from.
    pub text_corruptions: Vec<TextCorruption>,
    /// Which text is corrupted.
    pub text_target: TextTarget,
    /// Which pair corruption misalignment uses.
    pub pair_corruption: PairCorruption,
    /// Seed of the augmentation draws.
    pub seed: u64,
}

impl Default for CorruptionAugmenterConfig {
    fn default() -> Self {
        Self {
            p_image: 0.15,
            p_text: 0.15,
            p_pair: 0.05,
            severity_min: 1,
            severity_max: 5,
            image_corruptions: ImageCorruption::ALL.to_vec(),
            text_corruptions: TextCorruption::ALL.to_vec(),
            text_target: TextTarget::Side,
            pair_corruption: PairCorruption::Misalign,
            seed: 0,
        }
    }
}

/// What the augmenter did to one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AugmentChoice {
    /// Left clean.
    Clean,
    /// Corrupted with this corruption at this severity.
    Corrupted(SpecEntry),
}

/// Corruption-aware training augmentation; an [`InstanceTransform`] with `salt` = epoch.
#[derive(Debug, Clone)]
pub struct CorruptionAugmenter {
    config: CorruptionAugmenterConfig,
    synonyms: Arc<SynonymTable>,
    donors: Option<Arc<DonorPool>>,
}

impl CorruptionAugmenter {
    /// Checks and builds the augmenter. `donors` (e.g. [`DonorPool::from_instances`] of the
    /// training set) is required when `p_pair > 0`.
    ///
    /// # Errors
    /// [`CorruptError::Augmenter`] for probabilities outside [0, 1] or summing above 1, a
    /// severity range outside 1–5 or reversed, an empty corruption list with a non-zero
    /// probability, `missing` on captions or questions, or `p_pair > 0` without donors.
    pub fn new(
        config: CorruptionAugmenterConfig,
        donors: Option<Arc<DonorPool>>,
    ) -> Result<Self, CorruptError> {
        let c = &config;
        for (n, p) in [
            ("p_image", c.p_image),
            ("p_text", c.p_text),
            ("p_pair", c.p_pair),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(CorruptError::Augmenter(format!(
                    "{n} = {p} is not a probability in [0, 1]"
                )));
            }
        }
        let total = c.p_image + c.p_text + c.p_pair;
        if total > 1.0 + 1e-12 {
            return Err(CorruptError::Augmenter(format!(
                "p_image + p_text + p_pair = {total} exceeds 1 (at most one modality is corrupted per instance)"
            )));
        }
        if !(1..=5).contains(&c.severity_min)
            || !(1..=5).contains(&c.severity_max)
            || c.severity_min > c.severity_max
        {
            return Err(CorruptError::Augmenter(format!(
                "severity range {}..={} must lie within 1..=5 with min <= max",
                c.severity_min, c.severity_max
            )));
        }
        if c.p_image > 0.0 && c.image_corruptions.is_empty() {
            return Err(CorruptError::Augmenter(
                "p_image > 0 but image_corruptions is empty".into(),
            ));
        }
        if c.p_text > 0.0 && c.text_corruptions.is_empty() {
            return Err(CorruptError::Augmenter(
                "p_text > 0 but text_corruptions is empty".into(),
            ));
        }
        if c.text_target != TextTarget::Side
            && c.text_corruptions.contains(&TextCorruption::Missing)
        {
            return Err(CorruptError::Augmenter(format!(
                "`missing` drops the side text only; remove it for text_target {}",
                c.text_target.prefix()
            )));
        }
        if c.p_pair > 0.0 && donors.as_ref().is_none_or(|d| d.len() < 2) {
            return Err(CorruptError::Augmenter(
                "p_pair > 0 needs a donor pool of at least two instances (DonorPool::from_instances of the training set)".into(),
            ));
        }
        Ok(Self {
            config,
            synonyms: Arc::new(SynonymTable::builtin()),
            donors,
        })
    }

    /// Replaces the synonym table.
    pub fn with_synonyms(mut self, synonyms: Arc<SynonymTable>) -> Self {
        self.synonyms = synonyms;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &CorruptionAugmenterConfig {
        &self.config
    }

    fn choice_rng(&self, id: u64, salt: u64) -> CorruptRng {
        RngKey {
            seed: self.config.seed,
            instance: id,
            corruption: "augment",
            severity: 1,
            salt,
        }
        .rng()
    }

    /// What [`InstanceTransform::apply`] does to instance `id` at `salt`.
    pub fn choose(&self, id: u64, salt: u64) -> AugmentChoice {
        let c = &self.config;
        let mut rng = self.choice_rng(id, salt);
        let u = unit(&mut rng);
        let span = usize::from(c.severity_max - c.severity_min) + 1;
        let severity = c.severity_min + index(&mut rng, span) as u8;
        let corruption = if u < c.p_image {
            Corruption::Image(c.image_corruptions[index(&mut rng, c.image_corruptions.len())])
        } else if u < c.p_image + c.p_text {
            Corruption::Text(
                c.text_target,
                c.text_corruptions[index(&mut rng, c.text_corruptions.len())],
            )
        } else if u < c.p_image + c.p_text + c.p_pair {
            Corruption::Pair(c.pair_corruption)
        } else {
            return AugmentChoice::Clean;
        };
        AugmentChoice::Corrupted(SpecEntry {
            corruption,
            severity,
        })
    }
}

impl InstanceTransform for CorruptionAugmenter {
    fn apply(&self, instance: &mut Instance, salt: u64) {
        let AugmentChoice::Corrupted(entry) = self.choose(instance.id, salt) else {
            return;
        };
        let name = entry.corruption.name();
        let mut rng = RngKey {
            seed: self.config.seed,
            instance: instance.id,
            corruption: &name,
            severity: entry.severity,
            salt,
        }
        .rng();
        match entry.corruption {
            // Training misaligns whenever chosen; the severity-dependent rate is for evaluation.
            Corruption::Pair(p) => {
                let donors = self
                    .donors
                    .as_deref()
                    .expect("new() checked donors for p_pair > 0");
                if misalign_now(instance, p, donors, None, &mut rng).is_some() {
                    mark_misaligned(instance, p, entry.severity);
                }
            }
            _ => apply_entry(&entry, instance, &self.synonyms, None, None, &mut rng),
        }
    }
}
