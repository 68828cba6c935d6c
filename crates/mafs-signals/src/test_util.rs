//! Builders of small encodings for the unit tests.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use mafs_core::Encoded;

/// An encoding with the given pooled embedding `[batch, d]` and presence, one token per
/// instance (the pooled embedding itself).
pub(crate) fn encoded_from(name: &str, pooled: Tensor<2>, present: Vec<bool>) -> Encoded {
    let [b, d] = pooled.dims();
    let device = pooled.device();
    Encoded::new(
        name,
        pooled.clone().reshape([b, 1, d]),
        Tensor::<2, Bool>::from_data(TensorData::new(vec![false; b], [b, 1]), &device),
        pooled,
        Tensor::<1, Bool>::from_data(TensorData::new(present, [b]), &device),
    )
}

/// An encoding with a constant pooled embedding of width `d`.
pub(crate) fn encoded_present(name: &str, present: Vec<bool>, d: usize) -> Encoded {
    let b = present.len();
    encoded_from(name, Tensor::ones([b, d], &Device::flex()), present)
}
