//! A labelled grid of images (the corruption gallery): a title, column labels above, row
//! labels on the left, each cell an image scaled up by an integer factor (nearest neighbour,
//! so pixels stay visible). Images are copied into the canvas; the text is drawn with
//! plotters in the embedded font, as in every other figure.

use image::{Rgb, RgbImage, imageops};
use plotters::prelude::{BitMapBackend, IntoDrawingArea, Text};
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{encode_png, text};
use super::{PlotError, font};

/// A grid of images with row and column labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageGrid {
    /// Title above the grid.
    pub title: String,
    /// Column labels, one per column.
    pub columns: Vec<String>,
    /// Rows: a label and its images (all of one size).
    pub rows: Vec<(String, Vec<RgbImage>)>,
    /// Each image is drawn this many times its size; `None`: the smallest factor that makes
    /// a cell at least 96 pixels tall.
    pub zoom: Option<u32>,
}

const GAP: u32 = 4;
const FONT: f64 = 15.0;

impl ImageGrid {
    fn cell(&self) -> (u32, u32) {
        self.rows
            .iter()
            .flat_map(|r| r.1.iter())
            .map(RgbImage::dimensions)
            .fold((1, 1), |a, b| (a.0.max(b.0), a.1.max(b.1)))
    }

    fn zoom_factor(&self) -> u32 {
        let (_, h) = self.cell();
        self.zoom.unwrap_or_else(|| 96u32.div_ceil(h).max(1)).max(1)
    }

    /// The grid as an RGB image.
    ///
    /// # Errors
    /// plotters' error, as text.
    pub fn render(&self) -> Result<RgbImage, PlotError> {
        font::register();
        let z = self.zoom_factor();
        let (cw, ch) = self.cell();
        let (cw, ch) = (cw * z, ch * z);
        let n_cols = self
            .rows
            .iter()
            .map(|r| r.1.len())
            .chain([self.columns.len()])
            .max()
            .unwrap_or(0) as u32;
        let longest = self
            .rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0) as f64;
        let label_w = (longest * FONT * 0.62).ceil() as u32 + 3 * GAP;
        let title_h = (FONT * 2.4) as u32;
        let header_h = (FONT * 1.8) as u32;
        let width = label_w + n_cols * (cw + GAP) + GAP;
        let height = title_h + header_h + self.rows.len() as u32 * (ch + GAP) + GAP;
        let mut canvas = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
        for (r, (_, cells)) in self.rows.iter().enumerate() {
            let y = title_h + header_h + r as u32 * (ch + GAP);
            for (c, img) in cells.iter().enumerate() {
                let big = imageops::resize(
                    img,
                    img.width() * z,
                    img.height() * z,
                    imageops::FilterType::Nearest,
                );
                let x = label_w + c as u32 * (cw + GAP);
                imageops::replace(&mut canvas, &big, x.into(), y.into());
            }
        }
        let mut buf = canvas.into_raw();
        {
            let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
            let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| PlotError(e.to_string());
            let centre = Pos::new(HPos::Center, VPos::Center);
            root.draw(&Text::new(
                self.title.clone(),
                (width as i32 / 2, title_h as i32 / 2),
                text(FONT * 1.1, 1.0).pos(centre),
            ))
            .map_err(err)?;
            for (c, label) in self.columns.iter().enumerate() {
                let x = label_w + c as u32 * (cw + GAP) + cw / 2;
                root.draw(&Text::new(
                    label.clone(),
                    (x as i32, (title_h + header_h / 2) as i32),
                    text(FONT, 1.0).pos(centre),
                ))
                .map_err(err)?;
            }
            for (r, (label, _)) in self.rows.iter().enumerate() {
                let y = title_h + header_h + r as u32 * (ch + GAP) + ch / 2;
                root.draw(&Text::new(
                    label.clone(),
                    ((label_w - 2 * GAP) as i32, y as i32),
                    text(FONT, 1.0).pos(Pos::new(HPos::Right, VPos::Center)),
                ))
                .map_err(err)?;
            }
            root.present().map_err(err)?;
        }
        RgbImage::from_raw(width, height, buf)
            .ok_or_else(|| PlotError("the canvas changed size".into()))
    }

    /// The grid as PNG bytes.
    ///
    /// # Errors
    /// plotters' or the PNG encoder's error, as text.
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        let img = self.render()?;
        let (w, h) = img.dimensions();
        encode_png(w, h, img.into_raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_zoomed_in_place_and_labels_drawn() {
        let red = RgbImage::from_pixel(8, 8, Rgb([250, 0, 0]));
        let blue = RgbImage::from_pixel(8, 8, Rgb([0, 0, 250]));
        let g = ImageGrid {
            title: "gallery".into(),
            columns: vec!["clean".into(), "1".into()],
            rows: vec![("gaussian_noise".into(), vec![red.clone(), blue.clone()])],
            zoom: None,
        };
        let img = g.render().unwrap();
        let count = |c: [u8; 3]| img.pixels().filter(|p| p.0 == c).count();
        // 96 / 8 = 12 times: each cell is 96 x 96.
        assert_eq!(count([250, 0, 0]), 96 * 96);
        assert_eq!(count([0, 0, 250]), 96 * 96);
        let dark = img.pixels().filter(|p| p.0.iter().all(|&v| v < 90)).count();
        assert!(dark > 100, "labels not drawn");
        let png = g.to_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
