//! Fuzzing on stable Rust: generated and mutated user inputs thrown at every loader, asserting
//! "error or success, never a panic" (and, for datasets, that no file outside the images
//! folder is ever read). A few seconds by default (CI); `cargo xtask fuzz --seconds N` runs
//! each target for N seconds (docs/reliability.md).

mod fuzz;

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::nn::LinearConfig;
use burn::optim::AdamWConfig;
use burn::tensor::Device;
use image::{Rgb, RgbImage};
use mafs::data::Instance;
use mafs::data::image_io::{ResizeMode, decode_image};
use mafs::data::karpathy::{KarpathyOptions, load_karpathy};
use mafs::data::tokenizer::{EncodeOptions, TextTokenizer};
use mafs::data::vqa::{ImageLayout, VqaOptions, load_vqa};
use mafs::encoders::EncoderPreset;
use mafs::encoders::import::StateDict;
use mafs::train::checkpoint::{RunDir, TrainState, canonical_safetensors, manifest};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The colour of the image kept outside the images folder: no loader may ever return it.
const SECRET: Rgb<u8> = Rgb([1, 2, 3]);

struct Fixture {
    _dir: tempfile::TempDir,
    images: PathBuf,
    secret: PathBuf,
    work: PathBuf,
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    out
}

fn pattern(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x as u8).wrapping_mul(37) ^ seed,
            (y as u8).wrapping_mul(11),
            seed | 128,
        ])
    })
}

/// An images folder with good, bad and hostile entries, and a secret image beside it.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let images = dir.path().join("images");
        std::fs::create_dir_all(images.join("val2014")).unwrap();
        let secret = dir.path().join("secret.png");
        std::fs::write(&secret, png(&RgbImage::from_pixel(5, 7, SECRET))).unwrap();
        std::fs::write(images.join("a.png"), png(&pattern(12, 9, 1))).unwrap();
        std::fs::write(images.join("b.jpg"), jpeg(&pattern(20, 20, 2))).unwrap();
        std::fs::write(images.join("1.png"), png(&pattern(8, 8, 3))).unwrap();
        std::fs::write(
            images.join("val2014/COCO_val2014_000000000001.jpg"),
            jpeg(&pattern(16, 10, 4)),
        )
        .unwrap();
        std::fs::write(images.join("junk.jpg"), b"not an image").unwrap();
        let mut bomb = png(&pattern(1, 1, 5));
        bomb[16..24].copy_from_slice(&[0, 1, 134, 160, 0, 1, 134, 160]); // 100000 x 100000
        std::fs::write(images.join("bomb.png"), bomb).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, images.join("out.png")).unwrap();
            std::os::unix::fs::symlink(dir.path(), images.join("up")).unwrap();
        }
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).unwrap();
        Fixture {
            images,
            secret,
            work,
            _dir: dir,
        }
    })
}

/// A scratch file for one case (cases run on one thread per target).
fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let p = fixture()
        .work
        .join(format!("{name}-{:?}", std::thread::current().id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn assert_no_secret(instances: &[Instance]) {
    for inst in instances {
        if let Some(img) = &inst.image {
            assert!(
                !img.pixels().all(|p| *p == SECRET),
                "instance {} holds the image from outside the images folder",
                inst.id
            );
        }
    }
}

fn file_name() -> impl Strategy<Value = String> {
    let secret = fixture().secret.display().to_string();
    prop_oneof![
        Just("a.png".to_string()),
        Just("b.jpg".to_string()),
        Just("junk.jpg".to_string()),
        Just("bomb.png".to_string()),
        Just("missing.png".to_string()),
        Just("out.png".to_string()),
        Just("up/secret.png".to_string()),
        Just("../secret.png".to_string()),
        Just("val2014/../../secret.png".to_string()),
        Just(secret),
        Just("./a.png".to_string()),
        Just(String::new()),
        Just("a\u{0}.png".to_string()),
        Just(".".to_string()),
        "[a-z./]{0,12}",
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<u64>().prop_map(Value::from),
        (0u64..8).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!(1.5)),
        Just(json!("7")),
        Just(Value::Null),
    ]
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z ,.!?]{0,24}".prop_map(Value::from),
        Just(json!("")),
        Just(json!("   ")),
        any::<String>().prop_map(Value::from),
        Just(json!(3)),
    ]
}

fn karpathy_json() -> impl Strategy<Value = Vec<u8>> {
    let sentence = (text(), proptest::collection::vec(text(), 0..3), number())
        .prop_map(|(raw, tokens, sentid)| json!({"raw": raw, "tokens": tokens, "sentid": sentid}));
    let split = prop_oneof![
        Just(json!("train")),
        Just(json!("val")),
        Just(json!("test")),
        Just(json!("restval")),
        Just(json!("shift")),
        Just(json!("training")),
        Just(json!(1)),
    ];
    let record = (
        proptest::option::of(prop_oneof![
            Just("val2014".to_string()),
            Just("..".to_string()),
            Just("/etc".to_string()),
            file_name()
        ]),
        file_name(),
        number(),
        split,
        proptest::collection::vec(sentence, 0..4),
        proptest::collection::vec(number(), 0..4),
        proptest::option::of(number()),
        proptest::option::of(text()),
    )
        .prop_map(
            |(fp, name, imgid, split, sentences, sentids, cocoid, side)| {
                json!({"filepath": fp, "filename": name, "imgid": imgid, "split": split,
                   "sentences": sentences, "sentids": sentids, "cocoid": cocoid,
                   "side_text": side})
            },
        );
    (proptest::collection::vec(record, 0..6), any::<bool>()).prop_flat_map(|(recs, wrap)| {
        let doc = if wrap {
            json!({"images": recs, "dataset": "coco"})
        } else {
            json!(recs)
        };
        fuzz::mutated(serde_json::to_vec(&doc).unwrap(), 4)
    })
}

#[test]
fn karpathy_json_never_panics_nor_escapes() {
    let f = fixture();
    fuzz::run(
        "karpathy",
        (
            karpathy_json(),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0u32..40u32),
        ),
        |(bytes, skip_bad, use_filepath, size)| {
            let path = scratch("karpathy.json", &bytes);
            let opts = KarpathyOptions {
                images_dir: Some(f.images.clone()),
                use_filepath,
                image_size: size,
                skip_bad,
                ..KarpathyOptions::default()
            };
            if let Ok((instances, _)) = load_karpathy(&path, &opts) {
                assert_no_secret(&instances);
            }
        },
    );
}

fn vqa_json() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let subtype = prop_oneof![
        Just(json!("val2014")),
        Just(json!("..")),
        Just(json!("../..")),
        Just(json!("/etc")),
        Just(json!("")),
        Just(json!(7)),
        "[a-z./]{0,8}".prop_map(Value::from),
    ];
    let question = (number(), text(), number()).prop_map(
        |(image_id, q, qid)| json!({"image_id": image_id, "question": q, "question_id": qid}),
    );
    let answer = (text(), text(), number())
        .prop_map(|(a, c, id)| json!({"answer": a, "answer_confidence": c, "answer_id": id}));
    let annotation = (
        number(),
        number(),
        text(),
        proptest::collection::vec(answer, 0..11),
    )
        .prop_map(|(qid, img, mc, answers)| {
            json!({"question_id": qid, "image_id": img, "question_type": "what",
                   "answer_type": "other", "multiple_choice_answer": mc, "answers": answers})
        });
    (
        subtype,
        proptest::collection::vec(question, 0..6),
        proptest::collection::vec(annotation, 0..6),
    )
        .prop_flat_map(|(sub, qs, anns)| {
            let q = serde_json::to_vec(&json!({"data_subtype": sub, "questions": qs})).unwrap();
            let a = serde_json::to_vec(&json!({"annotations": anns})).unwrap();
            (fuzz::mutated(q, 3), fuzz::mutated(a, 3))
        })
}

#[test]
fn vqa_json_never_panics_nor_escapes() {
    let f = fixture();
    let layout = prop_oneof![
        Just(ImageLayout::Coco { subtype: None }),
        Just(ImageLayout::Coco {
            subtype: Some("..".into())
        }),
        Just(ImageLayout::ById),
        Just(ImageLayout::Pattern("{subtype}/{image_id}.png".into())),
        Just(ImageLayout::Pattern("../{image_id:012}".into())),
    ];
    fuzz::run(
        "vqa",
        (vqa_json(), layout, any::<bool>(), any::<bool>()),
        |((q, a), layout, skip_bad, with_answers)| {
            let qp = scratch("q.json", &q);
            let ap = scratch("a.json", &a);
            let opts = VqaOptions {
                images_dir: Some(f.images.clone()),
                layout,
                image_size: Some(16),
                skip_bad,
                ..VqaOptions::default()
            };
            let annotations = with_answers.then_some(ap.as_path());
            if let Ok((instances, _)) = load_vqa(&qp, annotations, &opts) {
                assert_no_secret(&instances);
            }
        },
    );
}

/// PNG or JPEG bytes of a random small image, with byte edits and, sometimes, the declared
/// width and height rewritten.
fn image_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        1u32..24,
        1u32..24,
        any::<u8>(),
        any::<bool>(),
        proptest::option::of((any::<u32>(), any::<u32>())),
    )
        .prop_flat_map(|(w, h, seed, is_png, dims)| {
            let img = pattern(w, h, seed);
            let mut bytes = if is_png { png(&img) } else { jpeg(&img) };
            if let Some((dw, dh)) = dims {
                if is_png {
                    bytes[16..20].copy_from_slice(&dw.to_be_bytes());
                    bytes[20..24].copy_from_slice(&dh.to_be_bytes());
                } else if let Some(i) = bytes.windows(2).position(|p| p == [0xFF, 0xC0]) {
                    // SOF0: length (2), precision (1), height (2), width (2)
                    if i + 9 <= bytes.len() {
                        bytes[i + 5..i + 7].copy_from_slice(&(dh as u16).to_be_bytes());
                        bytes[i + 7..i + 9].copy_from_slice(&(dw as u16).to_be_bytes());
                    }
                }
            }
            fuzz::mutated_or_random(bytes)
        })
}

#[test]
fn image_bytes_never_panic() {
    let size = prop_oneof![
        Just(None::<u32>),
        Just(Some(0u32)),
        Just(Some(1u32)),
        Just(Some(16u32)),
        Just(Some(64u32))
    ];
    let mode = prop_oneof![Just(ResizeMode::CenterCrop), Just(ResizeMode::Stretch)];
    fuzz::run(
        "images",
        (image_bytes(), size, mode),
        |(bytes, size, mode)| {
            if let (Ok(img), Some(s)) = (decode_image(&bytes, size, mode, "fuzz"), size) {
                assert_eq!(img.dimensions(), (s, s));
            }
        },
    );
}

fn dtype() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("F32"),
        Just("F16"),
        Just("BF16"),
        Just("F64"),
        Just("I64"),
        Just("U8"),
        Just("BOOL"),
        Just("F8_E4M3"),
        Just("X9"),
    ]
}

/// A safetensors file whose header JSON is generated (names, dtypes, shapes and offsets that
/// may disagree with the data) and then edited as bytes, the length field included.
fn safetensors_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tensor = (
        prop_oneof![
            Just("weight".to_string()),
            Just("bias".to_string()),
            "[a-z._]{1,12}"
        ],
        dtype(),
        proptest::collection::vec(prop_oneof![0usize..5, Just(usize::MAX / 2)], 0..4),
        proptest::option::of((0u64..256, 0u64..256)),
    );
    (
        proptest::collection::vec(tensor, 0..4),
        proptest::collection::vec(any::<u8>(), 0..128),
        any::<bool>(),
    )
        .prop_flat_map(|(tensors, data, honest)| {
            let mut header = serde_json::Map::new();
            let mut offset = 0u64;
            for (name, dtype, shape, offsets) in tensors {
                let n: u64 = shape.iter().map(|&d| d as u64).fold(1, u64::wrapping_mul);
                let (a, b) = match (honest, offsets) {
                    (false, Some(o)) => o,
                    _ => (offset, offset.wrapping_add(n.wrapping_mul(4))),
                };
                offset = b;
                header.insert(
                    name,
                    json!({"dtype": dtype, "shape": shape, "data_offsets": [a, b]}),
                );
            }
            header.insert("__metadata__".into(), json!({"producer": "fuzz"}));
            let h = serde_json::to_vec(&header).unwrap();
            let mut bytes = (h.len() as u64).to_le_bytes().to_vec();
            bytes.extend(h);
            bytes.extend(data);
            fuzz::mutated(bytes, 3)
        })
}

#[test]
fn safetensors_headers_never_panic() {
    let device = Device::flex();
    let model = LinearConfig::new(2, 2).init(&device);
    fuzz::run("safetensors", safetensors_bytes(), |bytes| {
        let _ = StateDict::from_safetensors(&bytes, "fuzz.safetensors");
        let _ = manifest::check_finite_safetensors(&bytes);
        if let Ok(canon) = canonical_safetensors(&bytes) {
            assert!(canonical_safetensors(&canon).is_ok());
        }
        let path = scratch("model.safetensors", &bytes);
        let _ = mafs::train::checkpoint::load_safetensors(model.clone(), &path);
    });
}

const WORD_TOKENIZER: &str = r#"{"type": "word", "lowercase": true, "vocab": ["[PAD]", "[BOS]", "[EOS]", "[UNK]", "[MASK]", "[CLS]", "a", "red", "circle"]}"#;

fn hf_tokenizer(model: Value) -> Value {
    json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [{"id": 0, "content": "<pad>", "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": true}],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null, "decoder": null, "model": model
    })
}

fn tokenizer_bytes() -> impl Strategy<Value = Vec<u8>> {
    let vocab = json!({"<pad>": 0, "<unk>": 1, "<s>": 2, "</s>": 3, "a": 4, "red": 5, "re": 6, "d": 7, "##d": 8});
    let bases: Vec<Vec<u8>> = vec![
        WORD_TOKENIZER.as_bytes().to_vec(),
        serde_json::to_vec(&hf_tokenizer(json!({"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}))).unwrap(),
        serde_json::to_vec(&hf_tokenizer(json!({"type": "BPE", "dropout": null, "unk_token": "<unk>",
            "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": false,
            "byte_fallback": false, "ignore_merges": false, "vocab": vocab, "merges": ["r e", "re d"]}))).unwrap(),
        serde_json::to_vec(&hf_tokenizer(json!({"type": "WordPiece", "unk_token": "<unk>",
            "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab}))).unwrap(),
    ];
    (0..bases.len()).prop_flat_map(move |i| fuzz::mutated(bases[i].clone(), 5))
}

#[test]
fn tokenizer_files_never_panic() {
    let ids = proptest::collection::vec(prop_oneof![0u32..12, any::<u32>()], 0..8);
    fuzz::run(
        "tokenizers",
        (tokenizer_bytes(), any::<String>(), ids),
        |(bytes, text, ids)| {
            let path = scratch("tokenizer.json", &bytes);
            if let Ok(tok) = TextTokenizer::load(&path) {
                for t in [text.as_str(), "A red circle.", ""] {
                    let (enc, len) = tok.encode(
                        t,
                        8,
                        EncodeOptions {
                            cls: true,
                            bos: true,
                            eos: true,
                        },
                    );
                    assert_eq!(enc.len(), 8);
                    assert!(len <= 8);
                    assert!(
                        enc.iter().all(|&i| (i as usize) < tok.vocab_size().max(1)),
                        "{enc:?}"
                    );
                }
                let _ = tok.decode(&ids);
            }
        },
    );
}

#[test]
fn presets_and_open_clip_configs_never_panic() {
    let ours = serde_json::to_vec(&EncoderPreset::named("tiny").unwrap()).unwrap();
    let open_clip = br#"{"embed_dim": 512, "quick_gelu": true,
        "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12}}"#
        .to_vec();
    fuzz::run(
        "presets",
        (fuzz::mutated(ours, 4), fuzz::mutated(open_clip, 4)),
        |(a, b)| {
            for bytes in [&a, &b] {
                let text = String::from_utf8_lossy(bytes);
                let results = [
                    EncoderPreset::from_json_str(&text, "fuzz.json"),
                    EncoderPreset::from_open_clip_config(&text, "fuzz.json"),
                ];
                // accepted presets are within the limits, so building them is safe
                for p in results.into_iter().flatten() {
                    assert!(p.parameter_count() <= mafs::core::limits::MAX_MODEL_PARAMS as u128);
                }
            }
        },
    );
}

/// A run directory with two real checkpoints, whose `latest.json` and `state.json` files are
/// then mutated: verification and resume must refuse or fall back, never panic.
#[test]
fn run_directories_never_panic() {
    let device = Device::flex().autodiff();
    let dir = tempfile::tempdir().unwrap();
    let run = RunDir::create(dir.path()).unwrap();
    run.write_json("config.json", &json!({"fuzz": true}))
        .unwrap();
    let model = LinearConfig::new(3, 2).init(&device);
    let optim = AdamWConfig::new().init();
    let mut states = Vec::new();
    for step in [3usize, 12] {
        let state = TrainState {
            step,
            epoch: 0,
            batch_in_epoch: step,
            seed: 0,
            epoch_losses: vec![f64::NAN],
            last_loss: None,
            partial_sums: vec![],
        };
        let path = run.save(&model, &optim, &state, 5).unwrap();
        states.push(std::fs::read(path.join("state.json")).unwrap());
    }
    let latest = std::fs::read(dir.path().join("latest.json")).unwrap();
    let latest_bytes = latest.clone();
    let target = dir.path().join("checkpoints/step-0000012/state.json");
    let pointer = dir.path().join("latest.json");
    fuzz::run(
        "run-dirs",
        (
            fuzz::mutated(latest, 4),
            fuzz::mutated(states[1].clone(), 4),
        ),
        |(l, s)| {
            std::fs::write(&pointer, &l).unwrap();
            std::fs::write(&target, &s).unwrap();
            let run = RunDir::open(dir.path()).unwrap();
            let _ = run.latest();
            let _ = run.latest_verified();
            let _ = run.load_latest(model.clone(), optim.clone());
        },
    );
    // undamaged files: the newest checkpoint is used again
    std::fs::write(&target, &states[1]).unwrap();
    std::fs::write(&pointer, &latest_bytes).unwrap();
    let (path, state) = RunDir::open(dir.path())
        .unwrap()
        .latest_verified()
        .unwrap()
        .unwrap();
    assert!(path.ends_with("step-0000012") && state.epoch_losses[0].is_nan());
}
