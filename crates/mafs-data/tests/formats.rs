//! The COCO captions, WebDataset and parquet readers on the fixtures in
//! `datasets/fixtures/formats/` and `datasets/fixtures/bad/` (made by
//! `cargo run -p mafs-data --example make_format_fixtures -- datasets/fixtures`), the round
//! trip through `mafs data export --format`, and streaming shards with bounded memory.

use std::path::PathBuf;

use mafs_data::export::{ExportFormat, export_as, export_spec};
use mafs_data::source::{DataSource, LoadOptions, load_splits};
use mafs_data::wds::shards::{epoch_order, expand, for_rank};
use mafs_data::wds::stream::{StreamOptions, WdsStream};
use mafs_data::wds::{WdsOptions, load_webdataset};
use mafs_data::world::{World, WorldConfig};
use mafs_data::{DataError, Instance, Split};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures")
}

fn without_questions(v: &[Instance]) -> Vec<Instance> {
    v.iter()
        .map(|i| Instance {
            questions: Vec::new(),
            ..i.clone()
        })
        .collect()
}

fn read(spec: &str, images: Option<PathBuf>, size: u32) -> Result<Vec<Instance>, DataError> {
    let source = DataSource::parse(spec, images, 0)?;
    let (splits, report) = load_splits(&source, &LoadOptions::new(size))?;
    assert!(report.is_clean(), "{report}");
    Ok(splits.into_values().flatten().collect())
}

fn world() -> World {
    World::new(WorldConfig {
        image_size: 16,
        train: 3,
        val: 1,
        test: 1,
        shift: 1,
        seed: 0,
        ..WorldConfig::default()
    })
    .unwrap()
}

#[test]
fn every_export_format_reads_back_field_for_field() {
    let world = world();
    for format in [ExportFormat::Coco, ExportFormat::Wds, ExportFormat::Parquet] {
        let dir = tempfile::tempdir().unwrap();
        export_as(&world.all(), dir.path(), format, "mafs-world", 2).unwrap();
        for split in [Split::Train, Split::Val, Split::Test] {
            let spec = export_spec(dir.path(), format, split);
            let images = Some(dir.path().join("images"));
            let back = read(&spec, images, 16).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(
                back,
                without_questions(&world.split(split)),
                "{format} {split}"
            );
        }
    }
}

#[test]
fn the_committed_export_fixtures_are_the_world_fixture() {
    let dir = fixtures().join("formats/export");
    let world = world();
    for format in [ExportFormat::Coco, ExportFormat::Wds, ExportFormat::Parquet] {
        let spec = export_spec(&dir, format, Split::Train);
        let back = read(&spec, Some(dir.join("images")), 16).unwrap();
        assert_eq!(
            back,
            without_questions(&world.split(Split::Train)),
            "{format}"
        );
    }
}

#[test]
fn real_layouts_read_coco_captions_img2dataset_shards_and_hf_tables() {
    let f = fixtures();
    let coco = read(
        &format!("coco:{}", f.join("formats/captions_val2014.json").display()),
        Some(f.join("coco")),
        24,
    )
    .unwrap();
    let wds = read(
        &format!("wds:{}", f.join("formats/img2dataset-00000.tar").display()),
        None,
        24,
    )
    .unwrap();
    let hf = read(
        &format!("parquet:{}", f.join("formats/hf.parquet").display()),
        None,
        24,
    )
    .unwrap();
    assert_eq!(coco.len(), 2);
    assert_eq!(wds.len(), 2);
    assert_eq!(hf.len(), 2);
    for (c, h) in coco.iter().zip(&hf) {
        assert_eq!(c.split, Split::Test);
        assert_eq!(c.captions, h.captions);
        assert_eq!(c.id, h.id);
        // The same JPEG decoded and resized the same way.
        assert_eq!(c.image, h.image);
        assert_eq!(c.image.as_ref().unwrap().dimensions(), (24, 24));
    }
    // img2dataset's shard has the first caption of each scene (its .txt).
    for (w, c) in wds.iter().zip(&coco) {
        assert_eq!(w.captions, vec![c.captions[0].clone()]);
        assert_eq!(w.image, c.image);
    }
}

#[test]
fn broken_coco_captions_are_reported_record_by_record() {
    let f = fixtures();
    let spec = format!("coco:{}", f.join("bad/coco_captions_bad.json").display());
    let source = DataSource::parse(&spec, Some(f.join("bad/images")), 0).unwrap();
    let err = load_splits(&source, &LoadOptions::new(16)).unwrap_err();
    assert!(matches!(err, DataError::DuplicateId { id: 1, .. }), "{err}");
    let opts = LoadOptions {
        skip_bad: true,
        ..LoadOptions::new(16)
    };
    let (splits, report) = load_splits(&source, &opts).unwrap();
    let msgs: Vec<String> = report.skipped.iter().map(|e| e.to_string()).collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(has("duplicate image id 1"), "{msgs:#?}");
    assert!(has("(images): record 2"), "{msgs:#?}");
    assert!(has("image 99 is not in `images`"), "{msgs:#?}");
    assert!(has("(annotations): record 4 (id 14)"), "{msgs:#?}");
    assert!(has("record 3 (id 3): no sentences"), "{msgs:#?}");
    assert!(has("sentence 0 is empty"), "{msgs:#?}");
    assert!(has("leaves the images folder"), "{msgs:#?}");
    assert!(has("ok.png not found"), "{msgs:#?}");
    assert_eq!(splits.values().map(Vec::len).sum::<usize>(), 0);
}

#[test]
fn broken_shards_are_reported_sample_by_sample() {
    let f = fixtures();
    let shard = f.join("bad/wds_bad.tar");
    let e = load_webdataset(std::slice::from_ref(&shard), &WdsOptions::default()).unwrap_err();
    assert!(
        e.to_string().contains("wds_bad.tar: record 0 (id 0)"),
        "{e}"
    );
    let opts = WdsOptions {
        skip_bad: true,
        ..WdsOptions::default()
    };
    let (inst, report) = load_webdataset(&[shard], &opts).unwrap();
    assert_eq!(inst.len(), 1, "{report}");
    assert_eq!(inst[0].captions, ["a good sample"]);
    let kinds: Vec<&DataError> = report.skipped.iter().collect();
    assert!(matches!(kinds[0], DataError::BadRecord { .. }), "{report}");
    assert!(matches!(kinds[1], DataError::BadImage { .. }), "{report}");
    assert!(
        matches!(kinds[2], DataError::EmptyCaption { .. }),
        "{report}"
    );
    assert!(matches!(kinds[3], DataError::BadRecord { .. }), "{report}");
    assert!(
        matches!(kinds[4], DataError::DuplicateId { .. }),
        "{report}"
    );
    assert_eq!(report.total, 6);

    let truncated = f.join("bad/wds_truncated.tar");
    let e = load_webdataset(std::slice::from_ref(&truncated), &WdsOptions::default()).unwrap_err();
    assert!(matches!(e, DataError::Format { .. }), "{e}");
    assert!(e.to_string().contains("wds_truncated.tar"), "{e}");
    let (inst, report) = load_webdataset(&[truncated], &opts).unwrap();
    assert!(inst.len() <= 1);
    assert!(
        matches!(report.skipped.last(), Some(DataError::Format { .. })),
        "{report}"
    );
}

#[test]
fn broken_table_rows_are_reported_row_by_row() {
    let f = fixtures();
    let spec = format!("parquet:{}", f.join("bad/table_bad.parquet").display());
    let source = DataSource::parse(&spec, Some(f.join("bad/images")), 0).unwrap();
    let opts = LoadOptions {
        skip_bad: true,
        ..LoadOptions::new(16)
    };
    let (splits, report) = load_splits(&source, &opts).unwrap();
    assert_eq!(splits[&Split::Test].len(), 1, "{report}");
    let k: Vec<&DataError> = report.skipped.iter().collect();
    assert!(matches!(k[0], DataError::BadImage { .. }), "{report}");
    assert!(matches!(k[1], DataError::NoCaptions { .. }), "{report}");
    assert!(matches!(k[2], DataError::EmptyCaption { .. }), "{report}");
    assert!(matches!(k[3], DataError::PathEscapes { .. }), "{report}");
    assert!(matches!(k[4], DataError::BadRecord { .. }), "{report}");
    assert!(
        k[0].to_string()
            .contains("table_bad.parquet: record 1 (id 2)"),
        "{}",
        k[0]
    );
}

#[test]
fn streams_shuffle_within_a_bounded_buffer_and_ranks_partition_the_samples() {
    let world = World::new(WorldConfig::tiny(20, 3)).unwrap();
    let train = world.split(Split::Train);
    let dir = tempfile::tempdir().unwrap();
    mafs_data::wds::write::write_shards(&train, dir.path(), "train", 3).unwrap();
    let shards = expand(dir.path().to_str().unwrap()).unwrap();
    assert_eq!(shards.len(), 7);
    let opts = |seed| StreamOptions {
        read: WdsOptions {
            image_size: Some(8),
            ..WdsOptions::default()
        },
        queue: 2,
        shuffle: 4,
        seed,
    };
    let ids = |v: Vec<Instance>| v.iter().map(|i| i.id).collect::<Vec<_>>();
    let mut all = Vec::new();
    for rank in 0..2 {
        let mine = for_rank(&epoch_order(&shards, 1, 0), rank, 2).unwrap();
        let got: Vec<Instance> = WdsStream::new(mine, opts(rank as u64))
            .collect::<Result<_, _>>()
            .unwrap();
        all.extend(ids(got));
    }
    all.sort();
    let mut want = ids(train.clone());
    want.sort();
    assert_eq!(all, want, "every sample read by exactly one rank");
    let order = |seed| {
        ids(WdsStream::new(shards.clone(), opts(seed))
            .collect::<Result<_, _>>()
            .unwrap())
    };
    assert_eq!(order(5), order(5), "the same seed gives the same order");
    assert_ne!(order(5), ids(train), "the buffer shuffles");
    // Stopping early ends the reader thread (the test would hang otherwise).
    let first: Vec<_> = WdsStream::new(shards, opts(0)).take(2).collect();
    assert_eq!(first.len(), 2);
}
