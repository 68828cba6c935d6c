//! The unimodal term of the training loss, `lambda_uni * sum_m L_task(unimodal_m)` (DESIGN §1):
//! each task head applied to one modality's own encoding, averaged over the instances that
//! have that modality, so a missing modality contributes no loss.

use burn::tensor::Tensor;

/// The unimodal loss of a batch.
///
/// `total = sum_m L_m`, where `L_m` is the task loss of modality m alone, averaged over the
/// instances where m is present (0 when m is missing everywhere).
#[derive(Debug, Clone)]
pub struct UnimodalLoss {
    /// Sum over modalities, `[1]`.
    pub total: Tensor<1>,
    /// `L_m`, one `[1]` per modality, in the order of the encodings.
    pub per_modality: Vec<Tensor<1>>,
}

impl UnimodalLoss {
    /// Sums per-modality terms.
    ///
    /// # Panics
    ///
    /// Panics if `per_modality` is empty.
    pub fn from_terms(per_modality: Vec<Tensor<1>>) -> Self {
        let total = per_modality
            .iter()
            .cloned()
            .reduce(|a, b| a + b)
            .expect("UnimodalLoss: at least one modality");
        Self {
            total,
            per_modality,
        }
    }
}
