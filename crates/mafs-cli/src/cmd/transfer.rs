//! Evaluating a run on a dataset other than its own (cross-dataset transfer, the real-data
//! domain shift): the dataset is read in any `--data` format, at the run's image size, and
//! checked against the run's task; the run's own tokenizer and answer vocabulary are
//! applied, and how much of the dataset they cover is reported.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use mafs_data::coverage::{Coverage, coverage};
use mafs_data::source::DataSource;
use mafs_data::{Instance, Split};
use mafs_train::config::Task;
use mafs_train::data::{Vocabulary, load_split};

/// The flags naming another dataset (`compare` and `robustness` take them as `--eval-*`).
#[derive(clap::Args, Debug, Clone)]
pub struct EvalDataArgs {
    /// Also evaluate on this dataset (any --data spec: karpathy:FILE, coco:FILE,
    /// vqa:val=Q,A, wds:SHARDS, parquet:FILE ...), with each run's own vocabulary.
    #[arg(long, value_name = "SPEC")]
    pub eval_data: Option<String>,
    /// Image folder of --eval-data (formats whose records name image files).
    #[arg(long, value_name = "DIR")]
    pub eval_images: Option<PathBuf>,
    /// Split of --eval-data to evaluate.
    #[arg(long, default_value = "test")]
    pub eval_split: Split,
}

/// Another dataset's split, ready for a run: read, checked against the task.
pub struct Transfer {
    /// A short name for reports: `FORMAT:FILE:SPLIT` (see [`short_name`]).
    pub name: String,
    /// The instances.
    pub instances: Vec<Instance>,
}

/// Reads `split` of the dataset `spec` at `image_size` and checks that it has what `task`
/// evaluates on (captions, or questions with human answers).
pub fn load(
    spec: &str,
    images: Option<PathBuf>,
    split: Split,
    image_size: u32,
    task: Task,
) -> Result<Transfer> {
    let source = DataSource::parse(spec, images, 0).with_context(|| format!("--data `{spec}`"))?;
    let instances = load_split(&source, split, image_size)
        .with_context(|| format!("reading the `{split}` split of `{spec}`"))?;
    let captions = instances.iter().map(|i| i.captions.len()).sum::<usize>();
    let questions: Vec<_> = instances.iter().flat_map(|i| &i.questions).collect();
    match task {
        Task::Vqa if questions.is_empty() => bail!(
            "`{spec}` ({split}) has no questions: a VQA run is evaluated on VQA data (vqa:val=Q,A)"
        ),
        Task::Vqa if questions.iter().all(|q| q.answers.is_empty()) => bail!(
            "the questions of `{spec}` ({split}) have no annotations: VQA accuracy needs the human answers (test-dev answers are scored by the VQA evaluation server)"
        ),
        Task::Retrieval | Task::Captioning if captions == 0 => bail!(
            "`{spec}` ({split}) has no captions: a {task} run is evaluated on caption data (karpathy:, coco:, wds:, parquet:)"
        ),
        _ => {}
    }
    Ok(Transfer {
        name: format!("{}:{split}", short_name(spec)),
        instances,
    })
}

/// A spec without its folders, for report rows: `parquet:/data/f30k/test.parquet` gives
/// `parquet:test.parquet`.
pub fn short_name(spec: &str) -> String {
    let (format, body) = spec.split_once(':').unwrap_or(("", spec));
    let tail = body.rsplit('/').next().unwrap_or(body);
    format!("{format}:{tail}")
}

/// The coverage of a transfer set by a run's vocabulary, printed on stderr.
pub fn report_coverage(label: &str, t: &Transfer, vocab: &Vocabulary) -> Coverage {
    let c = coverage(&t.instances, &vocab.tokenizer, &vocab.answers);
    eprintln!("[{label}] {}: {c}", t.name);
    c
}
