//! One cell of the sweep (task × fusion × seed): train or reuse its run, evaluate each
//! condition it has not evaluated yet, and save after each one (`cell.json` and
//! `instances.json` in the cell folder), so that an interrupted sweep resumes where it
//! stopped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use mafs_data::Split;
use mafs_eval::atomic::write_atomic;
use mafs_eval::robustness::results::{
    CellInstances, CellResult, ConditionEval, ConditionInstances, ConditionSpec,
};
use mafs_train::config::{RunConfig, Task};
use mafs_train::data::load_splits;
use mafs_train::eval::{EvalOptions, EvalReport, evaluate};
use mafs_train::progress::Progress;
use mafs_train::train::{TrainOptions, load_run, tau_schedule};

use crate::cmd::sweep::{corruption_transform, train_or_reuse};

/// A cell's folder: `OUT/cells/TASK-FUSION-sSEED`.
pub fn cell_dir(out: &Path, config: &RunConfig) -> PathBuf {
    out.join("cells").join(format!(
        "{}-{}-s{}",
        config.task, config.fusion, config.seed
    ))
}

/// The headline metric's name and best value.
pub fn main_metric(task: Task) -> (&'static str, f64) {
    match task {
        Task::Vqa => ("accuracy", 100.0),
        Task::Retrieval => ("rsum", 600.0),
        Task::Captioning => ("CIDEr", 10.0),
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// The saved result of a cell, if any.
pub fn load_cell(dir: &Path) -> Option<CellResult> {
    read(&dir.join("cell.json"))
}

/// The saved per-instance evidence of a cell, if any.
pub fn load_instances(dir: &Path) -> Option<CellInstances> {
    read(&dir.join("instances.json"))
}

/// Whether the cell has evaluated every condition.
pub fn is_done(dir: &Path, conditions: &[ConditionSpec]) -> bool {
    load_cell(dir).is_some_and(|c| conditions.iter().all(|k| c.eval(&k.name).is_some()))
}

/// The signal the weight-against-uncertainty figure reads: the first entropy, else the
/// first signal.
fn uncertainty_index(names: &[String]) -> Option<usize> {
    names
        .iter()
        .position(|n| n.contains("entropy"))
        .or(if names.is_empty() { None } else { Some(0) })
}

/// What the cell keeps of an evaluation: each item's score, and the fusion evidence of each
/// row (weights, presence, corruption flags, signals) that the report pairs with clean.
fn instances_of(report: &EvalReport, signal: Option<usize>) -> ConditionInstances {
    let ids: Vec<u64> = report.item_scores.iter().map(|s| s.id).collect();
    let e = report.evidence();
    let uncertainty = match signal {
        Some(k) => e
            .signals
            .iter()
            .map(|row| {
                row.iter()
                    .map(|s| s.get(k).copied().unwrap_or(f32::NAN))
                    .collect()
            })
            .collect(),
        None => Vec::new(),
    };
    ConditionInstances {
        subs: report.item_scores.iter().map(|s| s.sub).collect(),
        scores: report.item_scores.iter().map(|s| s.score).collect(),
        weight_ids: if e.ids == ids { Vec::new() } else { e.ids },
        ids,
        weights: e.weights,
        uncertainty,
        present: e.present,
        corrupted: e.corrupted,
        signals: e.signals,
    }
}

/// Runs one cell: trains (or reuses) its model and evaluates the conditions it lacks.
pub fn run_cell(
    config: &RunConfig,
    out: &Path,
    conditions: &[ConditionSpec],
    device: &Device,
    (quiet, transfer): (bool, &crate::cmd::transfer::EvalDataArgs),
    progress: &mut Progress,
    done: &mut usize,
) -> Result<CellResult> {
    let dir = cell_dir(out, config);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let run_dir = dir.join("run");
    let label = format!("{} {} seed {}", config.task, config.fusion, config.seed);
    // A cell folder belongs to one configuration: reusing it for another would silently
    // report the old model under the new settings.
    if let Some(saved) = read::<RunConfig>(&run_dir.join("config.json"))
        && saved != *config
    {
        bail!(
            "{} was trained with other settings than this sweep's (world sizes, epochs, preset, …); use another --out or delete it",
            run_dir.display()
        );
    }
    let mut opts = TrainOptions::new(&run_dir);
    opts.device = device.clone();
    opts.quiet = quiet;
    opts.validate = false;
    let trained = train_or_reuse(config, opts, "robustness", &label)?;
    let (run_config, vocab, model, state) =
        load_run(&run_dir, device).with_context(|| format!("loading {}", run_dir.display()))?;
    let (metric, best) = main_metric(run_config.task);
    let mut cell = load_cell(&dir).unwrap_or_else(|| CellResult {
        task: run_config.task.to_string(),
        fusion: run_config.fusion.to_string(),
        seed: run_config.seed,
        main_metric: metric.into(),
        main_max: best,
        modalities: model.spec.modalities.clone(),
        params: 0,
        weighting_params: 0,
        train_seconds: 0.0,
        train_steps: 0,
        evals: Vec::new(),
    });
    cell.params = model.num_params();
    cell.weighting_params = model.scheduler_params() + model.prototypes.num_params();
    cell.train_steps = state.step;
    if let Some(t) = trained {
        cell.train_seconds = t;
    }
    let mut inst = load_instances(&dir).unwrap_or_default();
    let splits = load_splits(&run_config.data, model.spec.image_size as u32)?;
    let steps = state.step.max(1);
    let tau = tau_schedule(&run_config, steps).tau(steps);
    for cond in conditions {
        if cell.eval(&cond.name).is_some() && inst.conditions.contains_key(&cond.name) {
            continue;
        }
        let instances = if cond.split == "transfer" {
            let spec = transfer
                .eval_data
                .as_deref()
                .context("condition `transfer` needs --eval-data")?;
            let t = crate::cmd::transfer::load(
                spec,
                transfer.eval_images.clone(),
                transfer.eval_split,
                model.spec.image_size as u32,
                run_config.task,
            )?;
            crate::cmd::transfer::report_coverage(&label, &t, &vocab);
            t.instances
        } else {
            let split: Split = cond
                .split
                .parse()
                .map_err(|e| anyhow::anyhow!("condition {}: split: {e}", cond.name))?;
            splits
                .get(&split)
                .cloned()
                .filter(|v| !v.is_empty())
                .with_context(|| format!("the run's data has no `{}` split", cond.split))?
        };
        let transform = if cond.spec.is_empty() {
            None
        } else {
            Some(corruption_transform(
                &cond.spec,
                run_config.seed,
                &instances,
            )?)
        };
        let opts = EvalOptions {
            tau,
            rerank_k: run_config.itm_rerank_k,
            transform,
            per_instance: true,
            ..EvalOptions::default()
        };
        let start = Instant::now();
        let report = evaluate(&model, instances, &vocab, &opts, device)
            .with_context(|| format!("evaluating {label} on {}", cond.name))?;
        let seconds = start.elapsed().as_secs_f64();
        if inst.signal_names.is_empty() {
            inst.signal_names = report.signal_names.clone();
        }
        if inst.uncertainty_signal.is_none() {
            inst.uncertainty_signal =
                uncertainty_index(&report.signal_names).map(|k| report.signal_names[k].clone());
        }
        let signal = inst
            .uncertainty_signal
            .as_ref()
            .and_then(|s| report.signal_names.iter().position(|n| n == s));
        inst.conditions
            .insert(cond.name.clone(), instances_of(&report, signal));
        cell.evals.retain(|e| e.condition != cond.name);
        cell.evals.push(ConditionEval {
            condition: cond.name.clone(),
            metrics: report.metrics.clone(),
            main: report.main(),
            mean_weights: report.mean_weights.clone(),
            n: report.n,
            seconds,
        });
        // Instances first: a cell.json entry promises its instances are saved.
        write_atomic(
            &dir.join("instances.json"),
            serde_json::to_string(&inst)?.as_bytes(),
        )?;
        write_atomic(
            &dir.join("cell.json"),
            serde_json::to_string_pretty(&cell)?.as_bytes(),
        )?;
        *done += 1;
        progress.update(
            *done,
            &format!("{label} {}: {:.2}", cond.name, report.main()),
        );
    }
    Ok(cell)
}
