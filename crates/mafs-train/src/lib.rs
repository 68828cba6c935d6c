//! # mafs-train
//!
//! Assembles a mafs model from its parts (encoders, signals, scheduler, fusion, task head),
//! trains it (AdamW, warm-up then cosine decay, gradient clipping, corruption-aware training,
//! validation each epoch), and writes resumable checkpoints (safetensors weights, config,
//! optimizer and training state, atomically).
//!
//! The device is always a parameter: nothing here assumes the CPU. This crate does no data
//! generation or metric computation of its own; it calls mafs-data and mafs-eval.

pub mod atomic;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod ddp;
pub mod device;
pub mod error;
pub mod eval;
pub mod execution;
pub mod init;
pub mod lr;
pub mod metrics_log;
pub mod model;
pub mod params;
pub mod parity;
pub mod progress;
pub mod reference;
pub mod schedcheck;
pub mod seed;
pub mod serve;
pub mod step;
pub mod tensors;
pub mod train;
pub mod vocabulary;

pub use checkpoint::{RunDir, TrainState};
pub use error::TrainError;
