//! One module per subcommand.

pub mod chance;
pub mod compare;
pub mod completions;
pub mod corrupt;
pub mod data;
pub mod eval;
pub mod explain;
pub mod import;
pub mod limits;
pub mod metrics;
pub mod paired;
pub mod predict;
pub mod robustness;
pub mod serve_device;
pub mod sweep;
pub mod train;
pub mod transfer;
pub mod workers;
