//! `cargo xtask bench --coco N1,N2,...`: the retrieval evaluation (ITC ranking over every
//! item-caption pair, ITM re-ranking of the top 16 both ways) at small sizes, and its
//! extrapolation to COCO-5k (5,000 items, 25,000 captions) with a stated cost model.
//!
//! Cost model, for `N` items with 5 captions each and re-ranking depth `k`:
//!
//! ```text
//! T(N, 0) = f + a N + b N^2            (ITC only)
//! T(N, k) - T(N, 0) = g + c k (N + 5N) (the re-ranking)
//! ```
//!
//! - `f`, `g`: fixed costs (model set-up, the first calls);
//! - `a`: encoding one item and its five captions (image tower, text tower, fusion);
//! - `b`: per item-caption pair of the ITC stage (`N x 5N` similarities, their transposed
//!   copy, top-k selection and the rank computation);
//! - `c`: one ITM pair fusion and score (`k` per query, for `N` image and `5N` caption queries).
//!
//! Least squares over the sizes run: `f, a, b` need three sizes (with two, `b = 0`), `g, c` two.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::json;

use crate::bench::{Bench, loadavg, num};

/// COCO-5k's test split: items, and captions per item.
const COCO_ITEMS: f64 = 5000.0;
const CAPTIONS_PER_ITEM: f64 = 5.0;
/// The re-ranking depth of the target.
const RERANK_K: usize = 16;

/// Runs the evaluations and prints the extrapolation.
pub fn run(
    bench: &Bench,
    sizes: &[usize],
    preset: Option<&String>,
    out: &Path,
) -> Result<ExitCode> {
    let preset = preset.map(String::as_str).unwrap_or("tiny");
    if sizes.len() < 2 {
        bail!("--coco needs at least two item counts to fit the cost model, got {sizes:?}");
    }
    let load_before = loadavg();
    let mut rows = Vec::new();
    for &n in sizes {
        for k in [0, RERANK_K] {
            let (n_s, k_s) = (n.to_string(), k.to_string());
            let v = bench.burn(&[
                "--mode",
                "eval",
                "--task",
                "retrieval",
                "--preset",
                preset,
                "--batch",
                "64",
                "--eval-items",
                &n_s,
                "--rerank-k",
                &k_s,
                "--iters",
                "1",
                "--warmup",
                "0",
            ])?;
            let s = num(&v, "ms_per_iter") / 1e3;
            eprintln!("coco: {n} items, k = {k}: {s:.1} s");
            rows.push((n as f64, k, s, v));
        }
    }
    let at = |n: usize, k: usize| {
        rows.iter()
            .find(|r| r.0 == n as f64 && r.1 == k)
            .map(|r| r.2)
            .expect("every size ran with both depths")
    };
    let itc: Vec<(Vec<f64>, f64)> = sizes
        .iter()
        .map(|&n| {
            let x = n as f64;
            let basis = if sizes.len() >= 3 {
                vec![1.0, x, x * x]
            } else {
                vec![1.0, x]
            };
            (basis, at(n, 0))
        })
        .collect();
    let fit = least_squares(&itc);
    let (f, a, b) = (fit[0], fit[1], fit.get(2).copied().unwrap_or(0.0));
    let itm: Vec<(Vec<f64>, f64)> = sizes
        .iter()
        .map(|&n| {
            let pairs = RERANK_K as f64 * n as f64 * (1.0 + CAPTIONS_PER_ITEM);
            (vec![1.0, pairs], at(n, RERANK_K) - at(n, 0))
        })
        .collect();
    let fit = least_squares(&itm);
    let (g, c) = (fit[0], fit[1]);
    let n = COCO_ITEMS;
    let parts = [
        ("fixed", f + g),
        ("encoding", a * n),
        ("ITC ranking", b * n * n),
        (
            "ITM re-ranking",
            c * RERANK_K as f64 * n * (1.0 + CAPTIONS_PER_ITEM),
        ),
    ];
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let load_after = loadavg();
    println!(
        "retrieval evaluation ({preset}, batch 64), load average {load_before} -> {load_after}\n"
    );
    println!("| items | captions | re-rank k | seconds |\n|---|---|---|---|");
    for (n, k, s, _) in &rows {
        println!("| {n} | {} | {k} | {s:.1} |", n * CAPTIONS_PER_ITEM);
    }
    println!(
        "\ncost model T = f + g + a N + b N^2 + c k 6N: f + g = {:.1} s, a = {:.2} ms/item, b = {:.3} us/item^2, c = {:.3} ms/ITM pair",
        f + g,
        a * 1e3,
        b * 1e6,
        c * 1e3
    );
    println!("COCO-5k (5,000 items, 25,000 captions, k = 16): {total:.0} s (target 60 s)");
    for (name, t) in parts {
        println!("  {name}: {t:.0} s ({:.0}%)", 100.0 * t / total);
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
        let doc = json!({
            "preset": preset, "load_before": load_before, "load_after": load_after,
            "f_s": f, "g_s": g, "a_s_per_item": a, "b_s_per_item2": b, "c_s_per_pair": c,
            "coco5k_s": total,
            "parts": parts.iter().map(|(k, v)| json!({"part": k, "s": v})).collect::<Vec<_>>(),
            "runs": rows.iter().map(|r| json!({"items": r.0, "k": r.1, "s": r.2, "raw": r.3})).collect::<Vec<_>>(),
        });
        std::fs::write(dir.join("coco.json"), serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Least squares `y ~ basis . beta` by the normal equations (Gaussian elimination with partial
/// pivoting; the bases here are at most three columns).
fn least_squares(points: &[(Vec<f64>, f64)]) -> Vec<f64> {
    let p = points[0].0.len();
    let mut m = vec![vec![0.0; p + 1]; p];
    for (x, y) in points {
        for i in 0..p {
            for j in 0..p {
                m[i][j] += x[i] * x[j];
            }
            m[i][p] += x[i] * y;
        }
    }
    for col in 0..p {
        let pivot = (col..p)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .expect("a column");
        m.swap(col, pivot);
        for row in 0..p {
            if row != col && m[col][col] != 0.0 {
                let r = m[row][col] / m[col][col];
                let pivot_row = m[col].clone();
                for (v, pv) in m[row].iter_mut().zip(&pivot_row).skip(col) {
                    *v -= r * pv;
                }
            }
        }
    }
    (0..p).map(|i| m[i][p] / m[i][i]).collect()
}

#[cfg(test)]
mod tests {
    use super::least_squares;

    #[test]
    fn least_squares_recovers_a_quadratic() {
        let pts: Vec<(Vec<f64>, f64)> = [10.0, 20.0, 40.0, 80.0]
            .iter()
            .map(|&x: &f64| (vec![1.0, x, x * x], 2.0 + 0.5 * x + 0.01 * x * x))
            .collect();
        let beta = least_squares(&pts);
        for (got, want) in beta.iter().zip([2.0, 0.5, 0.01]) {
            assert!((got - want).abs() < 1e-9, "{beta:?}");
        }
    }
}
