//! Device selection from a string (`--device`, `MAFS_DEVICE`): `cpu` (flex, the default),
//! `wgpu[:N]` (feature `wgpu`), `cuda[:N]` (feature `cuda`). Asking for a device whose
//! feature is not compiled in is an error that names the feature.

use burn::tensor::Device;

use crate::error::TrainError;

/// Parses a device specification.
///
/// # Errors
///
/// [`TrainError::Config`] for an unknown specification, a bad index, or a backend whose
/// cargo feature is off.
pub fn parse_device(spec: &str) -> Result<Device, TrainError> {
    let spec = spec.trim();
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
        "wgpu" => wgpu(index, spec),
        "cuda" => cuda(index, spec),
        other => Err(TrainError::Config(format!(
            "--device `{spec}`: unknown device `{other}`; expected cpu, wgpu[:N] or cuda[:N]"
        ))),
    }
}

#[cfg(feature = "wgpu")]
fn wgpu(index: usize, _spec: &str) -> Result<Device, TrainError> {
    use burn::tensor::DeviceKind;
    Ok(Device::wgpu(if index == 0 {
        DeviceKind::DefaultDevice
    } else {
        DeviceKind::DiscreteGpu(index)
    }))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(_index: usize, spec: &str) -> Result<Device, TrainError> {
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
    }
}
