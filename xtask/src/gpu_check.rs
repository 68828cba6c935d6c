//! `cargo xtask gpu-check`: on a machine with a GPU, in one call of at most five minutes:
//! builds with `wgpu` (and `cuda` with `--cuda`, where it builds), checks that every fusion
//! agrees with the CPU backend (`wgpu_parity`), and prints one table of training throughput
//! for the `tiny` and `small` presets at a few batch sizes, with samples per second and the
//! share of the GPU's float32 peak it reaches. The table is also written to
//! `runs/gpu-check.md`.
//!
//! Vulkan needs a loader (`libvulkan.so.1`) and the NVIDIA ICD; where `VK_DRIVER_FILES` is
//! unset and the driver's manifest sits at NVIDIA's container path, it is set here.

use std::io::Read;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::exec::cargo;

/// Options of `cargo xtask gpu-check`.
#[derive(clap::Args, Debug)]
pub struct GpuCheckArgs {
    /// Wall-clock budget in seconds for everything; what does not fit is reported as skipped.
    #[arg(long, default_value_t = 290)]
    pub budget_s: u64,
    /// Presets of the throughput table.
    #[arg(long, default_value = "tiny,small")]
    pub presets: String,
    /// Batch sizes of the throughput table.
    #[arg(long, default_value = "32,128,512")]
    pub batches: String,
    /// Timed steps per measurement (after two warm-up steps).
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// The GPU's float32 peak in TFLOP/s (default: looked up from `nvidia-smi`'s name).
    #[arg(long)]
    pub peak_tflops: Option<f64>,
    /// Also build and check `cuda` (burn's CUDA build downloads a prebuilt LLVM: it needs
    /// network access).
    #[arg(long)]
    pub cuda: bool,
}

/// NVIDIA's own figures for dense float32 (non-tensor-core) throughput, TFLOP/s.
const FP32_PEAKS: [(&str, f64); 7] = [
    ("H200", 67.0),
    ("H100 PCIe", 51.0),
    ("H100", 67.0),
    ("A100", 19.5),
    ("L40S", 91.6),
    ("L4", 30.3),
    ("RTX 4090", 82.6),
];

/// The GPU's name (nvidia-smi) and its float32 peak, where known.
fn gpu_peak(explicit: Option<f64>) -> (String, Option<f64>) {
    let name = Command::new("nvidia-smi")
        .args(["--query-gpu=name", "--format=csv,noheader"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown (no nvidia-smi)".into());
    let peak = explicit.or_else(|| {
        FP32_PEAKS
            .iter()
            .find(|(k, _)| name.contains(k))
            .map(|(_, p)| *p)
    });
    (name, peak)
}

/// Runs `cmd` until it ends or `deadline` passes (then kills it); returns whether it
/// succeeded, its stdout, and the tail of its stderr.
fn run_until(mut cmd: Command, deadline: Instant) -> Result<(bool, String, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {cmd:?}"))?;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let tail: Vec<&str> = stderr.lines().rev().take(25).collect();
    let tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    match status {
        Some(s) => Ok((s.success(), stdout, tail)),
        None => Ok((false, stdout, format!("{tail}\n(stopped: out of time)"))),
    }
}

/// One backend's results.
struct Backend {
    name: &'static str,
    build_s: f64,
    parity: String,
    rows: Vec<serde_json::Value>,
}

fn check_backend(
    name: &'static str,
    args: &GpuCheckArgs,
    deadline: Instant,
) -> Result<Option<Backend>> {
    let feature = name;
    let t = Instant::now();
    let mut build = cargo();
    build.args([
        "build",
        "-p",
        "mafs-train",
        "--features",
        feature,
        "--test",
        "wgpu_parity",
        "--example",
        "gpu_throughput",
    ]);
    let (ok, _, err) = run_until(build, deadline)?;
    let build_s = t.elapsed().as_secs_f64();
    eprintln!(
        "[gpu-check] {name}: build {build_s:.0} s, {}",
        if ok { "ok" } else { "failed" }
    );
    if !ok {
        eprintln!("{err}");
        return Ok(None);
    }
    let mut parity = cargo();
    parity
        .args([
            "test",
            "-p",
            "mafs-train",
            "--features",
            feature,
            "--test",
            "wgpu_parity",
            "--",
            "--nocapture",
        ])
        .env("MAFS_PARITY_DEVICE", name);
    let (ok, _, err) = run_until(parity, deadline)?;
    eprintln!("{err}");
    let parity = if ok { "agrees" } else { "FAILS (see above)" }.to_string();
    let mut bench = cargo();
    bench.args([
        "run",
        "--quiet",
        "-p",
        "mafs-train",
        "--features",
        feature,
        "--example",
        "gpu_throughput",
        "--",
        "--device",
        name,
        "--presets",
        &args.presets,
        "--batches",
        &args.batches,
        "--steps",
        &args.steps.to_string(),
    ]);
    let (ok, out, err) = run_until(bench, deadline)?;
    if !ok {
        eprintln!("[gpu-check] {name}: throughput run incomplete:\n{err}");
    }
    let rows = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect();
    Ok(Some(Backend {
        name,
        build_s,
        parity,
        rows,
    }))
}

fn table(backends: &[Backend], gpu: &str, peak: Option<f64>) -> String {
    let mut s = format!(
        "GPU: {gpu}; float32 peak: {}\n\n| backend | build (s) | agreement with CPU | preset | batch | samples/s | est. TFLOP/s | share of peak |\n|---|---|---|---|---|---|---|---|\n",
        peak.map_or("unknown (pass --peak-tflops)".into(), |p| format!(
            "{p} TFLOP/s"
        ))
    );
    for b in backends {
        if b.rows.is_empty() {
            s += &format!(
                "| {} | {:.0} | {} | - | - | - | - | - |\n",
                b.name, b.build_s, b.parity
            );
        }
        for r in &b.rows {
            let sps = r["samples_per_second"].as_f64().unwrap_or(f64::NAN);
            let tflops = sps * r["flops_per_sample"].as_f64().unwrap_or(f64::NAN) / 1e12;
            let share = peak.map_or("-".into(), |p| format!("{:.2}%", 100.0 * tflops / p));
            s += &format!(
                "| {} | {:.0} | {} | {} | {} | {:.1} | {:.3} | {} |\n",
                b.name,
                b.build_s,
                b.parity,
                r["preset"].as_str().unwrap_or("?"),
                r["batch"],
                sps,
                tflops,
                share
            );
        }
    }
    s += "\nest. TFLOP/s: samples/s times the towers' estimated training FLOPs per sample \
          (examples/gpu_throughput.rs; heads and fusion left out, so the share is a lower bound).\n";
    s
}

/// Runs `cargo xtask gpu-check`.
pub fn run(args: GpuCheckArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.budget_s);
    // SAFETY of set_var: single-threaded at this point (no thread has been spawned yet).
    let icd = "/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json";
    if std::env::var_os("VK_DRIVER_FILES").is_none() && std::path::Path::new(icd).is_file() {
        unsafe { std::env::set_var("VK_DRIVER_FILES", icd) };
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        let dir = std::env::temp_dir().join("mafs-xdg");
        std::fs::create_dir_all(&dir)?;
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", dir) };
    }
    let loader = Command::new("ldconfig")
        .arg("-p")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("libvulkan.so.1"))
        .unwrap_or(false);
    if !loader {
        eprintln!(
            "[gpu-check] no Vulkan loader (libvulkan.so.1) in `ldconfig -p`: wgpu will find no \
             adapter; install libvulkan1 (see /work/.library/device/README.md for GPU machines)"
        );
    }
    let (gpu, peak) = gpu_peak(args.peak_tflops);
    let mut backends = Vec::new();
    if let Some(b) = check_backend("wgpu", &args, deadline)? {
        backends.push(b);
    }
    if args.cuda {
        match check_backend("cuda", &args, deadline)? {
            Some(b) => backends.push(b),
            None => eprintln!("[gpu-check] cuda: did not build here (see above)"),
        }
    }
    if backends.is_empty() {
        bail!("gpu-check: no backend built");
    }
    let report = table(&backends, &gpu, peak);
    println!("{report}");
    std::fs::create_dir_all("runs")?;
    std::fs::write("runs/gpu-check.md", &report)?;
    eprintln!(
        "[gpu-check] done in {:.0} s; table in runs/gpu-check.md",
        start.elapsed().as_secs_f64()
    );
    let all_agree = backends.iter().all(|b| b.parity == "agrees");
    Ok(if all_agree {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
