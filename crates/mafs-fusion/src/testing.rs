//! Test fixtures: seeded devices, random encodings and simple weightings.
//!
//! burn's RNG is global to the device, and tests run in parallel threads, so a test that
//! seeds and then draws holds the [`seeded`] lock for its results to depend on its seed only.

use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use mafs_core::{Encoded, FusionWeights};
use std::sync::{Mutex, MutexGuard};

static RNG: Mutex<()> = Mutex::new(());

/// The flex device seeded with `seed`, and the guard that keeps other tests' draws out.
pub fn seeded(seed: u64) -> (MutexGuard<'static, ()>, Device) {
    let guard = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let device = Device::flex();
    device.seed(seed);
    (guard, device)
}

/// As [`seeded`], on the autodiff flex device.
pub fn seeded_autodiff(seed: u64) -> (MutexGuard<'static, ()>, Device) {
    let guard = RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let device = Device::flex().autodiff();
    device.seed(seed);
    (guard, device)
}

/// A random encoding `[batch, n, d]` with the last `n_pad[b]` positions of instance `b`
/// padded and presence `present`.
pub fn encoding(
    name: &str,
    d: usize,
    n: usize,
    n_pad: &[usize],
    present: &[bool],
    device: &Device,
) -> Encoded {
    let b = present.len();
    let tokens = Tensor::<3>::random([b, n, d], Distribution::Normal(0.0, 1.0), device);
    let pooled = Tensor::<2>::random([b, d], Distribution::Normal(0.0, 1.0), device);
    let pad: Vec<bool> = (0..b)
        .flat_map(|i| (0..n).map(move |j| j + n_pad[i] >= n))
        .collect();
    Encoded::new(
        name,
        tokens,
        Tensor::<2, Bool>::from_data(TensorData::new(pad, [b, n]), device),
        pooled,
        bools(present, device),
    )
}

/// A `[len]` bool tensor.
pub fn bools(values: &[bool], device: &Device) -> Tensor<1, Bool> {
    Tensor::<1, Bool>::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// Weights from explicit logits, masked softmax over the encodings' presence.
pub fn weights_from_logits(encoded: &[Encoded], logits: Tensor<2>) -> FusionWeights {
    let present = mafs_core::mask::presence_of(encoded);
    FusionWeights {
        weights: mafs_core::weights::masked_softmax(logits.clone(), present.clone(), 1.0),
        logits,
        present,
        signals: None,
        tau: 1.0,
    }
}

/// Uniform weights over the present modalities.
pub fn uniform(encoded: &[Encoded]) -> FusionWeights {
    let b = encoded[0].batch_size();
    let logits = Tensor::<2>::zeros([b, encoded.len()], &encoded[0].tokens.device());
    weights_from_logits(encoded, logits)
}

/// Random weights over the present modalities.
pub fn random_weights(encoded: &[Encoded]) -> FusionWeights {
    let b = encoded[0].batch_size();
    let logits = Tensor::<2>::random(
        [b, encoded.len()],
        Distribution::Normal(0.0, 1.0),
        &encoded[0].tokens.device(),
    );
    weights_from_logits(encoded, logits)
}

/// `e` with its tokens and pooled embedding replaced, for missing instances only, by `value`
/// (NaN to check that nothing leaks).
pub fn poison_missing(e: &Encoded, value: f32) -> Encoded {
    let [b, n, d] = e.dims();
    let missing = e.present.clone().bool_not();
    let tokens = e
        .tokens
        .clone()
        .mask_fill(missing.clone().reshape([b, 1, 1]).expand([b, n, d]), value);
    let pooled = e
        .pooled
        .clone()
        .mask_fill(missing.reshape([b, 1]).expand([b, d]), value);
    let mut out = e.clone();
    out.tokens = tokens;
    out.pooled = pooled;
    out
}
