//! The corruption gallery: one image under every image corruption (rows) at the clean input
//! and severities 1–5 (columns), and one text under every text corruption and severity as a
//! table. `mafs corrupt gallery` draws the images as a labelled grid (mafs-eval's plotting)
//! and prints the table.

use image::{Rgb, RgbImage};

use super::image::ImageCorruption;
use super::rng::RngKey;
use super::synonyms::SynonymTable;
use super::text::TextCorruption;

/// The draws of one gallery cell, keyed as evaluation keys them (salt 0).
fn gallery_rng(seed: u64, instance: u64, corruption: &str, severity: u8) -> super::rng::CorruptRng {
    RngKey {
        seed,
        instance,
        corruption,
        severity,
        salt: 0,
    }
    .rng()
}

/// A cell standing for an absent image: dark grey with a diagonal cross.
fn missing_cell(w: u32, h: u32) -> RgbImage {
    let mut c = RgbImage::from_pixel(w, h, Rgb([60, 60, 60]));
    for i in 0..w.min(h) {
        let j = i * h / w.max(1);
        c.put_pixel(i, j.min(h - 1), Rgb([200, 60, 60]));
        c.put_pixel(w - 1 - i, j.min(h - 1), Rgb([200, 60, 60]));
    }
    c
}

/// The cells of the image gallery: the column labels (`clean`, `1`…`5`), one row per image
/// corruption (its name, then the image clean and at severities 1–5; a dropped image is a
/// grey cell with a red cross). Drawing them with their labels is mafs-eval's
/// `plot::grid::ImageGrid`, which `mafs corrupt gallery` uses.
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryCells {
    /// Column labels.
    pub columns: Vec<String>,
    /// Rows: the corruption's name and its six images.
    pub rows: Vec<(String, Vec<RgbImage>)>,
}

/// The image gallery's cells; corruption draws are keyed by `(seed, instance_id)`.
pub fn image_gallery(img: &RgbImage, seed: u64, instance_id: u64) -> GalleryCells {
    let (w, h) = img.dimensions();
    let mut columns = vec!["clean".to_string()];
    columns.extend((1..=5).map(|s: u8| s.to_string()));
    let rows = ImageCorruption::ALL
        .iter()
        .map(|c| {
            let mut cells = vec![img.clone()];
            for sev in 1..=5u8 {
                let mut rng = gallery_rng(seed, instance_id, &format!("image:{}", c.name()), sev);
                cells.push(
                    c.apply(img, sev, &mut rng)
                        .unwrap_or_else(|| missing_cell(w, h)),
                );
            }
            (c.name().to_string(), cells)
        })
        .collect();
    GalleryCells { columns, rows }
}

/// The row order of [`image_gallery`], one name per line, for a printed legend.
pub fn gallery_legend() -> String {
    let mut s = String::from("rows (top to bottom):\n");
    for (i, c) in ImageCorruption::ALL.iter().enumerate() {
        s.push_str(&format!("  {:>2}. {}\n", i + 1, c.name()));
    }
    s.push_str("columns: clean, severity 1, 2, 3, 4, 5\n");
    s
}

/// The text gallery: a Markdown table of `text` under every text corruption and severity.
pub fn text_gallery(text: &str, seed: u64, instance_id: u64, synonyms: &SynonymTable) -> String {
    let mut t = mafs_core::table::Table::new(["corruption", "severity", "rate", "text"]);
    t.row(["clean", "-", "0", text]);
    for c in TextCorruption::ALL {
        for sev in 1..=5u8 {
            let mut rng = gallery_rng(seed, instance_id, &format!("text:{}", c.name()), sev);
            let out = c
                .apply(text, sev, synonyms, &mut rng)
                .unwrap_or_else(|| "(none)".to_string());
            t.row([
                c.name().to_string(),
                sev.to_string(),
                format!("{:.2}", super::text::text_rate(sev)),
                out,
            ]);
        }
    }
    t.to_string()
}
