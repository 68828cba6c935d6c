//! `cargo xtask bench --scale`: how the cost of a training step grows with batch size, image
//! size, text length and the number of modalities (VQA at `tiny`; burn, and PyTorch where
//! found), drawn as `docs/figures/scale.png` with mafs-eval's figure code (the Rust bench
//! renders it; xtask only writes the figure's JSON).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::bench::{Bench, median};

/// One swept axis: panel title, x label, bench flag, values, and the batch it runs at (0: the
/// value is the batch).
struct Axis {
    title: String,
    x_label: &'static str,
    flag: &'static str,
    values: Vec<usize>,
    batch: usize,
}

/// The swept axes. `quick`: the batch axis stops at 64 and the other axes run at batch 8
/// instead of 16, for a sweep that fits in a few minutes on 2 cores.
fn axes(quick: bool) -> Vec<Axis> {
    let (batches, b) = if quick {
        (vec![8, 16, 32, 64], 8)
    } else {
        (vec![8, 16, 32, 64, 128], 16)
    };
    let title = |what: &str| format!("{what} (batch {b})");
    [
        (
            "batch size (64x64 images, 16 tokens)".to_string(),
            "batch",
            "--batch",
            batches,
            0,
        ),
        (
            title("image size, patch 8"),
            "image side (px)",
            "--image-size",
            vec![32, 64, 128, 224],
            b,
        ),
        (
            title("text length"),
            "tokens",
            "--context-length",
            vec![8, 16, 32, 64],
            b,
        ),
        (
            title("modalities, image + texts"),
            "modalities",
            "--modalities",
            vec![2, 3],
            b,
        ),
    ]
    .into_iter()
    .map(|(title, x_label, flag, values, batch)| Axis {
        title,
        x_label,
        flag,
        values,
        batch,
    })
    .collect()
}

/// Runs the sweep and writes the figure and the raw numbers.
pub fn run(bench: &Bench, out: &Path, quick: bool, iters: usize) -> Result<ExitCode> {
    let mut panels = Vec::new();
    let mut raw = Vec::new();
    let iters = iters.to_string();
    for axis in &axes(quick) {
        let mut burn_pts = Vec::new();
        let mut torch_pts = Vec::new();
        for &v in &axis.values {
            let batch = if axis.batch == 0 { v } else { axis.batch };
            let mut args: Vec<String> = [
                "--mode", "train", "--task", "vqa", "--iters", &iters, "--batch",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.push(batch.to_string());
            if axis.batch != 0 {
                args.extend([axis.flag.to_string(), v.to_string()]);
            }
            let refs = |extra: &[String]| -> Vec<String> {
                let mut a = args.clone();
                a.extend_from_slice(extra);
                a
            };
            let b_args = refs(&["--preset".into(), "tiny".into()]);
            let b = bench.burn(&b_args.iter().map(String::as_str).collect::<Vec<_>>())?;
            let mut t_extra = vec![
                "--preset".to_string(),
                "crates/mafs-encoders/presets/tiny.json".to_string(),
            ];
            for key in ["vocab_size", "n_answers"] {
                if let Some(n) = b.get(key).and_then(Value::as_u64) {
                    let flag = if key == "vocab_size" {
                        "--vocab"
                    } else {
                        "--answers"
                    };
                    t_extra.extend([flag.to_string(), n.to_string()]);
                }
            }
            let t_args = refs(&t_extra);
            let t = bench.torch(&t_args.iter().map(String::as_str).collect::<Vec<_>>())?;
            let b_ms = b["ms_per_iter"].as_f64().unwrap_or(f64::NAN);
            let t_ms = t
                .as_ref()
                .and_then(|t| t["ms_per_iter"].as_f64())
                .unwrap_or(f64::NAN);
            eprintln!(
                "scale: {} = {v}: burn {b_ms:.0} ms, torch {t_ms:.0} ms per step",
                axis.x_label
            );
            burn_pts.push(json!([v as f64, b_ms, 0.0]));
            if t.is_some() {
                torch_pts.push(json!([v as f64, t_ms, 0.0]));
            }
            raw.push(
                json!({"axis": axis.x_label, "value": v, "batch": batch, "burn": b, "torch": t}),
            );
        }
        let mut series = vec![json!({
            "name": "burn (mafs)", "color": [0x4e, 0x79, 0xa7], "style": "Line", "points": burn_pts,
        })];
        if bench.has_torch() {
            series.push(json!({
                "name": "PyTorch", "color": [0xf2, 0x8e, 0x2b], "style": "Line", "points": torch_pts,
            }));
        }
        // The measured sizes as ticks; log axes where the sweep spans a factor of 4 or more
        // (step time grows by powers with the size).
        let xs: Vec<f64> = burn_pts.iter().filter_map(|p| p[0].as_f64()).collect();
        let wide = xs.len() > 2;
        panels.push(json!({
            "title": axis.title, "x_label": axis.x_label, "y_label": "ms per training step",
            "series": series, "x_range": null, "y_range": null,
            "x_tick_labels": xs.iter().map(|x| json!([x, format!("{x}")])).collect::<Vec<_>>(),
            "x_log": wide, "y_log": wide, "legend": "upper_left",
        }));
    }
    let ratio = median(
        raw.iter()
            .filter_map(|r| {
                let b = r["burn"]["ms_per_iter"].as_f64()?;
                let t = r["torch"]["ms_per_iter"].as_f64()?;
                Some(t / b)
            })
            .collect(),
    );
    let figure = json!({
        "title": format!("VQA training step, tiny preset, {} threads", std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "2".into())),
        "panels": panels, "columns": 2, "panel_width": 420, "panel_height": 280,
    });
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let fig_path = dir.join("scale_figure.json");
    std::fs::write(&fig_path, serde_json::to_string(&figure)?)?;
    std::fs::write(dir.join("scale.json"), serde_json::to_string_pretty(&raw)?)?;
    std::fs::create_dir_all("docs/figures")?;
    bench
        .burn(&[
            "--mode",
            "plot",
            "--figure",
            &fig_path.display().to_string(),
            "--png",
            "docs/figures/scale.png",
        ])
        .context("rendering docs/figures/scale.png")?;
    println!(
        "scale: docs/figures/scale.png (raw numbers in {}); median torch/burn step-time ratio {ratio:.2}",
        dir.join("scale.json").display()
    );
    Ok(ExitCode::SUCCESS)
}
