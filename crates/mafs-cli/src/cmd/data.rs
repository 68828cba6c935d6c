//! `mafs data` (being written).

use std::process::ExitCode;

/// Arguments of `mafs data`.
#[derive(clap::Args, Debug)]
pub struct DataArgs {}

/// Runs `mafs data`.
pub fn run(_args: DataArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mafs data is not implemented yet")
}
