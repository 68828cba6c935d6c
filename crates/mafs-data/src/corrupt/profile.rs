//! Which of the reference's constant tables an image gets, and how size-dependent constants
//! scale with its size.
//!
//! Hendrycks and Dietterich wrote `corruptions.py` for 224x224 crops (ImageNet-C) and re-tuned
//! every constant themselves for 64x64 (`make_tinyimagenet_c.py`, Tiny-ImageNet-C) and 32x32
//! (`make_cifar_c.py`, CIFAR-10-C). We use their tables where our images have their sizes, and
//! for any other size the ImageNet-C table with the size-dependent constants (blur radii and
//! sigmas, elastic displacement, fog map size) multiplied by `min(width, height) / 224`, which
//! is what their 64x64 and 32x32 elastic constants (`IMSIZE * k`) and fog map sizes do.
//! Constants that are ratios of the image size already (pixelate factor, zoom factors) and
//! photometric ones (noise, brightness, contrast, saturation, JPEG quality) do not scale.

use serde::{Deserialize, Serialize};

/// One of the reference's constant tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstantSet {
    /// `ImageNet-C/imagenet_c/imagenet_c/corruptions.py` (224x224).
    ImageNetC,
    /// `ImageNet-C/create_c/make_tinyimagenet_c.py` (64x64).
    TinyImageNetC,
    /// `ImageNet-C/create_c/make_cifar_c.py` (32x32).
    Cifar10C,
}

impl ConstantSet {
    /// The image side the table was written for.
    pub fn native_size(&self) -> usize {
        match self {
            ConstantSet::ImageNetC => 224,
            ConstantSet::TinyImageNetC => 64,
            ConstantSet::Cifar10C => 32,
        }
    }

    /// The reference file the table comes from.
    pub fn source_file(&self) -> &'static str {
        match self {
            ConstantSet::ImageNetC => "ImageNet-C/imagenet_c/imagenet_c/corruptions.py",
            ConstantSet::TinyImageNetC => "ImageNet-C/create_c/make_tinyimagenet_c.py",
            ConstantSet::Cifar10C => "ImageNet-C/create_c/make_cifar_c.py",
        }
    }
}

/// The constants an image of a given size is corrupted with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeProfile {
    /// The table used.
    pub set: ConstantSet,
    /// Factor for size-dependent constants: 1 for an image of the table's native size,
    /// `min(width, height) / 224` for the scaled ImageNet-C table.
    pub scale: f64,
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
}

impl SizeProfile {
    /// Tiny-ImageNet-C constants for 64x64, CIFAR-10-C for 32x32, ImageNet-C for 224x224, and
    /// scaled ImageNet-C constants for any other size.
    pub fn for_size(width: usize, height: usize) -> Self {
        let set = match (width, height) {
            (64, 64) => ConstantSet::TinyImageNetC,
            (32, 32) => ConstantSet::Cifar10C,
            _ => ConstantSet::ImageNetC,
        };
        Self::with_set(set, width, height)
    }

    /// A given table, scaled to the image size when that is not the table's native size
    /// (only ImageNet-C is scaled; the smaller tables are used as they are, scale 1, when
    /// forced on an image of another size, scaled from their own native size).
    pub fn with_set(set: ConstantSet, width: usize, height: usize) -> Self {
        let side = width.min(height).max(1) as f64;
        let scale = side / set.native_size() as f64;
        Self {
            set,
            scale,
            width,
            height,
        }
    }

    /// The fog's plasma-fractal map side: the table's (256, 64, 32) at its native size,
    /// otherwise the smallest power of two covering the image.
    pub fn fog_mapsize(&self) -> usize {
        let native = self.set.native_size();
        if self.width == native && self.height == native {
            match self.set {
                ConstantSet::ImageNetC => 256,
                ConstantSet::TinyImageNetC => 64,
                ConstantSet::Cifar10C => 32,
            }
        } else {
            self.width.max(self.height).max(2).next_power_of_two()
        }
    }
}

/// Index of a severity 1–5 into a constant table.
///
/// # Panics
/// Panics if `severity` is not in `1..=5` (the spec parser rejects such severities first).
#[inline]
pub fn sev_index(severity: u8) -> usize {
    assert!(
        (1..=5).contains(&severity),
        "severity must be in 1..=5, got {severity}"
    );
    usize::from(severity - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_pick_the_reference_tables() {
        assert_eq!(
            SizeProfile::for_size(64, 64).set,
            ConstantSet::TinyImageNetC
        );
        assert_eq!(SizeProfile::for_size(32, 32).set, ConstantSet::Cifar10C);
        let p = SizeProfile::for_size(224, 224);
        assert_eq!(
            (p.set, p.scale, p.fog_mapsize()),
            (ConstantSet::ImageNetC, 1.0, 256)
        );
        let q = SizeProfile::for_size(112, 96);
        assert_eq!(q.set, ConstantSet::ImageNetC);
        assert!((q.scale - 96.0 / 224.0).abs() < 1e-12);
        assert_eq!(q.fog_mapsize(), 128);
        assert_eq!(SizeProfile::for_size(64, 64).fog_mapsize(), 64);
    }

    #[test]
    #[should_panic(expected = "severity")]
    fn severity_zero_panics() {
        sev_index(0);
    }
}
