//! Starting a run from pretrained towers and a Hugging Face tokenizer.
//!
//! - [`crate::config::EncoderInit`] (`RunConfig::init`): load the image and text towers from a safetensors
//!   file with mafs names (`image.*`, `text.*`: what `mafs import open-clip` writes as
//!   `encoders.safetensors`, or any run's `model.safetensors`); the prototypes, scheduler,
//!   fusion and task heads start fresh. With `freeze_encoders` the towers get no gradients,
//!   so only the rest trains.
//! - `RunConfig::tokenizer` (read by [`crate::vocabulary::Vocabulary::for_run`]): a `tokenizer.json` replaces the word-level vocabulary built from
//!   the training split; texts are then wrapped in its begin and end tokens (as open_clip's
//!   tokenizer does), so the text tower's end-of-text pooling reads the end token.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use crate::config::RunConfig;
use crate::error::TrainError;
use crate::model::MafsModel;

/// The file `mafs import` writes the towers to, in its output directory.
pub const ENCODERS_FILE: &str = "encoders.safetensors";
/// The encoder preset `mafs import` writes beside them.
pub const PRESET_FILE: &str = "preset.json";
/// The tokenizer `mafs import --tokenizer` copies beside them.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// Loads the image and text towers of `model` from `path` (mafs names `image.*`, `text.*`;
/// other keys, such as an import's `logit_scale` or a run's heads, are ignored). All or
/// nothing: every tower parameter must be in the file with its shape.
///
/// # Errors
///
/// [`TrainError::BrokenCheckpoint`] naming the missing or mis-shaped keys (with a hint when
/// the token embedding does not fit the run's tokenizer).
pub fn load_encoders(mut model: MafsModel, path: &Path) -> Result<MafsModel, TrainError> {
    let expected: Vec<String> = model
        .collect(None, None, true)
        .into_iter()
        .map(|t| t.name)
        .filter(|n| n.starts_with("image.") || n.starts_with("text."))
        .collect();
    let before = model.clone();
    let mut store = SafetensorsStore::from_file(path)
        .with_regex(r"^(image|text)\.")
        .skip_enum_variants(true)
        .allow_partial(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| TrainError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let missing: Vec<&String> = expected
        .iter()
        .filter(|n| !result.applied.contains(n))
        .collect();
    if missing.is_empty() && result.errors.is_empty() {
        return Ok(model);
    }
    drop(model);
    let errors: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
    let mut reason = format!(
        "the towers do not fit the run's architecture: tower keys not loaded {missing:?}; errors: {}",
        errors.join("; ")
    );
    if errors.iter().any(|e| e.contains("token_embedding")) {
        reason.push_str(&format!(
            " (the run's tokenizer has {} tokens: pass the checkpoint's tokenizer.json with --tokenizer)",
            before.spec.vocab_size
        ));
    }
    Err(TrainError::BrokenCheckpoint {
        path: path.to_path_buf(),
        reason,
    })
}

/// Applies `config.init` to a freshly built model: loads the towers (unless the run resumes,
/// when the checkpoint overwrites them anyway) and freezes them if asked.
///
/// # Errors
///
/// As [`load_encoders`].
pub fn init_encoders(
    model: MafsModel,
    config: &RunConfig,
    resuming: bool,
) -> Result<MafsModel, TrainError> {
    let mut model = match (&config.init.encoders, resuming) {
        (Some(path), false) => load_encoders(model, path)?,
        _ => model,
    };
    if config.init.freeze_encoders {
        model = freeze_encoders(model);
    }
    Ok(model)
}

/// The model with its image and text towers frozen (no gradients, no dropout).
pub fn freeze_encoders(mut model: MafsModel) -> MafsModel {
    model.image = model.image.freeze();
    model.text = model.text.freeze();
    model
}

/// Number of float parameter tensors of `module` that require gradients (0 for a frozen
/// tower).
pub fn trainable_tensors<M: Module>(module: &M) -> usize {
    #[derive(Default)]
    struct Count(usize);
    impl burn::module::ModuleVisitor for Count {
        fn visit_float<const D: usize>(
            &mut self,
            param: &burn::module::Param<burn::tensor::Tensor<D>>,
        ) {
            self.0 += usize::from(param.val().is_require_grad());
        }
    }
    let mut count = Count::default();
    module.visit(&mut count);
    count.0
}
