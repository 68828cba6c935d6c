//! Writes a gallery of built-in world scenes (a grid PNG, scaled up 3x) and prints their
//! captions, side texts and questions.
//!
//! `cargo run -p mafs-data --example world_gallery -- OUT.png [SPLIT] [SEED]`

use image::{RgbImage, imageops};
use mafs_data::Split;
use mafs_data::world::{World, WorldConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("world_gallery.png");
    let split: Split = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(Split::Train);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(0);
    let world = World::new(WorldConfig {
        seed,
        ..WorldConfig::default()
    })?;
    let (cols, rows, scale) = (6u32, 4u32, 3u32);
    let side = world.config().image_size * scale;
    let mut grid = RgbImage::new(cols * (side + 2), rows * (side + 2));
    for k in 0..(cols * rows) as usize {
        let inst = world.scene(split, k);
        let img = inst.image.as_ref().expect("world scenes have images");
        let big = imageops::resize(img, side, side, imageops::FilterType::Nearest);
        let (x, y) = (
            (k as u32 % cols) * (side + 2),
            (k as u32 / cols) * (side + 2),
        );
        imageops::replace(&mut grid, &big, x as i64, y as i64);
        if k < 4 {
            println!("#{k} (id {}):", inst.id);
            for c in &inst.captions {
                println!("  caption: {c}");
            }
            println!("  side text: {}", inst.side_text.as_deref().unwrap_or("-"));
            for q in &inst.questions {
                println!(
                    "  [{}] {} -> {} {:?}",
                    q.question_type, q.question, q.answer, q.answers
                );
            }
        }
    }
    grid.save(out)?;
    println!("wrote {out}");
    Ok(())
}
