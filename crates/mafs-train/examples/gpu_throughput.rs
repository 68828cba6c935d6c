//! Training throughput on one device, for `cargo xtask gpu-check`: for each encoder preset
//! and batch size, the training loop's own step (forward, backward, AdamW) on a VQA batch of
//! the built-in world with MA-AFS fusion, timed after two warm-up steps (kernel compilation).
//!
//! ```sh
//! cargo run -p mafs-train --features wgpu --example gpu_throughput -- \
//!     --device wgpu --presets tiny,small --batches 32,128,512 --steps 5
//! ```
//! Prints one JSON object per line: preset, batch, steps, seconds, samples_per_second and
//! an estimate of the training FLOPs per sample (see [`train_flops_per_sample`]).

use std::time::Instant;

use burn::tensor::Device;
use mafs_data::Split;
use mafs_encoders::EncoderPreset;
use mafs_train::RunDir;
use mafs_train::config::{DataSource, FusionKind, RunConfig, Task};
use mafs_train::data::{TaskDataset, make_batcher, to_model_batch};
use mafs_train::device::parse_device;
use mafs_train::error::TrainError;
use mafs_train::execution::forward_backward;
use mafs_train::train::{optimizer, prepare};

/// Estimated training FLOPs per VQA sample: the two towers' matrix products (image, and the
/// text tower twice: question and side text), attention scores included, times three
/// (forward, and a backward of twice the forward). Fusion, signals and heads are left out,
/// so the estimate is low and the share of the peak it gives is a lower bound.
fn train_flops_per_sample(p: &EncoderPreset) -> f64 {
    fn tower(tokens: f64, d: f64, layers: f64, mlp: f64) -> f64 {
        layers * (2.0 * tokens * (4.0 * d * d + 2.0 * mlp * d * d) + 4.0 * tokens * tokens * d)
    }
    let v = &p.vision;
    let patches = ((v.image_size / v.patch_size) as f64).powi(2);
    let d = v.width as f64;
    let image = tower(patches + 1.0, d, v.layers as f64, v.mlp_ratio)
        + 2.0 * patches * (3.0 * (v.patch_size * v.patch_size) as f64) * d;
    let t = &p.text;
    let text = tower(
        t.context_length as f64,
        t.width as f64,
        t.layers as f64,
        t.mlp_ratio,
    );
    3.0 * (image + 2.0 * text)
}

fn measure(device: &Device, preset: &str, batch: usize, steps: usize) -> Result<(), TrainError> {
    let mut config = RunConfig::new(Task::Vqa, FusionKind::MaAfs, 0);
    config.preset = preset.to_string();
    config.data = DataSource::World {
        seed: 0,
        train: batch,
        val: 1,
        test: 1,
        shift: 1,
    };
    config.optim.batch_size = batch;
    config.corruption_aware.enabled = false;
    let dir = std::env::temp_dir().join(format!(
        "mafs-gpu-throughput-{}-{preset}-{batch}",
        std::process::id()
    ));
    let run = RunDir::create(&dir)?;
    let ad = device.clone().autodiff();
    let (splits, vocab, mut model) = prepare(&config, &run, false, &ad)?;
    let set = TaskDataset::sampled(Task::Vqa, splits[&Split::Train].clone(), 0);
    let batcher = make_batcher(
        &vocab,
        model.spec.image_size as u32,
        model.spec.context_length,
        None,
    );
    let idx: Vec<usize> = (0..batch.min(set.len())).collect();
    let b = to_model_batch(set.batch(&batcher, &idx, 0, &ad));
    let mut optim = optimizer(&config);
    let mut timed = 0.0;
    for k in 0..steps + 2 {
        let start = Instant::now();
        // The step reads its loss back to the host, so each step ends when the device is done.
        let out = forward_backward(None, &model, vec![b.clone()], 1.0, &config.loss, k as u64)?;
        model = optim.step(1e-4, model, out.grads);
        if k >= 2 {
            timed += start.elapsed().as_secs_f64();
        }
    }
    let p = EncoderPreset::load(preset).map_err(|e| TrainError::Config(e.to_string()))?;
    println!(
        "{}",
        serde_json::json!({
            "preset": preset,
            "batch": idx.len(),
            "steps": steps,
            "seconds": timed,
            "samples_per_second": (steps * idx.len()) as f64 / timed.max(1e-9),
            "flops_per_sample": train_flops_per_sample(&p),
        })
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() -> Result<(), TrainError> {
    let mut device = "cpu".to_string();
    let mut presets = "tiny".to_string();
    let mut batches = "16".to_string();
    let mut steps = 5usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().ok_or_else(|| {
            TrainError::Config(format!("gpu_throughput: `{}` needs a value", pair[0]))
        })?;
        match pair[0].as_str() {
            "--device" => device = value,
            "--presets" => presets = value,
            "--batches" => batches = value,
            "--steps" => {
                steps = value
                    .parse()
                    .map_err(|_| TrainError::Config(format!("gpu_throughput: --steps `{value}`")))?
            }
            other => {
                return Err(TrainError::Config(format!(
                    "gpu_throughput: unknown argument `{other}` (--device, --presets, --batches, --steps)"
                )));
            }
        }
    }
    let device = parse_device(&device)?;
    for preset in presets.split(',') {
        for batch in batches.split(',') {
            let batch: usize = batch
                .parse()
                .map_err(|_| TrainError::Config(format!("gpu_throughput: batch `{batch}`")))?;
            measure(&device, preset, batch, steps)?;
        }
    }
    Ok(())
}
