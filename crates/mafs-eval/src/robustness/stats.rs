//! The statistics of a robustness benchmark: mean and spread over seeds, relative robustness,
//! ImageNet-C's corruption error (normalised by a reference model) and a paired bootstrap
//! over instances and seeds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::metrics::error::{MetricsError, Result};

/// The mean and sample standard deviation of a few values (e.g. one per seed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanSpread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (`n - 1` in the denominator; 0 for one value).
    pub sd: f64,
    /// Number of values.
    pub n: usize,
}

/// Mean and sample standard deviation of the finite values of `xs` (NaN mean when none).
pub fn mean_spread(xs: &[f64]) -> MeanSpread {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return MeanSpread {
            mean: f64::NAN,
            sd: f64::NAN,
            n,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    MeanSpread { mean, sd, n }
}

/// Relative robustness `1 - (clean - corrupted) / clean` (1: no loss; 0: everything lost).
/// NaN when `clean` is 0.
pub fn relative_robustness(clean: f64, corrupted: f64) -> f64 {
    if clean == 0.0 {
        f64::NAN
    } else {
        1.0 - (clean - corrupted) / clean
    }
}

/// ImageNet-C's corruption error of one corruption: the model's errors summed over the
/// severities divided by the reference model's, `CE_c = sum_s E_{s,c} / sum_s E^ref_{s,c}`
/// (Hendrycks & Dietterich 2019, with `fixed-query` in AlexNet's place).
///
/// # Errors
/// [`MetricsError::InvalidInput`] when the lengths differ, nothing is given, or the
/// reference's errors sum to 0.
pub fn corruption_error(errors: &[f64], reference_errors: &[f64]) -> Result<f64> {
    if errors.len() != reference_errors.len() || errors.is_empty() {
        return Err(MetricsError::InvalidInput(format!(
            "corruption error: {} errors against {} reference errors (need the same, non-zero, number of severities)",
            errors.len(),
            reference_errors.len()
        )));
    }
    let r: f64 = reference_errors.iter().sum();
    if r <= 0.0 || !r.is_finite() {
        return Err(MetricsError::InvalidInput(format!(
            "corruption error: the reference's errors sum to {r}"
        )));
    }
    Ok(errors.iter().sum::<f64>() / r)
}

/// The mean corruption error: the mean of the corruption errors of each corruption.
/// NaN when there is none.
pub fn mean_corruption_error(corruption_errors: &[f64]) -> f64 {
    if corruption_errors.is_empty() {
        return f64::NAN;
    }
    corruption_errors.iter().sum::<f64>() / corruption_errors.len() as f64
}

/// Settings of [`paired_bootstrap`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of bootstrap resamples.
    pub resamples: usize,
    /// Confidence of the percentile interval (e.g. 0.95).
    pub confidence: f64,
    /// Seed of the resampling.
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// The result of a paired bootstrap of the mean difference `a - b`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedBootstrap {
    /// The observed mean difference over every pair of every group.
    pub mean_diff: f64,
    /// Lower end of the percentile interval.
    pub ci_low: f64,
    /// Upper end of the percentile interval.
    pub ci_high: f64,
    /// Two-sided bootstrap p-value of "no difference":
    /// `min(1, 2 * min(#{d* <= 0} + 1, #{d* >= 0} + 1) / (B + 1))`.
    pub p_value: f64,
    /// Number of pairs.
    pub n_pairs: usize,
    /// Number of groups (seeds).
    pub n_groups: usize,
}

/// The `q`-quantile of sorted values with linear interpolation (numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// A two-level paired bootstrap of the mean of per-pair differences `a_i - b_i`, grouped by
/// seed: each resample draws the groups with replacement, then the pairs within each drawn
/// group with replacement, and takes the mean of all drawn differences. Pairing keeps the
/// instance-to-instance variation that both models share out of the interval; resampling
/// the seeds puts the training variation in.
///
/// `groups[g]` holds the differences of group `g` (one per instance, both models evaluated
/// on the same instances).
///
/// # Errors
/// [`MetricsError::InvalidInput`] when there are no groups, a group is empty, a difference
/// is not finite, or `resamples` is 0.
pub fn paired_bootstrap(groups: &[Vec<f64>], cfg: &BootstrapConfig) -> Result<PairedBootstrap> {
    if groups.is_empty() || cfg.resamples == 0 {
        return Err(MetricsError::InvalidInput(
            "paired bootstrap: need at least one group and one resample".into(),
        ));
    }
    for (g, d) in groups.iter().enumerate() {
        if d.is_empty() {
            return Err(MetricsError::InvalidInput(format!(
                "paired bootstrap: group {g} has no pair"
            )));
        }
        if let Some(i) = d.iter().position(|x| !x.is_finite()) {
            return Err(MetricsError::InvalidInput(format!(
                "paired bootstrap: difference {i} of group {g} is {}",
                d[i]
            )));
        }
    }
    let n_pairs: usize = groups.iter().map(Vec::len).sum();
    let mean_diff = groups.iter().flatten().sum::<f64>() / n_pairs as f64;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut stats = Vec::with_capacity(cfg.resamples);
    for _ in 0..cfg.resamples {
        let (mut sum, mut count) = (0.0, 0usize);
        for _ in 0..groups.len() {
            let g = &groups[rng.random_range(0..groups.len())];
            for _ in 0..g.len() {
                sum += g[rng.random_range(0..g.len())];
            }
            count += g.len();
        }
        stats.push(sum / count as f64);
    }
    stats.sort_by(f64::total_cmp);
    let alpha = (1.0 - cfg.confidence.clamp(0.0, 1.0)) / 2.0;
    let le = stats.iter().filter(|&&d| d <= 0.0).count();
    let ge = stats.iter().filter(|&&d| d >= 0.0).count();
    let p_value = (2.0 * (le.min(ge) + 1) as f64 / (cfg.resamples + 1) as f64).min(1.0);
    Ok(PairedBootstrap {
        mean_diff,
        ci_low: quantile_sorted(&stats, alpha),
        ci_high: quantile_sorted(&stats, 1.0 - alpha),
        p_value,
        n_pairs,
        n_groups: groups.len(),
    })
}

/// The least-squares slope of `y` against `x` (NaN with fewer than two distinct `x`).
pub fn slope(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return f64::NAN;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let sxx: f64 = x[..n].iter().map(|a| (a - mx).powi(2)).sum();
    if sxx == 0.0 {
        return f64::NAN;
    }
    let sxy: f64 = x[..n]
        .iter()
        .zip(&y[..n])
        .map(|(a, b)| (a - mx) * (b - my))
        .sum();
    sxy / sxx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd_by_hand() {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32, sd = sqrt(32 / 7).
        let m = mean_spread(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m.mean, 5.0);
        assert!((m.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(m.n, 8);
        let one = mean_spread(&[3.0, f64::NAN]);
        assert_eq!((one.mean, one.sd, one.n), (3.0, 0.0, 1));
        assert!(mean_spread(&[]).mean.is_nan());
    }

    #[test]
    fn relative_robustness_by_hand() {
        assert_eq!(relative_robustness(50.0, 40.0), 0.8);
        assert_eq!(relative_robustness(50.0, 50.0), 1.0);
        assert_eq!(relative_robustness(50.0, 0.0), 0.0);
        assert!(relative_robustness(0.0, 1.0).is_nan());
    }

    #[test]
    fn corruption_error_as_imagenet_c() {
        // Errors 10, 20, 30 against the reference's 20, 20, 20: 60 / 60 = 1.
        assert_eq!(
            corruption_error(&[10.0, 20.0, 30.0], &[20.0, 20.0, 20.0]).unwrap(),
            1.0
        );
        assert_eq!(corruption_error(&[5.0, 5.0], &[10.0, 10.0]).unwrap(), 0.5);
        assert!(corruption_error(&[1.0], &[1.0, 2.0]).is_err());
        assert!(corruption_error(&[1.0], &[0.0]).is_err());
        assert_eq!(mean_corruption_error(&[0.5, 1.0, 1.5]), 1.0);
        assert!(mean_corruption_error(&[]).is_nan());
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let s = [1.0, 2.0, 3.0, 4.0];
        // np.quantile([1,2,3,4], 0.25) = 1.75, 0.5 -> 2.5, 1.0 -> 4.
        assert_eq!(quantile_sorted(&s, 0.25), 1.75);
        assert_eq!(quantile_sorted(&s, 0.5), 2.5);
        assert_eq!(quantile_sorted(&s, 1.0), 4.0);
    }

    #[test]
    fn bootstrap_of_a_constant_difference() {
        let cfg = BootstrapConfig {
            resamples: 99,
            ..BootstrapConfig::default()
        };
        let b = paired_bootstrap(&[vec![1.0; 5], vec![1.0; 3]], &cfg).unwrap();
        assert_eq!((b.mean_diff, b.ci_low, b.ci_high), (1.0, 1.0, 1.0));
        // No resample is <= 0: p = 2 * (0 + 1) / 100.
        assert!((b.p_value - 0.02).abs() < 1e-12);
        assert_eq!((b.n_pairs, b.n_groups), (8, 2));
    }

    #[test]
    fn bootstrap_of_two_values_matches_its_distribution() {
        // One group {0, 2}: a resample's mean is 0, 1 or 2 with probability 1/4, 1/2, 1/4,
        // so P(d* <= 0) = 1/4 and the p-value is about 2 * 1/4 = 0.5.
        let cfg = BootstrapConfig {
            resamples: 4000,
            confidence: 0.5,
            seed: 7,
        };
        let b = paired_bootstrap(&[vec![0.0, 2.0]], &cfg).unwrap();
        assert_eq!(b.mean_diff, 1.0);
        assert!((b.p_value - 0.5).abs() < 0.05, "{}", b.p_value);
        // The 25% and 75% quantiles of {0: 1/4, 1: 1/2, 2: 1/4} are within [0, 1] and [1, 2].
        assert!(b.ci_low >= 0.0 && b.ci_low <= 1.0 && b.ci_high >= 1.0 && b.ci_high <= 2.0);
        // Same seed, same numbers.
        assert_eq!(paired_bootstrap(&[vec![0.0, 2.0]], &cfg).unwrap(), b);
    }

    #[test]
    fn bootstrap_resamples_seeds_too() {
        // Two seeds that disagree: +1 everywhere and -1 everywhere. Within-seed resampling
        // alone would give a zero-width interval; resampling seeds spans [-1, 1].
        let cfg = BootstrapConfig {
            resamples: 500,
            confidence: 0.9,
            seed: 1,
        };
        let b = paired_bootstrap(&[vec![1.0; 4], vec![-1.0; 4]], &cfg).unwrap();
        assert_eq!(b.mean_diff, 0.0);
        assert_eq!((b.ci_low, b.ci_high), (-1.0, 1.0));
        assert!(b.p_value > 0.5);
    }

    #[test]
    fn bootstrap_rejects_bad_input() {
        let cfg = BootstrapConfig::default();
        assert!(paired_bootstrap(&[], &cfg).is_err());
        assert!(paired_bootstrap(&[vec![]], &cfg).is_err());
        let e = paired_bootstrap(&[vec![1.0, f64::NAN]], &cfg).unwrap_err();
        assert!(e.to_string().contains("difference 1 of group 0"), "{e}");
    }

    #[test]
    fn slope_by_hand() {
        assert_eq!(slope(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]), 2.0);
        assert_eq!(slope(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), 0.0);
        assert!(slope(&[1.0], &[1.0]).is_nan());
        assert!(slope(&[2.0, 2.0], &[1.0, 3.0]).is_nan());
    }
}
