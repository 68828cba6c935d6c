//! One optimisation step's forward and backward passes on the model's own device: the loss
//! of [`MafsModel::forward_loss`], its gradients, and the terms and weights to log. The
//! data-parallel step ([`crate::ddp`]) returns the same [`StepGrads`].

use burn::optim::GradientsParams;

use crate::config::LossWeights;
use crate::model::{LossParts, MafsModel, ModelBatch};

/// The outcome of one step's forward and backward passes.
pub struct StepGrads {
    /// The gradients, on the main device, for the optimiser.
    pub grads: GradientsParams,
    /// The batch's loss terms (data-parallel: shard means weighted by shard size).
    pub parts: LossParts,
    /// The batch's mean fusion weight per modality.
    pub mean_weights: Vec<f64>,
}

/// The forward and backward passes of one step on `model`'s device.
pub fn single_device_step(
    model: &MafsModel,
    batch: &ModelBatch,
    tau: f64,
    lambdas: &LossWeights,
    seed: u64,
) -> StepGrads {
    let out = model.forward_loss(batch, tau, lambdas, seed);
    let grads = GradientsParams::from_grads(out.loss.backward(), model);
    StepGrads {
        grads,
        parts: out.parts,
        mean_weights: out.mean_weights,
    }
}
