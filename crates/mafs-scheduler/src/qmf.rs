//! QMF (Zhang et al., ICML 2023, "Provable Dynamic Fusion for Low-Quality Multimodal Data"):
//! weights from the energy scores of the unimodal logits.
//!
//! QMF's late fusion (`QingyangZhang/QMF`, `src/models/late_fusion.py`) computes
//! `conf_m = logsumexp(logits_m) / 10 = -E_m / 10` and fuses `sum_m conf_m.detach() * out_m`,
//! training `conf` with a ranking loss against each sample's loss history
//! (`train_qmf.py::rank_loss`). Here the confidences become simplex weights so the same fusion
//! heads take them: [`QmfMode::Linear`] (default) normalises QMF's linear combination,
//! `w_m = conf_m / sum_n conf_n` (confidences floored at a small positive value), which is
//! QMF's fused direction up to the positive factor `sum_n conf_n`; [`QmfMode::Softmax`] uses
//! `w = softmax(conf)` instead.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Bool, Tensor};
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};
use mafs_signals::{ENERGY, Energy};
use serde::{Deserialize, Serialize};

use crate::common::{check_inputs, finish};

/// How QMF confidences become weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QmfMode {
    /// `w_m = max(conf_m, floor) / sum_n max(conf_n, floor)` (QMF's linear combination,
    /// normalised).
    #[default]
    Linear,
    /// `w = softmax(conf)`.
    Softmax,
}

/// Configuration of [`QmfWeighting`].
#[derive(Config, Debug)]
pub struct QmfWeightingConfig {
    /// QMF's divisor: `conf = -E / scale` (10 in QMF).
    #[config(default = 10.0)]
    pub scale: f64,
    /// Linear (normalised) or softmax weights.
    #[config(default = "QmfMode::Linear")]
    pub mode: QmfMode,
    /// Floor on the confidences in linear mode (keeps weights positive and defined).
    #[config(default = 1.0e-6)]
    pub floor: f64,
    /// Detach the weights from the task gradient, as QMF does.
    #[config(default = true)]
    pub detach: bool,
}

impl QmfWeightingConfig {
    /// Builds the weighting.
    ///
    /// # Panics
    ///
    /// Panics if `scale` or `floor` is not positive and finite.
    pub fn init(&self) -> QmfWeighting {
        for (what, v) in [("scale", self.scale), ("floor", self.floor)] {
            assert!(
                v.is_finite() && v > 0.0,
                "QmfWeightingConfig: {what} must be positive and finite, got {v}"
            );
        }
        QmfWeighting {
            scale: self.scale,
            linear: self.mode == QmfMode::Linear,
            floor: self.floor,
            detach: self.detach,
        }
    }
}

/// Energy-score weights. As a [`Scheduler`] it reads the `energy` signal of the
/// [`SignalSet`] (the trainer's signal stack must include [`mafs_signals::Energy`] at
/// temperature 1); [`QmfWeighting::from_logits`] computes the energies itself. QMF has no
/// temperature: the scheduler temperature is ignored and the weights are reported at `tau = 1`.
#[derive(Module, Debug)]
pub struct QmfWeighting {
    /// Divisor of the confidence.
    pub scale: f64,
    /// Linear (`true`) or softmax (`false`) weights.
    pub linear: bool,
    /// Confidence floor in linear mode.
    pub floor: f64,
    /// Whether the weights are detached.
    pub detach: bool,
}

impl Default for QmfWeighting {
    fn default() -> Self {
        QmfWeightingConfig::new().init()
    }
}

impl QmfWeighting {
    /// QMF confidence `conf = -E / scale` from energies.
    ///
    /// # Shapes
    ///
    /// - `energy`: `[batch, M]`, output `[batch, M]`
    pub fn confidence(&self, energy: Tensor<2>) -> Tensor<2> {
        energy.div_scalar(self.scale).neg()
    }

    /// Weights from energies `[batch, M]` and presence `[batch, M]`.
    pub fn from_energy(&self, energy: Tensor<2>, present: Tensor<2, Bool>) -> FusionWeights {
        let conf = self.confidence(energy);
        // Linear mode: w = c / sum c = softmax(ln c), so both modes share the masked softmax
        // (and its exact zeros for missing modalities).
        let logits = if self.linear {
            conf.clamp_min(self.floor).log()
        } else {
            conf
        };
        let w = finish(logits, present, None, 1.0);
        if self.detach { w.detached() } else { w }
    }

    /// Weights from unimodal logits, one `[batch, classes]` tensor per modality.
    ///
    /// # Panics
    ///
    /// Panics if the number of logit tensors differs from the presence mask's `M`.
    pub fn from_logits(&self, logits: &[Tensor<2>], present: Tensor<2, Bool>) -> FusionWeights {
        let [_, m] = present.dims();
        assert_eq!(
            logits.len(),
            m,
            "QmfWeighting: {} logit tensors for {m} modalities",
            logits.len()
        );
        let e = Energy::default();
        let energy = Tensor::stack(logits.iter().map(|l| e.of(l.clone())).collect(), 1);
        self.from_energy(energy, present)
    }
}

impl Scheduler for QmfWeighting {
    /// # Panics
    ///
    /// Panics if the signal set has no `energy` signal.
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, _tau: f64) -> FusionWeights {
        check_inputs("QmfWeighting", encoded, signals);
        let energy = signals.get(ENERGY).unwrap_or_else(|| {
            panic!(
                "QmfWeighting: the signal set has no `{ENERGY}` signal (it has {:?}); add \
                 mafs_signals::Energy to the signal stack",
                signals.names
            )
        });
        let mut w = self.from_energy(energy, mafs_core::mask::presence_of(encoded));
        w.signals = Some(signals.clone());
        w
    }
}

/// QMF's confidence ranking loss (`train_qmf.py::rank_loss`, after Moon et al. 2020, CRL):
/// each sample is paired with the next one in the batch (`roll(-1)`); with
/// `target = sign(c_i - c_j)` and `margin = |c_i - c_j|` from the samples' `correctness`
/// history (QMF accumulates each sample's past losses, normalised to [0, 1]), the loss is
/// `mean_i max(0, target * (conf_i - conf_j) - margin)` for `target != 0` and 0 for ties:
/// a sample with the larger loss history must not be the more confident by more than the
/// margin. Returns a scalar `[1]`.
///
/// # Shapes
///
/// - `confidence`: `[batch]`, `correctness`: `[batch]` (no gradient), output `[1]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn qmf_rank_loss(confidence: Tensor<1>, correctness: Tensor<1>) -> Tensor<1> {
    assert_eq!(
        confidence.dims(),
        correctness.dims(),
        "qmf_rank_loss: confidence and correctness must both be [batch]"
    );
    let correctness = correctness.detach();
    let conf2 = confidence.clone().roll_dim(-1, 0);
    let c2 = correctness.clone().roll_dim(-1, 0);
    let diff = correctness - c2;
    let target = diff.clone().sign();
    let margin = diff.abs();
    // rank_target_nonzero: 0 -> 1, so ties add margin 0 to conf2.
    let target_nonzero = target
        .clone()
        .mask_fill(target.clone().equal_elem(0.0), 1.0);
    let input2 = conf2 + margin / target_nonzero;
    // MarginRankingLoss(margin = 0)(x1, x2, y = -target) = max(0, target * (x1 - x2)).
    (target * (confidence - input2)).clamp_min(0.0).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn linear_mode_normalises_qmf_confidences() {
        let device = Device::flex();
        // logsumexp of [2, 2] = 2 + ln 2; of [5, 5] = 5 + ln 2
        let logits = vec![
            Tensor::<2>::from_floats([[2.0, 2.0]], &device),
            Tensor::<2>::from_floats([[5.0, 5.0]], &device),
        ];
        let present =
            Tensor::<2, Bool>::from_data(TensorData::new(vec![true, true], [1, 2]), &device);
        let w = QmfWeighting::default().from_logits(&logits, present);
        let v: Vec<f32> = w.weights.try_into_vec_as().unwrap();
        let (c0, c1) = ((2.0 + 2f32.ln()) / 10.0, (5.0 + 2f32.ln()) / 10.0);
        assert!((v[0] - c0 / (c0 + c1)).abs() < 1e-6, "{v:?}");
        assert!((v[1] - c1 / (c0 + c1)).abs() < 1e-6, "{v:?}");
        assert_eq!(w.tau, 1.0);
    }

    #[test]
    fn softmax_mode_and_missing() {
        let device = Device::flex();
        let q = QmfWeightingConfig::new().with_mode(QmfMode::Softmax).init();
        let energy = Tensor::<2>::from_floats([[-10.0, -20.0, -5.0]], &device);
        let present =
            Tensor::<2, Bool>::from_data(TensorData::new(vec![true, true, false], [1, 3]), &device);
        let v: Vec<f32> = q
            .from_energy(energy, present)
            .weights
            .try_into_vec_as()
            .unwrap();
        let (a, b) = (1f32.exp(), 2f32.exp());
        assert!((v[0] - a / (a + b)).abs() < 1e-6 && (v[1] - b / (a + b)).abs() < 1e-6);
        assert_eq!(v[2], 0.0);
    }

    #[test]
    fn rank_loss_follows_qmf() {
        let device = Device::flex();
        // pairs (0,1), (1,2), (2,0)
        let conf = Tensor::<1>::from_floats([0.9, 0.2, 0.5], &device);
        let corr = Tensor::<1>::from_floats([0.8, 0.1, 0.1], &device);
        // (0,1): target +1, margin 0.7: max(0, 0.9 - 0.2 - 0.7) = 0
        // (1,2): tie: 0
        // (2,0): target -1, margin 0.7: max(0, -(0.5 - (0.9 - 0.7))) = max(0, -0.3) = 0
        let l = qmf_rank_loss(conf, corr).into_scalar::<f32>();
        assert!(l.abs() < 1e-6, "{l}");
        let conf = Tensor::<1>::from_floats([0.9, 0.0, 0.5], &device);
        let corr = Tensor::<1>::from_floats([0.3, 0.1, 0.1], &device);
        // (0,1): +1, margin 0.2: 0.9 - 0.0 - 0.2 = 0.7; (1,2): 0; (2,0): -1, margin 0.2:
        // -(0.5 - (0.9 - 0.2)) = 0.2 -> mean 0.3
        let l = qmf_rank_loss(conf, corr).into_scalar::<f32>();
        assert!((l - 0.3).abs() < 1e-6, "{l}");
    }
}
