//! The global `--max-*` flags: the input limits of `mafs_core::limits`, raised for one
//! command (docs/reliability.md lists them and their defaults).

use mafs_core::limits::{self, Limits};

/// Limits on what input files may ask for; each flag also reads its `MAFS_MAX_*` variable.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LimitArgs {
    /// Largest image width or height to decode, in pixels [default: 16384].
    #[arg(
        long,
        global = true,
        env = "MAFS_MAX_IMAGE_SIDE",
        value_name = "PIXELS"
    )]
    pub max_image_side: Option<u32>,
    /// Largest image to decode, in pixels (width x height) [default: 50000000].
    #[arg(
        long,
        global = true,
        env = "MAFS_MAX_IMAGE_PIXELS",
        value_name = "PIXELS"
    )]
    pub max_image_pixels: Option<u64>,
    /// Largest JSON input file (dataset, tokenizer, preset, config, run files) [default:
    /// 2147483648].
    #[arg(long, global = true, env = "MAFS_MAX_FILE_BYTES", value_name = "BYTES")]
    pub max_file_bytes: Option<u64>,
    /// Largest text vocabulary (highest token id + 1) [default: 1048576].
    #[arg(long, global = true, env = "MAFS_MAX_VOCAB", value_name = "TOKENS")]
    pub max_vocab: Option<usize>,
    /// Longest token sequence of a tower (text context, image patches + 1) [default: 16384].
    #[arg(long, global = true, env = "MAFS_MAX_SEQUENCE", value_name = "TOKENS")]
    pub max_sequence: Option<usize>,
    /// Most parameters of the two encoder towers [default: 3000000000].
    #[arg(long, global = true, env = "MAFS_MAX_MODEL_PARAMS", value_name = "N")]
    pub max_model_params: Option<u64>,
}

impl LimitArgs {
    /// The defaults with the flags given applied.
    pub fn limits(&self) -> Limits {
        let d = Limits::DEFAULT;
        Limits {
            max_image_side: self.max_image_side.unwrap_or(d.max_image_side),
            max_image_pixels: self.max_image_pixels.unwrap_or(d.max_image_pixels),
            max_file_bytes: self.max_file_bytes.unwrap_or(d.max_file_bytes),
            max_vocab: self.max_vocab.unwrap_or(d.max_vocab),
            max_sequence: self.max_sequence.unwrap_or(d.max_sequence),
            max_model_params: self.max_model_params.unwrap_or(d.max_model_params),
        }
    }

    /// Puts them in force for this process.
    pub fn apply(&self) {
        limits::set(self.limits());
    }
}
