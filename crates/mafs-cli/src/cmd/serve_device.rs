//! `mafs serve-device`: serves this machine's device(s) to other machines with burn's remote
//! backend, so that `mafs train --device remote:HOST:PORT` (and eval, predict, explain) runs
//! its tensor operations here. Blocks until Ctrl+C or SIGTERM.

use std::process::ExitCode;

use anyhow::{Context, Result};
use mafs_train::device::{parse_device, parse_devices};

/// Arguments of `mafs serve-device`.
#[derive(clap::Args, Debug)]
pub struct ServeDeviceArgs {
    /// TCP port to listen on (every IPv4 interface; WebSocket, unencrypted: trusted networks
    /// only).
    #[arg(long)]
    pub port: u16,
    /// Device to serve: cpu, wgpu[:N], cuda[:N].
    #[arg(long, env = "MAFS_DEVICE", default_value = "cpu")]
    pub device: String,
    /// Several devices to serve, comma-separated (one backend: cpu alone, or wgpu/cuda ones);
    /// a client picks one with `remote:HOST:PORT/N`. Overrides --device.
    #[arg(long)]
    pub devices: Option<String>,
}

/// Runs `mafs serve-device`.
pub fn run(args: ServeDeviceArgs) -> Result<ExitCode> {
    let devices = match &args.devices {
        Some(list) => parse_devices(list)?,
        None => vec![parse_device(&args.device)?],
    };
    // Without the `remote` feature, `serve` below says which feature to enable.
    if cfg!(feature = "remote") {
        eprintln!(
            "[serve-device] serving {} device(s) on ws://0.0.0.0:{} (clients: --device remote:THIS_HOST:{}); Ctrl+C stops",
            devices.len(),
            args.port,
            args.port
        );
    }
    mafs_train::serve::serve(devices, args.port)
        .with_context(|| format!("serving on port {}", args.port))?;
    Ok(ExitCode::SUCCESS)
}
