//! The captioning head: the [`CaptionDecoder`] over `fused.memory()`, trained with teacher
//! forcing and token cross-entropy (label smoothing 0.1 by default, as BLIP's
//! `BertLMHeadModel` uses), generating with greedy or beam search ([`crate::search`]).

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use mafs_core::{Encoded, Fused, TaskHead};

use crate::HeadsError;
use crate::decoder::{CaptionDecoder, CaptionDecoderConfig, CaptionStepper};
use crate::loss::{token_cross_entropy, token_cross_entropy_per_instance};
use crate::search::{GenerationConfig, Hypothesis, beam_search, greedy};
use crate::unimodal::UnimodalLoss;

/// Teacher-forcing supervision for a caption batch.
///
/// # Shapes
///
/// - `input_ids`: `[batch, seq]`, `BOS c_1 ... c_n` then padding
/// - `target_ids`: `[batch, seq]`, `c_1 ... c_n EOS` then padding
/// - `padding`: `[batch, seq]`, `true` = padding (no loss)
#[derive(Debug, Clone)]
pub struct CaptionTarget {
    /// Decoder inputs.
    pub input_ids: Tensor<2, Int>,
    /// Next-token targets.
    pub target_ids: Tensor<2, Int>,
    /// Padding mask.
    pub padding: Tensor<2, Bool>,
}

impl CaptionTarget {
    /// A target from its three tensors.
    ///
    /// # Panics
    ///
    /// Panics if their shapes differ.
    pub fn new(
        input_ids: Tensor<2, Int>,
        target_ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
    ) -> Self {
        let dims = input_ids.dims();
        assert!(
            target_ids.dims() == dims && padding.dims() == dims,
            "CaptionTarget: input {:?}, target {:?} and padding {:?} must have one shape",
            dims,
            target_ids.dims(),
            padding.dims()
        );
        Self {
            input_ids,
            target_ids,
            padding,
        }
    }

    /// Builds the target of tokenised captions (without BOS/EOS): each caption is cut to
    /// `max_len - 1` tokens so that `BOS + caption` and `caption + EOS` fit in `max_len`
    /// positions; the batch is padded to its longest sequence with `pad_id`.
    ///
    /// # Panics
    ///
    /// Panics if `captions` is empty or `max_len < 1`.
    pub fn from_captions(
        captions: &[Vec<u32>],
        bos_id: u32,
        eos_id: u32,
        pad_id: u32,
        max_len: usize,
        device: &Device,
    ) -> Self {
        assert!(
            !captions.is_empty(),
            "CaptionTarget::from_captions: no captions"
        );
        assert!(
            max_len >= 1,
            "CaptionTarget::from_captions: max_len must be at least 1"
        );
        let b = captions.len();
        let lens: Vec<usize> = captions.iter().map(|c| c.len().min(max_len - 1)).collect();
        let t = lens.iter().max().copied().unwrap_or(0) + 1;
        let mut input = vec![pad_id as i64; b * t];
        let mut target = vec![pad_id as i64; b * t];
        let mut padding = vec![true; b * t];
        for (i, c) in captions.iter().enumerate() {
            let n = lens[i];
            input[i * t] = bos_id as i64;
            for j in 0..n {
                input[i * t + j + 1] = c[j] as i64;
                target[i * t + j] = c[j] as i64;
            }
            target[i * t + n] = eos_id as i64;
            for p in &mut padding[i * t..i * t + n + 1] {
                *p = false;
            }
        }
        Self::new(
            Tensor::from_data(TensorData::new(input, [b, t]), device),
            Tensor::from_data(TensorData::new(target, [b, t]), device),
            Tensor::from_data(TensorData::new(padding, [b, t]), device),
        )
    }
}

/// Configuration of [`CaptioningHead`].
#[derive(Config, Debug)]
pub struct CaptioningHeadConfig {
    /// The decoder.
    pub decoder: CaptionDecoderConfig,
    /// Generation settings used by [`TaskHead::predict`].
    pub generation: GenerationConfig,
    /// Label smoothing of the token cross-entropy (BLIP: 0.1).
    #[config(default = 0.1)]
    pub label_smoothing: f64,
}

impl CaptioningHeadConfig {
    /// Builds the head after checking the generation settings.
    ///
    /// # Errors
    ///
    /// [`HeadsError::InvalidSetting`] if the generation settings do not fit the vocabulary or
    /// the positional embedding, or the label smoothing is outside `[0, 1)`.
    pub fn init(&self, device: &Device) -> Result<CaptioningHead, HeadsError> {
        self.generation.validate(self.decoder.vocab_size)?;
        if self.generation.max_len > self.decoder.max_positions {
            return Err(HeadsError::InvalidSetting {
                field: "generation.max_len",
                value: self.generation.max_len.to_string(),
                expected: format!(
                    "at most decoder.max_positions = {}",
                    self.decoder.max_positions
                ),
            });
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(HeadsError::InvalidSetting {
                field: "label_smoothing",
                value: self.label_smoothing.to_string(),
                expected: "a value in [0, 1)".into(),
            });
        }
        Ok(CaptioningHead {
            decoder: self.decoder.init(device),
            generation: self.generation.clone(),
            label_smoothing: self.label_smoothing,
        })
    }
}

/// Captioning: decoder, generation settings and label smoothing.
#[derive(Module, Debug)]
pub struct CaptioningHead {
    /// The decoder.
    pub decoder: CaptionDecoder,
    /// Generation settings of [`TaskHead::predict`].
    #[module(skip)]
    pub generation: GenerationConfig,
    /// Label smoothing of the training loss.
    pub label_smoothing: f64,
}

impl CaptioningHead {
    /// Teacher-forced logits `[batch, seq, vocab]`.
    pub fn logits(&self, fused: &Fused, target: &CaptionTarget) -> Tensor<3> {
        self.decoder.forward(
            fused.memory(),
            target.input_ids.clone(),
            target.padding.clone(),
        )
    }

    /// Per-instance loss `[batch]`: mean token cross-entropy over each caption's tokens.
    pub fn loss_per_instance(&self, fused: &Fused, target: &CaptionTarget) -> Tensor<1> {
        token_cross_entropy_per_instance(
            self.logits(fused, target),
            target.target_ids.clone(),
            target.padding.clone(),
            self.label_smoothing,
        )
    }

    /// The unimodal captioning loss: the decoder over each modality's own token states (its
    /// padding masked), token cross-entropy over the captions of the instances that have the
    /// modality (their padding extended to whole rows where it is missing).
    ///
    /// # Panics
    ///
    /// Panics if a modality's width is not the decoder's `d_memory` or the batch sizes differ.
    pub fn unimodal_loss(&self, encoded: &[Encoded], target: &CaptionTarget) -> UnimodalLoss {
        let [b, t] = target.input_ids.dims();
        let terms = encoded
            .iter()
            .map(|e| {
                assert!(
                    e.batch_size() == b,
                    "CaptioningHead::unimodal_loss: modality `{}` has batch {}, captions {b}",
                    e.name,
                    e.batch_size()
                );
                let logits = self.decoder.forward_with_memory_padding(
                    e.tokens.clone(),
                    Some(e.padding.clone()),
                    target.input_ids.clone(),
                    target.padding.clone(),
                );
                let absent = e.present.clone().bool_not().reshape([b, 1]).expand([b, t]);
                token_cross_entropy(
                    logits,
                    target.target_ids.clone(),
                    target.padding.clone().bool_or(absent),
                    self.label_smoothing,
                )
            })
            .collect();
        UnimodalLoss::from_terms(terms)
    }

    /// Generates with `cfg` (beam search when `beam_size > 1`, else greedy) and returns the
    /// hypotheses of each instance, best first (one per instance for greedy).
    ///
    /// # Panics
    ///
    /// Panics if `cfg.max_len` exceeds the decoder's positions; call
    /// [`GenerationConfig::validate`] first for the other settings.
    pub fn generate(&self, fused: &Fused, cfg: &GenerationConfig) -> Vec<Vec<Hypothesis>> {
        assert!(
            cfg.max_len <= self.decoder.max_positions(),
            "generate: max_len = {} exceeds the decoder's max_positions = {}",
            cfg.max_len,
            self.decoder.max_positions()
        );
        let memory = fused.memory().detach();
        let b = memory.dims()[0];
        let stepper = CaptionStepper::new(&self.decoder);
        let mut state = self.decoder.start(memory);
        if cfg.beam_size > 1 {
            beam_search(&stepper, &mut state, b, cfg)
        } else {
            greedy(&stepper, &mut state, b, cfg)
                .into_iter()
                .map(|h| vec![h])
                .collect()
        }
    }
}

impl TaskHead for CaptioningHead {
    type Target = CaptionTarget;
    /// The best token sequence of each instance, without BOS and EOS.
    type Output = Vec<Vec<u32>>;

    fn task(&self) -> &str {
        "captioning"
    }

    fn loss(&self, fused: &Fused, target: &CaptionTarget) -> Tensor<1> {
        token_cross_entropy(
            self.logits(fused, target),
            target.target_ids.clone(),
            target.padding.clone(),
            self.label_smoothing,
        )
    }

    fn predict(&self, fused: &Fused) -> Vec<Vec<u32>> {
        self.generate(fused, &self.generation)
            .into_iter()
            .map(|mut h| h.swap_remove(0).tokens)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{AdamWConfig, GradientsParams};
    use burn::tensor::Distribution;

    const PAD: u32 = 0;
    const BOS: u32 = 1;
    const EOS: u32 = 2;

    fn config(vocab: usize, beam: usize) -> CaptioningHeadConfig {
        CaptioningHeadConfig::new(
            CaptionDecoderConfig::new(vocab, 16)
                .with_d_model(32)
                .with_n_heads(2)
                .with_n_layers(1)
                .with_max_positions(8)
                .with_dropout(0.0),
            GenerationConfig::new(BOS, EOS)
                .with_pad_id(Some(PAD))
                .with_max_len(6)
                .with_beam_size(beam),
        )
        .with_label_smoothing(0.0)
    }

    #[test]
    fn target_layout_is_bos_shifted() {
        let d = Device::flex();
        let t = CaptionTarget::from_captions(&[vec![5, 6, 7], vec![8]], BOS, EOS, PAD, 3, &d);
        let input = t.input_ids.try_into_vec_as::<i64>().unwrap();
        let target = t.target_ids.try_into_vec_as::<i64>().unwrap();
        let pad = t.padding.try_into_vec_as::<bool>().unwrap();
        // max_len 3: the first caption is cut to 2 tokens.
        assert_eq!(input, vec![1, 5, 6, 1, 8, 0]);
        assert_eq!(target, vec![5, 6, 2, 8, 2, 0]);
        assert_eq!(pad, vec![false, false, false, false, false, true]);
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = config(10, 3).with_label_smoothing(0.1);
        let mut c = c;
        c.generation.length_penalty_kind = crate::LengthPenalty::Power;
        let json = serde_json::to_string(&c).unwrap();
        let back: CaptioningHeadConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.generation.beam_size, 3);
        assert_eq!(
            back.generation.length_penalty_kind,
            crate::LengthPenalty::Power
        );
    }

    #[test]
    fn init_rejects_bad_generation_settings() {
        let d = Device::flex();
        let mut c = config(10, 1);
        c.generation.max_len = 9;
        let err = c.init(&d).unwrap_err();
        assert!(err.to_string().contains("generation.max_len"), "{err}");
        let err = config(10, 1)
            .with_label_smoothing(1.0)
            .init(&d)
            .unwrap_err();
        assert!(err.to_string().contains("label_smoothing"), "{err}");
    }

    #[test]
    fn unimodal_loss_counts_only_present_instances() {
        use burn::tensor::Bool;
        let d = Device::flex();
        d.seed(4);
        let mut c = config(10, 1);
        c.decoder.init_std = 0.5;
        let head = c.init(&d).unwrap();
        let tokens = Tensor::<3>::random([3, 2, 16], Distribution::Normal(0.0, 1.0), &d);
        let captions = vec![vec![3, 4, 5], vec![6, 7], vec![8, 3, 9, 4]];
        let target = CaptionTarget::from_captions(&captions, BOS, EOS, PAD, 8, &d);
        let enc = Encoded::new(
            "image",
            tokens.clone(),
            Tensor::<2, Bool>::from_bool(TensorData::from([[false; 2]; 3]), &d),
            tokens.clone().mean_dim(1).reshape([3, 16]),
            Tensor::<1, Bool>::from_bool(TensorData::from([true, false, true]), &d),
        );
        let uni: f32 = head.unimodal_loss(&[enc], &target).total.into_scalar();
        // The same as the fused loss over instances 0 and 2 alone.
        let keep = Tensor::<1, Int>::from_ints([0, 2], &d);
        let sub = Fused {
            pooled: Tensor::<2>::zeros([2, 16], &d),
            tokens: Some(tokens.select(0, keep)),
        };
        let sub_target = CaptionTarget::from_captions(
            &[captions[0].clone(), captions[2].clone()],
            BOS,
            EOS,
            PAD,
            8,
            &d,
        );
        let want: f32 = head.loss(&sub, &sub_target).into_scalar();
        assert!((uni - want).abs() < 1e-5, "{uni} vs {want}");
    }

    #[test]
    fn overfits_captions_and_decodes_them() {
        let d = Device::flex().autodiff();
        d.seed(5);
        let mut head = config(10, 1).init(&d).unwrap();
        let captions = vec![vec![3, 4, 5], vec![6, 7], vec![8, 3, 9, 4]];
        let memory = Tensor::<3>::random([3, 2, 16], Distribution::Normal(0.0, 1.0), &d);
        let fused = Fused {
            pooled: memory.clone().mean_dim(1).reshape([3, 16]),
            tokens: Some(memory.clone()),
        };
        let target = CaptionTarget::from_captions(&captions, BOS, EOS, PAD, 8, &d);
        let mut opt = AdamWConfig::new().init();
        let first: f32 = head.loss(&fused, &target).into_scalar();
        for _ in 0..80 {
            let loss = head.loss(&fused, &target);
            let grads = GradientsParams::from_grads(loss.backward(), &head);
            head = opt.step(3e-3, head, grads);
        }
        let last: f32 = head.loss(&fused, &target).into_scalar();
        assert!(last < 0.1 * first, "loss {first} -> {last}");

        let eval = head.valid();
        let plain = Fused {
            pooled: fused.pooled.clone().inner(),
            tokens: Some(memory.inner()),
        };
        assert_eq!(eval.predict(&plain), captions);
        let beam_cfg = eval.generation.clone().with_beam_size(3);
        let beams = eval.generate(&plain, &beam_cfg);
        for (h, c) in beams.iter().zip(&captions) {
            assert_eq!(&h[0].tokens, c);
            assert_eq!(h.len(), 3);
        }
    }

    #[test]
    fn greedy_equals_beam_of_one_and_beam_scores_match_the_model() {
        let d = Device::flex();
        d.seed(9);
        let mut c = config(12, 1);
        c.decoder.init_std = 0.5;
        let head = c.init(&d).unwrap();
        let memory = Tensor::<3>::random([4, 3, 16], Distribution::Normal(0.0, 1.0), &d);
        let fused = Fused {
            pooled: memory.clone().mean_dim(1).reshape([4, 16]),
            tokens: Some(memory.clone()),
        };
        let g = head.generate(&fused, &head.generation);
        let one = head.generation.clone().with_beam_size(1);
        let b1 = {
            let stepper = CaptionStepper::new(&head.decoder);
            let mut state = head.decoder.start(memory.clone());
            beam_search(&stepper, &mut state, 4, &one)
        };
        for (gi, bi) in g.iter().zip(&b1) {
            assert_eq!(gi[0].tokens, bi[0].tokens);
            assert!((gi[0].log_prob - bi[0].log_prob).abs() < 1e-9);
        }
        // Beam hypotheses carry the model's own sequence log-probability.
        let beam = head.generate(&fused, &head.generation.clone().with_beam_size(4));
        for (i, hyps) in beam.iter().enumerate() {
            let best = &hyps[0];
            // On this seeded model, beam search finds a sequence at least as likely as greedy.
            assert!(best.log_prob >= g[i][0].log_prob - 1e-4, "instance {i}");
            let mut ids = best.tokens.clone();
            if best.finished {
                ids.push(EOS);
            }
            let t = CaptionTarget::from_captions(
                std::slice::from_ref(&best.tokens),
                BOS,
                EOS,
                PAD,
                8,
                &d,
            );
            let mem_i = memory.clone().slice([i..i + 1, 0..3, 0..16]);
            let lp: f32 = if best.finished {
                head.decoder
                    .sequence_log_prob(mem_i, t.input_ids, t.target_ids, t.padding)
                    .into_scalar()
            } else {
                // A truncated hypothesis has no EOS: drop the EOS position from the sum.
                let n = best.tokens.len();
                let pad = Tensor::<2, Bool>::from_data(
                    TensorData::new((0..=n).map(|j| j == n).collect::<Vec<_>>(), [1, n + 1]),
                    &d,
                );
                head.decoder
                    .sequence_log_prob(mem_i, t.input_ids, t.target_ids, pad)
                    .into_scalar()
            };
            // tolerance: 1e-3 absolute (f32 sums over up to 6 tokens)
            assert!(
                (lp as f64 - best.log_prob).abs() < 1e-3,
                "{lp} vs {}",
                best.log_prob
            );
            assert!(ids.len() <= head.generation.max_len);
        }
    }
}
