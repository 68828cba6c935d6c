//! The batch the model reads: per-modality inputs with presence masks, and the targets of
//! the task.

use burn::tensor::{Bool, Int, Tensor, TensorData};
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

    /// The batch of modality `name` (`image`, `side_text`, `question`, `caption`).
    pub fn modality(&self, name: &str) -> Option<&ModalityBatch> {
        match name {
            "image" => Some(&self.image),
            "side_text" => Some(&self.side_text),
            "question" => self.question.as_ref(),
            "caption" => self.caption.as_ref(),
            _ => None,
        }
    }

    /// `[B, M]` masks over the modalities `names`, in order: `clean` (left as the dataset
    /// gave it) and `misaligned` (replaced by another instance's). A modality the batch lacks
    /// counts as clean.
    pub fn corruption_masks(&self, names: &[String]) -> (Tensor<2, Bool>, Tensor<2, Bool>) {
        let b = self.len();
        let m = names.len();
        let mut clean = vec![true; b * m];
        let mut misaligned = vec![false; b * m];
        for (j, name) in names.iter().enumerate() {
            let Some(mb) = self.modality(name) else {
                continue;
            };
            for (i, row) in mb.corruption.rows.iter().enumerate() {
                clean[i * m + j] = !row.is_corrupted();
                misaligned[i * m + j] = row.misaligned;
            }
        }
        let device = self.side_text.present.device();
        (
            Tensor::from_data(TensorData::new(clean, [b, m]), &device),
            Tensor::from_data(TensorData::new(misaligned, [b, m]), &device),
        )
    }

    /// Host-side `[B][M]`: whether each modality of `names` was corrupted, dropped or
    /// misaligned by the data pipeline (a modality the batch lacks counts as clean).
    pub fn corrupted_rows(&self, names: &[String]) -> Vec<Vec<bool>> {
        let mut out = vec![vec![false; names.len()]; self.len()];
        for (j, name) in names.iter().enumerate() {
            if let Some(mb) = self.modality(name) {
                for (i, row) in mb.corruption.rows.iter().enumerate() {
                    out[i][j] = row.is_corrupted();
                }
            }
        }
        out
    }

    /// `[B, B]`, `true` where rows `i` and `j` belong to the same instance (each row's own
    /// caption, and any other caption of its instance, is a positive).
    pub fn positives(&self) -> Tensor<2, Bool> {
        let b = self.len();
        let v: Vec<bool> = (0..b * b)
            .map(|k| self.ids[k / b] == self.ids[k % b])
            .collect();
        Tensor::from_data(TensorData::new(v, [b, b]), &self.side_text.present.device())
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
