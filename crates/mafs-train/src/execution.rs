//! How one training step is executed: on the model's own device ([`crate::step`]) or
//! data-parallel across several ([`crate::ddp`]). The training loop and the parity checks
//! call these two dispatchers and nothing device-specific.

use burn::tensor::Device;
use mafs_data::batcher::{MultimodalBatch, MultimodalBatcher};

use crate::config::LossWeights;
use crate::data::TaskDataset;
use crate::ddp::{DataParallel, shard_ranges};
use crate::error::TrainError;
use crate::model::{MafsModel, ModelBatch};
use crate::step::{StepGrads, single_device_step};

/// Batches the global batch `indices` for a step: one batch on `devices[0]` for a single
/// device, else one contiguous shard per device, each batched on its device.
///
/// # Panics
///
/// Panics if there are fewer indices than devices (checked by [`DataParallel::shards`] when
/// training starts).
pub fn batch_shards(
    set: &TaskDataset,
    batcher: &MultimodalBatcher,
    indices: &[usize],
    epoch: usize,
    devices: &[Device],
) -> Vec<MultimodalBatch> {
    if devices.len() == 1 {
        return vec![set.batch(batcher, indices, epoch, &devices[0])];
    }
    shard_ranges(indices.len(), devices.len())
        .expect("the batch size was checked against the devices")
        .into_iter()
        .zip(devices)
        .map(|(r, d)| set.batch(batcher, &indices[r], epoch, d))
        .collect()
}

/// The forward and backward passes of one step: on the model's own device when `parallel` is
/// `None` (one batch in `shards`), else data-parallel across its devices.
///
/// # Errors
///
/// As [`DataParallel::step`].
pub fn forward_backward(
    parallel: Option<&DataParallel>,
    model: &MafsModel,
    mut shards: Vec<ModelBatch>,
    tau: f64,
    lambdas: &LossWeights,
    seed: u64,
) -> Result<StepGrads, TrainError> {
    match parallel {
        Some(p) => p.step(model, shards, tau, lambdas, seed),
        None => {
            let batch = match (shards.pop(), shards.is_empty()) {
                (Some(b), true) => b,
                _ => {
                    return Err(TrainError::Config(
                        "a single-device step takes exactly one batch".into(),
                    ));
                }
            };
            Ok(single_device_step(model, &batch, tau, lambdas, seed))
        }
    }
}
