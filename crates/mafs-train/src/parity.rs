//! Backend agreement: the same model, from the same initial weights read from the same
//! safetensors file, run on a reference device (the CPU) and on a candidate device (wgpu,
//! CUDA, a remote device): one forward pass, then a few training steps, compared number by
//! number. Used by the wgpu and remote-device test suites and by `cargo xtask gpu-check`.
//!
//! The training steps are the training loop's own: [`crate::execution::forward_backward`] and the
//! run's AdamW with its learning-rate and temperature schedules, on batches made by the run's
//! batcher in the run's order (corruption-aware augmentation off, so that both devices see
//! identical inputs).

use std::path::Path;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use mafs_data::Split;
use serde::Serialize;

use crate::checkpoint::{RunDir, load_safetensors, save_safetensors};
use crate::config::RunConfig;
use crate::data::{TaskDataset, make_batcher, to_model_batch};
use crate::error::TrainError;
use crate::lr::WarmupCosine;
use crate::model::{ModelBatch, build_model};
use crate::seed::{epoch_batches, mix};
use crate::train::{optimizer, prepare, tau_schedule};

/// What one device computed.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceRun {
    /// Fused embedding of the first batch at initialisation, flattened.
    pub fused: Vec<f32>,
    /// Fusion weights of the first batch at initialisation, flattened.
    pub weights: Vec<f32>,
    /// Total loss of each training step (before its update).
    pub losses: Vec<f64>,
    /// Every float parameter after the steps, flattened in module order.
    pub params: Vec<f32>,
}

/// How far the candidate device is from the reference.
#[derive(Debug, Clone, Serialize)]
pub struct ParityReport {
    /// Fusion of the run.
    pub fusion: String,
    /// Training steps compared.
    pub steps: usize,
    /// Largest absolute difference of the fused embeddings at initialisation.
    pub fused_max_abs: f64,
    /// Largest absolute difference of the fusion weights at initialisation.
    pub weights_max_abs: f64,
    /// Largest relative difference of the step losses.
    pub loss_max_rel: f64,
    /// Largest absolute difference of the parameters after the steps.
    pub params_max_abs: f64,
    /// Largest absolute parameter change of the reference over the steps (what the
    /// parameter difference is to be small against).
    pub params_moved: f64,
    /// `|p_candidate - p_reference| / |p_reference - p_initial|` (L2 norms over every
    /// parameter): how far the two trajectories part, relative to how far they went.
    pub params_rel_l2: f64,
    /// The reference's step losses.
    pub reference_losses: Vec<f64>,
    /// The candidate's step losses.
    pub candidate_losses: Vec<f64>,
}

impl ParityReport {
    /// Whether the two devices agree: embeddings and fusion weights within `tol` (absolute),
    /// losses within `tol` (relative), and the parameters after the steps within `tol` in
    /// relative L2 ([`ParityReport::params_rel_l2`]) and within the reference's own largest
    /// move in absolute value. (AdamW's first steps take about `lr * sign(g)`, so a gradient
    /// that is zero in exact arithmetic, left as float32 noise of either sign, moves one
    /// parameter by up to `lr` either way on either device: parameters are compared as a
    /// whole, not one by one.)
    pub fn within(&self, tol: f64) -> bool {
        self.fused_max_abs <= tol
            && self.weights_max_abs <= tol
            && self.loss_max_rel <= tol
            && self.params_rel_l2 <= tol
            && self.params_max_abs <= self.params_moved.max(tol)
    }
}

/// Every float parameter of a module, flattened in module order (read back to the host).
pub fn flat_params<M: Module>(model: &M) -> Vec<f32> {
    struct Collect(Vec<f32>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let data = param.val().into_data().convert::<f32>();
            self.0
                .extend(data.try_to_vec::<f32>().expect("float parameter readback"));
        }
    }
    let mut c = Collect(Vec::new());
    model.visit(&mut c);
    c.0
}

/// L2 norm of `a - b` (infinite if the lengths differ).
pub fn l2_diff(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Largest absolute difference of two equally long slices (infinite if the lengths differ).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .fold(0.0, f64::max)
}

fn flat(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("tensor readback")
}

/// Builds the run's model on the CPU from its seed and writes `init.safetensors` in `dir`,
/// with the run's `config.json` and vocabulary; returns the initial parameters, flattened.
///
/// # Errors
///
/// Configuration, data and I/O errors.
pub fn write_initial_weights(config: &RunConfig, dir: &Path) -> Result<Vec<f32>, TrainError> {
    let run = RunDir::create(dir)?;
    run.write_json("config.json", config)?;
    let (_, _, model) = prepare(config, &run, false, &Device::flex())?;
    save_safetensors(&model, &dir.join("init.safetensors"))?;
    Ok(flat_params(&model))
}

/// Loads `init.safetensors` from `dir` (made by [`write_initial_weights`]) onto `device` and runs one forward pass and `steps`
/// training steps (global batch of `config.optim.batch_size`, split across `devices` when
/// more than one is given, else on `device`).
///
/// # Errors
///
/// Configuration, data and I/O errors; fewer training items than `steps` batches.
pub fn run_on(
    config: &RunConfig,
    dir: &Path,
    device: &Device,
    devices: &[Device],
    steps: usize,
) -> Result<DeviceRun, TrainError> {
    let run = RunDir::open(dir)?;
    let parallel = if devices.len() > 1 {
        Some(crate::ddp::DataParallel::new(devices.to_vec())?)
    } else {
        None
    };
    let device = match &parallel {
        Some(p) => p.main_device().clone(),
        None => device.clone().autodiff(),
    };
    let (splits, vocab, _) = prepare(config, &run, true, &Device::flex())?;
    let model = build_model(config, vocab.sizes(), &device)?;
    let mut model = load_safetensors(model, &dir.join("init.safetensors"))?;
    let set = TaskDataset::sampled(config.task, splits[&Split::Train].clone(), config.seed);
    let bs = config.optim.batch_size;
    let order = epoch_batches(set.len(), bs, config.seed, 0);
    if order.len() < steps.max(1) {
        return Err(TrainError::Config(format!(
            "parity: {} training items make {} batches of {bs}, fewer than {steps} steps",
            set.len(),
            order.len()
        )));
    }
    let batcher = make_batcher(
        &vocab,
        model.spec.image_size as u32,
        model.spec.context_length,
        None,
    );
    batcher.set_salt(1);
    let data_devices = match &parallel {
        Some(p) => p.devices().to_vec(),
        None => vec![device.clone()],
    };
    let shards_of = |k: usize| -> Vec<ModelBatch> {
        crate::execution::batch_shards(&set, &batcher, &order[k], 0, &data_devices)
            .into_iter()
            .map(to_model_batch)
            .collect()
    };
    let total = order.len() * config.optim.epochs.max(1);
    let tau = tau_schedule(config, total);
    let lr = WarmupCosine {
        peak: config.optim.lr,
        warmup_steps: ((total as f64) * config.optim.warmup_fraction).round() as usize,
        total_steps: total,
        final_fraction: 0.05,
    };
    let first = to_model_batch(set.batch(&batcher, &order[0], 0, &device.clone().inner()));
    let items = model.valid().forward_items(&first, tau.tau(0), false);
    let fused = flat(items.fused.pooled);
    let weights = flat(items.weights.weights);
    let mut optim = optimizer(config);
    let mut losses = Vec::with_capacity(steps);
    for k in 0..steps {
        let out = crate::execution::forward_backward(
            parallel.as_ref(),
            &model,
            shards_of(k),
            tau.tau(k),
            &config.loss,
            mix(config.seed ^ 0x17, k as u64),
        )?;
        losses.push(out.parts.total);
        model = optim.step(lr.at(k), model, out.grads);
    }
    Ok(DeviceRun {
        fused,
        weights,
        losses,
        params: flat_params(&model),
    })
}

/// Compares a candidate run with the reference run.
pub fn compare(
    config: &RunConfig,
    steps: usize,
    reference: &DeviceRun,
    candidate: &DeviceRun,
    initial: &[f32],
) -> ParityReport {
    let loss_max_rel = reference
        .losses
        .iter()
        .zip(&candidate.losses)
        .map(|(a, b)| (a - b).abs() / a.abs().max(1e-6))
        .fold(
            if reference.losses.len() == candidate.losses.len() {
                0.0
            } else {
                f64::INFINITY
            },
            f64::max,
        );
    ParityReport {
        fusion: config.fusion.as_str().to_string(),
        steps,
        fused_max_abs: max_abs_diff(&reference.fused, &candidate.fused),
        weights_max_abs: max_abs_diff(&reference.weights, &candidate.weights),
        loss_max_rel,
        params_max_abs: max_abs_diff(&reference.params, &candidate.params),
        params_moved: max_abs_diff(&reference.params, initial),
        params_rel_l2: l2_diff(&reference.params, &candidate.params)
            / l2_diff(&reference.params, initial).max(1e-12),
        reference_losses: reference.losses.clone(),
        candidate_losses: candidate.losses.clone(),
    }
}

/// The whole check: initial weights on the CPU, written to `dir/init.safetensors`; the same
/// file loaded on the CPU and on `candidate`; one forward pass and `steps` training steps on
/// each; the report.
///
/// # Errors
///
/// As [`write_initial_weights`] and [`run_on`].
pub fn check(
    config: &RunConfig,
    dir: &Path,
    candidate: &Device,
    steps: usize,
) -> Result<ParityReport, TrainError> {
    let initial = write_initial_weights(config, dir)?;
    let reference = run_on(config, dir, &Device::flex(), &[], steps)?;
    let cand = run_on(config, dir, candidate, &[], steps)?;
    Ok(compare(config, steps, &reference, &cand, &initial))
}
