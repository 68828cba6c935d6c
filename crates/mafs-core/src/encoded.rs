//! What a modality encoder returns.

use burn::tensor::{Bool, Tensor};

/// The encoding of one modality for a batch.
///
/// # Shapes
///
/// - `tokens`: `[batch, n_tokens, d]`
/// - `padding`: `[batch, n_tokens]`, `true` = padding (never attended to)
/// - `pooled`: `[batch, d]`
/// - `present`: `[batch]`, `true` where the instance has this modality
/// - `pool_attention`: optional `[batch, n_tokens]`, the pooling token's attention over the
///   tokens (rows sum to one over non-padding tokens), the input of attention entropy
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Modality name, as in [`crate::ModalityBatch::name`].
    pub name: String,
    /// Token states.
    pub tokens: Tensor<3>,
    /// Padding mask of the token states.
    pub padding: Tensor<2, Bool>,
    /// Pooled embedding.
    pub pooled: Tensor<2>,
    /// Presence mask.
    pub present: Tensor<1, Bool>,
    /// Attention of the pooling position over the tokens, averaged over heads, last layer.
    pub pool_attention: Option<Tensor<2>>,
}

impl Encoded {
    /// Builds an encoding, checking that every tensor agrees on the batch size, the number of
    /// tokens and the width.
    ///
    /// # Panics
    ///
    /// Panics when the shapes disagree; the message names the tensor.
    pub fn new(
        name: impl Into<String>,
        tokens: Tensor<3>,
        padding: Tensor<2, Bool>,
        pooled: Tensor<2>,
        present: Tensor<1, Bool>,
    ) -> Self {
        let name = name.into();
        let [b, n, d] = tokens.dims();
        assert_eq!(
            padding.dims(),
            [b, n],
            "Encoded `{name}`: padding must be [batch, n_tokens] = [{b}, {n}]"
        );
        assert_eq!(
            pooled.dims(),
            [b, d],
            "Encoded `{name}`: pooled must be [batch, d] = [{b}, {d}]"
        );
        assert_eq!(
            present.dims(),
            [b],
            "Encoded `{name}`: present must be [batch] = [{b}]"
        );
        Self {
            name,
            tokens,
            padding,
            pooled,
            present,
            pool_attention: None,
        }
    }

    /// Attaches the pooling attention `[batch, n_tokens]`.
    ///
    /// # Panics
    ///
    /// Panics if its shape is not `[batch, n_tokens]`.
    pub fn with_pool_attention(mut self, attention: Tensor<2>) -> Self {
        let [b, n, _] = self.tokens.dims();
        assert_eq!(
            attention.dims(),
            [b, n],
            "Encoded `{}`: pool_attention must be [batch, n_tokens] = [{b}, {n}]",
            self.name
        );
        self.pool_attention = Some(attention);
        self
    }

    /// `[batch, n_tokens, d]` dimensions.
    pub fn dims(&self) -> [usize; 3] {
        self.tokens.dims()
    }

    /// Batch size.
    pub fn batch_size(&self) -> usize {
        self.tokens.dims()[0]
    }

    /// Width `d` of the token states and pooled embedding.
    pub fn d_model(&self) -> usize {
        self.tokens.dims()[2]
    }

    /// The presence mask as floats `[batch]` (1.0 present, 0.0 missing).
    pub fn present_f(&self) -> Tensor<1> {
        self.present.clone().float()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    #[should_panic(expected = "pooled must be [batch, d]")]
    fn rejects_wrong_pooled_width() {
        let device = Device::flex();
        let _ = Encoded::new(
            "image",
            Tensor::<3>::zeros([2, 4, 8], &device),
            Tensor::<2, Bool>::empty([2, 4], &device),
            Tensor::<2>::zeros([2, 7], &device),
            Tensor::<1, Bool>::empty([2], &device),
        );
    }
}
