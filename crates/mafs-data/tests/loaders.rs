//! Each loader on the committed fixtures, the export round trip, and every bad-input case:
//! the error variant, and a message that names the file and the record.

use std::path::{Path, PathBuf};

use mafs_data::Split;
use mafs_data::error::DataError;
use mafs_data::export::{ExportLoadOptions, export, load_export};
use mafs_data::karpathy::{IdSource, KarpathyOptions, load_karpathy};
use mafs_data::vqa::{ImageLayout, VqaOptions, load_vqa};
use mafs_data::world::{World, WorldConfig};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures")
}

fn assert_names(err: &DataError, file: &str, record: &str) {
    let msg = err.to_string();
    assert!(msg.contains(file), "`{msg}` does not name {file}");
    assert!(msg.contains(record), "`{msg}` does not name {record}");
}

#[test]
fn export_round_trip_keeps_images_captions_questions_answers_and_splits() {
    let world = World::new(WorldConfig::tiny(10, 77)).unwrap();
    let all = world.all();
    let dir = tempfile::tempdir().unwrap();
    export(&all, dir.path(), "mafs-world").unwrap();
    let (back, report) = load_export(dir.path(), &ExportLoadOptions::default()).unwrap();
    assert!(report.is_clean());
    assert_eq!(back.len(), all.len());
    for (a, b) in all.iter().zip(&back) {
        assert_eq!(a.image, b.image, "PNG is lossless");
        assert_eq!(a.captions, b.captions);
        assert_eq!(a.questions, b.questions);
        assert_eq!(a.split, b.split);
        assert_eq!(a.side_text, b.side_text);
    }
    assert_eq!(back, all);
}

#[test]
fn karpathy_loader_reads_the_coco_fixture_with_jpeg_images() {
    let root = fixtures().join("coco");
    let opts = KarpathyOptions {
        images_dir: Some(root.clone()),
        image_size: Some(24),
        id_source: IdSource::CocoId,
        ..KarpathyOptions::default()
    };
    let (inst, report) = load_karpathy(&root.join("karpathy.json"), &opts).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(inst.len(), 2);
    assert_eq!(inst[0].id, 42);
    assert_eq!(inst[0].split, Split::Train, "restval folds into train");
    assert_eq!(inst[1].split, Split::Test);
    assert_eq!(inst[0].captions.len(), 5);
    assert_eq!(inst[0].image.as_ref().unwrap().dimensions(), (24, 24));
    let only_test = KarpathyOptions {
        restval_as_train: false,
        ..opts
    };
    let (inst, report) = load_karpathy(&root.join("karpathy.json"), &only_test).unwrap();
    assert_eq!(inst.len(), 1);
    assert_eq!(report.excluded, 1);
}

#[test]
fn vqa_loader_reads_the_coco_fixture_and_the_world_export_layout() {
    let root = fixtures().join("coco");
    let opts = VqaOptions {
        images_dir: Some(root.clone()),
        layout: ImageLayout::Coco { subtype: None },
        split: Split::Val,
        ..VqaOptions::default()
    };
    let (inst, report) = load_vqa(
        &root.join("vqa_questions.json"),
        Some(&root.join("vqa_annotations.json")),
        &opts,
    )
    .unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(inst.len(), 2);
    assert_eq!(inst[0].id, 42);
    assert_eq!(inst[0].questions.len(), 2);
    assert_eq!(inst[0].questions[0].answers.len(), 10);
    assert_eq!(inst[0].image.as_ref().unwrap().dimensions(), (64, 64));
    assert!(inst.iter().all(|i| i.split == Split::Val));

    let world = fixtures().join("world");
    let opts = VqaOptions {
        images_dir: Some(world.join("images")),
        layout: ImageLayout::ById,
        image_size: None,
        ..VqaOptions::default()
    };
    let (inst, report) = load_vqa(
        &world.join("vqa_questions.json"),
        Some(&world.join("vqa_annotations.json")),
        &opts,
    )
    .unwrap();
    assert!(report.is_clean());
    assert_eq!(inst.len(), 6);
    assert_eq!(inst[0].image.as_ref().unwrap().dimensions(), (16, 16));
}

fn bad(name: &str) -> PathBuf {
    fixtures().join("bad").join(name)
}

fn bad_images() -> Option<PathBuf> {
    Some(fixtures().join("bad/images"))
}

#[test]
fn truncated_and_malformed_json_name_the_file_line_and_column() {
    for (name, truncated, line) in [
        ("karpathy_truncated.json", true, 4),
        ("karpathy_malformed.json", false, 3),
    ] {
        let err = load_karpathy(&bad(name), &KarpathyOptions::default()).unwrap_err();
        match &err {
            DataError::Json {
                truncated: t,
                line: l,
                ..
            } => {
                assert_eq!(*t, truncated, "{err}");
                assert_eq!(*l, line, "{err}");
            }
            other => panic!("expected DataError::Json, got {other}"),
        }
        assert_names(&err, name, &format!(":{line}:"));
    }
    let err =
        load_karpathy(Path::new("/no/such/file.json"), &KarpathyOptions::default()).unwrap_err();
    assert!(matches!(err, DataError::Io { .. }));
    assert_names(&err, "/no/such/file.json", "read");
}

fn strict() -> KarpathyOptions {
    KarpathyOptions {
        images_dir: bad_images(),
        ..KarpathyOptions::default()
    }
}

#[test]
fn each_bad_karpathy_record_is_typed_and_named() {
    let file = bad("karpathy_bad_records.json");
    // Strict loading stops at the first bad record: the unknown split of record 1.
    let err = load_karpathy(&file, &strict()).unwrap_err();
    assert!(matches!(err, DataError::UnknownSplit { ref split, .. } if split == "training"));
    assert_names(&err, "karpathy_bad_records.json", "record 1 (id 2)");

    let opts = KarpathyOptions {
        skip_bad: true,
        ..strict()
    };
    let (inst, report) = load_karpathy(&file, &opts).unwrap();
    assert_eq!(inst.len(), 1);
    assert_eq!(inst[0].id, 1);
    assert_eq!(report.total, 8);
    assert_eq!(report.skipped.len(), 7, "{report}");
    let find = |pred: &dyn Fn(&DataError) -> bool| {
        report
            .skipped
            .iter()
            .find(|e| pred(e))
            .unwrap_or_else(|| panic!("missing error kind in {report}"))
    };
    let e = find(&|e| matches!(e, DataError::EmptyCaption { sentence: 1, .. }));
    assert_names(e, "karpathy_bad_records.json", "record 2 (id 3)");
    let e = find(&|e| matches!(e, DataError::MissingImage { .. }));
    assert_names(e, "missing.png", "record 3 (id 4)");
    let e = find(&|e| matches!(e, DataError::BadImage { .. }));
    assert_names(e, "broken.png", "record 4 (id 5)");
    let e = find(&|e| matches!(e, DataError::NoCaptions { .. }));
    assert_names(e, "karpathy_bad_records.json", "record 5 (id 6)");
    let e = find(&|e| matches!(e, DataError::BadRecord { .. }));
    assert_names(e, "karpathy_bad_records.json", "record 6 (id 7)");
    let e = find(&|e| {
        matches!(
            e,
            DataError::DuplicateId {
                id: 1,
                first: 0,
                ..
            }
        )
    });
    assert_names(e, "karpathy_bad_records.json", "record 7 (id 1)");
    let shown = report.to_string();
    assert!(shown.contains("7 bad"), "{shown}");
}

#[test]
fn each_bad_vqa_record_is_typed_and_named() {
    let q = bad("vqa_questions.json");
    let a = bad("vqa_annotations.json");
    let strict = VqaOptions {
        images_dir: None,
        ..VqaOptions::default()
    };
    let err = load_vqa(&q, Some(&a), &strict).unwrap_err();
    assert!(matches!(err, DataError::BadRecord { .. }), "{err}");
    assert_names(&err, "vqa_questions.json", "record 5 (id 500)");

    let opts = VqaOptions {
        skip_bad: true,
        ..strict
    };
    let (inst, report) = load_vqa(&q, Some(&a), &opts).unwrap();
    assert_eq!(
        inst.len(),
        2,
        "images 1 and 2 keep their annotated questions"
    );
    assert_eq!(report.loaded, 2);
    let has = |pred: &dyn Fn(&DataError) -> bool, file: &str, record: &str| {
        let e = report
            .skipped
            .iter()
            .find(|e| pred(e))
            .unwrap_or_else(|| panic!("missing error kind in {report}"));
        assert_names(e, file, record);
    };
    has(
        &|e| {
            matches!(
                e,
                DataError::QuestionWithoutAnnotation {
                    question_id: 101,
                    ..
                }
            )
        },
        "vqa_questions.json",
        "record 1 (id 101)",
    );
    has(
        &|e| {
            matches!(
                e,
                DataError::AnnotationWithoutQuestion {
                    question_id: 999,
                    ..
                }
            )
        },
        "vqa_annotations.json",
        "record 4 (id 999)",
    );
    has(
        &|e| {
            matches!(
                e,
                DataError::AnnotationMismatch {
                    annotation_image: 9,
                    ..
                }
            )
        },
        "vqa_annotations.json",
        "record 2 (id 300)",
    );
    has(
        &|e| matches!(e, DataError::NoAnswers { .. }),
        "vqa_annotations.json",
        "record 3 (id 400)",
    );
    // With images: the id layout finds no 1.png / 2.png in the bad folder.
    let with_images = VqaOptions {
        images_dir: bad_images(),
        layout: ImageLayout::ById,
        skip_bad: true,
        ..VqaOptions::default()
    };
    let (inst, report) = load_vqa(&q, Some(&a), &with_images).unwrap();
    assert!(inst.is_empty());
    assert!(
        report
            .skipped
            .iter()
            .any(|e| matches!(e, DataError::MissingImage { .. }))
    );
}

#[test]
fn unknown_split_names_are_rejected() {
    let err = "training".parse::<Split>().unwrap_err();
    assert!(matches!(err, DataError::UnknownSplit { .. }));
    assert!(err.to_string().contains("training"));
}
