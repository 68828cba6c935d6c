//! Statistical tests of the image corruptions: each has the statistics its definition gives,
//! over many samples, at the constants of the reference tables.

mod corrupt_common;

use corrupt_common::*;
use image::RgbImage;
use mafs_data::corrupt::image_blur::{gaussian_blur_sigma, zoom_blur_factors};
use mafs_data::corrupt::image_digital::{
    brightness_shift, contrast_factor, jpeg_quality, jpeg_size, pixelate_factor, saturate_params,
};
use mafs_data::corrupt::image_noise::{
    gaussian_noise_sigma, impulse_noise_amount, shot_noise_scale, speckle_noise_sigma,
};
use mafs_data::corrupt::image_weather::fog_params;
use mafs_data::corrupt::occlusion::{occlude, occlusion_share};
use mafs_data::corrupt::{ConstantSet, ImageCorruption, SizeProfile};

const GREY: u8 = 128;

/// Corrupts `n` instances of `img` and collects `(out - in) / 255` per value.
fn deltas(c: ImageCorruption, img: &RgbImage, sev: u8, n: u64) -> Vec<f64> {
    let mut d = Vec::new();
    for id in 0..n {
        let out = c.apply(img, sev, &mut rng(c.name(), id, sev)).unwrap();
        d.extend(
            out.as_raw()
                .iter()
                .zip(img.as_raw())
                .map(|(&o, &i)| (f64::from(o) - f64::from(i)) / 255.0),
        );
    }
    d
}

#[test]
fn gaussian_noise_std_matches_sigma_within_5_percent() {
    // Tiny-ImageNet-C constants at 64x64; ImageNet-C ones on a 48x48 image (scaled table,
    // noise constants are not size dependent), severities away from clipping.
    for (size, set, sevs) in [
        (64, ConstantSet::TinyImageNetC, 1..=5u8),
        (48, ConstantSet::ImageNetC, 1..=3u8),
    ] {
        let img = flat(size, GREY);
        for sev in sevs {
            let sigma = gaussian_noise_sigma(set, sev);
            let (_, std) = mean_std(&deltas(ImageCorruption::GaussianNoise, &img, sev, 6));
            assert!(
                (std / sigma - 1.0).abs() < 0.05,
                "{set:?} sev {sev}: std {std:.4} vs sigma {sigma}"
            );
        }
    }
}

#[test]
fn shot_noise_variance_matches_poisson_model() {
    let img = flat(64, GREY);
    let x = f64::from(GREY) / 255.0;
    for sev in 1..=5 {
        let c = shot_noise_scale(ConstantSet::TinyImageNetC, sev);
        let (mean, std) = mean_std(&deltas(ImageCorruption::ShotNoise, &img, sev, 6));
        let want = (x / c).sqrt(); // Var(Poisson(x c) / c) = x / c
        assert!(
            (std / want - 1.0).abs() < 0.05,
            "sev {sev}: std {std:.4} vs sqrt(x/c) {want:.4}"
        );
        // Unbiased up to the truncation to u8 (at most one level down).
        assert!(mean.abs() < 1.5 / 255.0, "sev {sev}: mean shift {mean}");
    }
}

#[test]
fn impulse_noise_changes_its_amount_of_values_half_salt_half_pepper() {
    let img = flat(64, GREY);
    for sev in 1..=5 {
        let amount = impulse_noise_amount(ConstantSet::TinyImageNetC, sev);
        let mut changed = 0usize;
        let mut salt = 0usize;
        let mut total = 0usize;
        for id in 0..8 {
            let out = ImageCorruption::ImpulseNoise
                .apply(&img, sev, &mut rng("impulse", id, sev))
                .unwrap();
            for &v in out.as_raw() {
                total += 1;
                match v {
                    GREY => {}
                    255 => {
                        changed += 1;
                        salt += 1;
                    }
                    0 => changed += 1,
                    other => panic!("impulse noise produced {other}, expected 0, 255 or the input"),
                }
            }
        }
        let share = changed as f64 / total as f64;
        let se = (amount * (1.0 - amount) / total as f64).sqrt();
        assert!(
            (share - amount).abs() < 4.0 * se,
            "sev {sev}: share {share:.4} vs amount {amount}"
        );
        let salt_share = salt as f64 / changed as f64;
        assert!(
            (salt_share - 0.5).abs() < 4.0 * (0.25 / changed as f64).sqrt(),
            "salt share {salt_share}"
        );
    }
}

#[test]
fn speckle_noise_std_is_x_times_sigma() {
    let img = flat(64, GREY);
    let x = f64::from(GREY) / 255.0;
    for sev in 1..=5 {
        let c = speckle_noise_sigma(ConstantSet::TinyImageNetC, sev);
        let (_, std) = mean_std(&deltas(ImageCorruption::SpeckleNoise, &img, sev, 6));
        assert!(
            (std / (x * c) - 1.0).abs() < 0.05,
            "sev {sev}: std {std:.4} vs x*c {:.4}",
            x * c
        );
    }
}

#[test]
fn blurs_remove_high_frequency_energy() {
    let img = scene(64, 11);
    let e0 = laplacian_energy(&img);
    for c in [
        ImageCorruption::GaussianBlur,
        ImageCorruption::DefocusBlur,
        ImageCorruption::MotionBlur,
        ImageCorruption::ZoomBlur,
    ] {
        let ratios: Vec<f64> = (1..=5u8)
            .map(|sev| {
                let e: f64 = (0..4)
                    .map(|id| {
                        laplacian_energy(&c.apply(&img, sev, &mut rng(c.name(), id, sev)).unwrap())
                    })
                    .sum::<f64>()
                    / 4.0;
                e / e0
            })
            .collect();
        assert!(ratios.iter().all(|&r| r < 0.9), "{c}: ratios {ratios:?}");
        assert!(
            ratios[4] < ratios[0],
            "{c}: severity 5 keeps more energy than 1: {ratios:?}"
        );
        if c == ImageCorruption::GaussianBlur || c == ImageCorruption::ZoomBlur {
            assert!(
                ratios.windows(2).all(|w| w[1] < w[0]),
                "{c}: not monotone {ratios:?}"
            );
        }
    }
    // Larger sigma at the scaled ImageNet-C table too.
    assert!(
        gaussian_blur_sigma(ConstantSet::ImageNetC, 5)
            > gaussian_blur_sigma(ConstantSet::TinyImageNetC, 5)
    );
    assert_eq!(zoom_blur_factors(ConstantSet::ImageNetC, 1).len(), 12);
}

#[test]
fn brightness_shifts_hsv_value_by_its_constant() {
    // V = max(R, G, B) <= 0.45 everywhere, so V + c never clips for c <= 0.5.
    let mut img = scene(64, 3);
    for p in img.pixels_mut() {
        for c in 0..3 {
            p[c] = (u32::from(p[c]) * 110 / 255) as u8;
        }
    }
    let vmean = |im: &RgbImage| {
        im.pixels()
            .map(|p| f64::from(*p.0.iter().max().unwrap()) / 255.0)
            .sum::<f64>()
            / (64.0 * 64.0)
    };
    let v0 = vmean(&img);
    for sev in 1..=5 {
        let c = brightness_shift(ConstantSet::TinyImageNetC, sev);
        let out = ImageCorruption::Brightness
            .apply(&img, sev, &mut rng("b", 0, sev))
            .unwrap();
        let dv = vmean(&out) - v0;
        assert!(
            (dv - c).abs() < 1.5 / 255.0,
            "sev {sev}: V rose by {dv:.4}, constant {c}"
        );
    }
}

#[test]
fn contrast_scales_deviation_from_channel_mean() {
    let img = random_image(64, 5);
    let chan = |im: &RgbImage, c: usize| {
        im.pixels()
            .map(|p| f64::from(p[c]) / 255.0)
            .collect::<Vec<_>>()
    };
    for sev in 1..=5 {
        let k = contrast_factor(ConstantSet::TinyImageNetC, sev);
        let out = ImageCorruption::Contrast
            .apply(&img, sev, &mut rng("c", 0, sev))
            .unwrap();
        for c in 0..3 {
            let (m0, s0) = mean_std(&chan(&img, c));
            let (m1, s1) = mean_std(&chan(&out, c));
            assert!(
                (s1 / s0 - k).abs() < 0.03 * k + 0.5 / 255.0 / s0,
                "sev {sev} ch {c}: std ratio {} vs {k}",
                s1 / s0
            );
            assert!(
                (m1 - m0).abs() < 1.0 / 255.0,
                "sev {sev} ch {c}: mean moved {m0} -> {m1}"
            );
        }
    }
}

#[test]
fn saturate_maps_hsv_saturation_as_its_constants_say() {
    use mafs_data::corrupt::hsv::rgb_to_hsv;
    let img = scene(64, 8);
    let sat = |p: &image::Rgb<u8>| rgb_to_hsv([0, 1, 2].map(|c| f64::from(p[c]) / 255.0))[1];
    for sev in 1..=5 {
        let (a, b) = saturate_params(ConstantSet::TinyImageNetC, sev);
        let out = ImageCorruption::Saturate
            .apply(&img, sev, &mut rng("s", 0, sev))
            .unwrap();
        let want: f64 = img
            .pixels()
            .map(|p| (sat(p) * a + b).clamp(0.0, 1.0))
            .sum::<f64>()
            / 4096.0;
        let got: f64 = out.pixels().map(sat).sum::<f64>() / 4096.0;
        assert!(
            (got - want).abs() < 0.02,
            "sev {sev}: mean S {got:.4} vs {want:.4}"
        );
    }
}

#[test]
fn pixelate_produces_blocks() {
    let img = random_image(64, 9);
    for sev in 1..=5 {
        let c = pixelate_factor(ConstantSet::TinyImageNetC, sev);
        let out = ImageCorruption::Pixelate
            .apply(&img, sev, &mut rng("p", 0, sev))
            .unwrap();
        // Distinct adjacent columns of row 0 at most the downsampled width.
        let row: Vec<[u8; 3]> = (0..64).map(|x| out.get_pixel(x, 0).0).collect();
        let distinct = 1 + row.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(
            distinct <= (64.0 * c) as usize,
            "sev {sev}: {distinct} distinct columns for factor {c}"
        );
    }
    // Factor 0.5 gives exact 2x2 blocks.
    let out = ImageCorruption::Pixelate
        .apply(&img, 5, &mut rng("p", 0, 5))
        .unwrap();
    for y in (0..64).step_by(2) {
        for x in (0..64).step_by(2) {
            let p = out.get_pixel(x, y);
            assert!(
                [(1, 0), (0, 1), (1, 1)]
                    .iter()
                    .all(|&(dx, dy)| out.get_pixel(x + dx, y + dy) == p)
            );
        }
    }
}

#[test]
fn jpeg_quality_falls_and_error_grows_with_severity() {
    let img = scene(64, 12);
    let q: Vec<u8> = (1..=5)
        .map(|s| jpeg_quality(ConstantSet::TinyImageNetC, s))
        .collect();
    assert!(q.windows(2).all(|w| w[1] < w[0]));
    let sizes: Vec<usize> = q.iter().map(|&q| jpeg_size(&img, q)).collect();
    assert!(sizes.windows(2).all(|w| w[1] < w[0]), "sizes {sizes:?}");
    let errs: Vec<f64> = (1..=5)
        .map(|s| {
            mean_abs_diff(
                &img,
                &ImageCorruption::JpegCompression
                    .apply(&img, s, &mut rng("j", 0, s))
                    .unwrap(),
            )
        })
        .collect();
    assert!(errs[4] > errs[0] && errs[0] > 0.0, "{errs:?}");
}

#[test]
fn fog_keeps_values_within_its_formula() {
    // out = (x + c0 p) * m / (m + c0) with p in [0, 1] and m the image max.
    let img = flat(64, GREY);
    let x = f64::from(GREY) / 255.0;
    for sev in 1..=5 {
        let (c0, _) = fog_params(ConstantSet::TinyImageNetC, sev);
        let lo = x * x / (x + c0);
        let out = ImageCorruption::Fog
            .apply(&img, sev, &mut rng("f", 0, sev))
            .unwrap();
        let vals: Vec<f64> = out.as_raw().iter().map(|&v| f64::from(v) / 255.0).collect();
        let min = vals.iter().copied().fold(1.0, f64::min);
        let max = vals.iter().copied().fold(0.0, f64::max);
        assert!(
            min >= lo - 1.5 / 255.0 && max <= x + 0.5 / 255.0,
            "sev {sev}: [{min}, {max}] vs [{lo}, {x}]"
        );
        assert!(
            max - min > 0.5 * (x - lo),
            "sev {sev}: fog map spans too little: {min}..{max}"
        );
    }
}

#[test]
fn occlusion_covers_its_share() {
    use mafs_data::corrupt::buffer::FloatImage;
    let img = FloatImage::from_rgb(&scene(64, 4));
    for sev in 1..=5 {
        let share = occlusion_share(sev);
        for id in 0..5 {
            let (_, mask) = occlude(&img, sev, &mut rng("o", id, sev));
            let got = mask.iter().filter(|&&m| m).count() as f64 / mask.len() as f64;
            assert!(
                (got - share).abs() < 0.01,
                "sev {sev}: covered {got} vs {share}"
            );
        }
    }
}

#[test]
fn distance_from_clean_grows_with_severity_for_every_corruption() {
    let imgs: Vec<RgbImage> = (0..3).map(|i| scene(64, 100 + i)).collect();
    // Elastic is excluded: the reference's own tables are not monotone in pixel distance (at
    // 64x64 severity 1 is a pure affine jitter of up to 5.1 px, severity 5 a local warp of
    // about 0.9 px plus 1.3 px of affine); `elastic_field_grows_with_severity` tests what grows.
    for c in ImageCorruption::ALL.iter().copied().filter(|c| {
        !matches!(
            c,
            ImageCorruption::Missing | ImageCorruption::ElasticTransform
        )
    }) {
        let d: Vec<f64> = (1..=5u8)
            .map(|sev| {
                imgs.iter()
                    .enumerate()
                    .map(|(i, img)| {
                        mean_abs_diff(
                            img,
                            &c.apply(img, sev, &mut rng(c.name(), i as u64, sev))
                                .unwrap(),
                        )
                    })
                    .sum::<f64>()
                    / imgs.len() as f64
            })
            .collect();
        assert!(d[0] > 0.0, "{c}: severity 1 changes nothing");
        assert!(d[4] > d[0], "{c}: severity 5 is not farther than 1: {d:?}");
    }
}

#[test]
fn elastic_field_grows_with_severity_and_has_the_smoothed_noise_std() {
    use mafs_data::corrupt::filters::scipy_gaussian_kernel;
    use mafs_data::corrupt::image_elastic::{displacement_fields, elastic_params};
    let mut stds = Vec::new();
    for sev in 1..=5u8 {
        let (alpha, sigma, _) = elastic_params(ConstantSet::TinyImageNetC, sev);
        // Interior values of four draws (the reflected border correlates values near edges).
        let r = ((3.0 * sigma + 0.5) as usize).min(16);
        let mut vals = Vec::new();
        for id in 0..4 {
            let (dx, dy) = displacement_fields(64, 64, alpha, sigma, &mut rng("e", id, sev));
            for y in r..64 - r {
                for x in r..64 - r {
                    vals.push(dx[y * 64 + x]);
                    vals.push(dy[y * 64 + x]);
                }
            }
        }
        let (_, std) = mean_std(&vals);
        if sigma > 0.0 && sigma < 3.0 {
            // Var of separable smoothing of iid U(-1, 1): (1/3) * (sum k^2)^2, times alpha^2.
            let k = scipy_gaussian_kernel(sigma, 3.0);
            let s2: f64 = k.iter().map(|v| v * v).sum();
            let want = alpha * (1.0f64 / 3.0).sqrt() * s2;
            assert!(
                (std / want - 1.0).abs() < 0.1,
                "sev {sev}: field std {std:.4} vs {want:.4}"
            );
        }
        stds.push(std);
    }
    assert_eq!(
        stds[0], 0.0,
        "severity 1 at 64x64 is affine only (alpha = 0)"
    );
    assert!(
        stds.windows(2).all(|w| w[1] > w[0]),
        "field std must grow: {stds:?}"
    );
    let img = scene(64, 5);
    for sev in 1..=5u8 {
        let out = ImageCorruption::ElasticTransform
            .apply(&img, sev, &mut rng("elastic_transform", 0, sev))
            .unwrap();
        assert!(mean_abs_diff(&img, &out) > 0.0, "sev {sev} changed nothing");
    }
}

#[test]
fn scaled_profile_applies_to_any_size_and_keeps_shape_and_range() {
    for (w, h) in [(64u32, 64u32), (32, 32), (40, 56), (17, 9)] {
        let mut img = RgbImage::new(w, h);
        img.copy_from_slice_hack(&scene(64, 1));
        let p = SizeProfile::for_size(w as usize, h as usize);
        for c in ImageCorruption::ALL {
            for sev in [1u8, 5] {
                let out = c.apply_with(&img, sev, &p, &mut rng(c.name(), 0, sev));
                match c {
                    ImageCorruption::Missing => assert!(out.is_none()),
                    _ => assert_eq!(out.unwrap().dimensions(), (w, h), "{c} at {w}x{h}"),
                }
            }
        }
    }
}

#[test]
fn corruptions_are_deterministic_and_instance_dependent() {
    let img = scene(64, 2);
    for c in ImageCorruption::ALL {
        let a = c.apply(&img, 3, &mut rng(c.name(), 7, 3));
        let b = c.apply(&img, 3, &mut rng(c.name(), 7, 3));
        assert_eq!(a, b, "{c} not deterministic");
        if c.is_random() {
            let other = c.apply(&img, 3, &mut rng(c.name(), 8, 3));
            assert_ne!(a, other, "{c}: another instance got the same draw");
        }
    }
}

/// Crops a bigger image into a smaller one (test helper).
trait CropInto {
    fn copy_from_slice_hack(&mut self, src: &RgbImage);
}

impl CropInto for RgbImage {
    fn copy_from_slice_hack(&mut self, src: &RgbImage) {
        let (w, h) = self.dimensions();
        for y in 0..h {
            for x in 0..w {
                self.put_pixel(x, y, *src.get_pixel(x % src.width(), y % src.height()));
            }
        }
    }
}
