//! Turns dataset items into a [`MultimodalBatch`] of tensors on a device.
//!
//! One `Vec` per tensor and one `Tensor::from_data` each. Missing modalities (`None` image or
//! side text, after the optional [`InstanceTransform`]) give `present = false` and zeros in
//! their slot — never a grey image.
//!
//! Token padding masks are `true` at padding. A row with no tokens (an absent or empty text)
//! keeps position 0 unmasked (holding `[PAD]`), so attention over it stays finite; such rows
//! must be ignored through `present`.
//!
//! ```no_run
//! # use std::sync::Arc;
//! use burn::data::dataloader::DataLoaderBuilder;
//! use burn::tensor::Device;
//! use mafs_data::batcher::{BatcherConfig, MultimodalBatcher};
//! use mafs_data::dataset::CaptionDataset;
//! # fn f(tok: mafs_data::tokenizer::TextTokenizer, train: Vec<mafs_data::Instance>) {
//! let batcher = MultimodalBatcher::new(BatcherConfig::default(), Arc::new(tok));
//! let loader = DataLoaderBuilder::new(batcher)
//!     .batch_size(32)
//!     .shuffle(0)
//!     .num_workers(2)
//!     .set_device(Device::flex())
//!     .build(CaptionDataset::new(train));
//! for batch in loader.iter() {
//!     let batch = batch.unwrap();
//!     let _images = batch.image; // "image": [B, 3, H, W]
//! }
//! # }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use mafs_core::{CorruptionFlags, ModalityBatch, ModalityInput};
use serde::{Deserialize, Serialize};

use crate::answers::AnswerVocab;
use crate::dataset::{CaptionItem, VqaItem};
use crate::image_io::{ResizeMode, resize_square};
use crate::tokenizer::{EncodeOptions, TextTokenizer};
use crate::{Instance, InstanceTransform};

/// CLIP's per-channel image mean.
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// CLIP's per-channel image standard deviation.
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

/// Modality names used in batches.
pub mod names {
    /// The image.
    pub const IMAGE: &str = "image";
    /// The side text.
    pub const SIDE_TEXT: &str = "side_text";
    /// The caption (retrieval query / captioning reference).
    pub const CAPTION: &str = "caption";
    /// The VQA question.
    pub const QUESTION: &str = "question";
}

/// Configuration of the batcher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatcherConfig {
    /// Images are brought to `image_size x image_size` if they are not already.
    pub image_size: u32,
    /// How images of another size are resized.
    pub resize: ResizeMode,
    /// Per-channel mean subtracted after scaling pixels to [0, 1].
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by.
    pub std: [f32; 3],
    /// Most caption tokens (specials included).
    pub max_caption_len: usize,
    /// Most side-text tokens.
    pub max_side_text_len: usize,
    /// Most question tokens.
    pub max_question_len: usize,
    /// Prepend `[CLS]` to the caption, side text and question encodings.
    pub add_cls: bool,
    /// Wrap the caption, side text and question encodings in the tokenizer's begin and end
    /// tokens (`<|startoftext|> ... <|endoftext|>` with CLIP's tokenizer, as open_clip does,
    /// so that end-of-text pooling reads the end token; the end token is kept on truncation).
    pub add_bos_eos: bool,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            image_size: 64,
            resize: ResizeMode::CenterCrop,
            mean: CLIP_MEAN,
            std: CLIP_STD,
            max_caption_len: 32,
            max_side_text_len: 24,
            max_question_len: 20,
            add_cls: false,
            add_bos_eos: false,
        }
    }
}

/// Teacher-forcing tensors of captioning.
#[derive(Debug, Clone)]
pub struct CaptionTargets {
    /// `[B, T]`: `[BOS] w1 .. wn`.
    pub input_ids: Tensor<2, Int>,
    /// `[B, T]`: `w1 .. wn [EOS]`.
    pub target_ids: Tensor<2, Int>,
    /// `[B, T]`, `true` at padding (all `true` where the caption is absent).
    pub padding: Tensor<2, Bool>,
    /// `[B]`, `true` where the item has a caption.
    pub present: Tensor<1, Bool>,
}

/// A batch for any of the three tasks.
#[derive(Debug, Clone)]
pub struct MultimodalBatch {
    /// Instance ids, one per item.
    pub ids: Vec<u64>,
    /// `"image"`: `[B, 3, H, W]`, normalised.
    pub image: ModalityBatch,
    /// `"side_text"`: token ids and padding mask `[B, T_s]`.
    pub side_text: ModalityBatch,
    /// `"caption"`: token ids and padding mask `[B, T_c]` (all absent in VQA batches).
    pub caption: ModalityBatch,
    /// Captioning targets (caption batches only).
    pub caption_targets: Option<CaptionTargets>,
    /// `"question"`: token ids and padding mask `[B, T_q]` (VQA batches only).
    pub question: Option<ModalityBatch>,
    /// `[B]` answer classes (VQA batches with an answer vocabulary).
    pub answers: Option<Tensor<1, Int>>,
    /// `[B, n_answers]` VQA soft scores `min(count / 3, 1)` (VQA batches with a vocabulary).
    pub answer_scores: Option<Tensor<2>>,
}

/// The batcher: tokenizes, normalises and stacks; optionally transforms each instance first.
#[derive(Clone)]
pub struct MultimodalBatcher {
    cfg: BatcherConfig,
    tokenizer: Arc<TextTokenizer>,
    answers: Option<Arc<AnswerVocab>>,
    transform: Option<Arc<dyn InstanceTransform>>,
    salt: Arc<AtomicU64>,
    lut: Arc<[[f32; 256]; 3]>,
}

impl std::fmt::Debug for MultimodalBatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultimodalBatcher")
            .field("cfg", &self.cfg)
            .field("answers", &self.answers.as_ref().map(|a| a.len()))
            .field("transform", &self.transform)
            .field("salt", &self.salt.load(Ordering::Relaxed))
            .finish()
    }
}

impl MultimodalBatcher {
    /// A batcher with no answer vocabulary and no transform.
    pub fn new(cfg: BatcherConfig, tokenizer: Arc<TextTokenizer>) -> Self {
        let mut lut = [[0.0f32; 256]; 3];
        for (c, table) in lut.iter_mut().enumerate() {
            for (v, x) in table.iter_mut().enumerate() {
                *x = (v as f32 / 255.0 - cfg.mean[c]) / cfg.std[c];
            }
        }
        Self {
            cfg,
            tokenizer,
            answers: None,
            transform: None,
            salt: Arc::new(AtomicU64::new(0)),
            lut: Arc::new(lut),
        }
    }

    /// Adds the answer vocabulary (needed for `answers` and `answer_scores`).
    pub fn with_answers(mut self, vocab: Arc<AnswerVocab>) -> Self {
        self.answers = Some(vocab);
        self
    }

    /// Applies `transform` to every instance before batching, with the current salt.
    pub fn with_transform(mut self, transform: Arc<dyn InstanceTransform>) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Sets the salt passed to the transform (the training loop sets the epoch). Clones of
    /// the batcher, including the one inside a data loader, share it.
    pub fn set_salt(&self, salt: u64) {
        self.salt.store(salt, Ordering::Relaxed);
    }

    /// The shared salt, to change it after the batcher moved into a data loader.
    pub fn salt_handle(&self) -> Arc<AtomicU64> {
        self.salt.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &BatcherConfig {
        &self.cfg
    }

    fn prepare<'a>(&self, inst: &'a Arc<Instance>) -> std::borrow::Cow<'a, Instance> {
        match &self.transform {
            None => std::borrow::Cow::Borrowed(inst.as_ref()),
            Some(t) => {
                let mut owned = inst.as_ref().clone();
                t.apply(&mut owned, self.salt.load(Ordering::Relaxed));
                std::borrow::Cow::Owned(owned)
            }
        }
    }

    fn text_opts(&self) -> EncodeOptions {
        EncodeOptions {
            cls: self.cfg.add_cls,
            bos: self.cfg.add_bos_eos,
            eos: self.cfg.add_bos_eos,
        }
    }

    fn images(&self, insts: &[&Instance], device: &Device) -> ModalityBatch {
        let s = self.cfg.image_size as usize;
        let plane = s * s;
        let mut data = vec![0.0f32; insts.len() * 3 * plane];
        let mut present = Vec::with_capacity(insts.len());
        for (b, inst) in insts.iter().enumerate() {
            let Some(img) = &inst.image else {
                present.push(false);
                continue;
            };
            present.push(true);
            let resized;
            let img = if img.dimensions() == (s as u32, s as u32) {
                img
            } else {
                resized = resize_square(img.clone(), s as u32, self.cfg.resize);
                &resized
            };
            let out = &mut data[b * 3 * plane..(b + 1) * 3 * plane];
            for (k, px) in img.as_raw().chunks_exact(3).enumerate() {
                out[k] = self.lut[0][px[0] as usize];
                out[plane + k] = self.lut[1][px[1] as usize];
                out[2 * plane + k] = self.lut[2][px[2] as usize];
            }
        }
        let n = insts.len();
        ModalityBatch::new(
            names::IMAGE,
            ModalityInput::Image(Tensor::from_data(
                TensorData::new(data, [n, 3, s, s]),
                device,
            )),
            bool_1d(present, device),
        )
        .with_corruption(flags(insts, names::IMAGE))
    }

    /// Encodes texts (`None` = absent) into a token batch padded to the longest row.
    fn tokens(
        &self,
        name: &str,
        texts: &[Option<&str>],
        max_len: usize,
        device: &Device,
    ) -> ModalityBatch {
        let opts = self.text_opts();
        let enc: Vec<Option<(Vec<u32>, usize)>> = texts
            .iter()
            .map(|t| t.map(|t| self.tokenizer.encode(t, max_len, opts)))
            .collect();
        let t = enc
            .iter()
            .flatten()
            .map(|(_, l)| *l)
            .max()
            .unwrap_or(0)
            .max(1);
        let n = texts.len();
        let pad = self.tokenizer.pad_id() as i64;
        let mut ids = vec![pad; n * t];
        let mut padding = vec![true; n * t];
        let mut present = Vec::with_capacity(n);
        for (b, e) in enc.iter().enumerate() {
            present.push(e.is_some());
            let len = e.as_ref().map(|(_, l)| *l).unwrap_or(0);
            if let Some((row, _)) = e {
                for k in 0..len {
                    ids[b * t + k] = row[k] as i64;
                }
            }
            for k in 0..len.max(1) {
                padding[b * t + k] = false;
            }
        }
        ModalityBatch::new(
            name,
            ModalityInput::Tokens {
                ids: Tensor::from_data(TensorData::new(ids, [n, t]), device),
                padding: Tensor::from_data(TensorData::new(padding, [n, t]), device),
            },
            bool_1d(present, device),
        )
    }

    fn caption_targets(&self, captions: &[Option<&str>], device: &Device) -> CaptionTargets {
        let max = self.cfg.max_caption_len;
        let enc: Vec<Option<(Encoding, Encoding)>> = captions
            .iter()
            .map(|c| {
                c.map(|c| {
                    (
                        self.tokenizer
                            .encode(c, max, EncodeOptions::caption_input()),
                        self.tokenizer
                            .encode(c, max, EncodeOptions::caption_target()),
                    )
                })
            })
            .collect();
        let t = enc
            .iter()
            .flatten()
            .map(|(a, b)| a.1.max(b.1))
            .max()
            .unwrap_or(0)
            .max(1);
        let n = captions.len();
        let pad = self.tokenizer.pad_id() as i64;
        let mut input = vec![pad; n * t];
        let mut target = vec![pad; n * t];
        let mut padding = vec![true; n * t];
        for (b, e) in enc.iter().enumerate() {
            if let Some(((iids, il), (tids, tl))) = e {
                for k in 0..*il {
                    input[b * t + k] = iids[k] as i64;
                }
                for k in 0..*tl {
                    target[b * t + k] = tids[k] as i64;
                    padding[b * t + k] = false;
                }
            }
        }
        CaptionTargets {
            input_ids: Tensor::from_data(TensorData::new(input, [n, t]), device),
            target_ids: Tensor::from_data(TensorData::new(target, [n, t]), device),
            padding: Tensor::from_data(TensorData::new(padding, [n, t]), device),
            present: bool_1d(enc.iter().map(Option::is_some).collect(), device),
        }
    }
}

/// Token ids and non-padding length, as `encode` returns them.
type Encoding = (Vec<u32>, usize);

/// The corruption flags of `modality` for each instance.
fn flags(insts: &[&Instance], modality: &str) -> CorruptionFlags {
    CorruptionFlags::new(insts.iter().map(|i| i.corruption_of(modality)).collect())
}

fn bool_1d(v: Vec<bool>, device: &Device) -> Tensor<1, Bool> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

impl Batcher<CaptionItem, MultimodalBatch> for MultimodalBatcher {
    fn batch(&self, items: Vec<CaptionItem>, device: &Device) -> MultimodalBatch {
        let prepared: Vec<_> = items.iter().map(|it| self.prepare(&it.instance)).collect();
        let insts: Vec<&Instance> = prepared.iter().map(|c| c.as_ref()).collect();
        let captions: Vec<Option<&str>> = items
            .iter()
            .zip(&insts)
            .map(|(it, inst)| {
                it.caption
                    .and_then(|c| inst.captions.get(c))
                    .map(String::as_str)
            })
            .collect();
        let side: Vec<Option<&str>> = insts.iter().map(|i| i.side_text.as_deref()).collect();
        MultimodalBatch {
            ids: insts.iter().map(|i| i.id).collect(),
            image: self.images(&insts, device),
            side_text: self
                .tokens(names::SIDE_TEXT, &side, self.cfg.max_side_text_len, device)
                .with_corruption(flags(&insts, names::SIDE_TEXT)),
            caption: self
                .tokens(names::CAPTION, &captions, self.cfg.max_caption_len, device)
                .with_corruption(flags(&insts, names::CAPTION)),
            caption_targets: Some(self.caption_targets(&captions, device)),
            question: None,
            answers: None,
            answer_scores: None,
        }
    }
}

impl Batcher<VqaItem, MultimodalBatch> for MultimodalBatcher {
    /// # Panics
    ///
    /// Panics when the answer vocabulary has no unknown class and an answer is not in it
    /// (build the [`crate::dataset::VqaDataset`] with the vocabulary to leave those out).
    fn batch(&self, items: Vec<VqaItem>, device: &Device) -> MultimodalBatch {
        let prepared: Vec<_> = items.iter().map(|it| self.prepare(&it.instance)).collect();
        let insts: Vec<&Instance> = prepared.iter().map(|c| c.as_ref()).collect();
        let qas: Vec<&crate::Qa> = items
            .iter()
            .zip(&insts)
            .map(|(it, inst)| {
                inst.questions.get(it.question).unwrap_or_else(|| {
                    panic!("instance {} has no question {}", inst.id, it.question)
                })
            })
            .collect();
        let n = items.len();
        let side: Vec<Option<&str>> = insts.iter().map(|i| i.side_text.as_deref()).collect();
        let questions: Vec<Option<&str>> = qas.iter().map(|q| Some(q.question.as_str())).collect();
        let (answers, answer_scores) = match &self.answers {
            None => (None, None),
            Some(vocab) => {
                let k = vocab.len();
                let mut ids = Vec::with_capacity(n);
                let mut scores = vec![0.0f32; n * k];
                for (b, q) in qas.iter().enumerate() {
                    let id = vocab.id(&q.answer).unwrap_or_else(|| {
                        panic!(
                            "answer `{}` of question {} is not in the answer vocabulary",
                            q.answer, q.question_id
                        )
                    });
                    ids.push(id as i64);
                    for (c, s) in vocab.soft_scores(&q.answers) {
                        scores[b * k + c as usize] = s;
                    }
                }
                (
                    Some(Tensor::from_data(TensorData::new(ids, [n]), device)),
                    Some(Tensor::from_data(TensorData::new(scores, [n, k]), device)),
                )
            }
        };
        MultimodalBatch {
            ids: insts.iter().map(|i| i.id).collect(),
            image: self.images(&insts, device),
            side_text: self
                .tokens(names::SIDE_TEXT, &side, self.cfg.max_side_text_len, device)
                .with_corruption(flags(&insts, names::SIDE_TEXT)),
            caption: self.tokens(
                names::CAPTION,
                &vec![None; n],
                self.cfg.max_caption_len,
                device,
            ),
            caption_targets: None,
            question: Some(
                self.tokens(
                    names::QUESTION,
                    &questions,
                    self.cfg.max_question_len,
                    device,
                )
                .with_corruption(flags(&insts, names::QUESTION)),
            ),
            answers,
            answer_scores,
        }
    }
}

/// Builds the word tokenizer the batcher usually uses: vocabulary from the captions, side
/// texts and questions of `train`.
pub fn word_tokenizer_for(
    train: &[Instance],
    cfg: &crate::tokenizer::WordTokenizerConfig,
) -> crate::tokenizer::WordTokenizer {
    let texts = train.iter().flat_map(|i| {
        i.captions
            .iter()
            .map(String::as_str)
            .chain(i.side_text.as_deref())
            .chain(i.questions.iter().map(|q| q.question.as_str()))
    });
    crate::tokenizer::WordTokenizer::build(texts, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Split;
    use crate::dataset::{CaptionDataset, VqaDataset};
    use crate::tokenizer::WordTokenizerConfig;
    use crate::world::{World, WorldConfig};
    use burn::data::dataloader::DataLoaderBuilder;
    use burn::data::dataset::Dataset;

    fn setup() -> (Vec<Instance>, MultimodalBatcher, Arc<AnswerVocab>) {
        let world = World::new(WorldConfig {
            image_size: 16,
            ..WorldConfig::tiny(12, 0)
        })
        .unwrap();
        let train = world.split(Split::Train);
        let tok = word_tokenizer_for(&train, &WordTokenizerConfig::default());
        let vocab = Arc::new(AnswerVocab::from_instances(&train, 20, true));
        let cfg = BatcherConfig {
            image_size: 16,
            ..BatcherConfig::default()
        };
        let b = MultimodalBatcher::new(cfg, Arc::new(TextTokenizer::Word(tok)))
            .with_answers(vocab.clone());
        (train, b, vocab)
    }

    #[derive(Debug)]
    struct DropImageAndSideText;
    impl InstanceTransform for DropImageAndSideText {
        fn apply(&self, instance: &mut Instance, salt: u64) {
            if (instance.id + salt).is_multiple_of(2) {
                instance.image = None;
                instance.side_text = None;
            }
        }
    }

    #[test]
    fn caption_batches_have_shapes_masks_and_normalised_pixels() {
        let (train, b, _) = setup();
        let ds = CaptionDataset::new(train.clone());
        assert_eq!(ds.len(), 60);
        let items: Vec<_> = (0..4).map(|i| ds.get(i * 5).unwrap()).collect();
        let dev = Device::flex();
        let batch = Batcher::<CaptionItem, MultimodalBatch>::batch(&b, items, &dev);
        assert_eq!(batch.ids, vec![0, 1, 2, 3]);
        let ModalityInput::Image(img) = &batch.image.input else {
            panic!()
        };
        assert_eq!(img.dims(), [4, 3, 16, 16]);
        let px = train[0].image.as_ref().unwrap().get_pixel(0, 0).0;
        let v: Vec<f32> = img
            .clone()
            .slice([0..1, 0..1, 0..1, 0..1])
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert!((v[0] - (px[0] as f32 / 255.0 - CLIP_MEAN[0]) / CLIP_STD[0]).abs() < 1e-5);
        let ModalityInput::Tokens { ids, padding } = &batch.caption.input else {
            panic!()
        };
        let [bs, t] = ids.dims();
        assert_eq!(bs, 4);
        assert_eq!(padding.dims(), [4, t]);
        let ct = batch.caption_targets.as_ref().unwrap();
        let [_, tt] = ct.input_ids.dims();
        assert_eq!(tt, t + 1, "BOS/EOS add one position");
        let inp: Vec<i64> = ct
            .input_ids
            .clone()
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap();
        let tgt: Vec<i64> = ct
            .target_ids
            .clone()
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap();
        assert_eq!(inp[0], 1, "BOS first");
        assert_eq!(inp[1], tgt[0], "targets are inputs shifted by one");
        assert!(tgt.contains(&2), "EOS present");
        let pres: Vec<bool> = batch
            .image
            .present
            .clone()
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert_eq!(pres, vec![true; 4]);
        assert!(batch.question.is_none() && batch.answers.is_none());
    }

    #[test]
    fn missing_modalities_are_absent_with_zeros() {
        let (train, b, _) = setup();
        let b = b.with_transform(Arc::new(DropImageAndSideText));
        let ds = CaptionDataset::per_instance(train);
        let items: Vec<_> = (0..4).map(|i| ds.get(i).unwrap()).collect();
        let dev = Device::flex();
        let batch = Batcher::<CaptionItem, MultimodalBatch>::batch(&b, items.clone(), &dev);
        let pres: Vec<bool> = batch
            .image
            .present
            .clone()
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert_eq!(pres, vec![false, true, false, true]);
        let spres: Vec<bool> = batch
            .side_text
            .present
            .clone()
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert_eq!(spres, pres);
        let ModalityInput::Image(img) = &batch.image.input else {
            panic!()
        };
        let first: Vec<f32> = img
            .clone()
            .narrow(0, 0, 1)
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert!(
            first.iter().all(|&x| x == 0.0),
            "absent image slot is zeros"
        );
        let ModalityInput::Tokens { ids, padding } = &batch.side_text.input else {
            panic!()
        };
        let t = ids.dims()[1];
        let ids: Vec<i64> = ids.clone().into_data().try_into_vec_as::<i64>().unwrap();
        let pad: Vec<bool> = padding.clone().into_data().try_into_vec_as::<_>().unwrap();
        assert!(ids[..t].iter().all(|&x| x == 0));
        assert!(
            !pad[0] && pad[1..t].iter().all(|&p| p),
            "absent row: only position 0 unmasked"
        );
        b.set_salt(1);
        let batch = Batcher::<CaptionItem, MultimodalBatch>::batch(&b, items, &dev);
        let pres: Vec<bool> = batch
            .image
            .present
            .clone()
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert_eq!(
            pres,
            vec![true, false, true, false],
            "the salt reaches the transform"
        );
    }

    #[test]
    fn vqa_batches_carry_questions_answers_and_soft_scores() {
        let (train, b, vocab) = setup();
        let ds = VqaDataset::new(train, Some(&vocab));
        let items: Vec<_> = (0..6).map(|i| ds.get(i).unwrap()).collect();
        let dev = Device::flex();
        let batch = Batcher::<VqaItem, MultimodalBatch>::batch(&b, items.clone(), &dev);
        let q = batch.question.as_ref().unwrap();
        assert_eq!(q.name, "question");
        assert_eq!(q.batch_size(), 6);
        let answers: Vec<i64> = batch
            .answers
            .unwrap()
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap();
        let scores = batch.answer_scores.unwrap();
        assert_eq!(scores.dims(), [6, vocab.len()]);
        let s: Vec<f32> = scores.into_data().try_into_vec_as::<_>().unwrap();
        for (k, it) in items.iter().enumerate() {
            let qa = &it.instance.questions[it.question];
            assert_eq!(answers[k] as u32, vocab.id(&qa.answer).unwrap());
            let norm = crate::answers::normalize_answer;
            let agree = qa
                .answers
                .iter()
                .filter(|a| norm(a) == norm(&qa.answer))
                .count();
            let want = if answers[k] == 0 {
                0.0 // the unknown class gets no score
            } else {
                (agree as f32 / 3.0).min(1.0)
            };
            assert!((s[k * vocab.len() + answers[k] as usize] - want).abs() < 1e-6);
        }
        let cp: Vec<bool> = batch
            .caption
            .present
            .into_data()
            .try_into_vec_as::<_>()
            .unwrap();
        assert!(cp.iter().all(|p| !p), "VQA batches have no caption");
    }

    #[test]
    fn data_loader_with_workers_yields_every_item_in_batches() {
        let (train, b, _) = setup();
        let n = CaptionDataset::new(train.clone()).len();
        let loader = DataLoaderBuilder::new(b)
            .batch_size(8)
            .shuffle(3)
            .num_workers(2)
            .set_device(Device::flex())
            .build(CaptionDataset::new(train));
        let mut seen = 0;
        for batch in loader.iter() {
            let batch: MultimodalBatch = batch.unwrap();
            let bs = batch.ids.len();
            assert!(bs <= 8);
            let ModalityInput::Image(img) = &batch.image.input else {
                panic!()
            };
            assert_eq!(img.dims(), [bs, 3, 16, 16]);
            assert_eq!(batch.side_text.batch_size(), bs);
            seen += bs;
        }
        assert_eq!(seen, n);
    }
}
