//! Training and evaluating through burn's remote backend: a server (`mafs serve-device`'s
//! code) on loopback serves the CPU; `remote:127.0.0.1:PORT` trains a few steps through it and
//! agrees with local training from the same safetensors weights; the full training loop
//! (checkpoints included) and evaluation run through it too.
//!
//! Its own test binary: hosting a server makes the process an async runtime, which changes
//! how local devices read (burn 0.22.1, `tests/profile_remote.rs`).
//!
//! ```sh
//! cargo test --workspace --features wgpu,remote --test remote_device
//! ```
#![cfg(feature = "remote")]

mod common;

use std::net::TcpListener;

use burn::tensor::Device;
use mafs_data::Split;
use mafs_train::config::{FusionKind, RunConfig, Task};
use mafs_train::device::parse_device;
use mafs_train::eval::{EvalOptions, evaluate};
use mafs_train::parity::check;
use mafs_train::train::{TrainOptions, load_run, train};

/// Stated tolerance: the server runs the same flex kernels as the client would, so only
/// transport (none: float32 bytes are sent as they are) could make them differ.
const TOL: f64 = 1e-5;

const PRESET: &str = r#"{
  "name": "remote",
  "embed_dim": 32,
  "vision": {"image_size": 32, "patch_size": 8, "width": 32, "layers": 1, "heads": 2,
             "mlp_ratio": 2.0, "quick_gelu": false},
  "text": {"vocab_size": 512, "context_length": 12, "width": 32, "layers": 1, "heads": 2,
           "mlp_ratio": 2.0, "causal": true, "pool": "Eot", "quick_gelu": false}
}"#;

/// Starts a server on a port the OS picks and returns the `remote:` spec of its device.
fn serve_cpu() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || mafs_train::serve::serve_listener(vec![Device::flex()], listener));
    format!("remote:127.0.0.1:{port}")
}

fn config(preset: &std::path::Path) -> RunConfig {
    let mut c = common::small_config(Task::Vqa, FusionKind::MaAfs, 13);
    c.preset = preset.display().to_string();
    c.optim.batch_size = 4;
    c.corruption_aware.enabled = false;
    c
}

#[test]
fn training_through_a_remote_device_matches_local_training() {
    let _guard = common::serial();
    let spec = serve_cpu();
    let device = parse_device(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let preset = dir.path().join("remote.json");
    std::fs::write(&preset, PRESET).unwrap();
    let config = config(&preset);

    let r = check(&config, &dir.path().join("parity"), &device, 3).unwrap();
    eprintln!("{spec} vs cpu: {r:?}");
    assert!(r.within(TOL), "{r:?}");

    // The whole loop through the remote device: one epoch, checkpoints, then evaluation.
    let mut config = config;
    config.data = mafs_train::config::DataSource::World {
        seed: 13,
        train: 12,
        val: 4,
        test: 4,
        shift: 4,
    };
    let out = dir.path().join("run");
    let mut opts = TrainOptions::new(&out);
    opts.quiet = true;
    opts.validate = false;
    opts.device = device.clone();
    let trained = train(&config, &opts).unwrap();
    assert!(
        trained.finished && trained.state.step >= 2,
        "{}",
        trained.state.step
    );
    assert!(trained.history[0].loss.total.is_finite());
    let (_, vocab, model, _) = load_run(&out, &device).unwrap();
    let test = mafs_train::data::load_splits(&config.data, 32).unwrap()[&Split::Test].clone();
    let report = evaluate(&model, test, &vocab, &EvalOptions::default(), &device).unwrap();
    assert!(report.main().is_finite(), "{:?}", report.metrics);
}

#[test]
fn an_unreachable_server_is_named() {
    // A port that was free a moment ago: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = parse_device(&format!("remote:127.0.0.1:{port}"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!("ws://127.0.0.1:{port}")) && e.contains("serve-device"),
        "{e}"
    );
}
