//! The built-in world is a pure function of its configuration: byte-identical twice, scene
//! by index equal to scene in split, and the committed fixture equal to a fresh generation.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use mafs_data::export::{ExportLoadOptions, load_export};
use mafs_data::world::{World, WorldConfig};
use mafs_data::{Instance, Split};

fn digest(instances: &[Instance]) -> u64 {
    let mut h = DefaultHasher::new();
    for i in instances {
        i.id.hash(&mut h);
        i.image.as_ref().unwrap().as_raw().hash(&mut h);
        i.captions.hash(&mut h);
        i.side_text.hash(&mut h);
        for q in &i.questions {
            (&q.question, &q.answers, &q.answer, q.question_id).hash(&mut h);
        }
    }
    h.finish()
}

#[test]
fn two_generations_are_byte_identical() {
    let cfg = WorldConfig::tiny(64, 123);
    let a = World::new(cfg.clone()).unwrap().all();
    let b = World::new(cfg).unwrap().all();
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(a, b);
}

#[test]
fn any_scene_regenerates_alone() {
    let w = World::new(WorldConfig::tiny(64, 9)).unwrap();
    for split in Split::ALL {
        let all = w.split(split);
        assert_eq!(all.len(), w.len(split));
        for idx in [0, all.len() / 2, all.len() - 1] {
            assert_eq!(w.scene(split, idx), all[idx], "{split} {idx}");
        }
    }
    // A scene does not depend on the size of its split.
    let bigger = World::new(WorldConfig::tiny(128, 9)).unwrap();
    assert_eq!(bigger.scene(Split::Train, 5), w.scene(Split::Train, 5));
}

#[test]
fn the_committed_world_fixture_is_what_the_generator_makes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures/world");
    let (loaded, report) = load_export(&dir, &ExportLoadOptions::default()).unwrap();
    assert!(report.is_clean(), "{report}");
    let cfg = WorldConfig {
        image_size: 16,
        train: 3,
        val: 1,
        test: 1,
        shift: 1,
        seed: 0,
        ..WorldConfig::default()
    };
    let fresh = World::new(cfg).unwrap().all();
    assert_eq!(
        loaded, fresh,
        "regenerate with `cargo run -p mafs-data --example make_fixtures -- datasets/fixtures`"
    );
}
