//! Typed errors of the corruption suite. Each names the spec, file or argument at fault and
//! what was expected.

use std::path::PathBuf;

use thiserror::Error;

/// Errors from parsing corruption specs, reading synonym files and configuring augmentation.
#[derive(Debug, Error)]
pub enum CorruptError {
    /// The spec string had no items.
    #[error(
        "empty corruption spec: expected items like `image:gaussian_noise:3`, comma separated, or `all`"
    )]
    EmptySpec,
    /// An item was not `modality:name[:severity]`.
    #[error(
        "malformed corruption `{item}` in spec `{spec}`: expected `modality:name[:severity]` (e.g. `image:fog:2`, `text:keyboard:1-5`) or `all`"
    )]
    Malformed {
        /// The whole spec.
        spec: String,
        /// The item at fault.
        item: String,
    },
    /// The modality prefix is not known.
    #[error(
        "unknown modality `{modality}` in `{item}` (spec `{spec}`): expected one of image, text (alias side: the side text), caption, question, pair, or `all`"
    )]
    UnknownModality {
        /// The whole spec.
        spec: String,
        /// The item at fault.
        item: String,
        /// The prefix found.
        modality: String,
    },
    /// The corruption name is not known for its modality.
    #[error(
        "unknown {modality} corruption `{name}` in spec `{spec}`; valid {modality} corruptions: {valid}"
    )]
    UnknownCorruption {
        /// The whole spec.
        spec: String,
        /// The modality prefix.
        modality: String,
        /// The name found.
        name: String,
        /// Comma-separated valid names.
        valid: String,
    },
    /// A severity that is not 1–5 or a range within it.
    #[error(
        "bad severity `{severity}` in `{item}` (spec `{spec}`): expected an integer 1-5 or a range like `2-4`"
    )]
    BadSeverity {
        /// The whole spec.
        spec: String,
        /// The item at fault.
        item: String,
        /// The severity text found.
        severity: String,
    },
    /// A corruption that makes no sense on its target (e.g. `caption:missing`).
    #[error("`{item}` is not supported: {reason}")]
    Unsupported {
        /// The item at fault.
        item: String,
        /// Why.
        reason: String,
    },
    /// A line of a synonym file that is not a comma-separated group of two or more entries.
    #[error("{path}:{line}: {message}")]
    SynonymFile {
        /// File (or `builtin`).
        path: String,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An augmenter configuration that cannot work.
    #[error("corruption augmenter: {0}")]
    Augmenter(String),
}
