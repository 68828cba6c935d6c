//! A test hook that stops a process inside a checkpoint save, for the crash-consistency
//! test (`cargo xtask killtest`).
//!
//! `MAFS_CHECKPOINT_HOOK=STAGE[:N][:ACTION]` makes the process, the `N`-th time (default 1)
//! it reaches `STAGE` of a save, print `mafs-checkpoint-hook: STAGE` on stderr and then
//! `pause` (the default: sleep until killed, so the test sends SIGKILL at a known point) or
//! `abort` (die at once). Without the variable a hook is one environment look-up.
//!
//! The stages of a save, in order ([`STAGES`]): `begin`, `written:FILE` (the temporary file
//! of FILE is complete and synced, not yet renamed) and `persisted:FILE` for each of
//! `model.safetensors`, `model.bpk`, `optimizer.bpk` and `state.json`, `synced` (the
//! checkpoint directory is synced), `pointer` (before `latest.json` moves), `moved` (after)
//! and `pruned`; and `json:NAME` before a run file such as `metrics.json` is written.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The environment variable of the hook.
pub const HOOK_VAR: &str = "MAFS_CHECKPOINT_HOOK";

/// Every stage a save passes, in order.
pub const STAGES: [&str; 14] = [
    "begin",
    "written:model.safetensors",
    "persisted:model.safetensors",
    "written:model.bpk",
    "persisted:model.bpk",
    "written:optimizer.bpk",
    "persisted:optimizer.bpk",
    "written:state.json",
    "persisted:state.json",
    "synced",
    "pointer",
    "moved",
    "pruned",
    "json:metrics.json",
];

static HITS: AtomicUsize = AtomicUsize::new(0);

/// Called at each stage of a save.
pub fn at(stage: &str) {
    let Ok(spec) = std::env::var(HOOK_VAR) else {
        return;
    };
    // STAGE may itself hold one ':' (`written:state.json`): peel N and ACTION off the end
    let (mut want, mut n, mut action) = (spec.as_str(), 1usize, "pause");
    if let Some((head, last)) = spec.rsplit_once(':') {
        if last == "pause" || last == "abort" {
            action = if last == "abort" { "abort" } else { "pause" };
            want = head;
        }
        if let Some((head2, num)) = want.rsplit_once(':')
            && let Ok(k) = num.parse::<usize>()
        {
            n = k.max(1);
            want = head2;
        }
    }
    if want != stage {
        return;
    }
    if HITS.fetch_add(1, Ordering::SeqCst) + 1 != n {
        return;
    }
    eprintln!("mafs-checkpoint-hook: {stage}");
    if action == "abort" {
        std::process::abort();
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
