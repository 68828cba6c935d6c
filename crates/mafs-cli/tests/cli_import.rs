//! `mafs import open-clip` and `mafs train --init-encoders ... --freeze-encoders` end to end on
//! the committed open_clip fixture (datasets/fixtures/open_clip/), then `mafs eval` of that
//! run, `mafs import inspect` of its checkpoint, and the errors of a bad import.

use std::path::PathBuf;
use std::process::Command;

fn mafs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args(args)
        .output()
        .expect("run mafs")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/fixtures/open_clip")
        .join(name)
        .display()
        .to_string()
}

fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn import_then_train_frozen_then_eval_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let imported = dir.path().join("b32");
    let imported_s = imported.to_str().unwrap();
    let out = mafs(&[
        "import",
        "open-clip",
        "--checkpoint",
        &fixture("tiny-quickgelu.safetensors"),
        "--config",
        &fixture("tiny-quickgelu.json"),
        "--tokenizer",
        &fixture("tokenizer.json"),
        "--out",
        imported_s,
    ]);
    ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["vocab_size"], 768);
    assert_eq!(summary["quick_gelu"], true);
    assert!((summary["logit_scale"].as_f64().unwrap() - 2.3f64.exp()).abs() < 1e-3);
    for f in [
        "encoders.safetensors",
        "preset.json",
        "tokenizer.json",
        "import.json",
    ] {
        assert!(imported.join(f).is_file(), "{f}");
    }

    let run = dir.path().join("run");
    let run_s = run.to_str().unwrap();
    let out = mafs(&[
        "train",
        "--task",
        "vqa",
        "--fusion",
        "ma-afs",
        "--init-encoders",
        imported_s,
        "--freeze-encoders",
        "--world-train",
        "16",
        "--world-eval",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--quiet",
        "--out",
        run_s,
    ]);
    ok(&out);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["init"]["freeze_encoders"], true);
    assert!(
        config["tokenizer"]
            .as_str()
            .unwrap()
            .ends_with("tokenizer.json")
    );
    assert!(config["preset"].as_str().unwrap().ends_with("preset.json"));

    let out = mafs(&["eval", "--run", run_s, "--split", "val"]);
    ok(&out);

    // the run's checkpoint holds the imported text tower under mafs names
    let latest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("latest.json")).unwrap()).unwrap();
    let model = run
        .join(latest["checkpoint"].as_str().unwrap())
        .join("model.safetensors");
    let out = mafs(&["import", "inspect", model.to_str().unwrap(), "--collapse"]);
    ok(&out);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("text.token_embedding.weight\tF32\t[768, 32]"),
        "{listing}"
    );
    assert!(
        listing.contains("image.transformer.resblocks.{0-1}.attn.in_proj.weight\tF32\t[32, 96]"),
        "{listing}"
    );
}

#[test]
fn a_bad_import_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    // the QuickGELU weights under the GELU config load (same shapes); under a config with
    // another context length, the positional embedding is named
    let cfg = dir.path().join("wrong.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tiny-gelu.json")).unwrap()).unwrap();
    v["text_cfg"]["context_length"] = 8.into();
    std::fs::write(&cfg, v.to_string()).unwrap();
    let out = mafs(&[
        "import",
        "open-clip",
        "--checkpoint",
        &fixture("tiny-gelu.safetensors"),
        "--config",
        cfg.to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("positional_embedding: expected [8, 32], found [16, 32]"),
        "{err}"
    );
    assert!(!dir.path().join("x").join("encoders.safetensors").exists());

    // a tokenizer of the wrong size is refused before anything is written
    let tok = dir.path().join("tokenizer.json");
    std::fs::write(
        &tok,
        r#"{"version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
            "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
            "decoder": null,
            "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "a": 1}, "unk_token": "[UNK]"}}"#,
    )
    .unwrap();
    let out = mafs(&[
        "import",
        "open-clip",
        "--checkpoint",
        &fixture("tiny-gelu.safetensors"),
        "--config",
        &fixture("tiny-gelu.json"),
        "--tokenizer",
        tok.to_str().unwrap(),
        "--out",
        dir.path().join("y").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has 2 tokens") && err.contains("768"), "{err}");
    assert!(!dir.path().join("y").join("encoders.safetensors").exists());
}
