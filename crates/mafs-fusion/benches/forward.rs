//! One inference forward pass of the `tiny` encoders (image ViT + caption text tower) and a
//! fusion head at batch 64 on flex (CPU):
//!
//! ```text
//! cargo bench -p mafs-fusion --profile dev --bench forward
//! ```
//!
//! `tiny`: ViT width 128, 4 layers, 64x64 images, patch 8 (65 tokens); text width 128,
//! 4 layers, 16 tokens; query fusion 2 layers, 8 queries, 4 heads, d = 128. The last group
//! times forward + backward on the autodiff device (no optimiser step).

use burn::tensor::{Bool, Device, Distribution, Int, Tensor, TensorData};
use criterion::{Criterion, criterion_group, criterion_main};
use mafs_core::{FusionHead, FusionWeights, ModalityBatch, ModalityEncoder, ModalityInput};
use mafs_encoders::EncoderPreset;
use mafs_fusion::{LateFusionConfig, QueryFusionConfig};

const BATCH: usize = 64;

fn inputs(device: &Device, preset: &EncoderPreset) -> (ModalityBatch, ModalityBatch) {
    let s = preset.vision.image_size;
    let n = preset.text.context_length;
    let images = Tensor::<4>::random([BATCH, 3, s, s], Distribution::Normal(0.0, 1.0), device);
    let ids = Tensor::<2, Int>::random(
        [BATCH, n],
        Distribution::Uniform(0.0, preset.text.vocab_size as f64),
        device,
    );
    // lengths 4..=n, padded on the right
    let pad: Vec<bool> = (0..BATCH)
        .flat_map(|b| (0..n).map(move |i| i >= 4 + b % (n - 3)))
        .collect();
    let padding = Tensor::<2, Bool>::from_data(TensorData::new(pad, [BATCH, n]), device);
    let present = Tensor::<1, Int>::ones([BATCH], device).equal_elem(1);
    (
        ModalityBatch::new("image", ModalityInput::Image(images), present.clone()),
        ModalityBatch::new("caption", ModalityInput::Tokens { ids, padding }, present),
    )
}

fn uniform(batches: &[&ModalityBatch]) -> FusionWeights {
    let present = Tensor::stack(batches.iter().map(|b| b.present.clone()).collect(), 1);
    let logits = Tensor::<2>::zeros(present.dims(), &present.device());
    FusionWeights {
        weights: mafs_core::weights::masked_softmax(logits.clone(), present.clone(), 1.0),
        logits,
        present,
        signals: None,
        tau: 1.0,
    }
}

fn bench(c: &mut Criterion) {
    let device = Device::flex();
    device.seed(0);
    let preset = EncoderPreset::named("tiny").expect("tiny preset");
    let vit = preset.image_encoder(&device);
    let text = preset.text_encoder("caption", &device);
    let d = preset.embed_dim;
    let query = QueryFusionConfig::new(vec![d, d], d)
        .with_n_queries(8)
        .with_layers(2)
        .with_heads(4)
        .init(&device);
    let late = LateFusionConfig::new(vec![d, d], d).init(&device);
    let (img, cap) = inputs(&device, &preset);
    let weights = uniform(&[&img, &cap]);

    let mut group = c.benchmark_group("tiny_b64");
    group.sample_size(20);
    group.bench_function("encoders", |bch| {
        bch.iter(|| {
            let a = vit.encode(&img);
            let b = text.encode(&cap);
            (a.pooled.into_data(), b.pooled.into_data())
        })
    });
    group.bench_function("encoders+query_fusion", |bch| {
        bch.iter(|| {
            let enc = [vit.encode(&img), text.encode(&cap)];
            query.fuse(&enc, &weights).pooled.into_data()
        })
    });
    group.bench_function("encoders+late_fusion", |bch| {
        bch.iter(|| {
            let enc = [vit.encode(&img), text.encode(&cap)];
            late.fuse(&enc, &weights).pooled.into_data()
        })
    });
    let enc = [vit.encode(&img), text.encode(&cap)];
    group.bench_function("query_fusion_only", |bch| {
        bch.iter(|| query.fuse(&enc, &weights).pooled.into_data())
    });
    group.finish();

    // forward + backward (no optimiser step) on the autodiff device, dropout 0
    let ad = Device::flex().autodiff();
    ad.seed(0);
    let vit = preset.image_encoder(&ad);
    let text = preset.text_encoder("caption", &ad);
    let query = QueryFusionConfig::new(vec![d, d], d)
        .with_n_queries(8)
        .with_layers(2)
        .with_heads(4)
        .init(&ad);
    let (img, cap) = inputs(&ad, &preset);
    let weights = uniform(&[&img, &cap]);
    let mut group = c.benchmark_group("tiny_b64_autodiff");
    group.sample_size(10);
    group.bench_function("encoders+query_fusion forward+backward", |bch| {
        bch.iter(|| {
            let enc = [vit.encode(&img), text.encode(&cap)];
            let loss = query.fuse(&enc, &weights).pooled.powf_scalar(2.0).mean();
            loss.backward()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
