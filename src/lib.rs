//! # mafs
//!
//! Modality-Aware Adaptive Fusion Scheduling (MA-AFS) for robust multimodal learning, on
//! burn: a small learned scheduler decides, per instance, how much each modality contributes
//! to the fused representation, from visual and textual uncertainty and cross-modal
//! agreement.
//!
//! This facade re-exports the crates, each usable (and citable) on its own:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`core`] | mafs-core | shared types and the five traits |
//! | [`data`] | mafs-data | built-in world, loaders, tokenizers, corruptions, batching |
//! | [`encoders`] | mafs-encoders | image ViT and text transformer (open_clip layout) |
//! | [`signals`] | mafs-signals | uncertainty and agreement signals |
//! | [`scheduler`] | mafs-scheduler | MA-AFS schedulers and baseline weightings |
//! | [`fusion`] | mafs-fusion | late and query fusion |
//! | [`heads`] | mafs-heads | retrieval, captioning, VQA heads and losses |
//! | [`eval`] | mafs-eval | metrics as the reference tools compute them |
//! | [`train`] | mafs-train | model assembly, training loop, checkpoints |

pub use mafs_core as core;
pub use mafs_data as data;
pub use mafs_encoders as encoders;
pub use mafs_eval as eval;
pub use mafs_fusion as fusion;
pub use mafs_heads as heads;
pub use mafs_scheduler as scheduler;
pub use mafs_signals as signals;
pub use mafs_train as train;
