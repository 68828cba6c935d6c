//! What each corruption did to the fusion weights of a sweep's cells (DESIGN §1, weights
//! that can be checked): per task × fusion × corruption condition and modality, the paired
//! change of the modality's mean weight against the same instances clean, the AUROC of its
//! weight as a detector of its own corruption, and each signal's mean clean and corrupted;
//! per seed as [`crate::weights::weight_shift`] measures them, and over seeds.
//!
//! Cells saved before the sweep recorded the corruption flags of each instance have no
//! evidence to pair: they are listed as [`ShiftUnavailable`] instead.

use serde::{Deserialize, Serialize};

use super::results::{CellInstances, CellResult, ConditionSpec};
use super::stats::{MeanSpread, mean_spread};
use crate::weights::{ModalityWeightShift, WeightEvidence, weight_shift};

/// One seed's measurement of one modality under one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedShift {
    /// The cell's seed.
    pub seed: u64,
    /// What [`weight_shift`] measured on it.
    pub shift: ModalityWeightShift,
}

/// One signal's means over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalSpread {
    /// Signal name.
    pub name: String,
    /// Mean over the clean rows that have the modality.
    pub clean: MeanSpread,
    /// Mean over the rows whose modality the condition corrupted.
    pub corrupted: MeanSpread,
}

/// What one condition did to one modality's weight in one task × fusion, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightShiftRow {
    /// Task.
    pub task: String,
    /// Fusion.
    pub fusion: String,
    /// Corruption condition.
    pub condition: String,
    /// Modality.
    pub modality: String,
    /// Paired change of the mean weight against clean.
    pub paired_change: MeanSpread,
    /// The paired change over the corrupted rows alone.
    pub corrupted_change: MeanSpread,
    /// AUROC of the weight as a detector of the modality's own corruption (no value when
    /// the condition corrupted none of its rows and kept them present).
    pub auroc: MeanSpread,
    /// Each signal's mean, clean and corrupted.
    pub signals: Vec<SignalSpread>,
    /// The per-seed measurements.
    pub per_seed: Vec<SeedShift>,
}

impl WeightShiftRow {
    /// Whether the condition corrupted (and kept present) some of the modality's rows.
    pub fn corrupted(&self) -> bool {
        self.per_seed.iter().any(|s| s.shift.n_corrupted > 0)
    }
}

/// A cell that evaluated conditions whose weight shift cannot be computed (its files were
/// saved before the sweep recorded each instance's corruption flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftUnavailable {
    /// Task.
    pub task: String,
    /// Fusion.
    pub fusion: String,
    /// Seed.
    pub seed: u64,
    /// The conditions without a shift.
    pub conditions: Vec<String>,
}

/// One cell's shifts: `(condition, per modality)` for the corruption conditions it
/// evaluated, and the names of those it has no evidence for.
type CellShifts = (Vec<(String, Vec<ModalityWeightShift>)>, Vec<String>);

/// The fusion evidence of `cell` under `condition`, if it was recorded.
fn evidence_of(
    cell: &CellResult,
    inst: Option<&CellInstances>,
    condition: &str,
) -> Option<WeightEvidence> {
    let ci = inst?;
    ci.conditions
        .get(condition)?
        .evidence(&cell.modalities, &ci.signal_names)
}

/// The shifts of one cell under the corruption conditions it evaluated, against its clean
/// evaluation.
fn cell_shifts(
    cell: &CellResult,
    inst: Option<&CellInstances>,
    conditions: &[ConditionSpec],
) -> CellShifts {
    let clean = evidence_of(cell, inst, "clean");
    let mut shifts = Vec::new();
    let mut missing = Vec::new();
    for cond in conditions
        .iter()
        .filter(|c| c.is_corruption() && cell.eval(&c.name).is_some())
    {
        let shift = clean.as_ref().and_then(|clean| {
            let under = evidence_of(cell, inst, &cond.name)?;
            weight_shift(clean, &under).ok()
        });
        match shift {
            Some(s) => shifts.push((cond.name.clone(), s)),
            None => missing.push(cond.name.clone()),
        }
    }
    (shifts, missing)
}

/// Mean and spread over seeds of one field of the per-seed shifts.
fn over_seeds(per_seed: &[SeedShift], field: impl Fn(&ModalityWeightShift) -> f64) -> MeanSpread {
    mean_spread(&per_seed.iter().map(|s| field(&s.shift)).collect::<Vec<_>>())
}

/// Each signal's clean and corrupted means over seeds, in the first seed's signal order.
fn signal_spreads(per_seed: &[SeedShift]) -> Vec<SignalSpread> {
    let Some(first) = per_seed.first() else {
        return Vec::new();
    };
    first
        .shift
        .signals
        .iter()
        .map(|sig| {
            let value = |f: &dyn Fn(&crate::weights::SignalShift) -> f64| {
                mean_spread(
                    &per_seed
                        .iter()
                        .filter_map(|s| s.shift.signals.iter().find(|x| x.name == sig.name))
                        .map(f)
                        .collect::<Vec<_>>(),
                )
            };
            SignalSpread {
                name: sig.name.clone(),
                clean: value(&|x| x.clean),
                corrupted: value(&|x| x.corrupted),
            }
        })
        .collect()
}

/// One row from its per-seed measurements.
fn row(task: &str, fusion: &str, condition: &str, per_seed: Vec<SeedShift>) -> WeightShiftRow {
    WeightShiftRow {
        task: task.to_string(),
        fusion: fusion.to_string(),
        condition: condition.to_string(),
        modality: per_seed[0].shift.modality.clone(),
        paired_change: over_seeds(&per_seed, |s| s.paired_change),
        corrupted_change: over_seeds(&per_seed, |s| s.corrupted_change),
        auroc: over_seeds(&per_seed, |s| s.auroc.unwrap_or(f64::NAN)),
        signals: signal_spreads(&per_seed),
        per_seed,
    }
}

/// The weight shifts of one task × fusion over its `cells` (one per seed, `inst` their
/// per-instance evidence, aligned): one row per corruption condition and modality, in
/// condition order, and the cells without evidence.
pub fn summarize_shifts(
    task: &str,
    fusion: &str,
    conditions: &[ConditionSpec],
    cells: &[&CellResult],
    inst: &[Option<CellInstances>],
) -> (Vec<WeightShiftRow>, Vec<ShiftUnavailable>) {
    let per_cell: Vec<(u64, CellShifts)> = cells
        .iter()
        .zip(inst)
        .map(|(c, i)| (c.seed, cell_shifts(c, i.as_ref(), conditions)))
        .collect();
    let unavailable = per_cell
        .iter()
        .filter(|(_, (_, missing))| !missing.is_empty())
        .map(|(seed, (_, missing))| ShiftUnavailable {
            task: task.to_string(),
            fusion: fusion.to_string(),
            seed: *seed,
            conditions: missing.clone(),
        })
        .collect();
    let modalities = cells.first().map_or(0, |c| c.modalities.len());
    let mut rows = Vec::new();
    for cond in conditions.iter().filter(|c| c.is_corruption()) {
        for m in 0..modalities {
            let per_seed: Vec<SeedShift> = per_cell
                .iter()
                .filter_map(|(seed, (shifts, _))| {
                    let (_, s) = shifts.iter().find(|(n, _)| *n == cond.name)?;
                    Some(SeedShift {
                        seed: *seed,
                        shift: s.get(m)?.clone(),
                    })
                })
                .collect();
            if !per_seed.is_empty() {
                rows.push(row(task, fusion, &cond.name, per_seed));
            }
        }
    }
    (rows, unavailable)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::robustness::results::{ConditionEval, ConditionInstances};

    fn cond(name: &str, spec: &str) -> ConditionSpec {
        ConditionSpec {
            name: name.into(),
            family: name.into(),
            severity: None,
            split: "test".into(),
            spec: spec.into(),
            degraded: vec!["image".into()],
        }
    }

    fn cell(seed: u64) -> CellResult {
        CellResult {
            task: "retrieval".into(),
            fusion: "ma-afs".into(),
            seed,
            main_metric: "rsum".into(),
            main_max: 600.0,
            modalities: vec!["image".into(), "side_text".into()],
            params: 1,
            weighting_params: 1,
            train_seconds: 0.0,
            train_steps: 1,
            evals: ["clean", "image:x:3"]
                .iter()
                .map(|c| ConditionEval {
                    condition: c.to_string(),
                    metrics: BTreeMap::new(),
                    main: 1.0,
                    mean_weights: vec![0.5, 0.5],
                    n: 2,
                    seconds: 0.0,
                })
                .collect(),
        }
    }

    /// Two instances; under the condition the image of both is corrupted and its weight
    /// falls by `drop`.
    fn instances(drop: f32) -> CellInstances {
        let ci = |w: f32, corrupted: bool| ConditionInstances {
            ids: vec![1, 2],
            subs: vec![0, 0],
            scores: vec![0.0, 0.0],
            weights: vec![vec![w, 1.0 - w], vec![w + 0.1, 0.9 - w]],
            present: vec![vec![true, true]; 2],
            corrupted: vec![vec![corrupted, false]; 2],
            signals: vec![
                vec![vec![1.0 - w], vec![w]],
                vec![vec![0.9 - w], vec![w + 0.1]],
            ],
            ..ConditionInstances::default()
        };
        CellInstances {
            uncertainty_signal: None,
            signal_names: vec!["u".into()],
            conditions: [
                ("clean".to_string(), ci(0.6, false)),
                ("image:x:3".to_string(), ci(0.6 - drop, true)),
            ]
            .into(),
        }
    }

    #[test]
    fn rows_over_seeds_and_old_cells_unavailable() {
        let conds = vec![cond("clean", ""), cond("image:x:3", "image:x:3")];
        let (a, b, old) = (cell(0), cell(1), cell(2));
        let mut legacy = instances(0.2);
        for c in legacy.conditions.values_mut() {
            c.corrupted.clear();
        }
        let (rows, missing) = summarize_shifts(
            "retrieval",
            "ma-afs",
            &conds,
            &[&a, &b, &old],
            &[Some(instances(0.2)), Some(instances(0.4)), Some(legacy)],
        );
        assert_eq!(rows.len(), 2);
        let img = &rows[0];
        assert_eq!((img.modality.as_str(), img.per_seed.len()), ("image", 2));
        assert!((img.paired_change.mean + 0.3).abs() < 1e-6);
        assert!((img.paired_change.sd - 0.02f64.sqrt()).abs() < 1e-6);
        // every corrupted weight is below every clean one
        assert_eq!((img.auroc.mean, img.auroc.n), (1.0, 2));
        assert!(img.corrupted() && !rows[1].corrupted());
        assert_eq!(rows[1].auroc.n, 0);
        assert_eq!(img.signals[0].name, "u");
        assert!((img.signals[0].clean.mean - 0.35).abs() < 1e-6);
        assert_eq!(missing.len(), 1);
        assert_eq!((missing[0].seed, missing[0].conditions.len()), (2, 1));
    }
}
