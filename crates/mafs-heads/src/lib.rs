//! Retrieval (ITC/ITM), captioning and VQA task heads and losses for mafs.

pub mod loss;
