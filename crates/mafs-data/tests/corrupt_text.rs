//! Statistical tests of the text corruptions: rates follow `0.05 * severity` as nlpaug and EDA
//! define it, over many captions; missing drops the text; determinism.

mod corrupt_common;

use corrupt_common::rng;
use mafs_data::corrupt::SynonymTable;
use mafs_data::corrupt::text_char::{CharOp, aug_count, char_augment_counted};
use mafs_data::corrupt::text_tokenize::{detokenize, tokenize};
use mafs_data::corrupt::text_word::{WordOp, get_only_chars, word_augment};
use mafs_data::corrupt::{TextCorruption, text_rate};

const COLOURS: [&str; 8] = [
    "red", "green", "blue", "yellow", "purple", "orange", "white", "black",
];
const SHAPES: [&str; 8] = [
    "circle", "square", "triangle", "star", "hexagon", "diamond", "cross", "ellipse",
];
const SIZES: [&str; 3] = ["small", "large", "medium"];
const RELS: [&str; 4] = ["beside", "above", "below", "near"];

/// Captions of varied length, all lower case letters and spaces.
fn captions(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut words = vec!["image", "shows"];
            for k in 0..(2 + i % 6) {
                words.push(SIZES[(i + k) % 3]);
                words.push(COLOURS[(i * 3 + k) % 8]);
                words.push(SHAPES[(i * 5 + k * 3) % 8]);
                words.push(RELS[(i + 2 * k) % 4]);
            }
            words.push("background");
            words.join(" ")
        })
        .collect()
}

#[test]
fn char_level_word_share_follows_nlpaug_rate() {
    let caps = captions(300);
    for op in [
        CharOp::Keyboard,
        CharOp::Ocr,
        CharOp::Insert,
        CharOp::Substitute,
        CharOp::Swap,
        CharOp::Delete,
    ] {
        for sev in 1..=5u8 {
            let rate = text_rate(sev);
            let (mut got, mut want, mut tokens_total) = (0usize, 0usize, 0usize);
            for (i, c) in caps.iter().enumerate() {
                let toks = tokenize(c);
                let eligible = toks
                    .iter()
                    .filter(|t| t.chars().count() >= op.params().min_char)
                    .count();
                let expect = aug_count(toks.len(), 1, 10, rate).min(eligible);
                let (_, picked) =
                    char_augment_counted(c, op, rate, &mut rng("char", i as u64, sev));
                assert_eq!(
                    picked.len(),
                    expect,
                    "{op:?} sev {sev}: drew {} of {expect} words",
                    picked.len()
                );
                got += picked.len();
                want += expect;
                tokens_total += toks.len();
            }
            // Over the corpus the drawn share is the rate, rounded up per caption.
            let share = got as f64 / tokens_total as f64;
            assert!(
                share >= rate - 1e-9 && share <= rate + caps.len() as f64 / tokens_total as f64,
                "{op:?} sev {sev}: share {share}"
            );
            assert_eq!(got, want);
        }
    }
}

#[test]
fn keyboard_changes_the_drawn_words_with_neighbours() {
    let caps = captions(100);
    for sev in 1..=5u8 {
        let rate = text_rate(sev);
        for (i, c) in caps.iter().enumerate() {
            let (out, picked) =
                char_augment_counted(c, CharOp::Keyboard, rate, &mut rng("kb", i as u64, sev));
            // Split on spaces: a typo may put a neighbouring `,` or `.` inside a word.
            let (a, b): (Vec<&str>, Vec<&str>) = (c.split(' ').collect(), out.split(' ').collect());
            assert_eq!(
                a.len(),
                b.len(),
                "keyboard typos keep the word count: {out}"
            );
            let changed = a.iter().zip(&b).filter(|(x, y)| x != y).count();
            // Every drawn word changes (a key's neighbours never include itself).
            assert_eq!(changed, picked.len(), "sev {sev}: {c} -> {out}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x.chars().count(), y.chars().count());
                let diff = x.chars().zip(y.chars()).filter(|(p, q)| p != q).count();
                assert!(diff <= aug_count(x.chars().count(), 1, 10, 0.3));
            }
        }
    }
}

#[test]
fn ocr_substitutes_only_confusable_characters() {
    let (out, _) = char_augment_counted(
        "room 101 for 8 robots",
        CharOp::Ocr,
        1.0,
        &mut rng("ocr", 1, 5),
    );
    for (x, y) in tokenize("room 101 for 8 robots")
        .iter()
        .zip(tokenize(&out).iter())
    {
        for (p, q) in x.chars().zip(y.chars()) {
            if p != q {
                let ok = mafs_data::corrupt::text_char::ocr_table()[&p].contains(&q);
                assert!(ok, "{p} -> {q} is not an OCR confusion");
            }
        }
    }
}

#[test]
fn word_level_rates_follow_eda_and_qmf() {
    let syn = SynonymTable::builtin();
    let caps = captions(400);
    for sev in 1..=5u8 {
        let rate = text_rate(sev);
        let (mut deleted, mut words, mut masked, mut inserted, mut want_inserted) =
            (0usize, 0usize, 0usize, 0usize, 0usize);
        for (i, c) in caps.iter().enumerate() {
            let n = c.split(' ').count();
            words += n;
            let del = word_augment(c, WordOp::Delete, rate, &syn, &mut rng("rd", i as u64, sev));
            deleted += n - del.split_whitespace().count();
            let mask = word_augment(c, WordOp::Mask, rate, &syn, &mut rng("mask", i as u64, sev));
            masked += mask.split(' ').filter(|w| *w == "_").count();
            let ins = word_augment(c, WordOp::Insert, rate, &syn, &mut rng("ri", i as u64, sev));
            let n_ri = ((rate * n as f64) as usize).max(1);
            // Inserted synonyms may be phrases; count words added.
            inserted += ins.split_whitespace().count() - n;
            want_inserted += n_ri;
            let swap = word_augment(c, WordOp::Swap, rate, &syn, &mut rng("rs", i as u64, sev));
            let mut a: Vec<&str> = swap.split(' ').collect();
            let mut b: Vec<&str> = c.split(' ').collect();
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "a swap keeps the words");
        }
        let p_del = deleted as f64 / words as f64;
        let p_mask = masked as f64 / words as f64;
        let se = (rate * (1.0 - rate) / words as f64).sqrt();
        assert!(
            (p_del - rate).abs() < 4.0 * se,
            "sev {sev}: deletion share {p_del} vs {rate}"
        );
        assert!(
            (p_mask - rate).abs() < 4.0 * se,
            "sev {sev}: mask share {p_mask} vs {rate}"
        );
        assert!(
            inserted >= want_inserted,
            "sev {sev}: inserted {inserted} words for {want_inserted} insertions"
        );
    }
}

#[test]
fn synonym_replacement_replaces_n_distinct_words() {
    let syn = SynonymTable::builtin();
    // Distinct content words, each with synonyms.
    let c = "small red circle large blue square medium green triangle tiny yellow star huge purple hexagon orange diamond white ellipse black cross";
    let n = c.split(' ').count();
    for sev in 1..=5u8 {
        let rate = text_rate(sev);
        let want = ((rate * n as f64) as usize).max(1);
        for id in 0..20 {
            let out = word_augment(
                c,
                WordOp::SynonymReplacement,
                rate,
                &syn,
                &mut rng("sr", id, sev),
            );
            // Count clean words that no longer appear in place: map back by position where the
            // replacement is a single word.
            let outw: Vec<&str> = out.split(' ').collect();
            if outw.len() == n {
                let changed = outw
                    .iter()
                    .zip(c.split(' '))
                    .filter(|(a, b)| **a != *b)
                    .count();
                assert_eq!(changed, want, "sev {sev}: {out}");
            } else {
                assert!(outw.len() > n, "phrase synonyms only lengthen: {out}");
            }
        }
    }
}

#[test]
fn severity_raises_the_distance_from_clean_text() {
    let syn = SynonymTable::builtin();
    let caps = captions(60);
    for c in TextCorruption::ALL
        .iter()
        .copied()
        .filter(|c| *c != TextCorruption::Missing)
    {
        let dist = |sev: u8| -> f64 {
            caps.iter()
                .enumerate()
                .map(|(i, cap)| {
                    let out = c
                        .apply(cap, sev, &syn, &mut rng(c.name(), i as u64, sev))
                        .unwrap();
                    let clean = if matches!(c, TextCorruption::WordMask) {
                        cap.clone()
                    } else {
                        normalise(c, cap)
                    };
                    edit_distance(&clean, &out) as f64
                })
                .sum::<f64>()
        };
        let (d1, d5) = (dist(1), dist(5));
        assert!(d1 > 0.0 && d5 > d1, "{c}: distance sev1 {d1} sev5 {d5}");
    }
}

/// The text a corruption returns at rate 0 (the cleaning it always does).
fn normalise(c: TextCorruption, text: &str) -> String {
    match c {
        TextCorruption::SynonymReplacement
        | TextCorruption::WordInsert
        | TextCorruption::WordSwap
        | TextCorruption::WordDelete => get_only_chars(text),
        _ => detokenize(&tokenize(text)),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            cur[j] = (prev[j] + 1)
                .min(cur[j - 1] + 1)
                .min(prev[j - 1] + usize::from(a[i - 1] != b[j - 1]));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[test]
fn missing_drops_text_and_corruptions_are_deterministic() {
    let syn = SynonymTable::builtin();
    let cap = "a small red circle beside a large blue square";
    assert_eq!(
        TextCorruption::Missing.apply(cap, 3, &syn, &mut rng("m", 0, 3)),
        None
    );
    for c in TextCorruption::ALL {
        let a = c.apply(cap, 4, &syn, &mut rng(c.name(), 5, 4));
        let b = c.apply(cap, 4, &syn, &mut rng(c.name(), 5, 4));
        assert_eq!(a, b, "{c} is not deterministic");
    }
    let outs: std::collections::HashSet<String> = (0..10)
        .map(|id| {
            TextCorruption::Keyboard
                .apply(cap, 5, &syn, &mut rng("k", id, 5))
                .unwrap()
        })
        .collect();
    assert!(
        outs.len() > 5,
        "different instances draw different typos: {outs:?}"
    );
}

#[test]
fn synonym_table_covers_the_world_caption_vocabulary() {
    use mafs_data::Split;
    use mafs_data::corrupt::text_word::EDA_STOP_WORDS;
    use mafs_data::world::{World, WorldConfig};
    let syn = SynonymTable::builtin();
    let world = World::new(WorldConfig::tiny(60, 3)).unwrap();
    let mut missing = std::collections::BTreeSet::new();
    let mut seen = 0;
    for split in Split::ALL {
        for i in 0..world.len(split).min(30) {
            let inst = world.scene(split, i);
            for cap in &inst.captions {
                for w in get_only_chars(cap).split(' ').filter(|w| !w.is_empty()) {
                    seen += 1;
                    if !EDA_STOP_WORDS.contains(&w) && !syn.covers(w) {
                        missing.insert(w.to_string());
                    }
                }
            }
        }
    }
    assert!(seen > 1000);
    assert!(
        missing.is_empty(),
        "caption words without synonyms: {missing:?}"
    );
}
