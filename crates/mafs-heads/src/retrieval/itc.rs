//! ITC: item and caption projections to a shared space, a learned temperature, and the
//! symmetric InfoNCE over the batch (fused and unimodal).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Int, Tensor, assert_shape};
use mafs_core::{Encoded, Fused, TaskHead};

use crate::loss::{
    INIT_LOG_LOGIT_SCALE, InfoNceOutput, MAX_LOG_LOGIT_SCALE, contrastive_logits, info_nce,
    info_nce_multi_positive, info_nce_present, l2_normalize,
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
    /// [`super::hard_negatives`] samples from).
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
}
