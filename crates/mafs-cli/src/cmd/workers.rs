//! Worker processes: this same `mafs` command line, with a few arguments added, run side by
//! side (`mafs compare --jobs`, `mafs robustness --jobs`).
//!
//! A training run on the CPU keeps about one core busy, so runs side by side finish in about
//! the time of one. They run as processes rather than threads because burn's generators are
//! per device and process-wide: two runs seeding and drawing from one device at once would
//! interleave their draws, and the numbers would depend on thread timing. In a process of its
//! own each run gives the numbers it gives alone.

use std::ffi::OsString;
use std::process::{Child, Command};

use anyhow::{Context, Result, bail};

/// A started worker.
pub struct Worker {
    name: String,
    child: Child,
}

/// Starts this process's command line again with `extra` arguments appended; its progress is
/// printed as lines (bars of several processes would overwrite each other).
///
/// # Errors
///
/// When the executable cannot be found or started.
pub fn spawn(name: &str, extra: &[OsString]) -> Result<Worker> {
    let exe = std::env::current_exe().context("finding the mafs executable for --jobs")?;
    let child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .args(extra)
        .env("MAFS_PROGRESS", "lines")
        .spawn()
        .with_context(|| format!("starting the worker of {name}"))?;
    Ok(Worker {
        name: name.to_string(),
        child,
    })
}

/// Waits for every worker.
///
/// # Errors
///
/// When one failed: the error names each failed worker and its exit status (their own
/// messages are already on stderr).
pub fn wait_all(workers: Vec<Worker>) -> Result<()> {
    let mut failed = Vec::new();
    for mut w in workers {
        let status = w
            .child
            .wait()
            .with_context(|| format!("waiting for the worker of {}", w.name))?;
        if !status.success() {
            failed.push(format!("{} ({status})", w.name));
        }
    }
    if !failed.is_empty() {
        bail!(
            "the worker of {} failed (its messages are above)",
            failed.join(", ")
        );
    }
    Ok(())
}

/// The number of jobs: `requested`, else the number of cores, at most `tasks` and at least 1.
pub fn jobs(requested: Option<usize>, tasks: usize) -> usize {
    requested
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, tasks.max(1))
}
