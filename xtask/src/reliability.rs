//! `cargo xtask fuzz --seconds N` and `cargo xtask killtest --points N`: the long runs of the
//! reliability tests whose short forms run in CI (docs/reliability.md).
//!
//! Both run the ordinary test targets (`tests/fuzz_inputs.rs` of the `mafs` crate,
//! `crates/mafs-cli/tests/kill_resume.rs`) on the workspace's dev build (overflow checks on,
//! optimised dependencies), with the budget in an environment variable.

use std::process::{Command, ExitCode};

use anyhow::Result;

use crate::exec::{cargo, run};

/// Arguments of `cargo xtask fuzz`.
#[derive(clap::Args, Debug)]
pub struct FuzzArgs {
    /// Seconds each fuzz target runs (the targets run in parallel, one per test thread).
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// First seed (each round of 48 cases takes the next).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Only the targets whose test name contains this.
    #[arg(long)]
    pub target: Option<String>,
}

/// Arguments of `cargo xtask killtest`.
#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// Kill points: training runs killed (inside a checkpoint save or at a random time) and
    /// resumed, each compared with an uninterrupted run.
    #[arg(long, default_value_t = 24)]
    pub points: u64,
    /// Seed of the kill plan.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

fn test(target: &str, filter: Option<&str>) -> Command {
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--test", target, "--"]);
    if let Some(f) = filter {
        cmd.arg(f);
    }
    cmd.arg("--nocapture");
    cmd
}

/// `cargo xtask fuzz`.
pub fn fuzz(args: FuzzArgs) -> Result<ExitCode> {
    let mut cmd = test("fuzz_inputs", args.target.as_deref());
    cmd.env("MAFS_FUZZ_SECONDS", args.seconds.to_string())
        .env("MAFS_FUZZ_SEED", args.seed.to_string());
    run(cmd)
}

/// `cargo xtask killtest`.
pub fn killtest(args: KillArgs) -> Result<ExitCode> {
    let mut cmd = test("kill_resume", None);
    cmd.env("MAFS_KILL_POINTS", args.points.to_string())
        .env("MAFS_KILL_SEED", args.seed.to_string());
    run(cmd)
}
