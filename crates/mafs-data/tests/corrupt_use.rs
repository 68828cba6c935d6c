//! Tests of the corruption suite's use: specs applied to instances, the corrupted dataset
//! wrapper, pair misalignment, training-time augmentation and the gallery.

mod corrupt_common;

use std::sync::Arc;

use burn::data::dataset::Dataset;
use corrupt_common::instance;
use mafs_data::corrupt::gallery::{image_gallery, text_gallery};
use mafs_data::corrupt::pair::misalign_rate;
use mafs_data::corrupt::{
    AugmentChoice, CorruptedDataset, Corruption, CorruptionAugmenter, CorruptionAugmenterConfig,
    CorruptionSpec, DonorPool, ImageCorruption, SynonymTable, TextCorruption,
};
use mafs_data::{Instance, InstanceTransform};

fn instances(n: u64) -> Vec<Instance> {
    (0..n).map(|i| instance(i, 32)).collect()
}

#[test]
fn spec_applies_each_modality_and_keeps_the_rest() {
    let spec = CorruptionSpec::parse("image:gaussian_noise:3").unwrap();
    let clean = instance(1, 32);
    let mut x = clean.clone();
    spec.apply(&mut x, 0);
    assert_ne!(x.image, clean.image);
    assert_eq!(x.image.as_ref().unwrap().dimensions(), (32, 32));
    assert_eq!(
        (x.captions.clone(), x.side_text.clone(), x.questions.clone()),
        (
            clean.captions.clone(),
            clean.side_text.clone(),
            clean.questions.clone()
        )
    );

    let mut y = clean.clone();
    CorruptionSpec::parse("image:missing:1,text:missing:1")
        .unwrap()
        .apply(&mut y, 0);
    assert!(
        y.image.is_none() && y.side_text.is_none(),
        "missing sets the modality to None"
    );
    assert_eq!(y.captions, clean.captions);

    let mut z = clean.clone();
    CorruptionSpec::parse("caption:keyboard:5,question:word_mask:5")
        .unwrap()
        .apply(&mut z, 0);
    assert_ne!(z.captions, clean.captions);
    assert_eq!(z.image, clean.image);
    assert_eq!(z.side_text, clean.side_text);

    // Determinism: same instance and salt, same bytes; another salt, another draw.
    let mut a = clean.clone();
    let mut b = clean.clone();
    let mut c = clean.clone();
    let s = CorruptionSpec::parse("image:shot_noise:2,text:keyboard:3")
        .unwrap()
        .with_seed(4);
    s.apply(&mut a, 0);
    s.apply(&mut b, 0);
    s.apply(&mut c, 1);
    assert_eq!(a, b);
    assert_ne!(a.image, c.image);
}

#[test]
fn corrupted_dataset_is_deterministic_per_index() {
    let data = CorruptedDataset::from_vec(
        instances(6),
        CorruptionSpec::parse("image:fog:4,text:ocr:5")
            .unwrap()
            .with_seed(9),
    );
    assert_eq!(data.len(), 6);
    let first = data.get(2).unwrap();
    assert_eq!(data.get(2).unwrap(), first, "same index, same bytes");
    assert_ne!(data.get(3).unwrap().image, first.image);
    let clean = instance(2, 32);
    assert_ne!(first.image, clean.image);
    assert_eq!(first.id, 2);
}

#[test]
fn misalignment_rate_grows_with_severity_and_donors_are_others() {
    let n = 400u64;
    let items = instances(n);
    for sev in 1..=5u8 {
        let data = CorruptedDataset::from_vec(
            items.clone(),
            CorruptionSpec::parse(&format!("pair:misalign:{sev}")).unwrap(),
        );
        let mut moved = 0;
        for i in 0..n as usize {
            let got = data.get(i).unwrap();
            assert_eq!(got.image, items[i].image, "misalignment keeps the image");
            if got.side_text != items[i].side_text {
                moved += 1;
                assert!(
                    items
                        .iter()
                        .any(|o| o.id != got.id && o.side_text == got.side_text),
                    "the donor is another instance"
                );
            }
        }
        let share = moved as f64 / n as f64;
        let rate = misalign_rate(sev);
        let se = (rate * (1.0 - rate) / n as f64).sqrt().max(1e-9);
        assert!(
            (share - rate).abs() <= 4.0 * se + 1e-9,
            "sev {sev}: share {share} vs {rate}"
        );
    }
    // Captions can be misaligned too, with their sentids.
    let data = CorruptedDataset::from_vec(
        items.clone(),
        CorruptionSpec::parse("pair:misalign_caption:5").unwrap(),
    );
    let got = data.get(0).unwrap();
    assert_ne!(got.captions, items[0].captions);
    assert_ne!(got.sentids, items[0].sentids);
}

#[test]
#[should_panic(expected = "needs donors")]
fn pair_corruption_without_donors_panics_with_advice() {
    let mut x = instance(0, 16);
    CorruptionSpec::parse("pair:misalign:5")
        .unwrap()
        .apply(&mut x, 0);
}

#[test]
fn spec_with_a_donor_pool_misaligns() {
    let items = instances(10);
    let pool = Arc::new(DonorPool::from_instances(&items));
    let spec = CorruptionSpec::parse("pair:misalign:5")
        .unwrap()
        .with_donors(pool);
    let mut x = items[3].clone();
    spec.apply(&mut x, 0);
    assert_ne!(x.side_text, items[3].side_text);
}

#[test]
fn augmenter_corrupts_one_modality_with_its_probabilities() {
    let items = instances(50);
    let pool = Arc::new(DonorPool::from_instances(&items));
    let cfg = CorruptionAugmenterConfig {
        p_image: 0.3,
        p_text: 0.2,
        p_pair: 0.1,
        seed: 5,
        ..Default::default()
    };
    let aug = CorruptionAugmenter::new(cfg, Some(pool)).unwrap();
    let (mut img, mut txt, mut pair, mut clean) = (0, 0, 0, 0);
    let trials = 4000u64;
    for id in 0..trials {
        match aug.choose(id, 0) {
            AugmentChoice::Clean => clean += 1,
            AugmentChoice::Corrupted(e) => {
                assert!((1..=5).contains(&e.severity));
                match e.corruption {
                    Corruption::Image(_) => img += 1,
                    Corruption::Text(_, _) => txt += 1,
                    Corruption::Pair(_) => pair += 1,
                }
            }
        }
    }
    let f = |k: i32| f64::from(k) / trials as f64;
    for (got, want) in [
        (f(img), 0.3),
        (f(txt), 0.2),
        (f(pair), 0.1),
        (f(clean), 0.4),
    ] {
        assert!(
            (got - want).abs() < 4.0 * (want * (1.0 - want) / trials as f64).sqrt(),
            "{got} vs {want}"
        );
    }
    // Epochs (salts) change the draw; the same epoch repeats it.
    let mut a = items[7].clone();
    let mut b = items[7].clone();
    aug.apply(&mut a, 3);
    aug.apply(&mut b, 3);
    assert_eq!(a, b);
    let differs = (0..20).any(|e| aug.choose(7, e) != aug.choose(7, 0));
    assert!(differs);
    // Only one modality changes.
    for (i, it) in items.iter().enumerate() {
        let mut x = it.clone();
        aug.apply(&mut x, 1);
        let changed = [x.image != it.image, x.side_text != it.side_text]
            .iter()
            .filter(|&&c| c)
            .count();
        assert!(changed <= 1, "instance {i}: more than one modality changed");
    }
}

#[test]
fn augmenter_validates_its_configuration() {
    let bad = |cfg: CorruptionAugmenterConfig| {
        CorruptionAugmenter::new(cfg, None).unwrap_err().to_string()
    };
    assert!(
        bad(CorruptionAugmenterConfig {
            p_image: 0.7,
            p_text: 0.5,
            p_pair: 0.0,
            ..Default::default()
        })
        .contains("exceeds 1")
    );
    assert!(
        bad(CorruptionAugmenterConfig {
            p_pair: 0.1,
            ..Default::default()
        })
        .contains("donor pool")
    );
    assert!(
        bad(CorruptionAugmenterConfig {
            severity_min: 4,
            severity_max: 2,
            p_pair: 0.0,
            ..Default::default()
        })
        .contains("severity")
    );
    assert!(
        bad(CorruptionAugmenterConfig {
            p_pair: 0.0,
            image_corruptions: vec![],
            ..Default::default()
        })
        .contains("image_corruptions")
    );
    let ok = CorruptionAugmenterConfig {
        p_pair: 0.0,
        image_corruptions: vec![ImageCorruption::Missing],
        text_corruptions: vec![TextCorruption::Missing],
        p_image: 0.5,
        p_text: 0.5,
        ..Default::default()
    };
    let aug = CorruptionAugmenter::new(ok, None).unwrap();
    let mut x = instance(3, 16);
    aug.apply(&mut x, 0);
    assert!(
        x.image.is_none() ^ x.side_text.is_none(),
        "exactly one modality dropped"
    );
    let json = serde_json::to_string(&CorruptionAugmenterConfig::default()).unwrap();
    let back: CorruptionAugmenterConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, CorruptionAugmenterConfig::default());
}

#[test]
fn gallery_gives_every_corruption_at_every_severity_and_a_text_table() {
    let img = corrupt_common::scene(32, 1);
    let cells = image_gallery(&img, 0, 0);
    assert_eq!(cells.columns, ["clean", "1", "2", "3", "4", "5"]);
    assert_eq!(cells.rows.len(), ImageCorruption::ALL.len());
    for (name, row) in &cells.rows {
        assert_eq!(row.len(), 6, "{name}");
        assert_eq!(row[0], img, "{name}: the first column is the clean image");
        assert!(row.iter().all(|c| c.dimensions() == (32, 32)), "{name}");
    }
    let table = text_gallery(
        "a small red circle beside a large blue square",
        0,
        0,
        &SynonymTable::builtin(),
    );
    assert_eq!(table.lines().count(), 2 + 1 + TextCorruption::ALL.len() * 5);
    assert!(table.contains("| keyboard | 5 | 0.25 |"));
}
