//! `mafs import`: bring pretrained weights in, and look inside safetensors files.
//!
//! - `mafs import open-clip --checkpoint FILE.safetensors --config CONFIG.json --out DIR
//!   [--tokenizer tokenizer.json]` maps an open_clip image and text tower onto mafs' towers
//!   and writes `DIR/encoders.safetensors` (mafs names), `DIR/preset.json` (the
//!   architecture), `DIR/import.json` (where it came from) and, if given, `DIR/tokenizer.json`.
//!   `mafs train --init-encoders DIR` then starts a run from them.
//! - `mafs import inspect FILE.safetensors [--markdown] [--collapse]` lists a file's tensors
//!   (name, dtype, shape), e.g. a run's `model.safetensors`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::Device;
use mafs_encoders::import::load_open_clip;
use mafs_train::init::{ENCODERS_FILE, PRESET_FILE, TOKENIZER_FILE};
use mafs_train::tensors::{collapse, markdown, safetensors_rows};

/// Arguments of `mafs import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    #[command(subcommand)]
    command: ImportCommand,
}

#[derive(clap::Subcommand, Debug)]
enum ImportCommand {
    /// Map an open_clip checkpoint's image and text towers onto mafs' encoders.
    OpenClip(OpenClipArgs),
    /// List the tensors of a safetensors file (name, dtype, shape).
    Inspect(InspectArgs),
}

/// Arguments of `mafs import open-clip`.
#[derive(clap::Args, Debug)]
pub struct OpenClipArgs {
    /// open_clip weights (`open_clip_model.safetensors`, or a `state_dict` saved with
    /// `safetensors.torch.save_file`).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// open_clip model config: `model_configs/NAME.json` or a hub `open_clip_config.json`.
    #[arg(long)]
    pub config: PathBuf,
    /// Output directory (created).
    #[arg(long)]
    pub out: PathBuf,
    /// The checkpoint's Hugging Face `tokenizer.json`, copied beside the towers so that
    /// `mafs train --init-encoders` uses it.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
}

/// Arguments of `mafs import inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The safetensors file.
    pub file: PathBuf,
    /// Print a Markdown table.
    #[arg(long)]
    pub markdown: bool,
    /// Fold keys that differ only in a block index (`resblocks.0`, `resblocks.1`, ...) into
    /// one row (`resblocks.{0-1}`) when their dtypes and shapes agree.
    #[arg(long)]
    pub collapse: bool,
}

/// Runs `mafs import`.
pub fn run(args: ImportArgs) -> Result<ExitCode> {
    match args.command {
        ImportCommand::OpenClip(a) => open_clip(a),
        ImportCommand::Inspect(a) => inspect(a),
    }
}

fn open_clip(args: OpenClipArgs) -> Result<ExitCode> {
    let device = Device::flex();
    let (preset, towers) = load_open_clip(&args.checkpoint, &args.config, &device)
        .with_context(|| format!("importing {}", args.checkpoint.display()))?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let tokenizer = match &args.tokenizer {
        Some(t) => {
            let tok = mafs_data::tokenizer::TextTokenizer::load(t)
                .with_context(|| format!("reading {}", t.display()))?;
            if tok.vocab_size() != preset.text.vocab_size {
                bail!(
                    "{} has {} tokens but the text tower's vocabulary is {} (text_cfg.vocab_size)",
                    t.display(),
                    tok.vocab_size(),
                    preset.text.vocab_size
                );
            }
            let dest = args.out.join(TOKENIZER_FILE);
            std::fs::copy(t, &dest).with_context(|| format!("copying to {}", dest.display()))?;
            Some(dest)
        }
        None => None,
    };
    let encoders = args.out.join(ENCODERS_FILE);
    towers.save_safetensors(&encoders)?;
    let preset_path = args.out.join(PRESET_FILE);
    std::fs::write(&preset_path, serde_json::to_string_pretty(&preset)?)
        .with_context(|| format!("writing {}", preset_path.display()))?;
    let logit_scale: f32 = towers.logit_scale.val().exp().into_scalar();
    let summary = serde_json::json!({
        "source": "open_clip",
        "checkpoint": args.checkpoint,
        "config": args.config,
        "encoders": encoders,
        "preset": preset_path,
        "tokenizer": tokenizer,
        "image_params": towers.image.num_params(),
        "text_params": towers.text.num_params(),
        "logit_scale": logit_scale,
        "quick_gelu": preset.vision.quick_gelu,
        "image_size": preset.vision.image_size,
        "context_length": preset.text.context_length,
        "vocab_size": preset.text.vocab_size,
        "embed_dim": preset.embed_dim,
    });
    let text = serde_json::to_string_pretty(&summary)?;
    std::fs::write(args.out.join("import.json"), &text)?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let mut rows = safetensors_rows(&args.file)?;
    if args.collapse {
        rows = collapse(rows);
    }
    if args.markdown {
        print!("{}", markdown(&rows));
    } else {
        for r in &rows {
            println!("{}\t{}\t{:?}", r.name, r.dtype, r.shape);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sets a run configuration's encoder start, freezing and tokenizer from `mafs train`'s
/// `--init-encoders`, `--freeze-encoders` and `--tokenizer`. An import directory also sets
/// the preset (its `preset.json`) and, without `--tokenizer`, the tokenizer (its
/// `tokenizer.json`, if it has one). Paths are made absolute, so the run's `config.json`
/// stays valid from any working directory.
pub fn apply_init_args(
    config: &mut mafs_train::config::RunConfig,
    init: Option<&std::path::Path>,
    freeze: bool,
    tokenizer: Option<&std::path::Path>,
) -> Result<()> {
    let absolute = |p: &std::path::Path| {
        std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
    };
    config.init.freeze_encoders = freeze;
    config.tokenizer = tokenizer.map(absolute).transpose()?;
    let Some(init) = init else {
        return Ok(());
    };
    if init.is_dir() {
        let encoders = init.join(ENCODERS_FILE);
        let preset = init.join(PRESET_FILE);
        for f in [&encoders, &preset] {
            if !f.is_file() {
                bail!(
                    "--init-encoders {}: no {} (make the directory with `mafs import open-clip`)",
                    init.display(),
                    f.file_name().unwrap_or_default().to_string_lossy()
                );
            }
        }
        config.init.encoders = Some(absolute(&encoders)?);
        config.preset = absolute(&preset)?.display().to_string();
        let tok = init.join(TOKENIZER_FILE);
        if config.tokenizer.is_none() && tok.is_file() {
            config.tokenizer = Some(absolute(&tok)?);
        }
    } else if init.is_file() {
        config.init.encoders = Some(absolute(init)?);
    } else {
        bail!(
            "--init-encoders {}: no such file or directory",
            init.display()
        );
    }
    Ok(())
}
