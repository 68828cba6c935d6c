//! mafs facade.
pub use mafs_core as core;
