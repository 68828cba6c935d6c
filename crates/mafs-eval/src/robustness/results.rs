//! The data of a robustness sweep: what each cell (task × fusion × seed) measured under each
//! condition, and the per-instance evidence kept beside it. Plain serde data, so a sweep's
//! `results.json` and cell files can be read back by anything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::weights::WeightEvidence;

/// One evaluation condition of the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionSpec {
    /// Unique name, e.g. `clean`, `shift`, `image:gaussian_noise:3`, `both:3`.
    pub name: String,
    /// The family it belongs to (the condition without its severity), e.g.
    /// `image:gaussian_noise`; `clean` and `shift` are their own families.
    pub family: String,
    /// Severity 1–5, or none (clean, shift, missing modalities).
    pub severity: Option<u8>,
    /// The split evaluated (`test` or `shift`).
    pub split: String,
    /// The corruption spec applied (empty for none).
    pub spec: String,
    /// Modalities the condition degrades (whose weight the report follows).
    pub degraded: Vec<String>,
}

impl ConditionSpec {
    /// Whether the condition is a corruption (not `clean`, not the `shift` split).
    pub fn is_corruption(&self) -> bool {
        !self.spec.is_empty()
    }
}

/// What one cell measured under one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionEval {
    /// The condition's name.
    pub condition: String,
    /// Every metric of the evaluation.
    pub metrics: BTreeMap<String, f64>,
    /// The headline metric (`metrics["main"]`).
    pub main: f64,
    /// Mean fusion weight of each modality (over the instances that have it).
    pub mean_weights: Vec<f64>,
    /// Evaluated items.
    pub n: usize,
    /// Wall time of the evaluation, seconds.
    pub seconds: f64,
}

/// One trained model (task × fusion × seed) and its evaluations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// Task name.
    pub task: String,
    /// Fusion name.
    pub fusion: String,
    /// Seed (model, data order and built-in world).
    pub seed: u64,
    /// Headline metric's name (`accuracy`, `rsum`, `CIDEr`).
    pub main_metric: String,
    /// The headline metric's best possible value (100, 600, 10), so that an error in
    /// percent is `100 * (1 - main / main_max)`.
    pub main_max: f64,
    /// Modality names, in weight order.
    pub modalities: Vec<String>,
    /// Trainable parameters of the model.
    pub params: usize,
    /// Parameters of the weighting (scheduler, prototypes and auxiliary weighting heads).
    pub weighting_params: usize,
    /// Training wall time, seconds (0 when a finished run was reused).
    pub train_seconds: f64,
    /// Optimisation steps.
    pub train_steps: usize,
    /// Evaluations, in condition order.
    pub evals: Vec<ConditionEval>,
}

impl CellResult {
    /// The evaluation under `condition`.
    pub fn eval(&self, condition: &str) -> Option<&ConditionEval> {
        self.evals.iter().find(|e| e.condition == condition)
    }

    /// The headline metric as an error in percent of its best value.
    pub fn error(&self, main: f64) -> f64 {
        100.0 * (1.0 - main / self.main_max)
    }
}

/// The distinct values of `key` over `cells`, in order of first appearance: the tasks of a
/// sweep, or (over one task's cells) its fusions.
pub fn distinct<'a>(
    cells: impl IntoIterator<Item = &'a CellResult>,
    key: impl Fn(&CellResult) -> &str,
) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for c in cells {
        if !v.iter().any(|x| x == key(c)) {
            v.push(key(c).to_string());
        }
    }
    v
}

/// The fusions of `task`'s cells, in order of first appearance.
pub fn fusions_of(cells: &[CellResult], task: &str) -> Vec<String> {
    distinct(cells.iter().filter(|c| c.task == task), |c| &c.fusion)
}

/// The per-instance evidence of one cell under one condition, aligned by position.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConditionInstances {
    /// Instance ids.
    pub ids: Vec<u64>,
    /// Question index within the instance (VQA), else 0.
    pub subs: Vec<u32>,
    /// Each item's share of the headline metric (their mean is `main`).
    pub scores: Vec<f64>,
    /// Fusion weights `[n][M]` (empty when the evaluation did not keep them).
    pub weights: Vec<Vec<f32>>,
    /// The uncertainty signal of each modality `[n][M]` (empty without signals).
    pub uncertainty: Vec<Vec<f32>>,
    /// Presence of each modality `[n][M]`.
    pub present: Vec<Vec<bool>>,
    /// Whether the data pipeline corrupted, dropped or misaligned each modality `[n][M]`
    /// (empty in sweeps written before it was recorded: no weight shift then).
    #[serde(default)]
    pub corrupted: Vec<Vec<bool>>,
    /// Every signal of each modality `[n][M][S]`, named by [`CellInstances::signal_names`]
    /// (empty in sweeps written before it was recorded).
    #[serde(default)]
    pub signals: Vec<Vec<Vec<f32>>>,
    /// Instance id of each weight row, when the weights' rows are not the scores' (`ids`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_ids: Vec<u64>,
}

impl ConditionInstances {
    /// Scores keyed by `(id, sub)`, for pairing two models' evaluations.
    pub fn keyed_scores(&self) -> BTreeMap<(u64, u32), f64> {
        self.ids
            .iter()
            .zip(&self.subs)
            .zip(&self.scores)
            .map(|((&i, &s), &v)| ((i, s), v))
            .collect()
    }

    /// The fusion evidence [`crate::weights::weight_shift`] pairs, or `None` when the
    /// evaluation kept no per-instance weights or was saved before the corruption flags
    /// were recorded.
    pub fn evidence(
        &self,
        modalities: &[String],
        signal_names: &[String],
    ) -> Option<WeightEvidence> {
        let ids = if self.weight_ids.is_empty() {
            &self.ids
        } else {
            &self.weight_ids
        };
        let n = self.weights.len();
        if n == 0 || self.corrupted.len() != n || ids.len() != n {
            return None;
        }
        Some(WeightEvidence {
            modalities: modalities.to_vec(),
            signal_names: signal_names.to_vec(),
            ids: ids.clone(),
            weights: self.weights.clone(),
            signals: self.signals.clone(),
            present: self.present.clone(),
            corrupted: self.corrupted.clone(),
        })
    }
}

/// The per-instance evidence of one cell: condition name → instances.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CellInstances {
    /// Name of the uncertainty signal kept (e.g. `prototype_entropy`), if any.
    pub uncertainty_signal: Option<String>,
    /// Names of the signals kept in [`ConditionInstances::signals`] (empty in sweeps
    /// written before they were kept).
    #[serde(default)]
    pub signal_names: Vec<String>,
    /// Per condition.
    pub conditions: BTreeMap<String, ConditionInstances>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_saved_before_the_weight_evidence_load_without_it() {
        let old = r#"{"uncertainty_signal": null, "conditions": {"clean": {
            "ids": [1], "subs": [0], "scores": [1.0], "weights": [[0.5, 0.5]],
            "uncertainty": [], "present": [[true, true]]}}}"#;
        let ci: CellInstances = serde_json::from_str(old).unwrap();
        assert!(ci.signal_names.is_empty());
        let clean = &ci.conditions["clean"];
        let m = ["image".to_string(), "text".to_string()];
        assert_eq!(clean.evidence(&m, &[]), None);
        let mut new = clean.clone();
        new.corrupted = vec![vec![false, true]];
        let e = new.evidence(&m, &[]).unwrap();
        assert_eq!((e.ids, e.corrupted), (vec![1], vec![vec![false, true]]));
    }
}
