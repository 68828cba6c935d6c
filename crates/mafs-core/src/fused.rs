//! The fused representation a task head reads.

use burn::tensor::Tensor;

/// Output of a [`crate::FusionHead`].
///
/// # Shapes
///
/// - `pooled`: `[batch, d]`, the fused embedding
/// - `tokens`: optional `[batch, n_queries, d]`, the fused query tokens (query fusion), the
///   memory a captioning decoder attends to
#[derive(Debug, Clone)]
pub struct Fused {
    /// Fused embedding.
    pub pooled: Tensor<2>,
    /// Fused token sequence, when the head produces one.
    pub tokens: Option<Tensor<3>>,
}

impl Fused {
    /// Fused embedding only.
    pub fn pooled(pooled: Tensor<2>) -> Self {
        Self {
            pooled,
            tokens: None,
        }
    }

    /// Batch size.
    pub fn batch_size(&self) -> usize {
        self.pooled.dims()[0]
    }

    /// The token memory for a decoder: the fused tokens, or the pooled embedding as a single
    /// token when the head produced none.
    pub fn memory(&self) -> Tensor<3> {
        match &self.tokens {
            Some(t) => t.clone(),
            None => {
                let [b, d] = self.pooled.dims();
                self.pooled.clone().reshape([b, 1, d])
            }
        }
    }
}
