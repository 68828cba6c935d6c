//! Evaluations of one split clean and under each condition of a `--corrupt` value, each
//! paired with the clean one (what `mafs eval` and `mafs explain --all` report): the
//! condition's report and what it did to each modality's fusion weight against the same
//! instances clean.

use std::sync::Arc;

use anyhow::{Context, Result};
use burn::tensor::Device;
use mafs_data::Instance;
use mafs_data::corrupt::CorruptionSpec;
use mafs_eval::weights::{ModalityWeightShift, shift_table, signal_table};
use mafs_train::data::Vocabulary;
use mafs_train::eval::{EvalOptions, EvalReport, evaluate};
use mafs_train::model::MafsModel;

use super::sweep::corruption_spec;

/// One condition's evaluation, paired with the clean one.
pub struct PairedEval {
    /// `clean`, or the corruption spec.
    pub name: String,
    /// The evaluation.
    pub report: EvalReport,
    /// What the condition did to each modality's weight against clean.
    pub shift: Vec<ModalityWeightShift>,
}

/// The conditions of a `--corrupt` value: clean alone without one (`None`), else the spec
/// applied whole or, with `each`, each of its corruptions and severities on its own.
///
/// # Errors
///
/// When the spec does not parse (the message names `--corrupt`).
pub fn conditions(
    corrupt: Option<&str>,
    each: bool,
    seed: u64,
    instances: &[Instance],
) -> Result<Vec<Option<CorruptionSpec>>> {
    let Some(text) = corrupt else {
        return Ok(vec![None]);
    };
    let spec = corruption_spec(text, seed, instances).context("--corrupt")?;
    Ok(if each {
        spec.singles().into_iter().map(Some).collect()
    } else {
        vec![Some(spec)]
    })
}

/// Evaluates `instances` clean and under each condition (`None`: the clean evaluation
/// again), keeping per-instance weights, and pairs each with the clean one. Returns the
/// clean evaluation and one [`PairedEval`] per condition.
///
/// # Errors
///
/// When an evaluation fails or two cannot be paired.
pub fn evaluate_paired(
    model: &MafsModel,
    instances: &[Instance],
    vocab: &Vocabulary,
    conditions: Vec<Option<CorruptionSpec>>,
    opts: &EvalOptions,
    device: &Device,
) -> Result<(EvalReport, Vec<PairedEval>)> {
    let run = |transform: Option<Arc<dyn mafs_data::InstanceTransform>>| {
        let opts = EvalOptions {
            transform,
            per_instance: true,
            ..opts.clone()
        };
        evaluate(model, instances.to_vec(), vocab, &opts, device)
    };
    let clean = run(None)?;
    let evals = conditions
        .into_iter()
        .map(|spec| {
            let (name, report) = match spec {
                None => ("clean".to_string(), clean.clone()),
                Some(s) => (s.to_string(), run(Some(Arc::new(s)))?),
            };
            let shift = report.weight_shift(&clean)?;
            Ok(PairedEval {
                name,
                report,
                shift,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((clean, evals))
}

/// The shifts of the corrupted conditions, `(name, per modality)`.
pub fn corrupted_shifts(evals: &[PairedEval]) -> Vec<(String, Vec<ModalityWeightShift>)> {
    evals
        .iter()
        .filter(|e| e.name != "clean")
        .map(|e| (e.name.clone(), e.shift.clone()))
        .collect()
}

/// The weight-shift and signal tables of `shifts`, each with its caption.
pub fn shift_tables(shifts: &[(String, Vec<ModalityWeightShift>)]) -> String {
    format!(
        "fusion weights against the same instances clean (paired), and the AUROC of each \
         modality's weight as a detector of its own corruption:\n{}\nsignal means, clean → on the corrupted rows:\n{}",
        shift_table(shifts),
        signal_table(shifts)
    )
}
