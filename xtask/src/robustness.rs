//! `cargo xtask robustness [ARGS]`: the robustness benchmark, `mafs robustness ARGS` (see
//! `mafs robustness --help` and docs/robustness.md). With no arguments it runs the default
//! sweep (retrieval, four fusions, three seeds, the training defaults, the cells shared by one
//! worker process per core; docs/results.md gives its measured time) into
//! `reports/robustness`; a second call resumes it, skipping finished cells.

use std::process::ExitCode;

use anyhow::Result;

use crate::exec::mafs;

/// Runs the sweep through the `mafs` binary.
pub fn run(args: Vec<String>) -> Result<ExitCode> {
    let mut full = vec!["robustness".to_string()];
    full.extend(args);
    mafs(&full)
}
