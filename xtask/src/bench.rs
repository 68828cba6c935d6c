//! `cargo xtask bench`: the whole model's throughput beside a PyTorch implementation of the
//! same architecture, in one table.
//!
//! For each preset (`tiny`, `small`) and task (retrieval, captioning, VQA) it measures a
//! training step, the inference forward pass and the evaluation pass with the Rust bench
//! (`crates/mafs-train/benches/throughput.rs`, one process per measurement so that peak
//! memory is its own) and, where a Python with torch is found, with `bench/torch_mafs.py`
//! built from the same preset JSON. The two run interleaved (burn, torch, burn, torch...), both
//! with the same thread count, so that the load of a shared machine hits both alike; the
//! ratio is taken per round and its median reported. The matrix-multiply peak of both is
//! measured too, and each row's share of the higher one is printed.
//!
//! Each `train` row also times the `fixed-query` training step in the same round (burn side;
//! `--no-overhead` skips it): the table's last column is MA-AFS's step over it, and a second
//! table splits burn's step into forward, backward, optimiser and batch assembly.
//!
//! `--criterion [ARGS]` runs the criterion benchmarks instead (`cargo bench --workspace
//! --profile dev ARGS`). `--scale [--quick]` runs the step-time sweep (batch, image size, text
//! length, modalities) and writes `docs/figures/scale.png`. `--coco N1,N2,N3` times the
//! retrieval evaluation at those item counts and extrapolates it to COCO-5k
//! (`bench_coco.rs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::exec::{cargo, run};

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Presets (names or JSON paths), comma-separated.
    #[arg(long, default_value = "tiny,small", value_delimiter = ',')]
    presets: Vec<String>,
    /// Tasks, comma-separated.
    #[arg(
        long,
        default_value = "retrieval,captioning,vqa",
        value_delimiter = ','
    )]
    tasks: Vec<String>,
    /// Modes, comma-separated (train, infer, eval).
    #[arg(long, default_value = "train,infer,eval", value_delimiter = ',')]
    modes: Vec<String>,
    /// Batch size.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Timed iterations per measurement (after one warm-up).
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Interleaved rounds (burn, torch) per row; the median is reported.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Items of the evaluation pass.
    #[arg(long, default_value_t = 64)]
    eval_items: usize,
    /// Threads for both implementations (RAYON_NUM_THREADS, torch.set_num_threads).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Skip the `fixed-query` training step that each `train` row also measures (burn side,
    /// same round) for the scheduler's overhead column.
    #[arg(long)]
    no_overhead: bool,
    /// Instead of the table: the retrieval evaluation at these item counts (5 captions each),
    /// with ITM re-ranking of the top 16 and without, and its extrapolation to COCO-5k.
    #[arg(long, value_delimiter = ',')]
    coco: Vec<usize>,
    /// Python with torch (default: $MAFS_TORCH_PYTHON, then `python3`).
    #[arg(long)]
    python: Option<String>,
    /// Skip the PyTorch side.
    #[arg(long)]
    no_torch: bool,
    /// A built throughput bench to run instead of building it (`cargo bench -p mafs-train
    /// --profile dev --bench throughput --no-run` prints its path): no wait on the shared
    /// target directory's lock while another build holds it.
    #[arg(long)]
    exe: Option<PathBuf>,
    /// Where the raw results go (JSON).
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,
    /// Run the step-time sweep and write the scale figure instead.
    #[arg(long)]
    scale: bool,
    /// With `--scale`: the reduced sweep (batch up to 64, the other axes at batch 8); the
    /// timed iterations per point are `--iters`.
    #[arg(long)]
    quick: bool,
    /// Run the criterion benchmarks instead; the remaining arguments go to `cargo bench`.
    #[arg(long)]
    criterion: bool,
    /// Extra arguments for `cargo bench` (with `--criterion`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

/// Runs the task.
pub fn run_bench(args: BenchArgs) -> Result<ExitCode> {
    if args.criterion {
        let mut cmd = cargo();
        cmd.args(["bench", "--workspace", "--profile", "dev"]);
        cmd.args(&args.rest);
        return run(cmd);
    }
    let exe = match &args.exe {
        Some(p) if p.is_file() => p.clone(),
        Some(p) => bail!("--exe {}: no such file", p.display()),
        None => build_bench()?,
    };
    let python = if args.no_torch {
        None
    } else {
        find_python(args.python.as_deref())
    };
    match &python {
        Some(p) => eprintln!("bench: PyTorch side with {p}"),
        None => eprintln!("bench: no Python with torch found; burn side only"),
    }
    let bench = Bench {
        exe,
        python,
        threads: args.threads,
    };
    if args.scale {
        return crate::bench_scale::run(&bench, &args.out, args.quick, args.iters);
    }
    if !args.coco.is_empty() {
        return crate::bench_coco::run(&bench, &args.coco, args.presets.first(), &args.out);
    }
    let load_before = loadavg();
    let mut rows: Vec<Value> = Vec::new();
    // the matmul peak, both sides, interleaved
    let mut peaks = (Vec::new(), Vec::new());
    for _ in 0..args.rounds.max(1) {
        let b = bench.burn(&["--mode", "matmul", "--iters", "5"])?;
        peaks.0.push(num(&b, "gflops"));
        if let Some(t) = bench.torch(&["--mode", "matmul", "--iters", "5"])? {
            peaks.1.push(num(&t, "gflops"));
        }
    }
    let burn_peak = median(peaks.0.clone());
    let torch_peak = (!peaks.1.is_empty()).then(|| median(peaks.1.clone()));
    let peak = torch_peak.unwrap_or(0.0).max(burn_peak);
    for preset in &args.presets {
        let preset_json = preset_file(preset)?;
        for task in &args.tasks {
            for mode in &args.modes {
                let mut common = vec![
                    "--mode".to_string(),
                    mode.clone(),
                    "--task".to_string(),
                    task.clone(),
                    "--batch".to_string(),
                    args.batch.to_string(),
                    "--iters".to_string(),
                    args.iters.to_string(),
                    "--eval-items".to_string(),
                    args.eval_items.to_string(),
                ];
                if mode == "eval" {
                    // one evaluation pass is long enough to time: no warm-up pass, both sides
                    common.extend(["--warmup".to_string(), "0".to_string()]);
                }
                let mut burn_runs = Vec::new();
                let mut torch_runs = Vec::new();
                let mut fixed_runs = Vec::new();
                for _ in 0..args.rounds.max(1) {
                    let mut a: Vec<String> = common.to_vec();
                    a.extend(["--preset".into(), preset.clone()]);
                    let b = bench.burn(&a.iter().map(String::as_str).collect::<Vec<_>>())?;
                    if mode == "train" && !args.no_overhead {
                        let mut f = a.clone();
                        f.extend(["--fusion".into(), "fixed-query".into()]);
                        fixed_runs
                            .push(bench.burn(&f.iter().map(String::as_str).collect::<Vec<_>>())?);
                    }
                    // the torch side uses the Rust side's vocabulary sizes
                    let mut t_args: Vec<String> = common.to_vec();
                    t_args.extend(["--preset".into(), preset_json.display().to_string()]);
                    if let Some(v) = b.get("vocab_size").and_then(Value::as_u64) {
                        t_args.extend(["--vocab".into(), v.to_string()]);
                    }
                    if let Some(v) = b.get("n_answers").and_then(Value::as_u64) {
                        t_args.extend(["--answers".into(), v.to_string()]);
                    }
                    burn_runs.push(b);
                    if let Some(t) =
                        bench.torch(&t_args.iter().map(String::as_str).collect::<Vec<_>>())?
                    {
                        torch_runs.push(t);
                    }
                }
                let mut row = summarise(preset, task, mode, &burn_runs, &torch_runs, peak);
                row["sched_overhead_pct"] = json!(overhead_pct(&burn_runs, &fixed_runs));
                row["fixed_query_runs"] = json!(fixed_runs);
                eprintln!("{}", row_line(&row));
                rows.push(row);
            }
        }
    }
    let load_after = loadavg();
    let table = render(
        &rows,
        burn_peak,
        torch_peak,
        &load_before,
        &load_after,
        &args,
    );
    println!("{table}");
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let doc = json!({
        "matmul_gflops": {"burn": burn_peak, "torch": torch_peak},
        "load_before": load_before, "load_after": load_after,
        "threads": args.threads, "batch": args.batch, "rows": rows,
    });
    std::fs::write(&args.out, serde_json::to_string_pretty(&doc)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("bench: raw results in {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The two benchmark programs.
pub struct Bench {
    exe: PathBuf,
    python: Option<String>,
    threads: usize,
}

impl Bench {
    /// Runs the Rust bench with `args`; its last stdout line is JSON.
    pub fn burn(&self, args: &[&str]) -> Result<Value> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(args)
            .env("RAYON_NUM_THREADS", self.threads.to_string());
        last_json(cmd)
    }

    /// Runs the PyTorch bench with `args`, or `None` without a Python with torch.
    pub fn torch(&self, args: &[&str]) -> Result<Option<Value>> {
        let Some(py) = &self.python else {
            return Ok(None);
        };
        let mut cmd = Command::new(py);
        cmd.arg("bench/torch_mafs.py")
            .args(args)
            .args(["--threads", &self.threads.to_string()])
            .env("OMP_NUM_THREADS", self.threads.to_string())
            // On a shared machine OpenMP's default spin-waiting loses whole scheduler quanta
            // (every small op took 8 ms under load); passive waiting is torch's best setting
            // there, which keeps the comparison conservative. An explicit value is kept.
            .env(
                "OMP_WAIT_POLICY",
                std::env::var("OMP_WAIT_POLICY").unwrap_or_else(|_| "PASSIVE".into()),
            );
        last_json(cmd).map(Some)
    }

    /// Whether the PyTorch side runs.
    pub fn has_torch(&self) -> bool {
        self.python.is_some()
    }
}

fn last_json(mut cmd: Command) -> Result<Value> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed with {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{cmd:?} printed no JSON line:\n{text}"))?;
    serde_json::from_str(line).with_context(|| format!("{cmd:?}: bad JSON line `{line}`"))
}

/// Builds the Rust bench once and returns its executable.
fn build_bench() -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "bench",
        "-p",
        "mafs-train",
        "--profile",
        "dev",
        "--bench",
        "throughput",
        "--no-run",
        "--message-format=json",
    ]);
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("could not run cargo")?;
    if !out.status.success() {
        bail!("building the throughput bench failed");
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"]["name"] == "throughput")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .context("cargo did not report the throughput bench executable")
}

/// A Python that imports torch: `--python`, `$MAFS_TORCH_PYTHON`, then `python3`.
fn find_python(explicit: Option<&str>) -> Option<String> {
    let env = std::env::var("MAFS_TORCH_PYTHON").ok();
    [explicit.map(String::from), env, Some("python3".into())]
        .into_iter()
        .flatten()
        .find(|py| {
            Command::new(py)
                .args(["-c", "import torch"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

/// The JSON file of a preset name or path (the torch side reads JSON).
fn preset_file(preset: &str) -> Result<PathBuf> {
    let builtin = Path::new("crates/mafs-encoders/presets").join(format!("{preset}.json"));
    if builtin.is_file() {
        return Ok(builtin);
    }
    let p = PathBuf::from(preset);
    if p.is_file() {
        return Ok(p);
    }
    bail!("preset `{preset}`: neither a built-in name nor a JSON file")
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub(crate) fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

/// Median of finite values (NaN if none).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

fn summarise(
    preset: &str,
    task: &str,
    mode: &str,
    burn: &[Value],
    torch: &[Value],
    peak_gflops: f64,
) -> Value {
    let b_sps = median(burn.iter().map(|v| num(v, "samples_per_s")).collect());
    let t_sps = median(torch.iter().map(|v| num(v, "samples_per_s")).collect());
    let ratio = median(
        burn.iter()
            .zip(torch)
            .map(|(b, t)| num(b, "samples_per_s") / num(t, "samples_per_s"))
            .collect(),
    );
    let flops = burn
        .first()
        .map(|v| num(v, "flops_per_sample"))
        .unwrap_or(f64::NAN);
    let share = |sps: f64| 100.0 * sps * flops / (peak_gflops * 1e9);
    let data_ms = median(burn.iter().map(|v| num(v, "data_ms")).collect());
    let step_ms = median(burn.iter().map(|v| num(v, "ms_per_iter")).collect());
    json!({
        "preset": preset, "task": task, "mode": mode,
        "burn_samples_per_s": b_sps, "torch_samples_per_s": t_sps, "ratio": ratio,
        "flops_per_sample": flops,
        "burn_peak_share_pct": share(b_sps), "torch_peak_share_pct": share(t_sps),
        "burn_peak_rss_mib": median(burn.iter().map(|v| num(v, "peak_rss_mib")).collect()),
        "torch_peak_rss_mib": median(torch.iter().map(|v| num(v, "peak_rss_mib")).collect()),
        "data_share_pct": 100.0 * data_ms / step_ms,
        "burn_runs": burn, "torch_runs": torch,
    })
}

/// MA-AFS's training step over `fixed-query`'s, in percent: the median over rounds of the
/// per-round ratio of step times (each round runs the two back to back).
fn overhead_pct(ma_afs: &[Value], fixed: &[Value]) -> f64 {
    median(
        ma_afs
            .iter()
            .zip(fixed)
            .map(|(m, f)| 100.0 * (num(m, "ms_per_iter") / num(f, "ms_per_iter") - 1.0))
            .collect(),
    )
}

fn fmt(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "-".into()
    }
}

fn row_line(r: &Value) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        r["preset"].as_str().unwrap_or(""),
        r["task"].as_str().unwrap_or(""),
        r["mode"].as_str().unwrap_or(""),
        fmt(num(r, "burn_samples_per_s"), 1),
        fmt(num(r, "torch_samples_per_s"), 1),
        fmt(num(r, "ratio"), 2),
        fmt(num(r, "burn_peak_share_pct"), 0),
        fmt(num(r, "torch_peak_share_pct"), 0),
        fmt(num(r, "burn_peak_rss_mib"), 0),
        fmt(num(r, "torch_peak_rss_mib"), 0),
        fmt(num(r, "data_share_pct"), 1),
        fmt(num(r, "sched_overhead_pct"), 1),
    )
}

fn render(
    rows: &[Value],
    burn_peak: f64,
    torch_peak: Option<f64>,
    load_before: &str,
    load_after: &str,
    args: &BenchArgs,
) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "threads {} | batch {} | matmul peak (1024^3 f32): burn {} GFLOP/s, torch {} GFLOP/s | load average {} -> {}\n\n",
        args.threads,
        args.batch,
        fmt(burn_peak, 1),
        torch_peak.map(|p| fmt(p, 1)).unwrap_or_else(|| "-".into()),
        load_before,
        load_after,
    ));
    s.push_str("| preset | task | mode | burn samples/s | torch samples/s | burn/torch | burn % peak | torch % peak | burn peak MiB | torch peak MiB | data % of step | MA-AFS over fixed-query % |\n");
    s.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in rows {
        s.push_str(&row_line(r));
        s.push('\n');
    }
    s.push_str("\nburn training step by phase (ms, median over rounds): forward, backward, optimiser, batch assembly (with corruption-aware augmentation), and world generation per batch of instances (done once per run; here amortised over a single epoch, its worst case)\n\n");
    s.push_str("| preset | task | forward | backward | optimiser | data | world gen. per batch |\n|---|---|---|---|---|---|---|\n");
    for r in rows.iter().filter(|r| r["mode"] == "train") {
        let runs = r["burn_runs"].as_array().cloned().unwrap_or_default();
        let phase = |k: &str| fmt(median(runs.iter().map(|v| num(v, k)).collect()), 0);
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r["preset"].as_str().unwrap_or(""),
            r["task"].as_str().unwrap_or(""),
            phase("forward_ms"),
            phase("backward_ms"),
            phase("optim_ms"),
            phase("data_ms"),
            fmt(
                median(
                    runs.iter()
                        .map(|v| num(v, "world_ms") / num(v, "world_instances") * args.batch as f64)
                        .collect()
                ),
                1
            ),
        ));
    }
    s.push_str("\nTraining samples/s per task (burn):");
    for r in rows.iter().filter(|r| r["mode"] == "train") {
        s.push_str(&format!(
            " {} {} {};",
            r["preset"].as_str().unwrap_or(""),
            r["task"].as_str().unwrap_or(""),
            fmt(num(r, "burn_samples_per_s"), 1)
        ));
    }
    s.push('\n');
    s
}
