//! Data-parallel training on several devices with burn-train's multi-device machinery.
//!
//! One optimisation step on `N` devices:
//! 1. the global batch is cut into `N` contiguous shards (sizes differ by at most one), each
//!    batched on its own device;
//! 2. burn's [`MultiDevicesTrainStep`] hands the model and one shard to each of its per-device
//!    workers, which fork the model onto their device (`Module::fork`) and run
//!    [`TrainStep::step`] (forward and backward) concurrently;
//! 3. each worker's [`GradientsParams`](burn::optim::GradientsParams) are moved to the main
//!    (first) device (`GradientsParams::to_device`) and summed with burn's [`GradientsAccumulator`];
//! 4. the caller's optimiser steps once, on the main device.
//!
//! This is what burn-train's own `MultiDeviceLearningStrategy` does with
//! `MultiDeviceOptim::OptimMainDevice` (burn-train 0.22.1,
//! `src/learner/supervised/strategies/multi/epoch.rs`, `run_optim_main`), kept inside this
//! crate's training loop so that checkpoints, exact resume and the temperature schedule stay
//! as they are. burn's accumulator *sums* the workers' gradients; each shard's loss is scaled
//! by `shard / global` batch size first, so that for losses that are means over items (VQA's
//! answer loss, the captioning loss, the KL and prototype terms) the summed gradient is the
//! gradient of the global batch's loss, and `N` devices reach the weights one device reaches.
//! In-batch contrastive terms (ITC, ITM's hard negatives) see each shard's negatives only, as
//! in any DDP without a feature all-gather. Running statistics (the standardizers of the
//! scheduler and the confidence networks) are updated from the first shard only, once per
//! step, as PyTorch's DDP broadcasts rank 0's buffers: the workers share the states, and
//! letting every worker update them would make the result depend on thread timing.
//!
//! burn's collective DDP (`ExecutionStrategy::DistributedDataParallel`, gradients all-reduced
//! during the backward pass) needs a backend with collective operations: in burn 0.22.1 only
//! CUDA has them (NCCL); flex's `all_reduce` is `unimplemented!()` and wgpu's cubecl server
//! answers `NoDeviceTransport` (see docs/scaling.md).

use std::ops::Range;

use burn::data::dataloader::{DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;

use burn::optim::GradientsAccumulator;
use burn::tensor::{Device, ExecutionError};
use burn::train::train::MultiDevicesTrainStep;
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use crate::config::LossWeights;
use crate::error::TrainError;
use crate::model::{LossParts, MafsModel, ModelBatch};
use crate::step::StepGrads;

/// One worker's share of a step: its shard of the batch and how to compute the loss.
pub struct ShardInput {
    /// The shard, on the worker's device.
    pub batch: ModelBatch,
    /// Scheduler temperature of the step.
    pub tau: f64,
    /// Loss weights.
    pub lambdas: LossWeights,
    /// Seed of the step's draws (hard negatives).
    pub seed: u64,
    /// Weight of the shard's loss: its share of the global batch.
    pub scale: f64,
    /// Whether this shard updates the running statistics (the first shard only).
    pub update_statistics: bool,
}

/// What a worker reports besides its gradients.
#[derive(Debug, Clone)]
pub struct ShardOutput {
    /// The shard's loss terms (unscaled means over the shard).
    pub parts: LossParts,
    /// The shard's mean fusion weight per modality.
    pub mean_weights: Vec<f64>,
    /// The shard's share of the global batch.
    pub scale: f64,
}

impl ItemLazy for ShardOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        Ok(self)
    }
}

impl TrainStep for MafsModel {
    type Input = ShardInput;
    type Output = ShardOutput;

    fn step(&self, item: ShardInput) -> TrainOutput<ShardOutput> {
        let frozen;
        let model = if item.update_statistics {
            self
        } else {
            frozen = self.clone().with_frozen_statistics();
            &frozen
        };
        let out = model.forward_loss(&item.batch, item.tau, &item.lambdas, item.seed);
        let grads = out.loss.mul_scalar(item.scale).backward();
        TrainOutput::new(
            self,
            grads,
            ShardOutput {
                parts: out.parts,
                mean_weights: out.mean_weights,
                scale: item.scale,
            },
        )
    }
}

impl InferenceStep for MafsModel {
    type Input = ShardInput;
    type Output = ShardOutput;

    fn step(&self, item: ShardInput) -> ShardOutput {
        let out = self.forward_loss(&item.batch, item.tau, &item.lambdas, item.seed);
        ShardOutput {
            parts: out.parts,
            mean_weights: out.mean_weights,
            scale: item.scale,
        }
    }
}

/// A data loader that yields one prepared shard: burn's multi-device step pulls one item per
/// worker from a loader each step.
struct OneShard(Option<ShardInput>);

impl Iterator for OneShard {
    type Item = Result<ShardInput, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl DataLoaderIterator<ShardInput> for OneShard {
    fn progress(&self) -> Progress {
        let done = usize::from(self.0.is_none());
        Progress::new(done, 1, None)
    }
}

/// Data-parallel execution over a list of devices (the first is the main device, where the
/// model and the optimiser live).
pub struct DataParallel {
    devices: Vec<Device>,
    step: MultiDevicesTrainStep<MafsModel>,
}

impl DataParallel {
    /// Starts burn's per-device workers. Devices are made autodiff devices.
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] for an empty device list.
    pub fn new(devices: Vec<Device>) -> Result<Self, TrainError> {
        if devices.is_empty() {
            return Err(TrainError::Config(
                "data-parallel training needs at least one device".into(),
            ));
        }
        let devices: Vec<Device> = devices.into_iter().map(Device::autodiff).collect();
        let step = MultiDevicesTrainStep::new(&devices);
        Ok(Self { devices, step })
    }

    /// The devices (autodiff), main device first.
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// The main device, where the model and the optimiser live.
    pub fn main_device(&self) -> &Device {
        &self.devices[0]
    }

    /// The contiguous shard of each device in a global batch of `n` items.
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] when the batch has fewer items than there are devices.
    pub fn shards(&self, n: usize) -> Result<Vec<Range<usize>>, TrainError> {
        shard_ranges(n, self.devices.len())
    }

    /// One forward and backward pass of `model` on every device, each on its shard (`shards[i]`
    /// on `devices()[i]`, holding `sizes[i]` items), gradients summed on the main device.
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] if the shards do not match the devices, or when a worker fails
    /// (burn's message names the device).
    pub fn step(
        &self,
        model: &MafsModel,
        shards: Vec<ModelBatch>,
        tau: f64,
        lambdas: &LossWeights,
        seed: u64,
    ) -> Result<StepGrads, TrainError> {
        if shards.len() != self.devices.len() {
            return Err(TrainError::Config(format!(
                "data-parallel step: {} shards for {} devices",
                shards.len(),
                self.devices.len()
            )));
        }
        let total: usize = shards.iter().map(ModelBatch::len).sum();
        let mut loaders: Vec<Box<dyn DataLoaderIterator<ShardInput>>> = shards
            .into_iter()
            .enumerate()
            .map(|(i, batch)| {
                let scale = batch.len() as f64 / total.max(1) as f64;
                Box::new(OneShard(Some(ShardInput {
                    batch,
                    tau,
                    lambdas: lambdas.clone(),
                    seed,
                    scale,
                    update_statistics: i == 0,
                }))) as Box<dyn DataLoaderIterator<ShardInput>>
            })
            .collect();
        let (outputs, _progress) = self
            .step
            .step(&mut loaders, model)
            .map_err(|e| TrainError::Config(format!("data-parallel step: {e}")))?;
        let main = self.main_device();
        let mut accumulator = GradientsAccumulator::<MafsModel>::new();
        let mut parts = LossParts::default();
        let mut mean_weights = vec![0.0; model.spec.n_modalities()];
        for out in outputs {
            let item = out.output.item;
            parts = parts.add_scaled(&item.parts, item.scale);
            for (acc, w) in mean_weights.iter_mut().zip(&item.mean_weights) {
                *acc += item.scale * w;
            }
            accumulator.accumulate(model, out.output.grads.to_device(main, model));
        }
        Ok(StepGrads {
            grads: accumulator.grads(),
            parts,
            mean_weights,
        })
    }
}

/// `n` items cut into `k` contiguous ranges whose sizes differ by at most one.
///
/// # Errors
///
/// [`TrainError::Config`] when `n < k` (a device would get no item).
pub fn shard_ranges(n: usize, k: usize) -> Result<Vec<Range<usize>>, TrainError> {
    if k == 0 || n < k {
        return Err(TrainError::Config(format!(
            "a batch of {n} cannot be split across {k} devices (each needs at least one item)"
        )));
    }
    let (base, extra) = (n / k, n % k);
    let mut start = 0;
    Ok((0..k)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_batch_evenly() {
        let r = shard_ranges(10, 3).unwrap();
        assert_eq!(r, vec![0..4, 4..7, 7..10]);
        assert_eq!(shard_ranges(4, 4).unwrap().len(), 4);
        let e = shard_ranges(2, 3).unwrap_err().to_string();
        assert!(e.contains("batch of 2") && e.contains("3 devices"), "{e}");
    }

    #[test]
    fn an_empty_device_list_is_refused() {
        let e = DataParallel::new(vec![]).err().unwrap().to_string();
        assert!(e.contains("at least one device"), "{e}");
    }
}
