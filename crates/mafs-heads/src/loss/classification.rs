//! Classification losses: cross-entropy (hard, label-smoothed, soft targets, token-level with
//! padding) and binary cross-entropy with soft scores (VQA).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor, assert_shape};

fn check_logits_targets(what: &str, logits: &Tensor<2>, targets: &Tensor<1, Int>) {
    let [b, c] = logits.dims();
    assert!(c > 0, "{what}: logits must have at least one class");
    assert_eq!(
        targets.dims(),
        [b],
        "{what}: targets must be [batch] = [{b}], got {:?}",
        targets.dims()
    );
}

/// Cross-entropy of each instance, `-log softmax(logits)[target]`.
///
/// # Shapes
///
/// - `logits`: `[batch, classes]`
/// - `targets`: `[batch]`, class ids in `0..classes`
/// - output: `[batch]`
///
/// # Panics
///
/// Panics if the batch sizes differ.
pub fn cross_entropy_per_instance(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    check_logits_targets("cross_entropy", &logits, &targets);
    let [b, _] = logits.dims();
    log_softmax(logits, 1)
        .gather(1, targets.reshape([b, 1]))
        .reshape([b])
        .neg()
}

/// Mean cross-entropy over the batch, a scalar `[1]`.
///
/// # Shapes
///
/// - `logits`: `[batch, classes]`
/// - `targets`: `[batch]`
/// - output: `[1]`
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    cross_entropy_per_instance(logits, targets).mean()
}

/// Cross-entropy with label smoothing, per instance: the target distribution is
/// `(1 - alpha) * one_hot(target) + alpha / classes`, as in PyTorch's `label_smoothing` and
/// burn's `CrossEntropyLoss`. `alpha = 0` is [`cross_entropy_per_instance`].
///
/// # Shapes
///
/// - `logits`: `[batch, classes]`
/// - `targets`: `[batch]`
/// - output: `[batch]`
///
/// # Panics
///
/// Panics if `alpha` is outside `[0, 1]` or the batch sizes differ.
pub fn cross_entropy_smoothed_per_instance(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    alpha: f64,
) -> Tensor<1> {
    assert!(
        (0.0..=1.0).contains(&alpha),
        "cross_entropy_smoothed: alpha must be in [0, 1], got {alpha}"
    );
    check_logits_targets("cross_entropy_smoothed", &logits, &targets);
    let [_, c] = logits.dims();
    let probs = targets
        .one_hot::<2>(c)
        .float()
        .mul_scalar(1.0 - alpha)
        .add_scalar(alpha / c as f64);
    soft_cross_entropy_per_instance(logits, probs)
}

/// Mean of [`cross_entropy_smoothed_per_instance`], a scalar `[1]`.
pub fn cross_entropy_smoothed(logits: Tensor<2>, targets: Tensor<1, Int>, alpha: f64) -> Tensor<1> {
    cross_entropy_smoothed_per_instance(logits, targets, alpha).mean()
}

/// Cross-entropy against a target distribution, per instance:
/// `-sum_c p_c log softmax(logits)_c`. Rows of `target_probs` should sum to one (a row of
/// zeros gives zero loss, which is how a row without positives drops out).
///
/// # Shapes
///
/// - `logits`: `[batch, classes]`
/// - `target_probs`: `[batch, classes]`
/// - output: `[batch]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn soft_cross_entropy_per_instance(logits: Tensor<2>, target_probs: Tensor<2>) -> Tensor<1> {
    let [b, c] = logits.dims();
    assert_shape!(target_probs, [b, c]);
    (log_softmax(logits, 1) * target_probs)
        .sum_dim(1)
        .reshape([b])
        .neg()
}

/// Mean of [`soft_cross_entropy_per_instance`], a scalar `[1]`.
pub fn soft_cross_entropy(logits: Tensor<2>, target_probs: Tensor<2>) -> Tensor<1> {
    soft_cross_entropy_per_instance(logits, target_probs).mean()
}

/// Binary cross-entropy with logits against soft scores, summed over the classes, per
/// instance. This is the VQA loss of the bottom-up-attention line (Teney et al. 2018;
/// `instance_bce_with_logits` in hengyuan-hu/bottom-up-attention-vqa: `F.bce_with_logits(logits,
/// labels) * labels.size(1)`, i.e. summed over answers, averaged over the batch), also used by
/// ALBEF/BLIP-style classifier baselines. Computed as
/// `max(x, 0) - x * y + log(1 + exp(-|x|))`, finite for any finite logit.
///
/// # Shapes
///
/// - `logits`: `[batch, classes]`
/// - `scores`: `[batch, classes]`, each in `[0, 1]` (VQA: `min(1, #annotators / 3)`)
/// - output: `[batch]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn bce_with_logits_per_instance(logits: Tensor<2>, scores: Tensor<2>) -> Tensor<1> {
    let [b, c] = logits.dims();
    assert_shape!(scores, [b, c]);
    let softplus_neg_abs = logits.clone().abs().neg().exp().log1p();
    (logits.clone().clamp_min(0.0) - logits * scores + softplus_neg_abs)
        .sum_dim(1)
        .reshape([b])
}

/// Mean over the batch of [`bce_with_logits_per_instance`], a scalar `[1]`.
pub fn bce_with_logits(logits: Tensor<2>, scores: Tensor<2>) -> Tensor<1> {
    bce_with_logits_per_instance(logits, scores).mean()
}

/// Token-level cross-entropy for sequence models, per instance: the mean over each instance's
/// non-padding positions (optionally label-smoothed). An instance with only padding gets 0.
///
/// # Shapes
///
/// - `logits`: `[batch, seq, vocab]`
/// - `targets`: `[batch, seq]`
/// - `padding`: `[batch, seq]`, `true` = padding (ignored)
/// - output: `[batch]`
///
/// # Panics
///
/// Panics if the shapes disagree or `smoothing` is outside `[0, 1]`.
pub fn token_cross_entropy_per_instance(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    padding: Tensor<2, Bool>,
    smoothing: f64,
) -> Tensor<1> {
    let (sum, count) = token_cross_entropy_sums(logits, targets, padding, smoothing);
    sum / count.clamp_min(1.0)
}

/// Token-level cross-entropy averaged over all non-padding tokens of the batch (the usual
/// captioning loss: BLIP's `CrossEntropyLoss(ignore_index=-100)` averages over tokens, not
/// instances), a scalar `[1]`. A batch of only padding gives 0.
///
/// # Shapes
///
/// - `logits`: `[batch, seq, vocab]`
/// - `targets`: `[batch, seq]`
/// - `padding`: `[batch, seq]`, `true` = padding
/// - output: `[1]`
pub fn token_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    padding: Tensor<2, Bool>,
    smoothing: f64,
) -> Tensor<1> {
    let (sum, count) = token_cross_entropy_sums(logits, targets, padding, smoothing);
    sum.sum() / count.sum().clamp_min(1.0)
}

/// Per-instance sum of token losses over non-padding positions and the number of such
/// positions, both `[batch]`.
fn token_cross_entropy_sums(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    padding: Tensor<2, Bool>,
    smoothing: f64,
) -> (Tensor<1>, Tensor<1>) {
    let [b, t, v] = logits.dims();
    assert!(
        targets.dims() == [b, t],
        "token_cross_entropy: targets must be [batch, seq] = [{b}, {t}], got {:?}",
        targets.dims()
    );
    assert!(
        padding.dims() == [b, t],
        "token_cross_entropy: padding must be [batch, seq] = [{b}, {t}], got {:?}",
        padding.dims()
    );
    let flat_logits = logits.reshape([b * t, v]);
    // Padding targets may hold any id (often PAD, sometimes -100); clamp them into range so the
    // gather is valid, their loss is masked out below.
    let flat_targets = targets
        .reshape([b * t])
        .mask_fill(padding.clone().reshape([b * t]), 0)
        .clamp(0, v as i64 - 1);
    let per_token = if smoothing > 0.0 {
        cross_entropy_smoothed_per_instance(flat_logits, flat_targets, smoothing)
    } else {
        cross_entropy_per_instance(flat_logits, flat_targets)
    };
    let keep = padding.bool_not().float();
    let per_token = per_token.reshape([b, t]) * keep.clone();
    (
        per_token.sum_dim(1).reshape([b]),
        keep.sum_dim(1).reshape([b]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, Tolerance};

    fn dev() -> Device {
        let d = Device::flex();
        d.seed(0);
        d
    }

    fn vec1(t: Tensor<1>) -> Vec<f32> {
        t.try_into_vec_as::<f32>().unwrap()
    }

    /// Reference log-sum-exp cross-entropy in f64.
    fn ce_ref(logits: &[f32], target: usize) -> f64 {
        let m = logits.iter().cloned().fold(f32::MIN, f32::max) as f64;
        let lse = m + logits
            .iter()
            .map(|&x| (x as f64 - m).exp())
            .sum::<f64>()
            .ln();
        lse - logits[target] as f64
    }

    #[test]
    fn cross_entropy_matches_reference_and_is_stable() {
        let d = dev();
        let rows = [[1.0f32, 2.0, 3.0], [1000.0, -1000.0, 0.0]];
        let logits = Tensor::<2>::from_floats(rows, &d);
        let targets = Tensor::<1, Int>::from_ints([2, 1], &d);
        let got = vec1(cross_entropy_per_instance(logits.clone(), targets.clone()));
        for (i, t) in [2usize, 1].iter().enumerate() {
            let want = ce_ref(&rows[i], *t);
            // tolerance: 1e-4 relative (f32 log-softmax)
            assert!((got[i] as f64 - want).abs() <= 1e-4 * want.abs().max(1.0));
        }
        let mean: f32 = cross_entropy(logits, targets).into_scalar();
        assert!((mean - (got[0] + got[1]) / 2.0).abs() < 1e-3);
    }

    #[test]
    fn smoothing_zero_equals_plain_and_matches_formula() {
        let d = dev();
        let logits = Tensor::<2>::random([4, 5], Distribution::Normal(0.0, 2.0), &d);
        let targets = Tensor::<1, Int>::from_ints([0, 4, 2, 2], &d);
        let plain = cross_entropy_per_instance(logits.clone(), targets.clone());
        let s0 = cross_entropy_smoothed_per_instance(logits.clone(), targets.clone(), 0.0);
        s0.into_data()
            .assert_approx_eq::<f32>(&plain.clone().into_data(), Tolerance::absolute(1e-5));
        // (1 - a) * CE + a * mean_c(-log p_c)
        let a = 0.1;
        let uniform = log_softmax(logits.clone(), 1)
            .mean_dim(1)
            .reshape([4])
            .neg();
        let want = plain.mul_scalar(1.0 - a) + uniform.mul_scalar(a);
        cross_entropy_smoothed_per_instance(logits, targets, a)
            .into_data()
            .assert_approx_eq::<f32>(&want.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn bce_matches_naive_formula_and_stays_finite() {
        let d = dev();
        let logits = Tensor::<2>::from_floats([[0.5f32, -1.0, 2.0], [80.0, -80.0, 0.0]], &d);
        let scores = Tensor::<2>::from_floats([[1.0f32, 0.3, 0.0], [0.0, 1.0, 0.6]], &d);
        let got = vec1(bce_with_logits_per_instance(logits, scores));
        let naive = |x: f64, y: f64| {
            let p = 1.0 / (1.0 + (-x).exp());
            -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        };
        let row0 = naive(0.5, 1.0) + naive(-1.0, 0.3) + naive(2.0, 0.0);
        assert!((got[0] as f64 - row0).abs() < 1e-4, "{} vs {row0}", got[0]);
        // Row 1 saturates: naive overflows, the stable form gives 80 + 80 + ln 2 exactly.
        let row1 = 80.0 + 80.0 + 2f64.ln();
        assert!((got[1] as f64 - row1).abs() < 1e-3, "{} vs {row1}", got[1]);
    }

    #[test]
    fn token_cross_entropy_ignores_padding() {
        let d = dev();
        let logits = Tensor::<3>::random([2, 3, 4], Distribution::Normal(0.0, 1.0), &d);
        let targets = Tensor::<2, Int>::from_ints([[1, 2, 0], [3, -100, -100]], &d);
        let padding = Tensor::<2, Bool>::from_bool(
            burn::tensor::TensorData::from([[false, false, true], [false, true, true]]),
            &d,
        );
        let per_inst = vec1(token_cross_entropy_per_instance(
            logits.clone(),
            targets.clone(),
            padding.clone(),
            0.0,
        ));
        let flat = logits.clone().reshape([6, 4]);
        let tok = vec1(cross_entropy_per_instance(
            flat,
            Tensor::<1, Int>::from_ints([1, 2, 0, 3, 0, 0], &d),
        ));
        assert!((per_inst[0] - (tok[0] + tok[1]) / 2.0).abs() < 1e-5);
        assert!((per_inst[1] - tok[3]).abs() < 1e-5);
        let mean: f32 = token_cross_entropy(logits, targets, padding, 0.0).into_scalar();
        assert!((mean - (tok[0] + tok[1] + tok[3]) / 3.0).abs() < 1e-5);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use proptest::prelude::*;

    fn logits_strategy(b: usize, c: usize) -> impl Strategy<Value = Vec<f32>> {
        proptest::collection::vec(-30.0f32..30.0, b * c)
    }

    fn t2(v: &[f32], b: usize, c: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [b, c]), &Device::flex())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn cross_entropy_is_non_negative_and_convex(
            l1 in logits_strategy(3, 5),
            l2 in logits_strategy(3, 5),
            lambda in 0.0f32..1.0,
            targets in proptest::collection::vec(0i64..5, 3),
        ) {
            let d = Device::flex();
            let y = Tensor::<1, Int>::from_data(TensorData::new(targets, [3]), &d);
            let ce = |l: Tensor<2>| cross_entropy_per_instance(l, y.clone()).try_into_vec_as::<f32>().unwrap();
            let a = ce(t2(&l1, 3, 5));
            let b = ce(t2(&l2, 3, 5));
            let mix = t2(&l1, 3, 5).mul_scalar(lambda) + t2(&l2, 3, 5).mul_scalar(1.0 - lambda);
            let m = ce(mix);
            for i in 0..3 {
                prop_assert!(a[i] >= -1e-5 && a[i].is_finite());
                // tolerance: 1e-3 absolute (f32 log-sum-exp of logits up to 30)
                prop_assert!(m[i] <= lambda * a[i] + (1.0 - lambda) * b[i] + 1e-3);
            }
        }

        #[test]
        fn bce_is_finite_and_non_negative(
            l in proptest::collection::vec(-200.0f32..200.0, 2 * 4),
            s in proptest::collection::vec(0.0f32..1.0, 2 * 4),
        ) {
            let v = bce_with_logits_per_instance(t2(&l, 2, 4), t2(&s, 2, 4)).try_into_vec_as::<f32>().unwrap();
            for x in v {
                prop_assert!(x.is_finite() && x >= -1e-4);
            }
        }
    }
}
