//! The seeded draws of training: every random choice is a function of the run seed and a
//! position (epoch, step, instance), through the workspace's one SplitMix64
//! ([`mafs_core::seed`]), so a resumed run repeats what the uninterrupted run would have done.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

pub use mafs_core::seed::mix;

/// The training order of an epoch: a permutation of the items, cut into full batches.
pub fn epoch_batches(n: usize, batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(mix(
        seed,
        0xE90C_u64.wrapping_add(epoch as u64),
    )));
    idx.chunks_exact(batch_size).map(|c| c.to_vec()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_is_a_permutation_cut_into_full_batches() {
        let b = epoch_batches(10, 3, 5, 0);
        assert_eq!(b.len(), 3);
        let mut all: Vec<usize> = b.concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 9, "the last partial batch is dropped");
        assert_eq!(
            epoch_batches(10, 3, 5, 0),
            b,
            "same seed and epoch, same order"
        );
        assert_ne!(
            epoch_batches(10, 3, 5, 1),
            b,
            "each epoch draws its own order"
        );
    }
}
