//! What a loader read and what it skipped.

use std::path::PathBuf;

use crate::DataError;

/// The outcome of a load: how many records were read and, with `skip_bad`, every record
/// that was skipped and why.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// The files read.
    pub files: Vec<PathBuf>,
    /// Records found.
    pub total: usize,
    /// Records turned into instances (or questions).
    pub loaded: usize,
    /// Records left out on purpose (e.g. Karpathy `restval` when it is not folded into train,
    /// or a split that was not asked for).
    pub excluded: usize,
    /// Records skipped because they were bad, with the reason.
    pub skipped: Vec<DataError>,
}

impl LoadReport {
    /// Whether no record was bad.
    pub fn is_clean(&self) -> bool {
        self.skipped.is_empty()
    }

    /// Adds another report (e.g. the VQA part of an export) to this one.
    pub fn merge(&mut self, other: LoadReport) {
        self.files.extend(other.files);
        self.total += other.total;
        self.loaded += other.loaded;
        self.excluded += other.excluded;
        self.skipped.extend(other.skipped);
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        write!(
            f,
            "{}: {} records, {} loaded, {} excluded, {} bad",
            files.join(" + "),
            self.total,
            self.loaded,
            self.excluded,
            self.skipped.len()
        )?;
        for e in &self.skipped {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

/// Records a bad record: with `skip_bad` it goes into the report, otherwise it is returned.
pub(crate) fn skip_or_fail(
    report: &mut LoadReport,
    skip_bad: bool,
    err: DataError,
) -> Result<(), DataError> {
    if skip_bad {
        report.skipped.push(err);
        Ok(())
    } else {
        Err(err)
    }
}
