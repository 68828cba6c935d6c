//! `mafs compare`: the README's main job. Trains several fusions on the same data with the
//! same seed (resuming or reusing finished runs), evaluates each clean, under corruptions and
//! on the domain-shift split, and prints one table (also written as Markdown, JSON and an
//! SVG chart in the output folder).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use mafs_data::{InstanceTransform, Split};
use mafs_eval::atomic::write_atomic;
use mafs_eval::plot::Figure;
use mafs_eval::plot::bars::{BarGroup, grouped_bars};
use mafs_eval::weights::{ModalityWeightShift, shift_table, signal_table};
use mafs_train::config::{FusionKind, Task};
use mafs_train::data::load_splits;
use mafs_train::eval::{EvalOptions, evaluate};
use mafs_train::train::{TrainOptions, load_run, tau_schedule};
use serde::{Deserialize, Serialize};

use super::sweep::{corruption_transform, train_or_reuse};
use super::train::TrainArgs;
use super::workers;

/// Arguments of `mafs compare`.
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Fusions to compare, comma-separated.
    #[arg(long, default_value = "ma-afs,fixed-query", value_delimiter = ',')]
    pub fusions: Vec<FusionKind>,
    /// Conditions to evaluate besides `clean` and the `shift` split (corruption specs).
    #[arg(
        long,
        default_value = "image:gaussian_noise:3,image:missing,text:missing,text:keyboard:3,pair:misalign:3",
        value_delimiter = ','
    )]
    pub conditions: Vec<String>,
    /// Output folder (one run directory per fusion, plus the report).
    #[arg(long, default_value = "runs/main")]
    pub out_dir: PathBuf,
    /// Fusions trained at the same time, each in its own `mafs` process (default: the number
    /// of cores, at most the number of fusions). A run keeps about one core busy, so two
    /// fusions on two cores take about the time of one; every process seeds its own
    /// generators, so the numbers do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Internal: train and evaluate this fusion only and write its rows to --rows-out (what
    /// the worker processes of --jobs run).
    #[arg(long, hide = true, requires = "rows_out")]
    pub only_fusion: Option<FusionKind>,
    /// Internal: where --only-fusion writes its rows (JSON).
    #[arg(long, hide = true)]
    pub rows_out: Option<PathBuf>,
    /// Training settings shared by every fusion (its --fusion is ignored; --out is refused:
    /// give --out-dir).
    #[command(flatten)]
    pub train: TrainArgs,
    /// Another dataset to evaluate every fusion on (cross-dataset transfer).
    #[command(flatten)]
    pub transfer: super::transfer::EvalDataArgs,
}

#[derive(Debug, Serialize, Deserialize)]
struct Row {
    fusion: String,
    condition: String,
    metrics: std::collections::BTreeMap<String, f64>,
    mean_weights: Vec<f64>,
    modalities: Vec<String>,
    /// What the condition did to each modality's weight against the same instances clean
    /// (test-split corruptions only).
    weight_shift: Option<Vec<ModalityWeightShift>>,
}

/// The conditions that leave one droppable modality of a task's item alone (the others
/// missing), named by the modality kept: the single-modality references MA-AFS's clean score
/// is checked against.
pub fn single_modality_conditions(task: Task) -> Vec<(&'static str, &'static str)> {
    match task {
        // the item is [image, side_text]
        Task::Retrieval | Task::Captioning => {
            vec![("image", "text:missing"), ("side_text", "image:missing")]
        }
        // the question always stays; the image or the side text is dropped
        Task::Vqa => vec![
            ("image + question", "text:missing"),
            ("question + side_text", "image:missing"),
        ],
    }
}

/// The metric columns printed for a task.
fn columns(task: Task) -> &'static [&'static str] {
    match task {
        Task::Retrieval => &["i2t_r1", "i2t_r5", "t2i_r1", "t2i_r5", "rsum"],
        Task::Captioning => &["Bleu_4", "CIDEr", "ROUGE_L"],
        Task::Vqa => &["accuracy"],
    }
}

/// An evaluation: its name, the split and the corruption applied.
type Condition = (String, Split, Option<Arc<dyn InstanceTransform>>);

/// `mafs compare` names its runs itself (`OUT_DIR/TASK-FUSION`), so a `--out` (the run
/// folder of `mafs train`) would be silently ignored; it is refused instead.
fn refuse_run_folder(args: &CompareArgs) -> Result<()> {
    if args.train.out != std::path::Path::new(super::train::DEFAULT_OUT) {
        anyhow::bail!(
            "mafs compare: --out {} is not used here (each fusion's run goes to \
             OUT_DIR/TASK-FUSION); give the folder with --out-dir",
            args.train.out.display()
        );
    }
    Ok(())
}

/// Runs `mafs compare`.
pub fn run(args: CompareArgs) -> Result<ExitCode> {
    refuse_run_folder(&args)?;
    if let (Some(fusion), Some(path)) = (args.only_fusion, &args.rows_out) {
        let rows = fusion_rows(&args, &[fusion])?;
        write_atomic(path, mafs_core::json::to_string_pretty(&rows)?.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = workers::jobs(args.jobs, args.fusions.len());
    let rows = if jobs > 1 {
        worker_rows(&args.fusions, jobs, &args.out_dir)?
    } else {
        fusion_rows(&args, &args.fusions)?
    };
    report(&args, &rows)
}

/// Runs one worker process per fusion (`--only-fusion F --rows-out FILE`), `jobs` at a time,
/// and returns every row in the order of `fusions`.
fn worker_rows(fusions: &[FusionKind], jobs: usize, out_dir: &std::path::Path) -> Result<Vec<Row>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("creating the output folder {}", out_dir.display()))?;
    eprintln!(
        "[compare] training {} fusions, {jobs} at a time, each in its own process",
        fusions.len()
    );
    let mut all = Vec::new();
    for chunk in fusions.chunks(jobs) {
        let files: Vec<PathBuf> = chunk
            .iter()
            .map(|f| out_dir.join(format!(".compare-rows-{f}.json")))
            .collect();
        let started = chunk
            .iter()
            .zip(&files)
            .map(|(f, file)| {
                let _ = std::fs::remove_file(file);
                let extra = [
                    "--only-fusion".into(),
                    f.to_string().into(),
                    "--rows-out".into(),
                    file.into(),
                ];
                workers::spawn(&f.to_string(), &extra)
            })
            .collect::<Result<Vec<_>>>()?;
        workers::wait_all(started).context("mafs compare")?;
        for (f, file) in chunk.iter().zip(&files) {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading the rows of {f} from {}", file.display()))?;
            // mafs_core::json keeps non-finite numbers (a NaN metric stays NaN)
            let rows: Vec<Row> = mafs_core::json::from_str(&text)
                .with_context(|| format!("parsing the rows of {f} in {}", file.display()))?;
            let _ = std::fs::remove_file(file);
            all.extend(rows);
        }
    }
    Ok(all)
}

/// Trains (or reuses) each fusion's run in turn and evaluates it under every condition.
fn fusion_rows(args: &CompareArgs, fusions: &[FusionKind]) -> Result<Vec<Row>> {
    let (device, devices) = args.train.devices()?;
    let mut rows: Vec<Row> = Vec::new();
    for &fusion in fusions {
        let out = args.out_dir.join(format!("{}-{}", args.train.task, fusion));
        let mut targs_config = args.train.config()?;
        targs_config.fusion = fusion;
        targs_config.detach_weights = args.train.scheduler.detach_weights
            || matches!(fusion, FusionKind::Qmf | FusionKind::Pdf);
        let mut opts = TrainOptions::new(&out);
        opts.device = device.clone();
        opts.devices = devices.clone();
        opts.quiet = args.train.quiet;
        train_or_reuse(&targs_config, opts, "compare", &fusion.to_string())?;
        let (config, vocab, model, state) = load_run(&out, &device)?;
        let splits = load_splits(&config.data, model.spec.image_size as u32)?;
        let test = splits.get(&Split::Test).cloned().unwrap_or_default();
        let steps = state.step.max(1);
        let tau = tau_schedule(&config, steps).tau(steps);
        let mut conditions: Vec<Condition> = vec![("clean".into(), Split::Test, None)];
        let mut names: Vec<String> = args.conditions.clone();
        for (_, spec) in single_modality_conditions(args.train.task) {
            if !names.iter().any(|n| n == spec) {
                names.push(spec.to_string());
            }
        }
        for c in &names {
            let transform = corruption_transform(c, config.seed, &test)
                .with_context(|| format!("--conditions `{c}`"))?;
            conditions.push((c.clone(), Split::Test, Some(transform)));
        }
        if splits.get(&Split::Shift).is_some_and(|s| !s.is_empty()) {
            conditions.push(("shift (domain)".into(), Split::Shift, None));
        }
        let mut clean_report = None;
        let mut transfer_set = None;
        if let Some(spec) = &args.transfer.eval_data {
            let t = super::transfer::load(
                spec,
                args.transfer.eval_images.clone(),
                args.transfer.eval_split,
                model.spec.image_size as u32,
                config.task,
            )?;
            let c = super::transfer::report_coverage("compare", &t, &vocab);
            conditions.push((
                format!("{} ({:.1}% unk)", t.name, c.unknown_token_pct()),
                Split::Val,
                None,
            ));
            transfer_set = Some((conditions.len() - 1, t.instances));
        }
        for (k, (name, split, transform)) in conditions.into_iter().enumerate() {
            let transfer = matches!(&transfer_set, Some((at, _)) if *at == k);
            let instances = match &transfer_set {
                Some((at, v)) if *at == k => v.clone(),
                _ => splits.get(&split).cloned().unwrap_or_default(),
            };
            let corrupted = transform.is_some();
            let opts = EvalOptions {
                tau,
                rerank_k: config.itm_rerank_k,
                transform,
                per_instance: split == Split::Test && !transfer,
                ..EvalOptions::default()
            };
            let report = evaluate(&model, instances, &vocab, &opts, &device)
                .with_context(|| format!("evaluating {fusion} on {name}"))?;
            eprintln!("[compare] {fusion} {name}: main {:.2}", report.main());
            let weight_shift = match (&clean_report, corrupted) {
                (Some(clean), true) => Some(report.weight_shift(clean)?),
                _ => None,
            };
            rows.push(Row {
                fusion: fusion.to_string(),
                condition: name.clone(),
                metrics: report.metrics.clone(),
                mean_weights: report.mean_weights.clone(),
                modalities: report.modalities.clone(),
                weight_shift,
            });
            if name == "clean" {
                clean_report = Some(report);
            }
        }
    }
    Ok(rows)
}

/// Prints the comparison and writes it (Markdown, JSON, chart) into the output folder.
fn report(args: &CompareArgs, rows: &[Row]) -> Result<ExitCode> {
    let table = markdown(rows, args.train.task)
        + "\n"
        + &single_modality_check(rows, args.train.task)
        + "\n"
        + &weights_markdown(rows);
    println!("{table}");
    std::fs::create_dir_all(&args.out_dir)?;
    // Atomic writes: an interrupted report never leaves a half-written file behind.
    write_atomic(&args.out_dir.join("compare.md"), table.as_bytes())?;
    write_atomic(
        &args.out_dir.join("compare.json"),
        mafs_core::json::to_string_pretty(&rows)?.as_bytes(),
    )?;
    chart(rows, args.train.task).save(&args.out_dir, "compare")?;
    eprintln!(
        "[compare] wrote {0}/compare.md, {0}/compare.json, {0}/compare.png and {0}/compare.svg",
        args.out_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The check that a fusion's clean score is not below its own best single modality's.
fn single_modality_check(rows: &[Row], task: Task) -> String {
    let singles = single_modality_conditions(task);
    let main = |f: &str, c: &str| {
        rows.iter()
            .find(|r| r.fusion == f && r.condition == c)
            .and_then(|r| r.metrics.get("main").copied())
    };
    let mut s = format!(
        "Clean score against the fusion's own best single modality (the others missing):\n\n| fusion | clean | {} | best single | clean >= best single |\n|---|---|{}---|---|\n",
        singles
            .iter()
            .map(|(kept, _)| format!("{kept} only"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(singles.len())
    );
    let mut fusions: Vec<&str> = Vec::new();
    for r in rows {
        if !fusions.contains(&r.fusion.as_str()) {
            fusions.push(&r.fusion);
        }
    }
    for f in fusions {
        let clean = main(f, "clean").unwrap_or(f64::NAN);
        let vals: Vec<f64> = singles
            .iter()
            .map(|(_, c)| main(f, c).unwrap_or(f64::NAN))
            .collect();
        let best = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        s.push_str(&format!(
            "| {f} | {clean:.2} | {} | {best:.2} | {} |\n",
            vals.iter()
                .map(|v| format!("{v:.2}"))
                .collect::<Vec<_>>()
                .join(" | "),
            if clean >= best { "yes" } else { "**no**" }
        ));
    }
    s
}

/// Per fusion, what each corruption did to the weights, and the signals' means.
fn weights_markdown(rows: &[Row]) -> String {
    let mut s = String::new();
    let mut fusions: Vec<&str> = Vec::new();
    for r in rows {
        if !fusions.contains(&r.fusion.as_str()) {
            fusions.push(&r.fusion);
        }
    }
    for f in fusions {
        let shifts: Vec<(String, Vec<ModalityWeightShift>)> = rows
            .iter()
            .filter(|r| r.fusion == f)
            .filter_map(|r| r.weight_shift.clone().map(|w| (r.condition.clone(), w)))
            .collect();
        if shifts.is_empty() {
            continue;
        }
        s.push_str(&format!(
            "{f}: fusion weights against the same instances clean (paired), and the AUROC of each modality's weight as a detector of its own corruption:\n\n{}\n{f}: signal means, clean and on the corrupted rows:\n\n{}\n",
            shift_table(&shifts),
            signal_table(&shifts)
        ));
    }
    s
}

fn markdown(rows: &[Row], task: Task) -> String {
    let cols = columns(task);
    let mut t = mafs_core::table::Table::new(
        ["fusion", "condition"]
            .into_iter()
            .chain(cols.iter().copied())
            .chain(["weights"]),
    );
    for r in rows {
        let vals = cols
            .iter()
            .map(|c| r.metrics.get(*c).map_or("-".into(), |v| format!("{v:.2}")));
        let w: Vec<String> = r
            .modalities
            .iter()
            .zip(&r.mean_weights)
            .map(|(m, w)| format!("{m} {w:.2}"))
            .collect();
        t.row(
            [r.fusion.clone(), r.condition.clone()]
                .into_iter()
                .chain(vals)
                .chain([w.join(", ")]),
        );
    }
    t.to_string()
}

/// A grouped bar chart of the headline metric per condition and fusion.
fn chart(rows: &[Row], task: Task) -> Figure {
    let mut conditions: Vec<String> = Vec::new();
    let mut fusions: Vec<String> = Vec::new();
    for r in rows {
        if !conditions.contains(&r.condition) {
            conditions.push(r.condition.clone());
        }
        if !fusions.contains(&r.fusion) {
            fusions.push(r.fusion.clone());
        }
    }
    let metric = columns(task)
        .last()
        .copied()
        .unwrap_or("main")
        .replace("accuracy", "VQA accuracy");
    let groups: Vec<BarGroup> = fusions
        .iter()
        .map(|f| BarGroup {
            name: f.clone(),
            values: conditions
                .iter()
                .map(|c| {
                    rows.iter()
                        .find(|r| &r.fusion == f && &r.condition == c)
                        .and_then(|r| r.metrics.get("main"))
                        .map(|&v| (v, 0.0))
                })
                .collect(),
        })
        .collect();
    grouped_bars(
        &format!("{task}: {metric} by condition (test split unless noted)"),
        &metric,
        &conditions,
        &groups,
    )
}
