//! Named encoder architectures as JSON, in the spirit of open_clip's `model_configs/*.json`.
//!
//! A preset holds one vision and one text tower configuration that meet at `embed_dim`. The
//! built-in presets are embedded in the binary (`presets/*.json`); a user preset is the same
//! JSON in a file. In the JSON the towers' `output_dim` may be left out: it defaults to
//! `embed_dim` (and must equal it when given). Every other field a config gives a default to
//! may be left out too.

use std::path::Path;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EncoderError;
use crate::text::{TextTransformer, TextTransformerConfig};
use crate::vit::{ImageVit, ImageVitConfig};

/// The preset a run uses when it names none: the smallest, fastest one, which learns the most in
/// a CPU budget (docs/results.md, "Trials").
pub const DEFAULT_PRESET: &str = "micro";

/// The built-in presets: `(name, JSON)`.
const BUILTIN: &[(&str, &str)] = &[
    ("micro", include_str!("../presets/micro.json")),
    ("tiny", include_str!("../presets/tiny.json")),
    ("small", include_str!("../presets/small.json")),
    ("clip-b32", include_str!("../presets/clip-b32.json")),
];

/// Largest MLP hidden width as a multiple of the tower width (open_clip's largest is 4.9).
pub const MAX_MLP_RATIO: f64 = 64.0;
/// Most image channels a tower may read.
pub const MAX_IN_CHANNELS: usize = 64;

fn invalid_field(origin: &str, field: &str, value: usize, max: usize) -> Result<(), EncoderError> {
    Err(EncoderError::Invalid {
        origin: origin.to_string(),
        message: format!("`{field}` = {value} must be in 1..={max}"),
    })
}

/// Fields of [`ImageVitConfig`] without a default.
const VISION_REQUIRED: [&str; 6] = [
    "image_size",
    "patch_size",
    "width",
    "layers",
    "heads",
    "output_dim",
];
/// Fields of [`TextTransformerConfig`] without a default.
const TEXT_REQUIRED: [&str; 6] = [
    "vocab_size",
    "context_length",
    "width",
    "layers",
    "heads",
    "output_dim",
];

/// An encoder architecture: an image ViT and a text transformer meeting at `embed_dim`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncoderPreset {
    /// Preset name.
    pub name: String,
    /// Common width of both towers' projected tokens and pooled embeddings.
    pub embed_dim: usize,
    /// The image tower.
    pub vision: ImageVitConfig,
    /// The text tower.
    pub text: TextTransformerConfig,
}

impl EncoderPreset {
    /// Names of the built-in presets.
    pub fn known_names() -> Vec<String> {
        BUILTIN.iter().map(|(n, _)| n.to_string()).collect()
    }

    /// A built-in preset by name (`"micro"`, `"tiny"`, `"small"`, `"clip-b32"`).
    ///
    /// # Errors
    ///
    /// [`EncoderError::UnknownPreset`] listing the known names.
    pub fn named(name: &str) -> Result<Self, EncoderError> {
        let (_, json) = BUILTIN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            EncoderError::UnknownPreset {
                name: name.to_string(),
                known: Self::known_names(),
            }
        })?;
        Self::from_json_str(json, name)
    }

    /// A preset from a JSON file: our preset format, or an open_clip model config (recognised
    /// by its `vision_cfg` / `text_cfg`; see [`EncoderPreset::from_open_clip_config`], the
    /// preset is then named after the file stem).
    ///
    /// # Errors
    ///
    /// [`EncoderError::Io`] if the file cannot be read, [`EncoderError::Parse`] or
    /// [`EncoderError::Invalid`] naming the file if its content is wrong.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, EncoderError> {
        let path = path.as_ref();
        mafs_core::limits::check_file_size(path, "preset").map_err(|message| {
            EncoderError::Invalid {
                origin: path.display().to_string(),
                message,
            }
        })?;
        let text = std::fs::read_to_string(path).map_err(|source| EncoderError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        let is_open_clip = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                v.as_object()
                    .map(|o| o.contains_key("vision_cfg") || o.contains_key("text_cfg"))
            })
            .unwrap_or(false);
        if is_open_clip {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| origin.clone());
            return Self::from_open_clip_config(&text, &name).map_err(|e| match e {
                EncoderError::Parse { message, .. } => EncoderError::Parse {
                    origin: origin.clone(),
                    message,
                },
                EncoderError::Invalid { message, .. } => EncoderError::Invalid {
                    origin: origin.clone(),
                    message,
                },
                other => other,
            });
        }
        Self::from_json_str(&text, &origin)
    }

    /// A built-in preset if `name_or_path` names one, else the JSON file at that path.
    ///
    /// # Errors
    ///
    /// [`EncoderError::UnknownPreset`] if it is neither a known name nor an existing file.
    pub fn load(name_or_path: &str) -> Result<Self, EncoderError> {
        if BUILTIN.iter().any(|(n, _)| *n == name_or_path) {
            return Self::named(name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.is_file() {
            return Self::from_file(path);
        }
        Err(EncoderError::UnknownPreset {
            name: name_or_path.to_string(),
            known: Self::known_names(),
        })
    }

    /// Parses preset JSON; `origin` names it in errors.
    ///
    /// # Errors
    ///
    /// [`EncoderError::Parse`] for malformed JSON or fields, [`EncoderError::Invalid`] for
    /// an inconsistent architecture (see [`EncoderPreset::validate`]).
    pub fn from_json_str(json: &str, origin: &str) -> Result<Self, EncoderError> {
        let parse = |message: String| EncoderError::Parse {
            origin: origin.to_string(),
            message,
        };
        let mut value: Value = serde_json::from_str(json).map_err(|e| parse(e.to_string()))?;
        let embed_dim = value
            .get("embed_dim")
            .and_then(Value::as_u64)
            .ok_or_else(|| parse("missing or non-integer `embed_dim`".into()))?;
        let templates = [
            (
                "vision",
                serde_json::to_value(ImageVitConfig::new(0, 0, 0, 0, 0, 0)),
                &VISION_REQUIRED[..],
            ),
            (
                "text",
                serde_json::to_value(TextTransformerConfig::new(0, 0, 0, 0, 0, 0)),
                &TEXT_REQUIRED[..],
            ),
        ];
        for (tower, template, required) in templates {
            let template = template.map_err(|e| parse(e.to_string()))?;
            let template = template.as_object().expect("configs serialise to objects");
            let section = value
                .get_mut(tower)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| parse(format!("missing object `{tower}`")))?;
            if let Some(unknown) = section.keys().find(|k| !template.contains_key(*k)) {
                return Err(parse(format!(
                    "unknown field `{tower}.{unknown}`; expected one of {:?}",
                    template.keys().collect::<Vec<_>>()
                )));
            }
            section
                .entry("output_dim")
                .or_insert_with(|| Value::from(embed_dim));
            // burn's Config deserialiser wants every field: fill the defaulted ones
            for (key, default) in template {
                if !required.contains(&key.as_str()) && !section.contains_key(key) {
                    section.insert(key.clone(), default.clone());
                }
            }
            if let Some(missing) = required.iter().find(|k| !section.contains_key(**k)) {
                return Err(parse(format!("missing field `{tower}.{missing}`")));
            }
        }
        let preset: Self = serde_json::from_value(value).map_err(|e| parse(e.to_string()))?;
        preset.validate(origin)?;
        Ok(preset)
    }

    /// Checks that the towers meet at `embed_dim`, heads divide widths, patches tile images
    /// and no size is zero.
    ///
    /// # Errors
    ///
    /// [`EncoderError::Invalid`] saying what is inconsistent.
    pub fn validate(&self, origin: &str) -> Result<(), EncoderError> {
        let invalid = |message: String| {
            Err(EncoderError::Invalid {
                origin: origin.to_string(),
                message,
            })
        };
        let (v, t) = (&self.vision, &self.text);
        if v.output_dim != self.embed_dim || t.output_dim != self.embed_dim {
            return invalid(format!(
                "vision.output_dim ({}) and text.output_dim ({}) must equal embed_dim ({})",
                v.output_dim, t.output_dim, self.embed_dim
            ));
        }
        let sizes = [
            ("embed_dim", self.embed_dim),
            ("vision.image_size", v.image_size),
            ("vision.patch_size", v.patch_size),
            ("vision.width", v.width),
            ("vision.layers", v.layers),
            ("vision.heads", v.heads),
            ("text.vocab_size", t.vocab_size),
            ("text.context_length", t.context_length),
            ("text.width", t.width),
            ("text.layers", t.layers),
            ("text.heads", t.heads),
        ];
        if let Some((field, _)) = sizes.iter().find(|(_, s)| *s == 0) {
            return invalid(format!("`{field}` must be positive"));
        }
        if !v.image_size.is_multiple_of(v.patch_size) {
            return invalid(format!(
                "vision.patch_size ({}) must divide vision.image_size ({})",
                v.patch_size, v.image_size
            ));
        }
        for (tower, width, heads) in [("vision", v.width, v.heads), ("text", t.width, t.heads)] {
            if !width.is_multiple_of(heads) {
                return invalid(format!(
                    "{tower}.heads ({heads}) must divide {tower}.width ({width})"
                ));
            }
        }
        for (tower, ratio) in [("vision", v.mlp_ratio), ("text", t.mlp_ratio)] {
            if !(ratio > 0.0 && ratio <= MAX_MLP_RATIO) {
                return invalid(format!(
                    "{tower}.mlp_ratio = {ratio} must be in (0, {MAX_MLP_RATIO}]"
                ));
            }
        }
        for (tower, p) in [("vision", v.dropout), ("text", t.dropout)] {
            if !(0.0..1.0).contains(&p) {
                return invalid(format!("{tower}.dropout = {p} must be in [0, 1)"));
            }
        }
        self.check_limits(origin)
    }

    /// Checks the sizes against [`mafs_core::limits`] before anything is allocated: the
    /// vocabulary, both towers' sequence lengths and the parameter count (computed in `u128`,
    /// so no size can overflow the check).
    ///
    /// # Errors
    ///
    /// [`EncoderError::Invalid`] naming the field, its value and the limit.
    pub fn check_limits(&self, origin: &str) -> Result<(), EncoderError> {
        let l = mafs_core::limits::current();
        let (v, t) = (&self.vision, &self.text);
        let over = |field: &str, value: u128, limit: u128, flag: &str| {
            Err(EncoderError::Invalid {
                origin: origin.to_string(),
                message: format!(
                    "{field} = {value} exceeds the limit of {limit} (raise it with {flag})"
                ),
            })
        };
        if v.in_channels == 0 || v.in_channels > MAX_IN_CHANNELS {
            return invalid_field(origin, "vision.in_channels", v.in_channels, MAX_IN_CHANNELS);
        }
        if t.vocab_size > l.max_vocab {
            return over(
                "text.vocab_size",
                t.vocab_size as u128,
                l.max_vocab as u128,
                "--max-vocab / MAFS_MAX_VOCAB",
            );
        }
        let seq = "--max-sequence / MAFS_MAX_SEQUENCE";
        if t.context_length > l.max_sequence {
            return over(
                "text.context_length",
                t.context_length as u128,
                l.max_sequence as u128,
                seq,
            );
        }
        let side = (v.image_size / v.patch_size.max(1)) as u128;
        let tokens = side * side + 1;
        if tokens > l.max_sequence as u128 {
            return over(
                "vision tokens ((image_size / patch_size)^2 + 1)",
                tokens,
                l.max_sequence as u128,
                seq,
            );
        }
        let params = self.parameter_count();
        if params > l.max_model_params as u128 {
            return over(
                "parameter count of the two towers",
                params,
                l.max_model_params as u128,
                "--max-model-params / MAFS_MAX_MODEL_PARAMS",
            );
        }
        Ok(())
    }

    /// The number of parameters the two towers will have, without building them.
    pub fn parameter_count(&self) -> u128 {
        let (v, t) = (&self.vision, &self.text);
        let block = |w: u128, ratio: f64| {
            let hidden = (w as f64 * ratio).min(u64::MAX as f64) as u128;
            // attention (qkv + out), MLP (two linears), two layer norms
            4 * w * w + 4 * w + 2 * w * hidden + hidden + w + 4 * w
        };
        let (vw, tw) = (v.width as u128, t.width as u128);
        let side = (v.image_size / v.patch_size.max(1)) as u128;
        let vision = vw * v.in_channels as u128 * (v.patch_size as u128).pow(2)
            + vw
            + (side * side + 1) * vw
            + 4 * vw
            + v.layers as u128 * block(vw, v.mlp_ratio)
            + vw * v.output_dim as u128;
        let text = (t.vocab_size as u128 + t.context_length as u128) * tw
            + t.layers as u128 * block(tw, t.mlp_ratio)
            + 2 * tw
            + tw * t.output_dim as u128;
        vision + text
    }

    /// The same preset with the text vocabulary sized from the data's tokenizer.
    pub fn with_vocab_size(mut self, vocab_size: usize) -> Self {
        self.text.vocab_size = vocab_size;
        self
    }

    /// The same preset with another maximum text length.
    pub fn with_context_length(mut self, context_length: usize) -> Self {
        self.text.context_length = context_length;
        self
    }

    /// The same preset with another image side (the positional embedding follows).
    pub fn with_image_size(mut self, image_size: usize) -> Self {
        self.vision.image_size = image_size;
        self
    }

    /// Builds the image tower (modality name from `vision.modality`, default `"image"`).
    pub fn image_encoder(&self, device: &Device) -> ImageVit {
        self.vision.init(device)
    }

    /// Builds a text tower reading the modality `modality` (`"caption"`, `"side_text"`,
    /// `"question"`...).
    pub fn text_encoder(&self, modality: &str, device: &Device) -> TextTransformer {
        self.text
            .clone()
            .with_modality(modality.to_string())
            .init(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;

    #[test]
    fn builtin_presets_parse_and_validate() {
        for name in EncoderPreset::known_names() {
            let p = EncoderPreset::named(&name).unwrap();
            assert_eq!(p.name, name);
            assert_eq!(p.vision.output_dim, p.embed_dim);
            assert_eq!(p.text.output_dim, p.embed_dim);
        }
        let b32 = EncoderPreset::named("clip-b32").unwrap();
        assert_eq!(
            (
                b32.vision.width,
                b32.vision.layers,
                b32.vision.heads,
                b32.vision.patch_size
            ),
            (768, 12, 12, 32)
        );
        assert_eq!(
            (b32.text.width, b32.text.heads, b32.text.context_length),
            (512, 8, 77)
        );
        assert_eq!(b32.text.vocab_size, 49408);
        assert!(b32.vision.quick_gelu && b32.text.quick_gelu && b32.text.causal);
        assert_eq!(b32.text.pool, crate::text::TextPool::Eot);
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = EncoderPreset::named("huge").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("huge") && msg.contains("tiny") && msg.contains("clip-b32"),
            "{msg}"
        );
        assert!(matches!(
            EncoderPreset::load("no/such/file.json"),
            Err(EncoderError::UnknownPreset { .. })
        ));
    }

    #[test]
    fn tiny_is_a_few_million_parameters() {
        let (_rng, device) = crate::test_util::seeded(0);
        let p = EncoderPreset::named("tiny").unwrap();
        let total =
            p.image_encoder(&device).num_params() + p.text_encoder("caption", &device).num_params();
        assert!(
            (1_000_000..5_000_000).contains(&total),
            "tiny has {total} parameters"
        );
        println!("tiny: {total} parameters");
        for name in ["small", "clip-b32"] {
            // parameters are lazy: counting does not allocate them
            let p = EncoderPreset::named(name).unwrap();
            let (v, t) = (
                p.image_encoder(&device).num_params(),
                p.text_encoder("caption", &device).num_params(),
            );
            println!("{name}: {v} + {t} = {} parameters", v + t);
            if name == "clip-b32" {
                // open_clip's ViT-B-32 has 151,277,313 parameters, one of them `logit_scale`
                assert_eq!(v + t, 151_277_312);
            }
        }
        // ViT-B/32 image tower: 87.8M in open_clip (without the text tower)
        let b32 = EncoderPreset::named("clip-b32").unwrap();
        let vit_params = ImageVitConfig {
            layers: 1,
            ..b32.vision.clone()
        }
        .init(&device)
        .num_params();
        // one block of width 768: 12*768^2 + 13*768 = 7,087,872; the rest: conv1, class,
        // positions (50 x 768), two norms, projection
        let rest = 768 * 3 * 32 * 32 + 768 + 50 * 768 + 4 * 768 + 768 * 512;
        assert_eq!(vit_params, 7_087_872 + rest);
    }

    #[test]
    fn sizes_are_bounded_before_anything_is_built() {
        let b32 = EncoderPreset::named("clip-b32").unwrap();
        // the estimate is exact: open_clip's ViT-B-32 towers have 151,277,312 parameters
        assert_eq!(b32.parameter_count(), 151_277_312);
        let huge = r#"{"embed_dim": 512, "vision_cfg": {"width": 1048576, "layers": 4096},
            "text_cfg": {"vocab_size": 49408}}"#;
        let err = EncoderPreset::from_open_clip_config(huge, "huge.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("huge.json")
                && err.contains("parameter count")
                && err.contains("--max-model-params"),
            "{err}"
        );
        for (cfg, field) in [
            (
                r#""text_cfg": {"vocab_size": 4000000000}"#,
                "text.vocab_size",
            ),
            (
                r#""text_cfg": {"context_length": 1000000}"#,
                "text.context_length",
            ),
            (
                r#""vision_cfg": {"image_size": 65536, "patch_size": 1}"#,
                "vision tokens",
            ),
            (r#""vision_cfg": {"mlp_ratio": 1e300}"#, "mlp_ratio"),
            (
                r#""vision_cfg": {"layers": 18446744073709551615}"#,
                "parameter count",
            ),
        ] {
            let json = format!(r#"{{"embed_dim": 512, {cfg}}}"#);
            let err = EncoderPreset::from_open_clip_config(&json, "c.json")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(field) && err.contains("c.json"),
                "{cfg}: {err}"
            );
        }
    }

    #[test]
    fn user_json_with_defaults_and_errors() {
        let json = r#"{"name": "mine", "embed_dim": 16,
            "vision": {"image_size": 16, "patch_size": 4, "width": 16, "layers": 1, "heads": 2},
            "text": {"vocab_size": 10, "context_length": 4, "width": 16, "layers": 1, "heads": 2, "pool": "Mean"}}"#;
        let p = EncoderPreset::from_json_str(json, "mine.json").unwrap();
        assert_eq!(p.vision.mlp_ratio, 4.0);
        assert_eq!(p.text.pool, crate::text::TextPool::Mean);
        let dir = std::env::temp_dir().join(format!("mafs-preset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("mine.json");
        std::fs::write(&file, json).unwrap();
        assert_eq!(
            EncoderPreset::load(file.to_str().unwrap()).unwrap().name,
            "mine"
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let bad = json.replace("\"heads\": 2}", "\"heads\": 3}");
        let err = EncoderPreset::from_json_str(&bad, "bad.json").unwrap_err();
        assert!(matches!(err, EncoderError::Invalid { .. }), "{err}");
        assert!(err.to_string().contains("bad.json"));
        let missing = json.replace(
            "\"width\": 16, \"layers\": 1, \"heads\": 2}",
            "\"layers\": 1, \"heads\": 2}",
        );
        let err = EncoderPreset::from_json_str(&missing, "m.json").unwrap_err();
        assert!(
            matches!(err, EncoderError::Parse { .. }) && err.to_string().contains("width"),
            "{err}"
        );
        let mismatch = json.replace(
            "\"patch_size\": 4,",
            "\"patch_size\": 4, \"output_dim\": 8,",
        );
        assert!(matches!(
            EncoderPreset::from_json_str(&mismatch, "x").unwrap_err(),
            EncoderError::Invalid { .. }
        ));
        let typo = json.replace("\"pool\"", "\"pooling\"");
        let err = EncoderPreset::from_json_str(&typo, "t.json").unwrap_err();
        assert!(err.to_string().contains("text.pooling"), "{err}");
    }
}
