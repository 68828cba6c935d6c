//! `mafs eval --data`: a run trained on one world is evaluated on another world exported in
//! each real format (COCO captions, WebDataset, parquet, VQA v2 pairs), for every task, with
//! the run's own vocabulary; unknown tokens and answers are counted; a dataset that does
//! not fit the task is refused with a reason.

use std::path::Path;
use std::process::{Command, Output};

fn mafs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args(args)
        .output()
        .expect("run mafs")
}

fn ok(args: &[&str]) -> Output {
    let out = mafs(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn train(task: &str, run: &Path) {
    ok(&[
        "train",
        "--task",
        task,
        "--fusion",
        "ma-afs",
        "--world-train",
        "32",
        "--world-eval",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--quiet",
        "--out",
        run.to_str().unwrap(),
    ]);
}

/// Exports a world of another seed (a different dataset) in `format`.
fn export(dir: &Path, format: &str) {
    ok(&[
        "data",
        "export",
        "--out",
        dir.to_str().unwrap(),
        "--format",
        format,
        "--seed",
        "9",
        "--train",
        "4",
        "--val",
        "2",
        "--test",
        "6",
        "--shift",
        "2",
        "--per-shard",
        "4",
        "--image-size",
        "20",
    ]);
}

fn eval(run: &Path, data: &str, images: Option<&Path>) -> serde_json::Value {
    let mut args = vec!["eval", "--run", run.to_str().unwrap(), "--data", data];
    let images = images.map(|p| p.to_str().unwrap().to_string());
    if let Some(i) = &images {
        args.extend(["--images", i]);
    }
    serde_json::from_slice(&ok(&args).stdout).unwrap()
}

#[test]
fn runs_evaluate_on_other_datasets_in_every_format_for_every_task() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for format in ["karpathy", "coco", "wds", "parquet"] {
        export(&d.join(format), format);
    }
    let coco = format!("coco:{}", d.join("coco/coco/captions_test.json").display());
    let wds = format!(
        "wds:{}",
        d.join("wds/wds/test-{000000..000001}.tar").display()
    );
    let parquet = format!(
        "parquet:{}",
        d.join("parquet/parquet/test.parquet").display()
    );
    let vqa = format!(
        "vqa:val={},{};layout=id",
        d.join("karpathy/vqa_questions.json").display(),
        d.join("karpathy/vqa_annotations.json").display()
    );

    let retrieval = d.join("retrieval");
    train("retrieval", &retrieval);
    for (spec, images) in [
        (&coco, Some(d.join("coco/images"))),
        (&wds, None),
        (&parquet, None),
    ] {
        let v = eval(&retrieval, spec, images.as_deref());
        let rsum = v["results"][0]["metrics"]["rsum"].as_f64().unwrap();
        assert!((0.0..=600.0).contains(&rsum), "{spec}: rsum {rsum}");
        assert_eq!(v["results"][0]["n"], 6, "{spec}: the 6 test scenes");
        let c = &v["coverage"];
        assert!(c["tokens"].as_u64().unwrap() > 0, "{spec}: {c}");
        assert!(c["unknown_tokens"].as_u64().is_some(), "{spec}: {c}");
    }

    let captioning = d.join("captioning");
    train("captioning", &captioning);
    let v = eval(&captioning, &parquet, None);
    let cider = v["results"][0]["metrics"]["CIDEr"].as_f64().unwrap();
    assert!(cider.is_finite() && cider >= 0.0, "CIDEr {cider}");

    let vqa_run = d.join("vqa");
    train("vqa", &vqa_run);
    let v = eval(&vqa_run, &vqa, Some(&d.join("karpathy/images")));
    let acc = v["results"][0]["metrics"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&acc), "accuracy {acc}");
    let c = &v["coverage"];
    assert!(c["questions"].as_u64().unwrap() > 0, "{c}");
    assert!(c["unknown_answers"].as_u64().is_some(), "{c}");

    // A VQA run cannot be scored on caption data, and says why.
    let out = mafs(&[
        "eval",
        "--run",
        vqa_run.to_str().unwrap(),
        "--data",
        &parquet,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("has no questions"), "{err}");
}
