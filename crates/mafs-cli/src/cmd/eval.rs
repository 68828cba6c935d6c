//! `mafs eval`: evaluates a saved run, clean or corrupted, on a split.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use mafs_data::Split;
use mafs_train::data::load_split;
use mafs_train::device::parse_device;
use mafs_train::eval::EvalOptions;
use mafs_train::train::{load_run, tau_schedule};

/// Arguments of `mafs eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Run directory.
    #[arg(long)]
    pub run: PathBuf,
    /// Corruption spec, e.g. `image:gaussian_noise:3`, `text:missing`, several comma-separated.
    #[arg(long)]
    pub corrupt: Option<String>,
    /// Split: val, test or shift (of the run's data, or of --data).
    #[arg(long, default_value = "test")]
    pub split: Split,
    /// Evaluate on this dataset instead of the run's own (cross-dataset transfer): any
    /// spec `mafs train --data` takes (karpathy:FILE, coco:FILE, vqa:val=Q,A,
    /// wds:SHARDS, parquet:FILE); the run's tokenizer and answer vocabulary are applied and
    /// the unknown tokens and answers counted in the report.
    #[arg(long, value_name = "SPEC")]
    pub data: Option<String>,
    /// Image folder of --data (formats whose records name image files).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// ITM re-ranking depth for retrieval (0: ITC only).
    #[arg(long, default_value_t = 16)]
    pub rerank_k: usize,
    /// Beam size for captioning (1: greedy).
    #[arg(long, default_value_t = 1)]
    pub beam: usize,
    /// Evaluate each corruption of the spec (each name and severity) separately instead of
    /// applying them together.
    #[arg(long)]
    pub each: bool,
    /// Write the report as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Device: cpu, wgpu[:N], cuda[:N], remote:HOST:PORT.
    #[arg(long, env = "MAFS_DEVICE", default_value = "cpu")]
    pub device: String,
}

/// Runs `mafs eval`.
pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let device = parse_device(&args.device)?;
    let (config, vocab, model, state) =
        load_run(&args.run, &device).with_context(|| format!("loading {}", args.run.display()))?;
    let size = model.spec.image_size as u32;
    let (instances, coverage) = match &args.data {
        Some(spec) => {
            let t =
                super::transfer::load(spec, args.images.clone(), args.split, size, config.task)?;
            let c = super::transfer::report_coverage("eval", &t, &vocab);
            (t.instances, Some(c))
        }
        None => {
            let instances = load_split(&config.data, args.split, size)
                .with_context(|| format!("the run's data has no `{}` split", args.split))?;
            (instances, None)
        }
    };
    let conditions =
        super::paired::conditions(args.corrupt.as_deref(), args.each, config.seed, &instances)?;
    let steps = state.step.max(1);
    let opts = EvalOptions {
        batch_size: args.batch_size,
        tau: tau_schedule(&config, steps).tau(steps),
        rerank_k: args.rerank_k,
        transform: None,
        beam_size: args.beam,
        per_instance: true,
    };
    // The clean evaluation is the reference every condition's weights are paired with.
    let (_, evals) =
        super::paired::evaluate_paired(&model, &instances, &vocab, conditions, &opts, &device)?;
    let results: Vec<_> = evals
        .iter()
        .map(|e| {
            serde_json::json!({
                "corrupt": e.name,
                "metrics": e.report.metrics,
                "modalities": e.report.modalities,
                "mean_weights": e.report.mean_weights,
                "weight_shift": e.shift,
                "n": e.report.n,
            })
        })
        .collect();
    let shifts = super::paired::corrupted_shifts(&evals);
    if !shifts.is_empty() {
        eprintln!("{}", super::paired::shift_tables(&shifts));
    }
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "run": args.run,
        "data": args.data.as_deref().unwrap_or("the run's own"),
        "split": args.split,
        "coverage": coverage,
        "results": results,
    }))?;
    if let Some(path) = &args.json {
        mafs_eval::atomic::write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
