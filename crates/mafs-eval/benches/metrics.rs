//! Speed of the metrics at evaluation scale, on one CPU core:
//!
//! ```text
//! cargo bench -p mafs-eval --profile dev --bench metrics
//! ```
//!
//! - retrieval recall from a similarity matrix: Flickr30k test (1,000 x 5,000) and COCO 5k
//!   test (5,000 x 25,000), both directions (ranks are counted, never sorted);
//! - PTB tokenisation of 1,000 COCO-like captions;
//! - the caption scorer (tokenise + BLEU + CIDEr-D + ROUGE-L) on 1,000 images x 5 references.

use criterion::{Criterion, criterion_group, criterion_main};
use mafs_eval::metrics::{CaptionSample, CaptionScorer, PtbTokenizer, retrieval_metrics};

/// A small deterministic generator (xorshift64*), so the bench needs no extra dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn similarity(n_items: usize, per_item: usize, rng: &mut Rng) -> (Vec<f32>, Vec<usize>) {
    let n_captions = n_items * per_item;
    let map: Vec<usize> = (0..n_captions).map(|c| c / per_item).collect();
    let mut sim: Vec<f32> = (0..n_items * n_captions).map(|_| rng.unit()).collect();
    // Make the ground truth somewhat better than chance.
    for (c, &i) in map.iter().enumerate() {
        sim[i * n_captions + c] += 0.5;
    }
    (sim, map)
}

const WORDS: [&str; 24] = [
    "a", "man", "woman", "dog", "riding", "on", "the", "of", "with", "red", "bus", "street", "two",
    "people", "sitting", "table", "near", "cat's", "isn't", "large", "white", "plate", "kite",
    "beach",
];

fn caption(rng: &mut Rng) -> String {
    let n = 6 + (rng.next() % 8) as usize;
    let mut words: Vec<&str> = (0..n)
        .map(|_| WORDS[(rng.next() % WORDS.len() as u64) as usize])
        .collect();
    words[0] = "A";
    format!("{}.", words.join(" "))
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut group = c.benchmark_group("retrieval");
    group.sample_size(10);
    for (name, items) in [("flickr_1k_x_5k", 1000), ("coco_5k_x_25k", 5000)] {
        let (sim, map) = similarity(items, 5, &mut rng);
        group.bench_function(name, |b| {
            b.iter(|| retrieval_metrics(&sim, items, &map).unwrap())
        });
    }
    group.finish();

    let captions: Vec<String> = (0..1000).map(|_| caption(&mut rng)).collect();
    let tok = PtbTokenizer::new();
    c.bench_function("ptb_tokenize_1000_captions", |b| {
        b.iter(|| tok.tokenize_lines(&captions))
    });

    let samples: Vec<CaptionSample> = (0..1000)
        .map(|_| CaptionSample {
            candidate: caption(&mut rng),
            references: (0..5).map(|_| caption(&mut rng)).collect(),
        })
        .collect();
    let scorer = CaptionScorer::new();
    let mut group = c.benchmark_group("captions");
    group.sample_size(10);
    group.bench_function("score_1000_images_x_5_refs", |b| {
        b.iter(|| scorer.score(&samples).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
