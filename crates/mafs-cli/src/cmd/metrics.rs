//! `mafs metrics` (being written).

use std::process::ExitCode;

/// Arguments of `mafs metrics`.
#[derive(clap::Args, Debug)]
pub struct MetricsArgs {}

/// Runs `mafs metrics`.
pub fn run(_args: MetricsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mafs metrics is not implemented yet")
}
