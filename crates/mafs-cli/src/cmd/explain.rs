//! `mafs explain`: why one instance trusted the modalities it did. Prints its uncertainty
//! signals, scheduler logits and fusion weights per modality, clean and (with `--corrupt`)
//! corrupted, and what moved between the two.
//!
//! With `--all` (or `--limit N`) it explains a whole split instead: the split (or its first
//! `N` instances) evaluated clean and under each corruption of `--corrupt`, and per
//! condition the paired change of each modality's mean weight, the AUROC of the weight as a
//! detector of its own corruption and each signal's mean clean and corrupted.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use mafs_data::dataset::CaptionDataset;
use mafs_data::{Instance, InstanceTransform, Split};
use mafs_scheduler::{Explanation, explain};
use mafs_train::config::RunConfig;
use mafs_train::data::{TaskDataset, Vocabulary, load_splits, make_batcher, to_model_batch};
use mafs_train::device::parse_device;
use mafs_train::eval::EvalOptions;
use mafs_train::model::MafsModel;
use mafs_train::train::{load_run, tau_schedule};

use super::sweep::corruption_spec;

/// Arguments of `mafs explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Run directory.
    #[arg(long)]
    pub run: PathBuf,
    /// Index of the instance within the split.
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// Explain the whole split: the weight shift of each corruption of `--corrupt` against
    /// the same instances clean, instead of one instance.
    #[arg(long, conflicts_with = "index")]
    pub all: bool,
    /// With `--all` (implied): only the split's first N instances.
    #[arg(long, value_name = "N", conflicts_with = "index")]
    pub limit: Option<usize>,
    /// Split: val, test or shift.
    #[arg(long, default_value = "test")]
    pub split: Split,
    /// A corruption to compare against the clean instance, e.g. `image:fog:4`; with
    /// `--all`, one or several comma-separated, each evaluated on its own.
    #[arg(long)]
    pub corrupt: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Device: cpu, wgpu[:N], cuda[:N], remote:HOST:PORT.
    #[arg(long, env = "MAFS_DEVICE", default_value = "cpu")]
    pub device: String,
}

/// Runs `mafs explain`.
pub fn run(args: ExplainArgs) -> Result<ExitCode> {
    let device = parse_device(&args.device)?;
    let (config, vocab, model, state) =
        load_run(&args.run, &device).with_context(|| format!("loading {}", args.run.display()))?;
    let splits = load_splits(&config.data, model.spec.image_size as u32)?;
    let instances = splits.get(&args.split).cloned().unwrap_or_default();
    let steps = state.step.max(1);
    let tau = tau_schedule(&config, steps).tau(steps);
    let loaded = Loaded {
        config,
        vocab,
        model,
        tau,
        device,
    };
    if args.all || args.limit.is_some() {
        explain_split(&args, &loaded, instances)
    } else {
        explain_instance(&args, &loaded, &instances)
    }
}

/// The run being explained.
struct Loaded {
    config: RunConfig,
    vocab: Vocabulary,
    model: MafsModel,
    tau: f64,
    device: Device,
}

/// `--all`: the split's weight shift under each corruption of `--corrupt`.
fn explain_split(
    args: &ExplainArgs,
    run: &Loaded,
    mut instances: Vec<Instance>,
) -> Result<ExitCode> {
    let Some(corrupt) = args.corrupt.as_deref() else {
        bail!(
            "--all explains what corruptions do to the weights: give them with --corrupt SPEC (one or several comma-separated, e.g. image:gaussian_noise:3,text:keyboard:5)"
        );
    };
    if let Some(n) = args.limit {
        if n == 0 {
            bail!("--limit must be at least 1");
        }
        instances.truncate(n);
    }
    if instances.is_empty() {
        bail!(
            "the `{}` split of {} is empty",
            args.split,
            args.run.display()
        );
    }
    let conditions = super::paired::conditions(Some(corrupt), true, run.config.seed, &instances)?;
    let opts = EvalOptions {
        tau: run.tau,
        // the weights do not depend on re-ranking
        rerank_k: 0,
        ..EvalOptions::default()
    };
    let (clean, evals) = super::paired::evaluate_paired(
        &run.model,
        &instances,
        &run.vocab,
        conditions,
        &opts,
        &run.device,
    )?;
    let shifts = super::paired::corrupted_shifts(&evals);
    if args.json {
        let v = serde_json::json!({
            "run": args.run,
            "task": run.config.task,
            "fusion": run.config.fusion,
            "split": args.split,
            "instances": instances.len(),
            "clean": {
                "modalities": clean.modalities,
                "mean_weights": clean.mean_weights,
                "signal_names": clean.signal_names,
                "mean_signals": clean.mean_signals,
                "n": clean.n,
            },
            "conditions": evals.iter().map(|e| serde_json::json!({
                "corrupt": e.name,
                "mean_weights": e.report.mean_weights,
                "weight_shift": e.shift,
                "n": e.report.n,
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "run {} ({} / {}), {} split, {} instances ({} rows), tau {:.3}",
        args.run.display(),
        run.config.task,
        run.config.fusion,
        args.split,
        instances.len(),
        clean.n,
        run.tau
    );
    let weights: Vec<String> = clean
        .modalities
        .iter()
        .zip(&clean.mean_weights)
        .map(|(m, w)| format!("{m} {w:.3}"))
        .collect();
    println!("clean mean weights: {}\n", weights.join(", "));
    println!("{}", super::paired::shift_tables(&shifts));
    Ok(ExitCode::SUCCESS)
}

/// One instance's signals, logits and weights, clean and under `--corrupt`.
fn explain_instance(args: &ExplainArgs, run: &Loaded, instances: &[Instance]) -> Result<ExitCode> {
    let Loaded {
        config,
        vocab,
        model,
        tau,
        device,
    } = run;
    let tau = *tau;
    if args.index >= instances.len() {
        bail!(
            "--index {} is out of range: the `{}` split has {} instances",
            args.index,
            args.split,
            instances.len()
        );
    }
    let instance = instances[args.index].clone();
    let mut views: Vec<(String, Option<Arc<dyn InstanceTransform>>)> = vec![("clean".into(), None)];
    if let Some(text) = &args.corrupt {
        let spec = corruption_spec(text, config.seed, instances).context("--corrupt")?;
        views.push((text.clone(), Some(Arc::new(spec))));
    }
    let mut explanations: Vec<(String, Explanation)> = Vec::new();
    for (name, transform) in views {
        let batcher = make_batcher(
            vocab,
            model.spec.image_size as u32,
            model.spec.context_length,
            transform,
        );
        let data = TaskDataset::Caption(CaptionDataset::per_instance(vec![instance.clone()]));
        let mut batch = to_model_batch(data.batch(&batcher, &[0], 0, device));
        if model.spec.task == mafs_train::config::Task::Vqa {
            if instance.questions.is_empty() {
                bail!(
                    "instance {} has no question to explain a VQA model on",
                    args.index
                );
            }
            let q = TaskDataset::new(model.spec.task, vec![instance.clone()], &vocab.answers);
            batch = to_model_batch(q.batch(&batcher, &[0], 0, device));
        }
        let f = model.forward_items(&batch, tau, true);
        let e = explain(&f.weights, &model.spec.modalities, 0)?;
        explanations.push((name, e));
    }
    if args.json {
        let v: Vec<_> = explanations
            .iter()
            .map(|(n, e)| serde_json::json!({"view": n, "explanation": e}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "run {} ({} / {}), {} instance {} (id {}), tau {tau:.3}",
        args.run.display(),
        config.task,
        config.fusion,
        args.split,
        args.index,
        instance.id
    );
    if let Some(c) = instance.captions.first() {
        println!("caption: {c}");
    }
    if let Some(s) = &instance.side_text {
        println!("side text: {s}");
    }
    for (name, e) in &explanations {
        println!("\n[{name}]");
        print!("{e}");
    }
    if explanations.len() == 2 {
        println!("\nwhat moved (corrupted - clean):");
        let (a, b) = (&explanations[0].1, &explanations[1].1);
        for (ma, mb) in a.modalities.iter().zip(&b.modalities) {
            let signals: Vec<String> = ma
                .signals
                .iter()
                .zip(&mb.signals)
                .map(|(sa, sb)| format!("{} {:+.3}", sa.name, sb.value - sa.value))
                .collect();
            println!(
                "  {:<10} weight {:.3} -> {:.3} ({:+.3}); {}",
                ma.modality,
                ma.weight,
                mb.weight,
                mb.weight - ma.weight,
                signals.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
