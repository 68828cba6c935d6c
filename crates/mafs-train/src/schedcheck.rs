//! The per-epoch scheduler check: the validation split evaluated once clean and once as a
//! fixed corrupted copy (the run's own corruption-aware augmentation, drawn with a salt that
//! training never uses, so the copy is the same at every epoch), and what the corruption did
//! to each modality's weight. Logged each epoch, so a user sees the scheduler learn.

use std::sync::Arc;

use burn::tensor::Device;
use mafs_data::corrupt::{CorruptionAugmenter, DonorPool};
use mafs_data::{Instance, InstanceTransform};
use mafs_eval::weights::ModalityWeightShift;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;
use crate::error::TrainError;
use crate::eval::{EvalOptions, EvalReport, evaluate};
use crate::model::MafsModel;
use crate::vocabulary::Vocabulary;

/// The salt of the fixed corrupted copy (training salts are the epoch plus one).
pub const CHECK_SALT: u64 = 0;

/// What one epoch's check measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerCheck {
    /// Per modality: weight clean and on the corrupted copy, paired change, AUROC.
    pub shifts: Vec<ModalityWeightShift>,
}

impl SchedulerCheck {
    /// One line for the training log: per modality, the mean weight of its corrupted rows
    /// clean → corrupted, and the AUROC of the weight as a detector of the corruption.
    pub fn summary(&self) -> String {
        self.shifts
            .iter()
            .filter(|m| m.n_corrupted > 0)
            .map(|m| {
                format!(
                    "{} {:+.3} on {} corrupted (AUROC {})",
                    m.modality,
                    m.corrupted_change,
                    m.n_corrupted,
                    m.auroc.map_or("-".into(), |a| format!("{a:.3}"))
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The fixed corrupted copy's transform: the run's corruption-aware augmentation with donors
/// from `val`, or `None` when corruption-aware training is off.
///
/// # Errors
///
/// [`TrainError::Config`] for an augmentation the corruption suite rejects.
pub fn check_transform(
    config: &RunConfig,
    val: &[Instance],
) -> Result<Option<Arc<dyn InstanceTransform>>, TrainError> {
    let c = &config.corruption_aware;
    if !c.enabled || val.len() < 2 {
        return Ok(None);
    }
    let cfg = c.augmenter_config(config.seed ^ 0xC4EC_u64);
    let donors = Arc::new(DonorPool::from_instances(val));
    let aug = CorruptionAugmenter::new(cfg, Some(donors))
        .map_err(|e| TrainError::Config(e.to_string()))?;
    Ok(Some(Arc::new(aug)))
}

/// Evaluates the corrupted copy and compares it with `clean` (the same split evaluated with
/// per-instance weights kept). `None` for fixed fusions and without corruption-aware
/// training.
///
/// # Errors
///
/// Whatever the evaluation returns.
pub fn scheduler_check(
    model: &MafsModel,
    config: &RunConfig,
    val: &[Instance],
    clean: &EvalReport,
    vocab: &Vocabulary,
    tau: f64,
    device: &Device,
) -> Result<Option<SchedulerCheck>, TrainError> {
    if config.fusion.is_fixed() || clean.instances.is_empty() {
        return Ok(None);
    }
    let Some(transform) = check_transform(config, val)? else {
        return Ok(None);
    };
    let opts = EvalOptions {
        tau,
        rerank_k: 0,
        transform: Some(transform),
        per_instance: true,
        ..EvalOptions::default()
    };
    let corrupted = evaluate(model, val.to_vec(), vocab, &opts, device)?;
    Ok(Some(SchedulerCheck {
        shifts: corrupted.weight_shift(clean)?,
    }))
}
