//! An interrupted run resumed from its last checkpoint ends with the same weights as an
//! uninterrupted run with the same seed; a diverging run stops with a clear error and keeps
//! its last good checkpoint.

mod common;

use mafs_train::TrainError;
use mafs_train::config::{FusionKind, Task};
use mafs_train::train::{TrainOptions, train};

/// Every parameter of the run's latest checkpoint, by module path, as read back from its
/// safetensors file.
fn weights(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use burn::store::ModuleSnapshot;
    let (_, _, model, _) = mafs_train::train::load_run(dir, &burn::tensor::Device::flex()).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = model
        .collect(None, None, true)
        .into_iter()
        .map(|t| {
            let name = t.name.clone();
            let bytes = t.to_bytes().unwrap().to_vec();
            (name, bytes)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn killed_and_resumed_run_matches_uninterrupted_run() {
    let _guard = common::serial();
    let mut config = common::small_config(Task::Retrieval, FusionKind::MaAfs, 11);
    config.optim.epochs = 2;
    config.optim.checkpoint_every = 1;

    let straight = tempfile::tempdir().unwrap();
    let mut opts = TrainOptions::new(straight.path());
    opts.quiet = true;
    opts.validate = false;
    let a = train(&config, &opts).unwrap();
    assert!(a.finished);
    assert_eq!(a.state.step, 6);

    let interrupted = tempfile::tempdir().unwrap();
    let mut opts_b = TrainOptions::new(interrupted.path());
    opts_b.quiet = true;
    opts_b.validate = false;
    opts_b.stop_after = Some(4); // dies in the middle of the second epoch
    let b = train(&config, &opts_b).unwrap();
    assert!(!b.finished);
    assert_eq!(b.state.step, 4);
    drop(b);

    // Without --resume the existing run is protected.
    opts_b.stop_after = None;
    let err = train(&config, &opts_b).err().expect("refuses to overwrite");
    assert!(err.to_string().contains("--resume"), "{err}");

    opts_b.resume = true;
    let c = train(&config, &opts_b).unwrap();
    assert!(c.finished);
    assert_eq!(c.state.step, 6);
    assert_eq!(c.state.epoch_losses, a.state.epoch_losses);
    let (wa, wc) = (weights(straight.path()), weights(interrupted.path()));
    assert_eq!(wa.len(), wc.len());
    for ((na, va), (nc, vc)) in wa.iter().zip(&wc) {
        assert_eq!(na, nc);
        assert!(va == vc, "parameter `{na}` differs after resume");
    }

    // A different configuration cannot resume this run.
    let mut other = config.clone();
    other.optim.lr *= 2.0;
    let err = train(&other, &opts_b).err().expect("config mismatch");
    assert!(err.to_string().contains("differs"), "{err}");
}

#[test]
fn diverging_loss_stops_with_an_error_and_keeps_the_last_good_checkpoint() {
    let _guard = common::serial();
    let mut config = common::small_config(Task::Vqa, FusionKind::FixedLate, 5);
    config.optim.epochs = 3;
    config.optim.batch_size = 16;
    config.optim.lr = 1.0e30;
    config.optim.warmup_fraction = 0.0;
    config.optim.grad_clip = 0.0;
    config.optim.checkpoint_every = 1;
    let dir = tempfile::tempdir().unwrap();
    let mut opts = TrainOptions::new(dir.path());
    opts.quiet = true;
    opts.validate = false;
    // Either the loss turns non-finite first, or the weights do and the save refuses them:
    // both keep the last good checkpoint.
    let (step, last_good, exact) = match train(&config, &opts) {
        Err(TrainError::NonFiniteLoss {
            step, last_good, ..
        }) => (step, last_good, true),
        Err(TrainError::NonFiniteWeights {
            step, last_good, ..
        }) => (step, last_good, false),
        Err(other) => panic!("expected NonFiniteLoss or NonFiniteWeights, got {other}"),
        Ok(out) => panic!("training with lr 1e30 finished: {:?}", out.state),
    };
    assert!(step >= 1, "the first step starts from finite weights");
    assert!(last_good.contains("step-"), "{last_good}");
    // The kept checkpoint still loads.
    let (_, _, model, state) =
        mafs_train::train::load_run(dir.path(), &burn::tensor::Device::flex()).unwrap();
    if exact {
        assert_eq!(state.step, step);
    } else {
        assert!(state.step < step, "{} < {step}", state.step);
    }
    assert!(model.spec.n_modalities() >= 2);
}
