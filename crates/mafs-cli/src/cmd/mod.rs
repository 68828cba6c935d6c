//! One module per subcommand.

pub mod compare;
pub mod corrupt;
pub mod data;
pub mod eval;
pub mod metrics;
pub mod train;
