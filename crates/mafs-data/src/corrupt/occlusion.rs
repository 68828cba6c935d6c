//! Occlusion: random rectangles, each filled with a random colour or with uniform noise, until
//! they cover a share of the image that grows with severity (10, 20, 30, 40, 50 %). Not part of
//! ImageNet-C; it models objects in front of the camera and cut-out style erasing (Zhong et al.,
//! Random Erasing; DeVries and Taylor, Cutout) with a coverage target instead of a count.

use super::buffer::FloatImage;
use super::profile::sev_index;
use super::rng::{CorruptRng, index, uniform, unit};

/// Share of the image's pixels covered at each severity.
pub const OCCLUSION_SHARE: [f64; 5] = [0.1, 0.2, 0.3, 0.4, 0.5];

/// Rectangle sides are drawn uniformly in this share of the image side.
const SIDE_RANGE: (f64, f64) = (0.15, 0.5);

/// The covered share at `severity`.
pub fn occlusion_share(severity: u8) -> f64 {
    OCCLUSION_SHARE[sev_index(severity)]
}

/// Occludes `img`: rectangles of random size and position are added until the covered share
/// reaches the target; the last one is cut down row by row so that the share overshoots by
/// less than one rectangle row. Each rectangle is a random flat colour or per-pixel uniform
/// noise, with equal probability. Returns the image and the coverage mask (row-major).
pub fn occlude(img: &FloatImage, severity: u8, rng: &mut CorruptRng) -> (FloatImage, Vec<bool>) {
    let (w, h) = (img.width, img.height);
    let target = (occlusion_share(severity) * (w * h) as f64).round() as usize;
    let mut mask = vec![false; w * h];
    let mut covered = 0usize;
    let mut out = img.clone();
    let mut guard = 0;
    while covered < target && guard < 10_000 {
        guard += 1;
        let rw =
            ((uniform(rng, SIDE_RANGE.0, SIDE_RANGE.1) * w as f64).round() as usize).clamp(1, w);
        let rh =
            ((uniform(rng, SIDE_RANGE.0, SIDE_RANGE.1) * h as f64).round() as usize).clamp(1, h);
        let x0 = index(rng, w - rw + 1);
        let y0 = index(rng, h - rh + 1);
        let noise = unit(rng) < 0.5;
        let colour = [unit(rng), unit(rng), unit(rng)];
        for y in y0..y0 + rh {
            if covered >= target {
                break;
            }
            for x in x0..x0 + rw {
                let i = y * w + x;
                if !mask[i] {
                    mask[i] = true;
                    covered += 1;
                }
                for (c, &col) in colour.iter().enumerate() {
                    out.data[i * 3 + c] = if noise { unit(rng) } else { col };
                }
            }
        }
    }
    (out, mask)
}
