//! `mafs data`: generate and export the built-in world, print dataset statistics, and
//! validate datasets on disk.
//!
//! ```text
//! mafs data export --out DIR [--format karpathy|coco|wds|parquet] [--split train,val,test,shift] [--seed S] [--config FILE]
//! mafs data check --data SPEC [--images DIR]
//! mafs data stats --data SPEC [--images DIR] [--skip-bad]
//! mafs data stats [--seed S] [--config FILE]
//! mafs data stats --karpathy FILE [--images DIR] [--skip-bad]
//! mafs data stats --vqa-questions FILE --vqa-annotations FILE [--images DIR] [--skip-bad]
//! mafs data check --karpathy FILE --images DIR
//! mafs data check --vqa-questions FILE --vqa-annotations FILE --images DIR [--layout coco|id|PATTERN]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use mafs_data::check::{check_karpathy, check_vqa};
use mafs_data::export::{ExportFormat, export_as};
use mafs_data::karpathy::{KarpathyOptions, load_karpathy};
use mafs_data::report::LoadReport;
use mafs_data::source::{DataSource, LoadOptions, load_splits};
use mafs_data::stats::{answer_balance, split_stats};
use mafs_data::vqa::{ImageLayout, VqaOptions, load_vqa};
use mafs_data::world::{World, WorldConfig};
use mafs_data::{Instance, Split};

/// Arguments of `mafs data`.
#[derive(clap::Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(clap::Subcommand, Debug)]
enum DataCommand {
    /// Write the built-in world as Karpathy JSON, VQA v2 JSON and PNG images.
    Export(ExportArgs),
    /// Print sizes, caption and question counts and the answer balance per question type
    /// (of the built-in world, or of a dataset on disk).
    Stats(StatsArgs),
    /// Validate a dataset on disk: list every bad record; exit 1 when any is bad.
    Check(CheckArgs),
}

/// Which built-in world.
#[derive(clap::Args, Debug)]
struct WorldArgs {
    /// World configuration (JSON; missing fields take their defaults).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed (overrides the configuration's).
    #[arg(long)]
    seed: Option<u64>,
    /// Image side in pixels (overrides the configuration's).
    #[arg(long)]
    image_size: Option<u32>,
    /// Training scenes (overrides the configuration's).
    #[arg(long)]
    train: Option<usize>,
    /// Validation scenes.
    #[arg(long)]
    val: Option<usize>,
    /// Test scenes.
    #[arg(long)]
    test: Option<usize>,
    /// Domain-shift scenes.
    #[arg(long)]
    shift: Option<usize>,
}

impl WorldArgs {
    fn world(&self) -> anyhow::Result<World> {
        let mut cfg = match &self.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading world configuration {}", p.display()))?;
                serde_json::from_str::<WorldConfig>(&text).with_context(|| {
                    format!("{}: expected a WorldConfig JSON object", p.display())
                })?
            }
            None => WorldConfig::default(),
        };
        if let Some(s) = self.seed {
            cfg.seed = s;
        }
        if let Some(s) = self.image_size {
            cfg.image_size = s;
        }
        for (split, n) in [
            (Split::Train, self.train),
            (Split::Val, self.val),
            (Split::Test, self.test),
            (Split::Shift, self.shift),
        ] {
            if let Some(n) = n {
                cfg.set_count(split, n);
            }
        }
        Ok(World::new(cfg)?)
    }
}

#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// Output folder (created).
    #[arg(long)]
    out: PathBuf,
    /// Splits to export (comma-separated; default all).
    #[arg(long, value_delimiter = ',')]
    split: Vec<String>,
    /// Format: karpathy (Karpathy + VQA v2 JSON and PNGs), coco (captions_<split>.json),
    /// wds (WebDataset .tar shards) or parquet (tables with the images inside).
    #[arg(long, default_value = "karpathy")]
    format: ExportFormat,
    /// Samples per WebDataset shard.
    #[arg(long, default_value_t = 1000)]
    per_shard: usize,
    #[command(flatten)]
    world: WorldArgs,
}

#[derive(clap::Args, Debug)]
struct StatsArgs {
    #[command(flatten)]
    world: WorldArgs,
    /// Read any --data spec instead of generating the world.
    #[arg(long, value_name = "SPEC")]
    data: Option<String>,
    /// Read a Karpathy caption file instead of generating the world.
    #[arg(long)]
    karpathy: Option<PathBuf>,
    /// Read VQA v2 questions instead of generating the world.
    #[arg(long, requires = "vqa_annotations")]
    vqa_questions: Option<PathBuf>,
    /// VQA v2 annotations.
    #[arg(long, requires = "vqa_questions")]
    vqa_annotations: Option<PathBuf>,
    /// Image folder (images are decoded and checked when given).
    #[arg(long)]
    images: Option<PathBuf>,
    /// VQA image file names: `coco`, `id` (`<image_id>.png`) or a pattern with `{image_id}`,
    /// `{image_id:012}`, `{subtype}`.
    #[arg(long, default_value = "coco")]
    layout: String,
    /// Skip bad records (and list them) instead of stopping at the first.
    #[arg(long)]
    skip_bad: bool,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Any --data spec (coco:..., wds:..., parquet:..., vqa:train=Q,A;val=Q,A, ...): every
    /// split is read and every image decoded.
    #[arg(long, value_name = "SPEC")]
    data: Option<String>,
    /// Karpathy caption file.
    #[arg(long)]
    karpathy: Option<PathBuf>,
    /// VQA v2 questions file.
    #[arg(long, requires = "vqa_annotations")]
    vqa_questions: Option<PathBuf>,
    /// VQA v2 annotations file.
    #[arg(long, requires = "vqa_questions")]
    vqa_annotations: Option<PathBuf>,
    /// Image folder.
    #[arg(long)]
    images: Option<PathBuf>,
    /// VQA image file names: `coco`, `id` (`<image_id>.png`) or a pattern with `{image_id}`,
    /// `{image_id:012}`, `{subtype}`.
    #[arg(long, default_value = "coco")]
    layout: String,
}

fn parse_layout(s: &str) -> anyhow::Result<ImageLayout> {
    Ok(match s {
        "coco" => ImageLayout::Coco { subtype: None },
        "id" => ImageLayout::ById,
        p if p.contains("{image_id") => ImageLayout::Pattern(p.to_string()),
        other => {
            bail!("--layout `{other}`: expected `coco`, `id` or a pattern containing {{image_id}}")
        }
    })
}

/// Runs `mafs data`.
pub fn run(args: DataArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        DataCommand::Export(a) => run_export(a),
        DataCommand::Stats(a) => run_stats(a),
        DataCommand::Check(a) => run_check(a),
    }
}

fn run_export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let world = a.world.world()?;
    let splits: Vec<Split> = if a.split.is_empty() {
        Split::ALL.to_vec()
    } else {
        a.split
            .iter()
            .map(|s| s.parse::<Split>().with_context(|| format!("--split {s}")))
            .collect::<anyhow::Result<_>>()?
    };
    let instances: Vec<Instance> = splits.iter().flat_map(|s| world.split(*s)).collect();
    let summary = export_as(&instances, &a.out, a.format, "mafs-world", a.per_shard)?;
    println!(
        "wrote {} images, {} captions, {} questions to {} (seed {})",
        summary.images,
        summary.captions,
        summary.questions,
        a.out.display(),
        world.config().seed
    );
    for f in &summary.files {
        println!("  {}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_stats(instances: &[Instance]) {
    println!(
        "{:<6} {:>9} {:>7} {:>9} {:>9} {:>9} {:>10} {:>8}",
        "split", "instances", "images", "side text", "captions", "distinct", "questions", "words"
    );
    for (split, s) in split_stats(instances) {
        println!(
            "{:<6} {:>9} {:>7} {:>9} {:>9} {:>9} {:>10} {:>8.2}",
            split.as_str(),
            s.instances,
            s.with_image,
            s.with_side_text,
            s.captions,
            s.distinct_captions,
            s.questions,
            s.mean_caption_words
        );
    }
    for split in Split::ALL {
        let part: Vec<Instance> = instances
            .iter()
            .filter(|i| i.split == split)
            .cloned()
            .collect();
        if part.iter().all(|i| i.questions.is_empty()) {
            continue;
        }
        println!(
            "\nanswer balance, {split} (question type, count, majority-answer share, answers):"
        );
        print!("{}", answer_balance(&part));
    }
}

fn print_report(report: &LoadReport) {
    println!("{report}");
}

/// Every split of a `--data` spec, with the report (bad records skipped when `skip_bad`).
fn read_spec(
    spec: &str,
    images: Option<PathBuf>,
    skip_bad: bool,
) -> anyhow::Result<(Vec<Instance>, LoadReport)> {
    let source = DataSource::parse(spec, images, 0).with_context(|| format!("--data `{spec}`"))?;
    // Images are decoded to check them and dropped: a large dataset fits.
    let opts = LoadOptions {
        skip_bad,
        keep_images: false,
        ..LoadOptions::new(64)
    };
    let (splits, report) = load_splits(&source, &opts)?;
    Ok((splits.into_values().flatten().collect(), report))
}

fn run_stats(a: StatsArgs) -> anyhow::Result<ExitCode> {
    let (instances, report) = if let Some(spec) = &a.data {
        let (i, r) = read_spec(spec, a.images.clone(), a.skip_bad)?;
        (i, Some(r))
    } else if let Some(k) = &a.karpathy {
        let opts = KarpathyOptions {
            images_dir: a.images.clone(),
            image_size: None,
            skip_bad: a.skip_bad,
            keep_images: false,
            ..KarpathyOptions::default()
        };
        let (i, r) = load_karpathy(k, &opts)?;
        (i, Some(r))
    } else if let (Some(q), Some(an)) = (&a.vqa_questions, &a.vqa_annotations) {
        let opts = VqaOptions {
            images_dir: a.images.clone(),
            layout: parse_layout(&a.layout)?,
            image_size: None,
            skip_bad: a.skip_bad,
            keep_images: false,
            ..VqaOptions::default()
        };
        let (i, r) = load_vqa(q, Some(an), &opts)?;
        (i, Some(r))
    } else {
        let world = a.world.world()?;
        println!(
            "built-in world: seed {}, {}x{} images",
            world.config().seed,
            world.config().image_size,
            world.config().image_size
        );
        (world.all(), None)
    };
    if let Some(r) = &report {
        print_report(r);
    }
    print_stats(&instances);
    let bad = report.is_some_and(|r| !r.is_clean());
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn run_check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    if a.karpathy.is_none() && a.vqa_questions.is_none() && a.data.is_none() {
        bail!(
            "mafs data check: give --data SPEC, --karpathy FILE and/or --vqa-questions FILE --vqa-annotations FILE"
        );
    }
    let mut bad = 0;
    if let Some(spec) = &a.data {
        let (_, r) = read_spec(spec, a.images.clone(), true)?;
        print_report(&r);
        bad += r.skipped.len();
    }
    if let Some(k) = &a.karpathy {
        let r = check_karpathy(k, a.images.as_deref())?;
        print_report(&r);
        bad += r.skipped.len();
    }
    if let (Some(q), Some(an)) = (&a.vqa_questions, &a.vqa_annotations) {
        let r = check_vqa(q, an, a.images.as_deref(), parse_layout(&a.layout)?)?;
        print_report(&r);
        bad += r.skipped.len();
    }
    if bad > 0 {
        println!("{bad} bad record(s)");
        Ok(ExitCode::FAILURE)
    } else {
        println!("ok");
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        data: DataArgs,
    }

    fn run_args(args: &[&str]) -> anyhow::Result<ExitCode> {
        let cli = Cli::try_parse_from(std::iter::once("data").chain(args.iter().copied()))?;
        run(cli.data)
    }

    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures")
    }

    #[test]
    fn export_then_check_is_clean_and_broken_fixtures_fail() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().to_str().unwrap();
        let code = run_args(&[
            "export",
            "--out",
            out,
            "--split",
            "train,shift",
            "--train",
            "3",
            "--shift",
            "2",
            "--image-size",
            "16",
            "--seed",
            "4",
        ])
        .unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        let k = format!("{out}/karpathy.json");
        let q = format!("{out}/vqa_questions.json");
        let a = format!("{out}/vqa_annotations.json");
        let images = format!("{out}/images");
        let ok = run_args(&[
            "check",
            "--karpathy",
            &k,
            "--vqa-questions",
            &q,
            "--vqa-annotations",
            &a,
            "--images",
            &images,
            "--layout",
            "id",
        ])
        .unwrap();
        assert_eq!(ok, ExitCode::SUCCESS);
        let bad = fixtures().join("bad");
        let code = run_args(&[
            "check",
            "--karpathy",
            bad.join("karpathy_bad_records.json").to_str().unwrap(),
            "--images",
            bad.join("images").to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(code, ExitCode::FAILURE);
        let err = run_args(&[
            "check",
            "--karpathy",
            bad.join("karpathy_truncated.json").to_str().unwrap(),
        ])
        .unwrap_err();
        assert!(format!("{err:#}").contains("truncated"), "{err:#}");
        assert!(run_args(&["export", "--out", out, "--split", "training"]).is_err());
    }

    #[test]
    fn stats_reads_the_world_and_files_and_skip_bad_reports() {
        let code = run_args(&[
            "stats", "--train", "8", "--val", "2", "--test", "2", "--shift", "2",
        ])
        .unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        let bad = fixtures().join("bad");
        let file = bad.join("karpathy_bad_records.json");
        assert!(run_args(&["stats", "--karpathy", file.to_str().unwrap()]).is_err());
        let code =
            run_args(&["stats", "--karpathy", file.to_str().unwrap(), "--skip-bad"]).unwrap();
        assert_eq!(
            code,
            ExitCode::FAILURE,
            "bad records were skipped and reported"
        );
    }

    #[test]
    fn layouts_parse() {
        assert_eq!(parse_layout("id").unwrap(), ImageLayout::ById);
        assert!(matches!(
            parse_layout("coco").unwrap(),
            ImageLayout::Coco { .. }
        ));
        assert!(matches!(
            parse_layout("{image_id}.jpg").unwrap(),
            ImageLayout::Pattern(_)
        ));
        assert!(parse_layout("weird").is_err());
    }
}
