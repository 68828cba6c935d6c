//! Typed errors of mafs-data. Every variant names the file, the record and what was expected.

use thiserror::Error;

/// Errors raised while reading, checking or generating data.
#[derive(Debug, Error)]
pub enum DataError {
    /// A split name that is not `train`, `val`, `test` or `shift` (Karpathy's `restval` is
    /// accepted by the Karpathy loader).
    #[error("{context}: unknown split `{split}` (expected train, val, test or shift)")]
    UnknownSplit {
        /// The split found.
        split: String,
        /// Where it was found (file and record).
        context: String,
    },
}
