//! # mafs-data
//!
//! Everything the mafs framework reads: the built-in procedural multimodal world (scenes,
//! captions, side texts, VQA questions; deterministic from a seed), loaders for the
//! Karpathy-split caption JSON (COCO, Flickr30k) and VQA v2 files, word-level and Hugging Face
//! tokenizers, the corruption suite, and burn `Dataset`s and `Batcher`s.
//!
//! All instances share one type, [`Instance`], whatever their source, so every downstream
//! stage (corruption, batching, evaluation) works the same on the built-in world and on real
//! data. This crate does no modelling and depends on `mafs-core` (and burn) only.
//!
//! - [`world`]: the built-in world ([`world::World`], [`world::WorldConfig`]);
//! - [`karpathy`], [`vqa`], [`coco`], [`wds`] (WebDataset shards), [`table`] (parquet),
//!   [`image_io`], [`export`]: real formats and the exporter; [`source`]: the `--data` spec
//!   and reading a source's splits; [`paths`]: keeping dataset paths inside `--images`;
//! - [`coverage`]: how much of a dataset's text a run's vocabulary covers;
//! - [`error`], [`report`], [`check`]: typed bad-input errors, `skip_bad` reports, validation;
//! - [`paths`]: [`paths::DataRoot`], the one gate for every file a dataset names (no `..`,
//!   absolute paths or symlinks out of the images folder): every reader must use it;
//! - [`tokenizer`], [`answers`]: text tokenizers and the VQA answer vocabulary;
//! - [`dataset`], [`batcher`]: burn datasets and the [`batcher::MultimodalBatcher`];
//! - [`stats`]: sizes and answer balance;
//! - [`corrupt`]: the corruption suite.
//!
//! See `docs/data.md` for the formats, the world's contents and the error catalogue.

pub mod answers;
pub mod batcher;
pub mod check;
pub mod coco;
pub mod corrupt;
pub mod coverage;
pub mod dataset;
pub mod error;
pub mod export;
pub mod image_io;
pub mod instance;
pub mod karpathy;
pub mod paths;
pub mod report;
pub mod source;
pub mod stats;
pub mod table;
pub mod tokenizer;
pub mod vqa;
pub mod wds;
pub mod world;

pub use error::DataError;
pub use instance::{CorruptionMark, Instance, InstanceTransform, Qa, Split};
