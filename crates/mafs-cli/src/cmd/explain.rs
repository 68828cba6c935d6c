//! `mafs explain`: why one instance trusted the modalities it did. Prints its uncertainty
//! signals, scheduler logits and fusion weights per modality, clean and (with `--corrupt`)
//! corrupted, and what moved between the two.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use mafs_data::corrupt::{CorruptionSpec, DonorPool};
use mafs_data::dataset::CaptionDataset;
use mafs_data::{InstanceTransform, Split};
use mafs_scheduler::{Explanation, explain};
use mafs_train::data::{TaskDataset, load_splits, make_batcher, to_model_batch};
use mafs_train::device::parse_device;
use mafs_train::train::{load_run, tau_schedule};

/// Arguments of `mafs explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// Run directory.
    #[arg(long)]
    pub run: PathBuf,
    /// Index of the instance within the split.
    #[arg(long, default_value_t = 0)]
    pub index: usize,
    /// Split: val, test or shift.
    #[arg(long, default_value = "test")]
    pub split: Split,
    /// A corruption to compare against the clean instance, e.g. `image:fog:4`.
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
    if args.index >= instances.len() {
        bail!(
            "--index {} is out of range: the `{}` split has {} instances",
            args.index,
            args.split,
            instances.len()
        );
    }
    let steps = state.step.max(1);
    let tau = tau_schedule(&config, steps).tau(steps);
    let instance = instances[args.index].clone();
    let mut views: Vec<(String, Option<Arc<dyn InstanceTransform>>)> = vec![("clean".into(), None)];
    if let Some(text) = &args.corrupt {
        let spec = CorruptionSpec::parse(text)
            .with_context(|| format!("--corrupt `{text}`"))?
            .with_seed(config.seed);
        let spec = if spec.needs_donors() {
            spec.with_donors(Arc::new(DonorPool::from_instances(&instances)))
        } else {
            spec
        };
        views.push((text.clone(), Some(Arc::new(spec))));
    }
    let mut explanations: Vec<(String, Explanation)> = Vec::new();
    for (name, transform) in views {
        let batcher = make_batcher(
            &vocab,
            model.spec.image_size as u32,
            model.spec.context_length,
            transform,
        );
        let data = TaskDataset::Caption(CaptionDataset::per_instance(vec![instance.clone()]));
        let mut batch = to_model_batch(data.batch(&batcher, &[0], 0, &device));
        if model.spec.task == mafs_train::config::Task::Vqa {
            if instance.questions.is_empty() {
                bail!(
                    "instance {} has no question to explain a VQA model on",
                    args.index
                );
            }
            let q = TaskDataset::new(model.spec.task, vec![instance.clone()], &vocab.answers);
            batch = to_model_batch(q.batch(&batcher, &[0], 0, &device));
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
