//! The caption decoder: a pre-norm transformer decoder over the fused query tokens.
//!
//! Token embedding + learned positional embedding, `n_layers` of burn's
//! [`TransformerDecoder`] with `norm_first = true` (causal self-attention, cross-attention to
//! the memory, MLP, each in a pre-norm residual block), a final LayerNorm (as GPT-2 and every
//! pre-norm stack add), and an output projection tied to the token embedding with a bias
//! (BERT's `BertLMPredictionHead`, which BLIP's captioning decoder uses) or a separate Linear.
//!
//! Training runs the whole sequence through burn's decoder with a causal mask (this file).
//! Generation runs [`CaptionDecoder::step`] with a KV cache of our own ([`incremental`]):
//! burn 0.22.1's autoregressive cache can not be reordered, which beam search needs; ours is
//! plain tensors that [`CaptionDecoder::reorder`] gathers with `select`. A test checks that
//! both paths give the same logits.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::attention::generate_autoregressive_mask;
use burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderConfig, TransformerDecoderInput,
};
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig,
};
use burn::tensor::Device;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Int, Tensor, assert_shape};

pub mod incremental;

pub use incremental::{CaptionStepper, DecodeState};

/// Configuration of [`CaptionDecoder`].
#[derive(Config, Debug)]
pub struct CaptionDecoderConfig {
    /// Vocabulary size, special tokens included.
    pub vocab_size: usize,
    /// Width of the memory (the fused query tokens).
    pub d_memory: usize,
    /// Width of the decoder.
    #[config(default = 256)]
    pub d_model: usize,
    /// Number of decoder layers.
    #[config(default = 2)]
    pub n_layers: usize,
    /// Number of attention heads.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Width of the MLP; 0 means `4 * d_model`.
    #[config(default = 0)]
    pub d_ff: usize,
    /// Longest input sequence (BOS included) the positional embedding covers.
    #[config(default = 32)]
    pub max_positions: usize,
    /// Dropout in the embeddings, attention and MLP (training only).
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Tie the output projection to the token embedding.
    #[config(default = true)]
    pub tie_embeddings: bool,
    /// Standard deviation of the embedding initialisation (GPT-2 and BERT use 0.02).
    #[config(default = 0.02)]
    pub init_std: f64,
}

impl CaptionDecoderConfig {
    /// Builds the decoder.
    ///
    /// # Panics
    ///
    /// Panics if a size is zero or `d_model` is not divisible by `n_heads`.
    pub fn init(&self, device: &Device) -> CaptionDecoder {
        assert!(
            self.vocab_size > 0 && self.d_memory > 0 && self.d_model > 0 && self.max_positions > 0,
            "CaptionDecoderConfig: sizes must be positive"
        );
        assert!(
            self.n_heads > 0 && self.d_model.is_multiple_of(self.n_heads),
            "CaptionDecoderConfig: d_model = {} must be divisible by n_heads = {}",
            self.d_model,
            self.n_heads
        );
        let normal = Initializer::Normal {
            mean: 0.0,
            std: self.init_std,
        };
        let d_ff = if self.d_ff == 0 {
            4 * self.d_model
        } else {
            self.d_ff
        };
        CaptionDecoder {
            token_embedding: EmbeddingConfig::new(self.vocab_size, self.d_model)
                .with_initializer(normal.clone())
                .init(device),
            position_embedding: EmbeddingConfig::new(self.max_positions, self.d_model)
                .with_initializer(normal)
                .init(device),
            memory_proj: (self.d_memory != self.d_model)
                .then(|| LinearConfig::new(self.d_memory, self.d_model).init(device)),
            embed_dropout: DropoutConfig::new(self.dropout).init(),
            decoder: TransformerDecoderConfig::new(self.d_model, d_ff, self.n_heads, self.n_layers)
                .with_dropout(self.dropout)
                .with_norm_first(true)
                .init(device),
            final_norm: LayerNormConfig::new(self.d_model).init(device),
            output: (!self.tie_embeddings)
                .then(|| LinearConfig::new(self.d_model, self.vocab_size).init(device)),
            output_bias: self
                .tie_embeddings
                .then(|| Param::from_tensor(Tensor::zeros([self.vocab_size], device))),
        }
    }
}

/// Pre-norm transformer decoder with tied or separate output projection.
#[derive(Module, Debug)]
pub struct CaptionDecoder {
    /// Token embedding `[vocab, d_model]`.
    pub token_embedding: Embedding,
    /// Learned positions `[max_positions, d_model]`.
    pub position_embedding: Embedding,
    /// Projection of the memory to `d_model` when their widths differ.
    pub memory_proj: Option<Linear>,
    /// Dropout after the embeddings.
    pub embed_dropout: Dropout,
    /// burn's decoder stack (`norm_first`).
    pub decoder: TransformerDecoder,
    /// Final LayerNorm.
    pub final_norm: LayerNorm,
    /// Separate output projection (untied).
    pub output: Option<Linear>,
    /// Output bias of the tied projection.
    pub output_bias: Option<Param<Tensor<1>>>,
}

impl CaptionDecoder {
    /// Vocabulary size.
    pub fn vocab_size(&self) -> usize {
        self.token_embedding.weight.dims()[0]
    }

    /// Width of the decoder.
    pub fn d_model(&self) -> usize {
        self.token_embedding.weight.dims()[1]
    }

    /// Longest input sequence.
    pub fn max_positions(&self) -> usize {
        self.position_embedding.weight.dims()[0]
    }

    /// Width of the memory it expects.
    pub fn d_memory(&self) -> usize {
        match &self.memory_proj {
            Some(p) => p.weight.dims()[0],
            None => self.d_model(),
        }
    }

    fn project_memory(&self, memory: Tensor<3>) -> Tensor<3> {
        assert_shape!(memory, [_, _, self.d_memory()]);
        match &self.memory_proj {
            Some(p) => p.forward(memory),
            None => memory,
        }
    }

    fn logits(&self, h: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = h.dims();
        match (&self.output, &self.output_bias) {
            (Some(out), _) => out.forward(h),
            (None, bias) => {
                let v = self.vocab_size();
                let mut l = h
                    .reshape([b * t, d])
                    .matmul(self.token_embedding.weight.val().transpose());
                if let Some(bias) = bias {
                    l = l + bias.val().reshape([1, v]);
                }
                l.reshape([b, t, v])
            }
        }
    }

    /// Teacher-forced logits.
    ///
    /// # Shapes
    ///
    /// - `memory`: `[batch, n_memory, d_memory]`
    /// - `input_ids`: `[batch, seq]`, starting with BOS
    /// - `padding`: `[batch, seq]`, `true` = padding
    /// - output: `[batch, seq, vocab]`, row `t` predicts token `t + 1`
    ///
    /// # Panics
    ///
    /// Panics on a shape mismatch or a sequence longer than `max_positions`.
    pub fn forward(
        &self,
        memory: Tensor<3>,
        input_ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
    ) -> Tensor<3> {
        self.forward_with_memory_padding(memory, None, input_ids, padding)
    }

    /// [`Self::forward`] over a memory with padding (a modality's own token states, for the
    /// unimodal loss): padded memory positions are not attended to.
    ///
    /// # Shapes
    ///
    /// - `memory`: `[batch, n_memory, d_memory]`, `memory_padding`: `[batch, n_memory]`
    /// - `input_ids`, `padding`: `[batch, seq]` → `[batch, seq, vocab]`
    pub fn forward_with_memory_padding(
        &self,
        memory: Tensor<3>,
        memory_padding: Option<Tensor<2, Bool>>,
        input_ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
    ) -> Tensor<3> {
        let [b, t] = input_ids.dims();
        assert_shape!(memory, [b, _, self.d_memory()]);
        let [_, q, _] = memory.dims();
        if let Some(mp) = &memory_padding {
            assert!(
                mp.dims() == [b, q],
                "CaptionDecoder: memory padding must be [batch, n_memory] = [{b}, {q}], got {:?}",
                mp.dims()
            );
        }
        assert!(
            padding.dims() == [b, t],
            "CaptionDecoder: padding must be [batch, seq] = [{b}, {t}], got {:?}",
            padding.dims()
        );
        assert!(
            t <= self.max_positions(),
            "CaptionDecoder: sequence of {t} tokens exceeds max_positions = {}",
            self.max_positions()
        );
        let device = input_ids.device();
        let d = self.d_model();
        let positions = self
            .position_embedding
            .weight
            .val()
            .slice([0..t, 0..d])
            .reshape([1, t, d]);
        let x = self
            .embed_dropout
            .forward(self.token_embedding.forward(input_ids) + positions);
        let memory = self.project_memory(memory);
        let mut input = TransformerDecoderInput::new(x, memory)
            .target_mask_attn(generate_autoregressive_mask(b, t, &device))
            .target_mask_pad(padding);
        if let Some(mp) = memory_padding {
            input = input.memory_mask_pad(mp);
        }
        self.logits(self.final_norm.forward(self.decoder.forward(input)))
    }

    /// Log-probability of each sequence under the model, teacher-forced: the sum over the
    /// non-padding positions of `log p(target_t | input_<=t)`.
    ///
    /// # Shapes
    ///
    /// - `memory`: `[batch, n_memory, d_memory]`; `input_ids`, `target_ids`, `padding`:
    ///   `[batch, seq]` → `[batch]`
    pub fn sequence_log_prob(
        &self,
        memory: Tensor<3>,
        input_ids: Tensor<2, Int>,
        target_ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
    ) -> Tensor<1> {
        let [b, t] = input_ids.dims();
        let logp = log_softmax(self.forward(memory, input_ids, padding.clone()), 2);
        let v = self.vocab_size();
        let targets = target_ids
            .mask_fill(padding.clone(), 0)
            .clamp(0, v as i64 - 1)
            .reshape([b, t, 1]);
        let picked = logp.gather(2, targets).reshape([b, t]);
        (picked * padding.bool_not().float())
            .sum_dim(1)
            .reshape([b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    pub(super) fn small(device: &Device, tie: bool, d_memory: usize) -> CaptionDecoder {
        CaptionDecoderConfig::new(11, d_memory)
            .with_d_model(16)
            .with_n_heads(2)
            .with_n_layers(2)
            .with_max_positions(8)
            .with_tie_embeddings(tie)
            .with_init_std(0.5)
            .init(device)
    }

    #[test]
    fn forward_shapes_and_projection() {
        let d = Device::flex();
        d.seed(0);
        let dec = small(&d, false, 12);
        assert!(dec.memory_proj.is_some());
        let memory = Tensor::<3>::random([2, 3, 12], Distribution::Normal(0.0, 1.0), &d);
        let ids = Tensor::<2, Int>::from_ints([[0, 4, 5], [0, 6, 2]], &d);
        let pad = Tensor::<2, Bool>::from_bool(TensorData::from([[false; 3]; 2]), &d);
        assert_eq!(dec.forward(memory, ids, pad).dims(), [2, 3, 11]);
    }

    #[test]
    #[should_panic(expected = "exceeds max_positions")]
    fn forward_rejects_too_long_sequences() {
        let d = Device::flex();
        let dec = small(&d, true, 16);
        let memory = Tensor::<3>::zeros([1, 2, 16], &d);
        let ids = Tensor::<2, Int>::zeros([1, 9], &d);
        let pad = Tensor::<2, Bool>::from_bool(TensorData::from([[false; 9]]), &d);
        let _ = dec.forward(memory, ids, pad);
    }
}
