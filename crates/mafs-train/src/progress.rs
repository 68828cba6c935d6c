//! Progress of long jobs on stderr: a redrawn bar with rate and ETA (indicatif) when stderr
//! is a terminal, periodic lines (`label done/total | extra | rate | elapsed | ETA`)
//! otherwise, so logs and CI output stay readable.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Reports `done` of `total` units: a bar on a terminal, otherwise a line at most every
/// `every` of wall time (and on the last unit).
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: usize,
    unit: &'static str,
    start: Instant,
    last: Option<Instant>,
    every: Duration,
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress reporter for `total` steps of `unit` (e.g. "samples"): a bar when stderr
    /// is a terminal (and `MAFS_PROGRESS` is not `lines`), lines otherwise.
    pub fn new(label: impl Into<String>, total: usize, unit: &'static str) -> Self {
        let label = label.into();
        let lines = std::env::var("MAFS_PROGRESS").is_ok_and(|v| v == "lines");
        let bar = (std::io::stderr().is_terminal() && !lines).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(total as u64),
                ProgressDrawTarget::stderr_with_hz(4),
            );
            let style = ProgressStyle::with_template(&format!(
                "{{prefix}} {{bar:30.cyan/blue}} {{pos}}/{{len}} {unit} | {{msg}} | {{per_sec}} | {{elapsed_precise}} ETA {{eta}}"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("[{label}]"));
            bar
        });
        Self {
            label,
            total,
            unit,
            start: Instant::now(),
            last: None,
            every: Duration::from_secs(5),
            quiet: false,
            bar,
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
        if quiet && let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        self
    }

    /// Whether this reporter draws a bar (stderr is a terminal).
    pub fn is_bar(&self) -> bool {
        self.bar.is_some()
    }

    /// Prints a line without breaking the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Reports that `done` of `total` units are finished; `extra` is appended (e.g. the loss).
    pub fn update(&mut self, done: usize, extra: &str) {
        if self.quiet {
            return;
        }
        if let Some(b) = &self.bar {
            b.set_position(done as u64);
            b.set_message(extra.to_string());
            if done >= self.total {
                b.finish();
            }
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

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = self.bar.take()
            && !b.is_finished()
        {
            b.abandon();
        }
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
