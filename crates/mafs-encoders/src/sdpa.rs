//! Scaled dot-product attention on per-head tensors, shared by self- and cross-attention.
//!
//! Two paths compute the same function `softmax(Q K^T / sqrt(d_head) + mask) V`:
//! - the **fused** path calls burn's `burn::tensor::module::attention` (flex runs one kernel per
//!   `(batch, head)` with no materialised score tensor on the graph); it is used whenever no
//!   attention weights are asked for and attention dropout is inactive;
//! - the **plain** path materialises the weights (needed for dropout on the weights, and for
//!   anyone who wants to look at them).
//!
//! Both are NaN-safe for rows whose keys are all masked (an all-padding sequence, e.g. a
//! missing text): such rows get all-zero weights and a zero context, as burn's fallback does.

use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Int, Tensor};

/// Key mask for `[batch, heads, n_q, n_k]` scores, `true` = masked out, broadcast over heads
/// (`[batch, 1, n_q, n_k]`), from a key padding mask `[batch, n_k]` and/or causality.
///
/// Returns `None` when nothing is masked.
pub(crate) fn key_mask(
    padding: Option<&Tensor<2, Bool>>,
    causal: bool,
    batch: usize,
    n_q: usize,
    n_k: usize,
    device: &burn::tensor::Device,
) -> Option<Tensor<4, Bool>> {
    let pad = padding.map(|p| {
        p.clone()
            .reshape([batch, 1, 1, n_k])
            .expand([batch, 1, n_q, n_k])
    });
    let causal = causal.then(|| causal_mask(n_q, n_k, device).expand([batch, 1, n_q, n_k]));
    match (pad, causal) {
        (Some(p), Some(c)) => Some(p.bool_or(c)),
        (Some(p), None) => Some(p),
        (None, Some(c)) => Some(c),
        (None, None) => None,
    }
}

/// Causal mask `[1, 1, n_q, n_k]`, `true` where key `j > i + (n_k - n_q)` (the future),
/// aligned at the bottom-right corner as burn's `is_causal` option does.
pub(crate) fn causal_mask(
    n_q: usize,
    n_k: usize,
    device: &burn::tensor::Device,
) -> Tensor<4, Bool> {
    let offset = n_k as i64 - n_q as i64;
    // tril_mask is `true` strictly above the `offset` diagonal: exactly the future keys.
    Tensor::<2, Bool>::tril_mask([n_q, n_k], offset, device).reshape([1, 1, n_q, n_k])
}

/// Softmax over the last axis of scores, NaN-safe when `masked` (rows with every entry
/// `-inf` give zeros, as `burn_backend::ops::attention::attention_fallback` does).
///
/// The row max is detached: softmax does not depend on the shift, so its gradient is exact
/// without a backward through `max_dim`. Without a mask no entry is `-inf` and the clamps are
/// skipped. On an autodiff device this is fewer differentiated ops than burn's fallback.
pub(crate) fn safe_softmax(scores: Tensor<4>, masked: bool) -> Tensor<4> {
    let max = scores.clone().max_dim(3).detach();
    let max = if masked { max.clamp_min(f32::MIN) } else { max };
    let num = (scores - max).exp();
    let sum = num.clone().sum_dim(3);
    let sum = if masked {
        sum.clamp_min(f32::MIN_POSITIVE)
    } else {
        sum
    };
    num / sum
}

/// Attention weights `[batch, heads, n_q, n_k]` from per-head queries and keys.
pub(crate) fn attention_weights(
    q: Tensor<4>,
    k: Tensor<4>,
    mask: Option<Tensor<4, Bool>>,
) -> Tensor<4> {
    let [b, h, n_q, d_head] = q.dims();
    let n_k = k.dims()[2];
    // scale the queries, not the (larger, n_k > d_head) scores
    let scores = q
        .mul_scalar(1.0 / (d_head as f64).sqrt())
        .matmul(k.swap_dims(2, 3));
    match mask {
        Some(m) => safe_softmax(
            scores.mask_fill(m.expand([b, h, n_q, n_k]), f32::NEG_INFINITY),
            true,
        ),
        None => safe_softmax(scores, false),
    }
}

/// Fused scaled dot-product attention (no weights returned).
///
/// # Shapes
///
/// - `q`: `[batch, heads, n_q, d_head]`, `k`, `v`: `[batch, heads, n_k, d_head]`
/// - `mask`: `[batch, 1, n_q, n_k]` (`true` = masked out), e.g. key padding
/// - `causal`: also mask the future (burn's `is_causal`, bottom-right aligned)
/// - output: `[batch, heads, n_q, d_head]`
pub(crate) fn fused_attention(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    mask: Option<Tensor<4, Bool>>,
    causal: bool,
) -> Tensor<4> {
    let options = AttentionModuleOptions {
        is_causal: causal,
        ..Default::default()
    };
    attention(q, k, v, mask, None, options)
}

/// The weights of one query row per instance, averaged over heads: `[batch, n_k]`.
///
/// `rows[b]` is the query position whose attention is wanted for instance `b` (the class
/// token, the end-of-text token...). Only `batch * heads` rows of scores are computed, so
/// asking for the pooling token's attention costs a tiny fraction of the layer.
///
/// # Shapes
///
/// - `q`: `[batch, heads, n_q, d_head]`, `k`: `[batch, heads, n_k, d_head]`
/// - `rows`: `[batch]`, values in `0..n_q`
/// - `padding`: `[batch, n_k]`
pub(crate) fn row_weights(
    q: Tensor<4>,
    k: Tensor<4>,
    rows: Tensor<1, Int>,
    padding: Option<&Tensor<2, Bool>>,
    causal: bool,
) -> Tensor<2> {
    let [b, h, n_q, d_head] = q.dims();
    let n_k = k.dims()[2];
    let index = rows.clone().reshape([b, 1, 1, 1]).expand([b, h, 1, d_head]);
    let q_row = q.gather(2, index);
    let mut mask: Option<Tensor<4, Bool>> = padding.map(|p| p.clone().reshape([b, 1, 1, n_k]));
    if causal {
        // key j is in the future of query row r when j > r + (n_k - n_q)
        let offset = n_k as i64 - n_q as i64;
        let keys = Tensor::<1, Int>::arange(0..n_k as i64, &q_row.device()).reshape([1, n_k]);
        let limit = rows.reshape([b, 1]).add_scalar(offset);
        let future = keys.greater(limit).reshape([b, 1, 1, n_k]);
        mask = Some(match mask {
            Some(m) => m.bool_or(future),
            None => future,
        });
    }
    attention_weights(q_row, k, mask)
        .mean_dim(1)
        .reshape([b, n_k])
}
