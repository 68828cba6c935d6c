//! Typed errors of the metrics: every one names the file and record it is about.

use std::path::PathBuf;

/// What can go wrong when computing metrics from files or data.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// A file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON, or not of the expected layout.
    #[error("{path} is not a valid {format} file")]
    Json {
        /// The file.
        path: PathBuf,
        /// The format that was expected (e.g. "COCO caption results").
        format: &'static str,
        /// serde_json's message, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A record of a file is not what the format expects.
    #[error("{path}: {record}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Which record (e.g. "results[3] (image_id 42)").
        record: String,
        /// What was expected.
        message: String,
    },
    /// Results are missing for items the annotations contain.
    #[error(
        "{path}: no result for {count} of the {total} annotated {what} (first: {first}); the reference evaluation needs one result for each"
    )]
    MissingResults {
        /// The results file.
        path: PathBuf,
        /// "images" or "questions".
        what: &'static str,
        /// How many are missing.
        count: usize,
        /// How many are annotated.
        total: usize,
        /// The first few missing ids.
        first: String,
    },
    /// Data passed to a metric function is inconsistent (lengths, empty reference lists,
    /// non-finite scores).
    #[error("invalid metric input: {0}")]
    InvalidInput(String),
}

/// Result alias of this crate's metrics.
pub type Result<T> = std::result::Result<T, MetricsError>;
