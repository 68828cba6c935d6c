//! The forward pass: encode, signal, schedule, fuse, and the training loss (DESIGN §1)
//! `L = L_task + lambda_uni * sum_m L_uni,m + lambda_sched * KL(t || w) (+ lambda_rank *
//! rank) + lambda_conf * L_conf + lambda_proto * L_proto(clean) + lambda_reg * KL(w || U)`,
//! plus ITM for retrieval with query fusion and PDF's confidence loss for `pdf`; the
//! scheduler terms apply to the MA-AFS fusions.

use burn::tensor::{Bool, Int, Tensor, TensorData};
use mafs_core::{
    Encoded, Fused, FusionWeights, ModalityBatch, Scheduler, SignalContext, SignalSet, TaskHead,
};
use mafs_heads::loss::cross_entropy;
use mafs_heads::{ItcTarget, hard_negatives_seeded};
use mafs_scheduler::{
    FusionWeighting, gain_over_condition, in_batch_tcp, kl_to_target_logits, kl_to_uniform,
    leave_one_out_reliability, reliability_target, soft_target_tcp, weight_rank_loss,
};
use mafs_signals::{LearnedConfidence, SignalModules, SignalStack, proto_loss_counted};

use super::unimodal::{arange, unimodal_alignment};
use super::{MafsModel, ModelBatch, TaskModule};
use crate::config::LossWeights;

/// Floor of a VQA context modality's gain over the question (`gain_over_condition`): with
/// no gain from either context modality the target is uniform over them.
const GAIN_FLOOR: f64 = 0.01;

/// `present` with modality `k` marked absent in every row.
fn without_column(present: Tensor<2, Bool>, k: usize) -> Tensor<2, Bool> {
    let [b, m] = present.dims();
    let keep: Vec<bool> = (0..m).map(|j| j != k).collect();
    let keep = Tensor::<1, Bool>::from_data(TensorData::new(keep, [m]), &present.device())
        .reshape([1, m])
        .expand([b, m]);
    present.bool_and(keep)
}

/// What the item side of the model computes for a batch.
#[derive(Debug, Clone)]
pub struct ItemForward {
    /// Encodings, in scheduler order.
    pub encoded: Vec<Encoded>,
    /// Unimodal logits, one per modality (VQA: answer logits; otherwise prototype scores).
    pub unimodal_logits: Vec<Tensor<2>>,
    /// The signals.
    pub signals: SignalSet,
    /// The fusion weights (detached from the task loss when the run says so).
    pub weights: FusionWeights,
    /// The scheduler's logits before any detaching, so that its own losses reach it even
    /// when the weights are detached from the task loss.
    pub live_logits: Tensor<2>,
    /// The fused representation.
    pub fused: Fused,
}

/// The loss terms of one step, as scalars for logging.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossParts {
    /// Total.
    pub total: f64,
    /// Task loss.
    pub task: f64,
    /// Sum of unimodal losses.
    pub unimodal: f64,
    /// KL regulariser.
    pub reg: f64,
    /// Prototype loss.
    pub proto: f64,
    /// ITM loss (retrieval with query fusion).
    pub itm: f64,
    /// Confidence loss: PDF's, or MA-AFS's learned confidence (L1 to the true-class
    /// probability plus the clean head's BCE).
    pub confidence: f64,
    /// `KL(t || w)`, the weights against the reliability target (MA-AFS).
    #[serde(default)]
    pub sched: f64,
    /// QMF's rank loss on the weights (MA-AFS, when on).
    #[serde(default)]
    pub rank: f64,
}

impl LossParts {
    /// Number of terms of checkpoints written before `sched` and `rank` existed: their
    /// `partial_sums` hold the first seven terms of [`LossParts::terms`].
    pub const LEGACY_TERMS: usize = 7;

    /// Each term with its name (the name the metrics logs write), in the layout of a
    /// checkpoint's `TrainState::partial_sums`.
    fn terms_mut(&mut self) -> [(&'static str, &mut f64); 9] {
        [
            ("total", &mut self.total),
            ("task", &mut self.task),
            ("unimodal", &mut self.unimodal),
            ("reg", &mut self.reg),
            ("proto", &mut self.proto),
            ("itm", &mut self.itm),
            ("confidence", &mut self.confidence),
            ("sched", &mut self.sched),
            ("rank", &mut self.rank),
        ]
    }

    /// The terms by name, in the order of [`LossParts::terms_mut`].
    pub fn terms(&self) -> [(&'static str, f64); 9] {
        self.clone().terms_mut().map(|(name, v)| (name, *v))
    }

    /// The term called `name`, if there is one.
    pub fn term(&self, name: &str) -> Option<f64> {
        self.terms()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// `self + scale * other`, term by term (sums over steps; shards weighted by size).
    pub fn add_scaled(&self, other: &Self, scale: f64) -> Self {
        let mut out = self.clone();
        for ((_, acc), (_, v)) in out.terms_mut().into_iter().zip(other.terms()) {
            *acc += scale * v;
        }
        out
    }

    /// Every term times `scale`.
    pub fn scaled(&self, scale: f64) -> Self {
        let mut out = self.clone();
        for (_, v) in out.terms_mut() {
            *v *= scale;
        }
        out
    }

    /// The terms as a checkpoint's `TrainState::partial_sums` stores them.
    pub fn to_checkpoint_sums(&self) -> Vec<f64> {
        self.terms().iter().map(|(_, v)| *v).collect()
    }

    /// The terms of a checkpoint's `partial_sums`: all nine, or the first
    /// [`LossParts::LEGACY_TERMS`] of an older checkpoint (`sched` and `rank` then 0).
    /// `None` for another length.
    pub fn from_checkpoint_sums(v: &[f64]) -> Option<Self> {
        let mut out = Self::default();
        let n = out.terms_mut().len();
        if v.len() != n && v.len() != Self::LEGACY_TERMS {
            return None;
        }
        for ((_, slot), x) in out.terms_mut().into_iter().zip(v) {
            *slot = *x;
        }
        Some(out)
    }
}

/// Output of [`MafsModel::forward_loss`].
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The scalar loss to differentiate.
    pub loss: Tensor<1>,
    /// Its terms, for logging (read back from the device once per step).
    pub parts: LossParts,
    /// Mean fusion weight of each modality over the batch.
    pub mean_weights: Vec<f64>,
}

/// The task's terms of a step, and what each modality's own prediction says.
struct TaskTerms {
    task: Tensor<1>,
    unimodal: Tensor<1>,
    itm: Tensor<1>,
    /// True-class probability of each modality's unimodal prediction `[B, M]` (detached):
    /// retrieval and captioning, the share of the instance's captions in the modality's
    /// in-batch softmax; VQA, the unimodal answer head's mass on the soft target.
    tcp: Tensor<2>,
    /// PDF's inputs: unimodal logits and the class of each row.
    pdf: (Vec<Tensor<2>>, Tensor<1, Int>),
}

/// The scheduler's terms of a step (MA-AFS).
struct SchedulerTerms {
    sched: Tensor<1>,
    rank: Tensor<1>,
    confidence: Tensor<1>,
}

fn scalar(t: &Tensor<1>) -> f64 {
    t.clone()
        .into_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .expect("scalar readback")[0]
}

/// Detached copies of encodings (the signals' view, DESIGN §1).
pub fn detached(encoded: &[Encoded]) -> Vec<Encoded> {
    encoded
        .iter()
        .map(|e| {
            let mut d = Encoded::new(
                e.name.clone(),
                e.tokens.clone().detach(),
                e.padding.clone(),
                e.pooled.clone().detach(),
                e.present.clone(),
            );
            if let Some(a) = &e.pool_attention {
                d = d.with_pool_attention(a.clone().detach());
            }
            if let Some(st) = &e.stem_stats {
                d = d.with_stem_stats(st.clone().detach());
            }
            d
        })
        .collect()
}

/// Retrieval's and captioning's unimodal terms: the summed item→caption InfoNCE of each
/// modality alone, each modality's in-batch true-class probability (detached), and the
/// unimodal logits (PDF's input).
fn aligned_terms(
    itc: &mafs_heads::ItcHead,
    items: &ItemForward,
    caption: &Encoded,
    batch: &ModelBatch,
    ids: &Tensor<1, Int>,
) -> (Tensor<1>, Tensor<2>, Vec<Tensor<2>>) {
    let align = unimodal_alignment(itc, &items.encoded, &caption.pooled, ids);
    let tcp = in_batch_tcp(&align.logits, batch.positives()).detach();
    let device = tcp.device();
    let unimodal = align
        .losses
        .into_iter()
        .reduce(|a, c| a + c)
        .unwrap_or_else(|| Tensor::zeros([1], &device));
    (unimodal, tcp, align.logits)
}

impl MafsModel {
    /// Encodes a text modality with the shared text tower, keeping the batch's name.
    pub fn encode_text(&self, batch: &ModalityBatch) -> Encoded {
        let mut e = mafs_core::ModalityEncoder::encode(&self.text, batch);
        e.name = batch.name.clone();
        e
    }

    /// Encodes the modalities the scheduler weighs, in order.
    ///
    /// # Panics
    ///
    /// Panics if the batch lacks a modality the task needs (a question for VQA).
    pub fn encode_items(&self, batch: &ModelBatch) -> Vec<Encoded> {
        self.spec
            .modalities
            .iter()
            .map(|name| match name.as_str() {
                "image" => mafs_core::ModalityEncoder::encode(&self.image, &batch.image),
                "side_text" => self.encode_text(&batch.side_text),
                "question" => self.encode_text(
                    batch
                        .question
                        .as_ref()
                        .expect("a VQA batch carries questions"),
                ),
                other => panic!("MafsModel: unknown modality `{other}` in the spec"),
            })
            .collect()
    }

    /// Unimodal logits: VQA's unimodal answer heads, or (retrieval, captioning: no classes)
    /// the scaled prototype scores, label-free and defined per instance.
    pub fn unimodal_logits(&self, encoded: &[Encoded]) -> Vec<Tensor<2>> {
        match &self.head {
            TaskModule::Vqa(h) => h.unimodal.forward(encoded),
            _ => encoded
                .iter()
                .map(|e| self.prototypes.scores(e.pooled.clone()))
                .collect(),
        }
    }

    /// Computes the signals of a batch. With `detach_signals` on (the default) they read
    /// detached encodings and logits, so no gradient flows from the scheduler into the
    /// encoders, the prototypes or the confidence networks through them.
    pub fn signals(&self, encoded: &[Encoded], unimodal_logits: &[Tensor<2>]) -> SignalSet {
        let modules = SignalModules {
            prototypes: Some(&self.prototypes),
            confidence: self.confidence.as_ref(),
        };
        let stack = SignalStack::from_kinds_with(&self.spec.signals, modules)
            .expect("the spec's signals are valid");
        if self.spec.scheduler.detach_signals {
            let enc = detached(encoded);
            let logits: Vec<Tensor<2>> =
                unimodal_logits.iter().map(|l| l.clone().detach()).collect();
            let mut set = stack.compute(&SignalContext::new(&enc).with_logits(&logits));
            set.values = set.values.detach();
            set
        } else {
            stack.compute(&SignalContext::new(encoded).with_logits(unimodal_logits))
        }
    }

    /// Encode, signal, schedule and fuse the item side of a batch at temperature `tau`.
    /// `calibrate` selects PDF's test-time (calibrated) weights.
    pub fn forward_items(&self, batch: &ModelBatch, tau: f64, calibrate: bool) -> ItemForward {
        let encoded = self.encode_items(batch);
        let unimodal_logits = self.unimodal_logits(&encoded);
        let signals = self.signals(&encoded, &unimodal_logits);
        let mut weights = match (&self.weighting, calibrate) {
            (FusionWeighting::Pdf(p), true) => {
                let mut w = p.calibrated(&encoded, &unimodal_logits);
                w.signals = Some(signals.clone());
                w
            }
            (w, _) => w.schedule(&encoded, &signals, tau),
        };
        let live_logits = weights.logits.clone();
        if self.spec.detach_weights {
            weights = weights.detached();
        }
        let fused = self.fusion.fuse(&encoded, &weights);
        ItemForward {
            encoded,
            unimodal_logits,
            signals,
            weights,
            live_logits,
            fused,
        }
    }

    /// The task loss, the unimodal losses, ITM, and each modality's true-class probability.
    fn task_terms(&self, batch: &ModelBatch, items: &ItemForward, seed: u64) -> TaskTerms {
        let device = items.fused.pooled.device();
        let b = batch.len();
        let zero = || Tensor::<1>::zeros([1], &device);
        match &self.head {
            TaskModule::Retrieval(h) => {
                let caption = self.encode_text(batch.caption.as_ref().expect("retrieval captions"));
                let ids = batch.id_tensor();
                let out = h.itc.contrastive(
                    &items.fused,
                    &ItcTarget {
                        captions: caption.pooled.clone(),
                        item_ids: Some(ids.clone()),
                    },
                );
                let (unimodal, tcp, align_logits) =
                    aligned_terms(&h.itc, items, &caption, batch, &ids);
                let itm = match (&h.itm, &self.itm_fusion) {
                    (Some(itm_head), Some(pair_fusion)) => {
                        let id_list: Vec<i64> = batch.ids.iter().map(|&i| i as i64).collect();
                        let negatives = hard_negatives_seeded(out.logits, &id_list, seed);
                        let pairs = negatives.itm_pairs();
                        let item_idx: Vec<usize> = pairs.iter().map(|p| p.item).collect();
                        let caption_idx: Vec<usize> = pairs.iter().map(|p| p.caption).collect();
                        let labels: Vec<i64> = pairs.iter().map(|p| p.label).collect();
                        let pair_fused = self.fuse_pairs(
                            pair_fusion,
                            &items.encoded,
                            &items.weights,
                            &caption,
                            &item_idx,
                            &caption_idx,
                        );
                        let logits = itm_head.forward(pair_fused.pooled);
                        let labels = Tensor::<1, Int>::from_data(
                            TensorData::new(labels, [pairs.len()]),
                            &device,
                        );
                        cross_entropy(logits, labels)
                    }
                    _ => zero(),
                };
                TaskTerms {
                    task: out.loss,
                    unimodal,
                    itm,
                    tcp,
                    pdf: (align_logits, arange(b, &device)),
                }
            }
            TaskModule::Captioning(h) => {
                let target = batch.caption_target.as_ref().expect("captioning targets");
                let task = h.decoder.loss(&items.fused, target);
                let caption = self.encode_text(batch.caption.as_ref().expect("captions"));
                let ids = batch.id_tensor();
                let (unimodal, tcp, align_logits) =
                    aligned_terms(&h.itc, items, &caption, batch, &ids);
                TaskTerms {
                    task,
                    unimodal,
                    itm: zero(),
                    tcp,
                    pdf: (align_logits, arange(b, &device)),
                }
            }
            TaskModule::Vqa(h) => {
                let target = batch.answers.as_ref().expect("VQA answers");
                let task = h.answer.loss(&items.fused, target);
                let unimodal = h
                    .unimodal
                    .loss(&items.encoded, &items.unimodal_logits, target)
                    .total;
                let scores = target.scores_or_one_hot(self.spec.n_answers);
                let tcp = if self.spec.is_ma_afs() && self.spec.scheduler.vqa_leave_one_out {
                    self.leave_one_out_tcp(&h.answer, items, scores)
                } else {
                    let tcp = soft_target_tcp(&items.unimodal_logits, scores).detach();
                    match self.spec.conditioning_modality() {
                        Some(c) if self.spec.scheduler.vqa_gain_over_question => {
                            gain_over_condition(tcp, c, GAIN_FLOOR)
                        }
                        _ => tcp,
                    }
                };
                TaskTerms {
                    task,
                    unimodal,
                    itm: zero(),
                    tcp,
                    pdf: (items.unimodal_logits.clone(), target.answer_ids.clone()),
                }
            }
        }
    }

    /// VQA's question-aware reliability of each modality: the fused answer's true-class
    /// probability minus the same with the modality left out (its encoding marked absent and
    /// the weights renormalised over the others), floored; all on detached inputs.
    fn leave_one_out_tcp(
        &self,
        answer: &mafs_heads::VqaHead,
        items: &ItemForward,
        scores: Tensor<2>,
    ) -> Tensor<2> {
        const FLOOR: f64 = 1.0e-3;
        let encoded = detached(&items.encoded);
        let w = &items.weights;
        let logits = w.logits.clone().detach();
        let [b, m] = w.dims();
        let device = logits.device();
        let fuse = |encoded: &[Encoded], present: Tensor<2, Bool>| {
            let weights = FusionWeights {
                weights: mafs_core::weights::masked_softmax(logits.clone(), present.clone(), w.tau),
                logits: logits.clone(),
                present,
                signals: None,
                tau: w.tau,
            };
            answer.logits(&self.fusion.fuse(encoded, &weights)).detach()
        };
        let full = soft_target_tcp(&[fuse(&encoded, w.present.clone())], scores.clone());
        let absent = Tensor::<1>::zeros([b], &device).greater_elem(0.5);
        let without: Vec<Tensor<2>> = (0..m)
            .map(|k| {
                let mut left_out = encoded.clone();
                left_out[k].present = absent.clone();
                fuse(&left_out, without_column(w.present.clone(), k))
            })
            .collect();
        let without = soft_target_tcp(&without, scores);
        leave_one_out_reliability(full.reshape([b]), without, FLOOR)
    }

    /// The entries the reliability target covers: the present ones, less the conditioning
    /// modality (the VQA question, see [`super::ModelSpec::conditioning_modality`]).
    fn targeted_presence(&self, present: Tensor<2, Bool>) -> Tensor<2, Bool> {
        match self.spec.conditioning_modality() {
            Some(c) => without_column(present, c),
            None => present,
        }
    }

    /// What teaches the MA-AFS scheduler (DESIGN §1): `KL(t || w)` against the reliability
    /// target from the true-class probabilities, QMF's rank loss, and the learned
    /// confidence's losses (L1 to the TCP; BCE of the clean head to the known corruption
    /// flag, misaligned entries left out since no single modality's encoding shows them).
    fn scheduler_terms(
        &self,
        batch: &ModelBatch,
        items: &ItemForward,
        tcp: &Tensor<2>,
        lambdas: &LossWeights,
    ) -> SchedulerTerms {
        let device = tcp.device();
        let zero = || Tensor::<1>::zeros([1], &device);
        if !self.spec.is_ma_afs() {
            return SchedulerTerms {
                sched: zero(),
                rank: zero(),
                confidence: zero(),
            };
        }
        let w = &items.weights;
        let present = w.present.clone();
        let targeted = self.targeted_presence(present.clone());
        let sched = if lambdas.lambda_sched > 0.0 {
            let t = reliability_target(
                tcp.clone(),
                targeted.clone(),
                self.spec.scheduler.target_temperature,
            );
            kl_to_target_logits(t, items.live_logits.clone(), targeted.clone(), w.tau)
        } else {
            zero()
        };
        let rank = if lambdas.lambda_rank > 0.0 {
            let uni_loss = tcp.clone().clamp_min(1.0e-12).log().neg();
            let live = mafs_core::weights::masked_softmax(
                items.live_logits.clone(),
                targeted.clone(),
                w.tau,
            );
            weight_rank_loss(live, uni_loss, targeted)
        } else {
            zero()
        };
        let confidence = match &self.confidence {
            Some(net) if lambdas.lambda_conf > 0.0 => {
                let logits = net.logits(&items.encoded);
                let mut loss =
                    LearnedConfidence::tcp_loss(logits.tcp, tcp.clone(), present.clone());
                if let Some(clean_logits) = logits.clean {
                    let (clean, misaligned) = batch.corruption_masks(&self.spec.modalities);
                    let counted = present.clone().bool_and(misaligned.bool_not());
                    loss = loss + LearnedConfidence::clean_loss(clean_logits, clean, counted);
                }
                loss
            }
            _ => zero(),
        };
        SchedulerTerms {
            sched,
            rank,
            confidence,
        }
    }

    /// The training loss of a batch. `seed` drives the hard-negative draws.
    ///
    /// # Panics
    ///
    /// Panics if the batch lacks the targets of the task.
    pub fn forward_loss(
        &self,
        batch: &ModelBatch,
        tau: f64,
        lambdas: &LossWeights,
        seed: u64,
    ) -> StepOutput {
        let items = self.forward_items(batch, tau, false);
        let present = mafs_core::mask::presence_of(&items.encoded);
        let terms = self.task_terms(batch, &items, seed);
        let ours = self.scheduler_terms(batch, &items, &terms.tcp, lambdas);
        let mut confidence = ours.confidence;
        if let FusionWeighting::Pdf(p) = &self.weighting {
            let (logits, targets) = terms.pdf;
            confidence = p.tcp_loss(
                p.predicted_tcp(&items.encoded),
                &logits,
                targets,
                present.clone(),
            );
        }
        let reg = kl_to_uniform(items.weights.weights.clone(), present.clone());
        let counted = if self.spec.scheduler.proto_clean_only {
            let (clean, _) = batch.corruption_masks(&self.spec.modalities);
            present.bool_and(clean)
        } else {
            present
        };
        let proto = proto_loss_counted(&self.prototypes, &items.encoded, counted);
        let lambda_conf = if self.spec.is_ma_afs() {
            lambdas.lambda_conf
        } else {
            1.0
        };
        let loss = terms.task.clone()
            + terms.unimodal.clone().mul_scalar(lambdas.lambda_uni)
            + reg.clone().mul_scalar(lambdas.lambda_reg)
            + proto.clone().mul_scalar(lambdas.lambda_proto)
            + terms.itm.clone().mul_scalar(lambdas.lambda_itm)
            + confidence.clone().mul_scalar(lambda_conf)
            + ours.sched.clone().mul_scalar(lambdas.lambda_sched)
            + ours.rank.clone().mul_scalar(lambdas.lambda_rank);
        let mean_weights = items
            .weights
            .weights
            .clone()
            .detach()
            .mean_dim(0)
            .into_data()
            .convert::<f64>()
            .try_to_vec::<f64>()
            .expect("weights readback");
        let parts = LossParts {
            total: scalar(&loss),
            task: scalar(&terms.task),
            unimodal: scalar(&terms.unimodal),
            reg: scalar(&reg),
            proto: scalar(&proto),
            itm: scalar(&terms.itm),
            confidence: scalar(&confidence),
            sched: scalar(&ours.sched),
            rank: scalar(&ours.rank),
        };
        StepOutput {
            loss,
            parts,
            mean_weights,
        }
    }

    /// Fuses (item, caption) pairs for ITM: the item's modalities with its scheduled weights
    /// halved, and the caption as a third modality with weight one half.
    pub fn fuse_pairs(
        &self,
        pair_fusion: &mafs_fusion::QueryFusionHead,
        encoded: &[Encoded],
        weights: &FusionWeights,
        caption: &Encoded,
        item_idx: &[usize],
        caption_idx: &[usize],
    ) -> Fused {
        let device = caption.pooled.device();
        let n = item_idx.len();
        let to_tensor = |idx: &[usize]| {
            Tensor::<1, Int>::from_data(
                TensorData::new(idx.iter().map(|&i| i as i64).collect::<Vec<_>>(), [n]),
                &device,
            )
        };
        let items = to_tensor(item_idx);
        let caps = to_tensor(caption_idx);
        let mut pair_enc: Vec<Encoded> = encoded.iter().map(|e| select(e, &items)).collect();
        pair_enc.push(select(caption, &caps));
        let w_items = weights
            .weights
            .clone()
            .select(0, items.clone())
            .mul_scalar(0.5);
        let w = Tensor::cat(vec![w_items, Tensor::full([n, 1], 0.5, &device)], 1);
        let present = mafs_core::mask::presence_of(&pair_enc);
        let pair_weights = FusionWeights {
            weights: w.clone(),
            logits: w,
            present,
            signals: None,
            tau: weights.tau,
        };
        pair_fusion.fuse(&pair_enc, &pair_weights)
    }
}

/// The rows `idx` of an encoding.
pub fn select(e: &Encoded, idx: &Tensor<1, Int>) -> Encoded {
    let mut out = Encoded::new(
        e.name.clone(),
        e.tokens.clone().select(0, idx.clone()),
        select_bool(e.padding.clone(), idx),
        e.pooled.clone().select(0, idx.clone()),
        select_bool(e.present.clone(), idx),
    );
    if let Some(a) = &e.pool_attention {
        out = out.with_pool_attention(a.clone().select(0, idx.clone()));
    }
    if let Some(st) = &e.stem_stats {
        out = out.with_stem_stats(st.clone().select(0, idx.clone()));
    }
    out
}

use mafs_core::FusionHead as _;

/// `select` on a bool tensor through `Int`: burn-flex 0.22.1 stores a selected bool tensor as
/// `U8`, which its own `bool_not` then rejects ("only Bool(Native) and Bool(U8) are
/// supported, got U8"); comparing the selected ints gives a native bool again.
pub fn select_bool<const D: usize>(
    t: Tensor<D, burn::tensor::Bool>,
    idx: &Tensor<1, Int>,
) -> Tensor<D, burn::tensor::Bool> {
    t.int().select(0, idx.clone()).equal_elem(1)
}

/// `cat` of bool tensors through `Int`, for the same reason as [`select_bool`].
pub fn cat_bool<const D: usize>(
    parts: Vec<Tensor<D, burn::tensor::Bool>>,
    dim: usize,
) -> Tensor<D, burn::tensor::Bool> {
    Tensor::cat(parts.into_iter().map(|t| t.int()).collect(), dim).equal_elem(1)
}

#[cfg(test)]
mod tests {
    use super::LossParts;

    fn parts() -> LossParts {
        LossParts {
            total: 1.0,
            task: 2.0,
            unimodal: 3.0,
            reg: 4.0,
            proto: 5.0,
            itm: 6.0,
            confidence: 7.0,
            sched: 8.0,
            rank: 9.0,
        }
    }

    #[test]
    fn terms_carry_the_names_of_the_metrics_log() {
        let json = serde_json::to_value(parts()).unwrap();
        for (name, v) in parts().terms() {
            assert_eq!(json[name].as_f64(), Some(v), "{name}");
        }
        assert_eq!(json.as_object().unwrap().len(), parts().terms().len());
        assert_eq!(parts().term("sched"), Some(8.0));
        assert_eq!(parts().term("nope"), None);
    }

    #[test]
    fn sums_are_term_by_term() {
        let s = parts().add_scaled(&parts(), 0.5).scaled(2.0);
        for (name, v) in s.terms() {
            assert_eq!(v, 3.0 * parts().term(name).unwrap(), "{name}");
        }
    }

    #[test]
    fn checkpoint_sums_round_trip_and_older_checkpoints_load() {
        let p = parts();
        let v = p.to_checkpoint_sums();
        assert_eq!(v, (1..=9).map(f64::from).collect::<Vec<_>>());
        assert_eq!(LossParts::from_checkpoint_sums(&v), Some(p));
        // Written before `sched` and `rank` existed: seven terms, those two start at 0.
        let old = LossParts::from_checkpoint_sums(&v[..LossParts::LEGACY_TERMS]).unwrap();
        assert_eq!((old.confidence, old.sched, old.rank), (7.0, 0.0, 0.0));
        assert_eq!(LossParts::from_checkpoint_sums(&v[..8]), None);
    }
}
