//! The one drawing of a [`Figure`], on any plotters backend: SVG ([`svg`]) and PNG ([`png`])
//! are the same picture. Sizes are given for the SVG and multiplied by `scale` for the PNG.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{
    AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter,
};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::{
    BitMapBackend, ChartBuilder, Circle, DrawingArea, DrawingBackend, ErrorBar, IntoDrawingArea,
    IntoFont, IntoLogRange, LineSeries, LogCoord, PathElement, RGBColor, Rectangle, SVGBackend,
    SeriesLabelPosition, Text, TextStyle,
};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color as _, WHITE};

use super::{Figure, Legend, Panel, PlotError, Style, font};

/// Height of the figure's title strip (SVG pixels).
pub const TITLE_HEIGHT: u32 = 34;

fn err(e: impl std::fmt::Display) -> PlotError {
    PlotError(e.to_string())
}

/// The figure as SVG text.
pub(crate) fn svg(fig: &Figure) -> Result<String, PlotError> {
    font::register();
    let size = fig.size();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw_figure(&root, fig, 1.0)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// The figure as PNG bytes, `scale` times the SVG's size.
pub(crate) fn png(fig: &Figure, scale: f64) -> Result<Vec<u8>, PlotError> {
    font::register();
    let (w, h) = fig.size();
    let (w, h) = (
        (w as f64 * scale).round() as u32,
        (h as f64 * scale).round() as u32,
    );
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw_figure(&root, fig, scale)?;
        root.present().map_err(err)?;
    }
    encode_png(w, h, buf)
}

/// Encodes an RGB buffer as PNG.
///
/// # Errors
/// The encoder's error, as text.
pub fn encode_png(w: u32, h: u32, buf: Vec<u8>) -> Result<Vec<u8>, PlotError> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&buf, w, h, image::ExtendedColorType::Rgb8)
        .map_err(err)?;
    Ok(out)
}

/// A text style of `size` SVG pixels at `scale`.
pub(crate) fn text(size: f64, scale: f64) -> TextStyle<'static> {
    ("sans-serif", size * scale)
        .into_font()
        .color(&RGBColor(20, 20, 20))
}

fn px(v: f64, scale: f64) -> u32 {
    (v * scale).round().max(1.0) as u32
}

fn draw_figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    s: f64,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(err)?;
    let (top, body) = root.split_vertically(px(TITLE_HEIGHT as f64, s));
    let (w, h) = top.dim_in_pixel();
    top.draw(&Text::new(
        fig.title.clone(),
        (w as i32 / 2, h as i32 / 2),
        text(16.0, s).pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(err)?;
    let cols = fig.columns.max(1).min(fig.panels.len().max(1));
    let areas = body.split_evenly((fig.rows(), cols));
    for (area, panel) in areas.iter().zip(&fig.panels) {
        draw_panel(area, panel, s)?;
    }
    Ok(())
}

/// The axis ranges of a panel: fixed ones, else the data's (with the error bars, the tick
/// positions and, for bars on a linear axis, 0), padded.
pub fn ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let ok_x = |x: f64| x.is_finite() && (!p.x_log || x > 0.0);
    let ok_y = |y: f64| y.is_finite() && (!p.y_log || y > 0.0);
    let mut xs: Vec<f64> = Vec::new();
    let mut ys: Vec<f64> = Vec::new();
    for ser in &p.series {
        for &(x, y, e) in &ser.points {
            if !(ok_x(x) && ok_y(y)) {
                continue;
            }
            let e = if e.is_finite() { e.abs() } else { 0.0 };
            match ser.style {
                Style::HBars(h) => {
                    ys.extend([y - h / 2.0, y + h / 2.0]);
                    xs.extend([x + e, if ok_x(x - e) { x - e } else { x }]);
                    if !p.x_log {
                        xs.push(0.0);
                    }
                }
                style => {
                    let half = if let Style::Bars(w) = style {
                        w / 2.0
                    } else {
                        0.0
                    };
                    xs.extend([x - half, x + half]);
                    ys.extend([y + e, if ok_y(y - e) { y - e } else { y }]);
                    if matches!(style, Style::Bars(_)) && !p.y_log {
                        ys.push(0.0);
                    }
                }
            }
        }
    }
    xs.extend(p.x_tick_labels.iter().map(|t| t.0).filter(|&x| ok_x(x)));
    ys.extend(p.y_tick_labels.iter().map(|t| t.0).filter(|&y| ok_y(y)));
    let x = p
        .x_range
        .unwrap_or_else(|| pad(span(&xs), p.x_log, p.x_tick_labels.is_empty()));
    let y = p
        .y_range
        .unwrap_or_else(|| pad(span(&ys), p.y_log, p.y_tick_labels.is_empty()));
    (fix(x, p.x_log), fix(y, p.y_log))
}

fn span(v: &[f64]) -> Option<(f64, f64)> {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

fn pad(r: Option<(f64, f64)>, log: bool, margin: bool) -> (f64, f64) {
    let Some((lo, hi)) = r else {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    };
    if log {
        let f = if margin { 1.25 } else { 1.5 };
        (lo / f, hi * f)
    } else {
        let m = if margin { 0.06 } else { 0.5 };
        let d = (hi - lo).abs().max(1e-9);
        let m = if margin { d * m } else { m };
        (lo - m, hi + m)
    }
}

/// A usable range: increasing, non-empty, positive on a log axis.
fn fix((lo, hi): (f64, f64), log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    if log {
        lo = if lo > 0.0 {
            lo
        } else {
            hi.abs().max(1.0) / 10.0
        };
        hi = hi.max(lo * 1.000_001);
        if hi / lo < 1.5 {
            (lo / 1.25, hi * 1.25)
        } else {
            (lo, hi)
        }
    } else {
        if (hi - lo).abs() < 1e-12 {
            lo -= 0.5_f64.max(lo.abs() * 0.1);
            hi += 0.5_f64.max(hi.abs() * 0.1);
        }
        (lo, hi)
    }
}

/// A tick value written short: `0.25`, `1200`, `1e-4`, `2.5e6`.
pub fn number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    s: f64,
) -> Result<(), PlotError> {
    let (x, y) = ranges(p);
    let ticks: Vec<f64> = p.x_tick_labels.iter().map(|t| t.0).collect();
    let linear = || RangedCoordf64::from(x.0..x.1);
    let log = || LogCoord::<f64>::from((x.0..x.1).log_scale());
    match (p.x_log, ticks.is_empty()) {
        (false, true) => with_y(area, p, s, linear(), y),
        (false, false) => with_y(area, p, s, Ticked(linear(), ticks), y),
        (true, true) => with_y(area, p, s, Ticked(log(), log_ticks(x.0, x.1)), y),
        (true, false) => with_y(area, p, s, Ticked(log(), ticks), y),
    }
}

/// Ticks of a log axis from `lo` to `hi`: the powers of ten, and 2 and 5 times them, inside
/// the range (all of 1..9 times them when that gives fewer than three), so a range that
/// holds no power of ten still has labelled ticks.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let pick = |mults: &[f64]| -> Vec<f64> {
        (e0..=e1)
            .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
            .collect()
    };
    let ticks = pick(&[1.0, 2.0, 5.0]);
    if ticks.len() >= 3 {
        ticks
    } else {
        pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    }
}

/// An axis whose ticks are exactly the given positions (labelled categories such as
/// `clean, 1, ..., 5`), with plotters' default value formatting.
struct Ticked<R>(R, Vec<f64>);

impl<R: Ranged<ValueType = f64>> Ranged for Ticked<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.0.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.1.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.0.range()
    }

    fn axis_pixel_range(&self, limit: (i32, i32)) -> std::ops::Range<i32> {
        self.0.axis_pixel_range(limit)
    }
}

fn with_y<DB, X>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    s: f64,
    x: X,
    y: (f64, f64),
) -> Result<(), PlotError>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let base = if p.y_log { y.0 } else { y.0.max(0.0).min(y.1) };
    let ticks: Vec<f64> = p.y_tick_labels.iter().map(|t| t.0).collect();
    let linear = || RangedCoordf64::from(y.0..y.1);
    let log = || LogCoord::<f64>::from((y.0..y.1).log_scale());
    match (p.y_log, ticks.is_empty()) {
        (false, true) => render(area, p, s, x, linear(), base),
        (false, false) => render(area, p, s, x, Ticked(linear(), ticks), base),
        (true, true) => render(area, p, s, x, Ticked(log(), log_ticks(y.0, y.1)), base),
        (true, false) => render(area, p, s, x, Ticked(log(), ticks), base),
    }
}

fn render<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    s: f64,
    x: X,
    y: Y,
    bar_base: f64,
) -> Result<(), PlotError>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    // Room for the y tick labels: numbers, or category names of horizontal bars.
    let longest_y = p
        .y_tick_labels
        .iter()
        .map(|t| t.1.chars().count())
        .max()
        .unwrap_or(0);
    let y_area = (58.0f64).max(20.0 + longest_y as f64 * 6.6);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, text(14.0, s))
        .margin(px(8.0, s))
        .margin_right(px(14.0, s))
        .x_label_area_size(px(40.0, s))
        .y_label_area_size(px(y_area, s))
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    let tick_label = |v: &f64| {
        p.x_tick_labels
            .iter()
            .find(|t| (t.0 - v).abs() < 1e-9)
            .map_or_else(|| number(*v), |t| t.1.clone())
    };
    let y_label = |v: &f64| {
        p.y_tick_labels
            .iter()
            .find(|t| (t.0 - v).abs() < 1e-9)
            .map_or_else(|| number(*v), |t| t.1.clone())
    };
    let tick_style = text(11.0, s);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .axis_desc_style(text(12.5, s))
        .x_label_style(tick_style)
        .y_label_style(text(11.0, s))
        .x_label_formatter(&tick_label)
        .y_label_formatter(&y_label)
        .bold_line_style(RGBColor(222, 222, 222).stroke_width(px(1.0, s)))
        .light_line_style(RGBColor(244, 244, 244).stroke_width(px(1.0, s)))
        .axis_style(RGBColor(90, 90, 90).stroke_width(px(1.0, s)))
        .max_light_lines(1)
        .y_labels(6);
    if !p.x_tick_labels.is_empty() {
        mesh.x_labels(p.x_tick_labels.len()).max_light_lines(0);
    }
    if !p.y_tick_labels.is_empty() || p.y_log {
        mesh.max_light_lines(0);
    }
    mesh.draw().map_err(err)?;

    let ok = |&(x, y, _): &(f64, f64, f64)| {
        x.is_finite() && y.is_finite() && (!p.x_log || x > 0.0) && (!p.y_log || y > 0.0)
    };
    let y_floor = if p.y_log { bar_base } else { f64::NEG_INFINITY };
    let x_range = chart.x_range();
    let x_base = if p.x_log {
        x_range.start
    } else {
        0.0f64.max(x_range.start).min(x_range.end)
    };
    let x_floor = if p.x_log { x_base } else { f64::NEG_INFINITY };
    let mut named = false;
    for ser in &p.series {
        let c = RGBColor(ser.color.0, ser.color.1, ser.color.2);
        let pts: Vec<(f64, f64, f64)> = ser.points.iter().copied().filter(ok).collect();
        let line = c.stroke_width(px(2.0, s));
        let anno = match ser.style {
            Style::Line => {
                let a = chart
                    .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), line))
                    .map_err(err)?;
                a.label(ser.name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + px(20.0, s) as i32, y)], line)
                });
                chart
                    .draw_series(
                        pts.iter()
                            .map(|p| Circle::new((p.0, p.1), px(3.0, s), c.filled())),
                    )
                    .map_err(err)?;
                true
            }
            Style::Scatter => {
                let dot = c.mix(0.7).filled();
                let a = chart
                    .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), px(2.0, s), dot)))
                    .map_err(err)?;
                a.label(ser.name.as_str()).legend(move |(x, y)| {
                    Circle::new((x + px(10.0, s) as i32, y), px(3.0, s), dot)
                });
                true
            }
            Style::Bars(w) => {
                let fill = c.filled();
                let a = chart
                    .draw_series(pts.iter().map(|p| {
                        Rectangle::new([(p.0 - w / 2.0, bar_base), (p.0 + w / 2.0, p.1)], fill)
                    }))
                    .map_err(err)?;
                a.label(ser.name.as_str()).legend(move |(x, y)| {
                    let h = px(5.0, s) as i32;
                    Rectangle::new([(x, y - h), (x + 2 * h, y + h)], fill)
                });
                true
            }
            Style::HBars(h) => {
                let fill = c.filled();
                let a = chart
                    .draw_series(pts.iter().map(|p| {
                        Rectangle::new([(x_base, p.1 - h / 2.0), (p.0, p.1 + h / 2.0)], fill)
                    }))
                    .map_err(err)?;
                a.label(ser.name.as_str()).legend(move |(x, y)| {
                    let h = px(5.0, s) as i32;
                    Rectangle::new([(x, y - h), (x + 2 * h, y + h)], fill)
                });
                true
            }
        };
        named |= anno && !ser.name.is_empty();
        // Error bars, darker than the series so they show on bars too.
        let bar_colour = RGBColor(
            (ser.color.0 as f64 * 0.6) as u8,
            (ser.color.1 as f64 * 0.6) as u8,
            (ser.color.2 as f64 * 0.6) as u8,
        );
        let style = bar_colour.stroke_width(px(1.2, s));
        let with_err = pts.iter().filter(|p| p.2.is_finite() && p.2 > 0.0);
        if matches!(ser.style, Style::HBars(_)) {
            let errs = with_err.map(|&(x, y, e)| {
                ErrorBar::new_horizontal(y, (x - e).max(x_floor), x, x + e, style, px(7.0, s))
            });
            chart.draw_series(errs).map_err(err)?;
        } else {
            let errs = with_err.map(|&(x, y, e)| {
                ErrorBar::new_vertical(x, (y - e).max(y_floor), y, y + e, style, px(7.0, s))
            });
            chart.draw_series(errs).map_err(err)?;
        }
    }
    let position = match p.legend {
        Legend::UpperRight => Some(SeriesLabelPosition::UpperRight),
        Legend::UpperLeft => Some(SeriesLabelPosition::UpperLeft),
        Legend::LowerLeft => Some(SeriesLabelPosition::LowerLeft),
        Legend::LowerRight => Some(SeriesLabelPosition::LowerRight),
        Legend::Hidden => None,
    };
    if let (true, Some(position)) = (named, position) {
        chart
            .configure_series_labels()
            .position(position)
            .margin(px(6.0, s))
            .legend_area_size(px(24.0, s))
            .label_font(text(11.0, s))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(190, 190, 190))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{PALETTE, Series};

    #[test]
    fn log_axes_get_ticks_inside_any_range() {
        assert_eq!(
            log_ticks(1.0, 100.0),
            [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
        );
        let t = log_ticks(300.0, 800.0);
        assert!(
            t.len() >= 3 && t.iter().all(|v| (300.0..=800.0).contains(v)),
            "{t:?}"
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(1200.0), "1200");
        assert_eq!(number(0.30000000000000004), "0.3");
        assert_eq!(number(1e-4), "1e-4");
        assert_eq!(number(2.5e6), "2.5e6");
    }

    #[test]
    fn ranges_cover_data_errors_bars_and_ticks() {
        let p = Panel {
            series: vec![
                Series {
                    name: "a".into(),
                    color: PALETTE[0],
                    style: Style::Line,
                    points: vec![(1.0, 10.0, 2.0), (3.0, 20.0, 0.0)],
                },
                Series::new("b", PALETTE[1], Style::Bars(1.0), &[(5.0, 4.0)]),
            ],
            x_tick_labels: vec![(0.0, "clean".into())],
            ..Panel::default()
        };
        let ((x0, x1), (y0, y1)) = ranges(&p);
        assert!(x0 <= -0.5 + 1e-9 && x1 >= 5.5, "{x0} {x1}");
        assert!(y0 <= 0.0 && y1 >= 20.0, "{y0} {y1}");
        let log = Panel {
            y_log: true,
            series: vec![Series::new(
                "c",
                PALETTE[0],
                Style::Line,
                &[(1.0, 0.0), (2.0, 10.0), (3.0, 1000.0)],
            )],
            ..Panel::default()
        };
        let (_, (y0, y1)) = ranges(&log);
        assert!(y0 > 0.0 && y0 <= 10.0 && y1 >= 1000.0, "{y0} {y1}");
    }
}
