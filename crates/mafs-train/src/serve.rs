//! Serving a local device to other machines with burn's remote backend (`burn::server`), over
//! WebSocket: the server side of `--device remote:HOST:PORT` (`mafs serve-device`).
//!
//! The server runs the tensor operations; the autodiff graph, the optimiser and the training
//! loop stay with the client (burn strips autodiff from served devices). Every device a server
//! hosts must belong to one backend (burn-tensor 0.22.1, `src/server.rs`): the CPU (flex) alone,
//! or CubeCL devices (wgpu, CUDA) together.
//!
//! WebSocket is unencrypted: serve on a trusted network only.

use burn::tensor::Device;

use crate::error::TrainError;

/// Serves `devices` on TCP `port` (every IPv4 interface), blocking until Ctrl+C or SIGTERM.
///
/// # Errors
///
/// [`TrainError::Config`] when burn cannot start the server (port taken, mixed backends, no
/// device), with burn's message.
#[cfg(feature = "remote")]
pub fn serve(devices: Vec<Device>, port: u16) -> Result<(), TrainError> {
    use burn::server::{RemoteServer, WebSocketTransport};
    RemoteServer::new(devices.into_iter().map(Device::inner))
        .serve(WebSocketTransport::new(port))
        .map_err(|e| TrainError::Config(format!("serve-device on port {port}: {e}")))
}

/// Serves `devices` on a listener the caller bound (a test binds port 0 and reads the port
/// back), blocking until Ctrl+C or SIGTERM.
///
/// # Errors
///
/// As [`serve`].
#[cfg(feature = "remote")]
pub fn serve_listener(
    devices: Vec<Device>,
    listener: std::net::TcpListener,
) -> Result<(), TrainError> {
    use burn::server::{RemoteServer, WebSocketTransport};
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into());
    RemoteServer::new(devices.into_iter().map(Device::inner))
        .serve(WebSocketTransport::from_listener(listener))
        .map_err(|e| TrainError::Config(format!("serve-device on {addr}: {e}")))
}

/// Without the `remote` feature: an error naming it.
///
/// # Errors
///
/// Always [`TrainError::Config`].
#[cfg(not(feature = "remote"))]
pub fn serve(_devices: Vec<Device>, port: u16) -> Result<(), TrainError> {
    Err(TrainError::Config(format!(
        "serve-device on port {port}: this build has no remote backend; rebuild with \
         `--features remote`"
    )))
}

#[cfg(all(test, not(feature = "remote")))]
mod tests {
    #[test]
    fn serving_without_the_feature_names_it() {
        let e = super::serve(vec![burn::tensor::Device::flex()], 3000)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--features remote") && e.contains("3000"), "{e}");
    }
}
