//! Test helper: burn's RNG is global to the device, and tests run in parallel threads, so a
//! test that seeds and then draws must hold this lock for its results to depend on its seed
//! only (same seed, same numbers).

use std::sync::{Mutex, MutexGuard};

use burn::tensor::Device;

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
