//! Parity with open_clip: the committed fixtures (`datasets/fixtures/open_clip/`, made by
//! `scripts/make_open_clip_fixture.py` from two tiny, randomly initialised open_clip CLIPs,
//! QuickGELU and GELU) import onto our towers and give open_clip's image and text embeddings
//! and image-text logits within 1e-4 relative error. No Python at test time.

use std::path::PathBuf;

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use mafs_encoders::import::{ImportError, load_open_clip};
use safetensors::{Dtype, SafeTensors};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures/open_clip")
}

struct Reference {
    images: (Vec<usize>, Vec<f32>),
    text_ids: (Vec<usize>, Vec<i64>),
    image_embeddings: (Vec<usize>, Vec<f32>),
    text_embeddings: (Vec<usize>, Vec<f32>),
    logits_per_image: (Vec<usize>, Vec<f32>),
}

fn read_reference(name: &str) -> Reference {
    let bytes = std::fs::read(fixtures().join(format!("{name}-reference.safetensors"))).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let f32s = |key: &str| {
        let v = st.tensor(key).unwrap();
        assert_eq!(v.dtype(), Dtype::F32, "{key}");
        let values = v
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        (v.shape().to_vec(), values)
    };
    let ids = st.tensor("text_ids").unwrap();
    assert_eq!(ids.dtype(), Dtype::I64);
    let id_values = ids
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    Reference {
        images: f32s("images"),
        text_ids: (ids.shape().to_vec(), id_values),
        image_embeddings: f32s("image_embeddings"),
        text_embeddings: f32s("text_embeddings"),
        logits_per_image: f32s("logits_per_image"),
    }
}

/// open_clip pools at `argmax` of the ids (the end-of-text id is the largest): everything
/// after it is padding.
fn padding_after_eot(shape: &[usize], ids: &[i64], device: &Device) -> Tensor<2, Bool> {
    let (b, n) = (shape[0], shape[1]);
    let mut pad = vec![false; b * n];
    for r in 0..b {
        let row = &ids[r * n..(r + 1) * n];
        let max = *row.iter().max().unwrap();
        let eot = row.iter().position(|&v| v == max).unwrap();
        for p in pad[r * n + eot + 1..(r + 1) * n].iter_mut() {
            *p = true;
        }
    }
    Tensor::from_data(TensorData::new(pad, [b, n]), device)
}

/// Largest `|ours - theirs|` of each row relative to the row's largest `|theirs|`.
fn worst_relative_error(ours: Tensor<2>, theirs: &(Vec<usize>, Vec<f32>)) -> f32 {
    assert_eq!(ours.dims().to_vec(), theirs.0);
    let ours = ours.into_data().try_to_vec::<f32>().unwrap();
    let cols = theirs.0[1];
    ours.chunks(cols)
        .zip(theirs.1.chunks(cols))
        .map(|(a, b)| {
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let diff = a
                .iter()
                .zip(b)
                .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
            diff / scale
        })
        .fold(0.0, f32::max)
}

fn parity(name: &str) {
    let device = Device::flex();
    let dir = fixtures();
    let (preset, towers) = load_open_clip(
        &dir.join(format!("{name}.safetensors")),
        &dir.join(format!("{name}.json")),
        &device,
    )
    .unwrap();
    assert_eq!(preset.vision.quick_gelu, name.contains("quickgelu"));
    let r = read_reference(name);
    let (s, v) = &r.images;
    let images = Tensor::<4>::from_data(TensorData::new(v.clone(), s.clone()), &device);
    let (s, v) = &r.text_ids;
    let ids = Tensor::<2, Int>::from_data(TensorData::new(v.clone(), s.clone()), &device);
    let padding = padding_after_eot(s, v, &device);

    let image_emb = towers.encode_image(images);
    let text_emb = towers.encode_text(ids, padding);
    let logits = towers.logits(image_emb.clone(), text_emb.clone());
    let errors = [
        (
            "image",
            worst_relative_error(image_emb, &r.image_embeddings),
        ),
        ("text", worst_relative_error(text_emb, &r.text_embeddings)),
        ("logits", worst_relative_error(logits, &r.logits_per_image)),
    ];
    println!("{name}: worst relative error {errors:?}");
    for (what, err) in errors {
        assert!(err <= 1e-4, "{name}: {what} relative error {err} > 1e-4");
    }
}

#[test]
fn quickgelu_model_matches_open_clip() {
    parity("tiny-quickgelu");
}

#[test]
fn gelu_model_matches_open_clip() {
    parity("tiny-gelu");
}

#[test]
fn a_checkpoint_under_the_wrong_config_names_its_keys() {
    // the GELU model's weights under a config with one text layer more and another vocabulary
    let dir = fixtures();
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tiny-gelu.json")).unwrap())
            .unwrap();
    let mut cfg = cfg;
    cfg["text_cfg"]["layers"] = 3.into();
    cfg["text_cfg"]["vocab_size"] = 100.into();
    let tmp = std::env::temp_dir().join(format!("mafs-oc-parity-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let cfg_path = tmp.join("wrong.json");
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let err = load_open_clip(
        &dir.join("tiny-gelu.safetensors"),
        &cfg_path,
        &Device::flex(),
    )
    .unwrap_err();
    std::fs::remove_dir_all(&tmp).unwrap();
    let ImportError::Mismatch { report, .. } = &err else {
        panic!("expected a mismatch, got {err}");
    };
    assert!(
        report
            .missing
            .contains(&"transformer.resblocks.2.attn.in_proj_weight".to_string()),
        "{err}"
    );
    assert_eq!(report.missing.len(), 12, "{err}");
    assert_eq!(report.mis_shaped.len(), 1, "{err}");
    assert_eq!(report.mis_shaped[0].key, "token_embedding.weight");
    assert!(report.unknown.is_empty(), "{err}");
}

#[test]
fn the_comparison_sees_a_wrong_activation() {
    // the GELU model's weights under the QuickGELU config load (same shapes) but compute
    // another function: the parity measure must say so
    let device = Device::flex();
    let dir = fixtures();
    let (_, towers) = load_open_clip(
        &dir.join("tiny-gelu.safetensors"),
        &dir.join("tiny-quickgelu.json"),
        &device,
    )
    .unwrap();
    let r = read_reference("tiny-gelu");
    let (s, v) = &r.images;
    let images = Tensor::<4>::from_data(TensorData::new(v.clone(), s.clone()), &device);
    let err = worst_relative_error(towers.encode_image(images), &r.image_embeddings);
    assert!(
        err > 1e-3,
        "QuickGELU in place of GELU changed the embeddings by only {err}"
    );
}
