//! `mafs train`: one run of one task and fusion.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use burn::tensor::Device;
use mafs_train::config::{DataSource, FusionKind, Optim, RunConfig, Task, VqaLossKind};
use mafs_train::device::{parse_device, parse_devices};
use mafs_train::train::{TrainOptions, train};

/// Arguments of `mafs train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Task: retrieval, captioning or vqa.
    #[arg(long, default_value = "retrieval")]
    pub task: Task,
    /// Fusion: fixed-late, fixed-query, qmf, pdf, dynmm, ma-afs-late, ma-afs, ma-afs-monotone.
    #[arg(long, default_value = "ma-afs")]
    pub fusion: FusionKind,
    /// Encoder preset name (tiny, small, clip-b32) or a preset JSON file.
    #[arg(long, default_value = "tiny")]
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
    #[arg(long, default_value = "runs/run")]
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
}

impl DataArgs {
    /// The data source these flags name; `seed` draws the built-in world.
    pub fn source(&self, seed: u64) -> Result<DataSource> {
        Ok(DataSource::parse_sized(
            &self.data,
            self.images.clone(),
            seed,
            self.world_train,
            self.world_eval,
        )?)
    }
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
        c.all_pairs = self.all_pairs;
        c.vqa_loss = self.vqa_loss;
        crate::cmd::import::apply_init_args(
            &mut c,
            self.init_encoders.as_deref(),
            self.freeze_encoders,
            self.tokenizer.as_deref(),
        )?;
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
