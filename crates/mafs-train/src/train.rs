//! The training loop: AdamW with warm-up and cosine decay, gradient clipping, the scheduler's
//! temperature schedule, corruption-aware augmentation, validation each epoch, checkpoints and
//! exact resume.
//!
//! Determinism: every random draw is a function of the run seed and the position in training
//! (model initialisation: the seed; data order: (seed, epoch); augmentation: (instance,
//! epoch); dropout and hard negatives: (seed, step)), so a resumed run repeats exactly what
//! the uninterrupted run would have done.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use burn::grad_clipping::GradientClippingConfig;
use burn::lr_scheduler::module_lr_scheduler::{ModuleLearningRate, ModuleLrScheduler};
use burn::module::ParamGroup;
use burn::optim::{AdamWConfig, ModuleOptimizer};
use burn::tensor::Device;
use mafs_data::corrupt::{CorruptionAugmenter, DonorPool};
use mafs_data::{Instance, InstanceTransform, Split};
use mafs_scheduler::TemperatureSchedule;

use crate::checkpoint::{RunDir, TrainState};
use crate::config::RunConfig;
use crate::data::{TaskDataset, load_splits, make_batcher, to_model_batch};
use crate::error::TrainError;
use crate::eval::{EvalOptions, evaluate};
use crate::lr::WarmupCosine;
pub use crate::metrics_log::EpochRecord;
use crate::metrics_log::{MetricsLog, StepRecord};
use crate::model::{LossParts, MafsModel, build_model};
use crate::progress::Progress;
use crate::schedcheck::scheduler_check;
use crate::seed::{epoch_batches, mix};
use crate::vocabulary::Vocabulary;

/// How to run training (what is not part of the run's identity).
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Run directory.
    pub out: PathBuf,
    /// Continue the run in `out` from its last good checkpoint; an error when it has none
    /// unless `resume_or_start` is set.
    pub resume: bool,
    /// With `resume`: start afresh when `out` has no checkpoint yet.
    pub resume_or_start: bool,
    /// Device to train on (an autodiff device is derived from it).
    pub device: Device,
    /// No progress lines.
    pub quiet: bool,
    /// Stop (as if killed) after this many optimisation steps in this process.
    pub stop_after: Option<usize>,
    /// Checkpoints to keep.
    pub keep: usize,
    /// Validate each epoch.
    pub validate: bool,
    /// Data-parallel training on these devices (`--devices`; see [`crate::ddp`]), the first
    /// being the main device; empty or one device: `device` alone.
    pub devices: Vec<Device>,
}

impl TrainOptions {
    /// Defaults for a run directory on the CPU.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            resume: false,
            resume_or_start: false,
            device: Device::flex(),
            quiet: false,
            stop_after: None,
            keep: 2,
            validate: true,
            devices: Vec::new(),
        }
    }
}

/// What a finished (or stopped) training returns.
pub struct TrainOutcome {
    /// The run directory.
    pub run: RunDir,
    /// The model (autodiff device).
    pub model: MafsModel,
    /// The epoch records so far.
    pub history: Vec<EpochRecord>,
    /// The training state at the end.
    pub state: TrainState,
    /// Whether training ran to its last epoch.
    pub finished: bool,
}

/// The corruption-aware augmentation of a run, if on.
fn augmenter(
    config: &RunConfig,
    train: &[Instance],
) -> Result<Option<Arc<dyn InstanceTransform>>, TrainError> {
    let c = &config.corruption_aware;
    if !c.enabled {
        return Ok(None);
    }
    let cfg = c.augmenter_config(config.seed);
    let donors = Arc::new(DonorPool::from_instances(train));
    let aug = CorruptionAugmenter::new(cfg, Some(donors))
        .map_err(|e| TrainError::Config(e.to_string()))?;
    Ok(Some(Arc::new(aug)))
}

/// The run's AdamW (weight decay, gradient clipping by global norm).
pub fn optimizer(config: &RunConfig) -> ModuleOptimizer {
    let mut c = AdamWConfig::new().with_weight_decay(config.optim.weight_decay as f32);
    if config.optim.grad_clip > 0.0 {
        c = c.with_grad_clipping(Some(GradientClippingConfig::Norm(
            config.optim.grad_clip as f32,
        )));
    }
    c.init()
}

/// The learning rate of each parameter at one step: `base` everywhere, times the scheduler's
/// `lr_scale` for the fusion weighting and the confidence networks.
pub fn module_lr(config: &RunConfig, model: &MafsModel, base: f64) -> ModuleLearningRate {
    let scale = config.scheduler.lr_scale;
    if scale == 1.0 {
        return base.into();
    }
    let mut ids = ParamGroup::ids_from_module(model.weighting.clone());
    if let Some(c) = &model.confidence {
        ids = ids.fuse(&ParamGroup::ids_from_module(c.clone()));
    }
    ModuleLrScheduler::new(base)
        .with_group(ids, base * scale)
        .step()
}

/// The scheduler temperature schedule of a run: constant `tau` (the default), or a cosine
/// from `tau_start` down to `tau` when `tau_start` is set.
pub fn tau_schedule(config: &RunConfig, total_steps: usize) -> TemperatureSchedule {
    let s = &config.scheduler;
    match s.tau_start {
        None => TemperatureSchedule::Constant { tau: s.tau },
        Some(start) => TemperatureSchedule::Cosine {
            tau_start: start,
            tau_min: s.tau,
            total_steps: total_steps.max(1),
        },
    }
}

/// The splits of a run's data.
pub type Splits = std::collections::BTreeMap<Split, Vec<Instance>>;

/// Loads the splits, builds or reloads the vocabulary, and builds the model for a run.
pub fn prepare(
    config: &RunConfig,
    run: &RunDir,
    reuse_vocab: bool,
    device: &Device,
) -> Result<(Splits, Vocabulary, MafsModel), TrainError> {
    let preset = mafs_encoders::EncoderPreset::load(&config.preset)
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let splits = load_splits(&config.data, preset.vision.image_size as u32)?;
    let vocab = if reuse_vocab {
        Vocabulary::load(run)?
    } else {
        let v = Vocabulary::for_run(&splits[&Split::Train], config)?;
        v.save(run)?;
        v
    };
    device.seed(config.seed);
    let model = crate::params::initialize_params(build_model(config, vocab.sizes(), device)?);
    let model = crate::init::init_encoders(model, config, reuse_vocab)?;
    Ok((splits, vocab, model))
}

/// Trains a run (or resumes it) and returns the model and its history.
pub fn train(config: &RunConfig, opts: &TrainOptions) -> Result<TrainOutcome, TrainError> {
    config.validate()?;
    let run = RunDir::create(&opts.out)?;
    let resuming = crate::checkpoint::resuming(&run, opts.resume, opts.resume_or_start)?;
    if resuming {
        let saved: RunConfig = run.read_json("config.json")?;
        if &saved != config {
            return Err(TrainError::Config(format!(
                "{}: --resume with a configuration that differs from the run's config.json",
                run.path().display()
            )));
        }
    } else {
        run.write_json("config.json", config)?;
    }
    let parallel = if opts.devices.len() > 1 {
        Some(crate::ddp::DataParallel::new(opts.devices.clone())?)
    } else {
        None
    };
    let device = match &parallel {
        Some(p) => p.main_device().clone(),
        None => opts.device.clone().autodiff(),
    };
    let (splits, vocab, model) = prepare(config, &run, resuming, &device)?;
    let run = run.with_fingerprints(config, &splits[&Split::Train])?;
    let mut model = model;
    let mut optim = optimizer(config);
    let mut state = TrainState {
        step: 0,
        epoch: 0,
        batch_in_epoch: 0,
        seed: config.seed,
        epoch_losses: Vec::new(),
        last_loss: None,
        partial_sums: Vec::new(),
    };
    let mut history: Vec<EpochRecord> = Vec::new();
    if resuming {
        let (m, o, s) = run.load_latest(model, optim)?.expect("checked above");
        model = m;
        optim = o;
        state = s;
        if run.file("metrics.json").is_file() {
            history = run.read_json("metrics.json")?;
            // metrics.json is written before the pointer moves: drop records of epochs the
            // checkpoint does not hold (a crash in between)
            history.retain(|r: &EpochRecord| r.epoch <= state.epoch);
        }
    }
    let train_set = if config.all_pairs {
        TaskDataset::new(config.task, splits[&Split::Train].clone(), &vocab.answers)
    } else {
        TaskDataset::sampled(config.task, splits[&Split::Train].clone(), config.seed)
    };
    let bs = config.optim.batch_size;
    let mut log = MetricsLog::open(
        run.path(),
        resuming.then_some((state.step, state.epoch)),
        bs,
    )?;
    if let Some(p) = &parallel {
        p.shards(bs)?;
    }
    let steps_per_epoch = train_set.len() / bs;
    if steps_per_epoch == 0 {
        return Err(TrainError::Config(format!(
            "the training split has {} items, fewer than one batch of {bs}",
            train_set.len()
        )));
    }
    let total_steps = steps_per_epoch * config.optim.epochs;
    let lr = WarmupCosine {
        peak: config.optim.lr,
        warmup_steps: ((total_steps as f64) * config.optim.warmup_fraction).round() as usize,
        total_steps,
        final_fraction: 0.05,
    };
    let tau = tau_schedule(config, total_steps);
    let batcher = make_batcher(
        &vocab,
        model.spec.image_size as u32,
        model.spec.context_length,
        augmenter(config, &splits[&Split::Train])?,
    );
    let val = splits.get(&Split::Val).cloned().unwrap_or_default();
    let mut progress = Progress::new(
        format!("train {} {}", config.task, config.fusion),
        total_steps * bs,
        "samples",
    )
    .quiet(opts.quiet);
    let mut steps_this_process = 0usize;
    let data_devices = match &parallel {
        Some(p) => p.devices().to_vec(),
        None => vec![device.clone()],
    };
    while state.epoch < config.optim.epochs {
        let epoch = state.epoch;
        batcher.set_salt(epoch as u64 + 1);
        let order = epoch_batches(train_set.len(), bs, config.seed, epoch);
        let start = std::time::Instant::now();
        let (mut sums, mut weight_sums) =
            restore_partial(&state.partial_sums, model.spec.n_modalities());
        let mut done_here = 0usize;
        let first = state.batch_in_epoch;
        if first > order.len() {
            return Err(TrainError::BrokenCheckpoint {
                path: run.path().to_path_buf(),
                reason: format!(
                    "the checkpoint is at batch {first} of epoch {}, which has {} batches",
                    epoch + 1,
                    order.len()
                ),
            });
        }
        let mut slot = Some(model);
        // Batches are assembled on a second thread, one ahead of the training step.
        let stopped = std::thread::scope(|scope| -> Result<bool, TrainError> {
            let (tx, rx) = sync_channel(2);
            let order_ref = &order;
            let batcher_ref = &batcher;
            let set_ref = &train_set;
            let devs = data_devices.clone();
            scope.spawn(move || {
                for idx in &order_ref[first..] {
                    let b = crate::execution::batch_shards(set_ref, batcher_ref, idx, epoch, &devs);
                    if tx.send(b).is_err() {
                        break;
                    }
                }
            });
            for (k, raw) in rx.iter().enumerate() {
                let shards: Vec<_> = raw.into_iter().map(to_model_batch).collect();
                let step = state.step;
                device.seed(mix(config.seed, step as u64));
                let current = slot.as_ref().expect("the model is in its slot");
                let out = crate::execution::forward_backward(
                    parallel.as_ref(),
                    current,
                    shards,
                    tau.tau(step),
                    &config.loss,
                    mix(config.seed ^ 0x17, step as u64),
                )?;
                if !out.parts.total.is_finite() {
                    let last_good = run
                        .latest()?
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "none (no checkpoint was written yet)".into());
                    return Err(TrainError::NonFiniteLoss {
                        step,
                        epoch: epoch + 1,
                        loss: out.parts.total,
                        last_good,
                    });
                }
                let m = slot.take().expect("the model is in its slot");
                let step_lr = module_lr(config, &m, lr.at(step));
                slot = Some(optim.step(step_lr, m, out.grads));
                state.step += 1;
                state.batch_in_epoch = first + k + 1;
                state.last_loss = Some(out.parts.total);
                sums = sums.add_scaled(&out.parts, 1.0);
                for (s, w) in weight_sums.iter_mut().zip(&out.mean_weights) {
                    *s += w;
                }
                done_here += 1;
                steps_this_process += 1;
                progress.update(
                    state.step * bs,
                    &format!(
                        "epoch {}/{} loss {:.4} tau {:.2}",
                        epoch + 1,
                        config.optim.epochs,
                        out.parts.total,
                        tau.tau(step)
                    ),
                );
                log.step(&StepRecord {
                    step: state.step,
                    epoch: epoch + 1,
                    loss: &out.parts,
                    lr: lr.at(step),
                    tau: tau.tau(step),
                    mean_weights: &out.mean_weights,
                })?;
                let every = config.optim.checkpoint_every;
                if every > 0
                    && state.step.is_multiple_of(every)
                    && state.batch_in_epoch < order.len()
                {
                    state.partial_sums = save_partial(&sums, &weight_sums);
                    run.save(slot.as_ref().expect("model"), &optim, &state, opts.keep)?;
                }
                if opts.stop_after.is_some_and(|n| steps_this_process >= n) {
                    return Ok(true);
                }
            }
            Ok(false)
        })?;
        model = slot.take().expect("the model is back in its slot");
        if stopped {
            return Ok(TrainOutcome {
                run,
                model,
                history,
                state,
                finished: false,
            });
        }
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        let n = order.len().max(1) as f64;
        state.partial_sums.clear();
        let mean = sums.scaled(1.0 / n);
        state.epoch_losses.push(mean.total);
        state.epoch += 1;
        state.batch_in_epoch = 0;
        let (validation, check) = if opts.validate && !val.is_empty() {
            let eval_tau = tau.tau(state.step);
            let eval_opts = EvalOptions {
                tau: eval_tau,
                rerank_k: config.itm_rerank_k.min(8),
                per_instance: true,
                ..EvalOptions::default()
            };
            let mut report = evaluate(&model, val.clone(), &vocab, &eval_opts, &opts.device)?;
            let check = scheduler_check(
                &model,
                config,
                &val,
                &report,
                &vocab,
                eval_tau,
                &opts.device,
            )?;
            // the per-instance rows served the check; metrics.json keeps the summary
            report.instances.clear();
            (Some(report), check)
        } else {
            (None, None)
        };
        if let (Some(v), false) = (&validation, opts.quiet) {
            progress.println(&format!(
                "[train {} {}] epoch {} validation: {}",
                config.task,
                config.fusion,
                state.epoch,
                v.metrics
                    .iter()
                    .filter(|(k, _)| k.as_str() != "reranked")
                    .map(|(k, v)| format!("{k} {v:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            if let Some(c) = &check {
                progress.println(&format!(
                    "[train {} {}] epoch {} weights on a corrupted copy: {}",
                    config.task,
                    config.fusion,
                    state.epoch,
                    c.summary()
                ));
            }
        }
        history.push(EpochRecord {
            epoch: state.epoch,
            step: state.step,
            loss: mean,
            mean_weights: weight_sums.iter().map(|s| s / n).collect(),
            validation,
            scheduler_check: check,
            samples_per_second: done_here as f64 * bs as f64 / secs,
        });
        log.epoch(history.last().expect("pushed above"))?;
        run.write_json("metrics.json", &history)?;
        run.save(&model, &optim, &state, opts.keep)?;
    }
    Ok(TrainOutcome {
        run,
        model,
        history,
        state,
        finished: true,
    })
}

/// Loads a finished (or interrupted) run for evaluation: its config, vocabulary and the
/// weights of its latest checkpoint, on `device` (no autodiff).
pub fn load_run(
    path: impl Into<PathBuf>,
    device: &Device,
) -> Result<(RunConfig, Vocabulary, MafsModel, TrainState), TrainError> {
    let run = RunDir::open(path)?;
    let config: RunConfig = run.read_json("config.json")?;
    let vocab = Vocabulary::load(&run)?;
    let model = build_model(&config, vocab.sizes(), device)?;
    let (dir, state) = run
        .latest_verified()?
        .ok_or_else(|| TrainError::BrokenCheckpoint {
            path: run.path().to_path_buf(),
            reason: "the run has no checkpoint yet".into(),
        })?;
    let model = crate::checkpoint::load_safetensors(model, &dir.join("model.safetensors"))?;
    Ok((config, vocab, model, state))
}

fn save_partial(sums: &LossParts, weights: &[f64]) -> Vec<f64> {
    let mut v = sums.to_checkpoint_sums();
    v.extend_from_slice(weights);
    v
}

/// The epoch's running sums from a checkpoint's `partial_sums` (the loss terms, then one
/// mean weight per modality); zeros when there are none.
fn restore_partial(v: &[f64], m: usize) -> (LossParts, Vec<f64>) {
    let split = v.len().saturating_sub(m);
    match LossParts::from_checkpoint_sums(&v[..split]) {
        Some(parts) if v.len() > m => (parts, v[split..].to_vec()),
        _ => (LossParts::default(), vec![0.0; m]),
    }
}
