//! Throughput of every corruption on 64x64 images (the built-in world's size) and on one
//! caption. Run: `cargo bench -p mafs-data --profile dev --bench corrupt`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use image::{Rgb, RgbImage};
use mafs_data::corrupt::rng::RngKey;
use mafs_data::corrupt::{ImageCorruption, SynonymTable, TextCorruption};

fn test_image(size: u32) -> RgbImage {
    let mut img = RgbImage::new(size, size);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let t = if ((x + 2 * y) / 3) % 2 == 0 { 20 } else { 0 };
        *p = Rgb([(x * 3 + t) as u8, (y * 3) as u8, (128 + t) as u8]);
    }
    img
}

fn image_corruptions(c: &mut Criterion) {
    let img = test_image(64);
    let mut g = c.benchmark_group("image_64x64");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    for corruption in ImageCorruption::ALL {
        let sev = 3u8;
        g.bench_with_input(
            BenchmarkId::from_parameter(corruption.name()),
            &corruption,
            |b, c| {
                let mut id = 0u64;
                b.iter(|| {
                    id += 1;
                    let mut rng = RngKey {
                        seed: 0,
                        instance: id,
                        corruption: c.name(),
                        severity: sev,
                        salt: 0,
                    }
                    .rng();
                    c.apply(&img, sev, &mut rng)
                })
            },
        );
    }
    g.finish();
}

fn text_corruptions(c: &mut Criterion) {
    let syn = SynonymTable::builtin();
    let caption = "a small red circle to the left of a large blue square above two green triangles";
    let mut g = c.benchmark_group("caption");
    g.throughput(Throughput::Elements(1));
    for corruption in TextCorruption::ALL {
        g.bench_with_input(
            BenchmarkId::from_parameter(corruption.name()),
            &corruption,
            |b, c| {
                let mut id = 0u64;
                b.iter(|| {
                    id += 1;
                    let mut rng = RngKey {
                        seed: 0,
                        instance: id,
                        corruption: c.name(),
                        severity: 3,
                        salt: 0,
                    }
                    .rng();
                    c.apply(caption, 3, &syn, &mut rng)
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, image_corruptions, text_corruptions);
criterion_main!(benches);
