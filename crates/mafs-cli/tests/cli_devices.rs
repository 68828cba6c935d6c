//! Device flags of the `mafs` binary: `--devices` trains data-parallel (burn's multi-device
//! step; here the CPU twice), and devices or `serve-device` without their cargo feature are
//! refused with the feature's name.

use std::process::Command;

fn mafs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args(args)
        .env_remove("MAFS_DEVICE")
        .env_remove("MAFS_DEVICES")
        .output()
        .expect("run mafs")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn devices_train_data_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = mafs(&[
        "train",
        "--task",
        "vqa",
        "--world-train",
        "16",
        "--world-eval",
        "4",
        "--epochs",
        "1",
        "--batch-size",
        "4",
        "--devices",
        "cpu,cpu",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["steps"].as_u64().unwrap() >= 3, "{report}");
    assert!(
        report["final_loss"].as_f64().unwrap().is_finite(),
        "{report}"
    );
}

#[test]
fn missing_features_are_named() {
    for (args, feature) in [
        (vec!["serve-device", "--port", "3999"], "remote"),
        (
            vec![
                "eval",
                "--run",
                "nowhere",
                "--device",
                "remote:127.0.0.1:3999",
            ],
            "remote",
        ),
        (vec!["eval", "--run", "nowhere", "--device", "wgpu"], "wgpu"),
        (
            vec!["eval", "--run", "nowhere", "--device", "cuda:0"],
            "cuda",
        ),
    ] {
        if (feature == "remote" && cfg!(feature = "remote"))
            || (feature == "wgpu" && cfg!(feature = "wgpu"))
            || (feature == "cuda" && cfg!(feature = "cuda"))
        {
            continue;
        }
        let out = mafs(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let e = stderr(&out);
        assert!(
            e.contains(&format!("--features {feature}")),
            "{args:?}: {e}"
        );
    }
}
