//! Throughput of the whole model, one measurement per process (so that its peak memory is its
//! own): a training step, the inference forward pass, the evaluation pass, batch assembly, or
//! the machine's matrix-multiply peak. `cargo xtask bench` runs it beside the PyTorch
//! implementation (`bench/torch_mafs.py`) and prints one table; run by hand:
//!
//! ```sh
//! RAYON_NUM_THREADS=2 cargo bench -p mafs-train --profile dev --bench throughput -- \
//!     --mode train --task vqa --preset tiny --batch 64 --iters 5
//! ```
//!
//! Prints one JSON object on the last line of stdout: `samples_per_s`, `ms_per_iter` (median),
//! `flops_per_sample` (analytic, matrix products only; training = 3x forward), `peak_rss_mib`.

#[path = "throughput/flops.rs"]
mod flops;
#[path = "throughput/ops.rs"]
mod ops;

use std::sync::Arc;
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Tensor};
use mafs_data::corrupt::{CorruptionAugmenter, CorruptionAugmenterConfig, DonorPool};
use mafs_data::{InstanceTransform, Split};
use mafs_encoders::EncoderPreset;
use mafs_train::config::{DataSource, FusionKind, RunConfig, Task};
use mafs_train::data::{TaskDataset, Vocabulary, load_splits, make_batcher, to_model_batch};
use mafs_train::eval::{EvalOptions, evaluate};
use mafs_train::model::{TaskModule, build_model};

struct Args {
    mode: String,
    task: Task,
    preset: String,
    fusion: FusionKind,
    batch: usize,
    iters: usize,
    warmup: usize,
    eval_items: usize,
    rerank_k: usize,
    image_size: Option<usize>,
    context_length: Option<usize>,
    modalities: Option<usize>,
    figure: Option<String>,
    png: Option<String>,
}

fn parse_args() -> Args {
    let mut a = Args {
        mode: "train".into(),
        task: Task::Vqa,
        preset: "tiny".into(),
        fusion: FusionKind::MaAfs,
        batch: 64,
        iters: 5,
        warmup: 1,
        eval_items: 128,
        rerank_k: 16,
        image_size: None,
        context_length: None,
        modalities: None,
        figure: None,
        png: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let key = argv[i].as_str();
        // cargo bench passes `--bench` to every harness=false target
        if key == "--bench" {
            i += 1;
            continue;
        }
        let val = argv
            .get(i + 1)
            .unwrap_or_else(|| panic!("throughput: {key} needs a value"))
            .clone();
        let num = |v: &str| -> usize {
            v.parse()
                .unwrap_or_else(|_| panic!("throughput: {key} expects an integer, got `{v}`"))
        };
        match key {
            "--mode" => a.mode = val,
            "--task" => {
                a.task = serde_json::from_value(serde_json::Value::String(val.clone()))
                    .unwrap_or_else(|_| panic!("throughput: unknown task `{val}`"))
            }
            "--preset" => a.preset = val,
            "--fusion" => {
                a.fusion = serde_json::from_value(serde_json::Value::String(val.clone()))
                    .unwrap_or_else(|_| panic!("throughput: unknown fusion `{val}`"))
            }
            "--batch" => a.batch = num(&val),
            "--iters" => a.iters = num(&val),
            "--warmup" => a.warmup = num(&val),
            "--eval-items" => a.eval_items = num(&val),
            "--rerank-k" => a.rerank_k = num(&val),
            "--image-size" => a.image_size = Some(num(&val)),
            "--context-length" => a.context_length = Some(num(&val)),
            "--modalities" => a.modalities = Some(num(&val)),
            "--figure" => a.figure = Some(val),
            "--png" => a.png = Some(val),
            other => panic!("throughput: unknown argument `{other}`"),
        }
        i += 2;
    }
    a
}

/// Peak resident set of this process (`VmHWM`), MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite times"));
    v[v.len() / 2]
}

/// The preset, with the scale sweep's overrides, written to a temporary JSON file so that
/// the run configuration can name it.
fn preset_path(args: &Args) -> (EncoderPreset, String) {
    let mut preset = EncoderPreset::load(&args.preset).expect("preset");
    if let Some(s) = args.image_size {
        preset.vision.image_size = s;
    }
    if let Some(n) = args.context_length {
        preset.text.context_length = n;
    }
    let path = std::env::temp_dir().join(format!(
        "mafs-bench-preset-{}-{}.json",
        std::process::id(),
        preset.name
    ));
    std::fs::write(&path, serde_json::to_string(&preset).expect("json")).expect("write preset");
    (preset, path.display().to_string())
}

fn run_config(args: &Args, preset: &str, n_train: usize) -> RunConfig {
    let mut config = RunConfig::new(args.task, args.fusion, 0);
    config.preset = preset.to_string();
    config.data = DataSource::World {
        seed: 0,
        train: n_train,
        val: 8,
        test: args.eval_items.max(8),
        shift: 8,
    };
    config.optim.batch_size = args.batch;
    // VQA's side text is the third modality; the scale sweep turns it off for 2
    config.vqa_side_text = args.modalities.is_none_or(|m| m >= 3);
    config
}

fn augmenter(config: &RunConfig, train: &[mafs_data::Instance]) -> Arc<dyn InstanceTransform> {
    let c = &config.corruption_aware;
    let cfg = CorruptionAugmenterConfig {
        p_image: c.p_image,
        p_text: c.p_text,
        p_pair: c.p_pair,
        severity_min: c.severity_min,
        severity_max: c.severity_max,
        seed: config.seed,
        ..CorruptionAugmenterConfig::default()
    };
    let donors = Arc::new(DonorPool::from_instances(train));
    Arc::new(CorruptionAugmenter::new(cfg, Some(donors)).expect("augmenter"))
}

fn matmul_peak(size: usize, iters: usize) -> (f64, f64) {
    let device = Device::flex();
    device.seed(0);
    let a = Tensor::<2>::random([size, size], Distribution::Normal(0.0, 1.0), &device);
    let b = Tensor::<2>::random([size, size], Distribution::Normal(0.0, 1.0), &device);
    let _ = a.clone().matmul(b.clone()).into_data();
    let mut times = Vec::new();
    for _ in 0..iters {
        let t = Instant::now();
        let _ = a.clone().matmul(b.clone()).into_data();
        times.push(t.elapsed().as_secs_f64());
    }
    let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
    (
        2.0 * (size as f64).powi(3) / best / 1e9,
        1e3 * median(times),
    )
}

fn main() {
    let args = parse_args();
    if args.mode == "plot" {
        // `--mode plot --figure FIGURE.json --png OUT.png`: renders a mafs-eval figure
        // (the scale sweep's; xtask has no plotting of its own)
        let fig = args.figure.as_deref().expect("--mode plot needs --figure");
        let out = args.png.as_deref().expect("--mode plot needs --png");
        let figure: mafs_eval::plot::Figure =
            serde_json::from_str(&std::fs::read_to_string(fig).expect("figure JSON"))
                .expect("a mafs_eval::plot::Figure");
        let out_path = std::path::Path::new(out);
        let stem = out_path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("--png NAME.png");
        let dir = out_path.parent().unwrap_or(std::path::Path::new("."));
        figure
            .save(dir, stem)
            .expect("write the figure (PNG and SVG)");
        println!("{}", serde_json::json!({"mode": "plot", "png": out}));
        return;
    }
    if args.mode == "ops" {
        let rows: Vec<_> = ops::profile(args.iters.max(5))
            .into_iter()
            .map(|(op, f, fb)| serde_json::json!({"op": op, "forward_ms": f, "forward_backward_ms": fb}))
            .collect();
        println!(
            "{}",
            serde_json::json!({"impl": "burn", "mode": "ops", "ops": rows})
        );
        return;
    }
    if args.mode == "matmul" {
        let (gflops, ms) = matmul_peak(1024, args.iters.max(3));
        println!(
            "{}",
            serde_json::json!({
                "impl": "burn", "mode": "matmul", "size": 1024, "gflops": gflops,
                "ms_per_iter": ms, "threads": std::env::var("RAYON_NUM_THREADS").ok(),
                "peak_rss_mib": peak_rss_mib(),
            })
        );
        return;
    }
    let (preset, preset_file) = preset_path(&args);
    let n_train = args.batch.max(16);
    let config = run_config(&args, &preset_file, n_train);
    let t_world = Instant::now();
    let splits = load_splits(&config.data, preset.vision.image_size as u32).expect("world data");
    // world generation (and corruption of the shifted split): once per run, not per step
    let world_ms = 1e3 * t_world.elapsed().as_secs_f64();
    let world_instances: usize = splits.values().map(Vec::len).sum();
    let vocab = Vocabulary::build(&splits[&Split::Train], &config);
    let sizes = vocab.sizes();
    let flops_fwd =
        flops::forward_per_sample(args.task, &preset, sizes.vocab_size, sizes.n_answers);
    let base = Device::flex();
    let device = if args.mode == "train" {
        base.clone().autodiff()
    } else {
        base.clone()
    };
    device.seed(0);
    let model = build_model(&config, sizes, &device).expect("model");
    let n_params = model.num_params();
    let train_set = TaskDataset::sampled(args.task, splits[&Split::Train].clone(), 0);
    let idx: Vec<usize> = (0..args.batch).collect();
    let mut times = Vec::new();
    let mut data_ms = None;
    let mut phase_ms: Option<[f64; 3]> = None;
    let (samples_per_iter, flops_per_sample) = match args.mode.as_str() {
        "train" => {
            let batcher = make_batcher(
                &vocab,
                preset.vision.image_size as u32,
                preset.text.context_length,
                Some(augmenter(&config, &splits[&Split::Train])),
            );
            let mut optim = AdamWConfig::new()
                .with_weight_decay(config.optim.weight_decay as f32)
                .with_grad_clipping(Some(GradientClippingConfig::Norm(
                    config.optim.grad_clip as f32,
                )))
                .init();
            let mut model = model;
            let mut data_times = Vec::new();
            // forward (to the loss value), backward, optimiser step: flex runs ops eagerly, so
            // reading the loss closes the forward pass
            let mut phases = [Vec::new(), Vec::new(), Vec::new()];
            for it in 0..args.warmup + args.iters {
                let t0 = Instant::now();
                let batch = to_model_batch(train_set.batch(&batcher, &idx, it, &device));
                let data = t0.elapsed().as_secs_f64();
                let t = Instant::now();
                let out = model.forward_loss(&batch, 1.0, &config.loss, it as u64);
                let _ = out.loss.clone().detach().into_data();
                let t_fwd = t.elapsed().as_secs_f64();
                let grads = GradientsParams::from_grads(out.loss.backward(), &model);
                let t_bwd = t.elapsed().as_secs_f64();
                model = optim.step(config.optim.lr, model, grads);
                // the step is complete once a parameter is readable
                let _ = model
                    .prototypes
                    .prototypes
                    .val()
                    .slice([0..1, 0..1])
                    .into_data();
                if it >= args.warmup {
                    let total = t.elapsed().as_secs_f64();
                    times.push(total);
                    data_times.push(data);
                    phases[0].push(t_fwd);
                    phases[1].push(t_bwd - t_fwd);
                    phases[2].push(total - t_bwd);
                }
            }
            data_ms = Some(1e3 * median(data_times));
            phase_ms = Some(phases.map(|p| 1e3 * median(p)));
            (args.batch, 3.0 * flops_fwd)
        }
        "infer" => {
            let batcher = make_batcher(
                &vocab,
                preset.vision.image_size as u32,
                preset.text.context_length,
                None,
            );
            let batch = to_model_batch(train_set.batch(&batcher, &idx, 0, &device));
            for it in 0..args.warmup + args.iters {
                let t = Instant::now();
                let f = model.forward_items(&batch, 0.5, true);
                let out = match &model.head {
                    TaskModule::Vqa(h) => h.answer.logits(&f.fused),
                    _ => f.fused.pooled,
                };
                let _ = out.into_data();
                if it >= args.warmup {
                    times.push(t.elapsed().as_secs_f64());
                }
            }
            (args.batch, flops_fwd)
        }
        "eval" => {
            let test = splits[&Split::Test][..args.eval_items].to_vec();
            let opts = EvalOptions {
                batch_size: args.batch,
                rerank_k: args.rerank_k,
                ..EvalOptions::default()
            };
            let mut n = 0;
            for it in 0..args.warmup + args.iters {
                let t = Instant::now();
                let report = evaluate(&model, test.clone(), &vocab, &opts, &base).expect("eval");
                n = report.n;
                if it >= args.warmup {
                    times.push(t.elapsed().as_secs_f64());
                }
            }
            (n, f64::NAN)
        }
        other => panic!("throughput: unknown mode `{other}` (train, infer, eval, matmul)"),
    };
    let ms = 1e3 * median(times);
    let sps = samples_per_iter as f64 / (ms / 1e3);
    let json = serde_json::json!({
        "impl": "burn",
        "mode": args.mode,
        "task": args.task,
        "preset": preset.name,
        "fusion": args.fusion,
        "batch": args.batch,
        "image_size": preset.vision.image_size,
        "context_length": preset.text.context_length,
        "modalities": model_modalities(&config),
        "samples_per_iter": samples_per_iter,
        "ms_per_iter": ms,
        "samples_per_s": sps,
        "flops_per_sample": if flops_per_sample.is_finite() { Some(flops_per_sample) } else { None },
        "params": n_params,
        "vocab_size": sizes.vocab_size,
        "n_answers": sizes.n_answers,
        "peak_rss_mib": peak_rss_mib(),
        "data_ms": data_ms,
        "world_ms": world_ms,
        "world_instances": world_instances,
        "rerank_k": (args.mode == "eval").then_some(args.rerank_k),
        "forward_ms": phase_ms.map(|p| p[0]),
        "backward_ms": phase_ms.map(|p| p[1]),
        "optim_ms": phase_ms.map(|p| p[2]),
        "threads": std::env::var("RAYON_NUM_THREADS").ok(),
    });
    let _ = std::fs::remove_file(&preset_file);
    println!("{json}");
}

fn model_modalities(config: &RunConfig) -> usize {
    mafs_train::model::modalities_for(config.task, config.vqa_side_text).len()
}
