//! The filtering primitives the reference's libraries provide: border extension as scipy and
//! OpenCV define it, scipy's `gaussian_filter` (separable, `truncate` rule), OpenCV's
//! `filter2D` and `GaussianBlur` kernel, linear interpolation, and numpy's `arange`.

use super::buffer::FloatImage;

/// How an index outside `0..n` is mapped back inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Border {
    /// Repeat the edge value: `aaaa|abcd|dddd` (scipy `nearest`, OpenCV `BORDER_REPLICATE`,
    /// ImageMagick's edge virtual pixels).
    Nearest,
    /// Half-sample symmetric: `dcba|abcd|dcba` (scipy `reflect`).
    Reflect,
    /// Whole-sample symmetric: `dcb|abcd|cba` (OpenCV `BORDER_REFLECT_101`, scipy `mirror`).
    Reflect101,
}

/// Maps index `i` into `0..n` under `border` (any distance outside, by repeated reflection).
pub fn border_index(i: isize, n: usize, border: Border) -> usize {
    let n_i = n as isize;
    if (0..n_i).contains(&i) {
        return i as usize;
    }
    if n == 1 {
        return 0;
    }
    match border {
        Border::Nearest => i.clamp(0, n_i - 1) as usize,
        Border::Reflect => {
            let period = 2 * n_i;
            let m = i.rem_euclid(period);
            (if m < n_i { m } else { period - 1 - m }) as usize
        }
        Border::Reflect101 => {
            let period = 2 * n_i - 2;
            let m = i.rem_euclid(period);
            (if m < n_i { m } else { period - m }) as usize
        }
    }
}

/// numpy's pairwise summation of a contiguous `float64` array (`np.sum`): sequential below 8
/// values, eight interleaved accumulators up to 128, halves above.
pub fn np_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        np_sum(&a[..n2]) + np_sum(&a[n2..])
    }
}

/// scipy's `_gaussian_kernel1d(sigma, 0, radius)` with `radius = int(truncate * sigma + 0.5)`:
/// `exp(-0.5 / sigma^2 * x^2)` for `x` in `-radius..=radius`, divided by its numpy sum. A sigma
/// at or below 1e-15 gives the identity kernel `[1]`, as scipy skips such axes.
pub fn scipy_gaussian_kernel(sigma: f64, truncate: f64) -> Vec<f64> {
    if sigma <= 1e-15 {
        return vec![1.0];
    }
    let radius = (truncate * sigma + 0.5) as isize;
    let f = -0.5 / (sigma * sigma);
    let phi: Vec<f64> = (-radius..=radius)
        .map(|x| (f * (x * x) as f64).exp())
        .collect();
    let s = np_sum(&phi);
    phi.iter().map(|v| v / s).collect()
}

/// OpenCV's `getGaussianKernel(ksize, sigma)` for `sigma > 0`: normalised
/// `exp(-(i - (ksize-1)/2)^2 / (2 sigma^2))`.
pub fn opencv_gaussian_kernel(ksize: usize, sigma: f64) -> Vec<f64> {
    let c = (ksize as f64 - 1.0) / 2.0;
    let mut k: Vec<f64> = (0..ksize)
        .map(|i| {
            let x = i as f64 - c;
            (-(x * x) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let s: f64 = k.iter().sum();
    if s > 0.0 {
        k.iter_mut().for_each(|v| *v /= s);
    }
    k
}

/// scipy's `correlate1d` of one line (already extended by `r` values each side) with an
/// odd-length kernel: for a symmetric kernel `in[c] w[r]` plus `(in[c - j] + in[c + j]) w[r - j]`
/// from the outermost pair in, as `NI_Correlate1D` sums; otherwise the plain sum.
fn correlate_line(ext: &[f64], k: &[f64], out: &mut [f64]) {
    let r = k.len() / 2;
    let symmetric = (1..=r).all(|j| k[r - j] == k[r + j]);
    for (i, o) in out.iter_mut().enumerate() {
        let c = i + r;
        if symmetric {
            let mut s = ext[c] * k[r];
            for j in (1..=r).rev() {
                s += (ext[c - j] + ext[c + j]) * k[r - j];
            }
            *o = s;
        } else {
            let mut s = 0.0;
            for (j, &kv) in k.iter().enumerate() {
                s += ext[i + j] * kv;
            }
            *o = s;
        }
    }
}

/// Filters one plane (`h` rows of `w` values) with an odd-length kernel along y, then along x,
/// as scipy's `gaussian_filter` does (axis 0 first), each line extended by `border`.
pub fn separable_plane(
    plane: &[f64],
    w: usize,
    h: usize,
    kx: &[f64],
    ky: &[f64],
    border: Border,
) -> Vec<f64> {
    let mut tmp = vec![0.0; w * h];
    let ry = ky.len() / 2;
    let mut ext = vec![0.0; h + 2 * ry];
    let mut col = vec![0.0; h];
    for x in 0..w {
        for (i, e) in ext.iter_mut().enumerate() {
            *e = plane[border_index(i as isize - ry as isize, h, border) * w + x];
        }
        correlate_line(&ext, ky, &mut col);
        for y in 0..h {
            tmp[y * w + x] = col[y];
        }
    }
    let mut out = vec![0.0; w * h];
    let rx = kx.len() / 2;
    let mut ext = vec![0.0; w + 2 * rx];
    for y in 0..h {
        let row = &tmp[y * w..(y + 1) * w];
        for (i, e) in ext.iter_mut().enumerate() {
            *e = row[border_index(i as isize - rx as isize, w, border)];
        }
        correlate_line(&ext, kx, &mut out[y * w..(y + 1) * w]);
    }
    out
}

/// Splits an image into three `f64` planes.
pub fn planes(img: &FloatImage) -> [Vec<f64>; 3] {
    let n = img.width * img.height;
    let mut p = [vec![0.0; n], vec![0.0; n], vec![0.0; n]];
    for (i, px) in img.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            p[c][i] = px[c];
        }
    }
    p
}

/// Joins three planes into an image.
pub fn from_planes(p: &[Vec<f64>; 3], width: usize, height: usize) -> FloatImage {
    let mut img = FloatImage::zeros(width, height);
    for (i, px) in img.data.chunks_exact_mut(3).enumerate() {
        for c in 0..3 {
            px[c] = p[c][i];
        }
    }
    img
}

/// skimage's `gaussian(x, sigma, multichannel=True)` (scipy `gaussian_filter` with sigma 0 on
/// the channel axis, `truncate` 4, the given border).
pub fn gaussian_image(img: &FloatImage, sigma: f64, border: Border) -> FloatImage {
    let k = scipy_gaussian_kernel(sigma, 4.0);
    let p = planes(img);
    let out = [0, 1, 2].map(|c| separable_plane(&p[c], img.width, img.height, &k, &k, border));
    from_planes(&out, img.width, img.height)
}

/// OpenCV's `filter2D(src, -1, kernel)`: correlation with the anchor at the kernel centre
/// (`(kw / 2, kh / 2)`) and `BORDER_REFLECT_101`. `kernel` is `kh` rows of `kw` values.
pub fn filter2d(img: &FloatImage, kernel: &[f64], kw: usize, kh: usize) -> FloatImage {
    let (w, h) = (img.width, img.height);
    let (ax, ay) = ((kw / 2) as isize, (kh / 2) as isize);
    let p = planes(img);
    // Only the kernel's non-zero taps matter (a disk kernel is mostly zeros).
    let taps: Vec<(isize, isize, f64)> = (0..kh)
        .flat_map(|ky| (0..kw).map(move |kx| (kx, ky)))
        .filter_map(|(kx, ky)| {
            let v = kernel[ky * kw + kx];
            (v != 0.0).then_some((kx as isize - ax, ky as isize - ay, v))
        })
        .collect();
    let out = [0, 1, 2].map(|c| {
        let src = &p[c];
        let mut dst = vec![0.0; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                for &(dx, dy, v) in &taps {
                    let xi = border_index(x as isize + dx, w, Border::Reflect101);
                    let yi = border_index(y as isize + dy, h, Border::Reflect101);
                    s += v * src[yi * w + xi];
                }
                dst[y * w + x] = s;
            }
        }
        dst
    });
    from_planes(&out, w, h)
}

/// Bilinear sample of one plane at real coordinates `(x, y)`, the plane extended by `border`.
#[inline]
pub fn bilinear(plane: &[f64], w: usize, h: usize, x: f64, y: f64, border: Border) -> f64 {
    let x0 = x.floor();
    let y0 = y.floor();
    let fx = x - x0;
    let fy = y - y0;
    let (x0, y0) = (x0 as isize, y0 as isize);
    let xa = border_index(x0, w, border);
    let xb = border_index(x0 + 1, w, border);
    let ya = border_index(y0, h, border);
    let yb = border_index(y0 + 1, h, border);
    let top = plane[ya * w + xa] * (1.0 - fx) + plane[ya * w + xb] * fx;
    let bottom = plane[yb * w + xa] * (1.0 - fx) + plane[yb * w + xb] * fx;
    top * (1.0 - fy) + bottom * fy
}

/// numpy's `np.arange(start, stop, step)` for `step > 0`: `ceil((stop - start) / step)` values
/// `start + i * step` (so `np.arange(1, 1.11, 0.01)` has 12 values, its float rounding
/// included).
pub fn np_arange(start: f64, stop: f64, step: f64) -> Vec<f64> {
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    (0..n).map(|i| start + i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borders_follow_scipy_and_opencv() {
        // n = 4: abcd
        let idx = |b, i| border_index(i, 4, b);
        assert_eq!(
            [-2, -1, 4, 5].map(|i| idx(Border::Nearest, i)),
            [0, 0, 3, 3]
        );
        assert_eq!(
            [-2, -1, 4, 5].map(|i| idx(Border::Reflect, i)),
            [1, 0, 3, 2]
        );
        assert_eq!(
            [-2, -1, 4, 5].map(|i| idx(Border::Reflect101, i)),
            [2, 1, 2, 1]
        );
        // Far outside: repeated reflection stays in range.
        for i in -40..40 {
            assert!(idx(Border::Reflect, i) < 4);
            assert!(idx(Border::Reflect101, i) < 4);
        }
    }

    #[test]
    fn gaussian_kernel_radius_and_sum() {
        let k = scipy_gaussian_kernel(1.0, 4.0);
        assert_eq!(k.len(), 9);
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(scipy_gaussian_kernel(0.0, 3.0), vec![1.0]);
        let g = opencv_gaussian_kernel(3, 0.01);
        assert!((g[1] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn arange_matches_numpy_lengths() {
        assert_eq!(np_arange(1.0, 1.11, 0.01).len(), 12);
        assert_eq!(np_arange(1.0, 1.06, 0.01).len(), 7);
        assert_eq!(np_arange(1.0, 1.26, 0.01).len(), 26);
        assert_eq!(np_arange(1.0, 1.21, 0.02).len(), 11);
        assert_eq!(np_arange(-8.0, 9.0, 1.0).len(), 17);
    }

    #[test]
    fn constant_plane_is_fixed_by_filters() {
        let (w, h) = (7, 5);
        let plane = vec![0.25; w * h];
        let k = scipy_gaussian_kernel(1.5, 4.0);
        for b in [Border::Nearest, Border::Reflect, Border::Reflect101] {
            let out = separable_plane(&plane, w, h, &k, &k, b);
            assert!(out.iter().all(|v| (v - 0.25).abs() < 1e-12));
        }
        assert!((bilinear(&plane, w, h, -3.3, 9.7, Border::Reflect) - 0.25).abs() < 1e-12);
    }
}
