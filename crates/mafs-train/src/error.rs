//! Typed errors of mafs-train; each names the file or the step it concerns.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Errors raised while training, checkpointing or resuming.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file is malformed or has the wrong fields.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause, with line and column.
        source: serde_json::Error,
    },
    /// burn could not save or load a record.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// burn's message.
        message: String,
    },
    /// A checkpoint exists but cannot be used.
    #[error("{path}: broken checkpoint: {reason}")]
    BrokenCheckpoint {
        /// The checkpoint file or directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A directory that should be a run is not one.
    #[error("{path}: not a mafs run directory (no config.json)")]
    NotARun {
        /// The directory.
        path: PathBuf,
    },
    /// The loss became NaN or infinite; the last good checkpoint is kept.
    #[error(
        "training diverged at step {step} (epoch {epoch}): loss is {loss}; the last good checkpoint is {last_good}"
    )]
    NonFiniteLoss {
        /// Step at which the loss was not finite.
        step: usize,
        /// Epoch of that step.
        epoch: usize,
        /// The loss value.
        loss: f64,
        /// Which checkpoint survives.
        last_good: String,
    },
    /// A checkpoint save found NaN or infinite weights: nothing is saved and the pointer stays
    /// on the last good checkpoint.
    #[error(
        "step {step}: the weights are not finite ({reason}); not saved, the last good checkpoint is {last_good}"
    )]
    NonFiniteWeights {
        /// Step of the refused save.
        step: usize,
        /// Which tensor.
        reason: String,
        /// Which checkpoint survives.
        last_good: String,
    },
    /// A run configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The data could not be prepared.
    #[error("data: {0}")]
    Data(String),
}

impl TrainError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
