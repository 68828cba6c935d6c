//! The image corruptions by name, and the one entry point that applies any of them.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::buffer::FloatImage;
use super::profile::SizeProfile;
use super::rng::CorruptRng;
use super::{image_blur, image_digital, image_elastic, image_noise, image_weather, occlusion};

/// An image corruption. The fifteen ImageNet-C corruptions come first, in the paper's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageCorruption {
    /// Additive Gaussian noise.
    GaussianNoise,
    /// Poisson (shot) noise.
    ShotNoise,
    /// Salt-and-pepper noise.
    ImpulseNoise,
    /// Multiplicative Gaussian noise.
    SpeckleNoise,
    /// Gaussian blur.
    GaussianBlur,
    /// Defocus (disk) blur.
    DefocusBlur,
    /// Motion blur at a random angle.
    MotionBlur,
    /// Zoom blur.
    ZoomBlur,
    /// HSV value shift.
    Brightness,
    /// Contrast reduction.
    Contrast,
    /// HSV saturation change.
    Saturate,
    /// Box down/up-sampling.
    Pixelate,
    /// JPEG compression.
    JpegCompression,
    /// Plasma-fractal fog.
    Fog,
    /// Elastic transform.
    ElasticTransform,
    /// Random rectangular patches.
    Occlusion,
    /// The image is absent.
    Missing,
}

impl ImageCorruption {
    /// Every image corruption, in order.
    pub const ALL: [ImageCorruption; 17] = [
        Self::GaussianNoise,
        Self::ShotNoise,
        Self::ImpulseNoise,
        Self::SpeckleNoise,
        Self::GaussianBlur,
        Self::DefocusBlur,
        Self::MotionBlur,
        Self::ZoomBlur,
        Self::Brightness,
        Self::Contrast,
        Self::Saturate,
        Self::Pixelate,
        Self::JpegCompression,
        Self::Fog,
        Self::ElasticTransform,
        Self::Occlusion,
        Self::Missing,
    ];

    /// The fifteen ImageNet-C corruptions (the benchmark's mCE set).
    pub const IMAGENET_C: [ImageCorruption; 15] = [
        Self::GaussianNoise,
        Self::ShotNoise,
        Self::ImpulseNoise,
        Self::SpeckleNoise,
        Self::GaussianBlur,
        Self::DefocusBlur,
        Self::MotionBlur,
        Self::ZoomBlur,
        Self::Brightness,
        Self::Contrast,
        Self::Saturate,
        Self::Pixelate,
        Self::JpegCompression,
        Self::Fog,
        Self::ElasticTransform,
    ];

    /// The name used in specs (`image:<name>:<severity>`), as the reference names its function.
    pub fn name(&self) -> &'static str {
        match self {
            Self::GaussianNoise => "gaussian_noise",
            Self::ShotNoise => "shot_noise",
            Self::ImpulseNoise => "impulse_noise",
            Self::SpeckleNoise => "speckle_noise",
            Self::GaussianBlur => "gaussian_blur",
            Self::DefocusBlur => "defocus_blur",
            Self::MotionBlur => "motion_blur",
            Self::ZoomBlur => "zoom_blur",
            Self::Brightness => "brightness",
            Self::Contrast => "contrast",
            Self::Saturate => "saturate",
            Self::Pixelate => "pixelate",
            Self::JpegCompression => "jpeg_compression",
            Self::Fog => "fog",
            Self::ElasticTransform => "elastic_transform",
            Self::Occlusion => "occlusion",
            Self::Missing => "missing",
        }
    }

    /// Looks a corruption up by its spec name (`jpeg` and `elastic` are accepted too).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "jpeg" => return Some(Self::JpegCompression),
            "elastic" => return Some(Self::ElasticTransform),
            _ => {}
        }
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// Whether the corruption draws random numbers (the others are deterministic functions of
    /// the image and severity).
    pub fn is_random(&self) -> bool {
        !matches!(
            self,
            Self::GaussianBlur
                | Self::DefocusBlur
                | Self::ZoomBlur
                | Self::Brightness
                | Self::Contrast
                | Self::Saturate
                | Self::Pixelate
                | Self::JpegCompression
                | Self::Missing
        )
    }

    /// Applies the corruption at `severity` (1–5) with the constants of
    /// [`SizeProfile::for_size`]. `None` for [`ImageCorruption::Missing`].
    pub fn apply(&self, img: &RgbImage, severity: u8, rng: &mut CorruptRng) -> Option<RgbImage> {
        let p = SizeProfile::for_size(img.width() as usize, img.height() as usize);
        self.apply_with(img, severity, &p, rng)
    }

    /// Applies the corruption with explicit constants.
    ///
    /// # Panics
    /// Panics if `severity` is not in `1..=5`.
    pub fn apply_with(
        &self,
        img: &RgbImage,
        severity: u8,
        p: &SizeProfile,
        rng: &mut CorruptRng,
    ) -> Option<RgbImage> {
        super::profile::sev_index(severity);
        if img.width() == 0 || img.height() == 0 {
            return if *self == Self::Missing {
                None
            } else {
                Some(img.clone())
            };
        }
        let f = || FloatImage::from_rgb(img);
        let out = match self {
            Self::GaussianNoise => image_noise::gaussian_noise(&f(), severity, p, rng).to_rgb(),
            Self::ShotNoise => image_noise::shot_noise(&f(), severity, p, rng).to_rgb(),
            Self::ImpulseNoise => image_noise::impulse_noise(&f(), severity, p, rng).to_rgb(),
            Self::SpeckleNoise => image_noise::speckle_noise(&f(), severity, p, rng).to_rgb(),
            Self::GaussianBlur => image_blur::gaussian_blur(&f(), severity, p).to_rgb(),
            Self::DefocusBlur => image_blur::defocus_blur(&f(), severity, p).to_rgb(),
            Self::MotionBlur => image_blur::motion_blur(&f(), severity, p, rng).to_rgb(),
            Self::ZoomBlur => image_blur::zoom_blur(&f(), severity, p).to_rgb_f32(),
            Self::Brightness => image_digital::brightness(&f(), severity, p).to_rgb(),
            Self::Contrast => image_digital::contrast(&f(), severity, p).to_rgb(),
            Self::Saturate => image_digital::saturate(&f(), severity, p).to_rgb(),
            Self::Pixelate => image_digital::pixelate(img, severity, p),
            Self::JpegCompression => image_digital::jpeg_compression(img, severity, p),
            Self::Fog => image_weather::fog(&f(), severity, p, rng).to_rgb(),
            Self::ElasticTransform => {
                image_elastic::elastic_transform(&f(), severity, p, rng).to_rgb()
            }
            Self::Occlusion => occlusion::occlude(&f(), severity, rng).0.to_rgb(),
            Self::Missing => return None,
        };
        Some(out)
    }
}

impl std::fmt::Display for ImageCorruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
