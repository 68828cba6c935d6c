//! Grouped bar charts: one group of bars per category (e.g. a condition), one bar per
//! series (e.g. a fusion), with error bars; `mafs compare`'s figure.

use super::{Figure, Legend, PALETTE, Panel, Series, Style};

/// One series of a grouped bar chart: its name and, per category, `(value, error)` or
/// `None` where it has no value.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// Legend name.
    pub name: String,
    /// One entry per category.
    pub values: Vec<Option<(f64, f64)>>,
}

/// Category names longer than this turn the chart horizontal (names left of the bars).
const LONG_NAME: usize = 12;

/// A one-panel figure of grouped bars: one colour per group, error bars, headroom for the
/// legend. Categories run along x under their names; when a name is long the bars are
/// horizontal, categories from top to bottom with their names left of the axis, so every
/// name reads in full.
pub fn grouped_bars(
    title: &str,
    value_label: &str,
    categories: &[String],
    groups: &[BarGroup],
) -> Figure {
    let n = groups.len().max(1) as f64;
    let width = 0.8 / n;
    let k = categories.len();
    let longest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let horizontal = longest > LONG_NAME;
    // Category c sits at c (vertical) or k - 1 - c (horizontal: the first on top); group g
    // is offset within it, in legend order (top to bottom when horizontal).
    let slot = |c: usize, g: usize| {
        let off = -0.4 + (g as f64 + 0.5) * width;
        if horizontal {
            (k - 1 - c) as f64 - off
        } else {
            c as f64 + off
        }
    };
    let series = groups
        .iter()
        .enumerate()
        .map(|(g, group)| Series {
            name: group.name.clone(),
            color: PALETTE[g % PALETTE.len()],
            style: if horizontal {
                Style::HBars(width * 0.92)
            } else {
                Style::Bars(width * 0.92)
            },
            points: group
                .values
                .iter()
                .enumerate()
                .filter_map(|(c, v)| {
                    let (y, e) = (*v)?;
                    Some(if horizontal {
                        (y, slot(c, g), e)
                    } else {
                        (slot(c, g), y, e)
                    })
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let top = groups
        .iter()
        .flat_map(|g| g.values.iter().flatten())
        .map(|(y, e)| y + e.abs())
        .fold(0.0f64, f64::max);
    let top = if top > 0.0 { top * 1.3 } else { 1.0 };
    let cats = (-0.6, k as f64 - 0.4);
    let names: Vec<(f64, String)> = (0..k)
        .map(|c| {
            let at = if horizontal {
                (k - 1 - c) as f64
            } else {
                c as f64
            };
            (at, categories[c].clone())
        })
        .collect();
    let mut panel = Panel {
        series,
        legend: Legend::UpperRight,
        ..Panel::default()
    };
    let mut fig;
    if horizontal {
        panel.x_label = value_label.to_string();
        panel.x_range = Some((0.0, top));
        panel.y_range = Some(cats);
        panel.y_tick_labels = names;
        panel.legend = Legend::LowerRight;
        fig = Figure::new(title, vec![panel], 1);
        fig.panel_width = (560 + longest * 7).min(1400);
        fig.panel_height = (120 + 26 * k * groups.len().max(1)).clamp(300, 1400);
    } else {
        panel.y_label = value_label.to_string();
        panel.x_range = Some(cats);
        panel.y_range = Some((0.0, top));
        panel.x_tick_labels = names;
        fig = Figure::new(title, vec![panel], 1);
        fig.panel_width = (140 + 80 * k).clamp(480, 1400);
        fig.panel_height = 360;
    }
    fig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_sit_in_their_category_and_missing_values_are_left_out() {
        let cats = vec!["clean".to_string(), "image:gaussian_noise:3".to_string()];
        let groups = vec![
            BarGroup {
                name: "ma-afs".into(),
                values: vec![Some((80.0, 2.0)), Some((60.0, 0.0))],
            },
            BarGroup {
                name: "fixed-query".into(),
                values: vec![Some((70.0, 0.0)), None],
            },
        ];
        // A long name: horizontal bars, the first category on top.
        let f = grouped_bars("compare", "rsum", &cats, &groups);
        let s = &f.panels[0].series;
        assert_eq!(s[0].points.len(), 2);
        assert_eq!(s[1].points.len(), 1);
        assert!(matches!(s[0].style, Style::HBars(_)));
        assert!((s[0].points[0].1 - 1.0).abs() < 0.4, "clean on top");
        assert!((s[0].points[1].1 - 0.0).abs() < 0.4);
        assert!(f.panels[0].x_range.unwrap().1 >= 82.0);
        assert!(f.to_png().is_ok());
        assert!(f.to_svg().unwrap().contains("image:gaussian_noise:3"));
        // Short names: vertical bars in category order.
        let short = vec!["clean".to_string(), "shift".to_string()];
        let f = grouped_bars("compare", "rsum", &short, &groups);
        let s = &f.panels[0].series;
        assert!(matches!(s[0].style, Style::Bars(_)));
        for (c, p) in s[0].points.iter().enumerate() {
            assert!((p.0 - c as f64).abs() < 0.4);
        }
        assert!(f.to_png().is_ok());
    }
}
