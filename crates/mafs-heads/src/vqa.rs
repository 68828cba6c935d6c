//! VQA: an answer classifier over the fused representation, and the unimodal auxiliary heads
//! whose distributions feed the scheduler's predictive-entropy and energy signals and the
//! `lambda_uni` unimodal loss (DESIGN §1).
//!
//! The classifier is ViLT's `vqa_classifier` (dandelin/ViLT `vilt_module.py`:
//! `Linear(hs, 2 hs) -> LayerNorm -> GELU -> Linear(2 hs, num_answers)`), the 2-layer MLP used
//! by the classifier line of VQA models on ALBEF/BLIP-style fusion encoders. The default loss
//! is binary cross-entropy with the VQA soft scores, summed over answers (Teney et al. 2018,
//! ViLT's `compute_vqa`: `bce_with_logits(logits, targets) * targets.shape[1]`).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Gelu, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, assert_shape};
use mafs_core::{Encoded, Fused, TaskHead};

use crate::guided_pool::{GuidedPool, GuidedPoolConfig};
use crate::loss::{
    bce_with_logits_per_instance, cross_entropy_per_instance, masked_mean,
    soft_cross_entropy_per_instance,
};
use crate::unimodal::UnimodalLoss;

/// Which loss trains the answer classifier.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum VqaLoss {
    /// Binary cross-entropy with soft scores, summed over answers (VQA literature default).
    SoftBce,
    /// Cross-entropy against the soft scores normalised to a distribution.
    SoftCrossEntropy,
    /// Cross-entropy on the top answer id.
    CrossEntropy,
}

/// Supervision for a VQA batch.
///
/// # Shapes
///
/// - `answer_ids`: `[batch]`, the most frequent human answer (its id in the answer vocabulary)
/// - `scores`: optional `[batch, n_answers]`, VQA soft scores `min(1, #humans / 3)` in `[0, 1]`;
///   when absent, the one-hot of `answer_ids` stands in
#[derive(Debug, Clone)]
pub struct VqaTarget {
    /// Top answer ids.
    pub answer_ids: Tensor<1, Int>,
    /// Soft scores.
    pub scores: Option<Tensor<2>>,
}

impl VqaTarget {
    /// A target with hard answers only.
    pub fn hard(answer_ids: Tensor<1, Int>) -> Self {
        Self {
            answer_ids,
            scores: None,
        }
    }

    /// The soft scores, or the one-hot of the answer ids.
    pub fn scores_or_one_hot(&self, n_answers: usize) -> Tensor<2> {
        match &self.scores {
            Some(s) => s.clone(),
            None => self.answer_ids.clone().one_hot::<2>(n_answers).float(),
        }
    }
}

/// Per-instance VQA loss `[batch]` of `logits` `[batch, n_answers]` under `kind`.
///
/// # Panics
///
/// Panics if the target does not match the logits' shape.
pub fn vqa_loss_per_instance(kind: VqaLoss, logits: Tensor<2>, target: &VqaTarget) -> Tensor<1> {
    let [b, a] = logits.dims();
    assert!(
        target.answer_ids.dims() == [b],
        "VQA loss: answer_ids must be [batch] = [{b}], got {:?}",
        target.answer_ids.dims()
    );
    if let Some(s) = &target.scores {
        assert!(
            s.dims() == [b, a],
            "VQA loss: scores must be [batch, n_answers] = [{b}, {a}], got {:?}",
            s.dims()
        );
    }
    match kind {
        VqaLoss::SoftBce => bce_with_logits_per_instance(logits, target.scores_or_one_hot(a)),
        VqaLoss::SoftCrossEntropy => {
            let s = target.scores_or_one_hot(a);
            let probs = s.clone() / s.sum_dim(1).clamp_min(1.0e-12);
            soft_cross_entropy_per_instance(logits, probs)
        }
        VqaLoss::CrossEntropy => cross_entropy_per_instance(logits, target.answer_ids.clone()),
    }
}

/// Configuration of [`AnswerClassifier`].
#[derive(Config, Debug)]
pub struct AnswerClassifierConfig {
    /// Width of the input embedding.
    pub d_input: usize,
    /// Size of the answer vocabulary.
    pub n_answers: usize,
    /// Hidden width; 0 means `2 * d_input`, as ViLT.
    #[config(default = 0)]
    pub d_hidden: usize,
    /// Dropout before the output layer.
    #[config(default = 0.0)]
    pub dropout: f64,
}

impl AnswerClassifierConfig {
    /// Builds the classifier.
    ///
    /// # Panics
    ///
    /// Panics if a width is zero.
    pub fn init(&self, device: &Device) -> AnswerClassifier {
        assert!(
            self.d_input > 0 && self.n_answers > 0,
            "AnswerClassifierConfig: d_input and n_answers must be positive"
        );
        let hidden = if self.d_hidden == 0 {
            2 * self.d_input
        } else {
            self.d_hidden
        };
        AnswerClassifier {
            fc1: LinearConfig::new(self.d_input, hidden).init(device),
            norm: LayerNormConfig::new(hidden).init(device),
            activation: Gelu::new(),
            dropout: DropoutConfig::new(self.dropout).init(),
            fc2: LinearConfig::new(hidden, self.n_answers).init(device),
        }
    }
}

/// `Linear -> LayerNorm -> GELU -> Dropout -> Linear`, embedding → answer logits.
#[derive(Module, Debug)]
pub struct AnswerClassifier {
    /// First layer.
    pub fc1: Linear,
    /// Norm of the hidden layer.
    pub norm: LayerNorm,
    /// Activation.
    pub activation: Gelu,
    /// Dropout.
    pub dropout: Dropout,
    /// Output layer.
    pub fc2: Linear,
}

impl AnswerClassifier {
    /// Input width.
    pub fn d_input(&self) -> usize {
        self.fc1.weight.dims()[0]
    }

    /// Number of answers.
    pub fn n_answers(&self) -> usize {
        self.fc2.weight.dims()[1]
    }

    /// Answer logits.
    ///
    /// # Shapes
    ///
    /// - `x`: `[batch, d_input]` → `[batch, n_answers]`
    ///
    /// # Panics
    ///
    /// Panics if the width of `x` is not `d_input`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        assert_shape!(x, [_, self.d_input()]);
        let h = self
            .activation
            .forward(self.norm.forward(self.fc1.forward(x)));
        self.fc2.forward(self.dropout.forward(h))
    }
}

/// Configuration of [`VqaHead`].
#[derive(Config, Debug)]
pub struct VqaHeadConfig {
    /// The classifier.
    pub classifier: AnswerClassifierConfig,
    /// Training loss.
    #[config(default = "VqaLoss::SoftBce")]
    pub loss: VqaLoss,
}

impl VqaHeadConfig {
    /// Builds the head.
    pub fn init(&self, device: &Device) -> VqaHead {
        VqaHead {
            classifier: self.classifier.init(device),
            loss: self.loss,
        }
    }
}

/// The VQA task head: the answer classifier over `fused.pooled`.
#[derive(Module, Debug)]
pub struct VqaHead {
    /// Answer classifier.
    pub classifier: AnswerClassifier,
    /// Training loss.
    #[module(skip)]
    pub loss: VqaLoss,
}

/// A VQA prediction for a batch.
///
/// # Shapes
///
/// - `answer_ids`: `[batch]`, argmax answers
/// - `probs`: `[batch, n_answers]`, softmax of the logits
/// - `logits`: `[batch, n_answers]`
#[derive(Debug, Clone)]
pub struct VqaPrediction {
    /// Predicted answer ids.
    pub answer_ids: Tensor<1, Int>,
    /// Answer distribution.
    pub probs: Tensor<2>,
    /// Raw logits.
    pub logits: Tensor<2>,
}

impl VqaHead {
    /// Answer logits of a fused batch, `[batch, n_answers]`.
    pub fn logits(&self, fused: &Fused) -> Tensor<2> {
        self.classifier.forward(fused.pooled.clone())
    }

    /// Per-instance loss `[batch]`.
    pub fn loss_per_instance(&self, fused: &Fused, target: &VqaTarget) -> Tensor<1> {
        vqa_loss_per_instance(self.loss, self.logits(fused), target)
    }
}

impl TaskHead for VqaHead {
    type Target = VqaTarget;
    type Output = VqaPrediction;

    fn task(&self) -> &str {
        "vqa"
    }

    fn loss(&self, fused: &Fused, target: &VqaTarget) -> Tensor<1> {
        self.loss_per_instance(fused, target).mean()
    }

    fn predict(&self, fused: &Fused) -> VqaPrediction {
        let logits = self.logits(fused);
        let [b, _] = logits.dims();
        VqaPrediction {
            answer_ids: logits.clone().argmax(1).reshape([b]),
            probs: softmax(logits.clone(), 1),
            logits,
        }
    }
}

/// Configuration of [`UnimodalHeads`].
#[derive(Config, Debug)]
pub struct UnimodalHeadsConfig {
    /// Width of each modality's pooled embedding.
    pub d_input: usize,
    /// Number of classes (answers).
    pub n_answers: usize,
    /// Number of modalities `M`.
    pub n_modalities: usize,
    /// One classifier shared by all modalities (keeps the heads independent of `M`) instead of
    /// one per modality.
    #[config(default = true)]
    pub shared: bool,
    /// Hidden width; 0 means `2 * d_input`.
    #[config(default = 0)]
    pub d_hidden: usize,
    /// Training loss of each unimodal head.
    #[config(default = "VqaLoss::SoftBce")]
    pub loss: VqaLoss,
    /// Condition every head on this modality (VQA: the question). Each other modality's head
    /// then reads `[x, c, x * c]`, where `c` is the conditioning modality's pooled embedding
    /// and `x` the modality's tokens pooled by attention guided by `c` ([`GuidedPool`]), and
    /// answers from "this modality, given what is asked"; the conditioning modality's own
    /// head reads `[0, c, 0]` (what is asked, with no evidence). `None`: each head reads its
    /// modality's pooled embedding alone.
    #[config(default = "None")]
    pub condition_on: Option<usize>,
}

impl UnimodalHeadsConfig {
    /// Builds the heads.
    ///
    /// # Panics
    ///
    /// Panics if `n_modalities` is zero.
    pub fn init(&self, device: &Device) -> UnimodalHeads {
        assert!(
            self.n_modalities > 0,
            "UnimodalHeadsConfig: n_modalities must be positive"
        );
        if let Some(c) = self.condition_on {
            assert!(
                c < self.n_modalities,
                "UnimodalHeadsConfig: condition_on {c} is not one of the {} modalities",
                self.n_modalities
            );
        }
        let (d_in, d_hidden) = match (self.condition_on, self.d_hidden) {
            (Some(_), 0) => (3 * self.d_input, 2 * self.d_input),
            (Some(_), h) => (3 * self.d_input, h),
            (None, h) => (self.d_input, h),
        };
        let classifier = AnswerClassifierConfig::new(d_in, self.n_answers).with_d_hidden(d_hidden);
        let count = if self.shared { 1 } else { self.n_modalities };
        let pools = match self.condition_on {
            Some(c) => (0..self.n_modalities)
                .map(|m| {
                    (m != c).then(|| GuidedPoolConfig::new(self.d_input, self.d_input).init(device))
                })
                .collect(),
            None => Vec::new(),
        };
        UnimodalHeads {
            heads: (0..count).map(|_| classifier.init(device)).collect(),
            pools,
            n_modalities: self.n_modalities,
            loss: self.loss,
            condition_on: self.condition_on,
        }
    }
}

/// One auxiliary classifier per modality (or one shared), over each modality's pooled
/// embedding. Its logits are the `unimodal_logits` of [`mafs_core::SignalContext`].
#[derive(Module, Debug)]
pub struct UnimodalHeads {
    /// The classifiers: one, or one per modality.
    pub heads: Vec<AnswerClassifier>,
    /// With a conditioning modality, one guided pool per other modality (`None` at the
    /// conditioning modality's position); else empty.
    pub pools: Vec<Option<GuidedPool>>,
    /// Number of modalities.
    pub n_modalities: usize,
    /// Training loss.
    #[module(skip)]
    pub loss: VqaLoss,
    /// The conditioning modality (see [`UnimodalHeadsConfig::condition_on`]).
    #[module(skip)]
    pub condition_on: Option<usize>,
}

impl UnimodalHeads {
    fn head(&self, m: usize) -> &AnswerClassifier {
        if self.heads.len() == 1 {
            &self.heads[0]
        } else {
            &self.heads[m]
        }
    }

    /// The input of modality `m`'s head: its pooled embedding, or with a conditioning
    /// modality `c`, `[x, c, x * c]` with `x` its tokens pooled under `c`'s guidance (zero
    /// for `c` itself).
    fn head_input(&self, encoded: &[Encoded], m: usize) -> Tensor<2> {
        let e = &encoded[m];
        match self.condition_on {
            None => e.pooled.clone(),
            Some(c) => {
                let q = encoded[c].pooled.clone();
                let x = match &self.pools[m] {
                    Some(pool) if m != c => {
                        pool.forward(e.tokens.clone(), e.padding.clone(), q.clone())
                    }
                    _ => q.zeros_like(),
                };
                Tensor::cat(vec![x.clone(), q.clone(), x * q], 1)
            }
        }
    }

    /// Unimodal logits, one `[batch, n_answers]` per modality, in the order of `encoded`
    /// (with a conditioning modality: each modality's answer given it, see
    /// [`UnimodalHeadsConfig::condition_on`]). Rows of missing instances are computed
    /// (finite) and must be masked by the consumer.
    ///
    /// # Panics
    ///
    /// Panics if `encoded.len()` is not `n_modalities`.
    pub fn forward(&self, encoded: &[Encoded]) -> Vec<Tensor<2>> {
        assert_eq!(
            encoded.len(),
            self.n_modalities,
            "UnimodalHeads: expected {} modalities, got {}",
            self.n_modalities,
            encoded.len()
        );
        (0..encoded.len())
            .map(|m| self.head(m).forward(self.head_input(encoded, m)))
            .collect()
    }

    /// The unimodal loss from logits computed by [`Self::forward`], each modality's term
    /// averaged over the instances that have it (a missing modality contributes no loss).
    ///
    /// # Panics
    ///
    /// Panics if the counts or shapes disagree.
    pub fn loss(
        &self,
        encoded: &[Encoded],
        logits: &[Tensor<2>],
        target: &VqaTarget,
    ) -> UnimodalLoss {
        assert_eq!(
            encoded.len(),
            logits.len(),
            "UnimodalHeads::loss: {} encodings but {} logits",
            encoded.len(),
            logits.len()
        );
        let per_modality: Vec<Tensor<1>> = encoded
            .iter()
            .zip(logits)
            .map(|(e, l)| {
                masked_mean(
                    vqa_loss_per_instance(self.loss, l.clone(), target),
                    e.present.clone(),
                )
            })
            .collect();
        UnimodalLoss::from_terms(per_modality)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::{AdamWConfig, GradientsParams};
    use burn::tensor::{Bool, Distribution, TensorData, Tolerance};

    fn dev() -> Device {
        let d = Device::flex();
        d.seed(0);
        d
    }

    #[test]
    fn config_round_trips_through_json() {
        let c =
            VqaHeadConfig::new(AnswerClassifierConfig::new(8, 5)).with_loss(VqaLoss::CrossEntropy);
        let json = serde_json::to_string(&c).unwrap();
        let back: VqaHeadConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.loss, VqaLoss::CrossEntropy);
        assert_eq!(back.classifier.n_answers, 5);
    }

    #[test]
    fn classifier_shapes_and_hidden_default() {
        let d = dev();
        let c = AnswerClassifierConfig::new(8, 5).init(&d);
        assert_eq!(c.fc1.weight.dims(), [8, 16]);
        let y = c.forward(Tensor::<2>::zeros([3, 8], &d));
        assert_eq!(y.dims(), [3, 5]);
    }

    #[test]
    #[should_panic(expected = "axis 1")]
    fn classifier_rejects_wrong_width() {
        let d = dev();
        let c = AnswerClassifierConfig::new(8, 5).init(&d);
        let _ = c.forward(Tensor::<2>::zeros([3, 7], &d));
    }

    #[test]
    fn soft_bce_without_scores_equals_one_hot_scores() {
        let d = dev();
        let logits = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 1.0), &d);
        let ids = Tensor::<1, Int>::from_ints([0, 5, 2, 2], &d);
        let hard = vqa_loss_per_instance(
            VqaLoss::SoftBce,
            logits.clone(),
            &VqaTarget::hard(ids.clone()),
        );
        let soft = vqa_loss_per_instance(
            VqaLoss::SoftBce,
            logits.clone(),
            &VqaTarget {
                answer_ids: ids.clone(),
                scores: Some(ids.clone().one_hot::<2>(6).float()),
            },
        );
        hard.into_data()
            .assert_approx_eq::<f32>(&soft.into_data(), Tolerance::absolute(1e-6));
        // SoftCrossEntropy on one-hot scores is plain cross-entropy.
        let sce = vqa_loss_per_instance(
            VqaLoss::SoftCrossEntropy,
            logits.clone(),
            &VqaTarget::hard(ids.clone()),
        );
        let ce = vqa_loss_per_instance(VqaLoss::CrossEntropy, logits, &VqaTarget::hard(ids));
        sce.into_data()
            .assert_approx_eq::<f32>(&ce.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn vqa_head_learns_a_separable_problem() {
        let d = Device::flex().autodiff();
        d.seed(3);
        let mut head = VqaHeadConfig::new(AnswerClassifierConfig::new(6, 3)).init(&d);
        let x = Tensor::<2>::random([12, 6], Distribution::Normal(0.0, 1.0), &d);
        // Labels from the sign pattern of two features: learnable by the MLP.
        let xs = x.clone().try_into_vec_as::<f32>().unwrap();
        let labels: Vec<i64> = (0..12)
            .map(|i| {
                if xs[i * 6] > 0.0 {
                    0
                } else if xs[i * 6 + 1] > 0.0 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let target = VqaTarget::hard(Tensor::<1, Int>::from_ints(labels.as_slice(), &d));
        let fused = Fused::pooled(x);
        let mut opt = AdamWConfig::new().init();
        let first: f32 = head.loss(&fused, &target).into_scalar();
        for _ in 0..60 {
            let loss = head.loss(&fused, &target);
            let grads = GradientsParams::from_grads(loss.backward(), &head);
            head = opt.step(1e-2, head, grads);
        }
        let last: f32 = head.loss(&fused, &target).into_scalar();
        assert!(last < 0.3 * first, "loss {first} -> {last}");
        let pred = head.valid().predict(&Fused::pooled(fused.pooled.inner()));
        let got: Vec<i64> = pred.answer_ids.try_into_vec_as::<i64>().unwrap();
        assert_eq!(got, labels);
    }

    #[test]
    fn unimodal_loss_masks_missing_modalities() {
        let d = dev();
        let heads = UnimodalHeadsConfig::new(4, 3, 2)
            .with_shared(false)
            .init(&d);
        assert_eq!(heads.heads.len(), 2);
        let mk = |name: &str, present: [bool; 3]| {
            Encoded::new(
                name,
                Tensor::<3>::random([3, 2, 4], Distribution::Normal(0.0, 1.0), &d),
                Tensor::<2, Bool>::from_bool(TensorData::from([[false; 2]; 3]), &d),
                Tensor::<2>::random([3, 4], Distribution::Normal(0.0, 1.0), &d),
                Tensor::<1, Bool>::from_bool(TensorData::from(present), &d),
            )
        };
        let enc = vec![mk("image", [true, false, true]), mk("text", [false; 3])];
        let logits = heads.forward(&enc);
        assert_eq!(logits.len(), 2);
        assert_eq!(logits[0].dims(), [3, 3]);
        let target = VqaTarget::hard(Tensor::<1, Int>::from_ints([0, 1, 2], &d));
        let loss = heads.loss(&enc, &logits, &target);
        let per = vqa_loss_per_instance(VqaLoss::SoftBce, logits[0].clone(), &target)
            .try_into_vec_as::<f32>()
            .unwrap();
        let m0: f32 = loss.per_modality[0].clone().into_scalar();
        assert!((m0 - (per[0] + per[2]) / 2.0).abs() < 1e-5);
        let m1: f32 = loss.per_modality[1].clone().into_scalar();
        assert_eq!(m1, 0.0);
        let total: f32 = loss.total.into_scalar();
        assert!((total - m0).abs() < 1e-6);
    }

    fn encoded(name: &str, pooled: Tensor<2>) -> Encoded {
        let [b, d] = pooled.dims();
        let device = pooled.device();
        Encoded::new(
            name,
            pooled.clone().reshape([b, 1, d]),
            Tensor::<2, Bool>::from_bool(TensorData::new(vec![false; b], [b, 1]), &device),
            pooled,
            Tensor::<1, Bool>::from_bool(TensorData::new(vec![true; b], [b]), &device),
        )
    }

    #[test]
    fn conditioned_heads_read_the_question_and_the_question_head_no_evidence() {
        let d = dev();
        let heads = UnimodalHeadsConfig::new(4, 3, 2)
            .with_condition_on(Some(1))
            .init(&d);
        assert_eq!(heads.heads[0].d_input(), 12);
        let rand = || Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &d);
        let (x, q, other_x, other_q) = (rand(), rand(), rand(), rand());
        let base = heads.forward(&[encoded("image", x.clone()), encoded("question", q.clone())]);
        let x_changed = heads.forward(&[encoded("image", other_x), encoded("question", q.clone())]);
        let q_changed = heads.forward(&[encoded("image", x), encoded("question", other_q)]);
        let tol = Tolerance::absolute(1e-6);
        // the question's head sees no evidence: the image does not move it
        base[1]
            .clone()
            .into_data()
            .assert_approx_eq::<f32>(&x_changed[1].clone().into_data(), tol);
        // the image's head answers given the question: the question moves it
        let moved: f32 = (base[0].clone() - q_changed[0].clone())
            .abs()
            .max()
            .into_scalar();
        assert!(
            moved > 1e-3,
            "the image head ignores the question ({moved})"
        );
    }

    #[test]
    #[should_panic(expected = "condition_on 2")]
    fn conditioning_on_a_missing_modality_is_rejected() {
        let _ = UnimodalHeadsConfig::new(4, 3, 2)
            .with_condition_on(Some(2))
            .init(&dev());
    }

    /// Labels that need both inputs (the sign of x's first feature XOR the sign of q's): on
    /// held-out instances a head on x alone stays near chance, the conditioned head learns
    /// them.
    #[test]
    fn conditioned_head_learns_what_neither_input_says_alone() {
        let fit = |condition: Option<usize>| {
            let d = Device::flex().autodiff();
            d.seed(5);
            let (n, train) = (192, 128);
            let x = Tensor::<2>::random([n, 4], Distribution::Normal(0.0, 1.0), &d);
            let q = Tensor::<2>::random([n, 4], Distribution::Normal(0.0, 1.0), &d);
            let xs = x.clone().try_into_vec_as::<f32>().unwrap();
            let qs = q.clone().try_into_vec_as::<f32>().unwrap();
            let labels: Vec<i64> = (0..n)
                .map(|i| i64::from((xs[i * 4] > 0.0) != (qs[i * 4] > 0.0)))
                .collect();
            let part = |t: &Tensor<2>, r: std::ops::Range<usize>| t.clone().slice([r, 0..4]);
            let enc = |r: std::ops::Range<usize>| {
                [
                    encoded("image", part(&x, r.clone())),
                    encoded("question", part(&q, r)),
                ]
            };
            let target = VqaTarget::hard(Tensor::<1, Int>::from_ints(&labels[..train], &d));
            let mut heads = UnimodalHeadsConfig::new(4, 2, 2)
                .with_condition_on(condition)
                .with_loss(VqaLoss::CrossEntropy)
                .init(&d);
            let mut opt = AdamWConfig::new().init();
            for _ in 0..200 {
                let logits = heads.forward(&enc(0..train));
                let loss = vqa_loss_per_instance(heads.loss, logits[0].clone(), &target).mean();
                let grads = GradientsParams::from_grads(loss.backward(), &heads);
                heads = opt.step(2e-2, heads, grads);
            }
            let logits = heads.forward(&enc(train..n));
            let pred: Vec<i64> = logits[0]
                .clone()
                .argmax(1)
                .try_into_vec_as::<i64>()
                .unwrap();
            let right = pred
                .iter()
                .zip(&labels[train..])
                .filter(|(a, b)| a == b)
                .count();
            right as f64 / (n - train) as f64
        };
        let (alone, conditioned) = (fit(None), fit(Some(1)));
        assert!(
            conditioned >= 0.85,
            "held-out conditioned accuracy {conditioned}"
        );
        assert!(alone <= 0.75, "x alone cannot know the labels, got {alone}");
    }
}
