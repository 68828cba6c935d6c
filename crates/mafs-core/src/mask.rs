//! Presence-mask helpers shared by every stage.

use burn::tensor::{Bool, Tensor};

/// Stacks per-modality presence masks into `[batch, M]` (`true` = present).
///
/// # Panics
///
/// Panics if `masks` is empty or the masks disagree on the batch size.
pub fn stack_presence(masks: &[Tensor<1, Bool>]) -> Tensor<2, Bool> {
    assert!(!masks.is_empty(), "stack_presence: no modalities");
    let b = masks[0].dims()[0];
    for (m, mask) in masks.iter().enumerate() {
        assert_eq!(
            mask.dims()[0],
            b,
            "stack_presence: modality {m} has batch {} but modality 0 has {b}",
            mask.dims()[0]
        );
    }
    Tensor::stack(masks.to_vec(), 1)
}

/// Presence `[batch, M]` of a slice of encodings.
pub fn presence_of(encoded: &[crate::Encoded]) -> Tensor<2, Bool> {
    let masks: Vec<_> = encoded.iter().map(|e| e.present.clone()).collect();
    stack_presence(&masks)
}
