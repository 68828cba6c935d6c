//! Typed errors for scheduler configuration and explanation requests.

use thiserror::Error;

/// Errors a user can cause through configuration or arguments.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SchedulerError {
    /// A temperature schedule parameter is out of range.
    #[error("temperature schedule: {what} must be positive and finite, got {value}")]
    Temperature {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// An instance index beyond the batch.
    #[error("explain: instance {instance} is out of range for a batch of {batch}")]
    InstanceOutOfRange {
        /// The index asked for.
        instance: usize,
        /// The batch size.
        batch: usize,
    },
    /// A list of modality names that does not match the weights.
    #[error("explain: {got} modality names for {expected} modalities")]
    ModalityNames {
        /// Modalities in the weights.
        expected: usize,
        /// Names given.
        got: usize,
    },
    /// A scheduler configuration that cannot be built.
    #[error("scheduler configuration: {0}")]
    Config(String),
    /// An unknown weighting name.
    #[error(
        "unknown fusion weighting `{name}`; known: fixed, ma-afs-mlp, ma-afs-monotone, qmf, pdf, dynmm"
    )]
    UnknownWeighting {
        /// The name given.
        name: String,
    },
}
