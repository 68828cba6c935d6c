//! Lays a [`Figure`] out into pixel-space drawing primitives, shared by the SVG and PNG
//! writers.

use super::font::text_width;
use super::{Color, Figure, Panel, Style};

/// Horizontal anchor of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// `x` is the left end.
    Start,
    /// `x` is the centre.
    Middle,
    /// `x` is the right end.
    End,
}

/// A drawing primitive in pixels (origin top left).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A straight line.
    Line {
        /// Start.
        from: (f64, f64),
        /// End.
        to: (f64, f64),
        /// Colour.
        color: Color,
        /// Width in pixels.
        width: f64,
    },
    /// A filled rectangle, optionally outlined.
    Rect {
        /// Top-left corner.
        at: (f64, f64),
        /// Width and height.
        size: (f64, f64),
        /// Fill.
        fill: Color,
        /// Outline.
        stroke: Option<Color>,
    },
    /// A filled disc.
    Circle {
        /// Centre.
        at: (f64, f64),
        /// Radius.
        r: f64,
        /// Fill.
        color: Color,
    },
    /// A line of text; `at.1` is the top of the text box (for vertical text, `at` is the
    /// centre-left point it is rotated about, reading upwards).
    Text {
        /// Anchor point.
        at: (f64, f64),
        /// Text (ASCII shows in PNGs; other characters become `?` there).
        text: String,
        /// Colour.
        color: Color,
        /// Size multiplier (1: 7-pixel glyphs).
        scale: usize,
        /// Horizontal anchor.
        anchor: Anchor,
        /// Rotated by -90 degrees.
        vertical: bool,
    },
}

const TITLE_H: f64 = 34.0;
const LEGEND_ROW_H: f64 = 18.0;
const MARGIN_L: f64 = 62.0;
const MARGIN_R: f64 = 14.0;
const MARGIN_T: f64 = 24.0;
const MARGIN_B: f64 = 42.0;

/// "Nice" tick positions covering `[lo, hi]`, about `target` of them (steps of 1, 2 or 5
/// times a power of ten).
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| (k as f64 * step * 1e12).round() / 1e12)
        .collect()
}

/// A tick label with as many decimals as the step needs.
pub fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 || step <= 0.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    let s = format!("{v:.decimals$}");
    if s == "-0" { "0".to_string() } else { s }
}

fn data_range(panel: &Panel) -> ((f64, f64), (f64, f64)) {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for s in &panel.series {
        let half = match s.style {
            Style::Bars(w) => w / 2.0,
            _ => 0.0,
        };
        for &(x, y, e) in &s.points {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            let e = if e.is_finite() { e.abs() } else { 0.0 };
            x0 = x0.min(x - half);
            x1 = x1.max(x + half);
            y0 = y0.min(y - e);
            y1 = y1.max(y + e);
            if matches!(s.style, Style::Bars(_)) {
                y0 = y0.min(0.0);
            }
        }
    }
    let pad = |a: f64, b: f64, frac: f64| {
        if !a.is_finite() {
            (0.0, 1.0)
        } else if b - a <= 1e-12 {
            let d = if a.abs() > 1e-9 { a.abs() * 0.1 } else { 1.0 };
            (a - d, b + d)
        } else {
            let d = (b - a) * frac;
            (a - d, b + d)
        }
    };
    (pad(x0, x1, 0.04), pad(y0, y1, 0.06))
}

fn text(at: (f64, f64), s: &str, anchor: Anchor) -> Shape {
    Shape::Text {
        at,
        text: s.to_string(),
        color: Color::BLACK,
        scale: 1,
        anchor,
        vertical: false,
    }
}

fn panel_shapes(panel: &Panel, ox: f64, oy: f64, pw: f64, ph: f64, out: &mut Vec<Shape>) {
    let (dx, dy) = data_range(panel);
    let (x_lo, x_hi) = panel.x_range.unwrap_or(dx);
    let (y_lo, y_hi) = panel.y_range.unwrap_or(dy);
    let (left, top) = (ox + MARGIN_L, oy + MARGIN_T);
    let (w, h) = (pw - MARGIN_L - MARGIN_R, ph - MARGIN_T - MARGIN_B);
    let sx = |x: f64| left + (x - x_lo) / (x_hi - x_lo) * w;
    let sy = |y: f64| top + h - (y - y_lo) / (y_hi - y_lo) * h;
    out.push(text(
        (ox + pw / 2.0, oy + 6.0),
        &panel.title,
        Anchor::Middle,
    ));
    // Grid and ticks.
    let yt = nice_ticks(y_lo, y_hi, 5);
    let ystep = if yt.len() > 1 { yt[1] - yt[0] } else { 1.0 };
    for &v in &yt {
        let y = sy(v);
        out.push(Shape::Line {
            from: (left, y),
            to: (left + w, y),
            color: Color::GRID,
            width: 1.0,
        });
        out.push(text(
            (left - 5.0, y - 3.5),
            &tick_label(v, ystep),
            Anchor::End,
        ));
    }
    let xticks: Vec<(f64, String)> = if panel.x_tick_labels.is_empty() {
        let xt = nice_ticks(x_lo, x_hi, 5);
        let xstep = if xt.len() > 1 { xt[1] - xt[0] } else { 1.0 };
        xt.iter().map(|&v| (v, tick_label(v, xstep))).collect()
    } else {
        panel.x_tick_labels.clone()
    };
    for (v, label) in &xticks {
        if *v < x_lo || *v > x_hi {
            continue;
        }
        let x = sx(*v);
        out.push(Shape::Line {
            from: (x, top + h),
            to: (x, top + h + 4.0),
            color: Color::BLACK,
            width: 1.0,
        });
        out.push(text((x, top + h + 7.0), label, Anchor::Middle));
    }
    for s in &panel.series {
        let pts: Vec<(f64, f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|(x, y, _)| x.is_finite() && y.is_finite())
            .collect();
        match s.style {
            Style::Line => {
                for pair in pts.windows(2) {
                    out.push(Shape::Line {
                        from: (sx(pair[0].0), sy(pair[0].1)),
                        to: (sx(pair[1].0), sy(pair[1].1)),
                        color: s.color,
                        width: 2.0,
                    });
                }
                for &(x, y, e) in &pts {
                    if e.is_finite() && e > 0.0 {
                        let (px, a, b) = (sx(x), sy(y - e), sy(y + e));
                        out.push(Shape::Line {
                            from: (px, a),
                            to: (px, b),
                            color: s.color,
                            width: 1.0,
                        });
                        for yy in [a, b] {
                            out.push(Shape::Line {
                                from: (px - 3.0, yy),
                                to: (px + 3.0, yy),
                                color: s.color,
                                width: 1.0,
                            });
                        }
                    }
                    out.push(Shape::Circle {
                        at: (sx(x), sy(y)),
                        r: 3.0,
                        color: s.color,
                    });
                }
            }
            Style::Scatter => {
                for &(x, y, _) in &pts {
                    out.push(Shape::Circle {
                        at: (sx(x), sy(y)),
                        r: 1.6,
                        color: s.color,
                    });
                }
            }
            Style::Bars(bw) => {
                for &(x, y, e) in &pts {
                    let (xa, xb) = (sx(x - bw / 2.0), sx(x + bw / 2.0));
                    let (ya, yb) = (sy(y.max(0.0)), sy(y.min(0.0)));
                    out.push(Shape::Rect {
                        at: (xa, ya),
                        size: ((xb - xa).max(1.0), (yb - ya).max(0.0)),
                        fill: s.color,
                        stroke: None,
                    });
                    if e.is_finite() && e > 0.0 {
                        let px = (xa + xb) / 2.0;
                        out.push(Shape::Line {
                            from: (px, sy(y - e)),
                            to: (px, sy(y + e)),
                            color: Color::BLACK,
                            width: 1.0,
                        });
                    }
                }
            }
        }
    }
    // Axes.
    out.push(Shape::Line {
        from: (left, top + h),
        to: (left + w, top + h),
        color: Color::BLACK,
        width: 1.0,
    });
    out.push(Shape::Line {
        from: (left, top),
        to: (left, top + h),
        color: Color::BLACK,
        width: 1.0,
    });
    out.push(text(
        (left + w / 2.0, top + h + 24.0),
        &panel.x_label,
        Anchor::Middle,
    ));
    out.push(Shape::Text {
        at: (ox + 10.0, top + h / 2.0),
        text: panel.y_label.clone(),
        color: Color::BLACK,
        scale: 1,
        anchor: Anchor::Middle,
        vertical: true,
    });
}

/// The figure's size and its primitives, back to front.
pub fn layout(fig: &Figure) -> (usize, usize, Vec<Shape>) {
    let cols = fig.columns.min(fig.panels.len().max(1));
    let rows = fig.panels.len().div_ceil(cols).max(1);
    let (pw, ph) = (fig.panel_width as f64, fig.panel_height as f64);
    // Legend: every distinct (name, colour), in order of appearance.
    let mut legend: Vec<(String, Color)> = Vec::new();
    for p in &fig.panels {
        for s in &p.series {
            if !legend.iter().any(|(n, c)| *n == s.name && *c == s.color) {
                legend.push((s.name.clone(), s.color));
            }
        }
    }
    let width = cols as f64 * pw;
    let item_w = |n: &str| 24.0 + text_width(n, 1) as f64 + 16.0;
    let mut legend_rows = 1usize;
    let mut x = 10.0;
    for (n, _) in &legend {
        if x + item_w(n) > width && x > 10.0 {
            legend_rows += 1;
            x = 10.0;
        }
        x += item_w(n);
    }
    let legend_h = if legend.is_empty() {
        0.0
    } else {
        legend_rows as f64 * LEGEND_ROW_H + 6.0
    };
    let height = TITLE_H + rows as f64 * ph + legend_h;
    let mut out = vec![Shape::Rect {
        at: (0.0, 0.0),
        size: (width, height),
        fill: Color::WHITE,
        stroke: None,
    }];
    out.push(Shape::Text {
        at: (10.0, 9.0),
        text: fig.title.clone(),
        color: Color::BLACK,
        scale: 2,
        anchor: Anchor::Start,
        vertical: false,
    });
    for (i, p) in fig.panels.iter().enumerate() {
        let (r, c) = (i / cols, i % cols);
        panel_shapes(p, c as f64 * pw, TITLE_H + r as f64 * ph, pw, ph, &mut out);
    }
    let mut x = 10.0;
    let mut y = TITLE_H + rows as f64 * ph + 4.0;
    for (n, color) in &legend {
        if x + item_w(n) > width && x > 10.0 {
            x = 10.0;
            y += LEGEND_ROW_H;
        }
        out.push(Shape::Rect {
            at: (x, y + 1.0),
            size: (16.0, 9.0),
            fill: *color,
            stroke: None,
        });
        out.push(text((x + 22.0, y + 2.0), n, Anchor::Start));
        x += item_w(n);
    }
    (width.ceil() as usize, height.ceil() as usize, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(0.13, 0.61, 5), vec![0.2, 0.3, 0.4, 0.5, 0.6]);
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_label(20.0, 5.0), "20");
    }
}
