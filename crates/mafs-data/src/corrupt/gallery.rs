//! The corruption gallery: one image under every image corruption (rows) at the clean input
//! and severities 1–5 (columns) as one labelled grid, and one text under every text
//! corruption and severity as a table. `mafs corrupt gallery` writes both.

use image::{Rgb, RgbImage};

use super::image::ImageCorruption;
use super::rng::RngKey;
use super::synonyms::SynonymTable;
use super::text::TextCorruption;

const GAP: u32 = 2;
const BG: Rgb<u8> = Rgb([24, 24, 24]);
const INK: Rgb<u8> = Rgb([235, 235, 235]);

/// 3x5 glyphs, rows top to bottom, 3 bits each (most significant bit = left column).
fn glyph(c: char) -> [u8; 5] {
    match c.to_ascii_uppercase() {
        'A' => [2, 5, 7, 5, 5],
        'B' => [6, 5, 6, 5, 6],
        'C' => [3, 4, 4, 4, 3],
        'D' => [6, 5, 5, 5, 6],
        'E' => [7, 4, 6, 4, 7],
        'F' => [7, 4, 6, 4, 4],
        'G' => [3, 4, 5, 5, 3],
        'H' => [5, 5, 7, 5, 5],
        'I' => [7, 2, 2, 2, 7],
        'J' => [1, 1, 1, 5, 2],
        'K' => [5, 5, 6, 5, 5],
        'L' => [4, 4, 4, 4, 7],
        'M' => [5, 7, 7, 5, 5],
        'N' => [6, 5, 5, 5, 5],
        'O' => [2, 5, 5, 5, 2],
        'P' => [6, 5, 6, 4, 4],
        'Q' => [2, 5, 5, 6, 3],
        'R' => [6, 5, 6, 5, 5],
        'S' => [3, 4, 2, 1, 6],
        'T' => [7, 2, 2, 2, 2],
        'U' => [5, 5, 5, 5, 7],
        'V' => [5, 5, 5, 5, 2],
        'W' => [5, 5, 7, 7, 5],
        'X' => [5, 5, 2, 5, 5],
        'Y' => [5, 5, 2, 2, 2],
        'Z' => [7, 1, 2, 4, 7],
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [6, 1, 2, 4, 7],
        '3' => [6, 1, 2, 1, 6],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 6, 1, 6],
        '6' => [3, 4, 7, 5, 7],
        '7' => [7, 1, 2, 2, 2],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 6],
        '_' => [0, 0, 0, 0, 7],
        _ => [0, 0, 0, 0, 0],
    }
}

/// Draws `text` with its top-left corner at `(x, y)`, each font pixel `scale` pixels wide.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32) {
    for (i, ch) in text.chars().enumerate() {
        let g = glyph(ch);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3u32 {
                if bits & (4 >> col) != 0 {
                    for dy in 0..scale {
                        for dx in 0..scale {
                            let px = x + (i as u32 * 4 + col) * scale + dx;
                            let py = y + row as u32 * scale + dy;
                            if px < img.width() && py < img.height() {
                                img.put_pixel(px, py, INK);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn blit(dst: &mut RgbImage, src: &RgbImage, x0: u32, y0: u32) {
    for (x, y, p) in src.enumerate_pixels() {
        if x0 + x < dst.width() && y0 + y < dst.height() {
            dst.put_pixel(x0 + x, y0 + y, *p);
        }
    }
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

/// The image gallery: a header row (`clean`, `1`…`5`), then one row per image corruption,
/// labelled on the left; corruption draws are keyed by `(seed, instance_id)`.
pub fn image_gallery(img: &RgbImage, seed: u64, instance_id: u64) -> RgbImage {
    let (w, h) = img.dimensions();
    let scale = if h >= 48 { 2 } else { 1 };
    let label_w = ImageCorruption::ALL
        .iter()
        .map(|c| c.name().len())
        .max()
        .unwrap_or(0) as u32
        * 4
        * scale
        + 2 * GAP;
    let header_h = 7 * scale + GAP;
    let cols = 6u32;
    let rows = ImageCorruption::ALL.len() as u32;
    let mut out = RgbImage::from_pixel(
        label_w + cols * (w + GAP) + GAP,
        header_h + rows * (h + GAP) + GAP,
        BG,
    );
    for col in 0..cols {
        let label = if col == 0 {
            "clean".to_string()
        } else {
            col.to_string()
        };
        draw_text(
            &mut out,
            label_w + col * (w + GAP) + GAP,
            GAP,
            &label,
            scale,
        );
    }
    for (r, c) in ImageCorruption::ALL.iter().enumerate() {
        let y = header_h + r as u32 * (h + GAP) + GAP;
        draw_text(&mut out, GAP, y + h / 2 - (5 * scale) / 2, c.name(), scale);
        blit(&mut out, img, label_w + GAP, y);
        for sev in 1..=5u8 {
            let name = format!("image:{}", c.name());
            let mut rng = RngKey {
                seed,
                instance: instance_id,
                corruption: &name,
                severity: sev,
                salt: 0,
            }
            .rng();
            let cell = c
                .apply(img, sev, &mut rng)
                .unwrap_or_else(|| missing_cell(w, h));
            blit(
                &mut out,
                &cell,
                label_w + u32::from(sev) * (w + GAP) + GAP,
                y,
            );
        }
    }
    out
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
    let mut s = String::from("| corruption | severity | rate | text |\n|---|---|---|---|\n");
    s.push_str(&format!("| clean | - | 0 | {} |\n", text));
    for c in TextCorruption::ALL {
        for sev in 1..=5u8 {
            let name = format!("text:{}", c.name());
            let mut rng = RngKey {
                seed,
                instance: instance_id,
                corruption: &name,
                severity: sev,
                salt: 0,
            }
            .rng();
            let out = c
                .apply(text, sev, synonyms, &mut rng)
                .unwrap_or_else(|| "(none)".to_string());
            s.push_str(&format!(
                "| {} | {} | {:.2} | {} |\n",
                c.name(),
                sev,
                super::text::text_rate(sev),
                out.replace('|', "\\|")
            ));
        }
    }
    s
}
