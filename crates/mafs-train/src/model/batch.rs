//! The batch the model reads: per-modality inputs with presence masks, and the targets of
//! the task.

use burn::tensor::{Int, Tensor};
use mafs_core::ModalityBatch;
use mafs_heads::{CaptionTarget, VqaTarget};

/// One batch for any task.
#[derive(Debug, Clone)]
pub struct ModelBatch {
    /// Instance id of each row (rows of the same instance are positives of each other).
    pub ids: Vec<u64>,
    /// Images `[B, 3, H, W]`.
    pub image: ModalityBatch,
    /// Side texts (tokens).
    pub side_text: ModalityBatch,
    /// Captions (tokens), for retrieval (the query) and captioning (alignment loss).
    pub caption: Option<ModalityBatch>,
    /// Captioning targets (teacher forcing).
    pub caption_target: Option<CaptionTarget>,
    /// Questions (tokens), for VQA.
    pub question: Option<ModalityBatch>,
    /// VQA targets.
    pub answers: Option<VqaTarget>,
}

impl ModelBatch {
    /// Batch size.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Instance ids as an `Int` tensor `[B]` on the batch's device (multi-positive targets).
    pub fn id_tensor(&self) -> Tensor<1, Int> {
        let device = self.side_text.present.device();
        let ids: Vec<i64> = self.ids.iter().map(|&i| i as i64).collect();
        Tensor::from_data(
            burn::tensor::TensorData::new(ids, [self.ids.len()]),
            &device,
        )
    }
}
