//! Typed errors for encoder presets.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong when choosing or reading an encoder preset.
#[derive(Debug, Error)]
pub enum EncoderError {
    /// The preset name is not one of the built-in presets.
    #[error(
        "unknown encoder preset `{name}`; known presets: {known:?} (or give a path to a JSON file)"
    )]
    UnknownPreset {
        /// The name asked for.
        name: String,
        /// The built-in names.
        known: Vec<String>,
    },
    /// The preset file could not be read.
    #[error("cannot read encoder preset file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The preset JSON does not have the expected structure.
    #[error("encoder preset `{origin}` is not a valid preset: {message}")]
    Parse {
        /// The preset name or file it came from.
        origin: String,
        /// What was wrong (serde's message names the field).
        message: String,
    },
    /// The preset parses but describes an impossible architecture.
    #[error("encoder preset `{origin}`: {message}")]
    Invalid {
        /// The preset name or file it came from.
        origin: String,
        /// What is inconsistent.
        message: String,
    },
}
