//! `mafs train`: one run of one task and fusion.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use burn::tensor::Device;
use mafs_train::config::{
    CorruptionAware, DataSource, FusionKind, LossWeights, Optim, RunConfig, SchedulerSettings,
    Task, VqaLossKind,
};
use mafs_train::device::{parse_device, parse_devices};
use mafs_train::train::{TrainOptions, train};

/// The run folder of `mafs train` when `--out` is not given.
pub const DEFAULT_OUT: &str = "runs/run";

/// Arguments of `mafs train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Task: retrieval, captioning or vqa.
    #[arg(long, default_value = "retrieval")]
    pub task: Task,
    /// Fusion: fixed-late, fixed-query, qmf, pdf, dynmm, ma-afs-late, ma-afs, ma-afs-monotone.
    #[arg(long, default_value = "ma-afs")]
    pub fusion: FusionKind,
    /// Encoder preset name (micro, tiny, small, clip-b32) or a preset JSON file.
    #[arg(long, default_value = mafs_encoders::DEFAULT_PRESET)]
    pub preset: String,
    /// The data flags.
    #[command(flatten)]
    pub data: DataArgs,
    /// Epochs.
    #[arg(long, default_value_t = Optim::default().epochs)]
    pub epochs: usize,
    /// Batch size.
    #[arg(long, default_value_t = Optim::default().batch_size)]
    pub batch_size: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = Optim::default().lr)]
    pub lr: f64,
    /// Seed of everything.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Turn corruption-aware training off.
    #[arg(long)]
    pub no_corruption_aware: bool,
    /// The scheduler and corruption-aware training settings a researcher sweeps.
    #[command(flatten)]
    pub scheduler: SchedulerArgs,
    /// A JSON merge patch (RFC 7386) over the run configuration these flags describe, inline
    /// or as a file: the settings without a flag, e.g.
    /// `'{"optim": {"warmup_fraction": 0.1}, "loss": {"lambda_rank": 0.1}}'`. Keys are
    /// checked: a misspelt setting is an error.
    #[arg(long, value_name = "JSON|FILE")]
    pub config_patch: Option<String>,
    /// Train on every (instance, caption/question) pair per epoch.
    #[arg(long)]
    pub all_pairs: bool,
    /// VQA answer loss: soft-cross-entropy, soft-bce or cross-entropy.
    #[arg(long, default_value_t = VqaLossKind::default())]
    pub vqa_loss: VqaLossKind,
    /// Checkpoint every N steps as well as at each epoch end (0: epoch ends only).
    #[arg(long, default_value_t = 0)]
    pub checkpoint_every: usize,
    /// Run directory.
    #[arg(long, default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Continue the run in --out from its last good checkpoint (verified; older ones are
    /// tried when it is damaged). An error when --out has no checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Like --resume, but start the run when --out has no checkpoint yet (for scripts that
    /// restart a job until it finishes).
    #[arg(long, conflicts_with = "resume")]
    pub resume_or_start: bool,
    /// Device: cpu, wgpu[:N], cuda[:N], remote:HOST:PORT.
    #[arg(long, env = "MAFS_DEVICE", default_value = "cpu")]
    pub device: String,
    /// Data-parallel training on several devices, comma-separated (`cuda:0,cuda:1`): the
    /// global batch is split across them (burn's multi-device step). Overrides --device.
    #[arg(long, env = "MAFS_DEVICES")]
    pub devices: Option<String>,
    /// No progress lines.
    #[arg(long)]
    pub quiet: bool,
    /// Start the image and text towers from `DIR` (made by `mafs import open-clip`: its
    /// encoders.safetensors, preset.json and, unless --tokenizer is given, tokenizer.json) or
    /// from a safetensors FILE with mafs names (e.g. another run's model.safetensors, with a
    /// matching --preset). The prototypes, scheduler, fusion and heads start fresh.
    #[arg(long, value_name = "DIR|FILE")]
    pub init_encoders: Option<PathBuf>,
    /// Train only the prototypes, scheduler, fusion and heads; the towers stay as initialised.
    #[arg(long)]
    pub freeze_encoders: bool,
    /// A Hugging Face tokenizer.json (e.g. CLIP's BPE) instead of the word vocabulary built
    /// from the training split; texts are wrapped in its begin and end tokens.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
}

/// The data flags `mafs train` and `mafs chance` share.
#[derive(clap::Args, Debug, Clone)]
pub struct DataArgs {
    /// Data: world, karpathy:FILE or vqa:QUESTIONS,ANNOTATIONS.
    #[arg(long, default_value = "world")]
    pub data: String,
    /// Image folder of a real dataset.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// Training scenes of the built-in world.
    #[arg(long, default_value_t = DataSource::WORLD_TRAIN)]
    pub world_train: usize,
    /// Validation and test scenes of the built-in world (each).
    #[arg(long, default_value_t = DataSource::WORLD_EVAL)]
    pub world_eval: usize,
    /// Seed of the built-in world (default: the run's --seed, so each seed also draws its
    /// own world). Fix it to vary only the training (initialisation, data order,
    /// augmentation) over seeds, as a fixed dataset does.
    #[arg(long)]
    pub world_seed: Option<u64>,
}

impl DataArgs {
    /// The data source these flags name; `seed` draws the built-in world unless
    /// `--world-seed` is given.
    pub fn source(&self, seed: u64) -> Result<DataSource> {
        Ok(DataSource::parse_sized(
            &self.data,
            self.images.clone(),
            self.world_seed.unwrap_or(seed),
            self.world_train,
            self.world_eval,
        )?)
    }
}

/// Flags of the scheduler's training (DESIGN §1) and of corruption-aware training; each
/// defaults to the run configuration's default.
#[derive(clap::Args, Debug, Clone)]
pub struct SchedulerArgs {
    /// Scheduler softmax temperature (constant).
    #[arg(long, default_value_t = SchedulerSettings::default().tau)]
    pub tau: f64,
    /// Weight of KL(t || w), the weights against the reliability target.
    #[arg(long, default_value_t = LossWeights::default().lambda_sched)]
    pub lambda_sched: f64,
    /// Weight of the learned confidence's losses.
    #[arg(long, default_value_t = LossWeights::default().lambda_conf)]
    pub lambda_conf: f64,
    /// Signals read live (not detached) encodings.
    #[arg(long)]
    pub no_detach_signals: bool,
    /// Detach the fusion weights from the task gradient (as QMF and PDF do).
    #[arg(long)]
    pub detach_weights: bool,
    /// Corruption-aware training: probability that an instance's image is corrupted.
    #[arg(long, default_value_t = CorruptionAware::default().p_image)]
    pub p_image: f64,
    /// ... that its side text is corrupted.
    #[arg(long, default_value_t = CorruptionAware::default().p_text)]
    pub p_text: f64,
    /// ... that its pair is misaligned.
    #[arg(long, default_value_t = CorruptionAware::default().p_pair)]
    pub p_pair: f64,
    /// Severity range of corruption-aware training, `MIN-MAX` (1-5).
    #[arg(long, default_value = "1-5", value_parser = parse_severity_range)]
    pub train_severities: (u8, u8),
}

/// Parses `MIN-MAX` or a single severity.
fn parse_severity_range(s: &str) -> Result<(u8, u8), String> {
    let parse = |t: &str| {
        t.trim()
            .parse::<u8>()
            .map_err(|_| format!("`{s}`: expected a severity range MIN-MAX within 1-5"))
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let v = parse(s)?;
            (v, v)
        }
    };
    if !(1..=5).contains(&lo) || !(1..=5).contains(&hi) || lo > hi {
        return Err(format!(
            "`{s}`: severities must satisfy 1 <= MIN <= MAX <= 5"
        ));
    }
    Ok((lo, hi))
}

impl SchedulerArgs {
    /// The flags that differ from their defaults, as a command line would give them.
    pub fn flags(&self) -> String {
        let d = SchedulerSettings::default();
        let l = LossWeights::default();
        let c = CorruptionAware::default();
        let mut out = String::new();
        let mut num = |name: &str, v: f64, default: f64| {
            if v != default {
                out.push_str(&format!(" --{name} {v}"));
            }
        };
        num("tau", self.tau, d.tau);
        num("lambda-sched", self.lambda_sched, l.lambda_sched);
        num("lambda-conf", self.lambda_conf, l.lambda_conf);
        num("p-image", self.p_image, c.p_image);
        num("p-text", self.p_text, c.p_text);
        num("p-pair", self.p_pair, c.p_pair);
        if self.train_severities != (c.severity_min, c.severity_max) {
            out.push_str(&format!(
                " --train-severities {}-{}",
                self.train_severities.0, self.train_severities.1
            ));
        }
        if self.no_detach_signals {
            out.push_str(" --no-detach-signals");
        }
        if self.detach_weights {
            out.push_str(" --detach-weights");
        }
        out
    }

    /// Writes these settings into a run configuration.
    pub fn apply(&self, c: &mut RunConfig) {
        c.scheduler.tau = self.tau;
        c.scheduler.detach_signals = !self.no_detach_signals;
        c.loss.lambda_sched = self.lambda_sched;
        c.loss.lambda_conf = self.lambda_conf;
        if self.detach_weights {
            c.detach_weights = true;
        }
        let a = &mut c.corruption_aware;
        a.p_image = self.p_image;
        a.p_text = self.p_text;
        a.p_pair = self.p_pair;
        (a.severity_min, a.severity_max) = self.train_severities;
    }
}

/// Reads `--config-patch`: inline JSON, or a file holding it.
pub fn read_patch(arg: &str) -> Result<serde_json::Value> {
    let text = if arg.trim_start().starts_with('{') {
        arg.to_string()
    } else {
        std::fs::read_to_string(arg).with_context(|| {
            format!("--config-patch: reading `{arg}` (neither inline JSON nor a readable file)")
        })?
    };
    serde_json::from_str(&text).with_context(|| format!("--config-patch `{arg}`: not valid JSON"))
}

impl TrainArgs {
    /// The main device and the data-parallel devices (empty without --devices).
    pub fn devices(&self) -> Result<(Device, Vec<Device>)> {
        match &self.devices {
            Some(list) => {
                let devices = parse_devices(list)?;
                Ok((devices[0].clone(), devices))
            }
            None => Ok((parse_device(&self.device)?, Vec::new())),
        }
    }

    /// The run configuration these arguments describe.
    pub fn config(&self) -> Result<RunConfig> {
        let mut c = RunConfig::new(self.task, self.fusion, self.seed);
        c.preset = self.preset.clone();
        c.data = self.data.source(self.seed)?;
        c.optim.epochs = self.epochs;
        c.optim.batch_size = self.batch_size;
        c.optim.lr = self.lr;
        c.optim.checkpoint_every = self.checkpoint_every;
        c.corruption_aware.enabled = !self.no_corruption_aware;
        self.scheduler.apply(&mut c);
        c.all_pairs = self.all_pairs;
        c.vqa_loss = self.vqa_loss;
        crate::cmd::import::apply_init_args(
            &mut c,
            self.init_encoders.as_deref(),
            self.freeze_encoders,
            self.tokenizer.as_deref(),
        )?;
        if let Some(p) = &self.config_patch {
            c = c.patched(&read_patch(p)?)?;
        }
        c.validate()?;
        Ok(c)
    }
}

/// Runs `mafs train`.
pub fn run(args: TrainArgs) -> Result<ExitCode> {
    let config = args.config()?;
    let mut opts = TrainOptions::new(&args.out);
    opts.resume = args.resume || args.resume_or_start;
    opts.resume_or_start = args.resume_or_start;
    (opts.device, opts.devices) = args.devices()?;
    opts.quiet = args.quiet;
    let out = train(&config, &opts).with_context(|| format!("training {}", args.out.display()))?;
    let last = out.history.last();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "run": args.out,
            "task": config.task,
            "fusion": config.fusion,
            "epochs": out.state.epoch,
            "steps": out.state.step,
            "final_loss": last.map(|r| r.loss.total),
            "validation": last.and_then(|r| r.validation.as_ref()).map(|v| &v.metrics),
            "samples_per_second": last.map(|r| r.samples_per_second),
        }))?
    );
    Ok(ExitCode::SUCCESS)
}
