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

/// A one-panel figure of grouped bars: categories along x (their names as tick labels,
/// turned upright when long), one colour per group, headroom above the tallest bar for the
/// legend.
pub fn grouped_bars(
    title: &str,
    y_label: &str,
    categories: &[String],
    groups: &[BarGroup],
) -> Figure {
    let n = groups.len().max(1) as f64;
    let width = 0.8 / n;
    let series = groups
        .iter()
        .enumerate()
        .map(|(g, group)| Series {
            name: group.name.clone(),
            color: PALETTE[g % PALETTE.len()],
            style: Style::Bars(width * 0.92),
            points: group
                .values
                .iter()
                .enumerate()
                .filter_map(|(c, v)| {
                    let (y, e) = (*v)?;
                    Some((c as f64 - 0.4 + (g as f64 + 0.5) * width, y, e))
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
    let panel = Panel {
        title: String::new(),
        x_label: String::new(),
        y_label: y_label.to_string(),
        series,
        x_range: Some((-0.6, categories.len() as f64 - 0.4)),
        y_range: Some((0.0, top)),
        x_tick_labels: categories
            .iter()
            .enumerate()
            .map(|(c, name)| (c as f64, name.clone()))
            .collect(),
        legend: Legend::UpperRight,
        ..Panel::default()
    };
    let mut fig = Figure::new(title, vec![panel], 1);
    fig.panel_width = (140 + 70 * categories.len()).clamp(480, 1400);
    let longest = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    fig.panel_height = 340 + (longest * 6).min(160);
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
        let f = grouped_bars("compare", "rsum", &cats, &groups);
        let s = &f.panels[0].series;
        assert_eq!(s[0].points.len(), 2);
        assert_eq!(s[1].points.len(), 1);
        for (c, p) in s[0].points.iter().enumerate() {
            assert!((p.0 - c as f64).abs() < 0.4);
        }
        assert!(f.panels[0].y_range.unwrap().1 >= 82.0);
        assert!(f.to_png().is_ok());
        assert!(f.to_svg().unwrap().contains("image:gaussian_noise:3"));
    }
}
