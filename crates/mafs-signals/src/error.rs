//! Typed errors for signal configuration.

use thiserror::Error;

/// Errors raised while building signals from a configuration.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SignalError {
    /// A signal that reads the prototypes was requested without a prototype module.
    #[error("signal `{signal}` needs a PrototypeEntropy module, but none was given")]
    MissingPrototypes {
        /// The signal that needs them.
        signal: String,
    },
    /// A confidence signal was requested without the confidence networks (or
    /// `confidence_clean` without their clean head).
    #[error(
        "signal `{signal}` needs LearnedConfidence networks (with the clean head for confidence_clean), but none were given"
    )]
    MissingConfidence {
        /// The signal that needs them.
        signal: String,
    },
    /// The same signal was requested twice (names must be unique in a SignalSet).
    #[error("signal `{signal}` is listed twice; signal names must be unique")]
    Duplicate {
        /// The repeated name.
        signal: String,
    },
    /// No signal was requested.
    #[error("a signal stack needs at least one signal")]
    Empty,
}
