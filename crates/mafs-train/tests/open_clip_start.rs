//! Starting mafs runs from open_clip towers, with open_clip's tokenizer as a Hugging Face
//! `tokenizer.json`, on the committed fixtures (`datasets/fixtures/open_clip/`, made by
//! `scripts/make_open_clip_fixture.py`): the run's towers are open_clip's, the batcher's ids
//! are open_clip's `tokenize` ids, the run's text tower gives open_clip's text embeddings, and
//! `freeze_encoders` trains only the prototypes, scheduler, fusion and heads, across a resume.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use mafs_core::ModalityInput;
use mafs_data::dataset::CaptionItem;
use mafs_data::{Instance, Split};
use mafs_encoders::import::{OpenClipTowers, load_open_clip};
use mafs_train::config::{DataSource, FusionKind, RunConfig, Task};
use mafs_train::data::{Vocabulary, make_batcher};
use mafs_train::init::{load_encoders, trainable_tensors};
use mafs_train::model::{MafsModel, build_model};
use mafs_train::train::{TrainOptions, train};
use safetensors::SafeTensors;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures/open_clip")
}

/// `(shape, values)` of a reference tensor; ids come back as `f64` exactly.
fn reference(name: &str, key: &str) -> (Vec<usize>, Vec<f64>) {
    let bytes = std::fs::read(fixtures().join(format!("{name}-reference.safetensors"))).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let v = st.tensor(key).unwrap();
    let values = match v.dtype() {
        safetensors::Dtype::F32 => v
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()) as f64)
            .collect(),
        safetensors::Dtype::I64 => v
            .data()
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f64)
            .collect(),
        other => panic!("{key}: {other:?}"),
    };
    (v.shape().to_vec(), values)
}

/// Imports the fixture and writes what `mafs import open-clip` writes: the towers and the
/// preset.
fn import(name: &str, dir: &Path) -> (OpenClipTowers, PathBuf, PathBuf) {
    let f = fixtures();
    let (preset, towers) = load_open_clip(
        &f.join(format!("{name}.safetensors")),
        &f.join(format!("{name}.json")),
        &Device::flex(),
    )
    .unwrap();
    let encoders = dir.join("encoders.safetensors");
    towers.save_safetensors(&encoders).unwrap();
    let preset_path = dir.join("preset.json");
    std::fs::write(&preset_path, serde_json::to_string_pretty(&preset).unwrap()).unwrap();
    (towers, encoders, preset_path)
}

fn config(preset: &Path, encoders: &Path, freeze: bool) -> RunConfig {
    let mut c = RunConfig::new(Task::Retrieval, FusionKind::MaAfsLate, 5);
    c.preset = preset.display().to_string();
    c.data = DataSource::World {
        seed: 5,
        train: 8,
        val: 0,
        test: 0,
        shift: 0,
    };
    c.optim.epochs = 1;
    c.optim.batch_size = 4;
    c.corruption_aware.enabled = false;
    c.tokenizer = Some(fixtures().join("tokenizer.json"));
    c.init.encoders = Some(encoders.to_path_buf());
    c.init.freeze_encoders = freeze;
    c
}

fn max_abs_diff(a: Tensor<2>, b: Tensor<2>) -> f32 {
    (a - b).abs().max().into_scalar()
}

fn relative_error(ours: Tensor<2>, theirs: &(Vec<usize>, Vec<f64>)) -> f64 {
    assert_eq!(ours.dims().to_vec(), theirs.0);
    let ours = ours.into_data().try_to_vec::<f32>().unwrap();
    let scale = theirs.1.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = ours
        .iter()
        .zip(&theirs.1)
        .fold(0.0f64, |m, (a, b)| m.max((*a as f64 - b).abs()));
    diff / scale
}

fn text_instance(id: u64, text: &str) -> Arc<Instance> {
    Arc::new(Instance {
        id,
        split: Split::Train,
        filename: format!("{id}.png"),
        image: None,
        captions: vec![text.to_string()],
        sentids: vec![id],
        side_text: None,
        questions: vec![],
        corruptions: Vec::new(),
    })
}

#[test]
fn hf_tokenizer_and_run_text_tower_reproduce_open_clip() {
    let dir = tempfile::tempdir().unwrap();
    let (_, encoders, preset) = import("tiny-quickgelu", dir.path());
    let cfg = config(&preset, &encoders, false);
    let vocab = Vocabulary::for_run(&[], &cfg).unwrap();
    assert!(vocab.wraps_text());
    assert_eq!(vocab.tokenizer.vocab_size(), 768);

    // the batcher's caption ids are open_clip's `tokenize` ids, padding after <|endoftext|>
    let texts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("texts.json")).unwrap())
            .unwrap();
    let texts: Vec<&str> = texts["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let batcher = make_batcher(&vocab, 32, 16, None);
    let items: Vec<CaptionItem> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| CaptionItem {
            instance: text_instance(i as u64, t),
            caption: Some(0),
        })
        .collect();
    let device = Device::flex();
    let batch = batcher.batch(items, &device);
    let ModalityInput::Tokens { ids, padding } = &batch.caption.input else {
        panic!("captions are tokens");
    };
    let (shape, ref_ids) = reference("tiny-quickgelu", "text_ids");
    let [b, t] = ids.dims();
    assert_eq!(
        (b, t),
        (shape[0], shape[1]),
        "the longest text fills the context"
    );
    let ours = ids.to_data().convert::<i64>().try_to_vec::<i64>().unwrap();
    let pad = padding.to_data().try_to_vec::<bool>().unwrap();
    for (k, (&o, &r)) in ours.iter().zip(&ref_ids).enumerate() {
        if pad[k] {
            assert_eq!(r, 0.0, "position {k}: open_clip pads with 0");
        } else {
            assert_eq!(o as f64, r, "position {k} (row {}): ids differ", k / t);
        }
    }

    // the run's text tower on those ids gives open_clip's text embeddings
    let model: MafsModel = build_model(&cfg, vocab.sizes(), &device).unwrap();
    let model = load_encoders(model, &encoders).unwrap();
    let text = model.text.forward(ids.clone(), padding.clone()).pooled;
    let err = relative_error(text, &reference("tiny-quickgelu", "text_embeddings"));
    assert!(err <= 1e-4, "text embeddings: relative error {err}");
    let (s, v) = reference("tiny-quickgelu", "images");
    let images = Tensor::<4>::from_data(
        TensorData::new(v.iter().map(|x| *x as f32).collect::<Vec<_>>(), s),
        &device,
    );
    let image = model.image.forward(images).pooled;
    let err = relative_error(image, &reference("tiny-quickgelu", "image_embeddings"));
    assert!(err <= 1e-4, "image embeddings: relative error {err}");
}

#[test]
fn frozen_imported_towers_stay_put_while_the_heads_train_across_a_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (towers, encoders, preset) = import("tiny-gelu", dir.path());
    let mut cfg = config(&preset, &encoders, true);
    // a checkpoint after the first step, so that the second process resumes from it (a
    // --resume without a checkpoint is an error)
    cfg.optim.checkpoint_every = 1;
    let run = dir.path().join("run");
    let mut opts = TrainOptions::new(&run);
    opts.quiet = true;
    opts.validate = false;
    opts.stop_after = Some(1);
    let first = train(&cfg, &opts).unwrap();
    assert!(!first.finished);
    let after_one = first.model.prototypes.prototypes.val();
    opts.stop_after = None;
    opts.resume = true;
    let out = train(&cfg, &opts).unwrap();
    assert!(
        out.finished && out.state.step == 2,
        "step {}",
        out.state.step
    );
    let model = out.model;
    assert_eq!(trainable_tensors(&model.image), 0, "image tower trains");
    assert_eq!(trainable_tensors(&model.text), 0, "text tower trains");
    assert!(trainable_tensors(&model.fusion) > 0 && trainable_tensors(&model.head) > 0);

    // the towers are the imported ones, bit for bit, after two steps and a resume
    let tower_weights = |m: &MafsModel| {
        (
            m.image.proj.val().into_data(),
            m.text.token_embedding.weight.val().into_data(),
            m.text.transformer.resblocks[1]
                .attn
                .in_proj
                .weight
                .val()
                .into_data(),
        )
    };
    let (a, b, c) = tower_weights(&model);
    a.assert_eq(&towers.image.proj.val().into_data(), true);
    b.assert_eq(&towers.text.token_embedding.weight.val().into_data(), true);
    c.assert_eq(
        &towers.text.transformer.resblocks[1]
            .attn
            .in_proj
            .weight
            .val()
            .into_data(),
        true,
    );
    // ... while the prototypes moved in the step after the resume
    let moved = max_abs_diff(model.prototypes.prototypes.val(), after_one);
    assert!(moved > 0.0, "the prototypes did not train");
    assert!(model.num_params() > towers.num_params());
}
