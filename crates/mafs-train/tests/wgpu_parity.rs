//! burn's wgpu backend agrees with the CPU (flex) backend, for every fusion: from the same
//! initial weights, loaded from the same safetensors file, one forward pass and a few training
//! steps give the same numbers within [`TOL`].
//!
//! Needs a Vulkan driver; without a GPU, Mesa's software one (llvmpipe: Debian packages
//! `mesa-vulkan-drivers` and `libvulkan1`), which `.ci/run` installs. Where wgpu finds no
//! adapter, the test says so and stops, unless `CI` is set (CI must run it) or
//! `MAFS_PARITY_DEVICE` names the device: then it fails.
//!
//! ```sh
//! cargo test --workspace --features wgpu,remote --test wgpu_parity
//! ```
//! `MAFS_PARITY_DEVICE` picks the candidate device (default `wgpu`; `cuda` with `--features cuda`).
#![cfg(any(feature = "wgpu", feature = "cuda"))]

mod common;

use mafs_train::config::{FusionKind, RunConfig, Task};
use mafs_train::device::parse_device;
use mafs_train::parity::check;

/// Stated tolerance: absolute on the fused embeddings and fusion weights (of order one),
/// relative on the losses and on the parameters after the steps (relative L2 of the
/// difference to the distance trained; see `ParityReport::within`): float32 kernels of two
/// backends sum in different orders.
const TOL: f64 = 1e-2;

/// Training steps compared.
const STEPS: usize = 3;

/// A preset small enough for a software GPU: one layer per tower, width 32.
const PRESET: &str = r#"{
  "name": "parity",
  "embed_dim": 32,
  "vision": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "heads": 2,
             "mlp_ratio": 2.0, "quick_gelu": false},
  "text": {"vocab_size": 512, "context_length": 12, "width": 32, "layers": 1, "heads": 2,
           "mlp_ratio": 2.0, "causal": true, "pool": "Eot", "quick_gelu": false}
}"#;

fn config(fusion: FusionKind, preset: &std::path::Path) -> RunConfig {
    let mut c = common::small_config(Task::Vqa, fusion, 11);
    c.preset = preset.display().to_string();
    c.optim.batch_size = 4;
    c.corruption_aware.enabled = false;
    c.detach_weights = matches!(fusion, FusionKind::Qmf | FusionKind::Pdf);
    c
}

#[test]
fn every_fusion_agrees_with_the_cpu() {
    let _guard = common::serial();
    let named = std::env::var("MAFS_PARITY_DEVICE").ok();
    let spec = named.clone().unwrap_or_else(|| "wgpu".into());
    let device = match parse_device(&spec) {
        Ok(device) => device,
        Err(e) if named.is_none() && !common::in_ci() => {
            eprintln!("wgpu_parity NOT RUN: {e} (CI=true makes this a failure)");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("parity.json");
    std::fs::write(&preset, PRESET).unwrap();
    let mut failures = Vec::new();
    for fusion in FusionKind::ALL {
        let run = dir.path().join(fusion.as_str());
        let r = check(&config(fusion, &preset), &run, &device, STEPS).unwrap();
        eprintln!(
            "{spec} vs cpu, {:>15}: fused {:.1e}, weights {:.1e}, loss (rel) {:.1e}, params {:.1e} (rel L2 {:.1e}, moved {:.1e})",
            r.fusion,
            r.fused_max_abs,
            r.weights_max_abs,
            r.loss_max_rel,
            r.params_max_abs,
            r.params_rel_l2,
            r.params_moved
        );
        if !r.within(TOL) {
            failures.push(format!("{r:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "beyond {TOL}:\n{}",
        failures.join("\n")
    );
}
