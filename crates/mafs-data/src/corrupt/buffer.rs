//! The working image of the image corruptions: interleaved RGB `f64` in `[0, 1]`, laid out as
//! numpy's `np.array(pil_image) / 255.` is (`[height, width, 3]`, row-major).

use image::RgbImage;

/// An interleaved RGB image of `f64` values, nominally in `[0, 1]` (out-of-range values are
/// allowed between steps; [`FloatImage::to_rgb`] clips).
#[derive(Debug, Clone, PartialEq)]
pub struct FloatImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height * width * 3` values, row-major, channel last.
    pub data: Vec<f64>,
}

impl FloatImage {
    /// A black image.
    pub fn zeros(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height * 3],
        }
    }

    /// `x / 255` of a u8 image, as the reference's `np.array(x) / 255.`.
    pub fn from_rgb(img: &RgbImage) -> Self {
        let (w, h) = img.dimensions();
        let data = img.as_raw().iter().map(|&v| f64::from(v) / 255.0).collect();
        Self {
            width: w as usize,
            height: h as usize,
            data,
        }
    }

    /// Index of channel `c` of pixel `(x, y)`.
    #[inline]
    pub fn idx(&self, x: usize, y: usize, c: usize) -> usize {
        (y * self.width + x) * 3 + c
    }

    /// Value of channel `c` at `(x, y)`.
    #[inline]
    pub fn at(&self, x: usize, y: usize, c: usize) -> f64 {
        self.data[self.idx(x, y, c)]
    }

    /// The reference's output step `np.uint8(np.clip(x, 0, 1) * 255)` in `f64`: clip, scale
    /// and truncate toward zero (numpy's float→uint8 cast truncates), so a value that float
    /// round-off puts a hair below an integer drops one level, as it does in the reference.
    pub fn to_rgb(&self) -> RgbImage {
        let raw = self
            .data
            .iter()
            .map(|&v| {
                let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
                (v * 255.0) as u8
            })
            .collect();
        RgbImage::from_raw(self.width as u32, self.height as u32, raw)
            .expect("FloatImage buffer has width*height*3 values")
    }

    /// [`FloatImage::to_rgb`] for a corruption the reference computes in `float32` (zoom blur):
    /// clip and scale in `f32`, then truncate.
    pub fn to_rgb_f32(&self) -> RgbImage {
        let raw = self
            .data
            .iter()
            .map(|&v| {
                let v = if v.is_nan() {
                    0.0
                } else {
                    (v as f32).clamp(0.0, 1.0)
                };
                (v * 255.0f32) as u8
            })
            .collect();
        RgbImage::from_raw(self.width as u32, self.height as u32, raw)
            .expect("FloatImage buffer has width*height*3 values")
    }

    /// Per-channel means (numpy `x.mean(axis=(0, 1))`).
    pub fn channel_means(&self) -> [f64; 3] {
        let mut s = [0.0f64; 3];
        for px in self.data.chunks_exact(3) {
            for c in 0..3 {
                s[c] += px[c];
            }
        }
        let n = (self.width * self.height).max(1) as f64;
        [s[0] / n, s[1] / n, s[2] / n]
    }

    /// Largest value over all pixels and channels (numpy `x.max()`).
    pub fn max_value(&self) -> f64 {
        self.data.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Rounds and clips an `f64` to u8, as ImageMagick's `ClampToQuantum` and PIL's 8-bit paths do.
#[inline]
pub fn round_u8(v: f64) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v + 0.5).floor().clamp(0.0, 255.0) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_exact() {
        let mut img = RgbImage::new(4, 3);
        for (i, p) in img.pixels_mut().enumerate() {
            *p = image::Rgb([(i * 20) as u8, 255 - (i * 7) as u8, (i * 3) as u8]);
        }
        let f = FloatImage::from_rgb(&img);
        assert_eq!(f.width, 4);
        assert_eq!(f.height, 3);
        assert_eq!(f.to_rgb(), img);
    }

    #[test]
    fn output_clips_and_truncates() {
        let f = FloatImage {
            width: 2,
            height: 1,
            data: vec![-0.5, 1.5, 0.5, 0.999, f64::NAN, 0.0],
        };
        let out = f.to_rgb();
        assert_eq!(out.as_raw(), &vec![0, 255, 127, 254, 0, 0]);
        assert_eq!(f.to_rgb_f32().as_raw(), &vec![0, 255, 127, 254, 0, 0]);
        assert_eq!(round_u8(127.5), 128);
        assert_eq!(round_u8(-3.0), 0);
        assert_eq!(round_u8(300.0), 255);
    }
}
