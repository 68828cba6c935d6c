//! `mafs eval`: evaluates a saved run, clean or corrupted, on a split.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use mafs_data::Split;
use mafs_data::corrupt::{CorruptionSpec, DonorPool};
use mafs_eval::weights::{shift_table as weight_shift_table, signal_table};
use mafs_train::data::load_split;
use mafs_train::device::parse_device;
use mafs_train::eval::{EvalOptions, evaluate};
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
    let specs: Vec<Option<CorruptionSpec>> = match &args.corrupt {
        Some(text) => {
            let spec = CorruptionSpec::parse(text)
                .with_context(|| format!("--corrupt `{text}`"))?
                .with_seed(config.seed);
            let spec = if spec.needs_donors() {
                spec.with_donors(Arc::new(DonorPool::from_instances(&instances)))
            } else {
                spec
            };
            if args.each {
                spec.singles().into_iter().map(Some).collect()
            } else {
                vec![Some(spec)]
            }
        }
        None => vec![None],
    };
    let steps = state.step.max(1);
    let opts = |transform: Option<Arc<dyn mafs_data::InstanceTransform>>| EvalOptions {
        batch_size: args.batch_size,
        tau: tau_schedule(&config, steps).tau(steps),
        rerank_k: args.rerank_k,
        transform,
        beam_size: args.beam,
        per_instance: true,
    };
    // The clean evaluation is the reference every condition's weights are paired with.
    let clean = evaluate(&model, instances.clone(), &vocab, &opts(None), &device)?;
    let mut results = Vec::new();
    let mut shifts = Vec::new();
    for spec in specs {
        let (name, report) = match spec {
            None => ("clean".to_string(), clean.clone()),
            Some(s) => {
                let name = s.to_string();
                let t = Arc::new(s) as Arc<dyn mafs_data::InstanceTransform>;
                (
                    name,
                    evaluate(&model, instances.clone(), &vocab, &opts(Some(t)), &device)?,
                )
            }
        };
        let shift = report.weight_shift(&clean)?;
        if name != "clean" {
            shifts.push((name.clone(), shift.clone()));
        }
        results.push(serde_json::json!({
            "corrupt": name,
            "metrics": report.metrics,
            "modalities": report.modalities,
            "mean_weights": report.mean_weights,
            "weight_shift": shift,
            "n": report.n,
        }));
    }
    if !shifts.is_empty() {
        eprintln!(
            "fusion weights against the same instances clean (paired), and the AUROC of each \
             modality's weight as a detector of its own corruption:\n{}\nsignal means, clean → on the corrupted rows:\n{}",
            weight_shift_table(&shifts),
            signal_table(&shifts)
        );
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
