//! Contrastive losses: the symmetric InfoNCE of CLIP with a learned, clamped logit scale, and
//! its multi-positive forms (ALBEF's `idx` targets, explicit positive masks, absent items).

use burn::tensor::{Bool, Int, Tensor, assert_shape};

use super::classification::{cross_entropy_per_instance, soft_cross_entropy_per_instance};
use super::masked_mean;

/// The largest CLIP logit scale, `ln(100)`: open_clip clamps `logit_scale` to `[0, ln 100]`
/// (`unwrap_model(model).logit_scale.clamp_(0, math.log(100))` in `train.py`).
pub const MAX_LOG_LOGIT_SCALE: f64 = 4.605_170_185_988_091;

/// CLIP's initial logit scale, `ln(1 / 0.07)` (`np.log(1 / 0.07)` in CLIP's `model.py`).
pub const INIT_LOG_LOGIT_SCALE: f64 = 2.659_260_036_932_778;

/// Rows divided by their L2 norm (`F.normalize(x, dim=-1)` with `eps = 1e-12` on the norm).
///
/// # Shapes
///
/// - `x`: `[n, d]` → `[n, d]`
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1.0e-12);
    x / norm
}

/// The multiplicative logit scale `exp(clamp(log_scale, 0, ln 100))` as a `[1]` tensor.
///
/// The clamp in the forward pass keeps the scale in CLIP's range even between the parameter
/// clamps a trainer applies after each step (open_clip clamps the parameter itself).
pub fn logit_scale_factor(log_scale: Tensor<1>) -> Tensor<1> {
    assert_shape!(log_scale, [1]);
    log_scale.clamp(0.0, MAX_LOG_LOGIT_SCALE).exp()
}

/// Output of [`info_nce`] and its multi-positive variants.
///
/// # Shapes
///
/// - `loss`: `[1]`, `(mean(a_to_b) + mean(b_to_a)) / 2`
/// - `a_to_b_per_instance`: `[n_a]`, the loss of each row of `a` against all of `b`
/// - `b_to_a_per_instance`: `[n_b]`, the loss of each row of `b` against all of `a`
/// - `logits`: `[n_a, n_b]`, `scale * norm(a) · norm(b)^T`
#[derive(Debug, Clone)]
pub struct InfoNceOutput {
    /// Symmetric mean loss.
    pub loss: Tensor<1>,
    /// Per-row loss in the a → b direction.
    pub a_to_b_per_instance: Tensor<1>,
    /// Per-row loss in the b → a direction.
    pub b_to_a_per_instance: Tensor<1>,
    /// Scaled cosine similarities.
    pub logits: Tensor<2>,
}

/// `scale * norm(a) · norm(b)^T`, CLIP's `logits_per_image`.
///
/// # Shapes
///
/// - `a`: `[n_a, d]`, `b`: `[n_b, d]`, `log_scale`: `[1]` → `[n_a, n_b]`
///
/// # Panics
///
/// Panics if the widths differ or `log_scale` is not `[1]`.
pub fn contrastive_logits(a: Tensor<2>, b: Tensor<2>, log_scale: Tensor<1>) -> Tensor<2> {
    let [_, d] = a.dims();
    assert_shape!(b, [_, d]);
    let scale = logit_scale_factor(log_scale).reshape([1, 1]);
    l2_normalize(a).matmul(l2_normalize(b).transpose()) * scale
}

/// Symmetric InfoNCE with the diagonal as positives, as CLIP's loss:
/// `logits = exp(log_scale) * norm(a) · norm(b)^T`,
/// `loss = (CE(logits, arange) + CE(logits^T, arange)) / 2`.
/// `log_scale` is the learned log logit scale (init `ln(1/0.07)`), clamped to `[0, ln 100]`.
///
/// When the same item can appear twice in a batch, use [`info_nce_multi_positive`]: with
/// diagonal targets a duplicate is pushed away from its own twin.
///
/// # Shapes
///
/// - `a`: `[batch, d]`, `b`: `[batch, d]` (row i of `a` pairs with row i of `b`)
/// - `log_scale`: `[1]`
///
/// # Panics
///
/// Panics if `a` and `b` differ in shape.
pub fn info_nce(a: Tensor<2>, b: Tensor<2>, log_scale: Tensor<1>) -> InfoNceOutput {
    let [n, d] = a.dims();
    assert_shape!(b, [n, d]);
    let device = a.device();
    let logits = contrastive_logits(a, b, log_scale);
    let labels = Tensor::<1, Int>::arange(0..n as i64, &device);
    let a_to_b = cross_entropy_per_instance(logits.clone(), labels.clone());
    let b_to_a = cross_entropy_per_instance(logits.clone().transpose(), labels);
    finish(logits, a_to_b, b_to_a)
}

/// Symmetric InfoNCE with several positives per row, as ALBEF's retrieval fine-tuning
/// (`model_retrieval.py`: `pos_idx = torch.eq(idx, idx_all.t()).float();
/// sim_targets = pos_idx / pos_idx.sum(1, keepdim=True)`,
/// `loss_i2t = -sum(log_softmax(sim_i2t, 1) * sim_targets, 1).mean()`): row i of `a` and row j
/// of `b` are a positive pair when `item_ids[i] == item_ids[j]`, and the target mass of each row
/// is spread evenly over its positives. With all ids distinct this equals [`info_nce`].
///
/// # Shapes
///
/// - `a`: `[batch, d]`, `b`: `[batch, d]` (row i of `a` pairs with row i of `b`)
/// - `log_scale`: `[1]`
/// - `item_ids`: `[batch]`, the item each pair belongs to
///
/// # Panics
///
/// Panics if the shapes disagree.
pub fn info_nce_multi_positive(
    a: Tensor<2>,
    b: Tensor<2>,
    log_scale: Tensor<1>,
    item_ids: Tensor<1, Int>,
) -> InfoNceOutput {
    let [n, d] = a.dims();
    assert_shape!(b, [n, d]);
    assert!(
        item_ids.dims() == [n],
        "info_nce_multi_positive: item_ids must be [batch] = [{n}], got {:?}",
        item_ids.dims()
    );
    let positives = positive_mask(item_ids.clone(), item_ids);
    // Every row and column has its own pair as a positive, so no row lacks one.
    info_nce_masked_unchecked(contrastive_logits(a, b, log_scale), positives)
}

/// `[n_a, n_b]` mask, `true` where `ids_a[i] == ids_b[j]`.
///
/// # Shapes
///
/// - `ids_a`: `[n_a]`, `ids_b`: `[n_b]` → `[n_a, n_b]`
pub fn positive_mask(ids_a: Tensor<1, Int>, ids_b: Tensor<1, Int>) -> Tensor<2, Bool> {
    let [na] = ids_a.dims();
    let [nb] = ids_b.dims();
    ids_a
        .reshape([na, 1])
        .expand([na, nb])
        .equal(ids_b.reshape([1, nb]).expand([na, nb]))
}

/// Symmetric InfoNCE for given logits and a positive-pair mask (`[n_a, n_b]`, `true` =
/// positive): each row's (and each column's) target distribution is uniform over its positives.
/// This is the general form behind [`info_nce_multi_positive`], for batches where `a` and `b`
/// have different sizes (several captions per item, gathered from a queue, ...).
///
/// # Shapes
///
/// - `logits`: `[n_a, n_b]` (e.g. from [`contrastive_logits`])
/// - `positives`: `[n_a, n_b]`
///
/// # Panics
///
/// Panics if the shapes differ, or if some row or column has no positive (its loss would be
/// undefined). Checking this reads two values back from the device.
pub fn info_nce_with_positives(logits: Tensor<2>, positives: Tensor<2, Bool>) -> InfoNceOutput {
    let [na, nb] = logits.dims();
    assert_shape!(positives, [na, nb]);
    let pos = positives.clone().float();
    let min_row: f32 = pos.clone().sum_dim(1).min().into_scalar();
    let min_col: f32 = pos.sum_dim(0).min().into_scalar();
    assert!(
        min_row >= 1.0 && min_col >= 1.0,
        "info_nce_with_positives: every row and every column needs at least one positive \
         (min per row {min_row}, min per column {min_col})"
    );
    info_nce_masked_unchecked(logits, positives)
}

/// Symmetric InfoNCE when some items are absent (their modality is missing), for the
/// unimodal retrieval loss: an absent row of `a` is neither an anchor (its a → b loss is not
/// counted) nor a candidate (its logit is removed from every b → a softmax), and a row of `b`
/// whose items are all absent is not counted. Positives follow `item_ids` as in
/// [`info_nce_multi_positive`]. With every item present this equals
/// [`info_nce_multi_positive`]; with none present the loss is 0.
///
/// # Shapes
///
/// - `a`: `[batch, d]` items, `b`: `[batch, d]` captions, `log_scale`: `[1]`
/// - `item_ids`: `[batch]`, `present`: `[batch]` (`true` = item i has this modality)
/// - per-instance outputs are 0 where not counted
///
/// # Panics
///
/// Panics if the shapes disagree.
pub fn info_nce_present(
    a: Tensor<2>,
    b: Tensor<2>,
    log_scale: Tensor<1>,
    item_ids: Tensor<1, Int>,
    present: Tensor<1, Bool>,
) -> InfoNceOutput {
    let [n, d] = a.dims();
    assert_shape!(b, [n, d]);
    assert!(
        item_ids.dims() == [n] && present.dims() == [n],
        "info_nce_present: item_ids {:?} and present {:?} must be [batch] = [{n}]",
        item_ids.dims(),
        present.dims()
    );
    let logits = contrastive_logits(a, b, log_scale);
    let pres = present.clone().float();
    let pos = positive_mask(item_ids.clone(), item_ids).float();

    let a_targets = pos.clone() / pos.clone().sum_dim(1).clamp_min(1.0);
    let a_to_b = soft_cross_entropy_per_instance(logits.clone(), a_targets) * pres.clone();
    let loss_a = masked_mean(a_to_b.clone(), present.clone());

    let absent_cols = present.bool_not().reshape([1, n]).expand([n, n]);
    let logits_t = logits.clone().transpose().mask_fill(absent_cols, -1.0e9);
    let pos_t = pos.transpose() * pres.reshape([1, n]);
    let count = pos_t.clone().sum_dim(1);
    let b_targets = pos_t / count.clone().clamp_min(1.0);
    let valid = count.reshape([n]).greater_elem(0.5);
    let b_to_a = soft_cross_entropy_per_instance(logits_t, b_targets) * valid.clone().float();
    let loss_b = masked_mean(b_to_a.clone(), valid);

    InfoNceOutput {
        loss: (loss_a + loss_b).div_scalar(2.0),
        a_to_b_per_instance: a_to_b,
        b_to_a_per_instance: b_to_a,
        logits,
    }
}

fn info_nce_masked_unchecked(logits: Tensor<2>, positives: Tensor<2, Bool>) -> InfoNceOutput {
    let pos = positives.float();
    let a_targets = pos.clone() / pos.clone().sum_dim(1).clamp_min(1.0);
    let pos_t = pos.transpose();
    let b_targets = pos_t.clone() / pos_t.sum_dim(1).clamp_min(1.0);
    let a_to_b = soft_cross_entropy_per_instance(logits.clone(), a_targets);
    let b_to_a = soft_cross_entropy_per_instance(logits.clone().transpose(), b_targets);
    finish(logits, a_to_b, b_to_a)
}

fn finish(logits: Tensor<2>, a_to_b: Tensor<1>, b_to_a: Tensor<1>) -> InfoNceOutput {
    let loss = (a_to_b.clone().mean() + b_to_a.clone().mean()).div_scalar(2.0);
    InfoNceOutput {
        loss,
        a_to_b_per_instance: a_to_b,
        b_to_a_per_instance: b_to_a,
        logits,
    }
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
    fn info_nce_matches_clip_reference() {
        let d = dev();
        let a = Tensor::<2>::random([5, 8], Distribution::Normal(0.0, 1.0), &d);
        let b = Tensor::<2>::random([5, 8], Distribution::Normal(0.0, 1.0), &d);
        let log_scale = Tensor::<1>::from_floats([INIT_LOG_LOGIT_SCALE as f32], &d);
        let out = info_nce(a.clone(), b.clone(), log_scale);
        // Reference on host data.
        let av = l2_normalize(a).try_into_vec_as::<f32>().unwrap();
        let bv = l2_normalize(b).try_into_vec_as::<f32>().unwrap();
        let s = (1.0 / 0.07) as f32;
        let sim = |i: usize, j: usize| -> f32 {
            (0..8).map(|k| av[i * 8 + k] * bv[j * 8 + k]).sum::<f32>() * s
        };
        let mut total = 0.0;
        for i in 0..5 {
            let row: Vec<f32> = (0..5).map(|j| sim(i, j)).collect();
            let col: Vec<f32> = (0..5).map(|j| sim(j, i)).collect();
            total += ce_ref(&row, i) + ce_ref(&col, i);
        }
        let want = total / 10.0;
        let got: f32 = out.loss.into_scalar();
        // tolerance: 1e-4 relative
        assert!(
            (got as f64 - want).abs() < 1e-4 * want.max(1.0),
            "{got} vs {want}"
        );
        assert_eq!(out.logits.dims(), [5, 5]);
        assert_eq!(out.a_to_b_per_instance.dims(), [5]);
    }

    #[test]
    fn logit_scale_is_clamped() {
        let d = dev();
        let f: f32 = logit_scale_factor(Tensor::<1>::from_floats([10.0f32], &d)).into_scalar();
        assert!((f - 100.0).abs() < 1e-3);
        let f: f32 = logit_scale_factor(Tensor::<1>::from_floats([-3.0f32], &d)).into_scalar();
        assert!((f - 1.0).abs() < 1e-6);
    }

    #[test]
    fn multi_positive_with_distinct_ids_equals_info_nce() {
        let d = dev();
        let a = Tensor::<2>::random([6, 4], Distribution::Normal(0.0, 1.0), &d);
        let b = Tensor::<2>::random([6, 4], Distribution::Normal(0.0, 1.0), &d);
        let ls = Tensor::<1>::from_floats([2.0f32], &d);
        let ids = Tensor::<1, Int>::from_ints([7, 3, 9, 0, 1, 2], &d);
        let x = info_nce(a.clone(), b.clone(), ls.clone());
        let y = info_nce_multi_positive(a, b, ls, ids);
        y.a_to_b_per_instance.into_data().assert_approx_eq::<f32>(
            &x.a_to_b_per_instance.into_data(),
            Tolerance::absolute(1e-5),
        );
        y.loss
            .into_data()
            .assert_approx_eq::<f32>(&x.loss.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn duplicate_items_are_not_pushed_apart() {
        // Rows 0 and 1 are the same item with identical embeddings. Multi-positive targets put
        // half the mass on each twin, so with saturated similarities row 0's loss is the
        // entropy floor ln 2 (the model is not asked to push the twins apart).
        let d = dev();
        let e = Tensor::<2>::from_floats(
            [
                [1.0f32, 0.0, 0.0],
                [1.0, 0.0, 0.0],
                [0.0, 1.0, 0.0],
                [0.0, 0.0, 1.0],
            ],
            &d,
        );
        let ls = Tensor::<1>::from_floats([MAX_LOG_LOGIT_SCALE as f32], &d);
        let ids = Tensor::<1, Int>::from_ints([5, 5, 6, 7], &d);
        let multi = info_nce_multi_positive(e.clone(), e.clone(), ls.clone(), ids);
        let rows = vec1(multi.a_to_b_per_instance);
        // Row 0: logits [100, 100, 0, 0], targets [.5, .5, 0, 0] -> loss = ln 2 (cross-entropy
        // of a distribution with itself is its entropy).
        assert!((rows[0] - 2f32.ln()).abs() < 1e-4, "{rows:?}");
        assert!(rows[2].abs() < 1e-4, "{rows:?}");
        // The gradient tells the two apart: with diagonal targets the twin's logit is pushed
        // down (its gradient is softmax - 0 > 0), with multi-positive targets
        // it is not pushed at all (softmax - target = 0).
        let ad = Device::flex().autodiff();
        let l = Tensor::<2>::from_floats(
            [
                [100.0f32, 100.0, 0.0, 0.0],
                [100.0, 100.0, 0.0, 0.0],
                [0.0, 0.0, 100.0, 0.0],
                [0.0, 0.0, 0.0, 100.0],
            ],
            &ad,
        )
        .require_grad();
        let ids = Tensor::<1, Int>::from_ints([5, 5, 6, 7], &ad);
        let twin_grad = |mask: Tensor<2, Bool>| -> f32 {
            let out = info_nce_with_positives(l.clone(), mask);
            let g = l.grad(&out.loss.backward()).unwrap();
            g.slice([0..1, 1..2]).into_scalar()
        };
        let diag_mask = Tensor::<2, Int>::eye(4, &ad).bool();
        assert!(twin_grad(diag_mask) > 0.1);
        assert!(twin_grad(positive_mask(ids.clone(), ids)).abs() < 1e-5);
        // The general masked form agrees with the id form.
        let logits = contrastive_logits(e.clone(), e, ls);
        let mask = positive_mask(
            Tensor::<1, Int>::from_ints([5, 5, 6, 7], &d),
            Tensor::<1, Int>::from_ints([5, 5, 6, 7], &d),
        );
        let general = info_nce_with_positives(logits, mask);
        let g: f32 = general.loss.into_scalar();
        let m: f32 = multi.loss.into_scalar();
        assert!((g - m).abs() < 1e-6);
    }

    #[test]
    fn info_nce_present_ignores_absent_items() {
        let d = dev();
        let a = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &d);
        let b = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &d);
        let ls = Tensor::<1>::from_floats([2.0f32], &d);
        let ids = Tensor::<1, Int>::from_ints([0, 1, 1, 2, 3], &d);
        let all = Tensor::<1, Bool>::from_bool(burn::tensor::TensorData::from([true; 5]), &d);
        let full = info_nce_present(a.clone(), b.clone(), ls.clone(), ids.clone(), all);
        let multi = info_nce_multi_positive(a.clone(), b.clone(), ls.clone(), ids.clone());
        full.loss
            .into_data()
            .assert_approx_eq::<f32>(&multi.loss.into_data(), Tolerance::absolute(1e-5));
        // Item 3 absent: changing its embedding changes nothing.
        let some = Tensor::<1, Bool>::from_bool(
            burn::tensor::TensorData::from([true, true, true, false, true]),
            &d,
        );
        let x: f32 = info_nce_present(a.clone(), b.clone(), ls.clone(), ids.clone(), some.clone())
            .loss
            .into_scalar();
        let a2 = a
            .clone()
            .slice_assign([3..4, 0..4], Tensor::<2>::ones([1, 4], &d).mul_scalar(7.0));
        let y: f32 = info_nce_present(a2, b.clone(), ls.clone(), ids.clone(), some)
            .loss
            .into_scalar();
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
        let none = Tensor::<1, Bool>::from_bool(burn::tensor::TensorData::from([false; 5]), &d);
        let z: f32 = info_nce_present(a, b, ls, ids, none).loss.into_scalar();
        assert_eq!(z, 0.0);
    }

    #[test]
    #[should_panic(expected = "at least one positive")]
    fn rows_without_positive_are_rejected() {
        let d = dev();
        let logits = Tensor::<2>::zeros([2, 2], &d);
        let mask = positive_mask(
            Tensor::<1, Int>::from_ints([0, 1], &d),
            Tensor::<1, Int>::from_ints([0, 0], &d),
        );
        let _ = info_nce_with_positives(logits, mask);
    }

    #[test]
    fn losses_have_gradients() {
        let d = Device::flex().autodiff();
        d.seed(1);
        let a = Tensor::<2>::random([4, 3], Distribution::Normal(0.0, 1.0), &d).require_grad();
        let b = Tensor::<2>::random([4, 3], Distribution::Normal(0.0, 1.0), &d);
        let ls = Tensor::<1>::from_floats([1.0f32], &d).require_grad();
        let out = info_nce(a.clone(), b, ls.clone());
        let grads = out.loss.backward();
        let ga = a.grad(&grads).expect("grad a");
        let gl = ls.grad(&grads).expect("grad scale");
        assert!(ga.abs().sum().into_scalar::<f32>() > 0.0);
        assert!(gl.into_scalar::<f32>().is_finite());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use burn::tensor::{Device, TensorData};
    use proptest::prelude::*;

    fn t2(v: &[f32], b: usize, c: usize) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [b, c]), &Device::flex())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn info_nce_is_invariant_to_permuting_the_pairs(
            a in proptest::collection::vec(-3.0f32..3.0, 4 * 3),
            b in proptest::collection::vec(-3.0f32..3.0, 4 * 3),
            shift in 1usize..4,
        ) {
            let d = Device::flex();
            let ls = Tensor::<1>::from_floats([1.5f32], &d);
            let perm: Vec<i64> = (0..4).map(|i| ((i + shift) % 4) as i64).collect();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(perm, [4]), &d);
            let x: f32 = info_nce(t2(&a, 4, 3), t2(&b, 4, 3), ls.clone()).loss.into_scalar();
            let y: f32 = info_nce(
                t2(&a, 4, 3).select(0, idx.clone()),
                t2(&b, 4, 3).select(0, idx),
                ls,
            )
            .loss
            .into_scalar();
            prop_assert!((x - y).abs() < 1e-4, "{} vs {}", x, y);
        }
    }
}
