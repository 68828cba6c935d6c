//! Digital corruptions of ImageNet-C: brightness, contrast, saturate (HSV arithmetic as
//! skimage), pixelate (PIL's BOX resampling down and up) and JPEG compression.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;

use super::buffer::FloatImage;
use super::hsv::{hsv_to_rgb, rgb_to_hsv};
use super::profile::{ConstantSet, SizeProfile, sev_index};

/// Brightness: added to HSV value.
/// `corruptions.py` L354, `make_tinyimagenet_c.py` L460, `make_cifar_c.py` L342.
pub fn brightness_shift(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC | ConstantSet::TinyImageNetC => [0.1, 0.2, 0.3, 0.4, 0.5],
        ConstantSet::Cifar10C => [0.05, 0.1, 0.15, 0.2, 0.3],
    };
    c[sev_index(severity)]
}

/// Contrast: factor on the deviation from the per-channel mean.
/// `corruptions.py` L346, `make_tinyimagenet_c.py` L452, `make_cifar_c.py` L334.
pub fn contrast_factor(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC | ConstantSet::TinyImageNetC => [0.4, 0.3, 0.2, 0.1, 0.05],
        ConstantSet::Cifar10C => [0.75, 0.5, 0.4, 0.3, 0.15],
    };
    c[sev_index(severity)]
}

/// Saturate: `(scale, shift)` of HSV saturation, `s' = clip(s * scale + shift, 0, 1)`.
/// `corruptions.py` L365, `make_tinyimagenet_c.py` L471, `make_cifar_c.py` L353.
pub fn saturate_params(set: ConstantSet, severity: u8) -> (f64, f64) {
    let c = match set {
        ConstantSet::ImageNetC => [(0.3, 0.0), (0.1, 0.0), (2.0, 0.0), (5.0, 0.1), (20.0, 0.2)],
        ConstantSet::TinyImageNetC => [(0.3, 0.0), (0.1, 0.0), (2.0, 0.0), (5.0, 0.1), (30.0, 0.2)],
        ConstantSet::Cifar10C => [(0.3, 0.0), (0.1, 0.0), (1.5, 0.0), (2.0, 0.1), (2.5, 0.2)],
    };
    c[sev_index(severity)]
}

/// JPEG quality.
/// `corruptions.py` L376, `make_tinyimagenet_c.py` L482, `make_cifar_c.py` L364.
pub fn jpeg_quality(set: ConstantSet, severity: u8) -> u8 {
    let c = match set {
        ConstantSet::ImageNetC => [25, 18, 15, 10, 7],
        ConstantSet::TinyImageNetC => [65, 58, 50, 40, 25],
        ConstantSet::Cifar10C => [80, 65, 58, 50, 40],
    };
    c[sev_index(severity)]
}

/// Pixelate: the downsampled side is `int(side * c)`.
/// `corruptions.py` L386, `make_tinyimagenet_c.py` L492, `make_cifar_c.py` L374.
pub fn pixelate_factor(set: ConstantSet, severity: u8) -> f64 {
    let c = match set {
        ConstantSet::ImageNetC => [0.6, 0.5, 0.4, 0.3, 0.25],
        ConstantSet::TinyImageNetC => [0.9, 0.8, 0.7, 0.6, 0.5],
        ConstantSet::Cifar10C => [0.95, 0.9, 0.85, 0.75, 0.65],
    };
    c[sev_index(severity)]
}

fn map_hsv(img: &FloatImage, f: impl Fn([f64; 3]) -> [f64; 3]) -> FloatImage {
    let mut out = img.clone();
    for px in out.data.chunks_exact_mut(3) {
        let hsv = rgb_to_hsv([px[0], px[1], px[2]]);
        let rgb = hsv_to_rgb(f(hsv));
        for c in 0..3 {
            px[c] = rgb[c].clamp(0.0, 1.0);
        }
    }
    out
}

/// `hsv[..., 2] = clip(v + c, 0, 1)`.
pub fn brightness(img: &FloatImage, severity: u8, p: &SizeProfile) -> FloatImage {
    let c = brightness_shift(p.set, severity);
    map_hsv(img, |[h, s, v]| [h, s, (v + c).clamp(0.0, 1.0)])
}

/// `hsv[..., 1] = clip(s * c0 + c1, 0, 1)`.
pub fn saturate(img: &FloatImage, severity: u8, p: &SizeProfile) -> FloatImage {
    let (a, b) = saturate_params(p.set, severity);
    map_hsv(img, |[h, s, v]| [h, (s * a + b).clamp(0.0, 1.0), v])
}

/// `clip((x - mean) * c + mean, 0, 1)` with per-channel means.
pub fn contrast(img: &FloatImage, severity: u8, p: &SizeProfile) -> FloatImage {
    let c = contrast_factor(p.set, severity);
    let m = img.channel_means();
    let mut out = img.clone();
    for px in out.data.chunks_exact_mut(3) {
        for ch in 0..3 {
            px[ch] = ((px[ch] - m[ch]) * c + m[ch]).clamp(0.0, 1.0);
        }
    }
    out
}

/// PIL's `precompute_coeffs` for the BOX filter (support 0.5) along one axis, as fixed-point
/// 8-bit coefficients (`normalize_coeffs_8bpc`, 22 precision bits): per output pixel the first
/// input index and the integer weights.
fn pil_box_coeffs(in_size: usize, out_size: usize) -> Vec<(usize, Vec<i64>)> {
    const PRECISION_BITS: u32 = 32 - 8 - 2;
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = 0.5 * filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let w: Vec<f64> = (xmin..xmax)
                .map(|x| {
                    let t = (x as f64 - center + 0.5) * ss;
                    if t > -0.5 && t <= 0.5 { 1.0 } else { 0.0 }
                })
                .collect();
            let ww: f64 = w.iter().sum();
            let k = w
                .iter()
                .map(|&v| {
                    let v = if ww != 0.0 { v / ww } else { v };
                    (0.5 + v * f64::from(1u32 << PRECISION_BITS)) as i64
                })
                .collect();
            (xmin, k)
        })
        .collect()
}

/// PIL `Image.resize((w, h), Image.BOX)` of an 8-bit RGB image: a horizontal pass then a
/// vertical pass, each rounded to 8 bits in fixed point as PIL's `ImagingResample` does.
pub fn pil_box_resize(img: &RgbImage, out_w: u32, out_h: u32) -> RgbImage {
    const PRECISION_BITS: u32 = 22;
    let (in_w, in_h) = (img.width() as usize, img.height() as usize);
    let (ow, oh) = (out_w as usize, out_h as usize);
    let clip8 = |acc: i64| (acc >> PRECISION_BITS).clamp(0, 255) as u8;
    let src = img.as_raw();
    let mut mid = vec![0u8; ow * in_h * 3];
    if ow != in_w {
        let kx = pil_box_coeffs(in_w, ow);
        for y in 0..in_h {
            for (x, (xmin, k)) in kx.iter().enumerate() {
                for c in 0..3 {
                    let mut acc: i64 = 1 << (PRECISION_BITS - 1);
                    for (j, &kv) in k.iter().enumerate() {
                        acc += i64::from(src[(y * in_w + xmin + j) * 3 + c]) * kv;
                    }
                    mid[(y * ow + x) * 3 + c] = clip8(acc);
                }
            }
        }
    } else {
        mid.copy_from_slice(src);
    }
    let mut out = vec![0u8; ow * oh * 3];
    if oh != in_h {
        let ky = pil_box_coeffs(in_h, oh);
        for (y, (ymin, k)) in ky.iter().enumerate() {
            for x in 0..ow {
                for c in 0..3 {
                    let mut acc: i64 = 1 << (PRECISION_BITS - 1);
                    for (j, &kv) in k.iter().enumerate() {
                        acc += i64::from(mid[((ymin + j) * ow + x) * 3 + c]) * kv;
                    }
                    out[(y * ow + x) * 3 + c] = clip8(acc);
                }
            }
        }
    } else {
        out.copy_from_slice(&mid);
    }
    RgbImage::from_raw(out_w, out_h, out).expect("resize buffer has out_w*out_h*3 values")
}

/// `x.resize((int(W c), int(H c)), BOX).resize((W, H), BOX)`.
pub fn pixelate(img: &RgbImage, severity: u8, p: &SizeProfile) -> RgbImage {
    let c = pixelate_factor(p.set, severity);
    let (w, h) = img.dimensions();
    let sw = ((f64::from(w) * c) as u32).max(1);
    let sh = ((f64::from(h) * c) as u32).max(1);
    let small = pil_box_resize(img, sw, sh);
    pil_box_resize(&small, w, h)
}

/// Encodes at the reference's quality with the `image` crate's baseline JPEG encoder (libjpeg
/// quality scaling of the standard tables; it does not subsample chroma, where PIL's default is
/// 4:2:0) and decodes the result.
pub fn jpeg_compression(img: &RgbImage, severity: u8, p: &SizeProfile) -> RgbImage {
    jpeg_round_trip(img, jpeg_quality(p.set, severity))
}

/// JPEG encode at `quality`, then decode.
///
/// # Panics
/// Panics if the in-memory encoder or decoder fails, which for an 8-bit RGB image of non-zero
/// size within 65535x65535 does not happen.
pub fn jpeg_round_trip(img: &RgbImage, quality: u8) -> RgbImage {
    let mut buf = Vec::new();
    JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(img)
        .expect("in-memory JPEG encoding of an RGB image");
    image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg)
        .expect("decoding a JPEG we just encoded")
        .to_rgb8()
}

/// The encoded size in bytes at `quality` (used by tests and the benchmark).
pub fn jpeg_size(img: &RgbImage, quality: u8) -> usize {
    let mut buf = Vec::new();
    JpegEncoder::new_with_quality(&mut buf, quality)
        .encode_image(img)
        .expect("in-memory JPEG encoding of an RGB image");
    buf.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_resize_down_averages_and_up_repeats() {
        let mut img = RgbImage::new(4, 1);
        for (i, v) in [0u8, 100, 200, 250].iter().enumerate() {
            img.put_pixel(i as u32, 0, image::Rgb([*v, *v, *v]));
        }
        let small = pil_box_resize(&img, 2, 1);
        assert_eq!(small.get_pixel(0, 0)[0], 50);
        assert_eq!(small.get_pixel(1, 0)[0], 225);
        let big = pil_box_resize(&small, 4, 1);
        assert_eq!(
            big.as_raw().iter().step_by(3).copied().collect::<Vec<_>>(),
            vec![50, 50, 225, 225]
        );
    }
}
