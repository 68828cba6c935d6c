//! `mafs compare`: the README's main job. Trains several fusions on the same data with the
//! same seed (resuming or reusing finished runs), evaluates each clean, under corruptions and
//! on the domain-shift split, and prints one table (also written as Markdown, JSON and an
//! SVG chart in the output folder).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use mafs_data::{InstanceTransform, Split};
use mafs_eval::weights::{ModalityWeightShift, shift_table, signal_table};
use mafs_train::atomic::write_atomic;
use mafs_train::config::{FusionKind, Task};
use mafs_train::data::load_splits;
use mafs_train::eval::{EvalOptions, evaluate};
use mafs_train::train::{TrainOptions, load_run, tau_schedule};
use serde::Serialize;

use super::sweep::{corruption_transform, train_or_reuse};
use super::train::TrainArgs;

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
    /// Training settings shared by every fusion (its --fusion and --out are ignored).
    #[command(flatten)]
    pub train: TrainArgs,
}

#[derive(Debug, Serialize)]
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

/// Runs `mafs compare`.
pub fn run(args: CompareArgs) -> Result<ExitCode> {
    let (device, devices) = args.train.devices()?;
    let mut rows: Vec<Row> = Vec::new();
    for &fusion in &args.fusions {
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
        for (name, split, transform) in conditions {
            let instances = splits.get(&split).cloned().unwrap_or_default();
            let corrupted = transform.is_some();
            let opts = EvalOptions {
                tau,
                rerank_k: config.itm_rerank_k,
                transform,
                per_instance: split == Split::Test,
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
    let table = markdown(&rows, args.train.task)
        + "\n"
        + &single_modality_check(&rows, args.train.task)
        + "\n"
        + &weights_markdown(&rows);
    println!("{table}");
    std::fs::create_dir_all(&args.out_dir)?;
    // Atomic writes: an interrupted report never leaves a half-written file behind.
    write_atomic(&args.out_dir.join("compare.md"), table.as_bytes())?;
    write_atomic(
        &args.out_dir.join("compare.json"),
        serde_json::to_string_pretty(&rows)?.as_bytes(),
    )?;
    let svg = chart(&rows, args.train.task);
    write_atomic(&args.out_dir.join("compare.svg"), svg.as_bytes())?;
    eprintln!(
        "[compare] wrote {0}/compare.md, {0}/compare.json and {0}/compare.svg",
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
    let mut s = String::new();
    s.push_str(&format!(
        "| fusion | condition | {} | weights |\n|---|---|{}---|\n",
        cols.join(" | "),
        "---|".repeat(cols.len())
    ));
    for r in rows {
        let vals: Vec<String> = cols
            .iter()
            .map(|c| r.metrics.get(*c).map_or("-".into(), |v| format!("{v:.2}")))
            .collect();
        let w: Vec<String> = r
            .modalities
            .iter()
            .zip(&r.mean_weights)
            .map(|(m, w)| format!("{m} {w:.2}"))
            .collect();
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.fusion,
            r.condition,
            vals.join(" | "),
            w.join(", ")
        ));
    }
    s
}

/// A grouped bar chart of the headline metric per condition and fusion.
fn chart(rows: &[Row], task: Task) -> String {
    let mut conditions: Vec<&str> = Vec::new();
    let mut fusions: Vec<&str> = Vec::new();
    for r in rows {
        if !conditions.contains(&r.condition.as_str()) {
            conditions.push(&r.condition);
        }
        if !fusions.contains(&r.fusion.as_str()) {
            fusions.push(&r.fusion);
        }
    }
    let value = |f: &str, c: &str| {
        rows.iter()
            .find(|r| r.fusion == f && r.condition == c)
            .and_then(|r| r.metrics.get("main").copied())
            .unwrap_or(0.0)
    };
    let max = rows
        .iter()
        .filter_map(|r| r.metrics.get("main").copied())
        .fold(1e-9, f64::max);
    let (w, h, left, bottom, top) = (900.0, 420.0, 60.0, 110.0, 40.0);
    let group = (w - left - 20.0) / conditions.len().max(1) as f64;
    let bar = group * 0.8 / fusions.len().max(1) as f64;
    let colors = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    ];
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{left}\" y=\"20\" font-size=\"14\">{} — {} by condition (test split unless noted)</text>\n",
        task,
        columns(task)
            .last()
            .copied()
            .unwrap_or("main")
            .replace("accuracy", "VQA accuracy")
    );
    let plot_h = h - bottom - top;
    for (ci, c) in conditions.iter().enumerate() {
        let x0 = left + ci as f64 * group + group * 0.1;
        for (fi, f) in fusions.iter().enumerate() {
            let v = value(f, c);
            let bh = plot_h * v / max;
            let x = x0 + fi as f64 * bar;
            let y = top + plot_h - bh;
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{f} {c}: {v:.2}</title></rect>\n",
                bar * 0.95,
                colors[fi % colors.len()]
            ));
        }
        let lx = x0 + group * 0.4;
        let ly = top + plot_h + 14.0;
        s.push_str(&format!(
            "<text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" transform=\"rotate(-30 {lx:.1} {ly:.1})\">{c}</text>\n"
        ));
    }
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n<text x=\"5\" y=\"{:.1}\">{max:.1}</text>\n<text x=\"5\" y=\"{:.1}\">0</text>\n",
        top + plot_h,
        w - 20.0,
        top + plot_h,
        top + 10.0,
        top + plot_h
    ));
    for (fi, f) in fusions.iter().enumerate() {
        s.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{f}</text>\n",
            w - 200.0,
            top + fi as f64 * 18.0,
            colors[fi % colors.len()],
            w - 183.0,
            top + 10.0 + fi as f64 * 18.0
        ));
    }
    s.push_str("</svg>\n");
    s
}
