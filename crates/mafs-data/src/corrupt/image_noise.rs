//! Noise corruptions of ImageNet-C: gaussian, shot (Poisson), impulse (salt and pepper) and
//! speckle noise, each drawn independently per pixel and channel, as the reference draws with
//! `size=x.shape`.

use super::buffer::FloatImage;
use super::profile::{ConstantSet, SizeProfile, sev_index};
use super::rng::{CorruptRng, fill_standard_normal, poisson, unit};

/// Gaussian noise sigma (in `[0, 1]` units).
/// `corruptions.py` L123, `make_tinyimagenet_c.py` L249, `make_cifar_c.py` L131.
pub fn gaussian_noise_sigma(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC => [0.08, 0.12, 0.18, 0.26, 0.38],
        ConstantSet::TinyImageNetC => [0.04, 0.08, 0.12, 0.15, 0.18],
        ConstantSet::Cifar10C => [0.04, 0.06, 0.08, 0.09, 0.10],
    };
    c[sev_index(severity)]
}

/// Shot noise photon count scale `c` (`poisson(x * c) / c`).
/// `corruptions.py` L130, `make_tinyimagenet_c.py` L256, `make_cifar_c.py` L138.
pub fn shot_noise_scale(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC => [60.0, 25.0, 12.0, 5.0, 3.0],
        ConstantSet::TinyImageNetC => [250.0, 100.0, 50.0, 30.0, 15.0],
        ConstantSet::Cifar10C => [500.0, 250.0, 100.0, 75.0, 50.0],
    };
    c[sev_index(severity)]
}

/// Impulse noise amount (share of values replaced by 0 or 1).
/// `corruptions.py` L137, `make_tinyimagenet_c.py` L263, `make_cifar_c.py` L145.
pub fn impulse_noise_amount(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC => [0.03, 0.06, 0.09, 0.17, 0.27],
        ConstantSet::TinyImageNetC => [0.01, 0.02, 0.05, 0.08, 0.14],
        ConstantSet::Cifar10C => [0.01, 0.02, 0.03, 0.05, 0.07],
    };
    c[sev_index(severity)]
}

/// Speckle noise sigma (`x + x * N(0, c)`).
/// `corruptions.py` L144, `make_tinyimagenet_c.py` L270, `make_cifar_c.py` L152.
pub fn speckle_noise_sigma(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC => [0.15, 0.2, 0.35, 0.45, 0.6],
        ConstantSet::TinyImageNetC => [0.15, 0.2, 0.25, 0.3, 0.35],
        ConstantSet::Cifar10C => [0.06, 0.1, 0.12, 0.16, 0.2],
    };
    c[sev_index(severity)]
}

/// `np.clip(x + np.random.normal(size=x.shape, scale=c), 0, 1)`.
pub fn gaussian_noise(
    img: &FloatImage,
    severity: u8,
    p: &SizeProfile,
    rng: &mut CorruptRng,
) -> FloatImage {
    let c = gaussian_noise_sigma(p.set, severity);
    let mut z = vec![0.0; img.data.len()];
    fill_standard_normal(rng, &mut z);
    let data = img
        .data
        .iter()
        .zip(&z)
        .map(|(&x, &n)| (x + c * n).clamp(0.0, 1.0))
        .collect();
    FloatImage {
        data,
        width: img.width,
        height: img.height,
    }
}

/// `np.clip(np.random.poisson(x * c) / c, 0, 1)`.
pub fn shot_noise(
    img: &FloatImage,
    severity: u8,
    p: &SizeProfile,
    rng: &mut CorruptRng,
) -> FloatImage {
    let c = shot_noise_scale(p.set, severity);
    let data = img
        .data
        .iter()
        .map(|&x| (poisson(rng, x * c) as f64 / c).clamp(0.0, 1.0))
        .collect();
    FloatImage {
        data,
        width: img.width,
        height: img.height,
    }
}

/// skimage `random_noise(x, mode='s&p', amount=c)` (salt_vs_pepper 0.5): each value is
/// flipped with probability `c`, and a flipped value becomes 1 (salt) or 0 (pepper) with
/// equal probability.
pub fn impulse_noise(
    img: &FloatImage,
    severity: u8,
    p: &SizeProfile,
    rng: &mut CorruptRng,
) -> FloatImage {
    let amount = impulse_noise_amount(p.set, severity);
    let data = img
        .data
        .iter()
        .map(|&x| {
            let flipped = unit(rng) < amount;
            let salted = unit(rng) < 0.5;
            match (flipped, salted) {
                (true, true) => 1.0,
                (true, false) => 0.0,
                _ => x,
            }
        })
        .collect();
    FloatImage {
        data,
        width: img.width,
        height: img.height,
    }
}

/// `np.clip(x + x * np.random.normal(size=x.shape, scale=c), 0, 1)`.
pub fn speckle_noise(
    img: &FloatImage,
    severity: u8,
    p: &SizeProfile,
    rng: &mut CorruptRng,
) -> FloatImage {
    let c = speckle_noise_sigma(p.set, severity);
    let mut z = vec![0.0; img.data.len()];
    fill_standard_normal(rng, &mut z);
    let data = img
        .data
        .iter()
        .zip(&z)
        .map(|(&x, &n)| (x + x * c * n).clamp(0.0, 1.0))
        .collect();
    FloatImage {
        data,
        width: img.width,
        height: img.height,
    }
}
