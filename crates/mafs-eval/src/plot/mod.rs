//! Figures for reports, drawn with [plotters](https://docs.rs/plotters): a grid of panels,
//! each with line (with error bars), scatter and bar series, a legend and optional log axes.
//!
//! A [`Figure`] is plain data (it serialises to JSON, so tools such as `cargo xtask bench
//! --scale` can describe one and have it rendered). [`Figure::to_svg`] and [`Figure::to_png`]
//! run the same drawing code ([`draw`]) on plotters' SVG and bitmap backends, so both files
//! show the same picture. Text is set in DejaVu Sans, embedded in this crate ([`font`]), so a
//! PNG looks the same on every machine whatever fonts it has installed.
//!
//! [`grid`] lays images out in a labelled grid (the corruption gallery); [`bars`] builds the
//! grouped bar chart of `mafs compare`.

pub mod bars;
pub mod draw;
pub mod font;
pub mod grid;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Color(pub u8, pub u8, pub u8);

impl Color {
    /// Black.
    pub const BLACK: Color = Color(0, 0, 0);
    /// Light grey (grid lines).
    pub const GRID: Color = Color(225, 225, 225);
    /// White.
    pub const WHITE: Color = Color(255, 255, 255);

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The Tableau-10 palette (colour-blind friendlier than plotters' defaults).
pub const PALETTE: [Color; 8] = [
    Color(0x4e, 0x79, 0xa7),
    Color(0xf2, 0x8e, 0x2b),
    Color(0x59, 0xa1, 0x4f),
    Color(0xe1, 0x57, 0x59),
    Color(0x76, 0xb7, 0xb2),
    Color(0xed, 0xc9, 0x48),
    Color(0xb0, 0x7a, 0xa1),
    Color(0xff, 0x9d, 0xa7),
];

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Style {
    /// Points joined by lines, with markers and error bars.
    Line,
    /// Unjoined small dots.
    Scatter,
    /// Vertical bars of this width (data units) centred on x, from the axis to y, with error
    /// bars.
    Bars(f64),
    /// Horizontal bars of this height (data units) centred on y, from the axis to x, with
    /// horizontal error bars (the error applies to x): for long category names, which then
    /// read left of the axis.
    HBars(f64),
}

/// One series: points `(x, y)` with an optional error (half-height of the error bar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend name (an empty name stays out of the legend).
    pub name: String,
    /// Colour.
    pub color: Color,
    /// Style.
    pub style: Style,
    /// Points `(x, y, error)`; points with a non-finite x or y are skipped, and so are those
    /// that a log axis cannot show (x or y <= 0).
    pub points: Vec<(f64, f64, f64)>,
}

impl Series {
    /// A series of `style` with points without error bars.
    pub fn new(name: impl Into<String>, color: Color, style: Style, xy: &[(f64, f64)]) -> Self {
        Self {
            name: name.into(),
            color,
            style,
            points: xy.iter().map(|&(x, y)| (x, y, 0.0)).collect(),
        }
    }
}

/// Where a panel's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Legend {
    /// Top right corner, inside the plot.
    #[default]
    UpperRight,
    /// Top left corner.
    UpperLeft,
    /// Bottom left corner.
    LowerLeft,
    /// Bottom right corner.
    LowerRight,
    /// No legend.
    Hidden,
}

/// One panel: axes, labels and series.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Series, drawn in order.
    pub series: Vec<Series>,
    /// Fixed x range, else from the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range, else from the data (including 0 for bars on a linear axis).
    pub y_range: Option<(f64, f64)>,
    /// Ticks at these x positions with these labels (e.g. `0 = clean`), instead of numbers.
    pub x_tick_labels: Vec<(f64, String)>,
    /// Ticks at these y positions with these labels (categories of horizontal bars).
    #[serde(default)]
    pub y_tick_labels: Vec<(f64, String)>,
    /// Logarithmic x axis (base 10).
    #[serde(default)]
    pub x_log: bool,
    /// Logarithmic y axis (base 10).
    #[serde(default)]
    pub y_log: bool,
    /// Where the legend goes.
    #[serde(default)]
    pub legend: Legend,
}

/// A figure: a title and a grid of panels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Title at the top.
    pub title: String,
    /// Panels, row-major.
    pub panels: Vec<Panel>,
    /// Panels per row.
    pub columns: usize,
    /// Panel width in (SVG) pixels; the PNG is drawn at [`PNG_SCALE`] times this.
    pub panel_width: usize,
    /// Panel height in (SVG) pixels.
    pub panel_height: usize,
}

/// The PNG is drawn at this multiple of the SVG's size (sharp text when printed).
pub const PNG_SCALE: f64 = 2.0;

/// A drawing failure (plotters' or the PNG encoder's), as text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("drawing the figure: {0}")]
pub struct PlotError(pub String);

impl Figure {
    /// A figure of `panels`, `columns` to a row, 420×300 pixels each.
    pub fn new(title: impl Into<String>, panels: Vec<Panel>, columns: usize) -> Self {
        Self {
            title: title.into(),
            panels,
            columns: columns.max(1),
            panel_width: 420,
            panel_height: 300,
        }
    }

    /// Rows of panels.
    pub fn rows(&self) -> usize {
        self.panels.len().div_ceil(self.columns.max(1)).max(1)
    }

    /// The SVG's size in pixels (the title strip included).
    pub fn size(&self) -> (u32, u32) {
        let cols = self.columns.max(1).min(self.panels.len().max(1));
        let w = cols * self.panel_width;
        let h = self.rows() * self.panel_height + draw::TITLE_HEIGHT as usize;
        (w as u32, h as u32)
    }

    /// The figure as an SVG document.
    ///
    /// # Errors
    /// plotters' error, as text.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        draw::svg(self)
    }

    /// The figure as a PNG file's bytes, [`PNG_SCALE`] times the SVG's size.
    ///
    /// # Errors
    /// plotters' or the PNG encoder's error, as text.
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        draw::png(self, PNG_SCALE)
    }

    /// Writes `DIR/STEM.svg` and `DIR/STEM.png` (each atomically) and returns their paths.
    ///
    /// # Errors
    /// A drawing or I/O error, naming the file.
    pub fn save(&self, dir: &Path, stem: &str) -> Result<[PathBuf; 2], PlotError> {
        let svg = dir.join(format!("{stem}.svg"));
        let png = dir.join(format!("{stem}.png"));
        crate::atomic::write_atomic(&svg, self.to_svg()?.as_bytes())
            .map_err(|e| PlotError(format!("{}: {e}", svg.display())))?;
        crate::atomic::write_atomic(&png, &self.to_png()?)
            .map_err(|e| PlotError(format!("{}: {e}", png.display())))?;
        Ok([svg, png])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> Figure {
        let p = Panel {
            title: "accuracy vs severity".into(),
            x_label: "severity".into(),
            y_label: "accuracy".into(),
            series: vec![
                Series {
                    name: "ma-afs".into(),
                    color: PALETTE[0],
                    style: Style::Line,
                    points: vec![(0.0, 50.0, 2.0), (1.0, 45.0, 1.0), (2.0, f64::NAN, 0.0)],
                },
                Series::new("hist", PALETTE[1], Style::Bars(0.1), &[(0.5, 3.0)]),
                Series::new("dots", PALETTE[2], Style::Scatter, &[(0.2, 10.0)]),
            ],
            x_tick_labels: vec![(0.0, "clean".into()), (1.0, "1".into())],
            ..Panel::default()
        };
        let log = Panel {
            title: "log axes".into(),
            x_log: true,
            y_log: true,
            series: vec![Series::new(
                "burn",
                PALETTE[3],
                Style::Line,
                &[(1.0, 10.0), (10.0, 100.0), (0.0, 5.0), (100.0, 900.0)],
            )],
            ..Panel::default()
        };
        Figure::new("test figure", vec![p, log], 2)
    }

    #[test]
    fn svg_names_everything_it_draws() {
        let s = figure().to_svg().unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        for text in [
            "test figure",
            "accuracy vs severity",
            "ma-afs",
            "severity",
            "clean",
            "log axes",
            "burn",
        ] {
            assert!(s.contains(text), "missing {text}");
        }
        assert!(!s.contains("NaN"));
    }

    #[test]
    fn png_is_a_png_of_twice_the_svg_size_with_the_series_colours() {
        let f = figure();
        let bytes = f.to_png().unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let (w, h) = f.size();
        assert_eq!(
            (img.width(), img.height()),
            ((w as f64 * PNG_SCALE) as u32, (h as f64 * PNG_SCALE) as u32)
        );
        for c in [PALETTE[0], PALETTE[1], PALETTE[3]] {
            assert!(
                img.pixels().any(|p| p.0 == [c.0, c.1, c.2]),
                "no pixel of {c:?}"
            );
        }
        // Text was drawn: dark pixels in the title strip.
        let dark = (0..img.width())
            .flat_map(|x| (0..(draw::TITLE_HEIGHT as f64 * PNG_SCALE) as u32).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&v| v < 100))
            .count();
        assert!(dark > 50, "title not drawn ({dark} dark pixels)");
    }

    #[test]
    fn empty_and_degenerate_panels_still_draw() {
        let f = Figure::new(
            "empty",
            vec![
                Panel::default(),
                Panel {
                    series: vec![Series::new("one", PALETTE[0], Style::Line, &[(1.0, 1.0)])],
                    y_log: true,
                    ..Panel::default()
                },
            ],
            1,
        );
        assert!(f.to_png().is_ok());
        assert!(f.to_svg().is_ok());
    }

    #[test]
    fn figures_saved_as_json_by_other_tools_still_parse() {
        // What `cargo xtask bench --scale` writes (no log or legend fields).
        let json = r#"{"title": "t", "columns": 2, "panel_width": 420, "panel_height": 280,
            "panels": [{"title": "p", "x_label": "x", "y_label": "y", "x_range": null,
            "y_range": null, "x_tick_labels": [], "series": [{"name": "burn (mafs)",
            "color": [78, 121, 167], "style": "Line", "points": [[1.0, 2.0, 0.0]]}]}]}"#;
        let f: Figure = serde_json::from_str(json).unwrap();
        assert!(!f.panels[0].y_log);
        assert!(f.to_png().is_ok());
    }
}
