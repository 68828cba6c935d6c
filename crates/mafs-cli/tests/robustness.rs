//! `mafs robustness` end to end on a tiny sweep (VQA, two fusions, one seed, two corruption
//! families): the report's structure, figures that decode, numbers that are the
//! evaluations' (recomputed from the per-instance file and by an independent `mafs eval`),
//! the weight shift of each corruption, a second invocation that skips the finished cells,
//! and a third over cell files saved before the weight-shift evidence was kept.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn mafs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mafs"))
        .args(args)
        .output()
        .expect("run mafs")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn mean(v: &Value) -> f64 {
    let a = v.as_array().unwrap();
    a.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / a.len() as f64
}

#[test]
fn tiny_sweep_report_numbers_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    let out_s = out.to_str().unwrap();
    let args = [
        "robustness",
        "--tasks",
        "vqa",
        "--fusions",
        "fixed-query,ma-afs",
        "--seeds",
        "1",
        "--corruptions",
        "image:gaussian_noise,text:missing",
        "--severities",
        "1,3",
        "--world-train",
        "48",
        "--world-eval",
        "8",
        "--world-shift",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "16",
        "--resamples",
        "200",
        "--quiet",
        "--out",
        out_s,
    ];
    let run = mafs(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("evals/s") && stderr.contains("ETA"),
        "{stderr}"
    );

    // Report structure.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for heading in [
        "# Robustness benchmark",
        "## vqa (accuracy)",
        "### Every condition",
        "### The claims, answered by the numbers",
        "**1. Is `ma-afs` at least as good as every baseline clean?**",
        "**2. Does its lead grow with severity?**",
        "**3. Does the weight of a corrupted modality fall as severity rises?**",
        "**4. Does it generalise better to `shift`?**",
        "**5. What does it cost?**",
        "## Figures",
    ] {
        assert!(report.contains(heading), "missing {heading}:\n{report}");
    }
    for stem in [
        "severity_vqa",
        "weight_severity_vqa",
        "weights_vqa",
        "weight_uncertainty_vqa",
    ] {
        let png = out.join("figures").join(format!("{stem}.png"));
        let img = image::open(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(img.width() > 300 && img.height() > 200);
        let svg = std::fs::read_to_string(out.join("figures").join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(report.contains(&format!("figures/{stem}.png")));
    }

    // results.json: the conditions and both cells, each with every condition.
    let results = read_json(&out.join("results.json"));
    let names: Vec<&str> = results["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "clean",
            "image:gaussian_noise:1",
            "image:gaussian_noise:3",
            "text:missing",
            "shift"
        ]
    );
    let cells = results["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2);
    let cell = |fusion: &str| {
        cells
            .iter()
            .find(|c| c["fusion"] == fusion)
            .unwrap_or_else(|| panic!("no {fusion} cell"))
    };
    let main_of = |fusion: &str, cond: &str| {
        cell(fusion)["evals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["condition"] == cond)
            .unwrap()["main"]
            .as_f64()
            .unwrap()
    };
    for c in cells {
        assert_eq!(c["evals"].as_array().unwrap().len(), 5);
    }

    // The numbers are the evaluations': main = mean of the per-instance scores ...
    let cell_dir = out.join("cells").join("vqa-ma-afs-s0");
    let inst = read_json(&cell_dir.join("instances.json"));
    for cond in names.iter().copied() {
        let scores = &inst["conditions"][cond]["scores"];
        assert!(
            (mean(scores) - main_of("ma-afs", cond)).abs() < 1e-9,
            "{cond}"
        );
    }
    // ... and what `mafs eval` of the cell's run says, for a corrupted condition.
    let run_dir = cell_dir.join("run");
    let eval = mafs(&[
        "eval",
        "--run",
        run_dir.to_str().unwrap(),
        "--corrupt",
        "image:gaussian_noise:3",
    ]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let eval: Value = serde_json::from_slice(&eval.stdout).unwrap();
    let independent = eval["results"][0]["metrics"]["main"].as_f64().unwrap();
    assert!((independent - main_of("ma-afs", "image:gaussian_noise:3")).abs() < 1e-9);

    // The weight shift: the report's table, and per seed what `mafs eval` measures.
    assert!(
        report.contains("### Weights against the same instances clean"),
        "{report}"
    );
    assert!(
        report.contains("| ma-afs | image:gaussian_noise:3 | Δ ") && report.contains("AUROC"),
        "{report}"
    );
    let shift = |fusion: &str| {
        results["summary"]["weight_shifts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| {
                r["fusion"] == fusion
                    && r["condition"] == "image:gaussian_noise:3"
                    && r["modality"] == "image"
            })
            .unwrap_or_else(|| panic!("no {fusion} image shift"))
            .clone()
    };
    let ours = shift("ma-afs");
    let seed0 = &ours["per_seed"][0]["shift"];
    assert!(seed0["n_corrupted"].as_u64().unwrap() > 0, "{ours}");
    let by_eval = &eval["results"][0]["weight_shift"][0];
    for k in ["paired_change", "auroc"] {
        let (a, b) = (seed0[k].as_f64().unwrap(), by_eval[k].as_f64().unwrap());
        assert!((a - b).abs() < 1e-9, "{k}: {a} vs {b}");
    }
    // A fixed fusion's weights do not move: no change, chance AUROC.
    let fixed = shift("fixed-query");
    assert!(fixed["paired_change"]["mean"].as_f64().unwrap().abs() < 1e-6);
    assert!((fixed["auroc"]["mean"].as_f64().unwrap() - 0.5).abs() < 1e-9);
    assert!(
        results["summary"]["weight_shift_unavailable"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The report's table shows those numbers, and the paired test's difference is the
    // difference of the two cells' per-instance means (same instances).
    let row = format!(
        "| clean | {:.2} | {:.2} |",
        main_of("fixed-query", "clean"),
        main_of("ma-afs", "clean")
    );
    assert!(report.contains(&row), "no `{row}` in\n{report}");
    let test = results["summary"]["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["condition"] == "clean" && c["baseline"] == "fixed-query")
        .unwrap();
    let diff = main_of("ma-afs", "clean") - main_of("fixed-query", "clean");
    assert!((test["test"]["mean_diff"].as_f64().unwrap() - diff).abs() < 1e-9);
    let shown = format!("{:+.2}", diff);
    assert!(
        report.contains(&format!("vs fixed-query: {shown}")),
        "{report}"
    );
    // Missing text: the side text's weight is exactly 0 for every instance.
    let w = &inst["conditions"]["text:missing"]["weights"];
    assert!(
        w.as_array()
            .unwrap()
            .iter()
            .all(|w| w[2].as_f64() == Some(0.0))
    );

    // A second invocation skips both finished cells and writes the same results.
    let again = mafs(&args);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert_eq!(stderr.matches("done, skipped").count(), 2, "{stderr}");
    let again = read_json(&out.join("results.json"));
    assert_eq!(again["cells"], results["cells"]);

    // Cell files from before the weight-shift evidence was kept still load: the report
    // says the shift is not available instead of failing.
    for fusion in ["fixed-query", "ma-afs"] {
        let path = out
            .join("cells")
            .join(format!("vqa-{fusion}-s0/instances.json"));
        let mut inst = read_json(&path);
        inst.as_object_mut().unwrap().remove("signal_names");
        for c in inst["conditions"].as_object_mut().unwrap().values_mut() {
            let c = c.as_object_mut().unwrap();
            c.remove("corrupted");
            c.remove("signals");
        }
        std::fs::write(&path, inst.to_string()).unwrap();
    }
    let old = mafs(&args);
    assert!(
        old.status.success(),
        "{}",
        String::from_utf8_lossy(&old.stderr)
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("Weight shift not available for `fixed-query` seed 0"),
        "{report}"
    );
    let old = read_json(&out.join("results.json"));
    assert!(
        old["summary"]["weight_shifts"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(old["cells"], results["cells"]);
}
