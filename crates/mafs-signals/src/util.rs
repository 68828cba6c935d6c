//! Small tensor helpers shared by the signals: entropies, normalisation, presence masks and
//! the "mean over the other present modalities" reduction of the agreement signals.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Bool, Tensor};
use mafs_core::Encoded;

/// Floor under probabilities before a logarithm (`0 * ln 0` is taken as 0).
pub(crate) const PROB_FLOOR: f64 = 1.0e-12;
/// Floor under vector norms before a division.
pub(crate) const NORM_FLOOR: f64 = 1.0e-12;

/// Row-wise L2 normalisation `z / max(||z||, 1e-12)`.
///
/// # Shapes
///
/// - `z`: `[batch, d]`, output `[batch, d]`
pub fn l2_normalize(z: Tensor<2>) -> Tensor<2> {
    let norm = z.clone().square().sum_dim(1).sqrt().clamp_min(NORM_FLOOR);
    z / norm
}

/// Shannon entropy (nats) of `softmax(logits)` per row, computed from `log_softmax` so that
/// it stays finite and exact for peaked distributions.
///
/// # Shapes
///
/// - `logits`: `[batch, classes]`, output `[batch]`
pub fn entropy_from_logits(logits: Tensor<2>) -> Tensor<1> {
    let [b, _] = logits.dims();
    let logp = log_softmax(logits.clone(), 1);
    let p = softmax(logits, 1);
    (p * logp).sum_dim(1).neg().reshape([b])
}

/// Shannon entropy (nats) of probability rows, with `0 ln 0 = 0`.
///
/// # Shapes
///
/// - `p`: `[batch, n]`, output `[batch]`
pub fn entropy_from_probs(p: Tensor<2>) -> Tensor<1> {
    let [b, _] = p.dims();
    let logp = p.clone().clamp_min(PROB_FLOOR).log();
    (p * logp).sum_dim(1).neg().reshape([b])
}

/// Presence `[batch, M]` as floats (1.0 present, 0.0 missing).
pub fn presence_f(encoded: &[Encoded]) -> Tensor<2> {
    mafs_core::mask::presence_of(encoded).float()
}

/// Per-instance mean of a pairwise score over the *other present* modalities:
/// `a_m = sum_{n != m, n present} s[m, n] / #{n != m present}`, and 0 where no other
/// modality is present. The entry of a missing modality `m` is computed the same way
/// (finite, meaningless; consumers mask it).
///
/// # Shapes
///
/// - `pairwise`: `[batch, M, M]`, `present`: `[batch, M]`, output `[batch, M]`
///
/// # Panics
///
/// Panics if the shapes disagree.
pub fn mean_over_other_present(pairwise: Tensor<3>, present: Tensor<2, Bool>) -> Tensor<2> {
    let [b, m, m2] = pairwise.dims();
    assert_eq!(
        m, m2,
        "mean_over_other_present: pairwise must be [batch, M, M]"
    );
    assert_eq!(
        present.dims(),
        [b, m],
        "mean_over_other_present: present must be [batch, M] = [{b}, {m}]"
    );
    let device = pairwise.device();
    let off_diag: Tensor<3> =
        (Tensor::<2>::ones([m, m], &device) - Tensor::<2>::eye(m, &device)).reshape([1, m, m]);
    // weight[b, m, n] = present[b, n] * (n != m)
    let weight = present.float().reshape([b, 1, m]) * off_diag;
    let num = (pairwise * weight.clone()).sum_dim(2).reshape([b, m]);
    // The count of other present modalities is an integer: max(count, 1) leaves it unchanged
    // when positive and turns 0/0 into 0/1 = 0.
    let den = weight.sum_dim(2).reshape([b, m]).clamp_min(1.0);
    num / den
}

/// Stacks per-modality `[batch]` values into `[batch, M]`.
pub(crate) fn stack_modalities(values: Vec<Tensor<1>>) -> Tensor<2> {
    Tensor::stack(values, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn entropy_of_uniform_and_one_hot() {
        let device = Device::flex();
        let p = Tensor::<2>::from_floats([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]], &device);
        let h: Vec<f32> = entropy_from_probs(p).try_into_vec_as::<f32>().unwrap();
        assert!((h[0] - 4f32.ln()).abs() < 1e-6);
        assert!(h[1].abs() < 1e-6);
        let l = Tensor::<2>::from_floats([[0.0, 0.0, 0.0], [50.0, 0.0, 0.0]], &device);
        let h: Vec<f32> = entropy_from_logits(l).try_into_vec_as::<f32>().unwrap();
        assert!((h[0] - 3f32.ln()).abs() < 1e-6);
        assert!(h[1].abs() < 1e-6);
    }

    #[test]
    fn mean_over_others_skips_self_and_missing() {
        let device = Device::flex();
        // one instance, three modalities; pairwise[m][n] = 10*m + n
        let s: Vec<f32> = (0..3)
            .flat_map(|m| (0..3).map(move |n| (10 * m + n) as f32))
            .collect();
        let pairwise = Tensor::<3>::from_data(TensorData::new(s, [1, 3, 3]), &device);
        let present =
            Tensor::<2, Bool>::from_data(TensorData::new(vec![true, false, true], [1, 3]), &device);
        let a: Vec<f32> = mean_over_other_present(pairwise, present)
            .try_into_vec_as::<f32>()
            .unwrap();
        // m=0: others present {2} -> 2; m=1: {0,2} -> (10+12)/2; m=2: {0} -> 20
        assert_eq!(a, vec![2.0, 11.0, 20.0]);
    }

    #[test]
    fn mean_over_others_alone_is_zero() {
        let device = Device::flex();
        let pairwise = Tensor::<3>::ones([2, 2, 2], &device);
        let present = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![true, false, false, false], [2, 2]),
            &device,
        );
        let a: Vec<f32> = mean_over_other_present(pairwise, present)
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(a, vec![0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn l2_normalize_unit_rows_and_zero_row() {
        let device = Device::flex();
        let z = Tensor::<2>::from_floats([[3.0, 4.0], [0.0, 0.0]], &device);
        let n: Vec<f32> = l2_normalize(z).try_into_vec_as::<f32>().unwrap();
        assert_eq!(n, vec![0.6, 0.8, 0.0, 0.0]);
    }
}
