//! The `mafs` binary end to end on a small world: train, resume refusal, eval (clean,
//! corrupted, shift), explain, and a bad corruption name.

use std::process::Command;

fn mafs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args(args)
        .output()
        .expect("run mafs")
}

#[test]
fn train_then_eval_explain_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let common = [
        "--task",
        "vqa",
        "--fusion",
        "ma-afs",
        "--world-train",
        "48",
        "--world-eval",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--quiet",
        "--out",
        run_s,
    ];
    let mut args = vec!["train"];
    args.extend(common);
    let out = mafs(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["steps"], 3);
    assert!(run.join("config.json").is_file());

    // Training again into the same folder without --resume is refused, and says why.
    let again = mafs(&args);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));

    for extra in [
        vec![],
        vec!["--corrupt", "image:gaussian_noise:3"],
        vec!["--split", "shift"],
    ] {
        let mut a = vec!["eval", "--run", run_s];
        a.extend(extra.iter().copied());
        let out = mafs(&a);
        assert!(
            out.status.success(),
            "{a:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let acc = v["results"][0]["metrics"]["accuracy"].as_f64().unwrap();
        assert!((0.0..=100.0).contains(&acc), "{a:?}: accuracy {acc}");
    }

    let out = mafs(&[
        "explain",
        "--run",
        run_s,
        "--index",
        "1",
        "--corrupt",
        "image:missing",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("what moved") && text.contains("image"),
        "{text}"
    );

    let bad = mafs(&["eval", "--run", run_s, "--corrupt", "image:gaussian_nois:3"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("gaussian_nois"), "{err}");
}
