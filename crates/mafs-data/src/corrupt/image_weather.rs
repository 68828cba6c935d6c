//! Weather corruption of ImageNet-C: fog, a diamond-square plasma fractal added to the image.

use super::buffer::FloatImage;
use super::profile::{ConstantSet, SizeProfile, sev_index};
use super::rng::{CorruptRng, uniform};

/// Fog `(strength, wibbledecay)`.
/// `corruptions.py` L236, `make_tinyimagenet_c.py` L347, `make_cifar_c.py` L229.
pub fn fog_params(set: ConstantSet, severity: u8) -> (f64, f64) {
    let c = match set {
        ConstantSet::ImageNetC => [(1.5, 2.0), (2.0, 2.0), (2.5, 1.7), (2.5, 1.5), (3.0, 1.4)],
        ConstantSet::TinyImageNetC => [(0.4, 3.0), (0.7, 3.0), (1.0, 2.5), (1.5, 2.0), (2.0, 1.75)],
        ConstantSet::Cifar10C => [(0.2, 3.0), (0.5, 3.0), (0.75, 2.5), (1.0, 2.0), (1.5, 1.75)],
    };
    c[sev_index(severity)]
}

/// The reference's `plasma_fractal(mapsize, wibbledecay)` (a modification of FLHerne's
/// `diamondsquare.py`): a `mapsize x mapsize` height map in `[0, 1]`, row-major.
///
/// # Panics
/// Panics if `mapsize` is not a power of two (the reference asserts the same).
pub fn plasma_fractal(mapsize: usize, wibbledecay: f64, rng: &mut CorruptRng) -> Vec<f64> {
    assert!(
        mapsize.is_power_of_two(),
        "plasma_fractal mapsize must be a power of two, got {mapsize}"
    );
    let n = mapsize;
    let mut map = vec![0.0f64; n * n];
    let mut step = n;
    let mut wibble = 100.0f64;
    // wibbledmean(array) = array / 4 + wibble * uniform(-wibble, wibble, array.shape)
    let wibbled = |sum: f64, wibble: f64, rng: &mut CorruptRng| {
        sum / 4.0 + wibble * uniform(rng, -wibble, wibble)
    };
    while step >= 2 {
        let half = step / 2;
        let m = n / step; // grid cells per side at this step
        // fillsquares: corners at multiples of step; centre = mean of the 4 corners (with wrap).
        let corner =
            |map: &Vec<f64>, i: usize, j: usize| map[((i % m) * step) * n + (j % m) * step];
        let mut centres = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                // cornerref + roll(cornerref, -1, axis=0), then + roll(that, -1, axis=1)
                let s = corner(&map, i, j)
                    + corner(&map, i + 1, j)
                    + corner(&map, i, j + 1)
                    + corner(&map, i + 1, j + 1);
                centres[i * m + j] = s;
            }
        }
        for i in 0..m {
            for j in 0..m {
                map[(i * step + half) * n + j * step + half] =
                    wibbled(centres[i * m + j], wibble, rng);
            }
        }
        // filldiamonds.
        let dr = |map: &Vec<f64>, i: usize, j: usize| {
            map[((i % m) * step + half) * n + (j % m) * step + half]
        };
        let ul = |map: &Vec<f64>, i: usize, j: usize| map[((i % m) * step) * n + (j % m) * step];
        // ltsum = drgrid + roll(drgrid, 1, axis=0) + ulgrid + roll(ulgrid, -1, axis=1),
        // written to maparray[0::step, half::step].
        let mut lt = vec![0.0; m * m];
        let mut tt = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                lt[i * m + j] =
                    dr(&map, i, j) + dr(&map, i + m - 1, j) + ul(&map, i, j) + ul(&map, i, j + 1);
                // ttsum = drgrid + roll(drgrid, 1, axis=1) + ulgrid + roll(ulgrid, -1, axis=0),
                // written to maparray[half::step, 0::step].
                tt[i * m + j] =
                    dr(&map, i, j) + dr(&map, i, j + m - 1) + ul(&map, i, j) + ul(&map, i + 1, j);
            }
        }
        for i in 0..m {
            for j in 0..m {
                map[(i * step) * n + j * step + half] = wibbled(lt[i * m + j], wibble, rng);
            }
        }
        for i in 0..m {
            for j in 0..m {
                map[(i * step + half) * n + j * step] = wibbled(tt[i * m + j], wibble, rng);
            }
        }
        step /= 2;
        wibble /= wibbledecay;
    }
    let min = map.iter().copied().fold(f64::INFINITY, f64::min);
    map.iter_mut().for_each(|v| *v -= min);
    let max = map.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max > 0.0 {
        map.iter_mut().for_each(|v| *v /= max);
    }
    map
}

/// `x += c0 * plasma[:h, :w]; clip(x * max_val / (max_val + c0), 0, 1)` with `max_val` the
/// clean image's maximum.
pub fn fog(img: &FloatImage, severity: u8, p: &SizeProfile, rng: &mut CorruptRng) -> FloatImage {
    let (c0, decay) = fog_params(p.set, severity);
    let n = p
        .fog_mapsize()
        .max(img.width.max(img.height).next_power_of_two());
    let plasma = plasma_fractal(n, decay, rng);
    let max_val = img.max_value();
    let mut out = img.clone();
    for y in 0..img.height {
        for x in 0..img.width {
            let f = c0 * plasma[y * n + x];
            for c in 0..3 {
                let i = out.idx(x, y, c);
                let v = out.data[i] + f;
                out.data[i] = (v * max_val / (max_val + c0)).clamp(0.0, 1.0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corrupt::rng::rng_from_hash;

    #[test]
    fn plasma_is_normalised_and_smooth() {
        let mut rng = rng_from_hash(1);
        let m = plasma_fractal(64, 3.0, &mut rng);
        assert_eq!(m.len(), 64 * 64);
        let min = m.iter().copied().fold(f64::INFINITY, f64::min);
        let max = m.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(min.abs() < 1e-12 && (max - 1.0).abs() < 1e-12);
        // Neighbouring values are much closer than random pairs: it is a fractal, not noise.
        let neigh: f64 = (0..63).map(|x| (m[x] - m[x + 1]).abs()).sum::<f64>() / 63.0;
        let far: f64 = (0..63)
            .map(|x| (m[x] - m[(x * 37 % 64) * 64 + 63 - x]).abs())
            .sum::<f64>()
            / 63.0;
        assert!(neigh < far, "neighbour diff {neigh} vs far diff {far}");
    }
}
