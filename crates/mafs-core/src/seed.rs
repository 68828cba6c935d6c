//! The workspace's one seeded mixing of 64-bit values: SplitMix64 (Steele, Lea and Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014; the constants of
//! Vigna's `splitmix64.c`). Every seed derivation of mafs goes through these functions, so a
//! draw is reproducible from the seed and the position alone, on every platform (no `std`
//! hasher, whose output is not stable).
//!
//! - [`splitmix64`]: one output of SplitMix64 for the state `z` (finaliser of `z + gamma`):
//!   per-pixel noise of the world renderer, ChaCha seed expansion of the corruptions;
//! - [`mix`]: a seed mixed with a position (finaliser of `seed ^ a * gamma`): per-epoch and
//!   per-step draws of training, held-out splits of real datasets;
//! - [`stable_hash`]: FNV-1a over byte strings, then [`splitmix64`]: the corruption keys.

/// SplitMix64's increment, the golden-ratio constant `2^64 / phi`.
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// SplitMix64's output function (David Stafford's "Mix13"): spreads the bits of `z`.
#[inline]
pub fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The SplitMix64 output that follows state `z` (`z + gamma`, finalised).
#[inline]
pub fn splitmix64(z: u64) -> u64 {
    finalize(z.wrapping_add(GOLDEN_GAMMA))
}

/// A seed mixed with a position `a` (`seed ^ a * gamma`, finalised), for independent
/// per-epoch, per-step or per-instance draws from one seed.
#[inline]
pub fn mix(seed: u64, a: u64) -> u64 {
    finalize(seed ^ a.wrapping_mul(GOLDEN_GAMMA))
}

/// Stable 64-bit hash of byte strings (FNV-1a over each part, its length first, then
/// [`splitmix64`]).
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET;
    for part in parts {
        for &b in (part.len() as u64).to_le_bytes().iter().chain(part.iter()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    splitmix64(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values pinned before the three copies (mafs-train's `mix`, mafs-data's `source::mix`,
    /// `corrupt::rng::splitmix64`, `world::render::mix64`) became these functions: every run,
    /// world and corruption drawn before the move draws the same after it.
    #[test]
    fn outputs_are_pinned() {
        // Vigna's splitmix64.c seeded with 0: the first outputs.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(GOLDEN_GAMMA), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(splitmix64(1), 0x910A_2DEC_8902_5CC1);
        assert_eq!(splitmix64(12345), 0x2211_8258_A9D1_11A0);
        assert_eq!(splitmix64(1 << 63), 0x481E_C0A2_12A9_F3DB);
        assert_eq!(mix(0, 1), 0xE220_A839_7B1D_CDAF);
        assert_eq!(mix(42, 0xE90F), 0x85C3_63C4_0DE0_E3D3);
        assert_eq!(mix(0x10, 0x7B), 0xB703_4E3E_C7D6_C56E);
        assert_eq!(mix(u64::MAX, u64::MAX), 0xE4D9_7177_1B65_2C20);
        let parts: [&[u8]; 4] = [b"seed", &5u64.to_le_bytes(), b"image:fog", &[3]];
        assert_eq!(stable_hash(&parts), 0x6FB3_93E0_20D0_2507);
    }

    #[test]
    fn mix_separates_positions_and_seeds() {
        let a: std::collections::HashSet<u64> = (0..1000).map(|i| mix(7, i)).collect();
        assert_eq!(a.len(), 1000);
        assert_ne!(mix(1, 5), mix(2, 5));
        assert_eq!(
            mix(0, 0),
            0,
            "finalize(0) is 0: callers offset their positions"
        );
    }
}
