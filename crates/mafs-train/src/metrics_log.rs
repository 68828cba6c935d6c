//! Training metrics as JSON Lines beside `metrics.json`, the log every plotting tool reads
//! (pandas `read_json(lines=True)`, jq, W&B/MLflow importers):
//!
//! - `steps.jsonl`: one line per optimisation step: `step`, `epoch`, every loss term,
//!   `lr`, `tau`, the batch's `mean_weights` per modality, `samples_per_second` and
//!   `elapsed_seconds` since this process started;
//! - `epochs.jsonl`: one line per epoch, the same record as `metrics.json` holds.
//!
//! A resumed run first drops the lines past its checkpoint (those steps are redone), so the
//! files hold each step once. No TensorBoard event files: no kept pure-Rust crate writes
//! them (the candidates pull protobuf code generation or are unmaintained); JSONL is read by
//! the same tools.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::eval::EvalReport;
use crate::model::LossParts;
use crate::schedcheck::SchedulerCheck;

/// File name of the per-step log.
pub const STEPS_FILE: &str = "steps.jsonl";
/// File name of the per-epoch log.
pub const EPOCHS_FILE: &str = "epochs.jsonl";

/// One epoch's record in `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Steps done at its end.
    pub step: usize,
    /// Mean loss terms over the epoch.
    pub loss: LossParts,
    /// Mean fusion weight per modality over the epoch (training batches).
    pub mean_weights: Vec<f64>,
    /// Validation report.
    pub validation: Option<EvalReport>,
    /// What a fixed corrupted copy of the validation split did to the weights (adaptive
    /// fusions with corruption-aware training).
    #[serde(default)]
    pub scheduler_check: Option<SchedulerCheck>,
    /// Training throughput, samples per second.
    pub samples_per_second: f64,
}

/// One line of `steps.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord<'a> {
    /// Steps done after this one (1-based).
    pub step: usize,
    /// Epoch (1-based).
    pub epoch: usize,
    /// Loss terms.
    #[serde(flatten)]
    pub loss: &'a LossParts,
    /// Learning rate used.
    pub lr: f64,
    /// Scheduler temperature used.
    pub tau: f64,
    /// Mean fusion weight per modality over the batch.
    pub mean_weights: &'a [f64],
}

/// The open logs of a run.
#[derive(Debug)]
pub struct MetricsLog {
    steps: File,
    epochs: File,
    started: Instant,
    last: Instant,
    batch_size: usize,
}

fn io(path: &Path, e: std::io::Error) -> TrainError {
    TrainError::io(path, e)
}

/// Keeps the lines of `path` whose `key` is at most `keep` (a resumed run's checkpoint).
fn truncate_after(path: &Path, key: &str, keep: usize) -> Result<(), TrainError> {
    let Ok(f) = File::open(path) else {
        return Ok(());
    };
    let kept: Vec<String> = BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get(key).and_then(serde_json::Value::as_u64))
                .is_some_and(|s| s as usize <= keep)
        })
        .collect();
    let mut text = kept.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    mafs_eval::atomic::write_atomic(path, text.as_bytes()).map_err(|e| io(path, e))
}

impl MetricsLog {
    /// Opens the logs in `dir`: new files for a new run; for a resumed run at `step` and
    /// `epoch` (done), the lines up to them kept and the rest dropped.
    pub fn open(
        dir: &Path,
        resumed: Option<(usize, usize)>,
        batch_size: usize,
    ) -> Result<Self, TrainError> {
        let steps_path: PathBuf = dir.join(STEPS_FILE);
        let epochs_path: PathBuf = dir.join(EPOCHS_FILE);
        match resumed {
            Some((step, epoch)) => {
                truncate_after(&steps_path, "step", step)?;
                truncate_after(&epochs_path, "epoch", epoch)?;
            }
            None => {
                for p in [&steps_path, &epochs_path] {
                    File::create(p).map_err(|e| io(p, e))?;
                }
            }
        }
        let append = |p: &Path| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| io(p, e))
        };
        let now = Instant::now();
        Ok(Self {
            steps: append(&steps_path)?,
            epochs: append(&epochs_path)?,
            started: now,
            last: now,
            batch_size,
        })
    }

    /// Appends one step.
    pub fn step(&mut self, record: &StepRecord<'_>) -> Result<(), TrainError> {
        let now = Instant::now();
        let dt = (now - self.last).as_secs_f64().max(1e-9);
        self.last = now;
        let mut v = serde_json::to_value(record).map_err(|e| TrainError::Data(e.to_string()))?;
        v["samples_per_second"] = (self.batch_size as f64 / dt).into();
        v["elapsed_seconds"] = (now - self.started).as_secs_f64().into();
        writeln!(self.steps, "{v}").map_err(|e| io(Path::new(STEPS_FILE), e))
    }

    /// Appends one epoch and flushes both files to disk.
    pub fn epoch(&mut self, record: &EpochRecord) -> Result<(), TrainError> {
        let line = serde_json::to_string(record).map_err(|e| TrainError::Data(e.to_string()))?;
        writeln!(self.epochs, "{line}").map_err(|e| io(Path::new(EPOCHS_FILE), e))?;
        for f in [&self.steps, &self.epochs] {
            f.sync_data().map_err(|e| io(Path::new(STEPS_FILE), e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_drops_the_lines_past_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let parts = LossParts::default();
        let mut log = MetricsLog::open(dir.path(), None, 4).unwrap();
        for step in 1..=5 {
            log.step(&StepRecord {
                step,
                epoch: 1,
                loss: &parts,
                lr: 1e-3,
                tau: 1.0,
                mean_weights: &[0.5, 0.5],
            })
            .unwrap();
        }
        drop(log);
        let mut log = MetricsLog::open(dir.path(), Some((3, 0)), 4).unwrap();
        log.step(&StepRecord {
            step: 4,
            epoch: 1,
            loss: &parts,
            lr: 1e-3,
            tau: 1.0,
            mean_weights: &[0.5, 0.5],
        })
        .unwrap();
        let text = std::fs::read_to_string(dir.path().join(STEPS_FILE)).unwrap();
        let steps: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(steps, [1, 2, 3, 4]);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        for key in [
            "total",
            "task",
            "lr",
            "tau",
            "mean_weights",
            "samples_per_second",
        ] {
            assert!(first.get(key).is_some(), "{key} missing in {first}");
        }
    }
}
