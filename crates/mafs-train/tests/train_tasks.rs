//! Every task trains end to end on a small world, validates, and writes its run directory.

mod common;

use mafs_train::config::{FusionKind, Task};
use mafs_train::train::{TrainOptions, train};

fn run(task: Task, fusion: FusionKind) {
    let _guard = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::small_config(task, fusion, 3);
    if task != Task::Retrieval {
        config.optim.batch_size = 8;
    }
    let mut opts = TrainOptions::new(dir.path());
    opts.quiet = true;
    let out = train(&config, &opts).unwrap();
    assert!(out.finished);
    let rec = &out.history[0];
    assert!(rec.loss.total.is_finite() && rec.loss.task > 0.0, "{rec:?}");
    let val = rec.validation.as_ref().expect("validation ran");
    assert!(val.main().is_finite(), "{:?}", val.metrics);
    let w: f64 = val.mean_weights.iter().sum();
    assert!(w > 0.0 && val.mean_weights.iter().all(|x| (0.0..=1.0).contains(x)));
    for f in [
        "config.json",
        "metrics.json",
        "latest.json",
        "tokenizer.json",
        "answers.json",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    let ckpt = out.run.latest().unwrap().unwrap();
    assert!(ckpt.join("model.safetensors").is_file());
}

#[test]
fn retrieval_trains_with_ma_afs() {
    run(Task::Retrieval, FusionKind::MaAfs);
}

#[test]
fn captioning_trains_with_fixed_query() {
    run(Task::Captioning, FusionKind::FixedQuery);
}

#[test]
fn vqa_trains_with_monotone_scheduler() {
    run(Task::Vqa, FusionKind::MaAfsMonotone);
}

/// The option that takes VQA's reliability from leaving each modality out trains, and its
/// target reaches the scheduler (a KL term that is not zero).
#[test]
fn vqa_trains_with_the_leave_one_out_target() {
    let _guard = common::serial();
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::small_config(Task::Vqa, FusionKind::MaAfs, 3);
    config.optim.batch_size = 8;
    config.scheduler.vqa_leave_one_out = true;
    let mut opts = TrainOptions::new(dir.path());
    opts.quiet = true;
    opts.validate = false;
    let out = train(&config, &opts).unwrap();
    let rec = &out.history[0];
    assert!(rec.loss.total.is_finite(), "{rec:?}");
    assert!(rec.loss.sched > 0.0, "{rec:?}");
}

/// The default VQA target (unimodal heads conditioned on the question) and its gain-over-the-
/// question variant both train and reach the scheduler; the target leaves the question out.
#[test]
fn vqa_trains_with_the_question_conditioned_targets() {
    let _guard = common::serial();
    for gain in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = common::small_config(Task::Vqa, FusionKind::MaAfs, 3);
        config.optim.batch_size = 8;
        assert!(config.scheduler.vqa_condition_on_question, "the default");
        config.scheduler.vqa_gain_over_question = gain;
        let mut opts = TrainOptions::new(dir.path());
        opts.quiet = true;
        opts.validate = false;
        let out = train(&config, &opts).unwrap();
        let rec = &out.history[0];
        assert!(rec.loss.total.is_finite(), "gain {gain}: {rec:?}");
        assert!(rec.loss.sched > 0.0, "gain {gain}: {rec:?}");
    }
}
