//! Incremental decoding for generation: [`CaptionDecoder::start`], [`CaptionDecoder::step`]
//! and [`CaptionDecoder::reorder`] over a KV cache of our own ([`DecodeState`]: plain
//! tensors, so beam search can reorder its rows, which burn 0.22.1's autoregressive cache
//! cannot), and the [`StepDecoder`] adapter [`CaptionStepper`] that [`crate::search`] drives.
//! Training's teacher-forced pass is the parent module's.

use burn::nn::attention::MultiHeadAttention;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::CaptionDecoder;
use crate::search::StepDecoder;

/// Incremental decoding state: the memory's keys and values per layer and the cached keys and
/// values of the tokens fed so far.
///
/// # Shapes
///
/// - `cross[l]`: (`[rows, heads, n_memory, d_k]`, same)
/// - `self_kv[l]`: (`[rows, heads, position, d_k]`, same), `None` before the first step
#[derive(Debug, Clone)]
pub struct DecodeState {
    cross: Vec<(Tensor<4>, Tensor<4>)>,
    self_kv: Vec<Option<(Tensor<4>, Tensor<4>)>>,
    position: usize,
    rows: usize,
}

impl DecodeState {
    /// Number of rows being decoded.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of tokens fed so far.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl CaptionDecoder {
    /// Starts incremental decoding: projects the memory and computes each layer's
    /// cross-attention keys and values once.
    ///
    /// # Shapes
    ///
    /// - `memory`: `[rows, n_memory, d_memory]`
    pub fn start(&self, memory: Tensor<3>) -> DecodeState {
        let [rows, _, _] = memory.dims();
        let memory = self.project_memory(memory);
        let cross = self
            .decoder
            .layers
            .iter()
            .map(|l| {
                (
                    heads(&l.cross_attn, l.cross_attn.key.forward(memory.clone())),
                    heads(&l.cross_attn, l.cross_attn.value.forward(memory.clone())),
                )
            })
            .collect();
        DecodeState {
            cross,
            self_kv: vec![None; self.decoder.layers.len()],
            position: 0,
            rows,
        }
    }

    /// Feeds one token per row and returns the logits of the next token. Dropout is not
    /// applied: generate on `model.valid()`.
    ///
    /// # Shapes
    ///
    /// - `tokens`: `[rows]` → `[rows, vocab]`
    ///
    /// # Panics
    ///
    /// Panics if `tokens` does not have one entry per row or the state is full.
    pub fn step(&self, state: &mut DecodeState, tokens: Tensor<1, Int>) -> Tensor<2> {
        let rows = state.rows;
        assert!(
            tokens.dims() == [rows],
            "CaptionDecoder::step: {} tokens for {rows} rows",
            tokens.dims()[0]
        );
        let t = state.position;
        assert!(
            t < self.max_positions(),
            "CaptionDecoder::step: position {t} exceeds max_positions = {}",
            self.max_positions()
        );
        let d = self.d_model();
        let position = self
            .position_embedding
            .weight
            .val()
            .slice([t..t + 1, 0..d])
            .reshape([1, 1, d]);
        let mut x = self.token_embedding.forward(tokens.reshape([rows, 1])) + position;
        for (l, layer) in self.decoder.layers.iter().enumerate() {
            // Pre-norm order of burn's `TransformerDecoderLayer::forward` with `norm_first`:
            // norm_3 → self-attention, norm_1 → cross-attention, norm_2 → MLP.
            let h = layer.norm_3.forward(x.clone());
            let sa = &layer.self_attn;
            let q = heads(sa, sa.query.forward(h.clone()));
            let k_new = heads(sa, sa.key.forward(h.clone()));
            let v_new = heads(sa, sa.value.forward(h));
            let (k, v) = match state.self_kv[l].take() {
                Some((k, v)) => (
                    Tensor::cat(vec![k, k_new], 2),
                    Tensor::cat(vec![v, v_new], 2),
                ),
                None => (k_new, v_new),
            };
            x = x + attend(sa, q, k.clone(), v.clone());
            state.self_kv[l] = Some((k, v));

            let h = layer.norm_1.forward(x.clone());
            let ca = &layer.cross_attn;
            let q = heads(ca, ca.query.forward(h));
            let (ck, cv) = state.cross[l].clone();
            x = x + attend(ca, q, ck, cv);

            let h = layer.norm_2.forward(x.clone());
            x = x + layer.pwff.forward(h);
        }
        state.position += 1;
        let v = self.vocab_size();
        self.logits(self.final_norm.forward(x)).reshape([rows, v])
    }

    /// Keeps and reorders the rows of a state: new row `r` continues old row `parents[r]`.
    pub fn reorder(&self, state: &mut DecodeState, parents: &[usize]) {
        let device = self.token_embedding.weight.device();
        let idx = Tensor::<1, Int>::from_data(
            TensorData::new(
                parents.iter().map(|&p| p as i64).collect::<Vec<_>>(),
                [parents.len()],
            ),
            &device,
        );
        for (k, v) in &mut state.cross {
            *k = k.clone().select(0, idx.clone());
            *v = v.clone().select(0, idx.clone());
        }
        for (k, v) in state.self_kv.iter_mut().flatten() {
            *k = k.clone().select(0, idx.clone());
            *v = v.clone().select(0, idx.clone());
        }
        state.rows = parents.len();
    }
}

/// `[rows, seq, d]` → `[rows, heads, seq, d_k]`, as burn's `attention_linear`.
fn heads(mha: &MultiHeadAttention, x: Tensor<3>) -> Tensor<4> {
    let [b, s, _] = x.dims();
    x.reshape([b, s, mha.n_heads, mha.d_k]).swap_dims(1, 2)
}

/// Scaled dot-product attention of one query position and the output projection.
fn attend(mha: &MultiHeadAttention, q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<3> {
    let [b, _, s, _] = q.dims();
    let scores = q.matmul(k.transpose()).div_scalar((mha.d_k as f32).sqrt());
    let context = softmax(scores, 3)
        .matmul(v)
        .swap_dims(1, 2)
        .reshape([b, s, mha.d_model]);
    mha.output.forward(context)
}

/// [`StepDecoder`] adapter of a [`CaptionDecoder`] for [`crate::search`].
#[derive(Debug, Clone, Copy)]
pub struct CaptionStepper<'a> {
    /// The decoder.
    pub decoder: &'a CaptionDecoder,
    /// Select each row's top k on the device (mask, `topk`, read back `rows * k`) rather than
    /// read back `rows * V` log-probabilities and select on the host. Worth it on an
    /// accelerator; on flex (CPU) there is no transfer to save and burn's `topk` sorts each
    /// row, so the host selection is faster there.
    pub select_on_device: bool,
}

impl<'a> CaptionStepper<'a> {
    /// An adapter that selects on the device unless the decoder lives on flex (CPU).
    pub fn new(decoder: &'a CaptionDecoder) -> Self {
        let device = decoder.token_embedding.weight.device().without_autodiff();
        Self {
            decoder,
            select_on_device: device != Device::flex(),
        }
    }
}

impl StepDecoder for CaptionStepper<'_> {
    type State = DecodeState;

    fn vocab_size(&self) -> usize {
        self.decoder.vocab_size()
    }

    fn step(&self, state: &mut DecodeState, last_tokens: &[u32]) -> Vec<f32> {
        let device = self.decoder.token_embedding.weight.device();
        let tokens = Tensor::<1, Int>::from_data(
            TensorData::new(
                last_tokens.iter().map(|&t| t as i64).collect::<Vec<_>>(),
                [last_tokens.len()],
            ),
            &device,
        );
        let logits = self.decoder.step(state, tokens);
        log_softmax(logits, 1)
            .try_into_vec_as::<f32>()
            .expect("read decoder log-probabilities")
    }

    fn reorder(&self, state: &mut DecodeState, parents: &[usize]) {
        self.decoder.reorder(state, parents);
    }

    /// Selects on the device: bans are masked to `-inf`, `topk` runs per row, and only
    /// `rows * k` values and ids are read back.
    fn step_top_k(
        &self,
        state: &mut DecodeState,
        last_tokens: &[u32],
        k: usize,
        banned: &[u32],
    ) -> Vec<Vec<(u32, f32)>> {
        if !self.select_on_device {
            let v = self.decoder.vocab_size();
            let logp = self.step(state, last_tokens);
            return logp
                .chunks(v)
                .map(|row| {
                    crate::search::top_k_of(
                        row.iter()
                            .enumerate()
                            .map(|(t, &lp)| (t as u32, lp))
                            .filter(|(t, lp)| !banned.contains(t) && lp.is_finite()),
                        k,
                    )
                })
                .collect();
        }
        let device = self.decoder.token_embedding.weight.device();
        let rows = last_tokens.len();
        let v = self.decoder.vocab_size();
        let tokens = Tensor::<1, Int>::from_data(
            TensorData::new(
                last_tokens.iter().map(|&t| t as i64).collect::<Vec<_>>(),
                [rows],
            ),
            &device,
        );
        let mut logp = log_softmax(self.decoder.step(state, tokens), 1);
        if !banned.is_empty() {
            let mut mask = vec![false; v];
            for &t in banned {
                if let Some(m) = mask.get_mut(t as usize) {
                    *m = true;
                }
            }
            let mask = Tensor::<2, Bool>::from_data(TensorData::new(mask, [1, v]), &device)
                .expand([rows, v]);
            logp = logp.mask_fill(mask, f32::NEG_INFINITY);
        }
        let k = k.clamp(1, v);
        let (values, ids) = logp.topk_with_indices(k, 1);
        let values = values
            .try_into_vec_as::<f32>()
            .expect("read decoder log-probabilities");
        let ids = ids.try_into_vec_as::<i64>().expect("read token ids");
        (0..rows)
            .map(|r| {
                crate::search::top_k_of(
                    (0..k)
                        .map(|j| (ids[r * k + j] as u32, values[r * k + j]))
                        .filter(|(_, lp)| lp.is_finite()),
                    k,
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::small;
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    #[test]
    fn incremental_steps_match_teacher_forcing() {
        for tie in [true, false] {
            let d = Device::flex();
            d.seed(1);
            let dec = small(&d, tie, 16);
            let memory = Tensor::<3>::random([2, 3, 16], Distribution::Normal(0.0, 1.0), &d);
            let ids = [[0i64, 4, 5, 9, 3], [0, 6, 2, 2, 7]];
            let input = Tensor::<2, Int>::from_ints(ids, &d);
            let pad = Tensor::<2, Bool>::from_bool(TensorData::from([[false; 5]; 2]), &d);
            let full = dec.forward(memory.clone(), input, pad);
            let mut state = dec.start(memory);
            for (t, (&a, &b)) in ids[0].iter().zip(&ids[1]).enumerate() {
                let tokens = Tensor::<1, Int>::from_ints([a, b], &d);
                let step = dec.step(&mut state, tokens);
                let want = full.clone().slice([0..2, t..t + 1, 0..11]).reshape([2, 11]);
                // tolerance: 1e-4 absolute (f32, two paths through the same weights)
                step.into_data()
                    .assert_approx_eq::<f32>(&want.into_data(), Tolerance::absolute(1e-4));
            }
        }
    }

    #[test]
    fn device_top_k_matches_the_host_selection() {
        use crate::search::{GenerationConfig, beam_search, greedy};
        /// The same decoder through the trait's default (host) selection.
        struct Dense<'a>(CaptionStepper<'a>);
        impl StepDecoder for Dense<'_> {
            type State = DecodeState;
            fn vocab_size(&self) -> usize {
                self.0.vocab_size()
            }
            fn step(&self, s: &mut DecodeState, last: &[u32]) -> Vec<f32> {
                self.0.step(s, last)
            }
            fn reorder(&self, s: &mut DecodeState, parents: &[usize]) {
                self.0.reorder(s, parents)
            }
        }
        let d = Device::flex();
        d.seed(6);
        let dec = small(&d, true, 16);
        let memory = Tensor::<3>::random([3, 2, 16], Distribution::Normal(0.0, 1.0), &d);
        let fast = CaptionStepper {
            decoder: &dec,
            select_on_device: true,
        };
        let dense = Dense(CaptionStepper::new(&dec));
        assert!(!dense.0.select_on_device, "flex selects on the host");
        let cfg = GenerationConfig::new(1, 2)
            .with_pad_id(Some(0))
            .with_max_len(7)
            .with_min_len(2);
        let g1 = greedy(&fast, &mut dec.start(memory.clone()), 3, &cfg);
        let g2 = greedy(&dense, &mut dec.start(memory.clone()), 3, &cfg);
        let beam = cfg.clone().with_beam_size(4).with_length_penalty(0.6);
        let b1 = beam_search(&fast, &mut dec.start(memory.clone()), 3, &beam);
        let b2 = beam_search(&dense, &mut dec.start(memory), 3, &beam);
        for (x, y) in g1
            .iter()
            .zip(&g2)
            .chain(b1.iter().flatten().zip(b2.iter().flatten()))
        {
            assert_eq!(x.tokens, y.tokens);
            assert!((x.log_prob - y.log_prob).abs() < 1e-6);
            assert!(x.tokens.len() >= 2 && !x.tokens.iter().any(|&t| t < 2));
        }
    }

    #[test]
    fn reorder_follows_parents() {
        let d = Device::flex();
        d.seed(2);
        let dec = small(&d, true, 16);
        let memory = Tensor::<3>::random([2, 3, 16], Distribution::Normal(0.0, 1.0), &d);
        let mut state = dec.start(memory.clone());
        let _ = dec.step(&mut state, Tensor::<1, Int>::from_ints([0, 0], &d));
        dec.reorder(&mut state, &[1, 1, 0]);
        assert_eq!(state.rows(), 3);
        let got = dec.step(&mut state, Tensor::<1, Int>::from_ints([4, 5, 4], &d));
        // Row 0 continues instance 1 with token 4; row 2 continues instance 0 with token 4.
        let pad = Tensor::<2, Bool>::from_bool(TensorData::from([[false; 2]; 2]), &d);
        let full = dec.forward(
            memory,
            Tensor::<2, Int>::from_ints([[0, 4], [0, 4]], &d),
            pad,
        );
        let want1 = full.clone().slice([1..2, 1..2, 0..11]).reshape([1, 11]);
        let want0 = full.slice([0..1, 1..2, 0..11]).reshape([1, 11]);
        got.clone()
            .slice([0..1, 0..11])
            .into_data()
            .assert_approx_eq::<f32>(&want1.into_data(), Tolerance::absolute(1e-4));
        got.slice([2..3, 0..11])
            .into_data()
            .assert_approx_eq::<f32>(&want0.into_data(), Tolerance::absolute(1e-4));
    }
}
