//! A mafs checkpoint's `model.safetensors` has exactly the names, dtypes and shapes that
//! `docs/checkpoints.md` lists (the table between `<!-- tensors:begin -->` and
//! `<!-- tensors:end -->`, made by `mafs import inspect ... --markdown --collapse` on a real
//! run's checkpoint), read back with the `safetensors` crate, the reader behind Python's
//! `safetensors.torch.load_file`.
//!
//! `write_layer_reference` (ignored; run by hand) writes a checkpoint and one layer's input
//! and output as mafs computes them, for the Python snippet of docs/checkpoints.md to check.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use mafs_encoders::WeightsRequest;
use mafs_train::checkpoint::save_safetensors;
use mafs_train::config::{FusionKind, RunConfig, Task};
use mafs_train::model::{VocabSizes, build_model};
use mafs_train::tensors::{TensorRow, collapse, parse_markdown, safetensors_rows};

fn docs() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/checkpoints.md");
    std::fs::read_to_string(path).unwrap()
}

fn documented_rows() -> Vec<TensorRow> {
    let text = docs();
    let start = text.find("<!-- tensors:begin -->").expect("begin marker");
    let end = text.find("<!-- tensors:end -->").expect("end marker");
    parse_markdown(&text[start..end])
}

fn shape_of(rows: &[TensorRow], name: &str) -> Vec<usize> {
    rows.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name} is not documented"))
        .shape
        .clone()
}

/// The documented run: VQA, MA-AFS, the `tiny` preset (docs/checkpoints.md says so); its
/// vocabulary and answer counts come from its data, so they are read from the table.
fn documented_model(device: &Device) -> mafs_train::model::MafsModel {
    let rows = documented_rows();
    let vocab = VocabSizes {
        vocab_size: shape_of(&rows, "text.token_embedding.weight")[0],
        n_answers: shape_of(&rows, "head.answer.classifier.fc2.bias")[0],
        bos_id: 1,
        eos_id: 2,
        pad_id: 0,
        has_bos_eos: true,
    };
    // the table documents the `tiny` preset (whatever the default preset is)
    let mut config = RunConfig::new(Task::Vqa, FusionKind::MaAfs, 0);
    config.preset = "tiny".into();
    build_model(&config, vocab, device).unwrap()
}

#[test]
fn model_safetensors_has_the_documented_names_and_shapes() {
    let documented = documented_rows();
    assert!(documented.len() > 50, "{} rows", documented.len());
    let device = Device::flex();
    let model = documented_model(&device);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.safetensors");
    save_safetensors(&model, &file).unwrap();
    let written = collapse(safetensors_rows(&file).unwrap());
    let missing: Vec<_> = documented.iter().filter(|r| !written.contains(r)).collect();
    let undocumented: Vec<_> = written.iter().filter(|r| !documented.contains(r)).collect();
    assert!(
        missing.is_empty() && undocumented.is_empty(),
        "docs/checkpoints.md is out of date (regenerate it with the command it shows)\n\
         documented but not written: {missing:#?}\nwritten but not documented: {undocumented:#?}"
    );
}

/// Writes `model.safetensors`, `layer_input.safetensors` and `layer_output.safetensors`
/// (image tower block 0 on a fixed input) into `$MAFS_LAYER_REFERENCE_DIR`.
#[test]
#[ignore = "writes files for the hand check of docs/checkpoints.md's Python snippet"]
fn write_layer_reference() {
    let dir = PathBuf::from(std::env::var("MAFS_LAYER_REFERENCE_DIR").expect("set the dir"));
    std::fs::create_dir_all(&dir).unwrap();
    let device = Device::flex();
    device.seed(0);
    let model = documented_model(&device);
    save_safetensors(&model, &dir.join("model.safetensors")).unwrap();
    let width = model.image.width();
    let n = 5;
    let x: Vec<f32> = (0..n * width).map(|i| (i as f32 * 0.37).sin()).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [1, n, width]), &device);
    let (y, _) =
        model.image.transformer.resblocks[0].forward(x.clone(), None, false, WeightsRequest::None);
    for (name, t) in [("layer_input", x), ("layer_output", y)] {
        let bytes: Vec<u8> = t
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let view = safetensors::tensor::TensorView::new(
            safetensors::Dtype::F32,
            vec![1, n, width],
            &bytes,
        )
        .unwrap();
        let out = safetensors::serialize([("x", view)], None).unwrap();
        std::fs::write(dir.join(format!("{name}.safetensors")), out).unwrap();
    }
}
