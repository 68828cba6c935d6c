//! Running cargo and the `mafs` binary from xtask tasks.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// `cargo`, the one that runs this xtask (`$CARGO`) when there is one.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
}

/// Builds the `mafs` binary (dev profile: optimised dependencies, the build the tests
/// share) with cargo's own progress visible, so that the first build of a fresh clone is
/// seen compiling from its first second, and returns the binary's path.
pub fn build_mafs() -> Result<PathBuf> {
    eprintln!(
        "[xtask] building the mafs binary (cargo build -p mafs-cli). The first build of a fresh \
         clone compiles burn and ~450 crates: about 20 minutes on 2 cores; later builds take \
         seconds. Progress follows."
    );
    let start = Instant::now();
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--package",
        "mafs-cli",
        "--bin",
        "mafs",
        "--message-format=json-render-diagnostics",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {cmd:?}"))?;
    let mut exe = None;
    let out = child.stdout.take().context("cargo's stdout")?;
    for line in BufReader::new(out).lines() {
        let line = line.context("reading cargo's output")?;
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if msg["reason"] == "compiler-artifact"
            && msg["target"]["name"] == "mafs"
            && let Some(path) = msg["executable"].as_str()
        {
            exe = Some(PathBuf::from(path));
        }
    }
    let status = child.wait().context("waiting for cargo build")?;
    if !status.success() {
        bail!("cargo build --package mafs-cli failed ({status})");
    }
    eprintln!(
        "[xtask] mafs built in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    exe.context("cargo build reported no `mafs` executable")
}

/// Runs `mafs <args>`: builds it visibly first ([`build_mafs`]), then runs the binary.
pub fn mafs(args: &[String]) -> Result<ExitCode> {
    let exe = build_mafs()?;
    let mut cmd = Command::new(exe);
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
