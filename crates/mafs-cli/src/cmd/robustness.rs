//! `mafs robustness`: the one-run robustness benchmark. Trains (or reuses) every task ×
//! fusion × seed, evaluates each clean, under every corruption family at every severity,
//! with missing modalities and on the `shift` split, and writes `report.md`, `results.json`
//! and figures (PNG and SVG) with mean and spread over seeds, paired bootstrap tests of one
//! fusion against the others, relative robustness and mCE.
//!
//! Resumable: each cell saves after each evaluation; finished cells are skipped.

mod cell;
mod conditions;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use super::train::{SchedulerArgs, read_patch};
use anyhow::{Context, Result, bail};
use mafs_eval::atomic::write_atomic;
use mafs_eval::plot::Figure;
use mafs_eval::robustness::figures::{
    severity_figure, weight_distribution_figure, weight_severity_figure, weight_uncertainty_figure,
};
use mafs_eval::robustness::report::{ReportHeader, markdown};
use mafs_eval::robustness::results::{CellInstances, CellResult, ConditionSpec};
use mafs_eval::robustness::stats::BootstrapConfig;
use mafs_eval::robustness::summary::{SummaryConfig, summarize};
use mafs_train::config::{DataSource, FusionKind, RunConfig, Task};
use mafs_train::device::parse_device;
use mafs_train::progress::Progress;
use serde::Serialize;

/// Epochs of each cell's training in the default sweep (see `RobustnessArgs::epochs`).
pub const SWEEP_EPOCHS: usize = 15;

/// Arguments of `mafs robustness`.
#[derive(clap::Args, Debug, Clone)]
pub struct RobustnessArgs {
    /// Tasks, comma-separated. The default is retrieval, the task whose models learn within
    /// the hour's budget; `vqa,retrieval,captioning` is the full sweep (docs/robustness.md
    /// gives its cost).
    #[arg(long, default_value = "retrieval", value_delimiter = ',')]
    pub tasks: Vec<Task>,
    /// Fusions, comma-separated.
    #[arg(
        long,
        default_value = "fixed-late,fixed-query,qmf,ma-afs",
        value_delimiter = ','
    )]
    pub fusions: Vec<FusionKind>,
    /// Number of seeds (0, 1, …); each seed also draws its own built-in world.
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Encoder preset.
    #[arg(long, default_value = mafs_encoders::DEFAULT_PRESET)]
    pub preset: String,
    /// Output folder (cells, report, results, figures).
    #[arg(long, default_value = "reports/robustness")]
    pub out: PathBuf,
    /// Cells trained at the same time, each share of the cells in its own `mafs` process
    /// (default: the number of cores). A cell keeps about one core busy; every process seeds
    /// its own generators, so the numbers do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Internal: `K/N`, run only the cells whose index is K modulo N and write no report
    /// (what the worker processes of --jobs run).
    #[arg(long, hide = true, value_parser = parse_share)]
    pub worker: Option<(usize, usize)>,
    /// Corruption families: `modality:name` (evaluated at each severity), `image:missing`
    /// and `text:missing` (once), `both` (the first image and text families together),
    /// groups such as `image:all`, `image:imagenet_c`, `text:all`.
    #[arg(
        long,
        default_value = "image:gaussian_noise,text:keyboard,both,image:missing,text:missing,pair:misalign",
        value_delimiter = ','
    )]
    pub corruptions: Vec<String>,
    /// Severities: `1-5`, `3` or `1,3,5`.
    #[arg(long, default_value = "1,3,5")]
    pub severities: String,
    /// Training scenes of the built-in world.
    #[arg(long, default_value_t = 2000)]
    pub world_train: usize,
    /// Test scenes (validation too; the sweep does not validate during training).
    #[arg(long, default_value_t = 200)]
    pub world_eval: usize,
    /// Domain-shift scenes.
    #[arg(long, default_value_t = 200)]
    pub world_shift: usize,
    /// Epochs of each cell's training. The sweep's own default, 15, below the training
    /// default of 20: its twelve trainings (four fusions, three seeds) must fit in 45 minutes
    /// on two cores (docs/robustness.md, "Cost model").
    #[arg(long, default_value_t = SWEEP_EPOCHS)]
    pub epochs: usize,
    /// Batch size (default: the training default).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate (default: the training default).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Retrieval: ITM re-ranking depth of the evaluations (0: ITC ranking only). Re-ranking
    /// scores `k` (item, caption) pairs per query through the pair fusion, which is most of
    /// an evaluation's time at 16 (see docs/robustness.md).
    #[arg(long, default_value_t = 0)]
    pub rerank_k: usize,
    /// The fusion tested against every other one.
    #[arg(long, default_value = "ma-afs")]
    pub ours: FusionKind,
    /// The fusion that normalises corruption errors (mCE).
    #[arg(long, default_value = "fixed-query")]
    pub reference: FusionKind,
    /// Bootstrap resamples of the paired tests.
    #[arg(long, default_value_t = 2000)]
    pub resamples: usize,
    /// Device: cpu, wgpu[:N], cuda[:N].
    #[arg(long, env = "MAFS_DEVICE", default_value = "cpu")]
    pub device: String,
    /// No per-step training progress (the sweep's own progress lines stay).
    #[arg(long)]
    pub quiet: bool,
    /// The scheduler and corruption-aware training settings.
    #[command(flatten)]
    pub scheduler: SchedulerArgs,
    /// A JSON merge patch over every cell's run configuration (see `mafs train`).
    #[arg(long, value_name = "JSON|FILE")]
    pub config_patch: Option<String>,
    /// Another dataset every cell is also evaluated on (condition `transfer`).
    #[command(flatten)]
    pub transfer: super::transfer::EvalDataArgs,
}

impl RobustnessArgs {
    /// The run configuration of one cell.
    pub fn config(&self, task: Task, fusion: FusionKind, seed: u64) -> Result<RunConfig> {
        let mut c = RunConfig::new(task, fusion, seed);
        c.preset = self.preset.clone();
        c.data = DataSource::World {
            seed,
            train: self.world_train,
            val: self.world_eval,
            test: self.world_eval,
            shift: self.world_shift,
        };
        c.optim.epochs = self.epochs;
        if let Some(b) = self.batch_size {
            c.optim.batch_size = b;
        }
        if let Some(lr) = self.lr {
            c.optim.lr = lr;
        }
        c.itm_rerank_k = self.rerank_k;
        self.scheduler.apply(&mut c);
        c.detach_weights =
            self.scheduler.detach_weights || matches!(fusion, FusionKind::Qmf | FusionKind::Pdf);
        if let Some(p) = &self.config_patch {
            c = c.patched(&read_patch(p)?)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// The command line that reproduces this sweep.
    fn command(&self) -> String {
        let join = |v: &[String]| v.join(",");
        format!(
            "mafs robustness --tasks {} --fusions {} --seeds {} --preset {} --corruptions {} --severities {} --world-train {} --world-eval {} --world-shift {} --epochs {}{}{} --rerank-k {} --ours {} --reference {} --resamples {} --out {}",
            join(&self.tasks.iter().map(|t| t.to_string()).collect::<Vec<_>>()),
            join(
                &self
                    .fusions
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
            ),
            self.seeds,
            self.preset,
            join(&self.corruptions),
            self.severities,
            self.world_train,
            self.world_eval,
            self.world_shift,
            self.epochs,
            self.batch_size
                .map_or(String::new(), |b| format!(" --batch-size {b}")),
            self.lr.map_or(String::new(), |lr| format!(" --lr {lr}")),
            self.rerank_k,
            self.ours,
            self.reference,
            self.resamples,
            self.out.display()
        ) + &self.scheduler.flags()
            + &self
                .config_patch
                .as_ref()
                .map_or(String::new(), |p| format!(" --config-patch '{p}'"))
            + &self.transfer.eval_data.as_ref().map_or(String::new(), |d| {
                format!(
                    " --eval-data {d}{} --eval-split {}",
                    self.transfer
                        .eval_images
                        .as_ref()
                        .map_or(String::new(), |i| format!(" --eval-images {}", i.display())),
                    self.transfer.eval_split
                )
            })
    }
}

/// What `results.json` holds.
#[derive(Debug, Serialize)]
struct ResultsFile<'a> {
    command: String,
    conditions: &'a [ConditionSpec],
    cells: &'a [CellResult],
    summary: &'a mafs_eval::robustness::summary::Summary,
}

fn write_figure(dir: &Path, stem: &str, fig: &Figure) -> Result<String> {
    fig.save(dir, stem)?;
    Ok(format!("figures/{stem}.png"))
}

/// Parses `K/N` with `K < N`.
fn parse_share(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}`: expected K/N with K < N");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.parse::<usize>().map_err(|_| bad())?,
        n.parse::<usize>().map_err(|_| bad())?,
    );
    if k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Runs `mafs robustness`.
pub fn run(args: RobustnessArgs) -> Result<ExitCode> {
    let start = Instant::now();
    if args.seeds == 0 || args.tasks.is_empty() || args.fusions.is_empty() {
        bail!("--tasks, --fusions and --seeds must each name at least one");
    }
    let device = parse_device(&args.device)?;
    let severities = conditions::parse_severities(&args.severities)?;
    let mut conds = conditions::conditions(&args.corruptions, &severities)?;
    if args.transfer.eval_data.is_some() {
        conds.push(ConditionSpec {
            name: "transfer".into(),
            family: "transfer".into(),
            severity: None,
            split: "transfer".into(),
            spec: String::new(),
            degraded: Vec::new(),
        });
    }
    let mut cells_todo = Vec::new();
    // Seed-major: a stopped sweep has whole seeds (every fusion), which a rerun with fewer
    // --seeds reports as they are.
    for &task in &args.tasks {
        for seed in 0..args.seeds {
            for &fusion in &args.fusions {
                cells_todo.push(args.config(task, fusion, seed)?);
            }
        }
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    // This process's share of the cells: all of them, or every `n`-th from `k` when the
    // cells are shared between processes (the parent is share 0).
    let (share, workers) = match args.worker {
        Some(share) => (share, Vec::new()),
        None => {
            let n = super::workers::jobs(args.jobs, cells_todo.len());
            if n > 1 {
                eprintln!(
                    "[robustness] {} cells shared by {n} processes (--jobs)",
                    cells_todo.len()
                );
            }
            let started = (1..n)
                .map(|k| {
                    super::workers::spawn(
                        &format!("cells {k}/{n}"),
                        &["--worker".into(), format!("{k}/{n}").into()],
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            ((0, n), started)
        }
    };
    let mine = |i: usize| i % share.1 == share.0;
    let pending: usize = cells_todo
        .iter()
        .enumerate()
        .filter(|(i, _)| mine(*i))
        .map(|(_, c)| {
            let done = cell::load_cell(&cell::cell_dir(&args.out, c));
            conds
                .iter()
                .filter(|k| done.as_ref().is_none_or(|d| d.eval(&k.name).is_none()))
                .count()
        })
        .sum();
    eprintln!(
        "[robustness] {} cells ({} tasks × {} fusions × {} seeds) × {} conditions; {pending} evaluations to do",
        cells_todo.len(),
        args.tasks.len(),
        args.fusions.len(),
        args.seeds,
        conds.len()
    );
    let mut progress =
        Progress::new("robustness", pending.max(1), "evals").every(std::time::Duration::ZERO);
    let mut done = 0usize;
    let mut cells = Vec::new();
    for (i, config) in cells_todo.iter().enumerate() {
        let dir = cell::cell_dir(&args.out, config);
        if !mine(i) {
            continue;
        }
        if cell::is_done(&dir, &conds) {
            eprintln!(
                "[robustness] cell {}/{} {} {} seed {}: done, skipped",
                i + 1,
                cells_todo.len(),
                config.task,
                config.fusion,
                config.seed
            );
            cells.push(cell::load_cell(&dir).expect("is_done read it"));
            continue;
        }
        eprintln!(
            "[robustness] cell {}/{} {} {} seed {}",
            i + 1,
            cells_todo.len(),
            config.task,
            config.fusion,
            config.seed
        );
        cells.push(cell::run_cell(
            config,
            &args.out,
            &conds,
            &device,
            (args.quiet, &args.transfer),
            &mut progress,
            &mut done,
        )?);
    }
    if args.worker.is_some() {
        return Ok(ExitCode::SUCCESS);
    }
    if share.1 > 1 {
        super::workers::wait_all(workers).context("mafs robustness")?;
        // every cell in sweep order, the other processes' from their files
        let mut own = cells.into_iter();
        cells = Vec::new();
        for (i, config) in cells_todo.iter().enumerate() {
            if mine(i) {
                cells.extend(own.next());
                continue;
            }
            let dir = cell::cell_dir(&args.out, config);
            cells.push(cell::load_cell(&dir).with_context(|| {
                format!(
                    "the worker of cell {} left no results in {}",
                    i + 1,
                    dir.display()
                )
            })?);
        }
    }
    // Only the requested conditions, in order.
    for c in &mut cells {
        c.evals
            .retain(|e| conds.iter().any(|k| k.name == e.condition));
        c.evals
            .sort_by_key(|e| conds.iter().position(|k| k.name == e.condition));
    }
    let out = args.out.clone();
    let loader = move |c: &CellResult| -> Option<CellInstances> {
        cell::load_instances(
            &out.join("cells")
                .join(format!("{}-{}-s{}", c.task, c.fusion, c.seed)),
        )
    };
    let summary_cfg = SummaryConfig {
        ours: args.ours.to_string(),
        reference: args.reference.to_string(),
        bootstrap: BootstrapConfig {
            resamples: args.resamples,
            ..BootstrapConfig::default()
        },
    };
    eprintln!(
        "[robustness] summarising (paired bootstrap, {} resamples)",
        args.resamples
    );
    let summary = summarize(&conds, &cells, &loader, &summary_cfg);
    let fig_dir = args.out.join("figures");
    std::fs::create_dir_all(&fig_dir)?;
    let mut figures = Vec::new();
    let ours = args.ours.to_string();
    for task in &args.tasks {
        let t = task.to_string();
        if let Some(f) = severity_figure(&t, &conds, &cells, &summary) {
            let file = write_figure(&fig_dir, &format!("severity_{t}"), &f)?;
            figures.push((format!("{t}: headline metric against severity"), file));
        }
        if let Some(f) = weight_severity_figure(&t, &conds, &summary) {
            let file = write_figure(&fig_dir, &format!("weight_severity_{t}"), &f)?;
            figures.push((
                format!("{t}: weight of the degraded modality against severity"),
                file,
            ));
        }
        if let Some(f) = weight_distribution_figure(&t, &ours, &conds, &cells, &loader) {
            let file = write_figure(&fig_dir, &format!("weights_{t}"), &f)?;
            figures.push((
                format!("{t}: per-instance weights of {ours}, clean vs corrupted"),
                file,
            ));
        }
        if let Some(f) = weight_uncertainty_figure(&t, &ours, &cells, &loader) {
            let file = write_figure(&fig_dir, &format!("weight_uncertainty_{t}"), &f)?;
            figures.push((format!("{t}: weight against uncertainty ({ours})"), file));
        }
    }
    let header = ReportHeader {
        command: args.command(),
        settings: vec![
            (
                "tasks".into(),
                args.tasks
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "fusions".into(),
                args.fusions
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "seeds".into(),
                format!("0..{} (each seed draws its own world)", args.seeds),
            ),
            ("preset".into(), args.preset.clone()),
            (
                "built-in world".into(),
                format!(
                    "{} train, {} test, {} shift scenes",
                    args.world_train, args.world_eval, args.world_shift
                ),
            ),
            ("training".into(), {
                let c = args.config(args.tasks[0], args.fusions[0], 0)?;
                format!(
                    "{} epochs, batch {}, peak lr {}, corruption-aware, no validation",
                    c.optim.epochs, c.optim.batch_size, c.optim.lr
                )
            }),
            (
                "conditions".into(),
                format!("{} (severities {})", conds.len(), args.severities),
            ),
            (
                "retrieval ranking".into(),
                if args.rerank_k == 0 {
                    "ITC similarity (no ITM re-ranking)".into()
                } else {
                    format!("ITC, top {} re-ranked by ITM", args.rerank_k)
                },
            ),
            ("device".into(), args.device.clone()),
        ],
        wall_seconds: start.elapsed().as_secs_f64(),
        figures,
    };
    let report = markdown(&header, &conds, &cells, &summary);
    write_atomic(&args.out.join("report.md"), report.as_bytes())?;
    let results = ResultsFile {
        command: header.command.clone(),
        conditions: &conds,
        cells: &cells,
        summary: &summary,
    };
    write_atomic(
        &args.out.join("results.json"),
        serde_json::to_string_pretty(&results)?.as_bytes(),
    )?;
    eprintln!(
        "[robustness] wrote {0}/report.md, {0}/results.json and {0}/figures/ in {1:.0} s",
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_share;

    #[test]
    fn shares_are_k_of_n() {
        assert_eq!(parse_share("1/2"), Ok((1, 2)));
        assert_eq!(parse_share("0/1"), Ok((0, 1)));
        for bad in ["2/2", "1", "a/2", "1/b", "3/1"] {
            assert!(parse_share(bad).unwrap_err().contains("K/N"), "{bad}");
        }
    }
}
