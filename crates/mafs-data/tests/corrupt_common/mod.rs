//! Synthetic inputs and statistics shared by the corruption tests.
#![allow(dead_code)]

use image::{Rgb, RgbImage};
use mafs_data::corrupt::rng::{CorruptRng, RngKey, rng_from_hash};
use mafs_data::{Instance, Split};

/// A flat image of one value.
pub fn flat(size: u32, v: u8) -> RgbImage {
    RgbImage::from_pixel(size, size, Rgb([v, v, v]))
}

/// A scene-like test image: a colour gradient, a few flat shapes and a fine texture, so that
/// every corruption has something to act on.
pub fn scene(size: u32, seed: u64) -> RgbImage {
    let mut rng = rng_from_hash(seed);
    let mut img = RgbImage::new(size, size);
    let s = size as f64;
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (fx, fy) = (x as f64 / s, y as f64 / s);
        let tex = if ((x + 2 * y) / 3) % 2 == 0 {
            18.0
        } else {
            -18.0
        };
        *p = Rgb([
            (60.0 + 120.0 * fx + tex).clamp(0.0, 255.0) as u8,
            (90.0 + 80.0 * fy - tex).clamp(0.0, 255.0) as u8,
            (150.0 - 70.0 * fx * fy + tex).clamp(0.0, 255.0) as u8,
        ]);
    }
    use rand::Rng;
    for _ in 0..3 {
        let r = rng.random_range(size / 10..size / 4);
        let cx = rng.random_range(r..size - r);
        let cy = rng.random_range(r..size - r);
        let col = Rgb([rng.random::<u8>(), rng.random::<u8>(), rng.random::<u8>()]);
        for y in cy - r..cy + r {
            for x in cx - r..cx + r {
                let (dx, dy) = (x as f64 - cx as f64, y as f64 - cy as f64);
                if dx * dx + dy * dy <= (r * r) as f64 {
                    img.put_pixel(x, y, col);
                }
            }
        }
    }
    img
}

/// A uniformly random image.
pub fn random_image(size: u32, seed: u64) -> RgbImage {
    use rand::Rng;
    let mut rng = rng_from_hash(seed);
    let mut img = RgbImage::new(size, size);
    for p in img.pixels_mut() {
        *p = Rgb([rng.random(), rng.random(), rng.random()]);
    }
    img
}

/// The stream a spec would use for `name` on instance `id`.
pub fn rng(name: &str, id: u64, severity: u8) -> CorruptRng {
    RngKey {
        seed: 0,
        instance: id,
        corruption: name,
        severity,
        salt: 0,
    }
    .rng()
}

/// Mean absolute difference per value, in [0, 1] units.
pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let s: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).abs())
        .sum();
    s / a.as_raw().len() as f64 / 255.0
}

/// Energy of the 4-neighbour Laplacian (sum of squares over interior pixels and channels).
pub fn laplacian_energy(img: &RgbImage) -> f64 {
    let (w, h) = img.dimensions();
    let mut e = 0.0;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            for c in 0..3 {
                let v = |xx: u32, yy: u32| f64::from(img.get_pixel(xx, yy)[c]);
                let l = 4.0 * v(x, y) - v(x - 1, y) - v(x + 1, y) - v(x, y - 1) - v(x, y + 1);
                e += l * l;
            }
        }
    }
    e
}

/// Mean and standard deviation of values.
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// A world-like instance for the dataset and augmentation tests.
pub fn instance(id: u64, size: u32) -> Instance {
    Instance {
        id,
        split: Split::Test,
        filename: format!("scene_{id:05}.png"),
        image: Some(scene(size, id)),
        captions: vec![
            format!("a small red circle to the left of a large blue square number {id}"),
            "two green triangles above a yellow star".to_string(),
        ],
        sentids: vec![id * 10, id * 10 + 1],
        side_text: Some(format!("red circle, blue square, scene {id}")),
        questions: vec![mafs_data::Qa {
            question_id: id,
            question: "what color is the circle?".to_string(),
            question_type: "color".to_string(),
            answer_type: "other".to_string(),
            answers: vec!["red".to_string(); 10],
            answer: "red".to_string(),
        }],
        corruptions: Vec::new(),
    }
}
