//! Data-parallel training (burn's multi-device step, `--devices`) reaches the weights that one
//! device reaches on the same global batch.
//!
//! On one machine without GPUs burn offers a single CPU device (flex has one device id), so
//! the two "devices" here are that device twice: burn runs two workers, each on half of every
//! batch, and the gradients are summed on the main device, the path `cuda:0,cuda:1` takes.

mod common;

use burn::tensor::Device;
use mafs_train::config::{FusionKind, Task};
use mafs_train::parity::{flat_params, max_abs_diff};
use mafs_train::train::{TrainOptions, train};

/// Stated tolerance: the two runs differ only in the order of float32 sums (two half-batch
/// gradients added vs one full-batch reduction).
const TOL: f64 = 1e-5;

#[test]
fn two_devices_reach_the_weights_of_one() {
    let _guard = common::serial();
    // VQA: every loss term is a mean over items once the prototype term (whose marginal
    // entropy is over the whole batch) is off and no modality is dropped.
    let mut config = common::small_config(Task::Vqa, FusionKind::MaAfs, 5);
    config.optim.batch_size = 8;
    config.loss.lambda_proto = 0.0;
    config.corruption_aware.enabled = false;
    // Running statistics come from the first shard only (as PyTorch DDP's rank-0 buffers),
    // not from the whole batch: the exact parity holds without them.
    config.scheduler.standardize = false;
    config.scheduler.confidence_standardize = false;
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let mut opts = TrainOptions::new(one.path());
    opts.quiet = true;
    opts.validate = false;
    let single = train(&config, &opts).unwrap();
    let mut opts = TrainOptions::new(two.path());
    opts.quiet = true;
    opts.validate = false;
    opts.devices = vec![Device::flex(), Device::flex()];
    let parallel = train(&config, &opts).unwrap();
    assert!(single.finished && parallel.finished);
    assert_eq!(single.state.step, parallel.state.step);
    assert!(single.state.step >= 5, "{} steps", single.state.step);
    let (a, b) = (flat_params(&single.model), flat_params(&parallel.model));
    let start = {
        let dir = tempfile::tempdir().unwrap();
        mafs_train::parity::write_initial_weights(&config, dir.path()).unwrap()
    };
    let diff = max_abs_diff(&a, &b);
    let moved = max_abs_diff(&a, &start);
    eprintln!("max |w1 - w2| = {diff:.3e}; training moved weights by up to {moved:.3e}");
    assert!(
        diff <= TOL && diff < 0.01 * moved,
        "diff {diff}, moved {moved}"
    );
    let (la, lb) = (&single.history[0].loss, &parallel.history[0].loss);
    assert!(
        (la.total - lb.total).abs() <= TOL * la.total.abs().max(1.0),
        "{la:?} vs {lb:?}"
    );
}

#[test]
fn a_batch_smaller_than_the_device_count_is_refused() {
    let _guard = common::serial();
    let mut config = common::small_config(Task::Vqa, FusionKind::MaAfs, 5);
    config.optim.batch_size = 2;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = TrainOptions::new(dir.path());
    opts.quiet = true;
    opts.devices = vec![Device::flex(); 3];
    let e = train(&config, &opts).err().unwrap().to_string();
    assert!(e.contains("batch of 2") && e.contains("3 devices"), "{e}");
}

/// With two workers the running statistics are updated once per step (by the first shard),
/// not once per worker: the standardizer's batch count equals the step count.
#[test]
fn two_devices_update_running_statistics_once_per_step() {
    let _guard = common::serial();
    let mut config = common::small_config(Task::Vqa, FusionKind::MaAfs, 5);
    config.optim.batch_size = 8;
    config.corruption_aware.enabled = false;
    assert!(config.scheduler.standardize);
    let dir = tempfile::tempdir().unwrap();
    let mut opts = TrainOptions::new(dir.path());
    opts.quiet = true;
    opts.validate = false;
    opts.devices = vec![Device::flex(), Device::flex()];
    let out = train(&config, &opts).unwrap();
    let mafs_scheduler::FusionWeighting::MaAfsMlp(s) = &out.model.weighting else {
        panic!("ma-afs has the MLP scheduler");
    };
    let norm = s.norm.as_ref().expect("standardised inputs");
    let batches: f32 = norm.batches.value().into_scalar();
    assert_eq!(batches as usize, out.state.step, "one update per step");
}
