//! Reading, resizing and writing images. JPEG and PNG are decoded through the `image` crate;
//! resizing uses the triangle (bilinear) filter.

use std::path::{Path, PathBuf};

use image::{RgbImage, imageops};
use serde::{Deserialize, Serialize};

use crate::DataError;
use crate::error::RecordRef;

/// How an image is brought to the configured square size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResizeMode {
    /// Scale the shorter side to the size and crop the centre (CLIP's preprocessing).
    #[default]
    CenterCrop,
    /// Scale both sides to the size, ignoring the aspect ratio.
    Stretch,
}

/// Brings an image to `size x size` (a no-op when it already is).
pub fn resize_square(img: RgbImage, size: u32, mode: ResizeMode) -> RgbImage {
    let (w, h) = img.dimensions();
    if w == size && h == size {
        return img;
    }
    match mode {
        ResizeMode::Stretch => imageops::resize(&img, size, size, imageops::FilterType::Triangle),
        ResizeMode::CenterCrop => {
            let scale = size as f32 / w.min(h) as f32;
            let nw = ((w as f32 * scale).round() as u32).max(size);
            let nh = ((h as f32 * scale).round() as u32).max(size);
            let scaled = imageops::resize(&img, nw, nh, imageops::FilterType::Triangle);
            let (x, y) = ((nw - size) / 2, (nh - size) / 2);
            imageops::crop_imm(&scaled, x, y, size, size).to_image()
        }
    }
}

/// Decodes the image at `path` as RGB (JPEG or PNG, detected from the content) and, when
/// `size` is given, resizes it. Errors name the record the image belongs to.
///
/// # Errors
///
/// [`DataError::MissingImage`] when the file does not exist, [`DataError::BadImage`] when it
/// cannot be decoded.
pub fn load_image(
    path: &Path,
    size: Option<u32>,
    mode: ResizeMode,
    record: &RecordRef,
) -> Result<RgbImage, DataError> {
    if !path.is_file() {
        return Err(DataError::MissingImage {
            record: record.clone(),
            image: path.to_path_buf(),
        });
    }
    let bad = |reason: String| DataError::BadImage {
        record: record.clone(),
        image: path.to_path_buf(),
        reason,
    };
    let img = image::ImageReader::open(path)
        .map_err(|e| bad(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| bad(e.to_string()))?
        .decode()
        .map_err(|e| bad(e.to_string()))?
        .to_rgb8();
    Ok(match size {
        Some(s) => resize_square(img, s, mode),
        None => img,
    })
}

/// Loads many images on the available cores; results come back in input order. With
/// `keep = false` each image is decoded (so a bad one is found) and dropped at once, so
/// checking a large dataset needs little memory.
pub fn load_images(
    jobs: &[(PathBuf, RecordRef)],
    size: Option<u32>,
    mode: ResizeMode,
    keep: bool,
) -> Vec<Result<Option<RgbImage>, DataError>> {
    let one =
        |(p, r): &(PathBuf, RecordRef)| load_image(p, size, mode, r).map(|i| keep.then_some(i));
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .min(jobs.len().div_ceil(16).max(1));
    if threads <= 1 {
        return jobs.iter().map(one).collect();
    }
    let chunk = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("image loading thread panicked"))
            .collect()
    })
}

/// Writes an image as PNG, creating the parent directory.
///
/// # Errors
///
/// [`DataError::Io`] or [`DataError::ImageWrite`].
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), DataError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, "create directory", e))?;
    }
    img.save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| DataError::ImageWrite {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_and_resizing() {
        let dir = tempfile::tempdir().unwrap();
        let mut img = RgbImage::new(40, 20);
        for (x, y, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([x as u8 * 6, y as u8 * 12, 7]);
        }
        let path = dir.path().join("a/b.png");
        save_png(&img, &path).unwrap();
        let r = RecordRef::new("f.json", 0, Some(1));
        let back = load_image(&path, None, ResizeMode::CenterCrop, &r).unwrap();
        assert_eq!(back, img);
        let sq = load_image(&path, Some(16), ResizeMode::CenterCrop, &r).unwrap();
        assert_eq!(sq.dimensions(), (16, 16));
        let st = resize_square(img.clone(), 8, ResizeMode::Stretch);
        assert_eq!(st.dimensions(), (8, 8));
        let jobs = vec![(path.clone(), r.clone()); 40];
        let kept = load_images(&jobs, Some(8), ResizeMode::Stretch, true);
        assert!(kept.iter().all(|x| matches!(x, Ok(Some(_)))));
        let checked = load_images(&jobs, None, ResizeMode::Stretch, false);
        assert!(checked.iter().all(|x| matches!(x, Ok(None))));
    }

    #[test]
    fn missing_and_undecodable_images_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let r = RecordRef::new("f.json", 2, Some(9));
        let missing = dir.path().join("nope.png");
        let e = load_image(&missing, None, ResizeMode::Stretch, &r).unwrap_err();
        assert!(matches!(e, DataError::MissingImage { .. }), "{e}");
        assert!(e.to_string().contains("f.json: record 2 (id 9)"));
        let junk = dir.path().join("junk.jpg");
        std::fs::write(&junk, b"this is not an image").unwrap();
        let e = load_image(&junk, None, ResizeMode::Stretch, &r).unwrap_err();
        assert!(matches!(e, DataError::BadImage { .. }), "{e}");
        assert!(e.to_string().contains("junk.jpg"));
    }
}
