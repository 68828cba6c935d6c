//! What teaches the scheduler which modality to trust (DESIGN §1): a per-instance,
//! per-modality *reliability target* from each modality's own unimodal prediction, and the
//! `lambda_sched * KL(t || w)` loss that pulls the fusion weights towards it (as QMF, PDF and
//! MMDynamics give their weights a target from each modality's own loss or true-class
//! probability).
//!
//! - [`in_batch_tcp`]: retrieval's true-class probability, the share of a modality's own
//!   captions in its in-batch softmax over captions.
//! - [`soft_target_tcp`]: VQA's, the unimodal answer distribution's mass on the soft target.
//! - [`reliability_target`]: `t_m = tcp_m^(1/T) / sum_n tcp_n^(1/T)` over the present
//!   modalities (`T = 1`: plain normalisation), detached.
//! - [`kl_to_target`]: `KL(t || w)`, whose gradient with respect to the scheduler logits is
//!   `(w - t) / tau`.
//! - [`weight_rank_loss`]: QMF's ranking loss on the weights, against the unimodal losses.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Bool, Tensor};

use crate::qmf::qmf_rank_loss;

/// Floor under probabilities before a logarithm.
const FLOOR: f64 = 1.0e-12;

/// In-batch true-class probability of each modality: row `i` of `logits[m]` scores item `i`'s
/// modality `m` against every caption of the batch; the TCP is the softmax mass on the
/// captions that belong to item `i` (`positives[i, j]`), `[batch, M]`.
///
/// # Shapes
///
/// - `logits`: `M` tensors `[batch, captions]`, `positives`: `[batch, captions]`,
///   output `[batch, M]`
///
/// # Panics
///
/// Panics if `logits` is empty or a shape differs from `positives`.
pub fn in_batch_tcp(logits: &[Tensor<2>], positives: Tensor<2, Bool>) -> Tensor<2> {
    assert!(!logits.is_empty(), "in_batch_tcp: no modalities");
    let pos = positives.float();
    let cols = logits
        .iter()
        .map(|l| {
            assert_eq!(
                l.dims(),
                pos.dims(),
                "in_batch_tcp: logits {:?} and positives {:?} differ",
                l.dims(),
                pos.dims()
            );
            let [b, _] = l.dims();
            (softmax(l.clone(), 1) * pos.clone())
                .sum_dim(1)
                .reshape([b])
        })
        .collect();
    Tensor::stack(cols, 1)
}

/// True-class probability against soft targets: `sum_a softmax(logits_m)_a * target_a`, with
/// `targets` rows normalised to sum to 1 (VQA's soft scores; one-hot for a hard label),
/// `[batch, M]`. A row of zeros (no answer in the vocabulary) gives 0.
///
/// # Shapes
///
/// - `logits`: `M` tensors `[batch, classes]`, `targets`: `[batch, classes]`, output
///   `[batch, M]`
///
/// # Panics
///
/// Panics if `logits` is empty or a shape differs from `targets`.
pub fn soft_target_tcp(logits: &[Tensor<2>], targets: Tensor<2>) -> Tensor<2> {
    assert!(!logits.is_empty(), "soft_target_tcp: no modalities");
    let [b, _] = targets.dims();
    let norm = targets.clone().sum_dim(1).clamp_min(FLOOR);
    let t = targets / norm;
    let cols = logits
        .iter()
        .map(|l| {
            assert_eq!(
                l.dims(),
                t.dims(),
                "soft_target_tcp: logits {:?} and targets {:?} differ",
                l.dims(),
                t.dims()
            );
            (softmax(l.clone(), 1) * t.clone()).sum_dim(1).reshape([b])
        })
        .collect();
    Tensor::stack(cols, 1)
}

/// Leave-one-out reliability `[batch, M]`: what the fused prediction loses when modality `m`
/// is left out, `max(tcp_full - tcp_without_m, 0) + floor`, detached. For a task where a
/// modality alone cannot answer (VQA: an image does not know the question), its unimodal TCP
/// is near 0 clean or corrupted and says nothing; what leaving it out costs the fused answer
/// does: a clean, informative image costs the answer when removed, a noised one costs less.
/// `floor` keeps every present modality in the target when nothing is lost.
///
/// # Shapes
///
/// - `full`: `[batch]`, `without`: `[batch, M]`, output `[batch, M]`
///
/// # Panics
///
/// Panics if the batch sizes differ or `floor` is not positive.
pub fn leave_one_out_reliability(full: Tensor<1>, without: Tensor<2>, floor: f64) -> Tensor<2> {
    let [b, m] = without.dims();
    let [bf] = full.dims();
    assert_eq!(
        b, bf,
        "leave_one_out_reliability: {bf} full rows, {b} leave-one-out rows"
    );
    assert!(
        floor > 0.0 && floor.is_finite(),
        "leave_one_out_reliability: floor must be positive, got {floor}"
    );
    let full = full.reshape([b, 1]).expand([b, m]);
    (full - without).clamp_min(0.0).add_scalar(floor).detach()
}

/// What each modality adds to a conditioning modality's answer (VQA: to the question's),
/// `[batch, M]`: for `m != c`, `max(tcp_m - tcp_c, 0) + floor`, where `tcp_m` is modality `m`'s
/// true-class probability *given* the conditioning modality and `tcp_c` the conditioning
/// modality's alone; column `c` is `tcp_c` unchanged. Detached. An image that answers no
/// better than the question's prior (noised, or irrelevant to what is asked) adds nothing,
/// however good the prior; `floor` keeps every modality in the target when none adds
/// anything.
///
/// # Shapes
///
/// - `tcp`: `[batch, M]`, output `[batch, M]`
///
/// # Panics
///
/// Panics if `c` is not a column of `tcp` or `floor` is not positive.
pub fn gain_over_condition(tcp: Tensor<2>, c: usize, floor: f64) -> Tensor<2> {
    let [b, m] = tcp.dims();
    assert!(c < m, "gain_over_condition: column {c} of {m}");
    assert!(
        floor > 0.0 && floor.is_finite(),
        "gain_over_condition: floor must be positive, got {floor}"
    );
    let tcp = tcp.detach();
    let base = tcp.clone().slice([0..b, c..c + 1]).expand([b, m]);
    let gain = (tcp.clone() - base).clamp_min(0.0).add_scalar(floor);
    gain.slice_assign([0..b, c..c + 1], tcp.slice([0..b, c..c + 1]))
}

/// The reliability target `t [batch, M]`: `softmax(ln(tcp) / temperature)` over the present
/// modalities (0 where missing), detached. `temperature = 1` is `tcp / sum(tcp)`; below 1 it
/// sharpens towards the more reliable modality.
///
/// # Panics
///
/// Panics if the shapes differ or `temperature` is not positive.
pub fn reliability_target(tcp: Tensor<2>, present: Tensor<2, Bool>, temperature: f64) -> Tensor<2> {
    assert_eq!(
        tcp.dims(),
        present.dims(),
        "reliability_target: tcp {:?} and presence {:?} differ",
        tcp.dims(),
        present.dims()
    );
    assert!(
        temperature > 0.0 && temperature.is_finite(),
        "reliability_target: temperature must be positive, got {temperature}"
    );
    let log = tcp.detach().clamp_min(FLOOR).log().div_scalar(temperature);
    mafs_core::weights::masked_softmax(log, present, 1.0).detach()
}

/// `KL(t || w) = sum_{m present} t_m (ln t_m - ln w_m)`, averaged over the instances with at
/// least one present modality, a scalar `[1]` (0 with none). `target` is detached here.
///
/// # Shapes
///
/// - `target`, `weights`, `present`: `[batch, M]`, output `[1]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn kl_to_target(target: Tensor<2>, weights: Tensor<2>, present: Tensor<2, Bool>) -> Tensor<1> {
    assert!(
        target.dims() == weights.dims() && weights.dims() == present.dims(),
        "kl_to_target: target {:?}, weights {:?} and presence {:?} must agree",
        target.dims(),
        weights.dims(),
        present.dims()
    );
    let p = present.float();
    let t = target.detach() * p.clone();
    let log_ratio = t.clone().clamp_min(FLOOR).log() - weights.clamp_min(FLOOR).log();
    let row = (t * log_ratio * p.clone()).sum_dim(1);
    let has_any = p.sum_dim(1).greater_elem(0.5).float();
    let rows = has_any.clone().sum().clamp_min(1.0);
    (row * has_any).sum() / rows
}

/// `KL(t || softmax(logits / tau))` computed from the logits with a log-softmax, for numerical
/// stability where a weight is tiny; missing modalities must be `-inf` or masked by `present`.
///
/// # Shapes
///
/// - `target`, `logits`, `present`: `[batch, M]`, output `[1]`
pub fn kl_to_target_logits(
    target: Tensor<2>,
    logits: Tensor<2>,
    present: Tensor<2, Bool>,
    tau: f64,
) -> Tensor<1> {
    let masked = logits
        .div_scalar(tau)
        .mask_fill(present.clone().bool_not(), -1.0e9);
    let log_w = log_softmax(masked, 1);
    let p = present.float();
    let t = target.detach() * p.clone();
    let row = (t.clone() * (t.clamp_min(FLOOR).log() - log_w) * p.clone()).sum_dim(1);
    let has_any = p.sum_dim(1).greater_elem(0.5).float();
    let rows = has_any.clone().sum().clamp_min(1.0);
    (row * has_any).sum() / rows
}

/// QMF's ranking loss applied to the fusion weights: for each modality, an instance whose
/// unimodal loss is the larger must not get the larger weight by more than the gap in loss,
/// [`qmf_rank_loss`] with the weight as the confidence and the unimodal loss normalised by
/// the batch's largest (QMF normalises its loss history to [0, 1]) as the history; averaged
/// over the modalities. Missing entries count with weight 0 and loss 0. (QMF ranks by each
/// sample's running loss over epochs; here the current batch's loss stands in for it.)
///
/// # Shapes
///
/// - `weights`, `unimodal_loss`: `[batch, M]`, `present`: `[batch, M]`, output `[1]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn weight_rank_loss(
    weights: Tensor<2>,
    unimodal_loss: Tensor<2>,
    present: Tensor<2, Bool>,
) -> Tensor<1> {
    assert!(
        weights.dims() == unimodal_loss.dims() && weights.dims() == present.dims(),
        "weight_rank_loss: shapes must agree"
    );
    let [b, m] = weights.dims();
    let p = present.float();
    let loss = unimodal_loss.detach() * p.clone();
    let max = loss.clone().max().clamp_min(FLOOR).reshape([1, 1]);
    let history = loss / max;
    let terms: Vec<Tensor<1>> = (0..m)
        .map(|j| {
            let w = weights.clone().slice([0..b, j..j + 1]).reshape([b]);
            let c = history.clone().slice([0..b, j..j + 1]).reshape([b]);
            qmf_rank_loss(w, c)
        })
        .collect();
    Tensor::cat(terms, 0).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t2(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    fn b2(v: Vec<bool>, shape: [usize; 2], device: &Device) -> Tensor<2, Bool> {
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    fn close(a: &[f32], b: &[f64], tol: f64) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((*x as f64 - y).abs() < tol, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn leave_one_out_is_the_loss_of_leaving_out_floored() {
        let device = Device::flex();
        let full = Tensor::<1>::from_data(TensorData::new(vec![0.8f32, 0.3], [2]), &device);
        // row 0: leaving out modality 0 drops to 0.2, modality 1 to 0.7, modality 2 helps
        let without = t2(vec![0.2, 0.7, 0.9, 0.3, 0.3, 0.1], [2, 3], &device);
        let r: Vec<f32> = leave_one_out_reliability(full, without, 0.01)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        close(&r, &[0.61, 0.11, 0.01, 0.01, 0.01, 0.21], 1e-6);
    }

    #[test]
    fn gain_is_what_a_modality_adds_to_the_question_floored() {
        let device = Device::flex();
        // columns: image, question, side text; row 0: the image adds 0.3, the side text
        // nothing; row 1: both below the question's own answer
        let tcp = t2(vec![0.7, 0.4, 0.35, 0.2, 0.5, 0.1], [2, 3], &device);
        let g: Vec<f32> = gain_over_condition(tcp, 1, 0.01)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        close(&g, &[0.31, 0.4, 0.01, 0.01, 0.5, 0.01], 1e-6);
    }

    #[test]
    #[should_panic(expected = "column 3 of 3")]
    fn gain_rejects_a_missing_column() {
        let device = Device::flex();
        let _ = gain_over_condition(t2(vec![0.5; 3], [1, 3], &device), 3, 0.01);
    }

    #[test]
    fn target_normalises_tcp_over_present_modalities() {
        let device = Device::flex();
        let tcp = t2(vec![0.6, 0.2, 0.3, 0.1, 0.5, 0.9], [2, 3], &device);
        let present = b2(vec![true, true, false, true, true, true], [2, 3], &device);
        let t: Vec<f32> = reliability_target(tcp.clone(), present.clone(), 1.0)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        close(
            &t,
            &[0.75, 0.25, 0.0, 0.1 / 1.5, 0.5 / 1.5, 0.9 / 1.5],
            1e-6,
        );
        // temperature 0.5 squares the ratios
        let t: Vec<f32> = reliability_target(tcp, present, 0.5)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        close(&t[..2], &[0.9, 0.1], 1e-6);
    }

    #[test]
    fn kl_has_its_value_and_the_softmax_gradient_w_minus_t_over_tau() {
        let device = Device::flex().autodiff();
        let tau = 2.0;
        // logits (ln 3, 0) / 2 -> w = softmax(ln 3 / 2, 0) = (sqrt3, 1) / (sqrt3 + 1)
        let logits = t2(vec![3f32.ln(), 0.0, 0.0, 0.0], [2, 2], &device).require_grad();
        let present = b2(vec![true, true, true, false], [2, 2], &device);
        let target = t2(vec![0.25, 0.75, 1.0, 0.0], [2, 2], &device);
        let w = mafs_core::weights::masked_softmax(logits.clone(), present.clone(), tau);
        let kl = kl_to_target(target.clone(), w, present.clone());
        let s3 = 3f64.sqrt();
        let (w0, w1) = (s3 / (s3 + 1.0), 1.0 / (s3 + 1.0));
        let want = (0.25 * (0.25 / w0).ln() + 0.75 * (0.75 / w1).ln()) / 2.0;
        let v: f32 = kl.clone().into_scalar();
        assert!((v as f64 - want).abs() < 1e-6, "{v} vs {want}");
        let g = kl.backward();
        let grad: Vec<f32> = logits
            .grad(&g)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        // d KL / d l = (w - t) / tau, averaged over the 2 rows; the second row has w = t = 1
        close(
            &grad,
            &[(w0 - 0.25) / tau / 2.0, (w1 - 0.75) / tau / 2.0, 0.0, 0.0],
            1e-6,
        );
        // the log-softmax form agrees
        let kl2: f32 = kl_to_target_logits(target, logits, present, tau).into_scalar();
        assert!((kl2 as f64 - want).abs() < 1e-6);
    }

    #[test]
    fn in_batch_tcp_sums_the_positive_columns() {
        let device = Device::flex();
        // row 0: softmax(0, ln 3) = (0.25, 0.75), positive col 0; row 1: uniform, both positive
        let l = t2(vec![0.0, 3f32.ln(), 0.0, 0.0], [2, 2], &device);
        let pos = b2(vec![true, false, true, true], [2, 2], &device);
        let tcp: Vec<f32> = in_batch_tcp(&[l.clone(), l], pos)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        close(&tcp, &[0.25, 0.25, 1.0, 1.0], 1e-6);
    }

    #[test]
    fn soft_target_tcp_uses_normalised_scores() {
        let device = Device::flex();
        let l = t2(vec![0.0, 0.0, 0.0, 0.0], [1, 4], &device);
        let scores = t2(vec![1.0, 1.0, 0.0, 0.0], [1, 4], &device);
        let tcp: Vec<f32> = soft_target_tcp(&[l], scores)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        close(&tcp, &[0.25], 1e-6);
    }

    #[test]
    fn rank_loss_punishes_the_weight_of_the_worse_instance() {
        let device = Device::flex();
        let present = b2(vec![true; 4], [2, 2], &device);
        // modality 0: instance 0 has the larger loss (gap 0.1 after normalisation); giving it
        // the larger weight by more than the gap costs. Modality 1 ties: no cost.
        let loss = t2(vec![1.0, 0.5, 0.9, 0.5], [2, 2], &device);
        let bad = t2(vec![0.9, 0.1, 0.1, 0.9], [2, 2], &device);
        let good = t2(vec![0.1, 0.9, 0.9, 0.1], [2, 2], &device);
        let lb: f32 = weight_rank_loss(bad, loss.clone(), present.clone()).into_scalar();
        let lg: f32 = weight_rank_loss(good, loss, present).into_scalar();
        // bad: instance 0 pairs with 1: max(0, (0.9 - 0.1) - 0.1) = 0.7; instance 1 pairs
        // with 0 (target -1): max(0, -(0.1 - 0.9) - 0.1) = 0.7; mean over both, then over
        // the two modalities (the tie gives 0): 0.35.
        assert!((lb - 0.35).abs() < 1e-6 && lg == 0.0, "bad {lb}, good {lg}");
    }
}
