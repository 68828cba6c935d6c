//! Progress lines for long jobs: periodic, with rate and ETA, on stderr.

use std::time::{Duration, Instant};

/// Prints `label step/total loss rate ETA` at most every `every` of wall time (and on the
/// last step). Lines, not a redrawn bar, so logs and CI output stay readable.
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: usize,
    unit: &'static str,
    start: Instant,
    last: Option<Instant>,
    every: Duration,
    quiet: bool,
}

impl Progress {
    /// A progress reporter for `total` steps of `unit` (e.g. "samples").
    pub fn new(label: impl Into<String>, total: usize, unit: &'static str) -> Self {
        Self {
            label: label.into(),
            total,
            unit,
            start: Instant::now(),
            last: None,
            every: Duration::from_secs(5),
            quiet: false,
        }
    }

    /// Sets the minimum interval between lines.
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// Silences output (tests).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Reports that `done` of `total` units are finished; `extra` is appended (e.g. the loss).
    pub fn update(&mut self, done: usize, extra: &str) {
        if self.quiet {
            return;
        }
        let now = Instant::now();
        let due = self.last.is_none_or(|t| now - t >= self.every);
        if !due && done < self.total {
            return;
        }
        self.last = Some(now);
        let elapsed = (now - self.start).as_secs_f64().max(1e-9);
        let rate = done as f64 / elapsed;
        let eta = if rate > 0.0 {
            (self.total.saturating_sub(done)) as f64 / rate
        } else {
            f64::INFINITY
        };
        eprintln!(
            "[{}] {done}/{} {} | {extra} | {rate:.1} {}/s | elapsed {} | ETA {}",
            self.label,
            self.total,
            self.unit,
            self.unit,
            fmt_secs(elapsed),
            fmt_secs(eta)
        );
    }
}

/// Formats seconds as `1h02m03s`, `2m03s` or `3.4s`.
pub fn fmt_secs(s: f64) -> String {
    if !s.is_finite() {
        return "?".to_string();
    }
    let total = s.round() as u64;
    let (h, m, sec) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}h{m:02}m{sec:02}s")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{s:.1}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations() {
        assert_eq!(fmt_secs(3.44), "3.4s");
        assert_eq!(fmt_secs(123.0), "2m03s");
        assert_eq!(fmt_secs(3723.0), "1h02m03s");
        assert_eq!(fmt_secs(f64::INFINITY), "?");
    }
}
