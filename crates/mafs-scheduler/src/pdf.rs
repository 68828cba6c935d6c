//! PDF (Cao et al., ICML 2024, "Predictive Dynamic Fusion"): weights from a per-modality
//! confidence network that predicts the unimodal head's true-class probability (TCP).
//!
//! Following `Yinan-Xia/PDF` (`src/models/latefusion_pdf.py`, `train_pdf.py`):
//!
//! - `ConfidNet_m` = three linear layers `d -> 2d -> d -> 1` (no activation between them, as
//!   in the reference) and a sigmoid, applied to the *detached* unimodal feature, predicts
//!   `tcp_m`; it is trained with an L1 loss to the actual TCP `softmax(logits_m)[y]`
//!   (detached target), [`PdfWeighting::tcp_loss`]. (The reference names it `maeloss`, an
//!   `nn.L1Loss`; we follow the code, not the "MSE" of some descriptions.)
//! - Collaborative belief `cb_m = tcp_m + holo_m` with the "holo" term
//!   `holo_m = log(prod_{n != m} tcp_n) / (log(prod_n tcp_n) + 1e-8)`; for two modalities this
//!   is the reference's `log(img_tcp) / (log(txt_tcp * img_tcp) + 1e-8)`, and it extends to
//!   any `M` over the present modalities (a modality alone gets `holo = 0`).
//! - At test time, relative calibration: `du_m = mean_c |p_{m,c} - 1/C|` of the unimodal
//!   prediction and `rc_m = du_m / max_n du_n` (the reference's two-modality `where`, extended
//!   to `M`), `ccb_m = cb_m * rc_m`.
//! - `w = softmax(cb)` (training) or `softmax(ccb)` (test) over the present modalities,
//!   detached.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Bool, Device, Int, Tensor};
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};

use crate::common::finish;

/// Configuration of [`PdfWeighting`].
#[derive(Config, Debug)]
pub struct PdfWeightingConfig {
    /// Width `d` of the unimodal features (pooled embeddings).
    pub d: usize,
    /// Number of modalities (one confidence network each).
    #[config(default = 2)]
    pub n_modalities: usize,
    /// Width multiplier of the first hidden layer (`2` in the reference: `d -> 2d -> d -> 1`).
    #[config(default = 2)]
    pub hidden_mult: usize,
}

impl PdfWeightingConfig {
    /// Builds one confidence network per modality.
    ///
    /// # Panics
    ///
    /// Panics if `d`, `n_modalities` or `hidden_mult` is 0.
    pub fn init(&self, device: &Device) -> PdfWeighting {
        assert!(
            self.d > 0 && self.n_modalities > 0 && self.hidden_mult > 0,
            "PdfWeightingConfig: d, n_modalities and hidden_mult must be positive"
        );
        let h = self.d * self.hidden_mult;
        PdfWeighting {
            confid_nets: (0..self.n_modalities)
                .map(|_| ConfidNet {
                    fc1: LinearConfig::new(self.d, h).init(device),
                    fc2: LinearConfig::new(h, self.d).init(device),
                    fc3: LinearConfig::new(self.d, 1).init(device),
                })
                .collect(),
        }
    }
}

/// The reference's `ConfidNet`: `sigmoid(fc3(fc2(fc1(x))))`.
#[derive(Module, Debug)]
pub struct ConfidNet {
    /// `d -> hidden_mult * d`.
    pub fc1: Linear,
    /// `hidden_mult * d -> d`.
    pub fc2: Linear,
    /// `d -> 1`.
    pub fc3: Linear,
}

impl ConfidNet {
    /// Predicted TCP in (0, 1).
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, d]`, output `[batch]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<1> {
        let [b, _] = x.dims();
        sigmoid(self.fc3.forward(self.fc2.forward(self.fc1.forward(x)))).reshape([b])
    }
}

/// Predicted-TCP weights. As a [`Scheduler`] it gives the training-time weights
/// (`softmax(cb)`, no calibration, which needs unimodal predictions);
/// [`PdfWeighting::calibrated`] gives the test-time ones.
#[derive(Module, Debug)]
pub struct PdfWeighting {
    /// One confidence network per modality.
    pub confid_nets: Vec<ConfidNet>,
}

/// Floor under predicted TCPs before a logarithm.
const TCP_FLOOR: f64 = 1.0e-12;

impl PdfWeighting {
    /// Predicted TCP `[batch, M]` from the detached pooled embeddings.
    ///
    /// # Panics
    ///
    /// Panics if the number of modalities differs from the number of confidence networks.
    pub fn predicted_tcp(&self, encoded: &[Encoded]) -> Tensor<2> {
        assert_eq!(
            encoded.len(),
            self.confid_nets.len(),
            "PdfWeighting: {} modalities, {} confidence networks",
            encoded.len(),
            self.confid_nets.len()
        );
        Tensor::stack(
            encoded
                .iter()
                .zip(&self.confid_nets)
                .map(|(e, net)| net.forward(e.pooled.clone().detach()))
                .collect(),
            1,
        )
    }

    /// L1 loss between predicted TCP and the actual TCP of the unimodal heads (detached),
    /// summed over modalities of the mean over present instances, a scalar `[1]`.
    ///
    /// # Shapes
    ///
    /// - `predicted`: `[batch, M]`, `unimodal_logits`: `M` x `[batch, classes]`,
    ///   `targets`: `[batch]`, `present`: `[batch, M]`, output `[1]`
    ///
    /// # Panics
    ///
    /// Panics if the shapes disagree.
    pub fn tcp_loss(
        &self,
        predicted: Tensor<2>,
        unimodal_logits: &[Tensor<2>],
        targets: Tensor<1, Int>,
        present: Tensor<2, Bool>,
    ) -> Tensor<1> {
        let [b, m] = predicted.dims();
        assert_eq!(
            present.dims(),
            [b, m],
            "tcp_loss: present must be [{b}, {m}]"
        );
        assert_eq!(
            unimodal_logits.len(),
            m,
            "tcp_loss: {m} logit tensors expected"
        );
        assert_eq!(targets.dims(), [b], "tcp_loss: targets must be [{b}]");
        let tcp = true_class_probability(unimodal_logits, targets).detach();
        let p = present.float();
        let err = (predicted - tcp).abs() * p.clone();
        let per_modality = err.sum_dim(0) / p.sum_dim(0).clamp_min(1.0); // [1, m]
        per_modality.sum()
    }

    /// Collaborative belief `cb = tcp + holo` `[batch, M]` (see the module docs).
    pub fn collaborative_belief(&self, tcp: Tensor<2>, present: Tensor<2, Bool>) -> Tensor<2> {
        let [b, _] = tcp.dims();
        let log_tcp = tcp
            .clone()
            .clamp_min(TCP_FLOOR)
            .log()
            .mask_fill(present.bool_not(), 0.0);
        let total = log_tcp.clone().sum_dim(1).reshape([b, 1]); // log prod_n tcp_n
        let holo = (total.clone() - log_tcp) / total.add_scalar(1.0e-8);
        tcp + holo
    }

    fn weights_from_belief(
        &self,
        belief: Tensor<2>,
        present: Tensor<2, Bool>,
        signals: Option<SignalSet>,
    ) -> FusionWeights {
        finish(belief.detach(), present, signals, 1.0).detached()
    }

    /// Training-time weights `softmax(cb)` over the present modalities, detached.
    pub fn weights(&self, encoded: &[Encoded]) -> FusionWeights {
        let present = mafs_core::mask::presence_of(encoded);
        let cb = self.collaborative_belief(self.predicted_tcp(encoded).detach(), present.clone());
        self.weights_from_belief(cb, present, None)
    }

    /// Test-time weights `softmax(cb * rc)` with PDF's relative calibration from the unimodal
    /// predictions, detached.
    ///
    /// # Panics
    ///
    /// Panics if there is not one logit tensor per modality.
    pub fn calibrated(&self, encoded: &[Encoded], unimodal_logits: &[Tensor<2>]) -> FusionWeights {
        assert_eq!(
            unimodal_logits.len(),
            encoded.len(),
            "PdfWeighting::calibrated: {} logit tensors for {} modalities",
            unimodal_logits.len(),
            encoded.len()
        );
        let present = mafs_core::mask::presence_of(encoded);
        let cb = self.collaborative_belief(self.predicted_tcp(encoded), present.clone());
        let rc = relative_calibration(unimodal_logits, present.clone());
        self.weights_from_belief(cb * rc, present, None)
    }
}

/// The true-class probability `softmax(logits_m)[y]` of every modality, `[batch, M]`.
///
/// # Panics
///
/// Panics if `targets` is not `[batch]`.
pub fn true_class_probability(unimodal_logits: &[Tensor<2>], targets: Tensor<1, Int>) -> Tensor<2> {
    let [b] = targets.dims();
    let idx = targets.reshape([b, 1]);
    Tensor::stack(
        unimodal_logits
            .iter()
            .map(|l| softmax(l.clone(), 1).gather(1, idx.clone()).reshape([b]))
            .collect(),
        1,
    )
}

/// PDF's relative calibration `rc_m = du_m / max_{n present} du_n`, with the distribution
/// uniformity `du_m = mean_c |p_{m,c} - 1/C|`, `[batch, M]` (1 for the most certain present
/// modality; missing modalities get a finite, unused value).
pub fn relative_calibration(unimodal_logits: &[Tensor<2>], present: Tensor<2, Bool>) -> Tensor<2> {
    let du: Tensor<2> = Tensor::stack(
        unimodal_logits
            .iter()
            .map(|l| {
                let [b, c] = l.dims();
                softmax(l.clone(), 1)
                    .sub_scalar(1.0 / c as f64)
                    .abs()
                    .mean_dim(1)
                    .reshape([b])
            })
            .collect(),
        1,
    );
    let max = du
        .clone()
        .mask_fill(present.bool_not(), 0.0)
        .max_dim(1)
        .clamp_min(TCP_FLOOR);
    du / max
}

impl Scheduler for PdfWeighting {
    /// Training-time weights; the scheduler temperature is ignored (PDF has none).
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, _tau: f64) -> FusionWeights {
        let mut w = self.weights(encoded);
        w.signals = Some(signals.clone());
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn present(v: Vec<bool>, b: usize, m: usize) -> Tensor<2, Bool> {
        Tensor::from_data(TensorData::new(v, [b, m]), &Device::flex())
    }

    #[test]
    fn holo_matches_the_two_modality_reference() {
        let device = Device::flex();
        let pdf = PdfWeightingConfig::new(4).init(&device);
        let (t, i) = (0.8f32, 0.3f32);
        let tcp = Tensor::<2>::from_floats([[t, i]], &device);
        let cb: Vec<f32> = pdf
            .collaborative_belief(tcp, present(vec![true, true], 1, 2))
            .try_into_vec_as()
            .unwrap();
        let txt_holo = i.ln() / ((t * i).ln() + 1e-8);
        let img_holo = t.ln() / ((t * i).ln() + 1e-8);
        assert!((cb[0] - (t + txt_holo)).abs() < 1e-5, "{cb:?}");
        assert!((cb[1] - (i + img_holo)).abs() < 1e-5, "{cb:?}");
    }

    #[test]
    fn calibration_and_weights() {
        let device = Device::flex();
        let logits = vec![
            Tensor::<2>::from_floats([[4.0, 0.0], [0.0, 0.0]], &device),
            Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 3.0]], &device),
        ];
        let rc: Vec<f32> = relative_calibration(&logits, present(vec![true; 4], 2, 2))
            .try_into_vec_as()
            .unwrap();
        assert!((rc[0] - 1.0).abs() < 1e-6 && rc[1] < 1.0, "{rc:?}");
        assert!(rc[2].abs() < 1e-6 && (rc[3] - 1.0).abs() < 1e-6, "{rc:?}");
        let enc = vec![
            crate::test_util::encoded("image", vec![true, true], 4),
            crate::test_util::encoded("text", vec![true, false], 4),
        ];
        let pdf = PdfWeightingConfig::new(4).init(&device);
        let w = pdf.calibrated(&enc, &logits);
        let v: Vec<f32> = w.weights.try_into_vec_as().unwrap();
        assert!((v[0] + v[1] - 1.0).abs() < 1e-6);
        assert_eq!(v[2..], [1.0, 0.0]);
    }

    #[test]
    fn tcp_loss_is_l1_to_the_detached_tcp() {
        let device = Device::flex();
        let pdf = PdfWeightingConfig::new(2).init(&device);
        let logits = vec![
            Tensor::<2>::from_floats([[0.0, 0.0], [0.0, 0.0]], &device),
            Tensor::<2>::from_floats([[10.0, -10.0], [0.0, 0.0]], &device),
        ];
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1], [2]), &device);
        let pred = Tensor::<2>::from_floats([[0.5, 1.0], [0.0, 0.3]], &device);
        let l = pdf
            .tcp_loss(
                pred,
                &logits,
                targets,
                present(vec![true, true, true, false], 2, 2),
            )
            .into_scalar::<f32>();
        // modality 0: |0.5-0.5| and |0-0.5| -> 0.25; modality 1: only instance 0, |1-1| = 0
        assert!((l - 0.25).abs() < 1e-5, "{l}");
    }
}
