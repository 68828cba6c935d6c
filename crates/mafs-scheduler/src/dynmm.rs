//! DynMM (Xue & Marculescu, CVPR 2023, "Dynamic Multimodal Fusion"): a hard gate that picks
//! one modality per instance, trained with a straight-through estimator.
//!
//! Forward: the one-hot of the highest gate logit among the present modalities; backward:
//! the gradient of `softmax(l / tau)` (`w = hard - sg(soft) + soft`). Simplifications, stated:
//! the gate scores each modality from its own pooled embedding with one MLP shared by all
//! modalities (so it works for any `M`), where DynMM's gating network reads the whole input
//! and chooses among expert networks; no Gumbel noise and no computation-cost term (our
//! "experts" are the modalities, all of which are encoded anyway).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Gelu, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};

use crate::common::mask_logits;

/// Configuration of [`DynMmGate`].
#[derive(Config, Debug)]
pub struct DynMmGateConfig {
    /// Width `d` of the pooled embeddings.
    pub d: usize,
    /// Hidden width of the gate MLP.
    #[config(default = 32)]
    pub hidden: usize,
}

impl DynMmGateConfig {
    /// Builds the gate.
    ///
    /// # Panics
    ///
    /// Panics if `d` or `hidden` is 0.
    pub fn init(&self, device: &Device) -> DynMmGate {
        assert!(
            self.d > 0 && self.hidden > 0,
            "DynMmGateConfig: d and hidden must be positive"
        );
        DynMmGate {
            fc1: LinearConfig::new(self.d, self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, 1).init(device),
            act: Gelu::new(),
        }
    }
}

/// The straight-through hard gate.
#[derive(Module, Debug)]
pub struct DynMmGate {
    /// `d -> hidden`.
    pub fc1: Linear,
    /// `hidden -> 1`.
    pub fc2: Linear,
    /// Activation.
    pub act: Gelu,
}

/// Straight-through hard selection: forward value `one_hot(argmax)` over the present
/// modalities (ties split evenly, a row with nothing present stays 0), gradient of
/// `masked_softmax(logits / tau)`.
///
/// # Shapes
///
/// - `logits`, `present`: `[batch, M]`, output `[batch, M]`
pub fn straight_through(logits: Tensor<2>, present: Tensor<2, Bool>, tau: f64) -> Tensor<2> {
    let soft = mafs_core::weights::masked_softmax(logits.clone(), present.clone(), tau);
    let masked = logits
        .detach()
        .mask_fill(present.clone().bool_not(), f32::NEG_INFINITY);
    let max = masked.clone().max_dim(1);
    let hard = masked.greater_equal(max).bool_and(present).float();
    let hard = hard.clone() / hard.sum_dim(1).clamp_min(1.0);
    hard - soft.clone().detach() + soft
}

impl DynMmGate {
    /// Gate logits `[batch, M]`, one per modality from its pooled embedding.
    pub fn logits(&self, encoded: &[Encoded]) -> Tensor<2> {
        assert!(!encoded.is_empty(), "DynMmGate: no modalities");
        Tensor::stack(
            encoded
                .iter()
                .map(|e| {
                    let [b, _] = e.pooled.dims();
                    self.fc2
                        .forward(self.act.forward(self.fc1.forward(e.pooled.clone())))
                        .reshape([b])
                })
                .collect(),
            1,
        )
    }
}

impl Scheduler for DynMmGate {
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, tau: f64) -> FusionWeights {
        let present = mafs_core::mask::presence_of(encoded);
        let logits = self.logits(encoded);
        let weights = straight_through(logits.clone(), present.clone(), tau);
        FusionWeights {
            weights,
            logits: mask_logits(logits, present.clone()),
            present,
            signals: Some(signals.clone()),
            tau,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn forward_is_one_hot_over_present_backward_is_softmax() {
        let device = Device::flex().autodiff();
        let logits =
            Tensor::<2>::from_floats([[1.0, 3.0, 2.0], [1.0, 3.0, 2.0]], &device).require_grad();
        let present = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![true, true, true, true, false, true], [2, 3]),
            &device,
        );
        let w = straight_through(logits.clone(), present.clone(), 1.0);
        let v: Vec<f32> = w.clone().try_into_vec_as().unwrap();
        let want = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        for (x, y) in v.iter().zip(want) {
            assert!((x - y).abs() < 1e-6, "{v:?}");
        }
        // d(sum_m c_m w_m)/dl equals the softmax Jacobian applied to c.
        let c = Tensor::<2>::from_floats([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], &device);
        let grads = (w * c).sum().backward();
        let g: Vec<f32> = logits.grad(&grads).unwrap().try_into_vec_as().unwrap();
        let soft: Vec<f32> = mafs_core::weights::masked_softmax(logits.detach(), present, 1.0)
            .try_into_vec_as()
            .unwrap();
        // d w_0 / d l_j = w_0 (delta_0j - w_j)
        for b in 0..2 {
            for j in 0..3 {
                let s0 = soft[b * 3];
                let want = s0 * (if j == 0 { 1.0 } else { 0.0 } - soft[b * 3 + j]);
                assert!((g[b * 3 + j] - want).abs() < 1e-5, "{g:?}");
            }
        }
    }
}
