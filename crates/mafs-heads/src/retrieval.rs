//! Retrieval heads: image-text contrastive (ITC) candidates and image-text matching (ITM)
//! re-ranking, as ALBEF (salesforce/ALBEF `models/model_retrieval.py`, `Retrieval.py`) and
//! BLIP (`models/blip_retrieval.py`, `train_retrieval.py`) do them, with the item (image + side
//! text, fused by the scheduler) in the place of the image.
//!
//! - ITC: `vision_proj` / `text_proj` project to an embedding space, features are
//!   L2-normalised, `sim = feat_i · feat_t^T / temp`, symmetric InfoNCE with targets spread over
//!   every pair of the same item (`idx` equality). We use CLIP's learned `logit_scale`
//!   parameterisation (`exp(s)`, init `ln(1/0.07)`, clamped to `[0, ln 100]`) and no-bias
//!   projections as CLIP does.
//! - ITM: `itm_head = Linear(d, 2)` over the fused (item, caption) pair; one negative caption
//!   per item and one negative item per caption drawn with probability `softmax(sim) + 1e-4`,
//!   positives masked out; labels `[1]*B + [0]*2B`, cross-entropy.
//! - Evaluation: for each query the top `k` candidates by ITC cosine are re-scored with
//!   `itm_logit[:, 1] + cosine`, the rest get -100 (`score_matrix_i2t[i, topk_idx] = score +
//!   topk_sim` in ALBEF's and BLIP's `evaluation`).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData, assert_shape};
use mafs_core::{Encoded, Fused, TaskHead};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::loss::{
    INIT_LOG_LOGIT_SCALE, InfoNceOutput, MAX_LOG_LOGIT_SCALE, contrastive_logits, cross_entropy,
    info_nce, info_nce_multi_positive, info_nce_present, l2_normalize,
};
use crate::unimodal::UnimodalLoss;

/// Configuration of [`ItcHead`].
#[derive(Config, Debug)]
pub struct ItcHeadConfig {
    /// Width of the fused item embedding (`Fused::pooled`).
    pub d_item: usize,
    /// Width of the caption encoder's pooled output.
    pub d_caption: usize,
    /// Width of the shared embedding space.
    #[config(default = 256)]
    pub d_embed: usize,
    /// Initial log logit scale, CLIP's `ln(1 / 0.07)`.
    #[config(default = "INIT_LOG_LOGIT_SCALE")]
    pub init_log_logit_scale: f64,
    /// Learn the logit scale (CLIP, ALBEF) or keep it fixed.
    #[config(default = true)]
    pub learn_logit_scale: bool,
}

impl ItcHeadConfig {
    /// Builds the head.
    ///
    /// # Panics
    ///
    /// Panics if a width is zero.
    pub fn init(&self, device: &Device) -> ItcHead {
        assert!(
            self.d_item > 0 && self.d_caption > 0 && self.d_embed > 0,
            "ItcHeadConfig: widths must be positive"
        );
        ItcHead {
            item_proj: LinearConfig::new(self.d_item, self.d_embed)
                .with_bias(false)
                .init(device),
            caption_proj: LinearConfig::new(self.d_caption, self.d_embed)
                .with_bias(false)
                .init(device),
            logit_scale: Param::from_tensor(Tensor::full([1], self.init_log_logit_scale, device)),
            learn_logit_scale: self.learn_logit_scale,
        }
    }
}

/// ITC: item and caption projections to a shared space and a learned temperature.
#[derive(Module, Debug)]
pub struct ItcHead {
    /// Item projection (`vision_proj` in ALBEF, `visual.proj` in CLIP), no bias.
    pub item_proj: Linear,
    /// Caption projection (`text_proj`, CLIP's `text_projection`), no bias.
    pub caption_proj: Linear,
    /// The log of the logit scale, `[1]`, named as open_clip's `logit_scale` (which also
    /// stores the log; open_clip's is a 0-d tensor). The forward pass clamps it to
    /// `[0, ln 100]`, so outside that range it gets no gradient.
    pub logit_scale: Param<Tensor<1>>,
    /// Whether the scale is trained.
    pub learn_logit_scale: bool,
}

/// Supervision for an ITC batch: the captions of the batch's items.
///
/// # Shapes
///
/// - `captions`: `[batch, d_caption]`, the caption encoder's pooled output, row i captioning
///   item i
/// - `item_ids`: optional `[batch]`, the item each row belongs to; give it whenever an item
///   can appear more than once in a batch (several captions per image), so its duplicates are
///   positives, not negatives
#[derive(Debug, Clone)]
pub struct ItcTarget {
    /// Caption embeddings.
    pub captions: Tensor<2>,
    /// Item ids for multi-positive targets.
    pub item_ids: Option<Tensor<1, Int>>,
}

impl ItcHead {
    /// Clamps the logit-scale parameter into `[0, ln 100]`, as open_clip does after every
    /// optimizer step (`unwrap_model(model).logit_scale.clamp_(0, math.log(100))`), so that a
    /// scale pushed past the bound comes back within reach of the gradient (the forward clamp
    /// alone would leave it stuck where the gradient is zero). Keeps the parameter's id and
    /// whether it requires a gradient.
    pub fn clamp_logit_scale(mut self) -> Self {
        self.logit_scale = self.logit_scale.map(|t| {
            let require_grad = t.is_require_grad();
            t.clamp(0.0, MAX_LOG_LOGIT_SCALE)
                .detach()
                .set_require_grad(require_grad)
        });
        self
    }

    /// The log logit scale, detached when it is not learned.
    pub fn log_scale(&self) -> Tensor<1> {
        let s = self.logit_scale.val();
        if self.learn_logit_scale {
            s
        } else {
            s.detach()
        }
    }

    /// Normalised item embeddings.
    ///
    /// # Shapes
    ///
    /// - `items`: `[n, d_item]` → `[n, d_embed]`
    pub fn embed_items(&self, items: Tensor<2>) -> Tensor<2> {
        let d = self.item_proj.weight.dims()[0];
        assert_shape!(items, [_, d]);
        l2_normalize(self.item_proj.forward(items))
    }

    /// Normalised caption embeddings.
    ///
    /// # Shapes
    ///
    /// - `captions`: `[m, d_caption]` → `[m, d_embed]`
    pub fn embed_captions(&self, captions: Tensor<2>) -> Tensor<2> {
        let d = self.caption_proj.weight.dims()[0];
        assert_shape!(captions, [_, d]);
        l2_normalize(self.caption_proj.forward(captions))
    }

    /// Cosine similarity of every item with every caption, the ranking score at evaluation.
    ///
    /// # Shapes
    ///
    /// - `items`: `[n, d_item]`, `captions`: `[m, d_caption]` → `[n, m]`
    pub fn similarity(&self, items: Tensor<2>, captions: Tensor<2>) -> Tensor<2> {
        self.embed_items(items)
            .matmul(self.embed_captions(captions).transpose())
    }

    /// Scaled similarities `exp(s) * cos`, the logits of the contrastive loss.
    ///
    /// # Shapes
    ///
    /// - `items`: `[n, d_item]`, `captions`: `[m, d_caption]` → `[n, m]`
    pub fn logits(&self, items: Tensor<2>, captions: Tensor<2>) -> Tensor<2> {
        contrastive_logits(
            self.item_proj.forward(items),
            self.caption_proj.forward(captions),
            self.log_scale(),
        )
    }

    /// The full contrastive output (loss, per-instance losses and logits, which
    /// [`hard_negatives`] samples from).
    ///
    /// # Panics
    ///
    /// Panics if the fused batch and the captions differ in size.
    pub fn contrastive(&self, fused: &Fused, target: &ItcTarget) -> InfoNceOutput {
        let [b, _] = fused.pooled.dims();
        assert!(
            target.captions.dims()[0] == b,
            "ItcHead: {} captions for a batch of {b} items",
            target.captions.dims()[0]
        );
        let items = self.item_proj.forward(fused.pooled.clone());
        let d = self.caption_proj.weight.dims()[0];
        assert_shape!(target.captions, [b, d]);
        let captions = self.caption_proj.forward(target.captions.clone());
        match &target.item_ids {
            Some(ids) => info_nce_multi_positive(items, captions, self.log_scale(), ids.clone()),
            None => info_nce(items, captions, self.log_scale()),
        }
    }
}

impl ItcHead {
    /// The unimodal retrieval loss: InfoNCE of each modality's pooled embedding (through the
    /// item projection) against the captions, with the instances that lack the modality
    /// removed as anchors and as candidates ([`info_nce_present`]).
    ///
    /// # Panics
    ///
    /// Panics if a modality's width is not `d_item` or the batch sizes disagree.
    pub fn unimodal_loss(&self, encoded: &[Encoded], target: &ItcTarget) -> UnimodalLoss {
        let captions = self.caption_proj.forward(target.captions.clone());
        let [b, _] = captions.dims();
        let ids = match &target.item_ids {
            Some(ids) => ids.clone(),
            None => Tensor::<1, Int>::arange(0..b as i64, &captions.device()),
        };
        let d = self.item_proj.weight.dims()[0];
        let terms = encoded
            .iter()
            .map(|e| {
                assert!(
                    e.pooled.dims() == [b, d],
                    "ItcHead::unimodal_loss: modality `{}` pooled is {:?}, expected [{b}, {d}]",
                    e.name,
                    e.pooled.dims()
                );
                info_nce_present(
                    self.item_proj.forward(e.pooled.clone()),
                    captions.clone(),
                    self.log_scale(),
                    ids.clone(),
                    e.present.clone(),
                )
                .loss
            })
            .collect();
        UnimodalLoss::from_terms(terms)
    }
}

impl TaskHead for ItcHead {
    type Target = ItcTarget;
    /// Normalised item embeddings `[batch, d_embed]`.
    type Output = Tensor<2>;

    fn task(&self) -> &str {
        "retrieval"
    }

    fn loss(&self, fused: &Fused, target: &ItcTarget) -> Tensor<1> {
        self.contrastive(fused, target).loss
    }

    fn predict(&self, fused: &Fused) -> Tensor<2> {
        self.embed_items(fused.pooled.clone())
    }
}

/// Configuration of [`ItmHead`].
#[derive(Config, Debug)]
pub struct ItmHeadConfig {
    /// Width of the fused (item, caption) pair embedding.
    pub d_input: usize,
}

impl ItmHeadConfig {
    /// Builds the head.
    pub fn init(&self, device: &Device) -> ItmHead {
        ItmHead {
            linear: LinearConfig::new(self.d_input, 2).init(device),
        }
    }
}

/// ITM: `Linear(d, 2)` over a fused (item, caption) pair; class 1 = match.
#[derive(Module, Debug)]
pub struct ItmHead {
    /// ALBEF's and BLIP's `itm_head`.
    pub linear: Linear,
}

impl ItmHead {
    /// Match / no-match logits.
    ///
    /// # Shapes
    ///
    /// - `pairs`: `[pairs, d_input]` → `[pairs, 2]`
    pub fn forward(&self, pairs: Tensor<2>) -> Tensor<2> {
        let d = self.linear.weight.dims()[0];
        assert_shape!(pairs, [_, d]);
        self.linear.forward(pairs)
    }

    /// Probability of a match, `[pairs]`.
    pub fn itm_scores(&self, pairs: Tensor<2>) -> Tensor<1> {
        let [p, _] = pairs.dims();
        softmax(self.forward(pairs), 1)
            .slice([0..p, 1..2])
            .reshape([p])
    }

    /// The match logit `logits[:, 1]`, `[pairs]`: the score ALBEF and BLIP add to the ITC
    /// similarity when they re-rank.
    pub fn match_logit(&self, pairs: Tensor<2>) -> Tensor<1> {
        let [p, _] = pairs.dims();
        self.forward(pairs).slice([0..p, 1..2]).reshape([p])
    }
}

impl TaskHead for ItmHead {
    /// Labels `[pairs]`: 1 = matching pair, 0 = negative pair.
    type Target = Tensor<1, Int>;
    /// Match probabilities `[pairs]`.
    type Output = Tensor<1>;

    fn task(&self) -> &str {
        "retrieval"
    }

    fn loss(&self, fused: &Fused, labels: &Tensor<1, Int>) -> Tensor<1> {
        cross_entropy(self.forward(fused.pooled.clone()), labels.clone())
    }

    fn predict(&self, fused: &Fused) -> Tensor<1> {
        self.itm_scores(fused.pooled.clone())
    }
}

/// Hard negatives drawn from ITC similarities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardNegatives {
    /// For each item (row), the index of a negative caption; `None` when every caption of the
    /// batch belongs to that item.
    pub caption_for_item: Vec<Option<usize>>,
    /// For each caption (column), the index of a negative item; `None` when every item of the
    /// batch is that caption's item.
    pub item_for_caption: Vec<Option<usize>>,
}

/// One (item, caption) pair for the ITM head and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItmPair {
    /// Row of the item in the batch.
    pub item: usize,
    /// Row of the caption in the batch.
    pub caption: usize,
    /// 1 = match, 0 = negative.
    pub label: i64,
}

impl HardNegatives {
    /// ALBEF's ITM batch: the `B` positive pairs `(i, i)`, then for each caption `j` the pair
    /// (negative item, `j`), then for each item `i` the pair (`i`, negative caption); rows
    /// without a negative are skipped.
    pub fn itm_pairs(&self) -> Vec<ItmPair> {
        let b = self.caption_for_item.len();
        let mut pairs: Vec<ItmPair> = (0..b)
            .map(|i| ItmPair {
                item: i,
                caption: i,
                label: 1,
            })
            .collect();
        for (caption, item) in self.item_for_caption.iter().enumerate() {
            if let Some(item) = *item {
                pairs.push(ItmPair {
                    item,
                    caption,
                    label: 0,
                });
            }
        }
        for (item, caption) in self.caption_for_item.iter().enumerate() {
            if let Some(caption) = *caption {
                pairs.push(ItmPair {
                    item,
                    caption,
                    label: 0,
                });
            }
        }
        pairs
    }
}

/// Draws one negative caption per item and one negative item per caption with probability
/// `softmax(logits) + 1e-4` over the non-positives, as BLIP's `blip_retrieval.py`:
/// `mask = torch.eq(idx, idx.t()); weights_i2t = F.softmax(sim_i2t, dim=1) + 1e-4;
/// weights_i2t.masked_fill_(mask, 0); neg_idx = torch.multinomial(weights_t2i[b], 1)`.
/// Deterministic given the RNG state.
///
/// # Shapes
///
/// - `logits`: `[batch, batch]`, item i × caption j (e.g. [`InfoNceOutput::logits`])
/// - `item_ids`: `batch` ids; captions `j` with `item_ids[j] == item_ids[i]` are positives of
///   item i
///
/// # Panics
///
/// Panics if `logits` is not square with one row per id.
pub fn hard_negatives(
    logits: Tensor<2>,
    item_ids: &[i64],
    rng: &mut impl RngCore,
) -> HardNegatives {
    let b = item_ids.len();
    assert_shape!(logits, [b, b]);
    let logits = logits.detach();
    let i2t = softmax(logits.clone(), 1)
        .try_into_vec_as::<f32>()
        .expect("read ITC weights");
    let t2i = softmax(logits.transpose(), 1)
        .try_into_vec_as::<f32>()
        .expect("read ITC weights");
    let draw = |weights: &[f32], rng: &mut dyn RngCore, row: usize| -> Option<usize> {
        let w: Vec<f64> = (0..b)
            .map(|j| {
                if item_ids[j] == item_ids[row] {
                    0.0
                } else {
                    weights[row * b + j] as f64 + 1.0e-4
                }
            })
            .collect();
        sample_index(&w, rng)
    };
    let caption_for_item = (0..b).map(|i| draw(&i2t, rng, i)).collect();
    let item_for_caption = (0..b).map(|j| draw(&t2i, rng, j)).collect();
    HardNegatives {
        caption_for_item,
        item_for_caption,
    }
}

/// [`hard_negatives`] with a fresh ChaCha8 stream from `seed`.
pub fn hard_negatives_seeded(logits: Tensor<2>, item_ids: &[i64], seed: u64) -> HardNegatives {
    hard_negatives(logits, item_ids, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// Index drawn with probability proportional to `weights` (non-negative); `None` if they sum
/// to zero. Uses 53 random bits per draw.
fn sample_index(weights: &[f64], rng: &mut dyn RngCore) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * total;
    let mut acc = 0.0;
    let mut last = None;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            acc += w;
            last = Some(i);
            if u < acc {
                return Some(i);
            }
        }
    }
    last
}

/// Re-ranks the top `k` candidates of each query by ITM, as ALBEF's and BLIP's evaluation:
/// `score[q, c] = itm(q, c) + sim[q, c]` for the `k` candidates of query `q` with the highest
/// `sim`, -100 elsewhere. `itm(q, candidates)` returns one match score per candidate (ALBEF
/// and BLIP use [`ItmHead::match_logit`]). For the other direction pass `sim.transpose()` and
/// a closure with the roles swapped.
///
/// # Shapes
///
/// - `sim`: `[queries, candidates]` cosine similarities → `[queries, candidates]`
///
/// # Panics
///
/// Panics if `k` is zero or the closure returns the wrong number of scores.
pub fn rerank_top_k(
    sim: Tensor<2>,
    k: usize,
    mut itm: impl FnMut(usize, &[usize]) -> Vec<f32>,
) -> Tensor<2> {
    assert!(k > 0, "rerank_top_k: k must be positive");
    let [n, m] = sim.dims();
    let device = sim.device();
    let k = k.min(m);
    let (top_sim, top_idx) = sim.detach().topk_with_indices(k, 1);
    let top_sim = top_sim.try_into_vec_as::<f32>().expect("read similarities");
    let top_idx = top_idx.try_into_vec_as::<i64>().expect("read indices");
    let mut scores = vec![-100.0f32; n * m];
    for q in 0..n {
        let cands: Vec<usize> = top_idx[q * k..(q + 1) * k]
            .iter()
            .map(|&c| c as usize)
            .collect();
        let itm_scores = itm(q, &cands);
        assert_eq!(
            itm_scores.len(),
            k,
            "rerank_top_k: the ITM closure returned {} scores for {k} candidates",
            itm_scores.len()
        );
        for (r, &c) in cands.iter().enumerate() {
            scores[q * m + c] = itm_scores[r] + top_sim[q * k + r];
        }
    }
    Tensor::from_data(TensorData::new(scores, [n, m]), &device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{AdamWConfig, GradientsParams};
    use burn::tensor::{Distribution, Tolerance};

    fn dev() -> Device {
        let d = Device::flex();
        d.seed(0);
        d
    }

    #[test]
    fn itc_similarity_is_cosine_and_logits_are_scaled() {
        let d = dev();
        let head = ItcHeadConfig::new(6, 5).with_d_embed(4).init(&d);
        let items = Tensor::<2>::random([3, 6], Distribution::Normal(0.0, 1.0), &d);
        let caps = Tensor::<2>::random([4, 5], Distribution::Normal(0.0, 1.0), &d);
        let sim = head.similarity(items.clone(), caps.clone());
        assert_eq!(sim.dims(), [3, 4]);
        let max: f32 = sim.clone().abs().max().into_scalar();
        assert!(max <= 1.0 + 1e-5);
        let logits = head.logits(items, caps);
        let scale = (1.0 / 0.07) as f32;
        logits.into_data().assert_approx_eq::<f32>(
            &sim.mul_scalar(scale).into_data(),
            Tolerance::rel_abs(1e-4, 1e-4),
        );
    }

    #[test]
    fn itc_training_aligns_items_and_captions() {
        let d = Device::flex().autodiff();
        d.seed(1);
        let mut head = ItcHeadConfig::new(8, 8).with_d_embed(8).init(&d);
        let items = Tensor::<2>::random([6, 8], Distribution::Normal(0.0, 1.0), &d);
        let caps = Tensor::<2>::random([6, 8], Distribution::Normal(0.0, 1.0), &d);
        let fused = Fused::pooled(items.clone());
        let target = ItcTarget {
            captions: caps.clone(),
            item_ids: None,
        };
        let mut opt = AdamWConfig::new().init();
        let first: f32 = head.loss(&fused, &target).into_scalar();
        for _ in 0..40 {
            let loss = head.loss(&fused, &target);
            let grads = GradientsParams::from_grads(loss.backward(), &head);
            head = opt.step(2e-2, head, grads);
        }
        let last: f32 = head.loss(&fused, &target).into_scalar();
        assert!(last < 0.2 * first, "{first} -> {last}");
        // Every item now retrieves its own caption first.
        let sim = head.valid().similarity(items.inner(), caps.inner());
        let best = sim.argmax(1).try_into_vec_as::<i64>().unwrap();
        assert_eq!(best, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn unimodal_loss_equals_the_fused_loss_when_everything_is_present() {
        use burn::tensor::{Bool, TensorData};
        let d = dev();
        let head = ItcHeadConfig::new(4, 4).with_d_embed(4).init(&d);
        let pooled = Tensor::<2>::random([4, 4], Distribution::Normal(0.0, 1.0), &d);
        let target = ItcTarget {
            captions: Tensor::<2>::random([4, 4], Distribution::Normal(0.0, 1.0), &d),
            item_ids: Some(Tensor::<1, Int>::from_ints([0, 0, 1, 2], &d)),
        };
        let enc = |present: [bool; 4]| {
            Encoded::new(
                "image",
                Tensor::<3>::zeros([4, 1, 4], &d),
                Tensor::<2, Bool>::from_bool(TensorData::from([[false]; 4]), &d),
                pooled.clone(),
                Tensor::<1, Bool>::from_bool(TensorData::from(present), &d),
            )
        };
        let uni = head.unimodal_loss(&[enc([true; 4])], &target);
        let fused: f32 = head
            .loss(&Fused::pooled(pooled.clone()), &target)
            .into_scalar();
        let u: f32 = uni.total.into_scalar();
        assert!((u - fused).abs() < 1e-5, "{u} vs {fused}");
        let none: f32 = head
            .unimodal_loss(&[enc([false; 4])], &target)
            .total
            .into_scalar();
        assert_eq!(none, 0.0);
    }

    #[test]
    fn clamp_logit_scale_brings_the_parameter_back_and_keeps_it_trainable() {
        let d = Device::flex().autodiff();
        d.seed(2);
        let head = ItcHeadConfig::new(4, 4)
            .with_d_embed(4)
            .with_init_log_logit_scale(7.0)
            .init(&d);
        let id = head.logit_scale.id;
        let head = head.clamp_logit_scale();
        assert_eq!(head.logit_scale.id, id);
        let s: f32 = head.logit_scale.val().into_scalar();
        assert!((s as f64 - MAX_LOG_LOGIT_SCALE).abs() < 1e-6);
        // Inside the range again, so the loss has a gradient for it.
        let fused = Fused::pooled(Tensor::<2>::random(
            [3, 4],
            Distribution::Normal(0.0, 1.0),
            &d,
        ));
        let target = ItcTarget {
            captions: Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &d),
            item_ids: None,
        };
        let grads = head.loss(&fused, &target).backward();
        assert!(head.logit_scale.val().grad(&grads).is_some());
    }

    #[test]
    fn hard_negatives_never_pick_positives_and_are_seeded() {
        let d = dev();
        let logits = Tensor::<2>::random([6, 6], Distribution::Normal(0.0, 3.0), &d);
        let ids = [0i64, 0, 1, 2, 3, 3];
        let a = hard_negatives_seeded(logits.clone(), &ids, 7);
        let b = hard_negatives_seeded(logits.clone(), &ids, 7);
        assert_eq!(a, b);
        for (i, neg) in a.caption_for_item.iter().enumerate() {
            assert_ne!(ids[neg.unwrap()], ids[i]);
        }
        for (j, neg) in a.item_for_caption.iter().enumerate() {
            assert_ne!(ids[neg.unwrap()], ids[j]);
        }
        // A batch of one item has no negatives.
        let none = hard_negatives_seeded(logits, &[4; 6], 7);
        assert!(none.caption_for_item.iter().all(Option::is_none));
        assert!(none.itm_pairs().iter().all(|p| p.label == 1));
    }

    #[test]
    fn hard_negatives_follow_the_similarity() {
        // Item 0 is far more similar to caption 1 than to 2 or 3: almost every draw picks 1.
        let d = dev();
        let logits = Tensor::<2>::from_floats(
            [
                [10.0f32, 9.0, 0.0, 0.0],
                [0.0, 10.0, 0.0, 0.0],
                [0.0, 0.0, 10.0, 0.0],
                [0.0, 0.0, 0.0, 10.0],
            ],
            &d,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let picks: Vec<usize> = (0..200)
            .map(|_| {
                hard_negatives(logits.clone(), &[0, 1, 2, 3], &mut rng).caption_for_item[0].unwrap()
            })
            .collect();
        let ones = picks.iter().filter(|&&p| p == 1).count();
        // P(1) = (e^9/Z + 1e-4) / sum over {1,2,3}, about 0.9995 of the non-positive mass.
        assert!(ones >= 195, "{ones} of 200");
    }

    #[test]
    fn itm_pairs_follow_albef_layout() {
        let hn = HardNegatives {
            caption_for_item: vec![Some(1), Some(0), None],
            item_for_caption: vec![Some(2), None, Some(0)],
        };
        let pairs = hn.itm_pairs();
        let labels: Vec<i64> = pairs.iter().map(|p| p.label).collect();
        assert_eq!(labels, vec![1, 1, 1, 0, 0, 0, 0]);
        assert_eq!((pairs[3].item, pairs[3].caption), (2, 0));
        assert_eq!((pairs[5].item, pairs[5].caption), (0, 1));
    }

    #[test]
    fn itm_head_scores_are_probabilities_and_loss_is_ce() {
        let d = dev();
        let head = ItmHeadConfig::new(4).init(&d);
        let pairs = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &d);
        let p = head
            .itm_scores(pairs.clone())
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(p.iter().all(|&x| (0.0..=1.0).contains(&x)));
        let labels = Tensor::<1, Int>::from_ints([1, 0, 0, 1, 0], &d);
        let l: f32 = head
            .loss(&Fused::pooled(pairs.clone()), &labels)
            .into_scalar();
        let want: f32 = cross_entropy(head.forward(pairs), labels).into_scalar();
        assert_eq!(l, want);
    }

    #[test]
    fn rerank_adds_itm_to_top_k_only() {
        let d = dev();
        let sim = Tensor::<2>::from_floats([[0.9f32, 0.1, 0.5], [0.2, 0.3, 0.8]], &d);
        let scores = rerank_top_k(sim, 2, |q, cands| {
            // The ITM prefers the lower-ranked candidate strongly.
            cands
                .iter()
                .map(|&c| if q == 0 && c == 2 { 5.0 } else { 0.0 })
                .collect()
        });
        let s = scores.try_into_vec_as::<f32>().unwrap();
        assert_eq!(s[1], -100.0);
        assert!((s[0] - 0.9).abs() < 1e-6);
        assert!((s[2] - 5.5).abs() < 1e-6);
        assert_eq!(s[3], -100.0);
        assert!((s[5] - 0.8).abs() < 1e-6);
    }
}
