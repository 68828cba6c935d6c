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
///
/// # Panics
///
/// Panics if `size` is 0 or the image is empty; [`load_image`] and [`decode_image`] check
/// both (and bound the scaled size) before they call it.
pub fn resize_square(img: RgbImage, size: u32, mode: ResizeMode) -> RgbImage {
    let (w, h) = img.dimensions();
    if w == size && h == size {
        return img;
    }
    match mode {
        ResizeMode::Stretch => imageops::resize(&img, size, size, imageops::FilterType::Triangle),
        ResizeMode::CenterCrop => {
            let (nw, nh) = center_crop_scaled(w, h, size);
            let scaled = imageops::resize(&img, nw, nh, imageops::FilterType::Triangle);
            let (x, y) = ((nw - size) / 2, (nh - size) / 2);
            imageops::crop_imm(&scaled, x, y, size, size).to_image()
        }
    }
}

/// The size a `w x h` image is scaled to before its centre is cropped to `size x size`.
fn center_crop_scaled(w: u32, h: u32, size: u32) -> (u32, u32) {
    let scale = size as f32 / w.min(h).max(1) as f32;
    let nw = ((w as f32 * scale).round() as u32).max(size);
    let nh = ((h as f32 * scale).round() as u32).max(size);
    (nw, nh)
}

/// Checks the declared size of an image (and the size it is resized through) against
/// [`mafs_core::limits`] before any pixel is decoded.
fn check_dimensions(
    (w, h): (u32, u32),
    size: Option<u32>,
    mode: ResizeMode,
    context: &dyn Fn() -> String,
) -> Result<(), DataError> {
    let limits = mafs_core::limits::current();
    let over = |what: &'static str, value: u64, limit: u64, flag: &'static str| {
        Err(DataError::LimitExceeded {
            context: context(),
            what,
            value,
            limit,
            flag,
        })
    };
    let side = limits.max_image_side as u64;
    let flag_side = "--max-image-side / MAFS_MAX_IMAGE_SIDE";
    let flag_pixels = "--max-image-pixels / MAFS_MAX_IMAGE_PIXELS";
    if w as u64 > side {
        return over("declared image width", w as u64, side, flag_side);
    }
    if h as u64 > side {
        return over("declared image height", h as u64, side, flag_side);
    }
    let pixels = w as u64 * h as u64;
    if pixels > limits.max_image_pixels {
        return over(
            "declared image pixel count",
            pixels,
            limits.max_image_pixels,
            flag_pixels,
        );
    }
    if let (Some(s), ResizeMode::CenterCrop) = (size, mode) {
        // a 1 x 16,384 strip scaled to a shorter side of 224 would be 3.7 GP wide
        let (nw, nh) = center_crop_scaled(w, h, s);
        let scaled = nw as u64 * nh as u64;
        if scaled > limits.max_image_pixels {
            return over(
                "pixel count after scaling the shorter side (aspect ratio too extreme)",
                scaled,
                limits.max_image_pixels,
                flag_pixels,
            );
        }
    }
    Ok(())
}

/// The `image` crate's limits for one decode.
fn decoder_limits() -> image::Limits {
    let l = mafs_core::limits::current();
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(l.max_image_side);
    limits.max_image_height = Some(l.max_image_side);
    limits.max_alloc = Some(l.max_decode_bytes());
    limits
}

/// Decodes with the size checks, then resizes: `open` gives a fresh reader over the same
/// bytes (the header is read once for the size check, then again to decode). `bad` makes the
/// error of an undecodable image.
fn decode_checked<R: std::io::BufRead + std::io::Seek>(
    open: &dyn Fn() -> std::io::Result<R>,
    (size, mode): (Option<u32>, ResizeMode),
    context: &dyn Fn() -> String,
    bad: &dyn Fn(String) -> DataError,
) -> Result<RgbImage, DataError> {
    if size == Some(0) {
        return Err(bad("the requested image size is 0".into()));
    }
    let reader = |r: std::io::Result<R>| -> Result<image::ImageReader<R>, DataError> {
        image::ImageReader::new(r.map_err(|e| bad(e.to_string()))?)
            .with_guessed_format()
            .map_err(|e| bad(e.to_string()))
    };
    // the header only, so that our check (naming the limit and its flag) comes first
    let mut header = reader(open())?;
    header.no_limits();
    let dims = no_panic(
        || header.into_dimensions().map_err(|e| bad(e.to_string())),
        bad,
    )?;
    if dims.0 == 0 || dims.1 == 0 {
        return Err(bad(format!(
            "the image declares {}x{} pixels",
            dims.0, dims.1
        )));
    }
    check_dimensions(dims, size, mode, context)?;
    let decode = || {
        let mut r = reader(open())?;
        r.limits(decoder_limits());
        r.decode().map_err(|e| bad(e.to_string()))
    };
    let img = no_panic(decode, bad)?.to_rgb8();
    if img.dimensions() != dims {
        return Err(bad(format!(
            "decoded {:?} pixels, the header declared {dims:?}",
            img.dimensions()
        )));
    }
    Ok(match size {
        Some(s) => resize_square(img, s, mode),
        None => img,
    })
}

/// Runs a decode, turning a panic inside a decoder (a bug in a codec, on hostile bytes) into
/// an error.
fn no_panic<T>(
    f: impl FnOnce() -> Result<T, DataError>,
    bad: &dyn Fn(String) -> DataError,
) -> Result<T, DataError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let msg = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        Err(bad(format!("the decoder failed ({msg})")))
    })
}

/// Decodes JPEG or PNG bytes (detected from the content) as RGB and, when `size` is given,
/// resizes them, with the same checks as [`load_image`]: the declared size against
/// [`mafs_core::limits`] before decoding, a decoder panic as an error. `origin` names the
/// bytes in errors (a shard member, a parquet row).
///
/// # Errors
///
/// [`DataError::LimitExceeded`] for an image larger than the limits, [`DataError::BadImage`]
/// (with record 0 of `origin`) when the bytes do not decode.
pub fn decode_image(
    bytes: &[u8],
    size: Option<u32>,
    mode: ResizeMode,
    origin: &str,
) -> Result<RgbImage, DataError> {
    let context = || origin.to_string();
    let bad = |reason: String| DataError::BadImage {
        record: RecordRef::new(origin, 0, None),
        image: PathBuf::from(origin),
        reason,
    };
    let open = || -> std::io::Result<std::io::Cursor<&[u8]>> { Ok(std::io::Cursor::new(bytes)) };
    decode_checked(&open, (size, mode), &context, &bad)
}

/// Decodes the image at `path` as RGB (JPEG or PNG, detected from the content) and, when
/// `size` is given, resizes it. The declared width, height and pixel count are checked
/// against [`mafs_core::limits`] before any pixel is decoded, and the decoder's allocations
/// are bounded. Errors name the record the image belongs to.
///
/// # Errors
///
/// [`DataError::MissingImage`] when the file does not exist, [`DataError::LimitExceeded`]
/// when it declares a size beyond the limits, [`DataError::BadImage`] when it cannot be
/// decoded.
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
    let context = || format!("{record}: image {}", path.display());
    let bad = |reason: String| DataError::BadImage {
        record: record.clone(),
        image: path.to_path_buf(),
        reason,
    };
    let open = || std::fs::File::open(path).map(std::io::BufReader::new);
    decode_checked(&open, (size, mode), &context, &bad)
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
            .map(|part| {
                (
                    part,
                    s.spawn(move || part.iter().map(one).collect::<Vec<_>>()),
                )
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(part, h)| {
                // load_image catches decoder panics; should a thread still die, each of its
                // images fails by name rather than the whole load
                h.join().unwrap_or_else(|_| {
                    part.iter()
                        .map(|(p, r)| {
                            Err(DataError::BadImage {
                                record: r.clone(),
                                image: p.clone(),
                                reason: "the image loading thread failed".into(),
                            })
                        })
                        .collect()
                })
            })
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

    /// A valid PNG header declaring `w x h` pixels followed by almost no data.
    fn png_bomb(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::new(1, 1);
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
        // IHDR data starts at byte 16: width, height (big-endian); fix its CRC
        bytes[16..20].copy_from_slice(&w.to_be_bytes());
        bytes[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn declared_sizes_are_bounded_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let r = RecordRef::new("f.json", 4, Some(3));
        let path = dir.path().join("bomb.png");
        std::fs::write(&path, png_bomb(100_000, 100_000)).unwrap();
        let e = load_image(&path, Some(64), ResizeMode::CenterCrop, &r).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("bomb.png") && msg.contains("record 4") && msg.contains("16384"),
            "{msg}"
        );
        std::fs::write(&path, png_bomb(9_000, 9_000)).unwrap();
        let msg = load_image(&path, None, ResizeMode::Stretch, &r)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("81000000") && msg.contains("50000000"),
            "{msg}"
        );
        // a thin strip whose centre crop would scale to gigapixels
        let msg = decode_image(&png_bomb(16_000, 1), Some(224), ResizeMode::CenterCrop, "s")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("aspect ratio"), "{msg}");
        let msg = decode_image(&png_bomb(0, 5), None, ResizeMode::Stretch, "z")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("z: "), "{msg}");
    }
}
