//! Small, dependency-free figures for reports: a grid of panels, each with line (with error
//! bars), scatter and bar series. A figure is laid out once into drawing primitives
//! ([`layout::Shape`]); [`svg`] writes them as SVG and [`raster`] as a PNG (text from a
//! built-in bitmap font), so both files show the same picture.

pub mod font;
pub mod layout;
pub mod raster;
pub mod svg;

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

/// The Tableau-10 palette (the colours of `mafs compare`'s chart).
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
    /// Vertical bars of this width (data units) centred on x, from 0 to y.
    Bars(f64),
}

/// One series: points `(x, y)` with an optional error (half-height of the error bar).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Colour.
    pub color: Color,
    /// Style.
    pub style: Style,
    /// Points `(x, y, error)`; NaN values are skipped.
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
    /// Fixed y range, else from the data (including 0 for bars).
    pub y_range: Option<(f64, f64)>,
    /// Labels of integer x ticks (e.g. `0 = clean`), used instead of numbers when given.
    pub x_tick_labels: Vec<(f64, String)>,
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
    /// Panel width in pixels.
    pub panel_width: usize,
    /// Panel height in pixels.
    pub panel_height: usize,
}

impl Figure {
    /// A figure of `panels`, `columns` to a row, 360×260 pixels each.
    pub fn new(title: impl Into<String>, panels: Vec<Panel>, columns: usize) -> Self {
        Self {
            title: title.into(),
            panels,
            columns: columns.max(1),
            panel_width: 360,
            panel_height: 260,
        }
    }

    /// The figure as an SVG document.
    pub fn to_svg(&self) -> String {
        let (w, h, shapes) = layout::layout(self);
        svg::render(w, h, &shapes)
    }

    /// The figure as a PNG file's bytes.
    ///
    /// # Errors
    /// The PNG encoder's error, as text.
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        let (w, h, shapes) = layout::layout(self);
        raster::render_png(w, h, &shapes)
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
            x_tick_labels: vec![(0.0, "clean".into())],
            ..Panel::default()
        };
        Figure::new("test figure", vec![p.clone(), p], 2)
    }

    #[test]
    fn svg_names_everything_it_draws() {
        let s = figure().to_svg();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
        for text in [
            "test figure",
            "accuracy vs severity",
            "ma-afs",
            "severity",
            "clean",
        ] {
            assert!(s.contains(text), "missing {text}");
        }
        assert!(!s.contains("NaN"));
    }

    #[test]
    fn png_is_a_png_of_the_layout_size() {
        let f = figure();
        let bytes = f.to_png().unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        let (w, h, _) = layout::layout(&f);
        assert_eq!((img.width() as usize, img.height() as usize), (w, h));
        // Something besides the white background was drawn, in the series' colour.
        let c = PALETTE[0];
        assert!(img.pixels().any(|p| p.0 == [c.0, c.1, c.2]));
    }
}
