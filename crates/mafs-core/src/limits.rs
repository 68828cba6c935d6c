//! Bounds on what user-supplied files may ask for, checked before anything is allocated.
//!
//! A 2 KB PNG can declare 100,000 x 100,000 pixels, a model config can ask for a trillion
//! parameters, a tokenizer file can name token id 4,000,000,000: every reader in mafs checks
//! such sizes against these limits first and returns a typed error naming the file, the value
//! and the limit (never a panic, never an allocation it cannot make).
//!
//! Each limit is a named constant (the default) and can be raised for a process: the `mafs`
//! binary takes `--max-image-side`, `--max-image-pixels`, `--max-file-bytes`, `--max-vocab`,
//! `--max-sequence` and `--max-model-params` (or the `MAFS_MAX_*` environment variables of the
//! same names) and calls [`set`]; a library user calls [`set`] directly. docs/reliability.md
//! lists them.

use std::sync::RwLock;

/// Largest image width or height a decoder may be asked for (pixels).
pub const MAX_IMAGE_SIDE: u32 = 16_384;
/// Largest number of pixels (width x height) of one image: 50 MP covers full-frame cameras.
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;
/// Largest JSON-like input file (dataset JSON, tokenizer, preset, open_clip config, run
/// files): the largest published caption and VQA files are a few hundred MB.
pub const MAX_FILE_BYTES: u64 = 2 << 30;
/// Largest text vocabulary (highest token id + 1): 2^20 covers every published tokenizer.
pub const MAX_VOCAB: usize = 1 << 20;
/// Longest token sequence of a tower (text context length, image patches + 1).
pub const MAX_SEQUENCE: usize = 16_384;
/// Most parameters of the two towers of a preset or open_clip config (ViT-bigG/14 has 2.5 B).
pub const MAX_MODEL_PARAMS: u64 = 3_000_000_000;

/// The limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// [`MAX_IMAGE_SIDE`].
    pub max_image_side: u32,
    /// [`MAX_IMAGE_PIXELS`].
    pub max_image_pixels: u64,
    /// [`MAX_FILE_BYTES`].
    pub max_file_bytes: u64,
    /// [`MAX_VOCAB`].
    pub max_vocab: usize,
    /// [`MAX_SEQUENCE`].
    pub max_sequence: usize,
    /// [`MAX_MODEL_PARAMS`].
    pub max_model_params: u64,
}

impl Limits {
    /// The named constants.
    pub const DEFAULT: Limits = Limits {
        max_image_side: MAX_IMAGE_SIDE,
        max_image_pixels: MAX_IMAGE_PIXELS,
        max_file_bytes: MAX_FILE_BYTES,
        max_vocab: MAX_VOCAB,
        max_sequence: MAX_SEQUENCE,
        max_model_params: MAX_MODEL_PARAMS,
    };

    /// Bytes a decoder may allocate for one image: the pixel limit at 16-bit RGBA (the widest
    /// layout a JPEG or PNG decodes to) plus 64 MiB for metadata chunks.
    pub fn max_decode_bytes(&self) -> u64 {
        self.max_image_pixels
            .saturating_mul(8)
            .saturating_add(64 << 20)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

static CURRENT: RwLock<Limits> = RwLock::new(Limits::DEFAULT);

/// The limits in force for this process ([`Limits::DEFAULT`] unless [`set`] was called).
pub fn current() -> Limits {
    *CURRENT.read().unwrap_or_else(|e| e.into_inner())
}

/// Sets the limits for this process (readers started afterwards see them).
pub fn set(limits: Limits) {
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = limits;
}

/// Checks the size of a file before it is read whole; `what` names its kind in the error.
///
/// # Errors
///
/// A message naming the file, its size and the limit when it is larger than
/// [`Limits::max_file_bytes`], or the I/O error of `metadata`.
pub fn check_file_size(path: &std::path::Path, what: &str) -> Result<u64, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let max = current().max_file_bytes;
    if len > max {
        return Err(format!(
            "{}: {what} of {len} bytes is larger than the limit of {max} bytes \
             (raise it with --max-file-bytes or MAFS_MAX_FILE_BYTES)",
            path.display()
        ));
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_decode_budget() {
        let l = Limits::default();
        assert_eq!(l, Limits::DEFAULT);
        assert_eq!(l.max_decode_bytes(), 400_000_000 + (64 << 20));
        let huge = Limits {
            max_image_pixels: u64::MAX,
            ..l
        };
        assert_eq!(huge.max_decode_bytes(), u64::MAX);
    }

    #[test]
    fn file_size_is_checked_against_the_limit() {
        let path = std::env::temp_dir().join(format!("mafs-limits-{}", std::process::id()));
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(check_file_size(&path, "a test file").unwrap(), 5);
        let missing = check_file_size(&path.with_extension("none"), "x").unwrap_err();
        assert!(missing.contains("mafs-limits"), "{missing}");
        std::fs::remove_file(&path).unwrap();
    }
}
