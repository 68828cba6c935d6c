//! Pieces shared by the commands that train and evaluate several runs (`compare`,
//! `robustness`): train a run or reuse it when finished, and turn a corruption spec into the
//! transform an evaluation applies (`eval` and `explain` parse theirs here too).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use mafs_data::corrupt::{CorruptionSpec, DonorPool};
use mafs_data::{Instance, InstanceTransform};
use mafs_train::config::RunConfig;
use mafs_train::train::{EpochRecord, TrainOptions, train};

/// Whether the run in `out` has trained all of `config`'s epochs.
pub fn is_finished(out: &Path, config: &RunConfig) -> bool {
    out.join("latest.json").is_file()
        && mafs_train::RunDir::open(out)
            .and_then(|r| r.read_json::<Vec<EpochRecord>>("metrics.json"))
            .map(|h| h.len() >= config.optim.epochs)
            .unwrap_or(false)
}

/// Trains `config` into `opts.out` (resuming a stopped run), or reuses the run there when
/// it is finished. Messages read `[tag] label: …`. Returns the training wall time of this
/// call, or `None` when the run was reused.
pub fn train_or_reuse(
    config: &RunConfig,
    mut opts: TrainOptions,
    tag: &str,
    label: &str,
) -> Result<Option<f64>> {
    if is_finished(&opts.out, config) {
        eprintln!(
            "[{tag}] {label}: reusing the finished run in {}",
            opts.out.display()
        );
        return Ok(None);
    }
    opts.resume = true;
    opts.resume_or_start = true;
    let start = Instant::now();
    train(config, &opts).with_context(|| format!("training {label} in {}", opts.out.display()))?;
    Ok(Some(start.elapsed().as_secs_f64()))
}

/// A corruption spec (`image:gaussian_noise:3`, several comma-separated) parsed, seeded by
/// the run seed, with the evaluated instances as misalignment donors.
pub fn corruption_spec(spec: &str, seed: u64, instances: &[Instance]) -> Result<CorruptionSpec> {
    let spec = CorruptionSpec::parse(spec)
        .with_context(|| format!("corruption spec `{spec}`"))?
        .with_seed(seed);
    Ok(if spec.needs_donors() {
        spec.with_donors(Arc::new(DonorPool::from_instances(instances)))
    } else {
        spec
    })
}

/// The transform of [`corruption_spec`].
pub fn corruption_transform(
    spec: &str,
    seed: u64,
    instances: &[Instance],
) -> Result<Arc<dyn InstanceTransform>> {
    Ok(Arc::new(corruption_spec(spec, seed, instances)?))
}
