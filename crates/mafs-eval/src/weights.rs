//! Weights that can be checked (DESIGN §1): what a condition did to the fusion weights of
//! each modality, measured against the same instances evaluated clean.
//!
//! Because the data pipeline records which modality of which instance it corrupted, every
//! evaluation can say, per modality:
//!
//! - the *paired change* of its mean weight, `mean_i (w_i^cond - w_i^clean)` over the
//!   instances that have the modality in both evaluations (and over the corrupted ones alone);
//! - the *AUROC* of its weight as a detector of its own corruption: the probability that a
//!   corrupted instance's weight under the condition is below a clean instance's weight
//!   (positives: the instances whose modality the condition corrupted and kept present;
//!   negatives: every instance with the modality in the clean evaluation; ties count one
//!   half, as the Mann-Whitney statistic counts them);
//! - the mean of each signal clean and corrupted, so that one sees which signal carries the
//!   decision.
//!
//! Plain data in, plain data out: nothing here knows about models.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The per-instance fusion evidence of one evaluation, aligned by position.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WeightEvidence {
    /// Modality names, in weight order.
    pub modalities: Vec<String>,
    /// Signal names, in order.
    pub signal_names: Vec<String>,
    /// Instance id of each row (a VQA instance has one row per question).
    pub ids: Vec<u64>,
    /// Weights `[n][M]`.
    pub weights: Vec<Vec<f32>>,
    /// Signals `[n][M][S]` (empty rows when the weighting reads none).
    pub signals: Vec<Vec<Vec<f32>>>,
    /// Presence `[n][M]`.
    pub present: Vec<Vec<bool>>,
    /// Whether the data pipeline corrupted, dropped or misaligned the modality `[n][M]`.
    pub corrupted: Vec<Vec<bool>>,
}

impl WeightEvidence {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Row keys `(id, k)`, `k` counting earlier rows of the same id, so that the rows of two
    /// evaluations of the same data pair up even when an instance has several rows.
    fn keys(&self) -> Vec<(u64, u32)> {
        let mut seen: BTreeMap<u64, u32> = BTreeMap::new();
        self.ids
            .iter()
            .map(|&id| {
                let k = seen.entry(id).or_insert(0);
                let key = (id, *k);
                *k += 1;
                key
            })
            .collect()
    }
}

/// One signal's mean over the clean rows and over the corrupted rows of a modality.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalShift {
    /// Signal name.
    pub name: String,
    /// Mean over the clean evaluation's rows that have the modality.
    pub clean: f64,
    /// Mean over the condition's rows whose modality it corrupted (NaN with none).
    pub corrupted: f64,
}

/// What a condition did to one modality's weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModalityWeightShift {
    /// Modality name.
    pub modality: String,
    /// Rows with the modality present in both evaluations.
    pub n_paired: usize,
    /// Mean weight over those rows, clean.
    pub mean_clean: f64,
    /// Mean weight over those rows, under the condition.
    pub mean_condition: f64,
    /// `mean_condition - mean_clean` (NaN with no paired row).
    pub paired_change: f64,
    /// Rows whose modality the condition corrupted and kept present.
    pub n_corrupted: usize,
    /// The paired change over those rows alone (NaN with none).
    pub corrupted_change: f64,
    /// AUROC of the weight as a detector of the modality's own corruption (`None` without
    /// corrupted or clean rows).
    pub auroc: Option<f64>,
    /// Each signal's mean, clean and corrupted.
    pub signals: Vec<SignalShift>,
}

/// Why two evaluations cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeightShiftError {
    /// The evaluations weigh different modalities.
    #[error("the evaluations weigh different modalities: {clean:?} and {condition:?}")]
    Modalities {
        /// The clean evaluation's.
        clean: Vec<String>,
        /// The condition's.
        condition: Vec<String>,
    },
    /// A row has the wrong number of entries.
    #[error("row {row} of the {which} evaluation has {got} entries, expected {want}")]
    Ragged {
        /// Which evaluation.
        which: &'static str,
        /// The row.
        row: usize,
        /// Its length.
        got: usize,
        /// The modality count.
        want: usize,
    },
}

fn check(e: &WeightEvidence, which: &'static str) -> Result<(), WeightShiftError> {
    let m = e.modalities.len();
    for (row, ((w, p), c)) in e
        .weights
        .iter()
        .zip(&e.present)
        .zip(&e.corrupted)
        .enumerate()
    {
        for got in [w.len(), p.len(), c.len()] {
            if got != m {
                return Err(WeightShiftError::Ragged {
                    which,
                    row,
                    got,
                    want: m,
                });
            }
        }
    }
    let n = e.ids.len();
    for (got, row) in [
        (e.weights.len(), 0),
        (e.present.len(), 0),
        (e.corrupted.len(), 0),
    ] {
        if got != n {
            return Err(WeightShiftError::Ragged {
                which,
                row,
                got,
                want: n,
            });
        }
    }
    Ok(())
}

fn mean(v: impl IntoIterator<Item = f64>) -> f64 {
    let (s, n) = v
        .into_iter()
        .fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// The Mann-Whitney AUROC of `positives` scoring *below* `negatives` (a lower weight flags
/// a corruption): `P(pos < neg) + P(pos = neg) / 2`. `None` when either side is empty.
pub fn auroc_below(positives: &[f64], negatives: &[f64]) -> Option<f64> {
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut neg = negatives.to_vec();
    neg.sort_by(|a, b| a.total_cmp(b));
    let mut total = 0.0;
    for &p in positives {
        // negatives strictly above p, and equal to p
        let above = neg.len() - neg.partition_point(|&x| x <= p);
        let equal = neg.partition_point(|&x| x <= p) - neg.partition_point(|&x| x < p);
        total += above as f64 + 0.5 * equal as f64;
    }
    Some(total / (positives.len() as f64 * neg.len() as f64))
}

/// What `condition` did to each modality's weight, against `clean` (the same data evaluated
/// without the corruption), pairing rows by instance id.
///
/// # Errors
///
/// [`WeightShiftError`] when the evaluations weigh different modalities or a row is ragged.
pub fn weight_shift(
    clean: &WeightEvidence,
    condition: &WeightEvidence,
) -> Result<Vec<ModalityWeightShift>, WeightShiftError> {
    if clean.modalities != condition.modalities {
        return Err(WeightShiftError::Modalities {
            clean: clean.modalities.clone(),
            condition: condition.modalities.clone(),
        });
    }
    check(clean, "clean")?;
    check(condition, "condition")?;
    let clean_rows: BTreeMap<(u64, u32), usize> = clean
        .keys()
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect();
    let pairs: Vec<(usize, usize)> = condition
        .keys()
        .into_iter()
        .enumerate()
        .filter_map(|(j, k)| clean_rows.get(&k).map(|&i| (i, j)))
        .collect();
    let signal_of = |e: &WeightEvidence, row: usize, m: usize, s: usize| -> Option<f64> {
        e.signals
            .get(row)
            .and_then(|r| r.get(m))
            .and_then(|v| v.get(s))
            .map(|&x| x as f64)
    };
    let out = clean
        .modalities
        .iter()
        .enumerate()
        .map(|(m, name)| {
            let paired: Vec<(usize, usize)> = pairs
                .iter()
                .copied()
                .filter(|&(i, j)| clean.present[i][m] && condition.present[j][m])
                .collect();
            let hit: Vec<(usize, usize)> = paired
                .iter()
                .copied()
                .filter(|&(_, j)| condition.corrupted[j][m])
                .collect();
            let w = |e: &WeightEvidence, r: usize| e.weights[r][m] as f64;
            let mean_clean = mean(paired.iter().map(|&(i, _)| w(clean, i)));
            let mean_condition = mean(paired.iter().map(|&(_, j)| w(condition, j)));
            let corrupted_change = mean(hit.iter().map(|&(i, j)| w(condition, j) - w(clean, i)));
            let negatives: Vec<f64> = (0..clean.len())
                .filter(|&i| clean.present[i][m] && !clean.corrupted[i][m])
                .map(|i| w(clean, i))
                .collect();
            let positives: Vec<f64> = hit.iter().map(|&(_, j)| w(condition, j)).collect();
            let signals = clean
                .signal_names
                .iter()
                .enumerate()
                .map(|(s, sname)| SignalShift {
                    name: sname.clone(),
                    clean: mean(
                        (0..clean.len())
                            .filter(|&i| clean.present[i][m])
                            .filter_map(|i| signal_of(clean, i, m, s)),
                    ),
                    corrupted: mean(
                        hit.iter()
                            .filter_map(|&(_, j)| signal_of(condition, j, m, s)),
                    ),
                })
                .collect();
            ModalityWeightShift {
                modality: name.clone(),
                n_paired: paired.len(),
                mean_clean,
                mean_condition,
                paired_change: mean_condition - mean_clean,
                n_corrupted: hit.len(),
                corrupted_change,
                auroc: auroc_below(&positives, &negatives),
                signals,
            }
        })
        .collect();
    Ok(out)
}

/// A Markdown table of weight shifts, one row per (condition, modality).
pub fn shift_table(rows: &[(String, Vec<ModalityWeightShift>)]) -> String {
    let mut s = String::from(
        "| condition | modality | w clean | w condition | paired change | corrupted rows | change on them | AUROC |\n|---|---|---|---|---|---|---|---|\n",
    );
    let f = |x: f64| {
        if x.is_finite() {
            format!("{x:+.3}")
        } else {
            "-".into()
        }
    };
    let g = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "-".into()
        }
    };
    for (cond, shifts) in rows {
        for m in shifts {
            s.push_str(&format!(
                "| {cond} | {} | {} | {} | {} | {} | {} | {} |\n",
                m.modality,
                g(m.mean_clean),
                g(m.mean_condition),
                f(m.paired_change),
                m.n_corrupted,
                f(m.corrupted_change),
                m.auroc.map_or("-".into(), |a| format!("{a:.3}")),
            ));
        }
    }
    s
}

/// The distinct `names`, in order of first appearance (the columns of a signal table).
pub fn first_appearance(names: impl IntoIterator<Item = String>) -> Vec<String> {
    names.into_iter().fold(Vec::new(), |mut acc, n| {
        if !acc.contains(&n) {
            acc.push(n);
        }
        acc
    })
}

/// A Markdown table of each signal's mean, clean and on the corrupted rows, per (condition,
/// modality) with corrupted rows.
pub fn signal_table(rows: &[(String, Vec<ModalityWeightShift>)]) -> String {
    let names = first_appearance(rows.iter().flat_map(|(_, v)| {
        v.iter()
            .flat_map(|m| m.signals.iter().map(|s| s.name.clone()))
    }));
    let mut s = format!(
        "| condition | modality | {} |\n|---|---|{}\n",
        names
            .iter()
            .map(|n| format!("{n} clean → corrupted"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(names.len())
    );
    for (cond, shifts) in rows {
        for m in shifts.iter().filter(|m| m.n_corrupted > 0) {
            let cells: Vec<String> = names
                .iter()
                .map(|n| match m.signals.iter().find(|s| &s.name == n) {
                    Some(v) => format!("{:.3} → {:.3}", v.clean, v.corrupted),
                    None => "-".into(),
                })
                .collect();
            s.push_str(&format!(
                "| {cond} | {} | {} |\n",
                m.modality,
                cells.join(" | ")
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(
        weights: Vec<[f32; 2]>,
        corrupted: Vec<[bool; 2]>,
        ids: Vec<u64>,
    ) -> WeightEvidence {
        let n = weights.len();
        WeightEvidence {
            modalities: vec!["image".into(), "side_text".into()],
            signal_names: vec!["u".into()],
            ids,
            signals: weights
                .iter()
                .map(|w| vec![vec![1.0 - w[0]], vec![1.0 - w[1]]])
                .collect(),
            weights: weights.iter().map(|w| w.to_vec()).collect(),
            present: vec![vec![true, true]; n],
            corrupted: corrupted.iter().map(|c| c.to_vec()).collect(),
        }
    }

    #[test]
    fn auroc_counts_ties_as_half() {
        assert_eq!(auroc_below(&[0.1, 0.2], &[0.3, 0.4]), Some(1.0));
        assert_eq!(auroc_below(&[0.5], &[0.3, 0.4]), Some(0.0));
        assert_eq!(auroc_below(&[0.3], &[0.3, 0.4]), Some(0.75));
        assert_eq!(auroc_below(&[], &[0.3]), None);
    }

    #[test]
    fn paired_change_and_auroc_of_a_corrupted_modality() {
        let clean = evidence(
            vec![[0.6, 0.4], [0.5, 0.5], [0.7, 0.3]],
            vec![[false, false]; 3],
            vec![1, 2, 3],
        );
        // the condition corrupts the image of instances 1 and 3 (listed in another order)
        let cond = evidence(
            vec![[0.2, 0.8], [0.5, 0.5], [0.4, 0.6]],
            vec![[true, false], [false, false], [true, false]],
            vec![3, 2, 1],
        );
        let s = weight_shift(&clean, &cond).unwrap();
        let img = &s[0];
        assert_eq!(img.n_paired, 3);
        assert_eq!(img.n_corrupted, 2);
        // paired: (0.4-0.6) + (0.5-0.5) + (0.2-0.7) over 3
        assert!((img.paired_change - (-0.7 / 3.0)).abs() < 1e-6);
        assert!((img.corrupted_change - (-0.35)).abs() < 1e-6);
        // positives 0.2, 0.4 against negatives 0.6, 0.5, 0.7: all below
        assert_eq!(img.auroc, Some(1.0));
        assert_eq!(s[1].n_corrupted, 0);
        assert_eq!(s[1].auroc, None);
        // the signal of the corrupted rows: 1 - w
        assert!((img.signals[0].corrupted - 0.7).abs() < 1e-6);
        let table = shift_table(&[("image:noise:3".into(), s.clone())]);
        assert!(
            table.contains(
                "| image:noise:3 | image | 0.600 | 0.367 | -0.233 | 2 | -0.350 | 1.000 |"
            ),
            "{table}"
        );
        assert!(signal_table(&[("c".into(), s)]).contains("0.400 → 0.700"));
    }

    #[test]
    fn rows_of_one_instance_pair_in_order_and_errors_are_typed() {
        let clean = evidence(
            vec![[0.5, 0.5], [0.6, 0.4]],
            vec![[false, false]; 2],
            vec![7, 7],
        );
        let cond = evidence(
            vec![[0.1, 0.9], [0.2, 0.8]],
            vec![[true, false]; 2],
            vec![7, 7],
        );
        let s = weight_shift(&clean, &cond).unwrap();
        assert!((s[0].paired_change - (-0.4)).abs() < 1e-6);
        let mut other = cond.clone();
        other.modalities = vec!["a".into(), "b".into()];
        assert!(matches!(
            weight_shift(&clean, &other),
            Err(WeightShiftError::Modalities { .. })
        ));
        let mut ragged = cond;
        ragged.weights[1] = vec![1.0];
        assert!(matches!(
            weight_shift(&clean, &ragged),
            Err(WeightShiftError::Ragged { .. })
        ));
    }
}
