//! One forward pass of the whole `tiny` model (encoders, signals, weighting, fusion) at batch
//! 64 for each fusion, on `model.valid()` (inference). The MA-AFS scheduler and its signals
//! must cost at most 3% over `fixed-query`.
//!
//! `cargo bench -p mafs-train --profile dev --bench fusion_forward`

use std::hint::black_box;

use burn::module::Module;
use burn::tensor::Device;
use criterion::{Criterion, criterion_group, criterion_main};
use mafs_data::Split;
use mafs_train::config::{DataSource, FusionKind, RunConfig, Task};
use mafs_train::data::{TaskDataset, Vocabulary, load_splits, make_batcher, to_model_batch};
use mafs_train::model::build_model;

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    let mut group = c.benchmark_group("tiny_forward_b64");
    group.sample_size(10);
    for fusion in [
        FusionKind::FixedQuery,
        FusionKind::MaAfs,
        FusionKind::MaAfsMonotone,
        FusionKind::FixedLate,
        FusionKind::MaAfsLate,
    ] {
        let mut config = RunConfig::new(Task::Retrieval, fusion, 0);
        config.data = DataSource::World {
            seed: 0,
            train: 64,
            val: 8,
            test: 8,
            shift: 8,
        };
        let splits = load_splits(&config.data, 64).unwrap();
        let vocab = Vocabulary::build(&splits[&Split::Train], &config);
        device.seed(0);
        let model = build_model(&config, vocab.sizes(), &device)
            .unwrap()
            .valid();
        let batcher = make_batcher(&vocab, 64, model.spec.context_length, None);
        let data = TaskDataset::sampled(Task::Retrieval, splits[&Split::Train].clone(), 0);
        let idx: Vec<usize> = (0..64).collect();
        let batch = to_model_batch(data.batch(&batcher, &idx, 0, &device));
        group.bench_function(fusion.as_str(), |b| {
            b.iter(|| {
                let f = model.forward_items(black_box(&batch), 0.5, false);
                // Read the result back so the backend has really computed it.
                black_box(f.fused.pooled.into_data());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
