//! Running cargo and the `mafs` binary from xtask tasks.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result};

/// `cargo`, the one that runs this xtask (`$CARGO`) when there is one.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
}

/// Runs `mafs <args>` through cargo (dev profile: optimised dependencies, shared build).
pub fn mafs(args: &[String]) -> Result<ExitCode> {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--quiet",
        "--package",
        "mafs-cli",
        "--bin",
        "mafs",
        "--",
    ]);
    cmd.args(args);
    run(cmd)
}

/// Runs a command to completion and turns its status into an exit code.
pub fn run(mut cmd: Command) -> Result<ExitCode> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(status.code().unwrap_or(1).clamp(1, 255) as u8)
    })
}
