//! Device selection from a string (`--device`, `--devices`, `MAFS_DEVICE`):
//!
//! | spec | backend | cargo feature |
//! |---|---|---|
//! | `cpu` (or `flex`) | burn's flex CPU backend, the default | always |
//! | `wgpu` | burn's wgpu backend on wgpu's default adapter (Vulkan; Mesa's llvmpipe without a GPU) | `wgpu` |
//! | `wgpu:N`, `wgpu:cpu` | the same on the `N`-th discrete GPU, or on the CPU adapter (llvmpipe) | `wgpu` |
//! | `cuda`, `cuda:N` | burn's CUDA backend | `cuda` |
//! | `remote:HOST:PORT[/N]` | device `N` (default 0) of a `mafs serve-device` server, through burn's remote backend over WebSocket | `remote` |
//!
//! Asking for a device whose feature is not compiled in is an error that names the feature.

use burn::tensor::Device;

use crate::error::TrainError;

/// Parses a device specification.
///
/// A `remote:` device connects to its server here, so that an unreachable server is reported
/// at once, naming the address.
///
/// # Errors
///
/// [`TrainError::Config`] for an unknown specification, a bad index, a backend whose cargo
/// feature is off, or a remote server that cannot be reached.
pub fn parse_device(spec: &str) -> Result<Device, TrainError> {
    let spec = spec.trim();
    if let Some(rest) = spec.strip_prefix("remote:") {
        return remote(rest, spec);
    }
    if spec == "wgpu:cpu" {
        return wgpu(WgpuPick::Cpu, spec);
    }
    let (kind, index) = match spec.split_once(':') {
        Some((k, i)) => {
            let i: usize = i.parse().map_err(|_| {
                TrainError::Config(format!("--device `{spec}`: `{i}` is not a device index"))
            })?;
            (k, i)
        }
        None => (spec, 0),
    };
    match kind {
        "cpu" | "flex" => {
            if index != 0 {
                return Err(TrainError::Config(format!(
                    "--device `{spec}`: the CPU has no index (use `cpu`)"
                )));
            }
            Ok(Device::flex())
        }
        "wgpu" if spec.contains(':') => wgpu(WgpuPick::Discrete(index), spec),
        "wgpu" => wgpu(WgpuPick::Default, spec),
        "cuda" => cuda(index, spec),
        other => Err(TrainError::Config(format!(
            "--device `{spec}`: unknown device `{other}`; expected cpu, wgpu[:N], cuda[:N] or \
             remote:HOST:PORT"
        ))),
    }
}

/// Parses a comma-separated list of devices (`--devices cuda:0,cuda:1`) for data-parallel
/// training. A device may be named twice (`cpu,cpu`): burn then runs two workers on it.
///
/// # Errors
///
/// [`TrainError::Config`] for an empty list or any entry [`parse_device`] rejects.
pub fn parse_devices(list: &str) -> Result<Vec<Device>, TrainError> {
    let specs: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if specs.is_empty() {
        return Err(TrainError::Config(format!(
            "--devices `{list}`: expected a comma-separated list such as `cuda:0,cuda:1`"
        )));
    }
    specs.into_iter().map(parse_device).collect()
}

/// The host, port and server device index of a `remote:HOST:PORT[/N]` spec (`rest` is what
/// follows `remote:`).
///
/// # Errors
///
/// [`TrainError::Config`] naming the spec when the port or index is not a number.
pub fn parse_remote(rest: &str, spec: &str) -> Result<(String, u16, usize), TrainError> {
    let bad = |what: &str| {
        TrainError::Config(format!(
            "--device `{spec}`: {what}; expected remote:HOST:PORT or remote:HOST:PORT/N"
        ))
    };
    let (addr, index) = match rest.split_once('/') {
        Some((a, i)) => (
            a,
            i.parse::<usize>()
                .map_err(|_| bad(&format!("`{i}` is not a device index")))?,
        ),
        None => (rest, 0),
    };
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| bad("no port after the host"))?;
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port: u16 = port
        .parse()
        .map_err(|_| bad(&format!("`{port}` is not a port")))?;
    Ok((host.to_string(), port, index))
}

#[cfg(feature = "remote")]
fn remote(rest: &str, spec: &str) -> Result<Device, TrainError> {
    use burn::remote::RemoteHost;
    let (host, port, index) = parse_remote(rest, spec)?;
    let url = format!("ws://{host}:{port}");
    Device::remote_options(&RemoteHost::websocket(&url))
        .device_index(index)
        .init()
        .map_err(|e| {
            TrainError::Config(format!(
                "--device `{spec}`: cannot reach burn's remote server at {url}: {e} \
                 (start one there with `mafs serve-device --port {port}`)"
            ))
        })
}

#[cfg(not(feature = "remote"))]
fn remote(rest: &str, spec: &str) -> Result<Device, TrainError> {
    parse_remote(rest, spec)?;
    Err(TrainError::Config(format!(
        "--device `{spec}`: this build has no remote backend; rebuild with `--features remote`"
    )))
}

/// Which wgpu adapter a spec names.
#[cfg_attr(not(feature = "wgpu"), allow(dead_code))]
enum WgpuPick {
    /// wgpu's default (high-performance first) adapter: `wgpu`.
    Default,
    /// The `n`-th discrete GPU: `wgpu:N`.
    Discrete(usize),
    /// The CPU adapter (Mesa's llvmpipe): `wgpu:cpu`.
    Cpu,
}

/// The wgpu device a spec names, its adapter acquired here (burn's `WgpuOptions::init`), so
/// that a machine without one gets an error naming the spec instead of a panic at the first
/// tensor operation.
#[cfg(feature = "wgpu")]
fn wgpu(pick: WgpuPick, spec: &str) -> Result<Device, TrainError> {
    use burn::tensor::DeviceKind;
    use burn::tensor::wgpu::WgpuInitError;
    let kind = match pick {
        WgpuPick::Default => DeviceKind::DefaultDevice,
        WgpuPick::Discrete(n) => DeviceKind::DiscreteGpu(n),
        WgpuPick::Cpu => DeviceKind::Cpu,
    };
    match Device::wgpu_options().device_kind(kind.clone()).init() {
        Ok(device) => Ok(device),
        // Already acquired in this process (a second `parse_device` of the same spec, or a
        // tensor made on it): reuse that runtime.
        Err(WgpuInitError::Registration { .. }) => Ok(Device::wgpu(kind)),
        Err(e) => Err(TrainError::Config(format!(
            "--device `{spec}`: no wgpu adapter: {e} (without a GPU, Mesa's software Vulkan \
             driver provides one: Debian/Ubuntu packages mesa-vulkan-drivers and libvulkan1)"
        ))),
    }
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(_pick: WgpuPick, spec: &str) -> Result<Device, TrainError> {
    Err(TrainError::Config(format!(
        "--device `{spec}`: this build has no wgpu backend; rebuild with `--features wgpu`"
    )))
}

#[cfg(feature = "cuda")]
fn cuda(index: usize, _spec: &str) -> Result<Device, TrainError> {
    Ok(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(_index: usize, spec: &str) -> Result<Device, TrainError> {
    Err(TrainError::Config(format!(
        "--device `{spec}`: this build has no CUDA backend; rebuild with `--features cuda` \
         (burn's CUDA backend downloads a prebuilt LLVM while it builds)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_parses_and_bad_specs_are_named() {
        assert!(parse_device("cpu").is_ok());
        let e = parse_device("tpu").unwrap_err().to_string();
        assert!(e.contains("unknown device `tpu`"), "{e}");
        let e = parse_device("cuda:x").unwrap_err().to_string();
        assert!(e.contains("not a device index"), "{e}");
        #[cfg(not(feature = "cuda"))]
        assert!(
            parse_device("cuda:0")
                .unwrap_err()
                .to_string()
                .contains("--features cuda")
        );
        #[cfg(not(feature = "wgpu"))]
        assert!(
            parse_device("wgpu")
                .unwrap_err()
                .to_string()
                .contains("--features wgpu")
        );
        #[cfg(not(feature = "remote"))]
        assert!(
            parse_device("remote:127.0.0.1:3000")
                .unwrap_err()
                .to_string()
                .contains("--features remote")
        );
    }

    #[test]
    fn remote_specs_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_remote("gpu-box:3000", "s").unwrap(),
            ("gpu-box".to_string(), 3000, 0)
        );
        assert_eq!(
            parse_remote("10.0.0.2:4000/1", "s").unwrap(),
            ("10.0.0.2".to_string(), 4000, 1)
        );
        for (rest, what) in [
            ("host", "no port"),
            (":3000", "no host"),
            ("host:http", "`http` is not a port"),
            ("host:3000/x", "`x` is not a device index"),
        ] {
            let e = parse_device(&format!("remote:{rest}"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(what), "{rest}: {e}");
        }
    }

    #[test]
    fn device_lists_parse() {
        assert_eq!(parse_devices("cpu, cpu").unwrap().len(), 2);
        assert!(
            parse_devices(" , ")
                .unwrap_err()
                .to_string()
                .contains("comma")
        );
        let e = parse_devices("cpu,tpu").unwrap_err().to_string();
        assert!(e.contains("tpu"), "{e}");
    }
}
