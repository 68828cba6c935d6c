//! The `mafs` binary end to end on a small world: train, resume refusal, eval (clean,
//! corrupted, shift), explain (one instance, and the split's weight shift), and a bad
//! corruption name.

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
        // the domain-shift split (evaluated below) at 8 scenes, not the built-in 500
        "--config-patch",
        r#"{"data": {"shift": 8}}"#,
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

    // The split-level mode: the paired weight shift of each corruption, as a table ...
    let out = mafs(&[
        "explain",
        "--run",
        run_s,
        "--all",
        "--corrupt",
        "image:gaussian_noise:3,text:keyboard:5",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "8 instances",
        "| condition | modality | w clean | w condition | paired change",
        "| image:gaussian_noise:3 | image |",
        "| text:keyboard:5 | side_text |",
        "signal means, clean → on the corrupted rows",
    ] {
        assert!(text.contains(want), "no `{want}` in\n{text}");
    }
    // ... and as JSON, on the split's first instances.
    let out = mafs(&[
        "explain",
        "--run",
        run_s,
        "--limit",
        "4",
        "--corrupt",
        "image:gaussian_noise:3",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["instances"], 4);
    let cond = &v["conditions"][0];
    assert_eq!(cond["corrupt"], "image:gaussian_noise:3");
    let image = &cond["weight_shift"][0];
    assert_eq!(image["modality"], "image");
    assert!(image["n_corrupted"].as_u64().unwrap() > 0, "{image}");
    let auroc = image["auroc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&auroc), "{image}");
    // Without a corruption there is nothing to explain at the split level.
    let bad = mafs(&["explain", "--run", run_s, "--all"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--corrupt"));

    let bad = mafs(&["eval", "--run", run_s, "--corrupt", "image:gaussian_nois:3"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("gaussian_nois"), "{err}");
}

#[test]
fn chance_prints_the_blind_references_of_each_task() {
    for (task, names) in [
        ("retrieval", vec!["random-ranking"]),
        ("captioning", vec!["constant-caption"]),
        ("vqa", vec!["uniform", "type-prior", "question-prior"]),
    ] {
        let out = mafs(&[
            "chance",
            "--task",
            task,
            "--world-train",
            "60",
            "--world-eval",
            "20",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let refs = v["references"].as_array().unwrap();
        let got: Vec<&str> = refs.iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(got, names, "{task}");
        for r in refs {
            let main = r["metrics"]["main"].as_f64().unwrap();
            assert!(main.is_finite() && main >= 0.0, "{task}: {r}");
        }
    }
    // retrieval chance on 20 items: t2i R@1 = 1/20
    let out = mafs(&[
        "chance",
        "--task",
        "retrieval",
        "--world-eval",
        "20",
        "--world-train",
        "20",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r1 = v["references"][0]["metrics"]["t2i_r1"].as_f64().unwrap();
    assert!((r1 - 5.0).abs() < 1e-9, "{r1}");
    let bad = mafs(&["chance", "--task", "vqa", "--split", "val2"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--split"));
}
