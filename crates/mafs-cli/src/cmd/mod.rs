//! One module per subcommand.

pub mod corrupt;
pub mod data;
pub mod metrics;
