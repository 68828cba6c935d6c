//! `mafs compare --jobs`: the fusions trained side by side in worker processes give the same
//! report, number for number, as one after the other.

use std::path::Path;
use std::process::Command;

fn compare(out: &Path, jobs: &str) -> serde_json::Value {
    let run = Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args([
            "compare",
            "--world-train",
            "48",
            "--world-eval",
            "8",
            "--epochs",
            "1",
            "--batch-size",
            "16",
            "--conditions",
            "image:gaussian_noise:3",
            "--quiet",
            "--jobs",
            jobs,
            // the domain-shift split at 8 scenes instead of the built-in 500 (which made
            // this test the slowest of the workspace: 30 s of CPU per compare)
            "--config-patch",
            r#"{"data": {"shift": 8}}"#,
            "--out-dir",
        ])
        .arg(out)
        .output()
        .expect("run mafs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "--jobs {jobs}: {stderr}");
    assert_eq!(
        stderr.contains("each in its own process"),
        jobs != "1",
        "--jobs {jobs}: {stderr}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".compare-rows"))
        .collect();
    assert!(leftovers.is_empty(), "worker files left behind");
    serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap()
}

#[test]
fn side_by_side_fusions_give_the_sequential_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let parallel = compare(&dir.path().join("parallel"), "2");
    let sequential = compare(&dir.path().join("sequential"), "1");
    let rows = parallel.as_array().unwrap();
    // clean, the condition, the two single-modality checks and the shift split, per fusion
    assert_eq!(rows.len(), 2 * 5, "{parallel:#}");
    assert_eq!(rows[0]["fusion"], "ma-afs");
    assert_eq!(parallel, sequential);
}

#[test]
fn a_run_folder_is_refused_with_the_flag_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args(["compare", "--world-train", "8", "--out"])
        .arg(dir.path().join("mine"))
        .output()
        .expect("run mafs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{stderr}");
    assert!(stderr.contains("--out-dir"), "{stderr}");
    assert!(!dir.path().join("mine").exists(), "nothing is written");
}
