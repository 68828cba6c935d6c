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
    /// Statistics of the encoder's input embedding (patch or token embeddings, before any
    /// transformer block): their mean and standard deviation over the non-padding positions,
    /// `[batch, 2 * w]`. Where input corruption shows most (noise raises the spread of patch
    /// embeddings, typos turn words into the unknown token) for a learned confidence to read.
    pub stem_stats: Option<Tensor<2>>,
}

/// Mean and standard deviation of token states over the non-padding positions,
/// concatenated, `[batch, 2 * d]` (zeros for a row that is all padding).
///
/// # Shapes
///
/// - `tokens`: `[batch, n, d]`, `padding`: `[batch, n]` (`true` = padding)
///
/// # Panics
///
/// Panics if the shapes disagree.
pub fn token_mean_std(tokens: Tensor<3>, padding: Tensor<2, Bool>) -> Tensor<2> {
    let [b, n, d] = tokens.dims();
    assert_eq!(
        padding.dims(),
        [b, n],
        "token_mean_std: padding must be [batch, n] = [{b}, {n}]"
    );
    let keep = padding.bool_not().float().reshape([b, n, 1]);
    let count = keep.clone().sum_dim(1).clamp_min(1.0); // [b, 1, 1]
    let mean = (tokens.clone() * keep.clone()).sum_dim(1) / count.clone(); // [b, 1, d]
    let centred = (tokens - mean.clone()) * keep;
    let var = centred.powi_scalar(2).sum_dim(1) / count;
    let std = var.add_scalar(1.0e-6).sqrt();
    Tensor::cat(vec![mean.reshape([b, d]), std.reshape([b, d])], 1)
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
            stem_stats: None,
        }
    }

    /// Attaches the input-embedding statistics `[batch, 2 * w]` (see [`token_mean_std`]).
    ///
    /// # Panics
    ///
    /// Panics if the batch size differs.
    pub fn with_stem_stats(mut self, stats: Tensor<2>) -> Self {
        let b = self.batch_size();
        assert_eq!(
            stats.dims()[0],
            b,
            "Encoded `{}`: stem_stats must have one row per instance ({b})",
            self.name
        );
        self.stem_stats = Some(stats);
        self
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
