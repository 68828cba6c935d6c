//! Typed errors for mistakes a user can make at run time (task names, generation settings).
//! Shape errors panic, as burn's `check.rs` argues.

use thiserror::Error;

/// Errors raised by the task heads.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum HeadsError {
    /// A task name was not one of the known tasks.
    #[error("unknown task `{name}`; expected one of: {known}")]
    UnknownTask {
        /// The name given.
        name: String,
        /// The accepted names, comma separated.
        known: String,
    },
    /// A generation or head setting was out of range.
    #[error("invalid setting `{field}` = {value}: {expected}")]
    InvalidSetting {
        /// The config field.
        field: &'static str,
        /// The value given, printed.
        value: String,
        /// What was expected.
        expected: String,
    },
}
