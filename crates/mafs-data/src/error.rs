//! Typed errors of mafs-data. Every variant names the file, the record and what was expected.

use std::path::PathBuf;

use thiserror::Error;

/// Where a bad record sits: its file, its position in the file's record list and, when it
/// could be read, its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRef {
    /// The JSON file the record comes from.
    pub file: PathBuf,
    /// Position of the record in its list (`images[i]`, `questions[i]`, `annotations[i]`).
    pub index: usize,
    /// The record's id (`imgid`, `question_id`...) where it could be read.
    pub id: Option<u64>,
}

impl RecordRef {
    /// A record reference.
    pub fn new(file: impl Into<PathBuf>, index: usize, id: Option<u64>) -> Self {
        Self {
            file: file.into(),
            index,
            id,
        }
    }
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: record {}", self.file.display(), self.index)?;
        if let Some(id) = self.id {
            write!(f, " (id {id})")?;
        }
        Ok(())
    }
}

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
    /// A file could not be read or written.
    #[error("{}: {action} failed: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done (`read`, `write`, `create directory`).
        action: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A JSON file is not valid JSON or does not have the expected structure; `truncated` is
    /// true when the file ends early.
    #[error(
        "{}:{line}:{column}: {} JSON, expected {expected}: {message}",
        path.display(),
        if *truncated { "truncated" } else { "malformed" }
    )]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error (serde_json's).
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The file ended before the JSON value did.
        truncated: bool,
        /// What the file should contain.
        expected: &'static str,
        /// serde_json's message.
        message: String,
    },
    /// One record does not have the expected fields or types.
    #[error("{record}: expected {expected}: {message}")]
    BadRecord {
        /// The record.
        record: RecordRef,
        /// What the record should look like.
        expected: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A record names an image file that does not exist.
    #[error("{record}: image {} not found (expected a JPEG or PNG file)", image.display())]
    MissingImage {
        /// The record.
        record: RecordRef,
        /// The image path looked for.
        image: PathBuf,
    },
    /// An image file exists but cannot be decoded.
    #[error("{record}: image {} cannot be decoded as JPEG or PNG: {reason}", image.display())]
    BadImage {
        /// The record.
        record: RecordRef,
        /// The image path.
        image: PathBuf,
        /// The decoder's message.
        reason: String,
    },
    /// A caption is empty (no `raw` text and no tokens).
    #[error("{record}: sentence {sentence} is empty (expected a non-empty `raw` caption)")]
    EmptyCaption {
        /// The record.
        record: RecordRef,
        /// Position of the sentence in `sentences`.
        sentence: usize,
    },
    /// A Karpathy record has no sentences.
    #[error("{record}: no sentences (expected at least one caption)")]
    NoCaptions {
        /// The record.
        record: RecordRef,
    },
    /// A VQA question has no annotation in the annotations file.
    #[error(
        "{record}: question {question_id} (image {image_id}) has no annotation in {}",
        annotations.display()
    )]
    QuestionWithoutAnnotation {
        /// The question record.
        record: RecordRef,
        /// Its `question_id`.
        question_id: u64,
        /// Its `image_id`.
        image_id: u64,
        /// The annotations file searched.
        annotations: PathBuf,
    },
    /// A VQA annotation has no question in the questions file.
    #[error(
        "{record}: annotation of question {question_id} has no question in {}",
        questions.display()
    )]
    AnnotationWithoutQuestion {
        /// The annotation record.
        record: RecordRef,
        /// Its `question_id`.
        question_id: u64,
        /// The questions file searched.
        questions: PathBuf,
    },
    /// A question and its annotation disagree on the image.
    #[error(
        "{record}: annotation of question {question_id} is for image {annotation_image}, the question for image {question_image}"
    )]
    AnnotationMismatch {
        /// The annotation record.
        record: RecordRef,
        /// The question id.
        question_id: u64,
        /// `image_id` in the question.
        question_image: u64,
        /// `image_id` in the annotation.
        annotation_image: u64,
    },
    /// An annotation has no human answers.
    #[error("{record}: no answers (expected VQA v2's 10 human answers)")]
    NoAnswers {
        /// The annotation record.
        record: RecordRef,
    },
    /// Two records share an id that must be unique.
    #[error("{record}: duplicate {what} {id} (first seen in record {first})")]
    DuplicateId {
        /// The second record.
        record: RecordRef,
        /// What kind of id (`imgid`, `question_id`).
        what: &'static str,
        /// The id.
        id: u64,
        /// Index of the first record with this id.
        first: usize,
    },
    /// A record names a file outside the images folder (`..`, an absolute path, a symlink
    /// out of it): refused by name, never read.
    #[error(
        "{record}: refusing file name `{name}`: {reason} (every file a dataset names must stay inside {})",
        root.display()
    )]
    UnsafePath {
        /// The record.
        record: RecordRef,
        /// The name as the dataset gives it.
        name: String,
        /// The images folder.
        root: PathBuf,
        /// What is wrong with it.
        reason: crate::paths::PathViolation,
    },
    /// An input asks for more than a limit of `mafs_core::limits` allows.
    #[error("{context}: {what} {value} exceeds the limit of {limit} (raise it with {flag})")]
    LimitExceeded {
        /// The file, record or field.
        context: String,
        /// What was measured (`image width`, `image pixels`, `vocabulary size`...).
        what: &'static str,
        /// The value found.
        value: u64,
        /// The limit.
        limit: u64,
        /// The flag (and environment variable) that raises it.
        flag: &'static str,
    },
    /// An image could not be encoded or written.
    #[error("{}: cannot write image: {reason}", path.display())]
    ImageWrite {
        /// The image path.
        path: PathBuf,
        /// The encoder's message.
        reason: String,
    },
    /// A configuration field is out of range.
    #[error("invalid configuration: `{field}` = {found}, expected {expected}")]
    InvalidConfig {
        /// The field.
        field: String,
        /// The accepted range.
        expected: String,
        /// The value found.
        found: String,
    },
    /// A container file (a WebDataset `.tar` shard, a parquet table) is not what it should
    /// be: unreadable, truncated, or without the expected columns.
    #[error("{}: {format}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// The format expected (`WebDataset tar shard`, `parquet table`).
        format: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A path named by a dataset leaves the folder it must stay in.
    #[error("{record}: image path `{path}` leaves the images folder {} (expected a relative path without `..`)", root.display())]
    PathEscapes {
        /// The record naming it.
        record: RecordRef,
        /// The path as written in the dataset.
        path: String,
        /// The folder it must stay inside.
        root: PathBuf,
    },
    /// A tokenizer file could not be built, read or used.
    #[error("{}: tokenizer: {message}", path.display())]
    Tokenizer {
        /// The tokenizer file (or `<memory>`).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl DataError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            action,
            source,
        }
    }

    /// A JSON error of serde_json on `path`, with its line and column.
    pub fn json(path: impl Into<PathBuf>, expected: &'static str, err: &serde_json::Error) -> Self {
        DataError::Json {
            path: path.into(),
            line: err.line(),
            column: err.column(),
            truncated: err.is_eof(),
            expected,
            message: err.to_string(),
        }
    }

    /// The record the error is about, when it is about one.
    pub fn record(&self) -> Option<&RecordRef> {
        match self {
            DataError::BadRecord { record, .. }
            | DataError::MissingImage { record, .. }
            | DataError::BadImage { record, .. }
            | DataError::UnsafePath { record, .. }
            | DataError::EmptyCaption { record, .. }
            | DataError::NoCaptions { record }
            | DataError::QuestionWithoutAnnotation { record, .. }
            | DataError::AnnotationWithoutQuestion { record, .. }
            | DataError::AnnotationMismatch { record, .. }
            | DataError::NoAnswers { record }
            | DataError::DuplicateId { record, .. }
            | DataError::PathEscapes { record, .. } => Some(record),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_carry_line_column_and_truncation() {
        let err = serde_json::from_str::<serde_json::Value>("{\"a\": [1,\n 2").unwrap_err();
        let e = DataError::json("x.json", "an object", &err);
        let msg = e.to_string();
        assert!(msg.starts_with("x.json:2:"), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        let err = serde_json::from_str::<serde_json::Value>("{\"a\": ]").unwrap_err();
        let msg = DataError::json("y.json", "an object", &err).to_string();
        assert!(
            msg.contains("malformed") && msg.contains("y.json:1:"),
            "{msg}"
        );
    }

    #[test]
    fn record_refs_name_file_index_and_id() {
        let r = RecordRef::new("k.json", 3, Some(42));
        assert_eq!(r.to_string(), "k.json: record 3 (id 42)");
        let e = DataError::NoCaptions { record: r.clone() };
        assert_eq!(e.record(), Some(&r));
    }
}
