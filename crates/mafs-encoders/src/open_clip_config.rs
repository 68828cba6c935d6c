//! Reading an open_clip model config (`model_configs/*.json`: `embed_dim`, `quick_gelu`,
//! `vision_cfg`, `text_cfg`) into an [`EncoderPreset`], so that the config that comes with an
//! open_clip checkpoint chooses our architecture.
//!
//! Defaults are open_clip's (`CLIPVisionCfg`, `CLIPTextCfg` in `open_clip/model.py`): vision
//! `head_width = 64` (heads = width / head_width), `mlp_ratio = 4`, `patch_size = 16`,
//! `image_size = 224`; text `context_length = 77`, `vocab_size = 49408`, `width = 512`,
//! `heads = 8`, `layers = 12`, causal, argmax (end-of-text) pooling. Settings our towers do
//! not implement (layer scale, attentional pooling, a Hugging Face or timm tower, ...) are
//! rejected by name rather than silently ignored.

use serde_json::{Map, Value};

use crate::error::EncoderError;
use crate::preset::EncoderPreset;
use crate::text::{TextPool, TextTransformerConfig};
use crate::vit::ImageVitConfig;

fn unsupported(origin: &str, field: &str, value: &Value) -> EncoderError {
    EncoderError::Invalid {
        origin: origin.to_string(),
        message: format!("open_clip setting `{field}` = {value} is not supported by mafs' towers"),
    }
}

fn get_usize(
    section: &Map<String, Value>,
    key: &str,
    default: usize,
    origin: &str,
) -> Result<usize, EncoderError> {
    match section.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .map(|x| x as usize)
            .ok_or_else(|| EncoderError::Parse {
                origin: origin.to_string(),
                message: format!("`{key}` must be a non-negative integer, got {v}"),
            }),
    }
}

fn get_f64(
    section: &Map<String, Value>,
    key: &str,
    default: f64,
    origin: &str,
) -> Result<f64, EncoderError> {
    match section.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v.as_f64().ok_or_else(|| EncoderError::Parse {
            origin: origin.to_string(),
            message: format!("`{key}` must be a number, got {v}"),
        }),
    }
}

/// Rejects `key` unless it is absent, null, or equal to `accepted`.
fn require(
    section: &Map<String, Value>,
    key: &str,
    accepted: &[Value],
    origin: &str,
    tower: &str,
) -> Result<(), EncoderError> {
    match section.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) if accepted.contains(v) => Ok(()),
        Some(v) => Err(unsupported(origin, &format!("{tower}.{key}"), v)),
    }
}

impl EncoderPreset {
    /// Builds a preset from an open_clip model-config JSON; `name` becomes the preset name and
    /// names the config in errors.
    ///
    /// # Errors
    ///
    /// [`EncoderError::Parse`] for malformed JSON or wrongly typed fields,
    /// [`EncoderError::Invalid`] naming any setting our towers do not implement.
    pub fn from_open_clip_config(json: &str, name: &str) -> Result<Self, EncoderError> {
        let parse = |message: String| EncoderError::Parse {
            origin: name.to_string(),
            message,
        };
        let value: Value = serde_json::from_str(json).map_err(|e| parse(e.to_string()))?;
        let root = value
            .as_object()
            .ok_or_else(|| parse("an open_clip config is a JSON object".into()))?;
        let embed_dim = get_usize(root, "embed_dim", 0, name)?;
        if embed_dim == 0 {
            return Err(parse("missing `embed_dim`".into()));
        }
        let quick_gelu = match root.get("quick_gelu") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(v) => return Err(parse(format!("`quick_gelu` must be a boolean, got {v}"))),
        };
        let empty = Map::new();
        let section = |key: &str| -> Result<&Map<String, Value>, EncoderError> {
            match root.get(key) {
                None => Ok(&empty),
                Some(Value::Object(m)) => Ok(m),
                Some(v) => Err(parse(format!("`{key}` must be an object, got {v}"))),
            }
        };
        let v = section("vision_cfg")?;
        let t = section("text_cfg")?;

        for key in ["timm_model_name", "attentional_pool", "ls_init_value"] {
            require(v, key, &[Value::Bool(false)], name, "vision_cfg")?;
        }
        require(
            v,
            "final_ln_after_pool",
            &[Value::Bool(false)],
            name,
            "vision_cfg",
        )?;
        require(v, "no_ln_pre", &[Value::Bool(false)], name, "vision_cfg")?;
        require(v, "pool_type", &[Value::from("tok")], name, "vision_cfg")?;
        require(
            v,
            "pos_embed_type",
            &[Value::from("learnable")],
            name,
            "vision_cfg",
        )?;
        for key in ["hf_model_name", "ls_init_value"] {
            require(t, key, &[], name, "text_cfg")?;
        }
        require(t, "embed_cls", &[Value::Bool(false)], name, "text_cfg")?;
        require(
            t,
            "final_ln_after_pool",
            &[Value::Bool(false)],
            name,
            "text_cfg",
        )?;
        require(t, "proj_bias", &[Value::Bool(false)], name, "text_cfg")?;
        require(
            t,
            "pool_type",
            &[
                Value::from("argmax"),
                Value::from("first"),
                Value::from("last"),
            ],
            name,
            "text_cfg",
        )?;
        require(t, "proj_type", &[Value::from("linear")], name, "text_cfg")?;

        let image_size = match v.get("image_size") {
            Some(Value::Array(hw)) => {
                let side: Vec<_> = hw.iter().filter_map(Value::as_u64).collect();
                if side.len() != 2 || side[0] != side[1] {
                    return Err(unsupported(
                        name,
                        "vision_cfg.image_size",
                        &Value::Array(hw.clone()),
                    ));
                }
                side[0] as usize
            }
            _ => get_usize(v, "image_size", 224, name)?,
        };
        let width = get_usize(v, "width", 768, name)?;
        let head_width = get_usize(v, "head_width", 64, name)?;
        if head_width == 0 || !width.is_multiple_of(head_width) {
            return Err(EncoderError::Invalid {
                origin: name.to_string(),
                message: format!(
                    "vision_cfg.head_width ({head_width}) must divide vision_cfg.width ({width})"
                ),
            });
        }
        let vision = ImageVitConfig::new(
            image_size,
            get_usize(v, "patch_size", 16, name)?,
            width,
            get_usize(v, "layers", 12, name)?,
            width / head_width,
            embed_dim,
        )
        .with_mlp_ratio(get_f64(v, "mlp_ratio", 4.0, name)?)
        .with_quick_gelu(quick_gelu);

        let causal = !matches!(t.get("no_causal_mask"), Some(Value::Bool(true)));
        let pool = match t.get("pool_type").and_then(Value::as_str) {
            Some("first") => TextPool::First,
            // "last" without a class token pools the last position, which with our padding
            // mask is the last non-padding token, as with "argmax"
            _ => TextPool::Eot,
        };
        let text = TextTransformerConfig::new(
            get_usize(t, "vocab_size", 49408, name)?,
            get_usize(t, "context_length", 77, name)?,
            get_usize(t, "width", 512, name)?,
            get_usize(t, "layers", 12, name)?,
            get_usize(t, "heads", 8, name)?,
            embed_dim,
        )
        .with_mlp_ratio(get_f64(t, "mlp_ratio", 4.0, name)?)
        .with_causal(causal)
        .with_pool(pool)
        .with_quick_gelu(quick_gelu);

        let preset = EncoderPreset {
            name: name.to_string(),
            embed_dim,
            vision,
            text,
        };
        preset.validate(name)?;
        Ok(preset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// open_clip's `model_configs/ViT-B-32-quickgelu.json`.
    const B32_QUICKGELU: &str = r#"{
        "embed_dim": 512,
        "quick_gelu": true,
        "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}
    }"#;

    #[test]
    fn b32_config_equals_our_clip_b32_preset() {
        let ours = EncoderPreset::named("clip-b32").unwrap();
        let theirs =
            EncoderPreset::from_open_clip_config(B32_QUICKGELU, "ViT-B-32-quickgelu").unwrap();
        let json = |p: &EncoderPreset| {
            let mut v = serde_json::to_value(p).unwrap();
            v.as_object_mut().unwrap().remove("name");
            v
        };
        assert_eq!(json(&ours), json(&theirs));
    }

    #[test]
    fn unsupported_settings_are_named() {
        let with_ls = B32_QUICKGELU.replace(
            "\"patch_size\": 32}",
            "\"patch_size\": 32, \"ls_init_value\": 0.1}",
        );
        let err = EncoderPreset::from_open_clip_config(&with_ls, "x").unwrap_err();
        assert!(
            err.to_string().contains("vision_cfg.ls_init_value"),
            "{err}"
        );
        let hf = B32_QUICKGELU.replace(
            "\"layers\": 12}",
            "\"layers\": 12, \"hf_model_name\": \"roberta-base\"}",
        );
        let err = EncoderPreset::from_open_clip_config(&hf, "x").unwrap_err();
        assert!(err.to_string().contains("text_cfg.hf_model_name"), "{err}");
        let bad = B32_QUICKGELU.replace("\"width\": 768", "\"width\": 700");
        assert!(matches!(
            EncoderPreset::from_open_clip_config(&bad, "x").unwrap_err(),
            EncoderError::Invalid { .. }
        ));
        let defaults = r#"{"embed_dim": 512, "vision_cfg": {"image_size": [224, 224]}, "text_cfg": {"no_causal_mask": true}}"#;
        let p = EncoderPreset::from_open_clip_config(defaults, "d").unwrap();
        assert_eq!(
            (p.vision.patch_size, p.vision.heads, p.text.heads),
            (16, 12, 8)
        );
        assert!(!p.text.causal && !p.vision.quick_gelu);

        // a file in open_clip's format loads through EncoderPreset::load
        let dir = std::env::temp_dir().join(format!("mafs-oc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ViT-B-32-quickgelu.json");
        std::fs::write(&file, B32_QUICKGELU).unwrap();
        let loaded = EncoderPreset::load(file.to_str().unwrap()).unwrap();
        assert_eq!(loaded.name, "ViT-B-32-quickgelu");
        assert_eq!(loaded.vision.width, 768);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
