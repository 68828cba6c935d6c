//! Properties of the metrics on random input (proptest, seeded by its defaults).

use mafs_eval::metrics::retrieval::{TiePolicy, ranks};
use mafs_eval::metrics::{PtbTokenizer, bleu, cider_d, rouge_l};
use proptest::prelude::*;
use std::sync::LazyLock;

static TOK: LazyLock<PtbTokenizer> = LazyLock::new(PtbTokenizer::new);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any text tokenises without panicking into single-space-separated, lower-case tokens
    /// with no punctuation token left.
    #[test]
    fn tokenizer_is_total(s in "\\PC{0,60}") {
        let out = TOK.tokenize_caption(&s);
        prop_assert!(!out.starts_with(' ') && !out.ends_with(' ') && !out.contains("  "));
        for t in out.split(' ').filter(|t| !t.is_empty()) {
            prop_assert!(!mafs_eval::metrics::ptb_tokenizer::PUNCTUATIONS.contains(&t));
        }
        prop_assert_eq!(out.to_lowercase(), out.clone());
    }

    /// Counted ranks equal the position in a full descending sort when scores are distinct.
    #[test]
    fn counted_ranks_equal_sorted_ranks(
        n_items in 1usize..6,
        per_item in 1usize..4,
        seed in any::<u64>(),
    ) {
        let n_captions = n_items * per_item;
        let map: Vec<usize> = (0..n_captions).map(|c| c / per_item).collect();
        // Distinct scores: a random permutation of 0..n.
        let n = n_items * n_captions;
        let mut vals: Vec<u64> = (0..n as u64).collect();
        let mut x = seed | 1;
        for i in (1..n).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            vals.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let sim: Vec<f32> = vals.iter().map(|&v| v as f32).collect();
        let r = ranks(&sim, n_items, &map, TiePolicy::Optimistic).unwrap();
        for i in 0..n_items {
            let row = &sim[i * n_captions..(i + 1) * n_captions];
            let mut order: Vec<usize> = (0..n_captions).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
            let best = order.iter().position(|&c| map[c] == i).unwrap();
            prop_assert_eq!(r.i2t[i], best);
        }
        for c in 0..n_captions {
            let mut order: Vec<usize> = (0..n_items).collect();
            order.sort_by(|&a, &b| sim[b * n_captions + c].total_cmp(&sim[a * n_captions + c]));
            prop_assert_eq!(r.t2i[c], order.iter().position(|&i| i == map[c]).unwrap());
        }
    }

    /// BLEU and ROUGE-L lie in [0, 1], CIDEr-D is non-negative and finite.
    #[test]
    fn caption_scores_are_bounded(
        words in prop::collection::vec(prop::collection::vec(0u8..6, 0..8), 6..12),
    ) {
        let text = |w: &Vec<u8>| w.iter().map(|i| ["a", "b", "c", "d", "e", "f"][*i as usize])
            .collect::<Vec<_>>().join(" ");
        let cands: Vec<String> = words.iter().step_by(3).map(text).collect();
        let refs: Vec<Vec<String>> = words
            .chunks(3)
            .take(cands.len())
            .map(|c| c.iter().skip(1).map(text).chain(std::iter::once("a b".into())).collect())
            .collect();
        let b = bleu(&cands, &refs).unwrap();
        let r = rouge_l(&cands, &refs).unwrap();
        let c = cider_d(&cands, &refs).unwrap();
        for x in b.corpus.iter().chain(b.per_item.iter().flatten()) {
            prop_assert!((0.0..=1.0).contains(x), "bleu {}", x);
        }
        for x in r.per_item.iter().chain(std::iter::once(&r.corpus)) {
            prop_assert!((0.0..=1.0 + 1e-12).contains(x), "rouge {}", x);
        }
        for x in c.per_item.iter().chain(std::iter::once(&c.corpus)) {
            prop_assert!(x.is_finite() && *x >= 0.0, "cider {}", x);
        }
    }
}
