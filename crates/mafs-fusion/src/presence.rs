//! Presence masking shared by the fusion heads: what makes a missing modality contribute
//! exactly nothing.
//!
//! Multiplying by a zero weight is not enough (`0 * NaN = NaN`, and a missing slot may hold
//! anything), so the heads (1) overwrite a missing modality's inputs with zeros before using
//! them, which also keeps their gradients at zero, and (2) zero its weight with a mask, so its
//! (now finite) contribution is multiplied by an exact zero.

use burn::tensor::{Bool, Tensor};
use mafs_core::{Encoded, FusionWeights};

/// Effective weights `[batch, M]`: the scheduler's weights with every missing entry set to 0
/// by a mask (not a product), so NaN or garbage there cannot leak.
///
/// # Panics
///
/// Panics if `weights` is not `[batch, M]` for these encodings.
pub fn effective_weights(encoded: &[Encoded], weights: &FusionWeights) -> Tensor<2> {
    let b = encoded[0].batch_size();
    let m = encoded.len();
    assert_eq!(
        weights.dims(),
        [b, m],
        "fusion: weights must be [batch, M] = [{b}, {m}], got {:?}",
        weights.dims()
    );
    let present = mafs_core::mask::presence_of(encoded);
    weights.weights.clone().mask_fill(present.bool_not(), 0.0)
}

/// `x` with the rows of missing instances overwritten by zeros.
///
/// # Shapes
///
/// - `x`: `[batch, ...]` (rank `D`), `present`: `[batch]`
pub fn zero_missing<const D: usize>(x: Tensor<D>, present: &Tensor<1, Bool>) -> Tensor<D> {
    let dims = x.dims();
    let mut shape = [1usize; D];
    shape[0] = dims[0];
    let missing = present.clone().bool_not().reshape(shape).expand(dims);
    x.mask_fill(missing, 0.0)
}

/// Column `m` of `w` `[batch, M]` shaped `[batch, 1, 1]` for broadcasting over tokens.
pub fn weight_column(w: &Tensor<2>, m: usize) -> Tensor<3> {
    let [b, _] = w.dims();
    w.clone().slice([0..b, m..m + 1]).reshape([b, 1, 1])
}

/// Checks that the encodings agree on the batch size and that there are `expected` of them
/// with the given widths.
///
/// # Panics
///
/// Panics naming the head, the modality and what was expected.
pub fn check_encodings(head: &str, encoded: &[Encoded], widths: &[usize]) {
    assert_eq!(
        encoded.len(),
        widths.len(),
        "{head}: configured for {} modalities, got {} encodings",
        widths.len(),
        encoded.len()
    );
    let b = encoded[0].batch_size();
    for (m, (e, &w)) in encoded.iter().zip(widths).enumerate() {
        assert_eq!(
            e.d_model(),
            w,
            "{head}: modality {m} (`{}`) has width {}, configured {w}",
            e.name,
            e.d_model()
        );
        assert_eq!(
            e.batch_size(),
            b,
            "{head}: modality {m} (`{}`) has batch {}, modality 0 has {b}",
            e.name,
            e.batch_size()
        );
    }
}
