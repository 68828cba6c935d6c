//! `mafs chance`: what chance is for a task on a dataset, with the metrics the models are
//! scored with (see `mafs_train::reference`): random ranking for retrieval, the most frequent
//! training caption for captioning, answer priors for VQA. Prints one JSON object.

use std::process::ExitCode;

use anyhow::{Context, Result};
use mafs_data::Split;
use mafs_train::config::Task;
use mafs_train::data::load_splits;
use mafs_train::reference::references;

use super::train::DataArgs;

/// Arguments of `mafs chance`.
#[derive(clap::Args, Debug)]
pub struct ChanceArgs {
    /// Task: retrieval, captioning or vqa.
    #[arg(long)]
    pub task: Task,
    /// The data flags (as `mafs train`).
    #[command(flatten)]
    pub data: DataArgs,
    /// World seed (as `mafs train --seed`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Split scored: test or shift.
    #[arg(long, default_value = "test")]
    pub split: String,
}

/// Runs `mafs chance`.
pub fn run(args: ChanceArgs) -> Result<ExitCode> {
    let source = args.data.source(args.seed)?;
    let split = match args.split.as_str() {
        "test" => Split::Test,
        "shift" => Split::Shift,
        other => anyhow::bail!("--split `{other}`: expected test or shift"),
    };
    // Images are not looked at; the smallest size keeps loading cheap.
    let splits = load_splits(&source, 16).context("loading the data")?;
    let get = |s: Split| splits.get(&s).map(Vec::as_slice).unwrap_or(&[]);
    let refs = references(args.task, get(Split::Train), get(split))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "task": args.task,
            "split": args.split,
            "references": refs,
        }))?
    );
    Ok(ExitCode::SUCCESS)
}
