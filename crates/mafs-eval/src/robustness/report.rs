//! The Markdown report of a sweep: the settings, one table per task (every condition, every
//! fusion, mean ± sd over seeds), robustness summaries (relative robustness, mCE), and the
//! report's five questions answered from the numbers, each with its test.

use std::fmt::Write;

use mafs_core::table::Table;

use super::results::{CellResult, ConditionSpec, distinct, fusions_of};
use super::shifts::{ShiftUnavailable, WeightShiftRow};
use super::stats::{MeanSpread, PairedBootstrap};
use super::summary::{Summary, Trend, comparisons, find};
use crate::weights::first_appearance;

/// What the report says about how the sweep was run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportHeader {
    /// The command that made it.
    pub command: String,
    /// Settings, one `(name, value)` a line.
    pub settings: Vec<(String, String)>,
    /// Wall time of the sweep, seconds (this invocation).
    pub wall_seconds: f64,
    /// Figures: `(caption, file name of the PNG)`.
    pub figures: Vec<(String, String)>,
}

/// `mean ± sd` (just the mean for one seed), `-` when missing.
pub fn pm(m: &MeanSpread, digits: usize) -> String {
    spread(m, digits, false)
}

/// [`pm`], the mean with its sign when `signed`.
fn spread(m: &MeanSpread, digits: usize, signed: bool) -> String {
    if !m.mean.is_finite() {
        return "-".to_string();
    }
    let mean = if signed {
        format!("{:+.digits$}", m.mean)
    } else {
        format!("{:.digits$}", m.mean)
    };
    if m.n > 1 {
        format!("{mean} ± {:.digits$}", m.sd)
    } else {
        mean
    }
}

/// The verdict of a paired test at its interval: better, worse, or not resolved.
pub fn verdict(t: &PairedBootstrap) -> &'static str {
    if t.ci_low > 0.0 {
        "better"
    } else if t.ci_high < 0.0 {
        "worse"
    } else {
        "no significant difference"
    }
}

/// [`pm`] with the mean's sign.
fn signed_pm(m: &MeanSpread, digits: usize) -> String {
    spread(m, digits, true)
}

fn test_cell(t: &PairedBootstrap) -> String {
    format!(
        "{:+.2} [{:+.2}, {:+.2}], p = {:.3}",
        t.mean_diff, t.ci_low, t.ci_high, t.p_value
    )
}

/// Whether a trend's slope is more than twice its standard error over seeds.
fn established(t: &Trend) -> bool {
    t.slope.n > 1 && t.slope.mean.abs() > 2.0 * t.slope.sd / (t.slope.n as f64).sqrt()
}

/// A table of trends against severity: `who` (the baseline or the fusion), the family,
/// `what` at each severity (formatted by `value`) and the slope, mean ± sd over seeds.
fn trend_table(
    s: &mut String,
    who: &str,
    what: &str,
    trends: &[&Trend],
    value: impl Fn(f64) -> String,
    slope_digits: usize,
) {
    let severities: Vec<String> = trends
        .first()
        .map(|t| t.values.iter().map(|(sev, _)| sev.to_string()).collect())
        .unwrap_or_default();
    let mut t = Table::new([
        who.to_string(),
        "family".into(),
        format!("{what} at severity {}", severities.join(", ")),
        "slope".into(),
    ]);
    for tr in trends {
        let vals: Vec<String> = tr.values.iter().map(|(_, v)| value(v.mean)).collect();
        t.row([
            tr.against.clone(),
            tr.family.clone(),
            vals.join(", "),
            pm(&tr.slope, slope_digits),
        ]);
    }
    let _ = write!(s, "{t}");
}

/// The report as Markdown.
pub fn markdown(
    header: &ReportHeader,
    conditions: &[ConditionSpec],
    cells: &[CellResult],
    summary: &Summary,
) -> String {
    let mut s = String::new();
    let ours = &summary.config.ours;
    let reference = &summary.config.reference;
    let b = &summary.config.bootstrap;
    let _ = writeln!(s, "# Robustness benchmark\n");
    let _ = writeln!(s, "```sh\n{}\n```\n", header.command);
    let mut settings = Table::new(["setting", "value"]);
    for (k, v) in &header.settings {
        settings.row([k.as_str(), v.as_str()]);
    }
    settings.row([
        "paired test".to_string(),
        format!(
            "bootstrap over seeds and instances, {} resamples, {:.0}% percentile interval, seed {}",
            b.resamples,
            100.0 * b.confidence,
            b.seed
        ),
    ]);
    settings.row([
        "wall time of this invocation".to_string(),
        format!("{:.0} s", header.wall_seconds),
    ]);
    let _ = writeln!(s, "{settings}");
    let _ = writeln!(
        s,
        "Values are mean ± sample sd over seeds (one value: one seed). Tests compare `{ours}` \
         with each other fusion on the same instances: the difference `{ours} - baseline` of \
         the headline metric, its 95% interval and two-sided p-value. Relative robustness is \
         `1 - (clean - corrupted) / clean`; CE is ImageNet-C's corruption error, \
         `sum_s E_s / sum_s E_s({reference})` with `E = 100 * (1 - metric / best)`, and mCE its mean over corruption families.\n"
    );
    for task in distinct(cells, |c| &c.task) {
        let fs = fusions_of(cells, &task);
        let metric = cells
            .iter()
            .find(|c| c.task == task)
            .map_or("main".to_string(), |c| c.main_metric.clone());
        let _ = writeln!(s, "## {task} ({metric})\n");
        // Summary table.
        let mut table = Table::new([
            "fusion".to_string(),
            "clean".into(),
            "shift".into(),
            "mean corrupted".into(),
            "relative robustness".into(),
            format!("mCE (vs {reference})"),
            "params".into(),
            "weighting params".into(),
            "train s".into(),
        ]);
        for f in &fs {
            let clean = find(summary, &task, f, "clean").map(|r| pm(&r.main, 2));
            let shift = find(summary, &task, f, "shift").map(|r| pm(&r.main, 2));
            let corrupted: Vec<f64> = conditions
                .iter()
                .filter(|c| c.is_corruption())
                .filter_map(|c| find(summary, &task, f, &c.name).map(|r| r.main.mean))
                .filter(|v| v.is_finite())
                .collect();
            let mean_corr = if corrupted.is_empty() {
                "-".to_string()
            } else {
                format!(
                    "{:.2}",
                    corrupted.iter().sum::<f64>() / corrupted.len() as f64
                )
            };
            let rob = summary
                .robustness
                .iter()
                .find(|r| r.task == task && r.fusion == *f);
            let cost = summary
                .costs
                .iter()
                .find(|c| c.task == task && c.fusion == *f);
            table.row([
                f.clone(),
                clean.unwrap_or_else(|| "-".into()),
                shift.unwrap_or_else(|| "-".into()),
                mean_corr,
                rob.map_or("-".into(), |r| pm(&r.relative_robustness, 3)),
                rob.filter(|r| r.mce.is_finite())
                    .map_or("-".into(), |r| format!("{:.3}", r.mce)),
                cost.map_or("-".into(), |c| c.params.to_string()),
                cost.map_or("-".into(), |c| c.weighting_params.to_string()),
                cost.map_or("-".into(), |c| pm(&c.train_seconds, 0)),
            ]);
        }
        let _ = write!(s, "{table}");
        // Full table.
        let _ = writeln!(s, "\n### Every condition\n");
        let mut every = Table::new(
            std::iter::once("condition".to_string())
                .chain(fs.iter().cloned())
                .chain([format!("{ours} − baseline (95% CI, p)")]),
        );
        for c in conditions {
            let tests: Vec<String> = comparisons(summary, &task, &c.name)
                .iter()
                .map(|(b, t)| format!("vs {b}: {}", test_cell(&t.test)))
                .collect();
            every.row(
                std::iter::once(c.name.clone())
                    .chain(fs.iter().map(|f| {
                        find(summary, &task, f, &c.name).map_or("-".into(), |r| pm(&r.main, 2))
                    }))
                    .chain([if tests.is_empty() {
                        "-".into()
                    } else {
                        tests.join("; ")
                    }]),
            );
        }
        let _ = write!(s, "{every}");
        // The questions.
        let _ = writeln!(s, "\n### The claims, answered by the numbers\n");
        let clean_tests = comparisons(summary, &task, "clean");
        let _ = writeln!(
            s,
            "**1. Is `{ours}` at least as good as every baseline clean?**\n"
        );
        if clean_tests.is_empty() {
            let _ = writeln!(s, "No paired test (is `{ours}` in the sweep?).\n");
        }
        for (bname, t) in &clean_tests {
            let _ = writeln!(
                s,
                "- vs {bname}: {} → {}",
                test_cell(&t.test),
                verdict(&t.test)
            );
        }
        let worse: Vec<&str> = clean_tests
            .iter()
            .filter(|(_, t)| verdict(&t.test) == "worse")
            .map(|(b, _)| *b)
            .collect();
        if !clean_tests.is_empty() {
            let _ = writeln!(
                s,
                "\nAnswer: {}.\n",
                if worse.is_empty() {
                    "yes, within the test's resolution (no baseline is significantly better)"
                        .to_string()
                } else {
                    format!("no: significantly worse than {}", worse.join(", "))
                }
            );
        }
        let _ = writeln!(
            s,
            "**2. Does its lead grow with severity?** (lead = `{ours} - baseline` at each severity, 0 = clean; slope per severity step, per seed)\n"
        );
        let leads: Vec<_> = summary
            .lead_trends
            .iter()
            .filter(|t| t.task == task)
            .collect();
        if leads.is_empty() {
            let _ = writeln!(s, "No severity family or no baseline.\n");
        } else {
            trend_table(
                &mut s,
                "baseline",
                "lead",
                &leads,
                |v| format!("{v:+.2}"),
                3,
            );
            let grows = leads.iter().filter(|t| t.slope.mean > 0.0).count();
            let _ = writeln!(
                s,
                "\nAnswer: the lead grows (positive mean slope) in {grows} of {} baseline × family pairs{}.\n",
                leads.len(),
                if leads.iter().any(|t| established(t)) {
                    "; pairs whose slope exceeds twice its standard error are the ones to trust"
                } else {
                    "; no slope exceeds twice its standard error over seeds (or there is one seed), so none is established"
                }
            );
        }
        let _ = writeln!(
            s,
            "**3. Does the weight of a corrupted modality fall as severity rises?** (mean weight of the degraded modalities at each severity, 0 = clean)\n"
        );
        let weights: Vec<_> = summary
            .weight_trends
            .iter()
            .filter(|t| t.task == task)
            .collect();
        if weights.is_empty() {
            let _ = writeln!(
                s,
                "No severity family degrades a modality the models weight.\n"
            );
        } else {
            trend_table(
                &mut s,
                "fusion",
                "weight",
                &weights,
                |v| format!("{v:.3}"),
                4,
            );
            let mine: Vec<_> = weights.iter().filter(|t| t.against == *ours).collect();
            let falls = mine.iter().filter(|t| t.slope.mean < 0.0).count();
            let firm = mine
                .iter()
                .filter(|t| t.slope.mean < 0.0 && established(t))
                .count();
            let _ = writeln!(
                s,
                "\nAnswer: for `{ours}` the weight falls (negative mean slope) in {falls} of {} families \
                 ({firm} by more than twice its standard error over seeds); \
                 fixed fusions keep constant weights by construction.\n",
                mine.len()
            );
        }
        let _ = writeln!(s, "**4. Does it generalise better to `shift`?**\n");
        let shift_tests = comparisons(summary, &task, "shift");
        if shift_tests.is_empty() {
            let _ = writeln!(s, "No shift split evaluated.\n");
        }
        for (bname, t) in &shift_tests {
            let rr_o = find(summary, &task, ours, "shift").and_then(|r| r.relative_robustness);
            let rr_b = find(summary, &task, bname, "shift").and_then(|r| r.relative_robustness);
            let _ = writeln!(
                s,
                "- vs {bname}: {} → {} (shift / clean: {} vs {})",
                test_cell(&t.test),
                verdict(&t.test),
                rr_o.map_or("-".into(), |m| pm(&m, 3)),
                rr_b.map_or("-".into(), |m| pm(&m, 3)),
            );
        }
        let _ = writeln!(s, "\n**5. What does it cost?**\n");
        let oc = summary
            .costs
            .iter()
            .find(|c| c.task == task && c.fusion == *ours);
        for c in summary.costs.iter().filter(|c| c.task == task) {
            let rel = oc.map_or(String::new(), |o| {
                format!(
                    " ({:+.2}% parameters and {:+.0}% training time relative to `{}`)",
                    100.0 * (o.params as f64 / c.params as f64 - 1.0),
                    100.0 * (o.train_seconds.mean / c.train_seconds.mean - 1.0),
                    c.fusion
                )
            });
            let _ = writeln!(
                s,
                "- {}: {} parameters, {} in the weighting ({:.2}%), training {} s, {} s per evaluation{}",
                c.fusion,
                c.params,
                c.weighting_params,
                100.0 * c.weighting_params as f64 / c.params.max(1) as f64,
                pm(&c.train_seconds, 0),
                pm(&c.eval_seconds, 1),
                if c.fusion == *ours {
                    String::new()
                } else {
                    rel
                }
            );
        }
        let _ = writeln!(s);
        weight_shift_section(&mut s, &task, &fs, conditions, summary);
    }
    if !header.figures.is_empty() {
        let _ = writeln!(s, "## Figures\n");
        for (caption, file) in &header.figures {
            let _ = writeln!(s, "**{caption}**\n\n![{caption}]({file})\n");
        }
    }
    s
}

/// One modality's cell of the weight-shift table: the paired change, and the AUROC when
/// the condition corrupted the modality (`absent` when it removed the modality).
fn shift_cell(r: &WeightShiftRow) -> String {
    if r.paired_change.n == 0 {
        return "absent".into();
    }
    let change = format!("Δ {}", signed_pm(&r.paired_change, 3));
    if r.corrupted() && r.auroc.n > 0 {
        format!("{change}, AUROC {}", pm(&r.auroc, 3))
    } else {
        change
    }
}

/// The table of weight shifts: one row per fusion × corruption condition, one column per
/// modality.
fn shift_rows_table(
    s: &mut String,
    fusions: &[String],
    conditions: &[ConditionSpec],
    rows: &[&WeightShiftRow],
) {
    let modalities = first_appearance(rows.iter().map(|r| r.modality.clone()));
    let mut t = Table::new(
        ["fusion".to_string(), "condition".into()]
            .into_iter()
            .chain(modalities.iter().cloned()),
    );
    for f in fusions {
        for c in conditions.iter().filter(|c| c.is_corruption()) {
            let mine: Vec<&&WeightShiftRow> = rows
                .iter()
                .filter(|r| r.fusion == *f && r.condition == c.name)
                .collect();
            if mine.is_empty() {
                continue;
            }
            t.row(
                [f.clone(), c.name.clone()]
                    .into_iter()
                    .chain(modalities.iter().map(|m| {
                        mine.iter()
                            .find(|r| r.modality == *m)
                            .map_or("-".into(), |r| shift_cell(r))
                    })),
            );
        }
    }
    let _ = write!(s, "{t}");
}

/// The table of signal means, clean → on the corrupted rows (means over seeds), for the
/// modalities each condition corrupted; nothing when no fusion reads signals.
fn signal_means_table(s: &mut String, rows: &[&WeightShiftRow]) {
    let names = first_appearance(
        rows.iter()
            .flat_map(|r| r.signals.iter().map(|x| x.name.clone())),
    );
    if names.is_empty() {
        return;
    }
    let mut t = Table::new(
        ["fusion".to_string(), "condition".into(), "modality".into()]
            .into_iter()
            .chain(names.iter().map(|n| format!("{n} clean → corrupted"))),
    );
    for r in rows
        .iter()
        .filter(|r| r.corrupted() && !r.signals.is_empty())
    {
        t.row(
            [r.fusion.clone(), r.condition.clone(), r.modality.clone()]
                .into_iter()
                .chain(names.iter().map(|n| {
                    r.signals
                        .iter()
                        .find(|x| x.name == *n)
                        .map_or("-".into(), |x| {
                            format!("{:.3} → {:.3}", x.clean.mean, x.corrupted.mean)
                        })
                })),
        );
    }
    let _ = writeln!(
        s,
        "\nSignal means over the clean rows → over the corrupted rows (mean over seeds), for the modalities each condition corrupted:\n"
    );
    let _ = write!(s, "{t}");
}

/// The cells whose saved evidence gives no weight shift, and what to do about it.
fn unavailable_note(s: &mut String, missing: &[&ShiftUnavailable]) {
    if missing.is_empty() {
        return;
    }
    let cells: Vec<String> = missing
        .iter()
        .map(|m| {
            format!(
                "`{}` seed {} ({} condition{})",
                m.fusion,
                m.seed,
                m.conditions.len(),
                if m.conditions.len() == 1 { "" } else { "s" }
            )
        })
        .collect();
    let _ = writeln!(
        s,
        "\nWeight shift not available for {}: those cells were saved before the sweep recorded \
         each instance's corruption flags and signals. Delete their `cell.json` and \
         `instances.json` and rerun the command: the trained runs are reused and only the \
         evaluations redone.",
        cells.join(", ")
    );
}

/// The section on what each corruption did to each modality's weight, paired with the
/// same instances clean.
fn weight_shift_section(
    s: &mut String,
    task: &str,
    fusions: &[String],
    conditions: &[ConditionSpec],
    summary: &Summary,
) {
    let rows: Vec<&WeightShiftRow> = summary
        .weight_shifts
        .iter()
        .filter(|r| r.task == task)
        .collect();
    let missing: Vec<&ShiftUnavailable> = summary
        .weight_shift_unavailable
        .iter()
        .filter(|m| m.task == task)
        .collect();
    if rows.is_empty() && missing.is_empty() {
        return;
    }
    let _ = writeln!(s, "### Weights against the same instances clean\n");
    let _ = writeln!(
        s,
        "For each corruption condition: Δ, the paired change of each modality's mean weight \
         against the same test instances clean, and for the modalities the condition corrupted \
         the AUROC of the weight as a detector of that corruption (1: every corrupted instance \
         weighs the modality less than every clean one; 0.5: chance); mean ± sd over seeds, the \
         per-seed values in `results.json` (`summary.weight_shifts`). Fixed fusions keep \
         constant weights: Δ 0 and AUROC 0.5 by construction.\n"
    );
    if rows.is_empty() {
        let _ = writeln!(s, "Weight shift not available for any cell.");
    } else {
        shift_rows_table(s, fusions, conditions, &rows);
        signal_means_table(s, &rows);
    }
    unavailable_note(s, &missing);
    let _ = writeln!(s);
}
