//! Elastic transform of ImageNet-C: a random affine warp (OpenCV `warpAffine`,
//! `BORDER_REFLECT_101`) followed by a smoothed random displacement field (scipy
//! `map_coordinates`, `order=1`, `mode='reflect'`), after Simard et al. as the reference's
//! gist does.

use super::buffer::FloatImage;
use super::filters::{Border, bilinear, planes, scipy_gaussian_kernel, separable_plane};
use super::profile::{ConstantSet, SizeProfile, sev_index};
use super::rng::{CorruptRng, uniform};

/// Elastic `(alpha, sigma, affine)` in pixels at the table's native size: displacement scale,
/// smoothing sigma of the displacement field, and the range of the affine corner jitter.
/// `corruptions.py` L396–400 (`244 * k`, "244 should have been 224"),
/// `make_tinyimagenet_c.py` L503–507 (`64 * k`), `make_cifar_c.py` L385–389 (`32 * k`).
pub fn elastic_params(set: ConstantSet, severity: u8) -> (f64, f64, f64) {
    let (size, c) = match set {
        ConstantSet::ImageNetC => (
            244.0,
            [
                (2.0, 0.7, 0.1),
                (2.0, 0.08, 0.2),
                (0.05, 0.01, 0.02),
                (0.07, 0.01, 0.02),
                (0.12, 0.01, 0.02),
            ],
        ),
        ConstantSet::TinyImageNetC => (
            64.0,
            [
                (0.0, 0.0, 0.08),
                (0.05, 0.3, 0.06),
                (0.1, 0.08, 0.06),
                (0.1, 0.03, 0.03),
                (0.16, 0.03, 0.02),
            ],
        ),
        ConstantSet::Cifar10C => (
            32.0,
            [
                (0.0, 0.0, 0.08),
                (0.05, 0.2, 0.07),
                (0.08, 0.06, 0.06),
                (0.1, 0.04, 0.05),
                (0.1, 0.03, 0.03),
            ],
        ),
    };
    let (a, s, f) = c[sev_index(severity)];
    (size * a, size * s, size * f)
}

/// OpenCV `getAffineTransform`: the 2x3 matrix mapping the three `src` points onto `dst`.
pub fn affine_from_points(src: [[f64; 2]; 3], dst: [[f64; 2]; 3]) -> [[f64; 3]; 2] {
    // Solve [x y 1] m = u for each output coordinate by Cramer's rule.
    let det3 = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let a = [
        [src[0][0], src[0][1], 1.0],
        [src[1][0], src[1][1], 1.0],
        [src[2][0], src[2][1], 1.0],
    ];
    let d = det3(a);
    let mut out = [[0.0; 3]; 2];
    for r in 0..2 {
        let u = [dst[0][r], dst[1][r], dst[2][r]];
        for col in 0..3 {
            let mut m = a;
            for row in 0..3 {
                m[row][col] = u[row];
            }
            out[r][col] = det3(m) / d;
        }
    }
    out
}

/// Inverse of a 2x3 affine map (OpenCV `invertAffineTransform`).
pub fn invert_affine(m: [[f64; 3]; 2]) -> [[f64; 3]; 2] {
    let d = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let d = if d != 0.0 { 1.0 / d } else { 0.0 };
    let a11 = m[1][1] * d;
    let a22 = m[0][0] * d;
    let a12 = -m[0][1] * d;
    let a21 = -m[1][0] * d;
    let b1 = -a11 * m[0][2] - a12 * m[1][2];
    let b2 = -a21 * m[0][2] - a22 * m[1][2];
    [[a11, a12, b1], [a21, a22, b2]]
}

/// `cv2.warpAffine(image, M, (w, h), borderMode=BORDER_REFLECT_101)` with bilinear
/// interpolation at OpenCV's 1/32-pixel coordinate precision (`INTER_BITS = 5`).
pub fn warp_affine(img: &FloatImage, m: [[f64; 3]; 2]) -> FloatImage {
    let inv = invert_affine(m);
    let (w, h) = (img.width, img.height);
    let p = planes(img);
    let mut out = FloatImage::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f64, y as f64);
            let sx = ((inv[0][0] * xf + inv[0][1] * yf + inv[0][2]) * 32.0).round() / 32.0;
            let sy = ((inv[1][0] * xf + inv[1][1] * yf + inv[1][2]) * 32.0).round() / 32.0;
            for (c, pc) in p.iter().enumerate() {
                out.data[(y * w + x) * 3 + c] = bilinear(pc, w, h, sx, sy, Border::Reflect101);
            }
        }
    }
    out
}

/// The elastic transform at a severity, drawing the affine jitter (3x2 values) then the two
/// displacement fields (`h x w` each) from `rng`, in the reference's order.
pub fn elastic_transform(
    img: &FloatImage,
    severity: u8,
    p: &SizeProfile,
    rng: &mut CorruptRng,
) -> FloatImage {
    let (alpha, sigma, affine) = elastic_params(p.set, severity);
    let (alpha, sigma, affine) = (alpha * p.scale, sigma * p.scale, affine * p.scale);
    let (w, h) = (img.width, img.height);

    // Random affine: center_square = float32(shape[:2]) // 2, square_size = min(shape[:2]) // 3.
    let cs = [(h / 2) as f64, (w / 2) as f64];
    let sq = (h.min(w) / 3) as f64;
    let pts1 = [
        [cs[0] + sq, cs[1] + sq],
        [cs[0] + sq, cs[1] - sq],
        [cs[0] - sq, cs[1] - sq],
    ];
    let mut pts2 = pts1;
    for pt in pts2.iter_mut() {
        for v in pt.iter_mut() {
            *v += uniform(rng, -affine, affine);
        }
    }
    let warped = warp_affine(img, affine_from_points(pts1, pts2));

    let (dx, dy) = displacement_fields(w, h, alpha, sigma, rng);

    let src = planes(&warped);
    let mut out = FloatImage::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let (sx, sy) = (x as f64 + dx[i], y as f64 + dy[i]);
            for (c, sc) in src.iter().enumerate() {
                out.data[i * 3 + c] = bilinear(sc, w, h, sx, sy, Border::Reflect).clamp(0.0, 1.0);
            }
        }
    }
    out
}

/// The displacement fields `dx, dy = gaussian(uniform(-1, 1, (h, w)), sigma, mode='reflect',
/// truncate=3) * alpha`, row-major, drawn in that order.
pub fn displacement_fields(
    w: usize,
    h: usize,
    alpha: f64,
    sigma: f64,
    rng: &mut CorruptRng,
) -> (Vec<f64>, Vec<f64>) {
    let k = scipy_gaussian_kernel(sigma, 3.0);
    let mut field = || {
        let noise: Vec<f64> = (0..w * h).map(|_| uniform(rng, -1.0, 1.0)).collect();
        let smooth = separable_plane(&noise, w, h, &k, &k, Border::Reflect);
        smooth.into_iter().map(|v| v * alpha).collect::<Vec<f64>>()
    };
    let dx = field();
    let dy = field();
    (dx, dy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_maps_points_and_inverts() {
        let src = [[10.0, 10.0], [40.0, 10.0], [10.0, 40.0]];
        let dst = [[12.0, 9.0], [41.0, 13.0], [8.0, 42.0]];
        let m = affine_from_points(src, dst);
        for (s, d) in src.iter().zip(&dst) {
            let u = m[0][0] * s[0] + m[0][1] * s[1] + m[0][2];
            let v = m[1][0] * s[0] + m[1][1] * s[1] + m[1][2];
            assert!((u - d[0]).abs() < 1e-9 && (v - d[1]).abs() < 1e-9);
        }
        let inv = invert_affine(m);
        let u = inv[0][0] * 12.0 + inv[0][1] * 9.0 + inv[0][2];
        let v = inv[1][0] * 12.0 + inv[1][1] * 9.0 + inv[1][2];
        assert!((u - 10.0).abs() < 1e-9 && (v - 10.0).abs() < 1e-9);
    }

    #[test]
    fn identity_affine_keeps_image() {
        let mut img = FloatImage::zeros(8, 8);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = (i % 7) as f64 / 7.0;
        }
        let out = warp_affine(&img, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);
        assert!(
            out.data
                .iter()
                .zip(&img.data)
                .all(|(a, b)| (a - b).abs() < 1e-6)
        );
    }
}
