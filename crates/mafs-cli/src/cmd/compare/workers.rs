//! `mafs compare --jobs N`: each fusion trained and evaluated by its own `mafs` process.
//!
//! A training run on the CPU keeps about one core busy, so fusions side by side finish in
//! about the time of one. They run as processes rather than threads because burn's
//! generators are per device and process-wide: two runs seeding and drawing from one device at
//! once would interleave their draws and the numbers would depend on thread timing. Each
//! worker is this same command line with `--only-fusion F --rows-out FILE` added; it writes its
//! rows there and the parent writes the report.

use std::path::Path;
use std::process::{Child, Command};

use anyhow::{Context, Result, bail};
use mafs_train::config::FusionKind;
use serde::de::DeserializeOwned;

/// Runs one worker per fusion, `jobs` at a time, and returns every row in the order of
/// `fusions`.
///
/// # Errors
///
/// When a worker cannot start, fails (its exit status is named), or leaves no readable rows.
pub fn rows<T: DeserializeOwned>(
    fusions: &[FusionKind],
    jobs: usize,
    out_dir: &Path,
) -> Result<Vec<T>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("creating the output folder {}", out_dir.display()))?;
    let exe = std::env::current_exe().context("finding the mafs executable for --jobs")?;
    let argv: Vec<_> = std::env::args_os().skip(1).collect();
    eprintln!(
        "[compare] training {} fusions, {} at a time, each in its own process",
        fusions.len(),
        jobs.max(1)
    );
    let mut all = Vec::new();
    for chunk in fusions.chunks(jobs.max(1)) {
        let mut children: Vec<(FusionKind, std::path::PathBuf, Child)> = Vec::new();
        for &fusion in chunk {
            let file = out_dir.join(format!(".compare-rows-{fusion}.json"));
            let _ = std::fs::remove_file(&file);
            let child = Command::new(&exe)
                .args(&argv)
                .arg("--only-fusion")
                .arg(fusion.to_string())
                .arg("--rows-out")
                .arg(&file)
                // bars of several processes would overwrite each other's lines
                .env("MAFS_PROGRESS", "lines")
                .spawn()
                .with_context(|| format!("starting the worker of {fusion}"))?;
            children.push((fusion, file, child));
        }
        let mut failed = Vec::new();
        for (fusion, file, mut child) in children {
            let status = child
                .wait()
                .with_context(|| format!("waiting for the worker of {fusion}"))?;
            if !status.success() {
                failed.push(format!("{fusion} ({status})"));
                continue;
            }
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading the rows of {fusion} from {}", file.display()))?;
            // mafs_core::json keeps non-finite numbers (a NaN metric stays NaN)
            let rows: Vec<T> = mafs_core::json::from_str(&text)
                .with_context(|| format!("parsing the rows of {fusion} in {}", file.display()))?;
            let _ = std::fs::remove_file(&file);
            all.extend(rows);
        }
        if !failed.is_empty() {
            bail!(
                "mafs compare: the worker of {} failed (its messages are above)",
                failed.join(", ")
            );
        }
    }
    Ok(all)
}
