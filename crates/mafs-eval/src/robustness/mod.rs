//! Robustness benchmarks: the data a sweep records ([`results`]), its statistics
//! ([`stats`]: mean and spread over seeds, relative robustness, ImageNet-C's mCE, a paired
//! bootstrap over instances and seeds), the summaries a report states ([`summary`]), what
//! each corruption did to the fusion weights ([`shifts`]), the Markdown report ([`report`]) and the figures ([`figures`]).
//!
//! Nothing here trains or evaluates a model: a driver (`mafs robustness`) fills
//! [`results::CellResult`]s and [`results::CellInstances`] and hands them over.

pub mod figures;
pub mod report;
pub mod results;
pub mod shifts;
pub mod stats;
pub mod summary;
