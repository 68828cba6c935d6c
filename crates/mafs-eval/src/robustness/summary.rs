//! Summaries of a sweep: per fusion and condition the mean and spread over seeds, relative
//! robustness, ImageNet-C corruption errors against a reference fusion, paired bootstrap
//! tests of one fusion ("ours") against each other one, and the trends over severity that
//! the report's questions ask about.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::results::{CellInstances, CellResult, ConditionSpec, distinct};
use super::shifts::{ShiftUnavailable, WeightShiftRow, summarize_shifts};
use super::stats::{
    BootstrapConfig, MeanSpread, PairedBootstrap, corruption_error, mean_corruption_error,
    mean_spread, paired_bootstrap, relative_robustness, slope,
};

/// What to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryConfig {
    /// The fusion tested against every other (e.g. `ma-afs`).
    pub ours: String,
    /// The fusion that normalises corruption errors (e.g. `fixed-query`).
    pub reference: String,
    /// Bootstrap settings.
    pub bootstrap: BootstrapConfig,
}

/// One fusion under one condition, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FusionCondition {
    /// Task.
    pub task: String,
    /// Fusion.
    pub fusion: String,
    /// Condition.
    pub condition: String,
    /// Headline metric.
    pub main: MeanSpread,
    /// `1 - (clean - corrupted) / clean`, per seed then over seeds (absent for `clean`).
    pub relative_robustness: Option<MeanSpread>,
    /// Mean weight of each modality.
    pub weights: Vec<MeanSpread>,
}

/// A corruption error of one fusion on one corruption family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorruptionErrorRow {
    /// Task.
    pub task: String,
    /// Fusion.
    pub fusion: String,
    /// Corruption family.
    pub family: String,
    /// `sum_s E_s / sum_s E^ref_s` on the seed-mean errors.
    pub ce: f64,
}

/// The robustness summary of one fusion on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessRow {
    /// Task.
    pub task: String,
    /// Fusion.
    pub fusion: String,
    /// Mean corruption error over the families (NaN without the reference).
    pub mce: f64,
    /// Families in the mean.
    pub families: usize,
    /// Relative robustness averaged over every corruption condition, per seed, then over
    /// seeds.
    pub relative_robustness: MeanSpread,
}

/// A paired test of ours against one baseline under one condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Task.
    pub task: String,
    /// The baseline.
    pub baseline: String,
    /// Condition.
    pub condition: String,
    /// Bootstrap of `ours - baseline` over instances and seeds.
    pub test: PairedBootstrap,
}

/// A quantity against severity (0 = clean) for one family, with its per-seed slope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// Task.
    pub task: String,
    /// For leads: the baseline; for weights: the fusion.
    pub against: String,
    /// Corruption family.
    pub family: String,
    /// `(severity, value over seeds)`, severity 0 being clean.
    pub values: Vec<(u8, MeanSpread)>,
    /// Least-squares slope per severity step, per seed then over seeds.
    pub slope: MeanSpread,
}

/// What a fusion costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Task.
    pub task: String,
    /// Fusion.
    pub fusion: String,
    /// Trainable parameters.
    pub params: usize,
    /// Parameters of the weighting.
    pub weighting_params: usize,
    /// Training wall time, seconds.
    pub train_seconds: MeanSpread,
    /// Evaluation wall time per condition, seconds.
    pub eval_seconds: MeanSpread,
}

/// Everything the report states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The settings.
    pub config: SummaryConfig,
    /// Per fusion and condition.
    pub fusion_conditions: Vec<FusionCondition>,
    /// Corruption errors per family.
    pub corruption_errors: Vec<CorruptionErrorRow>,
    /// mCE and mean relative robustness per fusion.
    pub robustness: Vec<RobustnessRow>,
    /// Ours against each baseline, per condition.
    pub comparisons: Vec<Comparison>,
    /// Ours' lead over each baseline against severity.
    pub lead_trends: Vec<Trend>,
    /// Each fusion's mean weight of the degraded modalities against severity.
    pub weight_trends: Vec<Trend>,
    /// Costs.
    pub costs: Vec<Cost>,
    /// What each corruption did to each modality's weight against the same instances
    /// clean, per fusion (absent from summaries written before it was measured).
    #[serde(default)]
    pub weight_shifts: Vec<WeightShiftRow>,
    /// Cells whose saved evidence cannot give the weight shift.
    #[serde(default)]
    pub weight_shift_unavailable: Vec<ShiftUnavailable>,
}

/// Conditions that `keep` accepts, grouped by family in order of first appearance.
fn families_where(
    conditions: &[ConditionSpec],
    keep: impl Fn(&ConditionSpec) -> bool,
) -> Vec<(String, Vec<&ConditionSpec>)> {
    let mut out: Vec<(String, Vec<&ConditionSpec>)> = Vec::new();
    for c in conditions.iter().filter(|c| keep(c)) {
        match out.iter_mut().find(|(f, _)| *f == c.family) {
            Some((_, v)) => v.push(c),
            None => out.push((c.family.clone(), vec![c])),
        }
    }
    out
}

/// Families with severities, each with its conditions sorted by severity.
pub fn severity_families(conditions: &[ConditionSpec]) -> Vec<(String, Vec<&ConditionSpec>)> {
    let mut out = families_where(conditions, |c| c.severity.is_some());
    for (_, v) in &mut out {
        v.sort_by_key(|c| c.severity);
    }
    out
}

/// Corruption families (with or without severities), each with its conditions.
fn corruption_families(conditions: &[ConditionSpec]) -> Vec<(String, Vec<&ConditionSpec>)> {
    families_where(conditions, ConditionSpec::is_corruption)
}

/// Summarises `cells` under `conditions`; `instances` loads a cell's per-instance evidence
/// (for the paired tests).
pub fn summarize(
    conditions: &[ConditionSpec],
    cells: &[CellResult],
    instances: &dyn Fn(&CellResult) -> Option<CellInstances>,
    config: &SummaryConfig,
) -> Summary {
    let tasks = distinct(cells, |c| &c.task);
    let fusions = distinct(cells, |c| &c.fusion);
    let cells_of = |task: &str, fusion: &str| -> Vec<&CellResult> {
        let mut v: Vec<&CellResult> = cells
            .iter()
            .filter(|c| c.task == task && c.fusion == fusion)
            .collect();
        v.sort_by_key(|c| c.seed);
        v
    };
    let main_of = |c: &CellResult, cond: &str| c.eval(cond).map_or(f64::NAN, |e| e.main);
    let mut s = Summary {
        config: config.clone(),
        fusion_conditions: Vec::new(),
        corruption_errors: Vec::new(),
        robustness: Vec::new(),
        comparisons: Vec::new(),
        lead_trends: Vec::new(),
        weight_trends: Vec::new(),
        costs: Vec::new(),
        weight_shifts: Vec::new(),
        weight_shift_unavailable: Vec::new(),
    };
    let sev_families = severity_families(conditions);
    let corr_families = corruption_families(conditions);
    for task in &tasks {
        for fusion in &fusions {
            let fc = cells_of(task, fusion);
            if fc.is_empty() {
                continue;
            }
            let m = fc[0].modalities.len();
            for cond in conditions {
                let mains: Vec<f64> = fc.iter().map(|c| main_of(c, &cond.name)).collect();
                let rr = (cond.name != "clean").then(|| {
                    mean_spread(
                        &fc.iter()
                            .map(|c| {
                                relative_robustness(main_of(c, "clean"), main_of(c, &cond.name))
                            })
                            .collect::<Vec<_>>(),
                    )
                });
                let weights = (0..m)
                    .map(|j| {
                        mean_spread(
                            &fc.iter()
                                .map(|c| {
                                    c.eval(&cond.name)
                                        .and_then(|e| e.mean_weights.get(j).copied())
                                        .unwrap_or(f64::NAN)
                                })
                                .collect::<Vec<_>>(),
                        )
                    })
                    .collect();
                s.fusion_conditions.push(FusionCondition {
                    task: task.clone(),
                    fusion: fusion.clone(),
                    condition: cond.name.clone(),
                    main: mean_spread(&mains),
                    relative_robustness: rr,
                    weights,
                });
            }
            // Relative robustness over every corruption, per seed.
            let per_seed_rr: Vec<f64> = fc
                .iter()
                .map(|c| {
                    let v: Vec<f64> = conditions
                        .iter()
                        .filter(|k| k.is_corruption())
                        .map(|k| relative_robustness(main_of(c, "clean"), main_of(c, &k.name)))
                        .filter(|x| x.is_finite())
                        .collect();
                    if v.is_empty() {
                        f64::NAN
                    } else {
                        v.iter().sum::<f64>() / v.len() as f64
                    }
                })
                .collect();
            // Corruption errors against the reference (seed-mean errors).
            let rc = cells_of(task, &config.reference);
            let mut ces = Vec::new();
            if !rc.is_empty() {
                for (family, conds) in &corr_families {
                    let err = |cs: &[&CellResult]| -> Vec<f64> {
                        conds
                            .iter()
                            .map(|k| {
                                let v: Vec<f64> =
                                    cs.iter().map(|c| c.error(main_of(c, &k.name))).collect();
                                mean_spread(&v).mean
                            })
                            .collect()
                    };
                    if let Ok(ce) = corruption_error(&err(&fc), &err(&rc))
                        && ce.is_finite()
                    {
                        ces.push(ce);
                        s.corruption_errors.push(CorruptionErrorRow {
                            task: task.clone(),
                            fusion: fusion.clone(),
                            family: family.clone(),
                            ce,
                        });
                    }
                }
            }
            s.robustness.push(RobustnessRow {
                task: task.clone(),
                fusion: fusion.clone(),
                mce: mean_corruption_error(&ces),
                families: ces.len(),
                relative_robustness: mean_spread(&per_seed_rr),
            });
            // Weight of the degraded modalities against severity.
            for (family, conds) in &sev_families {
                let idx: Vec<usize> = conds[0]
                    .degraded
                    .iter()
                    .filter_map(|d| fc[0].modalities.iter().position(|m| m == d))
                    .collect();
                // Degrading every modality (`both`) leaves nothing to follow: the mean of
                // weights that sum to 1 is 1 / M by construction.
                if idx.is_empty() || idx.len() == m {
                    continue;
                }
                let w = |c: &CellResult, cond: &str| -> f64 {
                    c.eval(cond).map_or(f64::NAN, |e| {
                        idx.iter()
                            .map(|&j| e.mean_weights.get(j).copied().unwrap_or(f64::NAN))
                            .sum::<f64>()
                            / idx.len() as f64
                    })
                };
                s.weight_trends
                    .push(trend(task, fusion, family, conds, &fc, &|c, k| w(c, k)));
            }
            let fc_inst: Vec<Option<CellInstances>> = fc.iter().map(|c| instances(c)).collect();
            let (rows, unavailable) = summarize_shifts(task, fusion, conditions, &fc, &fc_inst);
            s.weight_shifts.extend(rows);
            s.weight_shift_unavailable.extend(unavailable);
            s.costs.push(Cost {
                task: task.clone(),
                fusion: fusion.clone(),
                params: fc[0].params,
                weighting_params: fc[0].weighting_params,
                train_seconds: mean_spread(
                    &fc.iter()
                        .map(|c| c.train_seconds)
                        .filter(|&t| t > 0.0)
                        .collect::<Vec<_>>(),
                ),
                eval_seconds: mean_spread(
                    &fc.iter()
                        .flat_map(|c| c.evals.iter().map(|e| e.seconds))
                        .collect::<Vec<_>>(),
                ),
            });
        }
        // Ours against each baseline.
        let ours = cells_of(task, &config.ours);
        if ours.is_empty() {
            continue;
        }
        let ours_inst: Vec<Option<CellInstances>> = ours.iter().map(|c| instances(c)).collect();
        for baseline in fusions.iter().filter(|f| **f != config.ours) {
            let base = cells_of(task, baseline);
            if base.is_empty() {
                continue;
            }
            let base_inst: Vec<Option<CellInstances>> = base.iter().map(|c| instances(c)).collect();
            for cond in conditions {
                let mut groups = Vec::new();
                for (oc, oi) in ours.iter().zip(&ours_inst) {
                    let Some(bpos) = base.iter().position(|b| b.seed == oc.seed) else {
                        continue;
                    };
                    let (Some(oi), Some(bi)) = (oi, &base_inst[bpos]) else {
                        continue;
                    };
                    let (Some(o), Some(b)) =
                        (oi.conditions.get(&cond.name), bi.conditions.get(&cond.name))
                    else {
                        continue;
                    };
                    let bk = b.keyed_scores();
                    let diffs: Vec<f64> = o
                        .keyed_scores()
                        .iter()
                        .filter_map(|(k, v)| bk.get(k).map(|w| v - w))
                        .collect();
                    if !diffs.is_empty() {
                        groups.push(diffs);
                    }
                }
                if let Ok(test) = paired_bootstrap(&groups, &config.bootstrap) {
                    s.comparisons.push(Comparison {
                        task: task.clone(),
                        baseline: baseline.clone(),
                        condition: cond.name.clone(),
                        test,
                    });
                }
            }
            // The lead against severity, on seeds both have.
            let paired: Vec<(&CellResult, &CellResult)> = ours
                .iter()
                .filter_map(|o| base.iter().find(|b| b.seed == o.seed).map(|b| (*o, *b)))
                .collect();
            for (family, conds) in &sev_families {
                let lead = |pair_idx: usize, cond: &str| -> f64 {
                    let (o, b) = paired[pair_idx];
                    main_of(o, cond) - main_of(b, cond)
                };
                let idx: Vec<usize> = (0..paired.len()).collect();
                s.lead_trends
                    .push(trend_by(task, baseline, family, conds, &idx, &|i, k| {
                        lead(*i, k)
                    }));
            }
        }
    }
    s
}

fn trend(
    task: &str,
    against: &str,
    family: &str,
    conds: &[&ConditionSpec],
    cells: &[&CellResult],
    value: &dyn Fn(&CellResult, &str) -> f64,
) -> Trend {
    trend_by(task, against, family, conds, cells, &|c, k| value(c, k))
}

fn trend_by<T>(
    task: &str,
    against: &str,
    family: &str,
    conds: &[&ConditionSpec],
    units: &[T],
    value: &dyn Fn(&T, &str) -> f64,
) -> Trend {
    let mut names: Vec<(u8, &str)> = vec![(0, "clean")];
    names.extend(
        conds
            .iter()
            .map(|c| (c.severity.unwrap_or(0), c.name.as_str())),
    );
    let values = names
        .iter()
        .map(|(sev, n)| {
            (
                *sev,
                mean_spread(&units.iter().map(|u| value(u, n)).collect::<Vec<_>>()),
            )
        })
        .collect();
    let slopes: Vec<f64> = units
        .iter()
        .map(|u| {
            let (x, y): (Vec<f64>, Vec<f64>) = names
                .iter()
                .map(|(sev, n)| (*sev as f64, value(u, n)))
                .filter(|(_, y)| y.is_finite())
                .unzip();
            slope(&x, &y)
        })
        .collect();
    Trend {
        task: task.to_string(),
        against: against.to_string(),
        family: family.to_string(),
        values,
        slope: mean_spread(&slopes),
    }
}

/// The row of `fusion` under `condition`, if measured.
pub fn find<'a>(
    s: &'a Summary,
    task: &str,
    fusion: &str,
    condition: &str,
) -> Option<&'a FusionCondition> {
    s.fusion_conditions
        .iter()
        .find(|r| r.task == task && r.fusion == fusion && r.condition == condition)
}

/// Comparisons of one task and condition, by baseline.
pub fn comparisons<'a>(
    s: &'a Summary,
    task: &str,
    condition: &str,
) -> BTreeMap<&'a str, &'a Comparison> {
    s.comparisons
        .iter()
        .filter(|c| c.task == task && c.condition == condition)
        .map(|c| (c.baseline.as_str(), c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::robustness::results::{ConditionEval, ConditionInstances};

    fn cond(name: &str, family: &str, sev: Option<u8>, spec: &str) -> ConditionSpec {
        ConditionSpec {
            name: name.into(),
            family: family.into(),
            severity: sev,
            split: "test".into(),
            spec: spec.into(),
            degraded: vec!["image".into()],
        }
    }

    fn cell(fusion: &str, seed: u64, mains: &[(&str, f64, f64)]) -> CellResult {
        CellResult {
            task: "vqa".into(),
            fusion: fusion.into(),
            seed,
            main_metric: "accuracy".into(),
            main_max: 100.0,
            modalities: vec!["image".into(), "question".into()],
            params: 1000,
            weighting_params: 10,
            train_seconds: 5.0,
            train_steps: 3,
            evals: mains
                .iter()
                .map(|(c, m, w)| ConditionEval {
                    condition: c.to_string(),
                    metrics: BTreeMap::new(),
                    main: *m,
                    mean_weights: vec![*w, 1.0 - w],
                    n: 2,
                    seconds: 1.0,
                })
                .collect(),
        }
    }

    #[test]
    fn summary_by_hand() {
        let conds = vec![
            cond("clean", "clean", None, ""),
            cond("image:x:1", "image:x", Some(1), "image:x:1"),
            cond("image:x:2", "image:x", Some(2), "image:x:2"),
            ConditionSpec {
                degraded: vec!["image".into(), "question".into()],
                ..cond("both:1", "both", Some(1), "image:x:1,text:y:1")
            },
        ];
        let cells = vec![
            cell(
                "ours",
                0,
                &[
                    ("clean", 50.0, 0.5),
                    ("image:x:1", 40.0, 0.4),
                    ("image:x:2", 30.0, 0.3),
                ],
            ),
            cell(
                "ours",
                1,
                &[
                    ("clean", 60.0, 0.5),
                    ("image:x:1", 50.0, 0.4),
                    ("image:x:2", 40.0, 0.3),
                ],
            ),
            cell(
                "ref",
                0,
                &[
                    ("clean", 50.0, 0.5),
                    ("image:x:1", 30.0, 0.5),
                    ("image:x:2", 10.0, 0.5),
                ],
            ),
            cell(
                "ref",
                1,
                &[
                    ("clean", 50.0, 0.5),
                    ("image:x:1", 30.0, 0.5),
                    ("image:x:2", 10.0, 0.5),
                ],
            ),
        ];
        let inst = |c: &CellResult| {
            let mut ci = CellInstances::default();
            for e in &c.evals {
                // Two items whose mean is the condition's main.
                ci.conditions.insert(
                    e.condition.clone(),
                    ConditionInstances {
                        ids: vec![1, 2],
                        subs: vec![0, 0],
                        scores: vec![e.main - 10.0, e.main + 10.0],
                        ..ConditionInstances::default()
                    },
                );
            }
            Some(ci)
        };
        let cfg = SummaryConfig {
            ours: "ours".into(),
            reference: "ref".into(),
            bootstrap: BootstrapConfig {
                resamples: 200,
                ..BootstrapConfig::default()
            },
        };
        let s = summarize(&conds, &cells, &inst, &cfg);
        let clean = find(&s, "vqa", "ours", "clean").unwrap();
        assert_eq!((clean.main.mean, clean.main.n), (55.0, 2));
        assert!((clean.main.sd - 50f64.sqrt()).abs() < 1e-12);
        // Relative robustness at severity 1: seed 0: 40/50 = 0.8, seed 1: 50/60.
        let rr = find(&s, "vqa", "ours", "image:x:1")
            .unwrap()
            .relative_robustness
            .unwrap();
        assert!((rr.mean - (0.8 + 50.0 / 60.0) / 2.0).abs() < 1e-12);
        // CE: ours' seed-mean errors 55, 65 over ref's 70, 90 -> 120 / 160.
        let ce = s
            .corruption_errors
            .iter()
            .find(|r| r.fusion == "ours")
            .unwrap();
        assert!((ce.ce - 0.75).abs() < 1e-12);
        let refrow = s.robustness.iter().find(|r| r.fusion == "ref").unwrap();
        assert_eq!((refrow.mce, refrow.families), (1.0, 1));
        // Paired test on clean: differences (50-50) and (60-50) per item -> mean 5.
        let c = comparisons(&s, "vqa", "clean")["ref"];
        assert_eq!(c.test.mean_diff, 5.0);
        assert_eq!((c.test.n_pairs, c.test.n_groups), (4, 2));
        // Lead: seed 0: 0, 10, 20; seed 1: 10, 20, 30 -> slope 10 per severity.
        let lead = s.lead_trends.iter().find(|t| t.against == "ref").unwrap();
        assert_eq!(lead.slope.mean, 10.0);
        assert_eq!(lead.values[2].1.mean, 25.0);
        // Ours' image weight falls 0.5, 0.4, 0.3: slope -0.1.
        let w = s
            .weight_trends
            .iter()
            .find(|t| t.against == "ours")
            .unwrap();
        assert!((w.slope.mean + 0.1).abs() < 1e-12);
        // A family that degrades every modality has no weight to follow.
        assert!(s.weight_trends.iter().all(|t| t.family != "both"));
        assert!(s.weight_trends.iter().any(|t| t.family == "image:x"));
        let cost = s.costs.iter().find(|c| c.fusion == "ours").unwrap();
        assert_eq!((cost.params, cost.eval_seconds.mean), (1000, 1.0));
    }
}
