//! Blur corruptions of ImageNet-C: gaussian, defocus (anti-aliased disk), motion (ImageMagick's
//! one-sided motion-blur kernel) and zoom blur.

use super::buffer::FloatImage;
use super::filters::{
    Border, border_index, filter2d, gaussian_image, np_arange, opencv_gaussian_kernel,
    separable_plane,
};
use super::profile::{ConstantSet, SizeProfile, sev_index};
use super::rng::{CorruptRng, uniform};

/// Gaussian blur sigma in pixels at the table's native size.
/// `corruptions.py` L163, `make_tinyimagenet_c.py` L277, `make_cifar_c.py` L159.
pub fn gaussian_blur_sigma(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC => [1.0, 2.0, 3.0, 4.0, 6.0],
        ConstantSet::TinyImageNetC => [0.5, 0.75, 1.0, 1.25, 1.5],
        ConstantSet::Cifar10C => [0.4, 0.6, 0.7, 0.8, 1.0],
    };
    c[sev_index(severity)]
}

/// Defocus blur `(disk radius, alias blur sigma)` in pixels at the table's native size.
/// `corruptions.py` L188, `make_tinyimagenet_c.py` L302, `make_cifar_c.py` L184.
pub fn defocus_blur_params(set: ConstantSet, severity: u8) -> (f64, f64) {
    let c = match set {
        ConstantSet::ImageNetC => [(3.0, 0.1), (4.0, 0.5), (6.0, 0.5), (8.0, 0.5), (10.0, 0.5)],
        ConstantSet::TinyImageNetC => [(0.5, 0.6), (1.0, 0.1), (1.5, 0.1), (2.5, 0.01), (3.0, 0.1)],
        ConstantSet::Cifar10C => [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1.0, 0.2), (1.5, 0.1)],
    };
    c[sev_index(severity)]
}

/// Motion blur `(radius, sigma)` in pixels at the table's native size (ImageMagick's
/// `MagickMotionBlurImage` arguments; the angle is uniform in [-45, 45] degrees).
/// `corruptions.py` L202, `make_tinyimagenet_c.py` L316, `make_cifar_c.py` L198.
pub fn motion_blur_params(set: ConstantSet, severity: u8) -> (f64, f64) {
    let c = match set {
        ConstantSet::ImageNetC => [
            (10.0, 3.0),
            (15.0, 5.0),
            (15.0, 8.0),
            (15.0, 12.0),
            (20.0, 15.0),
        ],
        ConstantSet::TinyImageNetC => [
            (10.0, 1.0),
            (10.0, 1.5),
            (10.0, 2.0),
            (10.0, 2.5),
            (12.0, 3.0),
        ],
        ConstantSet::Cifar10C => [(6.0, 1.0), (6.0, 1.5), (6.0, 2.0), (8.0, 2.0), (9.0, 2.5)],
    };
    c[sev_index(severity)]
}

/// Zoom blur factors (`np.arange(1, stop, step)`, numpy's length rule included).
/// `corruptions.py` L220–224, `make_tinyimagenet_c.py` L334–335, `make_cifar_c.py` L216–217.
pub fn zoom_blur_factors(set: ConstantSet, severity: u8) -> Vec<f64> {
    let c = match set {
        ConstantSet::ImageNetC => [
            (1.11, 0.01),
            (1.16, 0.01),
            (1.21, 0.02),
            (1.26, 0.02),
            (1.31, 0.03),
        ],
        ConstantSet::TinyImageNetC | ConstantSet::Cifar10C => [
            (1.06, 0.01),
            (1.11, 0.01),
            (1.16, 0.01),
            (1.21, 0.01),
            (1.26, 0.01),
        ],
    };
    let (stop, step) = c[sev_index(severity)];
    np_arange(1.0, stop, step)
}

/// skimage `gaussian(x, sigma, multichannel=True)`: scipy's `nearest` border, truncate 4.
pub fn gaussian_blur(img: &FloatImage, severity: u8, p: &SizeProfile) -> FloatImage {
    let sigma = gaussian_blur_sigma(p.set, severity) * p.scale;
    let mut out = gaussian_image(img, sigma, Border::Nearest);
    out.data.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    out
}

/// The reference's `disk(radius, alias_blur)`: an aliased disk on a grid of at least 17x17,
/// normalised, then blurred by OpenCV's `GaussianBlur` (3x3 for radius <= 8, else 5x5) with
/// `BORDER_REFLECT_101`. Returns `(kernel, side)`.
pub fn disk_kernel(radius: f64, alias_blur: f64) -> (Vec<f64>, usize) {
    let (l, ksize) = if radius <= 8.0 {
        (np_arange(-8.0, 9.0, 1.0), 3)
    } else {
        (np_arange(-radius, radius + 1.0, 1.0), 5)
    };
    let n = l.len();
    let mut disk = vec![0.0; n * n];
    for (yi, &y) in l.iter().enumerate() {
        for (xi, &x) in l.iter().enumerate() {
            if x * x + y * y <= radius * radius {
                disk[yi * n + xi] = 1.0;
            }
        }
    }
    let s: f64 = disk.iter().sum();
    if s > 0.0 {
        disk.iter_mut().for_each(|v| *v /= s);
    }
    if alias_blur > 0.0 {
        let g = opencv_gaussian_kernel(ksize, alias_blur);
        disk = separable_plane(&disk, n, n, &g, &g, Border::Reflect101);
    }
    // The reference's kernel is float32 (`dtype=np.float32`).
    disk.iter_mut().for_each(|v| *v = f64::from(*v as f32));
    (disk, n)
}

/// `cv2.filter2D` of each channel with [`disk_kernel`], then clip.
pub fn defocus_blur(img: &FloatImage, severity: u8, p: &SizeProfile) -> FloatImage {
    let (radius, alias) = defocus_blur_params(p.set, severity);
    let (k, n) = disk_kernel(radius * p.scale, alias * p.scale);
    let mut out = filter2d(img, &k, n, n);
    out.data.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
    out
}

/// ImageMagick's motion-blur kernel: `width = 2 * ceil(radius) + 1` taps (the
/// `GetOptimalKernelWidth1D` rule), weights `exp(-i^2 / (2 sigma^2))` for `i = 0..width`,
/// normalised, at integer offsets `(ceil(i cos a - 0.5), ceil(i sin a - 0.5))` — a one-sided
/// Gaussian streak (MagickCore `effect.c`, `MotionBlurImage` / `GetMotionBlurKernel`).
pub fn motion_kernel(radius: f64, sigma: f64, angle_deg: f64) -> Vec<(isize, isize, f64)> {
    let width = if radius > 1e-12 {
        (2.0 * radius.ceil() + 1.0) as usize
    } else {
        3
    };
    let sigma = if sigma.abs() < 1e-12 { 1e-12 } else { sigma };
    let mut k: Vec<f64> = (0..width)
        .map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    let a = angle_deg.to_radians();
    let (px, py) = (width as f64 * a.sin(), width as f64 * a.cos());
    let hyp = px.hypot(py);
    (0..width)
        .map(|i| {
            let ox = ((i as f64 * py) / hyp - 0.5).ceil() as isize;
            let oy = ((i as f64 * px) / hyp - 0.5).ceil() as isize;
            (ox, oy, k[i])
        })
        .collect()
}

/// Motion blur with a random angle in [-45, 45] degrees, computed on the 8-bit values with
/// edge virtual pixels, and brought back to 8 bits as ImageMagick 6 (Q16, the usual Wand
/// build) does: rounded to a 16-bit quantum, then truncated to 8 bits. Checked against
/// `convert -motion-blur RxS+A` of ImageMagick 6.9.11: equal on every value of the test
/// images.
pub fn motion_blur(
    img: &FloatImage,
    severity: u8,
    p: &SizeProfile,
    rng: &mut CorruptRng,
) -> FloatImage {
    let (radius, sigma) = motion_blur_params(p.set, severity);
    let angle = uniform(rng, -45.0, 45.0);
    motion_blur_at(img, radius * p.scale, sigma * p.scale, angle)
}

/// Motion blur at a given angle (deterministic core of [`motion_blur`]).
pub fn motion_blur_at(img: &FloatImage, radius: f64, sigma: f64, angle_deg: f64) -> FloatImage {
    let taps = motion_kernel(radius, sigma, angle_deg);
    let (w, h) = (img.width, img.height);
    let q: Vec<f64> = img.data.iter().map(|&v| (v * 255.0).round()).collect();
    let mut out = FloatImage::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let mut s = [0.0f64; 3];
            for &(dx, dy, kv) in &taps {
                let xi = border_index(x as isize + dx, w, Border::Nearest);
                let yi = border_index(y as isize + dy, h, Border::Nearest);
                let base = (yi * w + xi) * 3;
                for (c, sc) in s.iter_mut().enumerate() {
                    *sc += kv * q[base + c];
                }
            }
            let o = (y * w + x) * 3;
            for (c, &sc) in s.iter().enumerate() {
                // ImageMagick 6, Q16 without HDRI: the sum over 16-bit samples (257 v) is
                // rounded to a 16-bit quantum (`ClampToQuantum`), which the 8-bit PNG writer
                // truncates (`q / 257`).
                let q16 = (257.0 * sc + 0.5).floor().clamp(0.0, 65535.0);
                out.data[o + c] = (q16 / 257.0).floor() / 255.0;
            }
        }
    }
    out
}

/// Sampling positions of the reference's `clipped_zoom` along one axis of length `n`: the
/// centre crop of `ceil(n / z)` pixels is zoomed by scipy (`order=1`, output length
/// `round(ch * z)`, coordinate `j * (ch - 1) / (out - 1)`), then the centre `n` are kept.
/// Returns, per output pixel, the source coordinate in the uncropped axis.
pub fn clipped_zoom_coords(n: usize, z: f64) -> Vec<f64> {
    let ch = (n as f64 / z).ceil() as usize;
    let top = (n - ch.min(n)) / 2;
    let out_len = (ch as f64 * z).round_ties_even() as usize;
    let trim = out_len.saturating_sub(n) / 2;
    let step = if out_len > 1 {
        (ch as f64 - 1.0) / (out_len as f64 - 1.0)
    } else {
        1.0
    };
    (0..n)
        .map(|j| top as f64 + (j + trim) as f64 * step)
        .collect()
}

/// `(x + sum_z clipped_zoom(x, z)) / (len(z) + 1)`, then clip.
pub fn zoom_blur(img: &FloatImage, severity: u8, p: &SizeProfile) -> FloatImage {
    // The reference works in float32 here (`(np.array(x) / 255.).astype(np.float32)`): scipy
    // interpolates in double and stores float32, the sums and the division are float32.
    let factors = zoom_blur_factors(p.set, severity);
    let (w, h) = (img.width, img.height);
    let x32: Vec<f32> = img.data.iter().map(|&v| v as f32).collect();
    let mut out = vec![0.0f32; x32.len()];
    for &z in &factors {
        let ys = clipped_zoom_coords(h, z);
        let xs = clipped_zoom_coords(w, z);
        for (y, &sy) in ys.iter().enumerate() {
            let y0 = sy.floor();
            let fy = sy - y0;
            let ya = border_index(y0 as isize, h, Border::Nearest);
            let yb = border_index(y0 as isize + 1, h, Border::Nearest);
            for (x, &sx) in xs.iter().enumerate() {
                let x0 = sx.floor();
                let fx = sx - x0;
                let xa = border_index(x0 as isize, w, Border::Nearest);
                let xb = border_index(x0 as isize + 1, w, Border::Nearest);
                for c in 0..3 {
                    let v = |xx: usize, yy: usize| f64::from(x32[(yy * w + xx) * 3 + c]);
                    let top = v(xa, ya) * (1.0 - fx) + v(xb, ya) * fx;
                    let bot = v(xa, yb) * (1.0 - fx) + v(xb, yb) * fx;
                    out[(y * w + x) * 3 + c] += (top * (1.0 - fy) + bot * fy) as f32;
                }
            }
        }
    }
    let n = factors.len() as f32 + 1.0;
    let data = x32
        .iter()
        .zip(&out)
        .map(|(&x, &o)| f64::from(((x + o) / n).clamp(0.0, 1.0)))
        .collect();
    FloatImage {
        width: w,
        height: h,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_kernel_sums_to_one_and_small_radius_is_centre() {
        let (k, n) = disk_kernel(3.0, 0.1);
        assert_eq!(n, 17);
        // The kernel is rounded to float32 as the reference's is, so it sums to one within
        // float32 round-off (289 taps, each within 6e-8 relative).
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        let (k, n) = disk_kernel(0.5, 0.0);
        assert_eq!(k[(n / 2) * n + n / 2], 1.0);
        let (_, n) = disk_kernel(10.0, 0.5);
        assert_eq!(n, 21);
    }

    #[test]
    fn motion_kernel_is_one_sided_along_the_angle() {
        let taps = motion_kernel(10.0, 3.0, 0.0);
        assert_eq!(taps.len(), 21);
        assert!(taps.iter().all(|&(dx, dy, _)| dy == 0 && dx >= 0));
        assert_eq!(taps[5].0, 5);
        let diag = motion_kernel(4.0, 2.0, 45.0);
        assert!(diag.iter().all(|&(dx, dy, _)| dx == dy));
        assert!((taps.iter().map(|t| t.2).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn clipped_zoom_identity_at_one() {
        let c = clipped_zoom_coords(64, 1.0);
        assert!(
            c.iter()
                .enumerate()
                .all(|(i, &v)| (v - i as f64).abs() < 1e-12)
        );
        let c = clipped_zoom_coords(64, 1.25);
        assert!(
            c[0] > 0.0 && c[63] < 63.0,
            "zoom samples the centre: {} {}",
            c[0],
            c[63]
        );
    }
}
