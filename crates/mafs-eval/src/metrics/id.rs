//! Record ids of the COCO and VQA file formats, and JSON reading with file-naming errors.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::{MetricsError, Result};

/// An `image_id` or `question_id`: an integer in COCO and VQA v2, a string in some
/// datasets that reuse the formats. `42` and `"42"` are different ids, as in Python.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    /// A numeric id.
    Int(i64),
    /// A string id.
    Str(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Int(i) => write!(f, "{i}"),
            Id::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl Id {
    /// The id as a plain string (no quotes for string ids), e.g. for JSON object keys.
    pub fn key(&self) -> String {
        match self {
            Id::Int(i) => i.to_string(),
            Id::Str(s) => s.clone(),
        }
    }
}

impl From<i64> for Id {
    fn from(i: i64) -> Self {
        Id::Int(i)
    }
}

/// Reads and parses a JSON file, naming the file and the expected format on failure.
pub(crate) fn read_json(path: &Path, format: &'static str) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|source| MetricsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| MetricsError::Json {
        path: path.to_path_buf(),
        format,
        source,
    })
}

/// The records of an array in a parsed file: the top-level array (`field` `None`) or the
/// array under `field`. A bad record is reported by its index (`results[3]`).
pub(crate) fn records<T: DeserializeOwned>(
    path: &Path,
    value: &Value,
    field: Option<&str>,
    name: &str,
) -> Result<Vec<T>> {
    let arr = match field {
        None => value.as_array(),
        Some(f) => value.get(f).and_then(Value::as_array),
    };
    let what = field.unwrap_or(name);
    let arr = arr.ok_or_else(|| MetricsError::Record {
        path: path.to_path_buf(),
        record: what.to_string(),
        message: match field {
            None => "expected a JSON array of records".into(),
            Some(f) => format!("expected an object with an array \"{f}\""),
        },
    })?;
    arr.iter()
        .enumerate()
        .map(|(i, v)| {
            T::deserialize(v).map_err(|e| MetricsError::Record {
                path: path.to_path_buf(),
                record: format!("{what}[{i}]"),
                message: e.to_string(),
            })
        })
        .collect()
}
