//! Shared helpers for the training tests: a small world and a fast configuration.

use mafs_train::config::{DataSource, FusionKind, RunConfig, Task};

/// A run on a small built-in world: 48 training scenes (240 captions), 8 validation scenes.
pub fn small_config(task: Task, fusion: FusionKind, seed: u64) -> RunConfig {
    let mut c = RunConfig::new(task, fusion, seed);
    c.data = DataSource::World {
        seed,
        train: 48,
        val: 8,
        test: 8,
        shift: 8,
    };
    c.optim.epochs = 1;
    c.optim.batch_size = 16;
    c.itm_rerank_k = 4;
    c.max_answers = 32;
    c
}

/// burn's device RNG is global to the process: tests that train must not interleave their
/// draws (initialisation, dropout), so they take this lock.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the tests run in CI (`CI` set to anything but empty, `0` or `false`, as CI services
/// and `.ci/run` set it): suites that need something from the machine fail there instead of
/// saying they did not run.
#[allow(dead_code)]
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}
