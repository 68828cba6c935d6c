//! Deterministic randomness for corruptions.
//!
//! Every corruption draws from its own ChaCha stream, keyed by a stable hash of
//! (seed, instance id, corruption name, severity, salt), so the same key always gives the same
//! random stream on every platform and Rust version (no `std` hasher, whose output is not stable).
//! The samplers follow numpy's algorithms where the reference draws from numpy: Poisson uses
//! numpy's multiplication method below λ = 10 and Hörmann's PTRS above, as
//! `numpy/random/src/distributions/distributions.c` does.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The random stream every corruption draws from.
pub type CorruptRng = ChaCha8Rng;

pub use mafs_core::seed::{splitmix64, stable_hash};

/// The key a corruption's random stream is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngKey<'a> {
    /// User seed of the corruption run.
    pub seed: u64,
    /// `Instance::id`.
    pub instance: u64,
    /// Canonical corruption name, e.g. `"image:gaussian_noise"`.
    pub corruption: &'a str,
    /// Severity 1–5.
    pub severity: u8,
    /// Varies the draw between epochs in training (0 at evaluation).
    pub salt: u64,
}

impl RngKey<'_> {
    /// The 64-bit hash of this key.
    pub fn hash(&self) -> u64 {
        stable_hash(&[
            &self.seed.to_le_bytes(),
            &self.instance.to_le_bytes(),
            self.corruption.as_bytes(),
            &[self.severity],
            &self.salt.to_le_bytes(),
        ])
    }

    /// The ChaCha stream for this key.
    pub fn rng(&self) -> CorruptRng {
        rng_from_hash(self.hash())
    }
}

/// A ChaCha stream seeded with 32 bytes expanded from `h` by SplitMix64.
pub fn rng_from_hash(h: u64) -> CorruptRng {
    let mut seed = [0u8; 32];
    let mut z = h;
    for chunk in seed.chunks_mut(8) {
        z = splitmix64(z);
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    ChaCha8Rng::from_seed(seed)
}

/// A uniform draw in `[0, 1)` (53 random bits), as numpy's `random_sample`.
#[inline]
pub fn unit(rng: &mut CorruptRng) -> f64 {
    rng.random::<f64>()
}

/// A uniform draw in `[lo, hi)`, as numpy's `uniform(lo, hi)`.
#[inline]
pub fn uniform(rng: &mut CorruptRng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(rng)
}

/// A standard normal draw (Marsaglia's polar method, as numpy's legacy `gauss`).
pub fn standard_normal(rng: &mut CorruptRng) -> f64 {
    loop {
        let x1 = 2.0 * unit(rng) - 1.0;
        let x2 = 2.0 * unit(rng) - 1.0;
        let r2 = x1 * x1 + x2 * x2;
        if r2 < 1.0 && r2 != 0.0 {
            return x1 * (-2.0 * r2.ln() / r2).sqrt();
        }
    }
}

/// Fills `out` with standard normal draws, using both values of each polar pair.
pub fn fill_standard_normal(rng: &mut CorruptRng, out: &mut [f64]) {
    let mut i = 0;
    while i < out.len() {
        let x1 = 2.0 * unit(rng) - 1.0;
        let x2 = 2.0 * unit(rng) - 1.0;
        let r2 = x1 * x1 + x2 * x2;
        if r2 >= 1.0 || r2 == 0.0 {
            continue;
        }
        let f = (-2.0 * r2.ln() / r2).sqrt();
        out[i] = f * x1;
        if i + 1 < out.len() {
            out[i + 1] = f * x2;
        }
        i += 2;
    }
}

/// `ln Γ(x)` as numpy's `random_loggam` computes it (Stirling series with recurrence below 7).
pub fn loggam(x: f64) -> f64 {
    const A: [f64; 10] = [
        8.333333333333333e-02,
        -2.777777777777778e-03,
        7.936_507_936_507_937e-4,
        -5.952_380_952_380_952e-4,
        8.417_508_417_508_418e-4,
        -1.917_526_917_526_918e-3,
        6.410_256_410_256_41e-3,
        -2.955_065_359_477_124e-2,
        1.796_443_723_688_307e-1,
        -1.392_432_216_905_9,
    ];
    if x == 1.0 || x == 2.0 {
        return 0.0;
    }
    let n = if x < 7.0 { (7.0 - x) as i64 } else { 0 };
    let mut x0 = x + n as f64;
    let x2 = (1.0 / x0) * (1.0 / x0);
    let lg2pi = 1.837_877_066_409_345_3;
    let mut gl0 = A[9];
    for k in (0..9).rev() {
        gl0 *= x2;
        gl0 += A[k];
    }
    let mut gl = gl0 / x0 + 0.5 * lg2pi + (x0 - 0.5) * x0.ln() - x0;
    if x < 7.0 {
        for _ in 1..=n {
            gl -= (x0 - 1.0).ln();
            x0 -= 1.0;
        }
    }
    gl
}

/// A Poisson draw with mean `lam >= 0`, by numpy's algorithms (`random_poisson`).
pub fn poisson(rng: &mut CorruptRng, lam: f64) -> u64 {
    if lam <= 0.0 {
        return 0;
    }
    if lam >= 10.0 {
        poisson_ptrs(rng, lam)
    } else {
        poisson_mult(rng, lam)
    }
}

fn poisson_mult(rng: &mut CorruptRng, lam: f64) -> u64 {
    let enlam = (-lam).exp();
    let mut x = 0u64;
    let mut prod = 1.0;
    loop {
        prod *= unit(rng);
        if prod > enlam {
            x += 1;
        } else {
            return x;
        }
    }
}

fn poisson_ptrs(rng: &mut CorruptRng, lam: f64) -> u64 {
    let slam = lam.sqrt();
    let loglam = lam.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let invalpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = unit(rng) - 0.5;
        let v = unit(rng);
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lam + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k as u64;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if v.ln() + invalpha.ln() - (a / (us * us) + b).ln() <= -lam + k * loglam - loggam(k + 1.0)
        {
            return k as u64;
        }
    }
}

/// A uniform index in `0..n` (`n > 0`).
#[inline]
pub fn index(rng: &mut CorruptRng, n: usize) -> usize {
    rng.random_range(0..n)
}

/// `k` distinct indices of `0..n` in random order (Python's `random.sample(range(n), k)`).
pub fn sample_indices(rng: &mut CorruptRng, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let j = i + index(rng, n - i);
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(instance: u64) -> RngKey<'static> {
        RngKey {
            seed: 7,
            instance,
            corruption: "image:gaussian_noise",
            severity: 3,
            salt: 0,
        }
    }

    #[test]
    fn same_key_same_stream_and_different_keys_differ() {
        let a: Vec<u64> = (0..4).map(|_| key(1).rng().random()).collect();
        let b: Vec<u64> = (0..4).map(|_| key(1).rng().random()).collect();
        assert_eq!(a, b);
        assert_ne!(key(1).hash(), key(2).hash());
        let mut k = key(1);
        k.severity = 4;
        assert_ne!(k.hash(), key(1).hash());
        k = key(1);
        k.salt = 1;
        assert_ne!(k.hash(), key(1).hash());
    }

    #[test]
    fn loggam_matches_known_values() {
        for (x, want) in [
            (1.0, 0.0),
            (3.0, 2f64.ln()),
            (5.0, 24f64.ln()),
            (10.5, 13.940_625_219_403_763),
        ] {
            assert!(
                (loggam(x) - want).abs() < 1e-10,
                "loggam({x}) = {}",
                loggam(x)
            );
        }
    }

    #[test]
    fn poisson_mean_and_variance_match_lambda() {
        let mut rng = key(3).rng();
        for lam in [0.5, 3.0, 12.0, 60.0, 250.0] {
            let n = 40_000;
            let xs: Vec<f64> = (0..n).map(|_| poisson(&mut rng, lam) as f64).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
            assert!(
                (mean - lam).abs() < 4.0 * (lam / n as f64).sqrt() + 1e-9,
                "λ={lam} mean {mean}"
            );
            assert!((var / lam - 1.0).abs() < 0.05, "λ={lam} var {var}");
        }
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut rng = key(4).rng();
        let mut xs = vec![0.0; 50_001];
        fill_standard_normal(&mut rng, &mut xs);
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "var {var}");
        let single = standard_normal(&mut rng);
        assert!(single.is_finite());
    }

    #[test]
    fn sample_indices_are_distinct() {
        let mut rng = key(5).rng();
        let s = sample_indices(&mut rng, 10, 4);
        assert_eq!(s.len(), 4);
        let mut d = s.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), 4);
        assert_eq!(sample_indices(&mut rng, 3, 9).len(), 3);
    }
}
