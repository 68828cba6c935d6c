//! The task losses the training uses: cross-entropy (hard, smoothed, soft targets, token-level),
//! binary cross-entropy with soft scores (VQA), and the symmetric InfoNCE of CLIP/ALBEF with
//! single or multiple positives.
//!
//! Every loss comes in two forms: `*_per_instance` returns `[batch]` (what the theory tests and
//! the unimodal losses need), and the plain form returns the mean over the batch as a scalar
//! `[1]` (what `TaskHead::loss` returns). All of them work on logits and go through
//! `log_softmax` / `log_sigmoid`-style identities, so they stay finite for any finite logits.

mod classification;
mod contrastive;

pub use classification::*;
pub use contrastive::*;

use burn::tensor::{Bool, Tensor, assert_shape};

/// Mean of `values` over the entries where `keep` is true; 0 when none is kept (so a batch in
/// which a modality is missing everywhere contributes no loss rather than NaN).
///
/// # Shapes
///
/// - `values`: `[batch]`
/// - `keep`: `[batch]`
/// - output: `[1]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn masked_mean(values: Tensor<1>, keep: Tensor<1, Bool>) -> Tensor<1> {
    let [b] = values.dims();
    assert_shape!(keep, [b]);
    let keep = keep.float();
    let count = keep.clone().sum().clamp_min(1.0);
    (values * keep).sum() / count
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn masked_mean_drops_missing_and_handles_empty() {
        let d = Device::flex();
        let v = Tensor::<1>::from_floats([1.0f32, 100.0, 3.0], &d);
        let keep =
            Tensor::<1, Bool>::from_bool(burn::tensor::TensorData::from([true, false, true]), &d);
        let m: f32 = masked_mean(v.clone(), keep).into_scalar();
        assert!((m - 2.0).abs() < 1e-6);
        let none = Tensor::<1, Bool>::from_bool(burn::tensor::TensorData::from([false; 3]), &d);
        let z: f32 = masked_mean(v, none).into_scalar();
        assert_eq!(z, 0.0);
    }
}
