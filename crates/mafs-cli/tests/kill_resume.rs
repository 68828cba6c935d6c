//! Crash consistency: `mafs train` killed with SIGKILL at random points (at random times, and
//! inside checkpoint saves through the `MAFS_CHECKPOINT_HOOK` test hook) and resumed with
//! `--resume-or-start` ends with checkpoint files byte-identical to an uninterrupted run's
//! (so the weights are bit-identical), and the same metrics.
//!
//! `MAFS_KILL_POINTS=N` sets the number of kill points (default 2, the CI run: one inside a
//! save, one at a random time);
//! `MAFS_KILL_SEED` moves them. `cargo xtask killtest --points N` runs this test with them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

// SplitMix64, for the kill plan.
use mafs_core::seed::splitmix64 as mix;
use mafs_train::checkpoint::hook::STAGES;

/// Saves in one uninterrupted run: 2 epochs x 2 steps, one checkpoint per step.
const SAVES: u64 = 4;

fn train_cmd(out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mafs"));
    c.args([
        "train",
        "--task",
        "vqa",
        "--fusion",
        "ma-afs",
        "--world-train",
        "16",
        "--world-eval",
        "4",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--checkpoint-every",
        "1",
        "--seed",
        "5",
        "--quiet",
        "--resume-or-start",
        "--out",
    ])
    .arg(out)
    .env_remove("MAFS_CHECKPOINT_HOOK")
    .stdout(Stdio::null());
    c
}

fn run_to_end(out: &Path) {
    let o = train_cmd(out).stderr(Stdio::piped()).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Where one process is killed.
#[derive(Debug, Clone)]
enum Kill {
    /// At the n-th time the save reaches this stage.
    Stage(&'static str, u64),
    /// After this long.
    After(Duration),
}

/// Starts a training process that will be killed at `kill`; returns once it is dead (or it
/// finished first), and whether it was killed.
fn kill_at(out: &Path, kill: &Kill) -> bool {
    match kill {
        Kill::Stage(stage, n) => {
            let mut child = train_cmd(out)
                .env("MAFS_CHECKPOINT_HOOK", format!("{stage}:{n}:pause"))
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let (tx, rx) = mpsc::channel();
            let stderr = child.stderr.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.starts_with("mafs-checkpoint-hook:") {
                        let _ = tx.send(());
                    }
                }
            });
            let paused = wait_for(&mut child, &rx);
            sigkill(&mut child);
            paused
        }
        Kill::After(t) => {
            let mut child = train_cmd(out).stderr(Stdio::null()).spawn().unwrap();
            let deadline = Instant::now() + *t;
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let alive = child.try_wait().unwrap().is_none();
            sigkill(&mut child);
            alive
        }
    }
}

/// Waits until the child pauses at its hook (true) or exits (false).
fn wait_for(child: &mut Child, paused: &mpsc::Receiver<()>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if paused.recv_timeout(Duration::from_millis(20)).is_ok() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
    }
    panic!("the training process neither paused nor finished in 300 s");
}

/// SIGKILL (`Child::kill` on Unix) and reap.
fn sigkill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The files of the final checkpoint, and metrics.json without its timing field.
fn outcome(run: &Path) -> Vec<(String, Vec<u8>)> {
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("latest.json")).unwrap()).unwrap();
    let dir = run.join(latest["checkpoint"].as_str().unwrap());
    let mut files: Vec<(String, Vec<u8>)> = [
        "model.safetensors",
        "model.bpk",
        "optimizer.bpk",
        "state.json",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
    .collect();
    let mut metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("metrics.json")).unwrap()).unwrap();
    for epoch in metrics.as_array_mut().unwrap() {
        epoch.as_object_mut().unwrap().remove("samples_per_second");
    }
    files.push(("metrics.json".into(), serde_json::to_vec(&metrics).unwrap()));
    files.push(("pointer".into(), latest.to_string().into_bytes()));
    files
}

fn points() -> (u64, u64) {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    (env("MAFS_KILL_POINTS", 2), env("MAFS_KILL_SEED", 0))
}

#[test]
fn sigkilled_training_resumes_to_identical_checkpoints() {
    let (n, seed) = points();
    let base = tempfile::tempdir().unwrap();
    let reference = base.path().join("reference");
    let start = Instant::now();
    run_to_end(&reference);
    let one_run = start.elapsed();
    let expected = outcome(&reference);
    // the run is deterministic: a second uninterrupted run writes the same bytes
    let again = base.path().join("again");
    let second = Instant::now();
    run_to_end(&again);
    // timed kills fall in the first 90% of the faster of the two runs
    let one_run = one_run.min(second.elapsed()).mul_f64(0.9);
    for ((name, a), (_, b)) in expected.iter().zip(&outcome(&again)) {
        if a != b && name.ends_with(".json") {
            eprintln!(
                "{name}, first run:\n{}\n{name}, second run:\n{}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            );
        }
        assert!(a == b, "two uninterrupted runs differ in {name}");
    }
    std::fs::remove_dir_all(&again).unwrap();

    let mut killed = 0;
    for k in 0..n {
        let r = mix(seed ^ mix(k));
        // even points die inside a save, odd ones at a random time
        let kill = if k.is_multiple_of(2) {
            let stage = STAGES[(r % STAGES.len() as u64) as usize];
            let saves = if stage == "json:metrics.json" {
                2
            } else {
                SAVES
            };
            Kill::Stage(stage, 1 + (r >> 8) % saves)
        } else {
            let ms = (r >> 8) % (one_run.as_millis() as u64).max(1);
            Kill::After(Duration::from_millis(ms))
        };
        let dir: PathBuf = base.path().join(format!("point-{k}"));
        let was_killed = kill_at(&dir, &kill);
        killed += usize::from(was_killed);
        // a second kill at a random time for a third of the points
        if r.is_multiple_of(3) {
            let ms = (r >> 20) % (one_run.as_millis() as u64).max(1);
            killed += usize::from(kill_at(&dir, &Kill::After(Duration::from_millis(ms))));
        }
        run_to_end(&dir);
        let got = outcome(&dir);
        for ((name, a), (_, b)) in expected.iter().zip(&got) {
            assert!(
                a == b,
                "kill point {k} ({kill:?}): {name} differs from the uninterrupted run"
            );
        }
        eprintln!("kill point {k}: {kill:?} (killed: {was_killed}) -> identical");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "{n} kill points, {killed} processes killed, all resumed to identical checkpoints in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    assert!(n == 0 || killed > 0, "no process was killed");
}
