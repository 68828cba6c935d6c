//! The sweep's figures: metric against severity per fusion and family; the distribution of
//! per-instance weights of the degraded modality, clean against the worst severity; weight
//! against uncertainty. Each shows mean ± sd over seeds.

use super::results::{CellInstances, CellResult, ConditionSpec, fusions_of};
use super::stats::mean_spread;
use super::summary::{Summary, find, severity_families};
use crate::plot::{Color, Figure, PALETTE, Panel, Series, Style};

/// A panel of values against severity (0 = clean, then 1 … 5).
fn severity_panel(title: String, y_label: String, series: Vec<Series>) -> Panel {
    let mut ticks = vec![(0.0, "clean".to_string())];
    ticks.extend((1..=5).map(|s| (s as f64, s.to_string())));
    Panel {
        title,
        x_label: "severity".into(),
        y_label,
        series,
        x_range: Some((-0.3, 5.3)),
        x_tick_labels: ticks,
        ..Panel::default()
    }
}

/// The `i`-th fusion's line of `(x, mean, sd)` points.
fn fusion_line(i: usize, name: &str, points: Vec<(f64, f64, f64)>) -> Series {
    Series {
        name: name.to_string(),
        color: PALETTE[i % PALETTE.len()],
        style: Style::Line,
        points,
    }
}

/// Headline metric against severity (0 = clean), one panel per family, one line per fusion.
pub fn severity_figure(
    task: &str,
    conditions: &[ConditionSpec],
    cells: &[CellResult],
    summary: &Summary,
) -> Option<Figure> {
    let families = severity_families(conditions);
    if families.is_empty() {
        return None;
    }
    let metric = cells.iter().find(|c| c.task == task)?.main_metric.clone();
    let fusions = fusions_of(cells, task);
    let panels = families
        .iter()
        .map(|(family, conds)| {
            let series = fusions
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let mut pts = Vec::new();
                    if let Some(r) = find(summary, task, f, "clean") {
                        pts.push((0.0, r.main.mean, r.main.sd));
                    }
                    for c in conds {
                        if let Some(r) = find(summary, task, f, &c.name) {
                            pts.push((c.severity.unwrap_or(0) as f64, r.main.mean, r.main.sd));
                        }
                    }
                    fusion_line(i, f, pts)
                })
                .collect();
            severity_panel(family.clone(), metric.clone(), series)
        })
        .collect();
    Some(Figure::new(
        format!("{task}: {metric} against severity (mean +- sd over seeds)"),
        panels,
        3,
    ))
}

/// Mean weight of the degraded modalities against severity, one line per fusion.
pub fn weight_severity_figure(
    task: &str,
    conditions: &[ConditionSpec],
    summary: &Summary,
) -> Option<Figure> {
    let families = severity_families(conditions);
    let trends: Vec<_> = summary
        .weight_trends
        .iter()
        .filter(|t| t.task == task)
        .collect();
    if trends.is_empty() {
        return None;
    }
    let mut fusions: Vec<&str> = Vec::new();
    for t in &trends {
        if !fusions.contains(&t.against.as_str()) {
            fusions.push(&t.against);
        }
    }
    let panels = families
        .iter()
        .filter_map(|(family, conds)| {
            let series: Vec<Series> = fusions
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    let t = trends
                        .iter()
                        .find(|t| t.against == *f && t.family == *family)?;
                    let points = t.values.iter().map(|(s, v)| (*s as f64, v.mean, v.sd));
                    Some(fusion_line(i, f, points.collect()))
                })
                .collect();
            (!series.is_empty()).then(|| {
                severity_panel(
                    format!("{family} ({})", conds[0].degraded.join("+")),
                    "weight of degraded".into(),
                    series,
                )
            })
        })
        .collect::<Vec<_>>();
    (!panels.is_empty()).then(|| {
        Figure::new(
            format!("{task}: mean weight of the degraded modality against severity"),
            panels,
            3,
        )
    })
}

/// Histogram shares of `values` over `bins` equal bins of [0, 1].
fn histogram(values: &[f64], bins: usize) -> Vec<f64> {
    let mut h = vec![0.0; bins];
    for &v in values.iter().filter(|v| v.is_finite()) {
        let b = ((v.clamp(0.0, 1.0)) * bins as f64).floor() as usize;
        h[b.min(bins - 1)] += 1.0;
    }
    let n = values.len().max(1) as f64;
    h.iter().map(|c| c / n).collect()
}

/// The weights of the degraded modalities of the instances under `cond` (present ones).
fn degraded_weights(ci: &CellInstances, cond: &str, idx: &[usize]) -> Vec<f64> {
    let Some(c) = ci.conditions.get(cond) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for (w, p) in c.weights.iter().zip(&c.present) {
        for &j in idx {
            if p.get(j).copied().unwrap_or(false) {
                v.push(w[j] as f64);
            }
        }
    }
    v
}

/// The first cell of `task` × `fusion` and the per-instance evidence of each of its seeds
/// (none when there is no cell or no evidence).
fn evidence<'a>(
    cells: &'a [CellResult],
    task: &str,
    fusion: &str,
    instances: &dyn Fn(&CellResult) -> Option<CellInstances>,
) -> Option<(&'a CellResult, Vec<CellInstances>)> {
    let cs: Vec<&CellResult> = cells
        .iter()
        .filter(|c| c.task == task && c.fusion == fusion)
        .collect();
    let inst: Vec<CellInstances> = cs.iter().filter_map(|c| instances(c)).collect();
    (!inst.is_empty()).then(|| (cs[0], inst))
}

/// For `fusion`: the distribution of per-instance weights of each family's degraded
/// modality, clean against the family's highest severity (bar = mean share over seeds,
/// error = sd over seeds).
pub fn weight_distribution_figure(
    task: &str,
    fusion: &str,
    conditions: &[ConditionSpec],
    cells: &[CellResult],
    instances: &dyn Fn(&CellResult) -> Option<CellInstances>,
) -> Option<Figure> {
    const BINS: usize = 10;
    let (first, inst) = evidence(cells, task, fusion, instances)?;
    let mut panels = Vec::new();
    for (family, conds) in severity_families(conditions) {
        let worst = conds.last().expect("a family has a condition");
        let idx: Vec<usize> = worst
            .degraded
            .iter()
            .filter_map(|d| first.modalities.iter().position(|m| m == d))
            .collect();
        // Every modality degraded (`both`): their weights sum to 1, nothing to follow.
        if idx.is_empty() || idx.len() == first.modalities.len() {
            continue;
        }
        let mut series = Vec::new();
        for (k, (label, cond, color)) in [
            ("clean", "clean", PALETTE[0]),
            ("worst severity", worst.name.as_str(), PALETTE[3]),
        ]
        .into_iter()
        .enumerate()
        {
            let per_seed: Vec<Vec<f64>> = inst
                .iter()
                .map(|ci| histogram(&degraded_weights(ci, cond, &idx), BINS))
                .collect();
            if per_seed.iter().all(|h| h.iter().all(|&x| x == 0.0)) {
                continue;
            }
            let width = 1.0 / BINS as f64;
            let pts = (0..BINS)
                .map(|b| {
                    let m = mean_spread(&per_seed.iter().map(|h| h[b]).collect::<Vec<_>>());
                    ((b as f64 + 0.25 + 0.5 * k as f64) * width, m.mean, m.sd)
                })
                .collect();
            series.push(Series {
                name: label.to_string(),
                color,
                style: Style::Bars(width * 0.45),
                points: pts,
            });
        }
        if series.is_empty() {
            continue;
        }
        panels.push(Panel {
            title: family.clone(),
            x_label: format!(
                "weight of {} (clean vs {})",
                worst.degraded.join("+"),
                worst.name
            ),
            y_label: "share of instances".into(),
            series,
            x_range: Some((0.0, 1.0)),
            ..Panel::default()
        });
    }
    (!panels.is_empty()).then(|| {
        Figure::new(
            format!("{task}, {fusion}: per-instance weight of the degraded modality"),
            panels,
            3,
        )
    })
}

/// For `fusion`: each modality's weight against its uncertainty signal over the instances
/// of every condition that have all their modalities (dots, up to 600 per condition and
/// seed), with the mean weight in 10 uncertainty bins (mean ± sd over seeds).
pub fn weight_uncertainty_figure(
    task: &str,
    fusion: &str,
    cells: &[CellResult],
    instances: &dyn Fn(&CellResult) -> Option<CellInstances>,
) -> Option<Figure> {
    const BINS: usize = 10;
    let (first, inst) = evidence(cells, task, fusion, instances)?;
    let signal = inst.iter().find_map(|c| c.uncertainty_signal.clone())?;
    let mut panels = Vec::new();
    for (j, m) in first.modalities.iter().enumerate() {
        let mut dots = Vec::new();
        let mut per_seed_bins: Vec<Vec<f64>> = Vec::new();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut pairs_per_seed: Vec<Vec<(f64, f64)>> = Vec::new();
        for ci in &inst {
            let mut pairs = Vec::new();
            for c in ci.conditions.values() {
                let stride = (c.weights.len() / 600).max(1);
                for (i, ((w, u), p)) in c
                    .weights
                    .iter()
                    .zip(&c.uncertainty)
                    .zip(&c.present)
                    .enumerate()
                {
                    // Instances with every modality present: where one is missing, the
                    // weights of the others are set by renormalisation, not by uncertainty.
                    if !p.iter().all(|&x| x) || j >= u.len() {
                        continue;
                    }
                    let (x, y) = (u[j] as f64, w[j] as f64);
                    lo = lo.min(x);
                    hi = hi.max(x);
                    pairs.push((x, y));
                    if i % stride == 0 {
                        dots.push((x, y));
                    }
                }
            }
            pairs_per_seed.push(pairs);
        }
        if dots.is_empty() {
            continue;
        }
        let span = (hi - lo).max(1e-9);
        for pairs in &pairs_per_seed {
            let mut sum = [0.0; BINS];
            let mut cnt = [0.0; BINS];
            for &(x, y) in pairs {
                let b = (((x - lo) / span) * BINS as f64).floor() as usize;
                sum[b.min(BINS - 1)] += y;
                cnt[b.min(BINS - 1)] += 1.0;
            }
            per_seed_bins.push(
                sum.iter()
                    .zip(&cnt)
                    .map(|(s, c)| if *c > 0.0 { s / c } else { f64::NAN })
                    .collect(),
            );
        }
        let line: Vec<(f64, f64, f64)> = (0..BINS)
            .map(|b| {
                let m = mean_spread(&per_seed_bins.iter().map(|v| v[b]).collect::<Vec<_>>());
                (lo + (b as f64 + 0.5) * span / BINS as f64, m.mean, m.sd)
            })
            .collect();
        panels.push(Panel {
            title: format!("{m} (instances with every modality)"),
            x_label: format!("{signal} of {m}"),
            y_label: format!("weight of {m}"),
            series: vec![
                Series::new("instances", Color(170, 170, 200), Style::Scatter, &dots),
                Series {
                    name: "binned mean".into(),
                    color: PALETTE[3],
                    style: Style::Line,
                    points: line,
                },
            ],
            ..Panel::default()
        });
    }
    (!panels.is_empty()).then(|| {
        Figure::new(
            format!("{task}, {fusion}: weight against uncertainty"),
            panels,
            3,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_shares_sum_to_one() {
        let h = histogram(&[0.0, 0.05, 0.5, 1.0], 10);
        assert_eq!(h[0], 0.5);
        assert_eq!(h[5], 0.25);
        assert_eq!(h[9], 0.25);
        assert!((h.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
