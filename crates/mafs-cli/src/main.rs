//! The `mafs` command-line tool. Each subcommand lives in its own module under `cmd/` and
//! only parses arguments, calls the libraries and reports; no modelling happens here.

use clap::{Parser, Subcommand};

mod cmd;

/// Modality-Aware Adaptive Fusion Scheduling: train, evaluate, corrupt and inspect
/// multimodal models.
#[derive(Parser, Debug)]
#[command(name = "mafs", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate, export and validate datasets.
    Data(cmd::data::DataArgs),
    /// Render and print corruptions.
    Corrupt(cmd::corrupt::CorruptArgs),
    /// Compute metrics on result files made elsewhere.
    Metrics(cmd::metrics::MetricsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(args) => cmd::data::run(args),
        Command::Corrupt(args) => cmd::corrupt::run(args),
        Command::Metrics(args) => cmd::metrics::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
