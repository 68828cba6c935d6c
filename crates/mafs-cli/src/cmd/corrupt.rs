//! `mafs corrupt` (being written).

use std::process::ExitCode;

/// Arguments of `mafs corrupt`.
#[derive(clap::Args, Debug)]
pub struct CorruptArgs {}

/// Runs `mafs corrupt`.
pub fn run(_args: CorruptArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("mafs corrupt is not implemented yet")
}
