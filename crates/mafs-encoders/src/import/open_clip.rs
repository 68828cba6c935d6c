//! open_clip checkpoints onto our towers: [`OpenClipTowers`] (image tower, text tower and
//! `logit_scale`) loaded from an open_clip `.safetensors` state dict and the model-config JSON
//! that chose its architecture.
//!
//! Loading is all or nothing: every tensor is looked up, converted and shape-checked before
//! the module is touched, and any unknown, missing or mis-shaped key fails the whole import
//! with an [`ImportError::Mismatch`] that names them all.

use std::collections::BTreeSet;
use std::path::Path;

use burn::module::{Module, Param};
use burn::store::{ModuleSnapshot, SafetensorsStore, bridge};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde_json::Value;

use super::error::{ImportError, KeyReport, MisShaped};
use super::keys::{KeyMapping, Tower, Transform, open_clip_key};
use super::state_dict::{RawTensor, StateDict};
use crate::error::EncoderError;
use crate::preset::EncoderPreset;
use crate::text::TextTransformer;
use crate::vit::ImageVit;

/// open_clip's initial `logit_scale`, `ln(1 / 0.07)`.
pub const INIT_LOG_LOGIT_SCALE: f64 = 2.659_260_036_932_778;

/// A CLIP: our image and text towers and open_clip's `logit_scale` (the log of the scale).
///
/// Its module paths (`image.*`, `text.*`, `logit_scale`) are those of a mafs model's towers,
/// so its safetensors file initialises a mafs run's encoders directly.
#[derive(Module, Debug)]
pub struct OpenClipTowers {
    /// Image tower (open_clip `visual`).
    pub image: ImageVit,
    /// Text tower (modality `text`).
    pub text: TextTransformer,
    /// `ln` of the logit scale, `[1]` (open_clip: a 0-d tensor).
    pub logit_scale: Param<Tensor<1>>,
}

impl OpenClipTowers {
    /// Freshly initialised towers of `preset`'s architecture.
    pub fn init(preset: &EncoderPreset, device: &Device) -> Self {
        Self {
            image: preset.image_encoder(device),
            text: preset.text_encoder("text", device),
            logit_scale: Param::from_tensor(Tensor::from_floats([INIT_LOG_LOGIT_SCALE], device)),
        }
    }

    /// open_clip's `encode_image(normalize=False)`: the projected class token.
    ///
    /// # Shapes
    ///
    /// - `images`: `[batch, 3, image_size, image_size]`, normalised as CLIP's preprocessing
    /// - output: `[batch, embed_dim]`
    pub fn encode_image(&self, images: Tensor<4>) -> Tensor<2> {
        self.image.forward(images).pooled
    }

    /// open_clip's `encode_text(normalize=False)`: the projected end-of-text token.
    ///
    /// # Shapes
    ///
    /// - `ids`, `padding`: `[batch, seq]` (`true` = padding, i.e. every position after the
    ///   end-of-text token)
    /// - output: `[batch, embed_dim]`
    pub fn encode_text(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> Tensor<2> {
        self.text.forward(ids, padding).pooled
    }

    /// open_clip's `logits_per_image`: `exp(logit_scale) * norm(images) @ norm(texts)^T`.
    ///
    /// # Shapes
    ///
    /// - `image_embeddings`: `[n_images, embed_dim]`, `text_embeddings`: `[n_texts, embed_dim]`
    /// - output: `[n_images, n_texts]`
    pub fn logits(&self, image_embeddings: Tensor<2>, text_embeddings: Tensor<2>) -> Tensor<2> {
        let unit = |x: Tensor<2>| {
            let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
            x / norm
        };
        let scale = self.logit_scale.val().exp().reshape([1, 1]);
        unit(image_embeddings).matmul(unit(text_embeddings).transpose()) * scale
    }

    /// Writes the towers as safetensors (names `image.*`, `text.*`, `logit_scale`, the same
    /// as in a mafs run's `model.safetensors`).
    ///
    /// # Errors
    ///
    /// [`ImportError::Apply`] with burn-store's message if the file cannot be written.
    pub fn save_safetensors(&self, path: &Path) -> Result<(), ImportError> {
        let mut store = SafetensorsStore::from_file(path)
            .overwrite(true)
            .skip_enum_variants(true)
            .metadata("producer", "mafs import open-clip");
        self.save_into(&mut store).map_err(|e| ImportError::Apply {
            origin: path.display().to_string(),
            message: e.to_string(),
        })
    }
}

/// The architecture an open_clip model config describes: a `model_configs/*.json` file, or a
/// Hugging Face hub `open_clip_config.json` (the same object under `model_cfg`); `name`
/// names it in errors.
///
/// # Errors
///
/// As [`EncoderPreset::from_open_clip_config`].
pub fn preset_from_open_clip_json(json: &str, name: &str) -> Result<EncoderPreset, ImportError> {
    let value: Value = serde_json::from_str(json).map_err(|e| EncoderError::Parse {
        origin: name.to_string(),
        message: e.to_string(),
    })?;
    let inner = match value.get("model_cfg") {
        Some(cfg @ Value::Object(_)) => cfg.to_string(),
        _ => json.to_string(),
    };
    Ok(EncoderPreset::from_open_clip_config(&inner, name)?)
}

/// Every mapping row of `preset`'s towers: our full path (`image.…`, `text.…`,
/// `logit_scale`), open_clip's key, the transform, and our shape.
pub fn open_clip_key_map(preset: &EncoderPreset, device: &Device) -> Vec<(KeyMapping, Vec<usize>)> {
    let towers = OpenClipTowers::init(preset, device);
    key_map_of(&towers)
}

fn key_map_of(towers: &OpenClipTowers) -> Vec<(KeyMapping, Vec<usize>)> {
    let mut rows = Vec::new();
    for t in towers.collect(None, None, true) {
        let shape = t.shape.to_vec();
        let mapping = if let Some(inner) = t.name.strip_prefix("image.") {
            KeyMapping {
                ours: t.name.clone(),
                ..open_clip_key(Tower::Image, inner)
            }
        } else if let Some(inner) = t.name.strip_prefix("text.") {
            KeyMapping {
                ours: t.name.clone(),
                ..open_clip_key(Tower::Text, inner)
            }
        } else {
            KeyMapping {
                ours: t.name.clone(),
                theirs: t.name.clone(),
                transform: Transform::Identity,
            }
        };
        rows.push((mapping, shape));
    }
    rows
}

fn transpose(raw: &RawTensor) -> Vec<f32> {
    let (r, c) = (raw.shape[0], raw.shape[1]);
    let mut out = vec![0.0f32; r * c];
    for i in 0..r {
        for j in 0..c {
            out[j * r + i] = raw.values[i * c + j];
        }
    }
    out
}

/// The shape open_clip stores for a tensor of ours.
fn their_shape(ours: &[usize], transform: Transform) -> Vec<usize> {
    match transform {
        Transform::Identity => ours.to_vec(),
        Transform::Transpose => ours.iter().rev().copied().collect(),
    }
}

/// Loads an open_clip state dict onto fresh towers of `preset`'s architecture. `origin`
/// and `config_origin` name the checkpoint and the config in errors.
///
/// # Errors
///
/// [`ImportError::Mismatch`] listing every unknown, missing and mis-shaped key (nothing is
/// loaded then), [`ImportError::Apply`] if burn refuses the converted tensors.
pub fn load_open_clip_state_dict(
    state: &StateDict,
    preset: &EncoderPreset,
    origin: &str,
    config_origin: &str,
    device: &Device,
) -> Result<OpenClipTowers, ImportError> {
    let mut towers = OpenClipTowers::init(preset, device);
    let mut report = KeyReport::default();
    let mut used = BTreeSet::new();
    let mut converted = Vec::new();
    for (m, ours_shape) in key_map_of(&towers) {
        let Some(raw) = state.tensors.get(&m.theirs) else {
            report.missing.push(m.theirs);
            continue;
        };
        used.insert(m.theirs.clone());
        let expected = their_shape(&ours_shape, m.transform);
        // open_clip's logit_scale is 0-d (or [1] with `nonscalar_logit_scale`)
        let scalar_ok = m.ours == "logit_scale" && raw.values.len() == 1 && raw.shape.len() <= 1;
        if raw.shape != expected && !scalar_ok {
            report.mis_shaped.push(MisShaped {
                key: m.theirs,
                expected,
                found: raw.shape.clone(),
            });
            continue;
        }
        let values = match m.transform {
            Transform::Identity => raw.values.clone(),
            Transform::Transpose => transpose(raw),
        };
        converted.push(bridge::from_data(
            TensorData::new(values, ours_shape),
            m.ours,
            None,
        ));
    }
    report.unknown = state
        .tensors
        .keys()
        .filter(|k| !used.contains(*k))
        .cloned()
        .collect();
    if !report.is_empty() {
        return Err(ImportError::Mismatch {
            origin: origin.to_string(),
            config: config_origin.to_string(),
            report,
        });
    }
    let expected = converted.len();
    let result = towers.apply(converted, None, None, true);
    if !result.errors.is_empty() || !result.missing.is_empty() || result.applied.len() != expected {
        return Err(ImportError::Apply {
            origin: origin.to_string(),
            message: result.to_string(),
        });
    }
    Ok(towers)
}

/// Reads an open_clip checkpoint (`.safetensors`) and its model config (JSON) and returns the
/// architecture and the loaded towers.
///
/// # Errors
///
/// [`ImportError::Io`] for an unreadable file, [`ImportError::Config`] for a config our
/// towers cannot build, and the errors of [`StateDict::from_safetensors`] and
/// [`load_open_clip_state_dict`].
pub fn load_open_clip(
    checkpoint: &Path,
    config: &Path,
    device: &Device,
) -> Result<(EncoderPreset, OpenClipTowers), ImportError> {
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Io { path, source }
    };
    let json = std::fs::read_to_string(config).map_err(read_err(config))?;
    let name = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| config.display().to_string());
    let config_origin = config.display().to_string();
    let preset = preset_from_open_clip_json(&json, &name).map_err(|e| match e {
        ImportError::Config(EncoderError::Parse { message, .. }) => {
            ImportError::Config(EncoderError::Parse {
                origin: config_origin.clone(),
                message,
            })
        }
        ImportError::Config(EncoderError::Invalid { message, .. }) => {
            ImportError::Config(EncoderError::Invalid {
                origin: config_origin.clone(),
                message,
            })
        }
        other => other,
    })?;
    let bytes = std::fs::read(checkpoint).map_err(read_err(checkpoint))?;
    let origin = checkpoint.display().to_string();
    let state = StateDict::from_safetensors(&bytes, &origin)?;
    drop(bytes);
    let towers = load_open_clip_state_dict(&state, &preset, &origin, &config_origin, device)?;
    Ok((preset, towers))
}

/// The towers as an open_clip state dict in safetensors bytes (F32): open_clip's key names
/// and layouts, the inverse of [`load_open_clip_state_dict`], so that weights trained in mafs
/// load into `open_clip.create_model(...)` with `load_state_dict`.
///
/// # Errors
///
/// [`ImportError::Format`] if serialisation fails.
pub fn to_open_clip_safetensors(towers: &OpenClipTowers) -> Result<Vec<u8>, ImportError> {
    let snapshots = towers.collect(None, None, true);
    let mut entries: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for ((m, ours_shape), snap) in key_map_of(towers).into_iter().zip(snapshots) {
        let data = bridge::into_data(snap).map_err(|e| ImportError::Format {
            origin: m.ours.clone(),
            message: e.to_string(),
        })?;
        let values = data.try_to_vec::<f32>().map_err(|e| ImportError::Format {
            origin: m.ours.clone(),
            message: format!("{e:?}"),
        })?;
        let raw = RawTensor {
            shape: ours_shape.clone(),
            values,
        };
        let (shape, values) = match m.transform {
            Transform::Identity if m.ours == "logit_scale" => (vec![], raw.values),
            Transform::Identity => (ours_shape, raw.values),
            Transform::Transpose => (their_shape(&ours_shape, m.transform), transpose(&raw)),
        };
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        entries.push((m.theirs, shape, bytes));
    }
    let views = entries
        .iter()
        .map(|(k, s, b)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                .map(|v| (k.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ImportError::Format {
            origin: "open_clip export".into(),
            message: e.to_string(),
        })?;
    safetensors::serialize(views, None).map_err(|e| ImportError::Format {
        origin: "open_clip export".into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    const CONFIG: &str = r#"{"embed_dim": 8, "quick_gelu": true,
        "vision_cfg": {"image_size": 8, "patch_size": 4, "width": 16, "head_width": 8, "layers": 2},
        "text_cfg": {"context_length": 6, "vocab_size": 20, "width": 16, "heads": 2, "layers": 1}}"#;

    fn preset() -> EncoderPreset {
        preset_from_open_clip_json(CONFIG, "tiny-test").unwrap()
    }

    #[test]
    fn open_clip_round_trip_gives_the_same_function() {
        let (_rng, device) = crate::test_util::seeded(3);
        let p = preset();
        let a = OpenClipTowers::init(&p, &device);
        let bytes = to_open_clip_safetensors(&a).unwrap();
        let state = StateDict::from_safetensors(&bytes, "mem").unwrap();
        // the documented open_clip names
        for key in [
            "visual.conv1.weight",
            "visual.class_embedding",
            "visual.positional_embedding",
            "visual.ln_pre.weight",
            "visual.transformer.resblocks.1.attn.in_proj_weight",
            "visual.transformer.resblocks.1.attn.in_proj_bias",
            "visual.transformer.resblocks.1.attn.out_proj.weight",
            "visual.transformer.resblocks.1.mlp.c_fc.bias",
            "visual.ln_post.bias",
            "visual.proj",
            "token_embedding.weight",
            "positional_embedding",
            "transformer.resblocks.0.ln_2.weight",
            "ln_final.weight",
            "text_projection",
            "logit_scale",
        ] {
            assert!(state.tensors.contains_key(key), "{key} missing");
        }
        assert_eq!(
            state.tensors["visual.transformer.resblocks.0.attn.in_proj_weight"].shape,
            vec![48, 16]
        );
        assert_eq!(state.tensors["logit_scale"].shape, Vec::<usize>::new());
        let b = load_open_clip_state_dict(&state, &p, "mem", "cfg", &device).unwrap();
        let images = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
        let ids =
            Tensor::<2, Int>::from_ints([[19, 3, 4, 18, 0, 0], [19, 5, 18, 0, 0, 0]], &device);
        let pad = Tensor::<2, Int>::from_ints([[0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1]], &device)
            .equal_elem(1);
        for (x, y) in [
            (
                a.encode_image(images.clone()),
                b.encode_image(images.clone()),
            ),
            (
                a.encode_text(ids.clone(), pad.clone()),
                b.encode_text(ids.clone(), pad.clone()),
            ),
        ] {
            x.into_data()
                .assert_approx_eq::<f32>(&y.into_data(), Tolerance::absolute(1e-6));
        }
        let la = a.logits(
            a.encode_image(images.clone()),
            a.encode_text(ids.clone(), pad.clone()),
        );
        assert_eq!(la.dims(), [2, 2]);
        la.into_data().assert_approx_eq::<f32>(
            &b.logits(b.encode_image(images), b.encode_text(ids, pad))
                .into_data(),
            Tolerance::absolute(1e-5),
        );
    }

    #[test]
    fn every_bad_key_is_named_and_nothing_loads() {
        let (_rng, device) = crate::test_util::seeded(4);
        let p = preset();
        let bytes = to_open_clip_safetensors(&OpenClipTowers::init(&p, &device)).unwrap();
        let mut state = StateDict::from_safetensors(&bytes, "mem").unwrap();
        state.tensors.remove("visual.proj");
        state.tensors.insert(
            "logit_bias".into(),
            RawTensor {
                shape: vec![],
                values: vec![-10.0],
            },
        );
        let emb = state.tensors.get_mut("token_embedding.weight").unwrap();
        emb.shape = vec![10, 32];
        let err = load_open_clip_state_dict(&state, &p, "ck.safetensors", "cfg.json", &device)
            .unwrap_err();
        let ImportError::Mismatch { report, .. } = &err else {
            panic!("expected a mismatch, got {err}");
        };
        assert_eq!(report.missing, vec!["visual.proj".to_string()]);
        assert_eq!(report.unknown, vec!["logit_bias".to_string()]);
        assert_eq!(report.mis_shaped.len(), 1);
        assert_eq!(report.mis_shaped[0].expected, vec![20, 16]);
        let text = err.to_string();
        assert!(
            text.contains("ck.safetensors")
                && text.contains("cfg.json")
                && text.contains("nothing was loaded"),
            "{text}"
        );
    }

    #[test]
    fn hub_config_with_model_cfg_is_read() {
        let hub =
            format!(r#"{{"model_cfg": {CONFIG}, "preprocess_cfg": {{"mean": [0.5, 0.5, 0.5]}}}}"#);
        let p = preset_from_open_clip_json(&hub, "open_clip_config").unwrap();
        assert_eq!((p.embed_dim, p.vision.heads, p.text.vocab_size), (8, 2, 20));
        assert!(p.vision.quick_gelu && p.text.quick_gelu);
        let (_rng, device) = crate::test_util::seeded(0);
        let rows = open_clip_key_map(&p, &device);
        // conv1, class, positions, ln_pre and ln_post (2 each), proj; 12 per block; token and
        // position embeddings, ln_final (2), text_projection; logit_scale
        assert_eq!(rows.len(), 8 + 2 * 12 + 5 + 12 + 1);
        let theirs: BTreeSet<_> = rows.iter().map(|(m, _)| m.theirs.clone()).collect();
        assert_eq!(theirs.len(), rows.len(), "the mapping is one-to-one");
    }
}
