//! Forward cost of the MA-AFS scheduling path at batch 64, M = 2, d = 128, on the flex
//! backend: the signals (prototype entropy, cosine and JS agreement) plus each scheduler, and
//! the fixed-weight baseline for reference.
//!
//! `cargo bench -p mafs-scheduler --profile dev --bench scheduler`

use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use mafs_core::{Encoded, Scheduler, SignalContext};
use mafs_scheduler::{FixedWeights, MlpSchedulerConfig, MonotoneSchedulerConfig};
use mafs_signals::{CosineAgreement, JsAgreement, PrototypeEntropyConfig, SignalStack};

const BATCH: usize = 64;
const D: usize = 128;
const TOKENS: usize = 16;

fn encodings(device: &Device) -> Vec<Encoded> {
    ["image", "text"]
        .iter()
        .map(|name| {
            let tokens =
                Tensor::<3>::random([BATCH, TOKENS, D], Distribution::Normal(0.0, 1.0), device);
            let pooled = Tensor::<2>::random([BATCH, D], Distribution::Normal(0.0, 1.0), device);
            Encoded::new(
                *name,
                tokens,
                Tensor::<2, Bool>::from_data(
                    TensorData::new(vec![false; BATCH * TOKENS], [BATCH, TOKENS]),
                    device,
                ),
                pooled,
                Tensor::<1, Bool>::from_data(
                    TensorData::new((0..BATCH).map(|i| i % 7 != 0).collect::<Vec<_>>(), [BATCH]),
                    device,
                ),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    device.seed(0);
    let enc = encodings(&device);
    let proto = PrototypeEntropyConfig::new(D).init(&device);
    let names: Vec<String> = ["prototype_entropy", "agreement_cosine", "agreement_js"]
        .map(String::from)
        .to_vec();
    let mlp = MlpSchedulerConfig::new(names.clone()).init(&device);
    let mono = MonotoneSchedulerConfig::new(vec![names[0].clone()])
        .with_agreement(names[1..].to_vec())
        .init(&device);
    let signals = |enc: &[Encoded]| {
        SignalStack::new()
            .with_ref(&proto)
            .with(CosineAgreement)
            .with(JsAgreement::new(&proto))
            .compute(&SignalContext::new(enc))
    };
    let mut group = c.benchmark_group("scheduler_b64_m2_d128");
    group.bench_function("signals", |bch| {
        bch.iter(|| {
            let s = signals(&enc);
            s.values.into_data()
        })
    });
    group.bench_function("signals+ma-afs-mlp", |bch| {
        bch.iter(|| {
            let s = signals(&enc);
            mlp.schedule(&enc, &s, 1.0).weights.into_data()
        })
    });
    group.bench_function("signals+ma-afs-monotone", |bch| {
        bch.iter(|| {
            let s = signals(&enc);
            mono.schedule(&enc, &s, 1.0).weights.into_data()
        })
    });
    let s = signals(&enc);
    group.bench_function("fixed", |bch| {
        bch.iter(|| {
            FixedWeights::default()
                .schedule(&enc, &s, 1.0)
                .weights
                .into_data()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
