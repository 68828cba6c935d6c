//! Typed errors of checkpoint import. A mismatch between a checkpoint and the architecture its
//! config describes is reported in one error that lists every unknown, missing and mis-shaped
//! key by name, so a user fixes them all at once.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

use crate::error::EncoderError;

/// A checkpoint tensor whose shape differs from the one the architecture needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisShaped {
    /// The checkpoint key.
    pub key: String,
    /// The shape the architecture needs, in the checkpoint's layout.
    pub expected: Vec<usize>,
    /// The shape found in the checkpoint.
    pub found: Vec<usize>,
}

/// Every key that keeps a checkpoint from loading: keys the architecture does not have,
/// keys it needs that the checkpoint lacks, and keys of the wrong shape (all in the
/// checkpoint's naming).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyReport {
    /// Checkpoint keys that map to no parameter.
    pub unknown: Vec<String>,
    /// Keys the architecture needs that the checkpoint does not hold.
    pub missing: Vec<String>,
    /// Keys present with the wrong shape.
    pub mis_shaped: Vec<MisShaped>,
}

impl KeyReport {
    /// Whether nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.unknown.is_empty() && self.missing.is_empty() && self.mis_shaped.is_empty()
    }
}

impl fmt::Display for KeyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.missing.is_empty() {
            writeln!(f, "  missing keys ({}):", self.missing.len())?;
            for k in &self.missing {
                writeln!(f, "    {k}")?;
            }
        }
        if !self.unknown.is_empty() {
            writeln!(f, "  unknown keys ({}):", self.unknown.len())?;
            for k in &self.unknown {
                writeln!(f, "    {k}")?;
            }
        }
        if !self.mis_shaped.is_empty() {
            writeln!(f, "  mis-shaped keys ({}):", self.mis_shaped.len())?;
            for m in &self.mis_shaped {
                writeln!(
                    f,
                    "    {}: expected {:?}, found {:?}",
                    m.key, m.expected, m.found
                )?;
            }
        }
        Ok(())
    }
}

/// What can go wrong when importing a checkpoint.
#[derive(Debug, Error)]
pub enum ImportError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The checkpoint is not a readable safetensors file.
    #[error("{origin} is not a valid safetensors file: {message}")]
    Format {
        /// The checkpoint it came from.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A tensor has a dtype that cannot hold weights.
    #[error("{origin}: tensor `{key}` has dtype {dtype}; weights must be F16, BF16, F32 or F64")]
    Dtype {
        /// The checkpoint.
        origin: String,
        /// The key.
        key: String,
        /// The dtype found.
        dtype: String,
    },
    /// The model config is not one our towers can build.
    #[error(transparent)]
    Config(#[from] EncoderError),
    /// The checkpoint does not match the architecture.
    #[error("{origin} does not match the architecture of {config} (nothing was loaded):\n{report}")]
    Mismatch {
        /// The checkpoint.
        origin: String,
        /// The config that chose the architecture.
        config: String,
        /// Every offending key.
        report: KeyReport,
    },
    /// burn refused the converted tensors (a bug in the key mapping if it ever happens).
    #[error("{origin}: applying the converted tensors failed: {message}")]
    Apply {
        /// The checkpoint.
        origin: String,
        /// burn-store's report.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_lists_every_key() {
        let r = KeyReport {
            unknown: vec!["logit_bias".into()],
            missing: vec!["visual.proj".into()],
            mis_shaped: vec![MisShaped {
                key: "token_embedding.weight".into(),
                expected: vec![64, 32],
                found: vec![49408, 32],
            }],
        };
        assert!(!r.is_empty());
        let text = ImportError::Mismatch {
            origin: "a.safetensors".into(),
            config: "b.json".into(),
            report: r,
        }
        .to_string();
        for needle in [
            "a.safetensors",
            "b.json",
            "logit_bias",
            "visual.proj",
            "token_embedding.weight: expected [64, 32], found [49408, 32]",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
        assert!(KeyReport::default().is_empty());
    }
}
