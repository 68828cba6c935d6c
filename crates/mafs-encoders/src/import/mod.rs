//! Importing pretrained towers: open_clip checkpoints (`.safetensors` state dicts, with the
//! model-config JSON that chose their architecture) onto [`crate::ImageVit`] and
//! [`crate::TextTransformer`].
//!
//! ```no_run
//! use burn::tensor::Device;
//! use mafs_encoders::import::load_open_clip;
//!
//! let device = Device::flex();
//! let (preset, towers) = load_open_clip(
//!     "open_clip_model.safetensors".as_ref(),
//!     "open_clip_config.json".as_ref(),
//!     &device,
//! )?;
//! towers.save_safetensors("runs/b32/encoders.safetensors".as_ref())?;
//! # Ok::<(), mafs_encoders::import::ImportError>(())
//! ```
//!
//! The mapping ([`keys`]) is the README's key table; [`open_clip`] checks every key before it
//! loads any; [`state_dict`] reads the file (F16/BF16/F32/F64, `module.` prefixes).

pub mod error;
pub mod keys;
pub mod open_clip;
pub mod state_dict;

pub use error::{ImportError, KeyReport, MisShaped};
pub use keys::{KeyMapping, Tower, Transform, open_clip_key};
pub use open_clip::{
    INIT_LOG_LOGIT_SCALE, OpenClipTowers, load_open_clip, load_open_clip_state_dict,
    open_clip_key_map, preset_from_open_clip_json, to_open_clip_safetensors,
};
pub use state_dict::{RawTensor, StateDict};
