//! The `mafs` command-line tool. Each subcommand lives in its own module under `cmd/` and
//! only parses arguments, calls the libraries and reports; no modelling happens here.

use clap::{CommandFactory, Parser, Subcommand};

mod cmd;

/// Modality-Aware Adaptive Fusion Scheduling: train, evaluate, corrupt and inspect
/// multimodal models.
#[derive(Parser, Debug)]
#[command(
    name = "mafs",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("MAFS_GIT_COMMIT"), ")"),
    about
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Input limits (global flags).
    #[command(flatten)]
    limits: cmd::limits::LimitArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate, export and validate datasets.
    Data(cmd::data::DataArgs),
    /// Render and print corruptions.
    Corrupt(cmd::corrupt::CorruptArgs),
    /// Compute metrics on result files made elsewhere.
    Metrics(cmd::metrics::MetricsArgs),
    /// Train one task with one fusion.
    Train(Box<cmd::train::TrainArgs>),
    /// Evaluate a saved run, clean or corrupted.
    Eval(cmd::eval::EvalArgs),
    /// Answer, caption or rank for one input with a saved run.
    Predict(cmd::predict::PredictArgs),
    /// Print an instance's uncertainty signals and fusion weights, and why they moved.
    Explain(cmd::explain::ExplainArgs),
    /// What chance is for a task: blind references scored with the task's metrics.
    Chance(cmd::chance::ChanceArgs),
    /// Train and compare fusions side by side, clean and corrupted (the main job).
    Compare(Box<cmd::compare::CompareArgs>),
    /// Import pretrained towers (open_clip) and list the tensors of safetensors files.
    Import(cmd::import::ImportArgs),
    /// The robustness benchmark: every task × fusion × seed, clean, corrupted at every
    /// severity and shifted, in one report with paired tests, relative robustness and mCE.
    Robustness(Box<cmd::robustness::RobustnessArgs>),
    /// Serve this machine's device(s) to `--device remote:HOST:PORT` clients (burn's remote
    /// backend; feature `remote`).
    ServeDevice(cmd::serve_device::ServeDeviceArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(cmd::completions::CompletionsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.limits.apply();
    let result = match cli.command {
        Command::Data(args) => cmd::data::run(args),
        Command::Corrupt(args) => cmd::corrupt::run(args),
        Command::Metrics(args) => cmd::metrics::run(args),
        Command::Train(args) => cmd::train::run(*args),
        Command::Eval(args) => cmd::eval::run(args),
        Command::Compare(args) => cmd::compare::run(*args),
        Command::Import(args) => cmd::import::run(args),
        Command::Chance(args) => cmd::chance::run(args),
        Command::Predict(args) => cmd::predict::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::ServeDevice(args) => cmd::serve_device::run(args),
        Command::Robustness(args) => cmd::robustness::run(*args),
        Command::Completions(args) => cmd::completions::run(args, &mut Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent_and_the_version_names_a_commit() {
        Cli::command().debug_assert();
        let v = Cli::command().render_version();
        assert!(v.contains("commit "), "{v}");
    }

    #[test]
    fn bash_completions_name_the_subcommands() {
        let mut out = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut Cli::command(),
            "mafs",
            &mut out,
        );
        let s = String::from_utf8(out).unwrap();
        for sub in ["train", "eval", "compare", "robustness", "completions"] {
            assert!(s.contains(sub), "{sub}");
        }
    }
}
