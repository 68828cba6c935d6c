//! Builders for the unit tests.

use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use mafs_core::{Encoded, SignalSet};

/// An encoding of constant ones of width `d` with the given presence.
pub(crate) fn encoded(name: &str, present: Vec<bool>, d: usize) -> Encoded {
    let device = Device::flex();
    let b = present.len();
    Encoded::new(
        name,
        Tensor::ones([b, 1, d], &device),
        Tensor::<2, Bool>::from_data(TensorData::new(vec![false; b], [b, 1]), &device),
        Tensor::ones([b, d], &device),
        Tensor::<1, Bool>::from_data(TensorData::new(present, [b]), &device),
    )
}

/// Uniform random signals in [0, 1] with the given names, seeded.
pub(crate) fn signal_set(names: &[&str], b: usize, m: usize, seed: u64) -> SignalSet {
    let device = Device::flex();
    device.seed(seed);
    SignalSet::from_signals(
        names.iter().map(|n| n.to_string()).collect(),
        names
            .iter()
            .map(|_| Tensor::random([b, m], Distribution::Uniform(0.0, 1.0), &device))
            .collect(),
    )
}
