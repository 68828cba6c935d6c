//! Generation speed of the built-in world: one scene (render + captions + side text +
//! questions) at 64x64, on one core.
//!
//! `cargo bench -p mafs-data --profile dev --bench world`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mafs_data::Split;
use mafs_data::world::{World, WorldConfig};
use std::hint::black_box;

fn bench_world(c: &mut Criterion) {
    let world = World::new(WorldConfig::default()).expect("default config is valid");
    let mut group = c.benchmark_group("world");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("scene_64x64_one_core", |b| {
        b.iter(|| {
            i = (i + 1) % 4000;
            black_box(world.scene(Split::Train, black_box(i)))
        })
    });
    let mut j = 0usize;
    group.bench_function("scene_64x64_shift_one_core", |b| {
        b.iter(|| {
            j = (j + 1) % 500;
            black_box(world.scene(Split::Shift, black_box(j)))
        })
    });
    group.finish();
}

criterion_group!(benches, bench_world);
criterion_main!(benches);
