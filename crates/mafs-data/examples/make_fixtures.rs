//! Regenerates the generated fixtures under `datasets/fixtures/` (the hand-written broken
//! ones in `datasets/fixtures/bad/` are not touched).
//!
//! `cargo run -p mafs-data --example make_fixtures -- datasets/fixtures`
//!
//! - `world/`: a tiny built-in world (3 train, 1 val, 1 test, 1 shift scenes, 16x16, seed 0)
//!   exported by `mafs_data::export::export`, exactly what
//!   `mafs data export --out world --train 3 --val 1 --test 1 --shift 1 --image-size 16 --seed 0` writes.
//! - `coco/`: two scenes in COCO's layout: `val2014/COCO_val2014_<12-digit id>.jpg` JPEG
//!   images of 40x30 (not square, so loaders must resize and crop), a Karpathy file with
//!   `filepath`, `cocoid` and a `restval` record, and VQA v2 files with `data_subtype`.

use std::path::{Path, PathBuf};

use image::imageops;
use mafs_data::Split;
use mafs_data::export::export;
use mafs_data::karpathy::{KarpathyFile, KarpathyImage, KarpathySentence, karpathy_tokens};
use mafs_data::vqa::{VqaAnnotation, VqaAnnotationsFile, VqaAnswer, VqaQuestion, VqaQuestionsFile};
use mafs_data::world::{World, WorldConfig};

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::write(path, serde_json::to_string_pretty(v)?)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "datasets/fixtures".into()),
    );
    let cfg = WorldConfig {
        image_size: 16,
        train: 3,
        val: 1,
        test: 1,
        shift: 1,
        seed: 0,
        ..WorldConfig::default()
    };
    let world = World::new(cfg)?;
    let s = export(&world.all(), &root.join("world"), "mafs-world")?;
    println!("world: {} images, {} questions", s.images, s.questions);

    let coco = root.join("coco");
    let images = coco.join("val2014");
    std::fs::create_dir_all(&images)?;
    let big = World::new(WorldConfig {
        image_size: 40,
        ..WorldConfig::tiny(2, 5)
    })?;
    let mut kimages = Vec::new();
    let mut questions = Vec::new();
    let mut annotations = Vec::new();
    for (k, (cocoid, split)) in [(42u64, "restval"), (73, "test")].into_iter().enumerate() {
        let inst = big.scene(Split::Train, k);
        let img = inst.image.expect("world scenes have images");
        let img = imageops::crop_imm(&img, 0, 5, 40, 30).to_image();
        let filename = format!("COCO_val2014_{cocoid:012}.jpg");
        img.save_with_format(images.join(&filename), image::ImageFormat::Jpeg)?;
        let sentids: Vec<u64> = (0..inst.captions.len() as u64)
            .map(|s| k as u64 * 10 + s)
            .collect();
        kimages.push(KarpathyImage {
            filepath: Some("val2014".into()),
            filename,
            split: split.into(),
            sentences: inst
                .captions
                .iter()
                .zip(&sentids)
                .map(|(c, &sid)| KarpathySentence {
                    raw: c.clone(),
                    tokens: karpathy_tokens(c),
                    imgid: Some(k as u64),
                    sentid: Some(sid),
                })
                .collect(),
            imgid: k as u64,
            sentids,
            cocoid: Some(cocoid),
            side_text: None,
        });
        for (j, q) in inst.questions.iter().take(2).enumerate() {
            let qid = cocoid * 1000 + j as u64;
            questions.push(VqaQuestion {
                image_id: cocoid,
                question: q.question.clone(),
                question_id: qid,
            });
            annotations.push(VqaAnnotation {
                question_id: qid,
                image_id: cocoid,
                question_type: q.question_type.clone(),
                answer_type: q.answer_type.clone(),
                multiple_choice_answer: q.answer.clone(),
                answers: q
                    .answers
                    .iter()
                    .enumerate()
                    .map(|(i, a)| VqaAnswer {
                        answer: a.clone(),
                        answer_confidence: if i % 4 == 3 {
                            "maybe".into()
                        } else {
                            "yes".into()
                        },
                        answer_id: i as u32 + 1,
                    })
                    .collect(),
            });
        }
    }
    write_json(
        &coco.join("karpathy.json"),
        &KarpathyFile {
            images: kimages,
            dataset: "coco".into(),
        },
    )?;
    let info = serde_json::json!({"description": "mafs COCO-layout fixture"});
    write_json(
        &coco.join("vqa_questions.json"),
        &VqaQuestionsFile {
            info: info.clone(),
            task_type: "Open-Ended".into(),
            data_type: "mscoco".into(),
            data_subtype: "val2014".into(),
            questions,
            license: serde_json::Value::Null,
        },
    )?;
    write_json(
        &coco.join("vqa_annotations.json"),
        &VqaAnnotationsFile {
            info,
            data_type: "mscoco".into(),
            data_subtype: "val2014".into(),
            annotations,
            license: serde_json::Value::Null,
        },
    )?;
    println!("coco: 2 images, 4 questions");
    Ok(())
}
