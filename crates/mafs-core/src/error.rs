//! Typed errors for configuration mistakes detected by core helpers.

use thiserror::Error;

/// Errors raised by mafs-core helpers. Shape and programming errors panic (as burn's own
/// `check.rs` argues); this type covers inputs a user can get wrong at run time.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// A slice of per-modality values did not have one entry per modality.
    #[error("expected {expected} modalities, got {got} ({what})")]
    ModalityCount {
        /// How many modalities were expected.
        expected: usize,
        /// How many were given.
        got: usize,
        /// Which argument was wrong.
        what: String,
    },
    /// A modality name was not known.
    #[error("unknown modality `{name}`; known: {known:?}")]
    UnknownModality {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },
}
