//! Regenerates the fixtures of the COCO captions, WebDataset and parquet readers under
//! `datasets/fixtures/formats/` and their broken counterparts under `datasets/fixtures/bad/`.
//!
//! `cargo run -p mafs-data --example make_format_fixtures -- datasets/fixtures`
//!
//! - `formats/export/`: the world of `fixtures/world/` (seed 0, 16x16; 3 train, 1 val,
//!   1 test, 1 shift scenes) as `mafs data export --format coco|wds|parquet --per-shard 2`
//!   writes it;
//! - `formats/captions_val2014.json`: the two JPEG scenes of `fixtures/coco/` as a COCO
//!   captions file (read with `--images datasets/fixtures/coco`: the `val2014/` folder is
//!   found from the file names);
//! - `formats/img2dataset-00000.tar`: the same two scenes as img2dataset writes a shard
//!   (`KEY.jpg`, `KEY.txt`, `KEY.json` with url, key, status, sizes and caption);
//! - `formats/hf.parquet`: the same as a Hugging Face style table (image struct with JPEG
//!   bytes and path, a list of captions, a split column);
//! - `bad/coco_captions_bad.json`, `bad/wds_bad.tar`, `bad/wds_truncated.tar`,
//!   `bad/table_bad.parquet`: one broken record of each kind the readers report.

use std::path::{Path, PathBuf};

use mafs_data::coco::{CocoCaption, CocoCaptionsFile, CocoImage};
use mafs_data::export::{ExportFormat, export_as};
use mafs_data::karpathy::{KarpathyOptions, load_karpathy};
use mafs_data::table::{TableRow, write_rows};
use mafs_data::world::{World, WorldConfig};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn tar_file(path: &Path, members: &[(&str, &[u8])]) -> Res<()> {
    let mut b = tar::Builder::new(std::fs::File::create(path)?);
    for (name, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, *data)?;
    }
    b.into_inner()?.sync_all()?;
    Ok(())
}

fn main() -> Res<()> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "datasets/fixtures".into()),
    );
    let formats = root.join("formats");
    let bad = root.join("bad");
    std::fs::create_dir_all(&formats)?;

    let world = World::new(WorldConfig {
        image_size: 16,
        train: 3,
        val: 1,
        test: 1,
        shift: 1,
        seed: 0,
        ..WorldConfig::default()
    })?;
    let export = formats.join("export");
    let _ = std::fs::remove_dir_all(&export);
    for f in [ExportFormat::Coco, ExportFormat::Wds, ExportFormat::Parquet] {
        let s = export_as(&world.all(), &export, f, "mafs-world", 2)?;
        println!("export {f}: {} files", s.files.len());
    }

    // The two COCO-layout JPEG scenes, read back from the Karpathy fixture.
    let coco_root = root.join("coco");
    let (scenes, _) = load_karpathy(
        &coco_root.join("karpathy.json"),
        &KarpathyOptions {
            images_dir: Some(coco_root.clone()),
            image_size: None,
            id_source: mafs_data::karpathy::IdSource::CocoId,
            ..KarpathyOptions::default()
        },
    )?;
    let jpeg = |name: &str| std::fs::read(coco_root.join("val2014").join(name));
    let file = CocoCaptionsFile {
        info: serde_json::json!({"description": "mafs COCO captions fixture", "year": 2014}),
        licenses: serde_json::json!([]),
        images: scenes
            .iter()
            .map(|s| CocoImage {
                id: s.id,
                file_name: s.filename.clone(),
                width: Some(40),
                height: Some(30),
                side_text: None,
            })
            .collect(),
        annotations: scenes
            .iter()
            .flat_map(|s| {
                s.captions
                    .iter()
                    .zip(&s.sentids)
                    .map(|(c, &sid)| CocoCaption {
                        id: 1000 + sid,
                        image_id: s.id,
                        caption: c.clone(),
                    })
            })
            .collect(),
    };
    std::fs::write(
        formats.join("captions_val2014.json"),
        serde_json::to_string_pretty(&file)?,
    )?;

    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rows = Vec::new();
    for (k, s) in scenes.iter().enumerate() {
        let key = format!("{k:09}");
        let bytes = jpeg(&s.filename)?;
        let meta = serde_json::json!({
            "url": format!("http://images.cocodataset.org/val2014/{}", s.filename),
            "key": key, "status": "success", "error_message": null,
            "width": 40, "height": 30, "original_width": 40, "original_height": 30,
            "caption": s.captions[0],
        });
        members.push((format!("{key}.jpg"), bytes.clone()));
        members.push((format!("{key}.txt"), s.captions[0].clone().into_bytes()));
        members.push((format!("{key}.json"), meta.to_string().into_bytes()));
        rows.push(TableRow {
            id: s.id,
            split: "test".into(),
            image_bytes: Some(bytes),
            image_path: Some(s.filename.clone()),
            captions: s.captions.clone(),
            sentids: s.sentids.clone(),
            side_text: None,
        });
    }
    let refs: Vec<(&str, &[u8])> = members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    tar_file(&formats.join("img2dataset-00000.tar"), &refs)?;
    write_rows(&rows, &formats.join("hf.parquet"))?;

    // Broken inputs.
    std::fs::write(
        bad.join("coco_captions_bad.json"),
        r#"{"info": {}, "licenses": [],
 "images": [{"id": 1, "file_name": "ok.png"}, {"id": 1, "file_name": "again.png"},
            {"id": 2}, {"id": 3, "file_name": "lonely.png"}, {"id": 4, "file_name": "blank.png"},
            {"id": 5, "file_name": "../outside.png"}],
 "annotations": [{"id": 10, "image_id": 1, "caption": "A red circle."},
                 {"id": 11, "image_id": 99, "caption": "An orphan caption."},
                 {"id": 12, "image_id": 4, "caption": "   "},
                 {"id": 13, "image_id": 5, "caption": "A path that leaves the folder."},
                 {"id": 14, "caption": "No image id."}]}
"#,
    )?;
    let good = jpeg(&scenes[0].filename)?;
    tar_file(
        &bad.join("wds_bad.tar"),
        &[
            ("000000000.txt", b"a caption without an image"),
            ("000000001.jpg", b"not a jpeg"),
            ("000000001.txt", b"an undecodable image"),
            ("000000002.jpg", &good),
            ("000000002.txt", b"   "),
            ("000000003.jpg", &good),
            ("000000003.json", b"{\"caption\": \"fine\""),
            ("000000004.jpg", &good),
            ("000000004.txt", b"a good sample"),
            ("000000000.jpg", &good),
            ("000000000.txt", b"the key of sample 0 again"),
        ],
    )?;
    let whole = std::fs::read(formats.join("img2dataset-00000.tar"))?;
    std::fs::write(
        bad.join("wds_truncated.tar"),
        &whole[..whole.len() / 2 + 300],
    )?;
    let row = |id: u64, bytes: Option<Vec<u8>>, path: Option<&str>, caps: &[&str]| TableRow {
        id,
        split: "test".into(),
        image_bytes: bytes,
        image_path: path.map(str::to_string),
        captions: caps.iter().map(|c| c.to_string()).collect(),
        sentids: Vec::new(),
        side_text: None,
    };
    write_rows(
        &[
            row(1, Some(good.clone()), None, &["a good row"]),
            row(
                2,
                Some(b"not an image".to_vec()),
                None,
                &["undecodable bytes"],
            ),
            row(3, Some(good.clone()), None, &[]),
            row(4, Some(good.clone()), None, &["  "]),
            row(
                5,
                None,
                Some("../outside.png"),
                &["a path that leaves the folder"],
            ),
            row(6, None, None, &["no image at all"]),
        ],
        &bad.join("table_bad.parquet"),
    )?;
    println!("formats and bad fixtures written under {}", root.display());
    Ok(())
}
