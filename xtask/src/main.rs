//! `cargo xtask`: the project's automation, in plain Rust (the matklad convention), so that it
//! needs nothing but cargo. Each task shells out to cargo and to the `mafs` binary.
//!
//! - `cargo xtask train [ARGS]`: with no arguments, the README's main job (train MA-AFS and the
//!   fixed-query baseline on the built-in world and print clean and corrupted metrics);
//!   otherwise `mafs train ARGS`.
//! - `cargo xtask eval ARGS`: `mafs eval ARGS`.
//! - `cargo xtask bench`: train step, inference and evaluation throughput of every task at
//!   `tiny` and `small` beside the PyTorch implementation (`bench/torch_mafs.py`), one table;
//!   `--scale` for the step-time figure, `--criterion [ARGS]` for the criterion benchmarks.
//! - `cargo xtask ci`: what CI runs (`.ci/run`).
//! - `cargo xtask gpu-check`: on a GPU machine, wgpu (and cuda) agreement with the CPU and a
//!   training-throughput table, in under five minutes.
//! - `cargo xtask robustness [ARGS]`: the robustness benchmark (`mafs robustness ARGS`):
//!   report.md, results.json and figures in `reports/robustness`.
//! - `cargo xtask fuzz --seconds N`: every input fuzz target for N seconds;
//!   `cargo xtask killtest --points N`: N SIGKILL-and-resume points (docs/reliability.md).

use std::process::{Command, ExitCode};

use anyhow::{Result, bail};

mod bench;
mod bench_coco;
mod bench_scale;
mod exec;
mod gpu_check;
mod reliability;
mod robustness;

use clap::{Parser, Subcommand};
use exec::{mafs, run};

#[derive(Parser, Debug)]
#[command(name = "xtask", about = "mafs project automation")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Train (no arguments: the README's main job).
    Train {
        /// Arguments passed to `mafs train`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Evaluate a saved run (`mafs eval`).
    Eval {
        /// Arguments passed to `mafs eval`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Throughput beside PyTorch, one table (`--criterion`: the criterion benchmarks).
    Bench(bench::BenchArgs),
    /// Run what CI runs.
    Ci,
    /// On a GPU machine: build with wgpu (and cuda), check agreement with the CPU, print a
    /// training-throughput table (fits in five minutes).
    GpuCheck(gpu_check::GpuCheckArgs),
    /// Fuzz every loader with generated and mutated inputs for N seconds per target.
    Fuzz(reliability::FuzzArgs),
    /// Kill training with SIGKILL at N points (inside checkpoint saves and at random times),
    /// resume, and compare with an uninterrupted run.
    Killtest(reliability::KillArgs),
    /// The robustness benchmark (`mafs robustness`; resumable).
    Robustness {
        /// Arguments passed to `mafs robustness`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// The README's main job: MA-AFS against fixed-query fusion on image-text retrieval over the
/// built-in world (the item is the image and its side text), clean, under corruptions and on
/// the shift split. docs/results.md shows this command; a test keeps the two equal.
const MAIN_JOB: [&str; 9] = [
    "compare",
    "--task",
    "retrieval",
    "--fusions",
    "ma-afs,fixed-query",
    "--world-train",
    "2000",
    "--world-eval",
    "300",
];

fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.task {
        Task::Train { args } if args.is_empty() => mafs(&MAIN_JOB.map(String::from)),
        Task::Train { args } => {
            let mut full = vec!["train".to_string()];
            full.extend(args);
            mafs(&full)
        }
        Task::Eval { args } => {
            if args.is_empty() {
                bail!("usage: cargo xtask eval --run runs/NAME [--corrupt SPEC] [--split shift]");
            }
            let mut full = vec!["eval".to_string()];
            full.extend(args);
            mafs(&full)
        }
        Task::Bench(args) => bench::run_bench(args),
        Task::Robustness { args } => robustness::run(args),
        Task::GpuCheck(args) => gpu_check::run(args),
        Task::Fuzz(args) => reliability::fuzz(args),
        Task::Killtest(args) => reliability::killtest(args),
        Task::Ci => {
            let mut cmd = Command::new("bash");
            cmd.arg(".ci/run");
            run(cmd)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MAIN_JOB;

    /// The README points at docs/results.md for what the main job is; the command written
    /// there must be the one `cargo xtask train` runs.
    #[test]
    fn the_documented_main_job_is_the_one_that_runs() {
        let results = include_str!("../../docs/results.md");
        let documented = format!("# = mafs {}", MAIN_JOB.join(" "));
        assert!(
            results.lines().any(|l| l.trim() == documented),
            "docs/results.md does not show `{documented}` under the main job"
        );
    }
}
