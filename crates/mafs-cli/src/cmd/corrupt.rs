//! `mafs corrupt`: list the corruption suite, render its gallery, and corrupt one world scene
//! with a spec to look at.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use mafs_data::Split;
use mafs_data::corrupt::gallery::{gallery_legend, image_gallery, text_gallery};
use mafs_data::corrupt::{Corruption, ImageCorruption, SizeProfile, SynonymTable, TextCorruption};
use mafs_data::world::{World, WorldConfig};
use mafs_eval::plot::grid::ImageGrid;

/// Arguments of `mafs corrupt`.
#[derive(Args, Debug)]
pub struct CorruptArgs {
    #[command(subcommand)]
    command: CorruptCommand,
}

#[derive(Subcommand, Debug)]
enum CorruptCommand {
    /// List every corruption name usable in `--corrupt` specs.
    List,
    /// Render one world scene under every image corruption and severity as a PNG grid, and
    /// print one of its captions under every text corruption and severity.
    Gallery(GalleryArgs),
}

#[derive(Args, Debug)]
struct GalleryArgs {
    /// Output PNG.
    #[arg(long, default_value = "gallery.png")]
    out: PathBuf,
    /// Seed of the world and of the corruptions.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Image side in pixels (64 uses the Tiny-ImageNet-C constants, 32 CIFAR-10-C, other sizes
    /// scaled ImageNet-C).
    #[arg(long, default_value_t = 64)]
    size: u32,
    /// Split of the scene.
    #[arg(long, default_value = "test")]
    split: Split,
    /// Index of the scene in its split.
    #[arg(long, default_value_t = 0)]
    index: usize,
    /// Extra synonym groups (one comma-separated group per line).
    #[arg(long)]
    synonyms: Option<PathBuf>,
}

/// Runs `mafs corrupt`.
pub fn run(args: CorruptArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        CorruptCommand::List => {
            list();
            Ok(ExitCode::SUCCESS)
        }
        CorruptCommand::Gallery(g) => gallery(g),
    }
}

fn list() {
    println!("image corruptions (image:<name>:<severity 1-5>):");
    for c in ImageCorruption::ALL {
        println!("  image:{}", c.name());
    }
    println!("text corruptions, rate 0.05 * severity (text: = side text, caption:, question:):");
    for c in TextCorruption::ALL {
        println!("  text:{}", c.name());
    }
    println!("pair corruptions, rate 0.2 * severity:");
    for c in Corruption::all()
        .into_iter()
        .filter(|c| matches!(c, Corruption::Pair(_)))
    {
        println!("  {c}");
    }
    println!(
        "groups: all, image:all, image:imagenet_c, text:all, caption:all, question:all, pair:all"
    );
    println!("severity: 1-5, a range like 2-4, or omitted for 1-5; several specs comma separated");
}

fn gallery(g: GalleryArgs) -> anyhow::Result<ExitCode> {
    let n = g.index + 1;
    let mut cfg = WorldConfig {
        image_size: g.size,
        seed: g.seed,
        ..WorldConfig::tiny(n, g.seed)
    };
    cfg.set_count(g.split, n.max(cfg.count(g.split)));
    let world = World::new(cfg).context("building the world for the gallery")?;
    let scene = world.scene(g.split, g.index);
    let img = scene
        .image
        .clone()
        .context("the world scene has no image")?;
    let cells = image_gallery(&img, g.seed, scene.id);
    let grid = ImageGrid {
        title: format!(
            "image corruptions of scene {} ({} {}, seed {}), clean and severities 1-5",
            scene.id, g.split, g.index, g.seed
        ),
        columns: cells.columns,
        rows: cells.rows,
        zoom: None,
    }
    .render()?;
    let png =
        mafs_eval::plot::draw::encode_png(grid.width(), grid.height(), grid.clone().into_raw())?;
    mafs_eval::atomic::write_atomic(&g.out, &png)
        .with_context(|| format!("writing {}", g.out.display()))?;
    let p = SizeProfile::for_size(img.width() as usize, img.height() as usize);
    println!(
        "wrote {} ({}x{}): scene {} ({} {}), constants {:?} scale {:.3}",
        g.out.display(),
        grid.width(),
        grid.height(),
        scene.id,
        g.split,
        g.index,
        p.set,
        p.scale
    );
    print!("{}", gallery_legend());
    let mut syn = SynonymTable::builtin();
    if let Some(path) = &g.synonyms {
        syn.extend_from_file(path)?;
    }
    let caption = scene.captions.first().cloned().unwrap_or_default();
    println!();
    print!("{}", text_gallery(&caption, g.seed, scene.id, &syn));
    Ok(ExitCode::SUCCESS)
}
