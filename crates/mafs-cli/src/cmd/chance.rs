//! `mafs chance`: what chance is for a task on a dataset, with the metrics the models are
//! scored with (see `mafs_train::reference`): random ranking for retrieval, the most frequent
//! training caption for captioning, answer priors for VQA. Prints one JSON object.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use mafs_data::Split;
use mafs_train::config::{DataSource, Task};
use mafs_train::data::load_splits;
use mafs_train::reference::references;

/// Arguments of `mafs chance`.
#[derive(clap::Args, Debug)]
pub struct ChanceArgs {
    /// Task: retrieval, captioning or vqa.
    #[arg(long)]
    pub task: Task,
    /// Data: world, karpathy:FILE or vqa:QUESTIONS,ANNOTATIONS.
    #[arg(long, default_value = "world")]
    pub data: String,
    /// Image folder of a real dataset.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Training scenes of the built-in world (as `mafs train`).
    #[arg(long, default_value_t = DataSource::WORLD_TRAIN)]
    pub world_train: usize,
    /// Validation and test scenes of the built-in world (each).
    #[arg(long, default_value_t = DataSource::WORLD_EVAL)]
    pub world_eval: usize,
    /// World seed (as `mafs train --seed`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Split scored: test or shift.
    #[arg(long, default_value = "test")]
    pub split: String,
}

/// Runs `mafs chance`.
pub fn run(args: ChanceArgs) -> Result<ExitCode> {
    let source = DataSource::parse_sized(
        &args.data,
        args.images.clone(),
        args.seed,
        args.world_train,
        args.world_eval,
    )?;
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
