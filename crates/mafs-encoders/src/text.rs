//! The text tower: a transformer over token ids with open_clip's `TextTransformer` layout.
//!
//! # Key mapping to open_clip (no prefix there; `text.` in some configs)
//!
//! | ours (burn module path)       | open_clip key               | transform |
//! |-------------------------------|-----------------------------|-----------|
//! | `token_embedding.weight`      | `token_embedding.weight`    | none (`[vocab, width]`) |
//! | `positional_embedding`        | `positional_embedding`      | none (`[context_length (+1 with Cls), width]`) |
//! | `transformer.resblocks.N.…`   | `transformer.resblocks.N.…` | see [`crate::block`] |
//! | `ln_final.{gamma,beta}`       | `ln_final.{weight,bias}`    | rename |
//! | `text_projection`             | `text_projection`           | none (`[width, output_dim]`) |
//! | `cls_emb` (pool `Cls` only)   | `cls_emb`                   | none (`[width]`) |

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::module::linear;
use burn::tensor::{Bool, Device, Int, Tensor};
use mafs_core::{Encoded, ModalityBatch, ModalityEncoder, ModalityInput};

use crate::activation::Activation;
use crate::attention::WeightsRequest;
use crate::block::{Transformer, TransformerConfig};

/// Where the text tower pools its sequence.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum TextPool {
    /// The first position (a `[CLS]`/`<bos>` token the tokenizer puts there).
    First,
    /// The end-of-text token: the last non-padding position (open_clip pools at
    /// `text.argmax(-1)`, the EOT id being the largest; with a padding mask the EOT is the
    /// last non-padding token).
    Eot,
    /// The mean over non-padding positions.
    Mean,
    /// A learned class embedding appended after the sequence (open_clip's `embed_cls` with
    /// `pool_type = "last"`); it attends to every non-padding token.
    Cls,
}

/// Configuration of a [`TextTransformer`] (open_clip `CLIPTextCfg` fields, plus ours).
#[derive(Config, Debug)]
pub struct TextTransformerConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Maximum sequence length (number of learned positions, not counting a `Cls` token).
    pub context_length: usize,
    /// Transformer width.
    pub width: usize,
    /// Number of blocks.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// MLP hidden width as a multiple of `width`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// Width of the projected tokens and pooled embedding (open_clip `embed_dim`).
    pub output_dim: usize,
    /// Causal attention mask (CLIP's text tower is causal).
    #[config(default = true)]
    pub causal: bool,
    /// Pooling position.
    #[config(default = "TextPool::Eot")]
    pub pool: TextPool,
    /// QuickGELU instead of GELU.
    #[config(default = false)]
    pub quick_gelu: bool,
    /// Dropout in the blocks (training only).
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Modality name (`"caption"`, `"side_text"`, `"question"`...).
    #[config(default = "String::from(\"text\")")]
    pub modality: String,
}

impl TextTransformerConfig {
    /// Builds the encoder. Initialisation follows open_clip: token embedding `N(0, 0.02)`,
    /// positions `N(0, 0.01)`, projection `N(0, width^-0.5)`.
    ///
    /// # Panics
    ///
    /// Panics if `heads` does not divide `width`.
    pub fn init(&self, device: &Device) -> TextTransformer {
        let n_pos = self.context_length + usize::from(self.pool == TextPool::Cls);
        let normal = |std: f64| Initializer::Normal { mean: 0.0, std };
        TextTransformer {
            token_embedding: EmbeddingConfig::new(self.vocab_size, self.width)
                .with_initializer(normal(0.02))
                .init(device),
            positional_embedding: normal(0.01).init([n_pos, self.width], device),
            cls_emb: (self.pool == TextPool::Cls).then(|| normal(0.01).init([self.width], device)),
            transformer: TransformerConfig::new(self.width, self.layers, self.heads)
                .with_mlp_ratio(self.mlp_ratio)
                .with_activation(Activation::from_quick_gelu(self.quick_gelu))
                .with_dropout(self.dropout)
                .init(device),
            ln_final: LayerNormConfig::new(self.width).init(device),
            text_projection: normal((self.width as f64).powf(-0.5))
                .init([self.width, self.output_dim], device),
            causal: self.causal,
            pool: self.pool,
            modality: self.modality.clone(),
        }
    }
}

/// Text transformer: token + position embeddings, pre-norm blocks (optionally causal),
/// `ln_final`, projection.
///
/// Its [`Encoded`] has one token per input position (plus the appended class token with
/// [`TextPool::Cls`]), every token projected by `text_projection` to `output_dim`, the input
/// padding mask, the pooled embedding at the configured position, and that position's
/// last-layer attention (for `Mean`, the mean attention row over non-padding positions).
///
/// Padding positions never influence non-padding outputs: every layer masks padding keys.
#[derive(Module, Debug)]
pub struct TextTransformer {
    /// Token embedding `[vocab, width]`.
    pub token_embedding: Embedding,
    /// Learned positions `[context_length (+1 with Cls), width]`.
    pub positional_embedding: Param<Tensor<2>>,
    /// Learned class token `[width]`, only with [`TextPool::Cls`].
    pub cls_emb: Option<Param<Tensor<1>>>,
    /// The blocks.
    pub transformer: Transformer,
    /// Final norm.
    pub ln_final: LayerNorm,
    /// Output projection `[width, output_dim]`.
    pub text_projection: Param<Tensor<2>>,
    /// Causal mask.
    pub causal: bool,
    /// Pooling position.
    #[module(skip)]
    pub pool: TextPool,
    /// Modality name.
    #[module(skip)]
    pub modality: String,
}

/// What [`TextTransformer::forward`] returns.
#[derive(Debug, Clone)]
pub struct TextOutput {
    /// `[batch, seq (+1 with Cls), output_dim]`, projected token states.
    pub tokens: Tensor<3>,
    /// `[batch, seq (+1 with Cls)]`, padding of `tokens`.
    pub padding: Tensor<2, Bool>,
    /// `[batch, output_dim]`, the pooled embedding.
    pub pooled: Tensor<2>,
    /// `[batch, seq (+1 with Cls)]`, the pooling position's last-layer attention.
    pub pool_attention: Tensor<2>,
    /// `[batch, 2 * width]`, mean and standard deviation of the token embeddings over the
    /// non-padding tokens (before positions and any block).
    pub stem_stats: Tensor<2>,
}

impl TextTransformer {
    /// Transformer width.
    pub fn width(&self) -> usize {
        self.text_projection.dims()[0]
    }

    /// Output width.
    pub fn output_dim(&self) -> usize {
        self.text_projection.dims()[1]
    }

    /// Maximum input length (learned positions, not counting a `Cls` token).
    pub fn context_length(&self) -> usize {
        self.positional_embedding.dims()[0] - usize::from(self.cls_emb.is_some())
    }

    /// Encodes token ids.
    ///
    /// # Shapes
    ///
    /// - `ids`: `[batch, seq]`, `seq <= context_length`, values in `0..vocab_size`
    /// - `padding`: `[batch, seq]`, `true` = padding
    /// - output: see [`TextOutput`]
    ///
    /// An instance whose positions are all padding (a missing text) gets finite outputs
    /// (its pooled embedding is that of position 0, or zero for `Mean`).
    ///
    /// # Panics
    ///
    /// Panics if `padding` differs in shape from `ids` or `seq > context_length`.
    pub fn forward(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> TextOutput {
        let [b, n] = ids.dims();
        let ctx = self.context_length();
        assert_eq!(
            padding.dims(),
            [b, n],
            "TextTransformer `{}`: padding must be [batch, seq] = [{b}, {n}] like ids",
            self.modality
        );
        assert!(
            n <= ctx && n > 0,
            "TextTransformer `{}`: sequence length {n} must be in 1..={ctx} (context_length)",
            self.modality
        );
        let device = ids.device();
        let width = self.width();
        let mut x = self.token_embedding.forward(ids);
        let stem_stats = mafs_core::token_mean_std(x.clone(), padding.clone());
        let mut padding = padding;
        let mut n_tok = n;
        if let Some(cls) = &self.cls_emb {
            let cls = cls.val().reshape([1, 1, width]).expand([b, 1, width]);
            x = Tensor::cat(vec![x, cls], 1);
            let no_pad = Tensor::<2, Int>::zeros([b, 1], &device).equal_elem(1);
            padding = Tensor::cat(vec![padding, no_pad], 1);
            n_tok += 1;
        }
        // open_clip: `x + positional_embedding[:seq_len]`, the class token (if any) at `seq`
        let pos = self.positional_embedding.val().slice([0..n_tok, 0..width]);
        let x = x + pos.reshape([1, n_tok, width]);

        let keep = padding.clone().bool_not();
        let request = match self.pool {
            TextPool::First => WeightsRequest::Rows(Tensor::zeros([b], &device)),
            TextPool::Cls => {
                WeightsRequest::Rows(Tensor::<1, Int>::zeros([b], &device).add_scalar(n as i64))
            }
            TextPool::Eot => WeightsRequest::Rows(last_kept(keep.clone())),
            TextPool::Mean => WeightsRequest::Full,
        };
        let rows = match &request {
            WeightsRequest::Rows(r) => Some(r.clone()),
            _ => None,
        };
        let (x, weights) = self
            .transformer
            .forward(x, Some(&padding), self.causal, request);
        let tokens = linear(self.ln_final.forward(x), self.text_projection.val(), None);
        let d = self.output_dim();
        let weights = weights.expect("the last block returns the requested weights");
        let (pooled, pool_attention) = match rows {
            Some(rows) => {
                let index = rows.reshape([b, 1, 1]).expand([b, 1, d]);
                (
                    tokens.clone().gather(1, index).reshape([b, d]),
                    weights.reshape([b, n_tok]),
                )
            }
            None => {
                let keep_f = keep.float();
                let count = keep_f.clone().sum_dim(1).clamp_min(1.0); // [b, 1]
                let pooled = (tokens.clone() * keep_f.clone().reshape([b, n_tok, 1]))
                    .sum_dim(1)
                    .reshape([b, d])
                    / count.clone();
                let attention = (weights * keep_f.reshape([b, n_tok, 1]))
                    .sum_dim(1)
                    .reshape([b, n_tok])
                    / count;
                (pooled, attention)
            }
        };
        TextOutput {
            tokens,
            padding,
            pooled,
            pool_attention,
            stem_stats,
        }
    }
}

/// Index of the last `true` of each row of `keep` `[batch, seq]` (0 when none).
fn last_kept(keep: Tensor<2, Bool>) -> Tensor<1, Int> {
    let [b, n] = keep.dims();
    let positions = Tensor::<1, Int>::arange(1..n as i64 + 1, &keep.device()).reshape([1, n]);
    (keep.int() * positions)
        .max_dim(1)
        .reshape([b])
        .sub_scalar(1)
        .clamp_min(0)
}

impl ModalityEncoder for TextTransformer {
    fn modality(&self) -> &str {
        &self.modality
    }

    fn d_model(&self) -> usize {
        self.output_dim()
    }

    /// # Panics
    ///
    /// Panics if the input is not [`ModalityInput::Tokens`] or its shapes are wrong.
    fn encode(&self, batch: &ModalityBatch) -> Encoded {
        let ModalityInput::Tokens { ids, padding } = &batch.input else {
            panic!(
                "TextTransformer `{}`: expected ModalityInput::Tokens for modality `{}`",
                self.modality, batch.name
            );
        };
        let out = self.forward(ids.clone(), padding.clone());
        Encoded::new(
            self.modality.clone(),
            out.tokens,
            out.padding,
            out.pooled,
            batch.present.clone(),
        )
        .with_pool_attention(out.pool_attention)
        .with_stem_stats(out.stem_stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tolerance;

    fn config(pool: TextPool, causal: bool) -> TextTransformerConfig {
        TextTransformerConfig::new(50, 8, 32, 2, 4, 24)
            .with_pool(pool)
            .with_causal(causal)
    }

    fn ids(device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>) {
        let ids = Tensor::<2, Int>::from_ints(
            [
                [5, 6, 7, 8, 9, 49, 0, 0],
                [3, 4, 49, 0, 0, 0, 0, 0],
                [1, 2, 3, 4, 5, 6, 7, 49],
            ],
            device,
        );
        let pad = Tensor::<2, Int>::from_ints(
            [
                [0, 0, 0, 0, 0, 0, 1, 1],
                [0, 0, 0, 1, 1, 1, 1, 1],
                [0, 0, 0, 0, 0, 0, 0, 0],
            ],
            device,
        )
        .equal_elem(1);
        (ids, pad)
    }

    #[test]
    fn shapes_for_every_pooling() {
        let (_rng, device) = crate::test_util::seeded(0);
        for pool in [
            TextPool::First,
            TextPool::Eot,
            TextPool::Mean,
            TextPool::Cls,
        ] {
            let enc = config(pool, true)
                .with_modality("side_text".into())
                .init(&device);
            let (ids, pad) = ids(&device);
            let present = Tensor::<1, Int>::ones([3], &device).equal_elem(1);
            let batch = ModalityBatch::new(
                "side_text",
                ModalityInput::Tokens { ids, padding: pad },
                present,
            );
            let e = enc.encode(&batch);
            let n = if pool == TextPool::Cls { 9 } else { 8 };
            assert_eq!(e.dims(), [3, n, 24], "{pool:?}");
            assert_eq!(e.pooled.dims(), [3, 24]);
            assert_eq!(e.name, "side_text");
            let att = e.pool_attention.unwrap();
            // distributions over non-padding tokens
            let sums = att.clone().sum_dim(1).reshape([3]);
            sums.to_data().assert_approx_eq::<f32>(
                &Tensor::<1>::ones([3], &device).to_data(),
                Tolerance::absolute(1e-5),
            );
            let on_pad = att
                .mask_fill(e.padding.clone().bool_not(), 0.0)
                .sum()
                .into_scalar::<f32>();
            assert!(
                on_pad.abs() < 1e-7,
                "{pool:?}: attention on padding {on_pad}"
            );
        }
    }

    #[test]
    fn eot_pooling_takes_the_last_non_padding_token() {
        let (_rng, device) = crate::test_util::seeded(1);
        let enc = config(TextPool::Eot, true).init(&device);
        let (ids, pad) = ids(&device);
        let out = enc.forward(ids, pad);
        for (i, pos) in [(0usize, 5usize), (1, 2), (2, 7)] {
            let t = out
                .tokens
                .clone()
                .slice([i..i + 1, pos..pos + 1, 0..24])
                .reshape([1, 24]);
            let p = out.pooled.clone().slice([i..i + 1, 0..24]);
            p.to_data()
                .assert_approx_eq::<f32>(&t.to_data(), Tolerance::absolute(1e-6));
        }
    }

    #[test]
    fn padding_does_not_influence_non_padding_outputs() {
        let (_rng, device) = crate::test_util::seeded(2);
        for (pool, causal) in [
            (TextPool::Eot, true),
            (TextPool::Mean, false),
            (TextPool::First, false),
            (TextPool::Cls, false),
        ] {
            let enc = config(pool, causal).init(&device);
            let (ids, pad) = ids(&device);
            let a = enc.forward(ids.clone(), pad.clone());
            // replace every padding id by another token
            let other = ids.clone().mask_fill(pad.clone(), 17);
            let b = enc.forward(other, pad.clone());
            let tol = Tolerance::absolute(1e-5);
            a.pooled
                .to_data()
                .assert_approx_eq::<f32>(&b.pooled.to_data(), tol);
            let n = a.tokens.dims()[1];
            let keep = a.padding.clone().reshape([3, n, 1]).expand([3, n, 24]);
            let ta = a.tokens.clone().mask_fill(keep.clone(), 0.0);
            let tb = b.tokens.clone().mask_fill(keep, 0.0);
            ta.to_data().assert_approx_eq::<f32>(&tb.to_data(), tol);
            a.pool_attention
                .to_data()
                .assert_approx_eq::<f32>(&b.pool_attention.to_data(), tol);
        }
    }

    #[test]
    fn causal_outputs_ignore_the_future() {
        let (_rng, device) = crate::test_util::seeded(3);
        let enc = config(TextPool::First, true).init(&device);
        let no_pad = Tensor::<2, Int>::zeros([1, 4], &device).equal_elem(1);
        let a = enc.forward(Tensor::from_ints([[1, 2, 3, 4]], &device), no_pad.clone());
        let b = enc.forward(Tensor::from_ints([[1, 2, 9, 9]], &device), no_pad);
        let first2 = |t: Tensor<3>| t.slice([0..1, 0..2, 0..24]).into_data();
        first2(a.tokens).assert_approx_eq::<f32>(&first2(b.tokens), Tolerance::absolute(1e-5));
    }

    #[test]
    fn all_padding_instance_is_finite() {
        let (_rng, device) = crate::test_util::seeded(4);
        for pool in [TextPool::Eot, TextPool::Mean] {
            let enc = config(pool, true).init(&device);
            let ids = Tensor::<2, Int>::zeros([2, 4], &device);
            let pad = Tensor::<2, Int>::ones([2, 4], &device).equal_elem(1);
            let out = enc.forward(ids, pad);
            assert!(!out.pooled.is_nan().any().into_scalar::<bool>(), "{pool:?}");
            assert!(!out.tokens.is_nan().any().into_scalar::<bool>(), "{pool:?}");
        }
    }

    #[test]
    fn gradients_are_finite_with_an_all_padding_instance() {
        let (_rng, device) = crate::test_util::seeded_autodiff(5);
        for (pool, causal) in [(TextPool::Eot, true), (TextPool::Mean, false)] {
            let enc = config(pool, causal).init(&device);
            let ids = Tensor::<2, Int>::from_ints([[5, 6, 7, 0], [0, 0, 0, 0]], &device);
            let pad =
                Tensor::<2, Int>::from_ints([[0, 0, 0, 1], [1, 1, 1, 1]], &device).equal_elem(1);
            let out = enc.forward(ids, pad);
            let loss = out.pooled.sum() + out.pool_attention.sum();
            let grads = loss.backward();
            let g = enc
                .token_embedding
                .weight
                .val()
                .grad(&grads)
                .expect("gradient");
            assert!(!g.clone().is_nan().any().into_scalar::<bool>(), "{pool:?}");
            assert!(g.abs().sum().into_scalar::<f32>() > 0.0, "{pool:?}");
        }
    }

    #[test]
    #[should_panic(expected = "sequence length 9 must be in 1..=8")]
    fn too_long_input_panics_with_a_message() {
        let (_rng, device) = crate::test_util::seeded(0);
        let enc = config(TextPool::Eot, true).init(&device);
        let ids = Tensor::<2, Int>::zeros([1, 9], &device);
        let pad = Tensor::<2, Int>::zeros([1, 9], &device).equal_elem(1);
        enc.forward(ids, pad);
    }
}
