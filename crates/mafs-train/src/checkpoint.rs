//! Resumable checkpoints.
//!
//! Layout of a run directory:
//!
//! ```text
//! runs/NAME/
//!   config.json                  the run's configuration (written once, atomically)
//!   metrics.json                 validation metrics per epoch (rewritten atomically)
//!   latest.json                  {"checkpoint": "checkpoints/step-000120"}: the pointer
//!   checkpoints/step-000120/
//!     model.safetensors          weights, plain tensors named by module path (interop)
//!     model.bpk                  the same weights in burn's burnpack, with parameter ids
//!     optimizer.bpk              AdamW moments, keyed by parameter id
//!     state.json                 step, epoch, seed, learning-rate schedule state, loss history
//! ```
//!
//! A checkpoint directory is complete before `latest.json` points at it, and the pointer is
//! replaced atomically, so a run killed at any moment resumes from its last complete
//! checkpoint. Older checkpoints beyond `keep` are removed only after the pointer moved.
//!
//! Why burnpack beside safetensors: AdamW's state is keyed by burn's random `ParamId`s, which
//! burnpack persists and safetensors does not. Safetensors is the published format (loadable
//! with Python's `safetensors`); burnpack makes resume exact.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::TrainError;

/// Training state saved with every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimisation steps done.
    pub step: usize,
    /// Epochs fully done.
    pub epoch: usize,
    /// Batches of the current epoch already done (for mid-epoch checkpoints).
    pub batch_in_epoch: usize,
    /// The run's seed. Every random draw of training is a function of (seed, step) or
    /// (seed, epoch), so this and `step` are the whole RNG state.
    pub seed: u64,
    /// Mean training loss of each finished epoch.
    pub epoch_losses: Vec<f64>,
    /// Last finite training loss.
    pub last_loss: Option<f64>,
    /// Running sums of the current epoch's loss terms and mean weights (so that a run resumed
    /// mid-epoch reports the same epoch means as an uninterrupted one).
    #[serde(default)]
    pub partial_sums: Vec<f64>,
}

/// Where `latest.json` points.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Latest {
    checkpoint: String,
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// Opens (and creates) a run directory.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self, TrainError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| TrainError::io(&root, e))?;
        Ok(Self { root })
    }

    /// Opens an existing run directory.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, TrainError> {
        let root = root.into();
        if !root.join("config.json").is_file() {
            return Err(TrainError::NotARun { path: root });
        }
        Ok(Self { root })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Path of a file in the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes a JSON file atomically.
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), TrainError> {
        let path = self.file(name);
        let text = serde_json::to_string_pretty(value).map_err(|e| TrainError::Json {
            path: path.clone(),
            source: e,
        })?;
        write_atomic(&path, text.as_bytes()).map_err(|e| TrainError::io(&path, e))
    }

    /// Reads a JSON file.
    pub fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<T, TrainError> {
        let path = self.file(name);
        let text = fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| TrainError::Json { path, source: e })
    }

    /// The latest complete checkpoint directory, if any.
    pub fn latest(&self) -> Result<Option<PathBuf>, TrainError> {
        let pointer = self.file("latest.json");
        if !pointer.is_file() {
            return Ok(None);
        }
        let latest: Latest = self.read_json("latest.json")?;
        let dir = self.root.join(latest.checkpoint);
        if !dir.join("state.json").is_file() {
            return Err(TrainError::BrokenCheckpoint {
                path: dir,
                reason: "latest.json points at a directory without state.json".into(),
            });
        }
        Ok(Some(dir))
    }

    /// Saves a complete checkpoint and moves the `latest` pointer to it; keeps the newest
    /// `keep` checkpoints.
    pub fn save<M: Module>(
        &self,
        model: &M,
        optimizer: &ModuleOptimizer,
        state: &TrainState,
        keep: usize,
    ) -> Result<PathBuf, TrainError> {
        let rel = format!("checkpoints/step-{:07}", state.step);
        let dir = self.root.join(&rel);
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        save_safetensors(model, &dir.join("model.safetensors"))?;
        let bpk = dir.join("model.bpk");
        model
            .clone()
            .save_file(&bpk)
            .map_err(|e| TrainError::Record {
                path: bpk.clone(),
                message: e.to_string(),
            })?;
        let opt = dir.join("optimizer.bpk");
        optimizer.save(&opt).map_err(|e| TrainError::Record {
            path: opt.clone(),
            message: e.to_string(),
        })?;
        let state_path = dir.join("state.json");
        let text = serde_json::to_string_pretty(state).expect("TrainState serialises");
        write_atomic(&state_path, text.as_bytes()).map_err(|e| TrainError::io(&state_path, e))?;
        self.write_json("latest.json", &Latest { checkpoint: rel })?;
        self.prune(keep.max(1))?;
        Ok(dir)
    }

    /// Loads the latest checkpoint into `model` and `optimizer`.
    pub fn load_latest<M: Module>(
        &self,
        model: M,
        optimizer: ModuleOptimizer,
    ) -> Result<Option<(M, ModuleOptimizer, TrainState)>, TrainError> {
        let Some(dir) = self.latest()? else {
            return Ok(None);
        };
        let (model, optimizer, state) = load_checkpoint(&dir, model, optimizer)?;
        Ok(Some((model, optimizer, state)))
    }

    fn prune(&self, keep: usize) -> Result<(), TrainError> {
        let dir = self.root.join("checkpoints");
        let mut entries: Vec<PathBuf> = fs::read_dir(&dir)
            .map_err(|e| TrainError::io(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("step-"))
            })
            .collect();
        entries.sort();
        let n = entries.len();
        for old in entries.into_iter().take(n.saturating_sub(keep)) {
            fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
        }
        Ok(())
    }
}

/// Writes a module's weights as safetensors: plain tensors named by module path (enum
/// variant names skipped), loadable with Python's `safetensors`.
pub fn save_safetensors<M: Module>(model: &M, path: &Path) -> Result<(), TrainError> {
    let mut store = SafetensorsStore::from_file(path)
        .overwrite(true)
        .skip_enum_variants(true)
        .metadata("producer", "mafs");
    model.save_into(&mut store).map_err(|e| TrainError::Record {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Loads safetensors weights into a module; every key must match (names and shapes), and
/// any missing, unused or mis-shaped key is reported by name.
pub fn load_safetensors<M: Module>(mut model: M, path: &Path) -> Result<M, TrainError> {
    let mut store = SafetensorsStore::from_file(path)
        .skip_enum_variants(true)
        .allow_partial(true);
    let result = model
        .load_from(&mut store)
        .map_err(|e| TrainError::Record {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        return Err(TrainError::BrokenCheckpoint {
            path: path.to_path_buf(),
            reason: format!(
                "missing keys {:?}, unused keys {:?}, errors: {}",
                result.missing,
                result.unused,
                result
                    .errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        });
    }
    Ok(model)
}

/// Loads one checkpoint directory.
pub fn load_checkpoint<M: Module>(
    dir: &Path,
    model: M,
    optimizer: ModuleOptimizer,
) -> Result<(M, ModuleOptimizer, TrainState), TrainError> {
    let bpk = dir.join("model.bpk");
    let model = model.try_load_file(&bpk).map_err(|e| TrainError::Record {
        path: bpk.clone(),
        message: e.to_string(),
    })?;
    let opt = dir.join("optimizer.bpk");
    let optimizer = optimizer.load(&opt).map_err(|e| TrainError::Record {
        path: opt.clone(),
        message: e.to_string(),
    })?;
    let state_path = dir.join("state.json");
    let text = fs::read_to_string(&state_path).map_err(|e| TrainError::io(&state_path, e))?;
    let state = serde_json::from_str(&text).map_err(|e| TrainError::Json {
        path: state_path,
        source: e,
    })?;
    Ok((model, optimizer, state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamWConfig, GradientsParams};
    use burn::tensor::{Device, Tensor};

    fn step(model: Linear, optim: &mut ModuleOptimizer, device: &Device) -> Linear {
        let x = Tensor::<2>::from_floats([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]], device);
        let loss = model.forward(x).powi_scalar(2).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        optim.step(1e-2, model, grads)
    }

    fn weights(model: &Linear) -> Vec<f32> {
        model.weight.val().into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn resume_from_checkpoint_continues_exactly() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        run.write_json("config.json", &serde_json::json!({"test": true}))
            .unwrap();

        let mut model = LinearConfig::new(3, 2).init(&device);
        let mut optim = AdamWConfig::new().init();
        model = step(model, &mut optim, &device);
        let state = TrainState {
            step: 1,
            epoch: 0,
            batch_in_epoch: 1,
            seed: 7,
            epoch_losses: vec![],
            last_loss: Some(0.5),
            partial_sums: vec![],
        };
        run.save(&model, &optim, &state, 2).unwrap();

        // Uninterrupted: two more steps.
        let mut straight = model.clone();
        let mut straight_optim = optim.clone();
        for _ in 0..2 {
            straight = step(straight, &mut straight_optim, &device);
        }

        // Resumed: a fresh model and optimizer (new parameter ids) loaded from disk.
        let fresh = LinearConfig::new(3, 2).init(&device);
        let (mut resumed, mut resumed_optim, got) = RunDir::open(dir.path())
            .unwrap()
            .load_latest(fresh, AdamWConfig::new().init())
            .unwrap()
            .expect("a checkpoint");
        assert_eq!(got, state);
        for _ in 0..2 {
            resumed = step(resumed, &mut resumed_optim, &device);
        }
        assert_eq!(weights(&resumed), weights(&straight));

        // The safetensors copy holds the same weights under their module paths.
        let ckpt = run.latest().unwrap().unwrap();
        let loaded = load_safetensors(
            LinearConfig::new(3, 2).init(&device),
            &ckpt.join("model.safetensors"),
        )
        .unwrap();
        assert_eq!(weights(&loaded), weights(&model));
    }

    #[test]
    fn prunes_old_checkpoints_and_rejects_wrong_shapes() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        let model = LinearConfig::new(3, 2).init(&device);
        let optim = AdamWConfig::new().init();
        for s in 1..=4 {
            let state = TrainState {
                step: s,
                epoch: 0,
                batch_in_epoch: s,
                seed: 0,
                epoch_losses: vec![],
                last_loss: None,
                partial_sums: vec![],
            };
            run.save(&model, &optim, &state, 2).unwrap();
        }
        let kept: Vec<_> = std::fs::read_dir(dir.path().join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(kept.len(), 2, "{kept:?}");
        let latest = run.latest().unwrap().unwrap();
        assert!(latest.ends_with("step-0000004"));
        let err = load_safetensors(
            LinearConfig::new(4, 2).init(&device),
            &latest.join("model.safetensors"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("weight"), "{err}");
    }
}
