//! Resumable, durable checkpoints.
//!
//! Layout of a run directory:
//!
//! ```text
//! runs/NAME/
//!   config.json                  the run's configuration (written once, atomically)
//!   metrics.json                 validation metrics per epoch (rewritten atomically)
//!   latest.json                  {"checkpoint": "checkpoints/step-0000120"}: the pointer
//!   checkpoints/step-0000120/
//!     model.safetensors          weights, plain tensors named by module path (interop)
//!     model.bpk                  the same weights in burn's burnpack, with parameter ids
//!     optimizer.bpk              AdamW moments, keyed by parameter id
//!     state.json                 step, epoch, seed, schedule state, loss history, and the
//!                                size and SHA-256 of the three files above, the config and
//!                                data fingerprints (manifest.rs)
//! ```
//!
//! **Durability.** Every file is written to a temporary name, fsynced, renamed and its
//! directory fsynced (`atomic.rs`); `state.json` is written after the files it records;
//! `latest.json` moves last. `metrics.json` is written before the pointer moves (the training
//! loop writes it first), so a resumed run never lacks the records of its checkpoint's
//! epochs. Older checkpoints are pruned by step number only after the pointer moved.
//!
//! **Resume** ([`RunDir::load_latest`]) verifies a checkpoint before it loads it (every file
//! present with its recorded size and checksum, finite weights, the run's configuration and
//! training data unchanged) and falls back to the newest good one, saying so on stderr; a
//! save refuses non-finite weights, so a diverged model never becomes the last good one.
//!
//! **Determinism.** `model.safetensors` has its header sorted ([`canonical_safetensors`]),
//! `optimizer.bpk` its tensors ([`manifest::canonical_burnpack`]), and parameter ids are
//! assigned in module order ([`crate::params::initialize_params`]), so the same run and seed give
//! byte-identical checkpoint files.
//!
//! Why burnpack beside safetensors: AdamW's state is keyed by burn's `ParamId`s, which
//! burnpack persists and safetensors does not. Safetensors is the published format (loadable
//! with Python's `safetensors`); burnpack makes resume exact.
//!
//! A test hook ([`hook`]) can stop a process at each stage of a save.

pub mod hook;
pub mod manifest;

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use mafs_data::Instance;
use serde::{Deserialize, Serialize};

use crate::atomic::{sync_dir, write_atomic, write_atomic_with};
use crate::error::TrainError;
pub use manifest::{
    CheckpointMeta, FileRecord, Fingerprints, canonical_safetensors, data_fingerprint,
};

/// The published weights of a checkpoint.
pub const SAFETENSORS_FILE: &str = "model.safetensors";
/// The burnpack weights (with parameter ids).
pub const BURNPACK_FILE: &str = "model.bpk";
/// The optimizer state.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// The training state and manifest.
pub const STATE_FILE: &str = "state.json";
/// The files every checkpoint holds besides `state.json`.
pub const WEIGHT_FILES: [&str; 3] = [SAFETENSORS_FILE, BURNPACK_FILE, OPTIMIZER_FILE];

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
    fingerprints: Option<Fingerprints>,
}

/// The step of a checkpoint directory name `step-N` (any number of digits).
fn step_of(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("step-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl RunDir {
    /// Opens (and creates) a run directory.
    pub fn create(root: impl Into<PathBuf>) -> Result<Self, TrainError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| TrainError::io(&root, e))?;
        Ok(Self {
            root,
            fingerprints: None,
        })
    }

    /// Opens an existing run directory.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, TrainError> {
        let root = root.into();
        if !root.join("config.json").is_file() {
            return Err(TrainError::NotARun { path: root });
        }
        Ok(Self {
            root,
            fingerprints: None,
        })
    }

    /// The same run directory, binding its checkpoints to a configuration and a training
    /// split: saves record their fingerprints and resume refuses checkpoints whose differ.
    pub fn with_fingerprints<C: Serialize>(
        mut self,
        config: &C,
        train: &[Instance],
    ) -> Result<Self, TrainError> {
        let text = serde_json::to_string(config).map_err(|e| TrainError::Json {
            path: self.file("config.json"),
            source: e,
        })?;
        self.fingerprints = Some(Fingerprints {
            config: manifest::sha256_hex(text.as_bytes()),
            data: data_fingerprint(train),
        });
        Ok(self)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Path of a file in the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes a JSON file atomically and durably; non-finite numbers are kept
    /// ([`mafs_core::json`]).
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), TrainError> {
        let path = self.file(name);
        let text = mafs_core::json::to_string_pretty(value).map_err(|e| TrainError::Json {
            path: path.clone(),
            source: e,
        })?;
        hook::at(&format!("json:{name}"));
        write_atomic(&path, text.as_bytes()).map_err(|e| TrainError::io(&path, e))
    }

    /// Reads a JSON file (bounded by the file-size limit; non-finite numbers read back).
    pub fn read_json<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Result<T, TrainError> {
        read_json_file(&self.file(name))
    }

    /// The checkpoint directories by step, oldest first.
    fn checkpoints(&self) -> Result<Vec<(u64, PathBuf)>, TrainError> {
        let dir = self.root.join("checkpoints");
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut out: Vec<(u64, PathBuf)> = fs::read_dir(&dir)
            .map_err(|e| TrainError::io(&dir, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| {
                let step = step_of(e.file_name().to_str()?)?;
                Some((step, e.path()))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Where `latest.json` points, when it exists and names a `checkpoints/step-N`
    /// directory; an error message otherwise.
    fn pointer(&self) -> Result<Option<(u64, PathBuf)>, String> {
        let path = self.file("latest.json");
        if !path.is_file() {
            return Ok(None);
        }
        let latest: Latest = read_json_file(&path).map_err(|e| e.to_string())?;
        let step = latest
            .checkpoint
            .strip_prefix("checkpoints/")
            .and_then(step_of)
            .ok_or_else(|| {
                format!(
                    "{}: `{}` is not a checkpoints/step-N directory",
                    path.display(),
                    latest.checkpoint
                )
            })?;
        Ok(Some((step, self.root.join(&latest.checkpoint))))
    }

    /// The checkpoints a resume tries, newest first: the one `latest.json` points to and the
    /// older ones (checkpoints newer than the pointer were never committed); every one when
    /// the pointer is missing or unreadable.
    fn candidates(&self) -> Result<Vec<PathBuf>, TrainError> {
        let all = self.checkpoints()?;
        let limit = match self.pointer() {
            Ok(Some((step, _))) => Some(step),
            Ok(None) => None,
            Err(reason) => {
                if !all.is_empty() {
                    eprintln!("warning: {reason}; trying every checkpoint, newest first");
                }
                None
            }
        };
        Ok(all
            .into_iter()
            .rev()
            .filter(|(s, p)| match limit {
                Some(limit) => *s <= limit,
                // no pointer yet: a save that did not reach state.json was never committed
                None => p.join(STATE_FILE).is_file(),
            })
            .map(|(_, p)| p)
            .collect())
    }

    /// Whether the run has a checkpoint a resume could try.
    pub fn has_checkpoint(&self) -> Result<bool, TrainError> {
        Ok(!self.candidates()?.is_empty())
    }

    /// The newest checkpoint directory a resume would try first, if any (not verified; see
    /// [`RunDir::latest_verified`]).
    pub fn latest(&self) -> Result<Option<PathBuf>, TrainError> {
        Ok(self.candidates()?.into_iter().next())
    }

    /// The newest checkpoint that passes verification (files, sizes, checksums, finite
    /// weights, and the fingerprints when bound), falling back to older ones and saying so on
    /// stderr. `None` when the run has no checkpoint.
    ///
    /// # Errors
    ///
    /// [`TrainError::BrokenCheckpoint`] listing why each checkpoint was refused when none is
    /// usable.
    pub fn latest_verified(&self) -> Result<Option<(PathBuf, TrainState)>, TrainError> {
        self.first_good(|dir| {
            manifest::verify(dir, self.fingerprints.as_ref()).map(|m| (dir.to_path_buf(), m.state))
        })
    }

    /// Tries `load` on each candidate, newest first; reports fallbacks.
    fn first_good<T>(
        &self,
        mut load: impl FnMut(&Path) -> Result<T, String>,
    ) -> Result<Option<T>, TrainError> {
        let candidates = self.candidates()?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut refused: Vec<String> = Vec::new();
        for dir in &candidates {
            match load(dir) {
                Ok(v) => {
                    if !refused.is_empty() {
                        eprintln!(
                            "warning: falling back to checkpoint {}: {}",
                            dir.display(),
                            refused.join("; ")
                        );
                    }
                    return Ok(Some(v));
                }
                Err(reason) => refused.push(format!("{} is unusable: {reason}", dir.display())),
            }
        }
        Err(TrainError::BrokenCheckpoint {
            path: self.root.clone(),
            reason: format!("no usable checkpoint: {}", refused.join("; ")),
        })
    }

    /// Saves a complete checkpoint and moves the `latest` pointer to it; keeps the newest
    /// `keep` checkpoints.
    ///
    /// # Errors
    ///
    /// [`TrainError::NonFiniteWeights`] when a weight is NaN or infinite (nothing is kept and
    /// the pointer stays on the last good checkpoint); I/O and record errors.
    pub fn save<M: Module>(
        &self,
        model: &M,
        optimizer: &ModuleOptimizer,
        state: &TrainState,
        keep: usize,
    ) -> Result<PathBuf, TrainError> {
        hook::at("begin");
        let ckpts = self.root.join("checkpoints");
        fs::create_dir_all(&ckpts).map_err(|e| TrainError::io(&ckpts, e))?;
        let rel = format!("checkpoints/step-{:07}", state.step);
        let dir = self.root.join(&rel);
        if dir.exists() {
            // a save of this step that never moved the pointer (a crash) or a rerun
            fs::remove_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        }
        fs::create_dir_all(&dir).map_err(|e| TrainError::io(&dir, e))?;
        let result = self.write_checkpoint(&dir, model, optimizer, state);
        if let Err(e) = result {
            let _ = fs::remove_dir_all(&dir);
            return Err(e);
        }
        sync_dir(&dir).map_err(|e| TrainError::io(&dir, e))?;
        sync_dir(&ckpts).map_err(|e| TrainError::io(&ckpts, e))?;
        hook::at("synced");
        hook::at("pointer");
        let pointer = self.file("latest.json");
        let text = mafs_core::json::to_string_pretty(&Latest { checkpoint: rel })
            .expect("the pointer serialises");
        write_atomic(&pointer, text.as_bytes()).map_err(|e| TrainError::io(&pointer, e))?;
        hook::at("moved");
        self.prune(keep.max(1), state.step as u64)?;
        hook::at("pruned");
        Ok(dir)
    }

    /// Writes the files of a checkpoint into `dir`, `state.json` last.
    fn write_checkpoint<M: Module>(
        &self,
        dir: &Path,
        model: &M,
        optimizer: &ModuleOptimizer,
        state: &TrainState,
    ) -> Result<(), TrainError> {
        // burn writes to paths: let it write into a scratch folder, then read the bytes back
        // (to canonicalise, check and checksum them) and write them durably
        let scratch = tempfile::Builder::new()
            .prefix(".scratch-")
            .tempdir_in(dir.parent().unwrap_or(dir))
            .map_err(|e| TrainError::io(dir, e))?;
        let record = |path: &Path, e: String| TrainError::Record {
            path: path.to_path_buf(),
            message: e,
        };
        let mut files = std::collections::BTreeMap::new();
        // model.safetensors: canonical header, finite weights
        let tmp = scratch.path().join(SAFETENSORS_FILE);
        save_safetensors(model, &tmp)?;
        let raw = fs::read(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        let bytes = canonical_safetensors(&raw).map_err(|e| record(&tmp, e))?;
        if let Err(reason) = manifest::check_finite_safetensors(&bytes) {
            return Err(TrainError::NonFiniteWeights {
                step: state.step,
                reason,
                last_good: self
                    .latest()?
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "none (no checkpoint was written yet)".into()),
            });
        }
        files.insert(
            SAFETENSORS_FILE.to_string(),
            durable(dir, SAFETENSORS_FILE, &bytes)?,
        );
        // model.bpk
        let tmp = scratch.path().join(BURNPACK_FILE);
        model
            .clone()
            .save_file(&tmp)
            .map_err(|e| record(&tmp, e.to_string()))?;
        let bytes = fs::read(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        files.insert(
            BURNPACK_FILE.to_string(),
            durable(dir, BURNPACK_FILE, &bytes)?,
        );
        // optimizer.bpk
        let tmp = scratch.path().join(OPTIMIZER_FILE);
        optimizer
            .save(&tmp)
            .map_err(|e| record(&tmp, e.to_string()))?;
        let raw = fs::read(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
        let bytes = manifest::canonical_burnpack(raw).map_err(|e| record(&tmp, e))?;
        files.insert(
            OPTIMIZER_FILE.to_string(),
            durable(dir, OPTIMIZER_FILE, &bytes)?,
        );
        // state.json, recording the others
        let fp = self.fingerprints.clone().unwrap_or_default();
        let meta = CheckpointMeta {
            state: state.clone(),
            files,
            config_fingerprint: fp.config,
            data_fingerprint: fp.data,
        };
        let text = mafs_core::json::to_string_pretty(&meta).map_err(|e| TrainError::Json {
            path: dir.join(STATE_FILE),
            source: e,
        })?;
        durable(dir, STATE_FILE, text.as_bytes())?;
        Ok(())
    }

    /// Verifies the newest checkpoint and loads it into `model` and `optimizer`, falling back
    /// to older checkpoints (saying so on stderr) when it is damaged, incomplete, holds
    /// non-finite weights or belongs to another configuration or training set.
    ///
    /// # Errors
    ///
    /// [`TrainError::BrokenCheckpoint`] listing why each checkpoint was refused when none is
    /// usable.
    pub fn load_latest<M: Module>(
        &self,
        model: M,
        optimizer: ModuleOptimizer,
    ) -> Result<Option<(M, ModuleOptimizer, TrainState)>, TrainError> {
        self.first_good(|dir| {
            let meta = manifest::verify(dir, self.fingerprints.as_ref())?;
            let (m, o, _) = load_checkpoint(dir, model.clone(), optimizer.clone())
                .map_err(|e| e.to_string())?;
            Ok((m, o, meta.state))
        })
    }

    /// Removes checkpoints older than the newest `keep` at or below `current` (by step
    /// number), and any newer than `current` (saves that never moved the pointer), and
    /// scratch folders left by a crash.
    fn prune(&self, keep: usize, current: u64) -> Result<(), TrainError> {
        let all = self.checkpoints()?;
        let committed: Vec<&(u64, PathBuf)> = all.iter().filter(|(s, _)| *s <= current).collect();
        let n = committed.len();
        let mut remove: Vec<&PathBuf> = committed
            .into_iter()
            .take(n.saturating_sub(keep))
            .map(|(_, p)| p)
            .collect();
        remove.extend(all.iter().filter(|(s, _)| *s > current).map(|(_, p)| p));
        for old in remove {
            fs::remove_dir_all(old).map_err(|e| TrainError::io(old, e))?;
        }
        // temporary files and folders a killed save left behind
        let dir = self.root.join("checkpoints");
        for e in fs::read_dir(&dir)
            .map_err(|e| TrainError::io(&dir, e))?
            .flatten()
        {
            if e.file_name().to_string_lossy().starts_with(".scratch-") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        for e in fs::read_dir(&self.root)
            .map_err(|e| TrainError::io(&self.root, e))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".latest.json.") && name.ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok(())
    }
}

/// Whether a training call continues the run in `run`: with `resume` it must have a
/// checkpoint (or `resume_or_start` lets it start afresh); without, it must have none.
///
/// # Errors
///
/// [`TrainError::Config`] for `--resume` on a run without a checkpoint, and for a new run
/// over an existing one.
pub fn resuming(run: &RunDir, resume: bool, resume_or_start: bool) -> Result<bool, TrainError> {
    let has = run.has_checkpoint()?;
    if has && (resume || resume_or_start) {
        return Ok(true);
    }
    if has {
        return Err(TrainError::Config(format!(
            "{} already holds a run; pass --resume to continue it or choose another --out",
            run.path().display()
        )));
    }
    if resume && !resume_or_start {
        return Err(TrainError::Config(format!(
            "--resume: {} has no checkpoint to resume from; pass --resume-or-start to start the run there when it has none",
            run.path().display()
        )));
    }
    Ok(false)
}

/// Writes `name` in `dir` durably (temporary name, fsync, rename, directory fsync) and
/// returns its record.
fn durable(dir: &Path, name: &str, bytes: &[u8]) -> Result<FileRecord, TrainError> {
    let path = dir.join(name);
    let stage = format!("written:{name}");
    write_atomic_with(&path, |f| {
        use std::io::Write;
        f.write_all(bytes)?;
        f.sync_all()?;
        hook::at(&stage);
        Ok(())
    })
    .map_err(|e| TrainError::io(&path, e))?;
    hook::at(&format!("persisted:{name}"));
    Ok(FileRecord::of(bytes))
}

/// Reads a JSON file of a run (bounded by the file-size limit; non-finite numbers read back).
pub fn read_json_file<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, TrainError> {
    mafs_core::limits::check_file_size(path, "run file").map_err(|m| {
        TrainError::BrokenCheckpoint {
            path: path.to_path_buf(),
            reason: m,
        }
    })?;
    let text = fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    mafs_core::json::from_str(&text).map_err(|e| TrainError::Json {
        path: path.to_path_buf(),
        source: e,
    })
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
    let state = read_json_file(&dir.join(STATE_FILE))?;
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

    fn state(step: usize) -> TrainState {
        TrainState {
            step,
            epoch: 0,
            batch_in_epoch: step,
            seed: 0,
            epoch_losses: vec![],
            last_loss: None,
            partial_sums: vec![],
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn pruning_is_numeric_past_step_9999999() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        let model = LinearConfig::new(3, 2).init(&device);
        let optim = AdamWConfig::new().init();
        for s in [9_999_998, 9_999_999, 10_000_000] {
            run.save(&model, &optim, &state(s), 2).unwrap();
        }
        // as text, "step-10000000" sorts before "step-9999998": pruning must not go by text
        assert_eq!(names(dir.path()), ["step-10000000", "step-9999999"]);
        let (latest, got) = run.latest_verified().unwrap().unwrap();
        assert!(latest.ends_with("step-10000000"));
        assert_eq!(got.step, 10_000_000);
    }

    #[test]
    fn a_damaged_checkpoint_falls_back_to_the_previous_good_one() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        let model = LinearConfig::new(3, 2).init(&device);
        let optim = AdamWConfig::new().init();
        for s in 1..=3 {
            run.save(&model, &optim, &state(s), 3).unwrap();
        }
        let ck = |s: usize| dir.path().join(format!("checkpoints/step-{s:07}"));
        // power loss: an empty weight file, then a flipped byte, then a missing one
        std::fs::write(ck(3).join(BURNPACK_FILE), b"").unwrap();
        let mut bytes = std::fs::read(ck(2).join(OPTIMIZER_FILE)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(ck(2).join(OPTIMIZER_FILE), bytes).unwrap();
        let fresh = LinearConfig::new(3, 2).init(&device);
        let (_, _, got) = run
            .load_latest(fresh.clone(), AdamWConfig::new().init())
            .unwrap()
            .unwrap();
        assert_eq!(
            got.step, 1,
            "steps 3 (empty file) and 2 (checksum) are refused"
        );
        std::fs::remove_file(ck(1).join(SAFETENSORS_FILE)).unwrap();
        let err = run
            .load_latest(fresh, AdamWConfig::new().init())
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("no usable checkpoint")
                && err.contains("bytes")
                && err.contains("checksum"),
            "{err}"
        );
        // a pointer out of checkpoints/ is not followed
        run.write_json(
            "latest.json",
            &serde_json::json!({"checkpoint": "../../etc"}),
        )
        .unwrap();
        assert!(run.latest().unwrap().unwrap().ends_with("step-0000003"));
    }

    #[test]
    fn resume_refuses_other_data_and_the_resume_flags_are_checked() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let world = |n: usize| {
            mafs_data::world::World::new(mafs_data::world::WorldConfig {
                train: n,
                ..mafs_data::world::WorldConfig::default()
            })
            .unwrap()
            .split(mafs_data::Split::Train)
        };
        let empty = RunDir::create(dir.path()).unwrap();
        let err = resuming(&empty, true, false).unwrap_err().to_string();
        assert!(err.contains("--resume-or-start"), "{err}");
        assert!(!resuming(&empty, true, true).unwrap());
        assert!(!resuming(&empty, false, false).unwrap());
        let run = empty.with_fingerprints(&"config", &world(4)).unwrap();
        let model = LinearConfig::new(3, 2).init(&device);
        run.save(&model, &AdamWConfig::new().init(), &state(1), 2)
            .unwrap();
        assert!(resuming(&run, true, false).unwrap());
        assert!(
            resuming(&run, false, false).is_err(),
            "an existing run is protected"
        );
        let changed = RunDir::create(dir.path())
            .unwrap()
            .with_fingerprints(&"config", &world(5))
            .unwrap();
        let err = changed
            .load_latest(model.clone(), AdamWConfig::new().init())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("training data changed"), "{err}");
        let other = RunDir::create(dir.path())
            .unwrap()
            .with_fingerprints(&"other config", &world(4))
            .unwrap();
        let err = other
            .load_latest(model, AdamWConfig::new().init())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("configuration"), "{err}");
    }

    #[test]
    fn non_finite_weights_are_never_saved() {
        let device = Device::flex().autodiff();
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        let good = LinearConfig::new(3, 2).init(&device);
        let optim = AdamWConfig::new().init();
        run.save(&good, &optim, &state(1), 2).unwrap();
        let mut bad = good.clone();
        bad.weight = bad.weight.map(|w| w.div_scalar(0.0));
        match run.save(&bad, &optim, &state(2), 2) {
            Err(TrainError::NonFiniteWeights { last_good, .. }) => {
                assert!(last_good.ends_with("step-0000001"), "{last_good}")
            }
            other => panic!("expected NonFiniteWeights, got {other:?}"),
        }
        assert_eq!(names(dir.path()), ["step-0000001"]);
        assert!(run.latest().unwrap().unwrap().ends_with("step-0000001"));
    }

    #[test]
    fn the_same_model_writes_byte_identical_checkpoints() {
        let device = Device::flex().autodiff();
        // explicit weights: the device RNG is shared with tests running in parallel
        let files = |seed: u64| {
            let mut model = LinearConfig::new(3, 2).init(&device);
            let v = seed as f32;
            model.weight = burn::module::Param::from_tensor(Tensor::<2>::from_floats(
                [[v, 0.5], [-1.0, 0.25], [v, 2.0]],
                &device,
            ));
            model.bias = Some(burn::module::Param::from_tensor(Tensor::<1>::from_floats(
                [0.1, -v],
                &device,
            )));
            let model = crate::params::initialize_params(model);
            let mut optim = AdamWConfig::new().init();
            let model = step(model, &mut optim, &device);
            let dir = tempfile::tempdir().unwrap();
            let run = RunDir::create(dir.path()).unwrap();
            let ck = run.save(&model, &optim, &state(1), 2).unwrap();
            WEIGHT_FILES
                .iter()
                .chain([&STATE_FILE])
                .map(|f| std::fs::read(ck.join(f)).unwrap())
                .collect::<Vec<_>>()
        };
        let (a, b) = (files(3), files(3));
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                x == y,
                "file {k} differs between two runs with the same seed"
            );
        }
        assert_ne!(a[0], files(4)[0]);
    }

    #[test]
    fn run_files_keep_non_finite_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunDir::create(dir.path()).unwrap();
        run.write_json("metrics.json", &vec![f64::NAN, 1.0, f64::INFINITY])
            .unwrap();
        let back: Vec<f64> = run.read_json("metrics.json").unwrap();
        assert!(back[0].is_nan() && back[1] == 1.0 && back[2] == f64::INFINITY);
    }
}
