//! Caption generation at the `tiny` scale on flex (CPU): greedy and beam search with the
//! reorderable KV cache, and greedy with the whole prefix recomputed every step (what
//! generation costs without a cache), batch 64, 16 tokens, on a randomly initialised decoder
//! (which rarely emits EOS, so every sequence runs the full 16 steps: the worst case).
//!
//! ```text
//! cargo bench -p mafs-heads --profile dev --bench generation
//! ```
//!
//! Decoder: vocab 1024, d = 128, 2 layers, 4 heads, memory of 8 fused query tokens.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use mafs_heads::{
    CaptionDecoder, CaptionDecoderConfig, CaptionStepper, GenerationConfig, StepDecoder,
    beam_search, greedy,
};

const BATCH: usize = 64;
const MAX_LEN: usize = 16;

/// Recomputes the teacher-forced forward over the whole prefix at every step.
struct Recompute<'a> {
    decoder: &'a CaptionDecoder,
}

struct Prefixes {
    memory: Tensor<3>,
    tokens: Vec<Vec<i64>>,
}

impl StepDecoder for Recompute<'_> {
    type State = Prefixes;
    fn vocab_size(&self) -> usize {
        self.decoder.vocab_size()
    }
    fn step(&self, state: &mut Prefixes, last: &[u32]) -> Vec<f32> {
        for (p, &t) in state.tokens.iter_mut().zip(last) {
            p.push(t as i64);
        }
        let rows = state.tokens.len();
        let t = state.tokens[0].len();
        let device = state.memory.device();
        let flat: Vec<i64> = state.tokens.iter().flatten().copied().collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(flat, [rows, t]), &device);
        let pad = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![false; rows * t], [rows, t]),
            &device,
        );
        let v = self.decoder.vocab_size();
        let logits = self
            .decoder
            .forward(state.memory.clone(), ids, pad)
            .slice([0..rows, t - 1..t, 0..v])
            .reshape([rows, v]);
        log_softmax(logits, 1).try_into_vec_as::<f32>().unwrap()
    }
    fn reorder(&self, state: &mut Prefixes, parents: &[usize]) {
        let device = state.memory.device();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(
                parents.iter().map(|&p| p as i64).collect::<Vec<_>>(),
                [parents.len()],
            ),
            &device,
        );
        state.memory = state.memory.clone().select(0, idx);
        state.tokens = parents.iter().map(|&p| state.tokens[p].clone()).collect();
    }
}

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    device.seed(0);
    let decoder = CaptionDecoderConfig::new(1024, 128)
        .with_d_model(128)
        .with_n_layers(2)
        .with_n_heads(4)
        .with_max_positions(MAX_LEN)
        .init(&device);
    let memory = Tensor::<3>::random([BATCH, 8, 128], Distribution::Normal(0.0, 1.0), &device);
    let stepper = CaptionStepper::new(&decoder);
    let on_device = CaptionStepper {
        decoder: &decoder,
        select_on_device: true,
    };
    let cfg = GenerationConfig::new(1, 2)
        .with_pad_id(Some(0))
        .with_max_len(MAX_LEN);

    let mut group = c.benchmark_group("generation_b64_len16");
    group.sample_size(10);
    group.bench_function("greedy_kv_cache", |b| {
        b.iter(|| {
            let mut state = decoder.start(memory.clone());
            greedy(&stepper, &mut state, BATCH, &cfg)
        })
    });
    group.bench_function("greedy_recompute", |b| {
        let r = Recompute { decoder: &decoder };
        b.iter(|| {
            let mut state = Prefixes {
                memory: memory.clone(),
                tokens: vec![Vec::new(); BATCH],
            };
            greedy(&r, &mut state, BATCH, &cfg)
        })
    });
    group.bench_function("greedy_kv_cache_device_topk", |b| {
        b.iter(|| {
            let mut state = decoder.start(memory.clone());
            greedy(&on_device, &mut state, BATCH, &cfg)
        })
    });
    for k in [3usize, 5] {
        let beam = cfg.clone().with_beam_size(k);
        group.bench_function(format!("beam{k}_kv_cache"), |b| {
            b.iter(|| {
                let mut state = decoder.start(memory.clone());
                beam_search(&stepper, &mut state, BATCH, &beam)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
