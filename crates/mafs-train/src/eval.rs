//! Evaluation of a model on a split, on `model.valid()` (no autodiff graph), for each task:
//! retrieval (R@1/5/10 both ways and rsum, ITC ranking with ITM re-ranking of the top k),
//! captioning (BLEU-1..4, CIDEr-D, ROUGE-L as pycocoevalcap computes them) and VQA
//! (VQA v2 accuracy). It also summarises the fusion weights it saw, per modality.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use mafs_core::{Encoded, FusionWeights};
use mafs_data::dataset::CaptionDataset;
use mafs_data::{Instance, InstanceTransform};
use mafs_eval::metrics::retrieval::{Ranks, ranks_two_way};
use mafs_eval::metrics::{
    CaptionSample, CaptionScorer, HumanAnswer, RerankScore, TiePolicy, itm_rerank,
    retrieval_metrics_two_way, top_k, vqa_accuracy,
};
use mafs_eval::weights::{ModalityWeightShift, WeightEvidence, weight_shift};
use serde::{Deserialize, Serialize};

use crate::config::Task;
use crate::data::{TaskDataset, make_batcher, to_model_batch};
use crate::error::TrainError;
use crate::model::{MafsModel, ModelBatch, TaskModule, cat_bool};
use crate::vocabulary::Vocabulary;

/// Evaluation settings.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Batch size.
    pub batch_size: usize,
    /// Scheduler temperature (the end of training's).
    pub tau: f64,
    /// ITM re-ranking depth (0 = ITC only).
    pub rerank_k: usize,
    /// A corruption applied to every instance before batching.
    pub transform: Option<Arc<dyn InstanceTransform>>,
    /// Beam size for captioning (1 = greedy).
    pub beam_size: usize,
    /// Keep per-instance weights and signals in the report.
    pub per_instance: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            batch_size: 64,
            tau: 0.5,
            rerank_k: 16,
            transform: None,
            beam_size: 1,
            per_instance: false,
        }
    }
}

/// Per-instance fusion evidence (for weight distributions and `explain`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceWeights {
    /// Instance id.
    pub id: u64,
    /// Weight of each modality.
    pub weights: Vec<f32>,
    /// Signal values `[M][S]`.
    pub signals: Vec<Vec<f32>>,
    /// Presence of each modality.
    pub present: Vec<bool>,
    /// Whether the data pipeline corrupted, dropped or misaligned each modality (absent in
    /// reports written before it was recorded).
    #[serde(default)]
    pub corrupted: Vec<bool>,
}

/// One evaluated item's share of the headline metric, for paired tests over instances: the
/// mean of `score` over [`EvalReport::item_scores`] is `metrics["main"]`.
///
/// VQA: one per question (`sub` is the question's index in its instance), its VQA accuracy
/// in percent. Captioning: one per instance, its CIDEr-D. Retrieval: one per item, its
/// image → text hits at 1, 5 and 10 plus the text → image hits of its captions scaled by
/// `items / captions`, in percent, so that the mean is rsum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    /// Instance id.
    pub id: u64,
    /// Question index within the instance (VQA), else 0.
    pub sub: u32,
    /// The item's score.
    pub score: f64,
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Task.
    pub task: Task,
    /// Metric name → value (recalls in percent; caption metrics as pycocoevalcap reports
    /// them; VQA accuracy in percent). `main` is the task's headline metric.
    pub metrics: BTreeMap<String, f64>,
    /// Modality names in scheduler order.
    pub modalities: Vec<String>,
    /// Signal names in order.
    pub signal_names: Vec<String>,
    /// Mean weight of each modality over the instances that have it.
    pub mean_weights: Vec<f64>,
    /// Mean of each signal per modality `[M][S]` over the instances that have it.
    pub mean_signals: Vec<Vec<f64>>,
    /// Per-instance weights, when asked for.
    pub instances: Vec<InstanceWeights>,
    /// Number of evaluated items (instances or questions).
    pub n: usize,
    /// Each item's share of the headline metric, in evaluation order.
    #[serde(default)]
    pub item_scores: Vec<ItemScore>,
}

impl EvalReport {
    /// The headline metric (rsum, CIDEr, VQA accuracy).
    pub fn main(&self) -> f64 {
        self.metrics.get("main").copied().unwrap_or(f64::NAN)
    }

    /// The per-instance fusion evidence, for [`mafs_eval::weights::weight_shift`] (empty
    /// unless the evaluation kept per-instance weights).
    pub fn evidence(&self) -> WeightEvidence {
        let m = self.modalities.len();
        WeightEvidence {
            modalities: self.modalities.clone(),
            signal_names: self.signal_names.clone(),
            ids: self.instances.iter().map(|i| i.id).collect(),
            weights: self.instances.iter().map(|i| i.weights.clone()).collect(),
            signals: self.instances.iter().map(|i| i.signals.clone()).collect(),
            present: self.instances.iter().map(|i| i.present.clone()).collect(),
            corrupted: self
                .instances
                .iter()
                .map(|i| {
                    if i.corrupted.len() == m {
                        i.corrupted.clone()
                    } else {
                        vec![false; m]
                    }
                })
                .collect(),
        }
    }

    /// What this evaluation (under a condition) did to each modality's weight against
    /// `clean`, the same data evaluated clean; both must have kept per-instance weights.
    ///
    /// # Errors
    ///
    /// [`TrainError::Data`] when the evaluations cannot be paired.
    pub fn weight_shift(&self, clean: &EvalReport) -> Result<Vec<ModalityWeightShift>, TrainError> {
        weight_shift(&clean.evidence(), &self.evidence())
            .map_err(|e| TrainError::Data(e.to_string()))
    }
}

/// Accumulates fusion weights and signals over batches.
#[derive(Default)]
struct WeightStats {
    sum_w: Vec<f64>,
    sum_s: Vec<Vec<f64>>,
    count: Vec<f64>,
    instances: Vec<InstanceWeights>,
    signal_names: Vec<String>,
}

impl WeightStats {
    fn add(&mut self, batch: &ModelBatch, modalities: &[String], w: &FusionWeights, keep: bool) {
        let ids = &batch.ids;
        let corrupted = batch.corrupted_rows(modalities);
        let [b, m] = w.dims();
        let weights = w
            .weights
            .clone()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("weights");
        let present = w
            .present
            .clone()
            .into_data()
            .try_to_vec::<bool>()
            .expect("presence");
        let (s_dim, signals) = match &w.signals {
            Some(s) => {
                if self.signal_names.is_empty() {
                    self.signal_names = s.names.clone();
                }
                (
                    s.len(),
                    s.values
                        .clone()
                        .into_data()
                        .convert::<f32>()
                        .try_to_vec::<f32>()
                        .expect("signals"),
                )
            }
            None => (0, Vec::new()),
        };
        if self.sum_w.is_empty() {
            self.sum_w = vec![0.0; m];
            self.count = vec![0.0; m];
            self.sum_s = vec![vec![0.0; s_dim]; m];
        }
        for i in 0..b {
            for j in 0..m {
                if present[i * m + j] {
                    self.sum_w[j] += weights[i * m + j] as f64;
                    self.count[j] += 1.0;
                    for k in 0..s_dim {
                        self.sum_s[j][k] += signals[(i * m + j) * s_dim + k] as f64;
                    }
                }
            }
            if keep {
                self.instances.push(InstanceWeights {
                    id: ids[i],
                    weights: weights[i * m..(i + 1) * m].to_vec(),
                    signals: (0..m)
                        .map(|j| signals[(i * m + j) * s_dim..(i * m + j + 1) * s_dim].to_vec())
                        .collect(),
                    present: present[i * m..(i + 1) * m].to_vec(),
                    corrupted: corrupted[i].clone(),
                });
            }
        }
    }

    fn means(&self) -> (Vec<f64>, Vec<Vec<f64>>) {
        let w = self
            .sum_w
            .iter()
            .zip(&self.count)
            .map(|(s, c)| if *c > 0.0 { s / c } else { 0.0 })
            .collect();
        let s = self
            .sum_s
            .iter()
            .zip(&self.count)
            .map(|(row, c)| {
                row.iter()
                    .map(|v| if *c > 0.0 { v / c } else { 0.0 })
                    .collect()
            })
            .collect();
        (w, s)
    }
}

fn batches(n: usize, bs: usize) -> impl Iterator<Item = Vec<usize>> {
    (0..n.div_ceil(bs)).map(move |k| (k * bs..((k + 1) * bs).min(n)).collect())
}

/// Evaluates `model` (switched to `valid()` here) on `instances`.
pub fn evaluate(
    model: &MafsModel,
    instances: Vec<Instance>,
    vocab: &Vocabulary,
    opts: &EvalOptions,
    device: &Device,
) -> Result<EvalReport, TrainError> {
    if instances.is_empty() {
        return Err(TrainError::Data("evaluation split is empty".into()));
    }
    let model = model.valid();
    let spec = &model.spec;
    let batcher = make_batcher(
        vocab,
        spec.image_size as u32,
        spec.context_length,
        opts.transform.clone(),
    );
    let mut stats = WeightStats::default();
    let mut metrics = BTreeMap::new();
    let mut item_scores = Vec::new();
    let n;
    match spec.task {
        Task::Retrieval => {
            let items = TaskDataset::Caption(CaptionDataset::per_instance(instances.clone()));
            let captions = TaskDataset::Caption(CaptionDataset::new(instances));
            n = items.len();
            let mut item_enc: Vec<Vec<Encoded>> = Vec::new();
            let mut item_w: Vec<FusionWeights> = Vec::new();
            let mut item_pooled = Vec::new();
            let mut item_ids: Vec<u64> = Vec::new();
            for idx in batches(items.len(), opts.batch_size) {
                let batch = to_model_batch(items.batch(&batcher, &idx, 0, device));
                let f = model.forward_items(&batch, opts.tau, true);
                stats.add(&batch, &spec.modalities, &f.weights, opts.per_instance);
                item_ids.extend(&batch.ids);
                item_pooled.push(f.fused.pooled.clone());
                item_enc.push(f.encoded);
                item_w.push(f.weights);
            }
            let mut cap_enc: Vec<Encoded> = Vec::new();
            let mut cap_ids: Vec<u64> = Vec::new();
            for idx in batches(captions.len(), opts.batch_size) {
                let batch: ModelBatch = to_model_batch(captions.batch(&batcher, &idx, 0, device));
                cap_ids.extend(&batch.ids);
                cap_enc.push(model.encode_text(batch.caption.as_ref().expect("captions")));
            }
            let id_to_item: BTreeMap<u64, usize> = item_ids
                .iter()
                .enumerate()
                .map(|(i, &id)| (id, i))
                .collect();
            let caption_to_item: Vec<usize> = cap_ids.iter().map(|id| id_to_item[id]).collect();
            let TaskModule::Retrieval(heads) = &model.head else {
                unreachable!("retrieval spec with a retrieval head")
            };
            let items_all = Tensor::cat(item_pooled, 0);
            let caps_all = Tensor::cat(cap_enc.iter().map(|e| e.pooled.clone()).collect(), 0);
            let sim = heads.itc.similarity(items_all, caps_all);
            let [ni, nc] = sim.dims();
            let i2t: Vec<f32> = sim
                .clone()
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("sim");
            let mut t2i = vec![0.0f32; nc * ni];
            for i in 0..ni {
                for c in 0..nc {
                    t2i[c * ni + i] = i2t[i * nc + c];
                }
            }
            let itc_metrics = retrieval_metrics_two_way(&i2t, &t2i, ni, &caption_to_item)
                .map_err(|e| TrainError::Data(e.to_string()))?;
            let (final_i2t, final_t2i, reranked) = match (&heads.itm, &model.itm_fusion) {
                (Some(itm), Some(pair_fusion)) if opts.rerank_k > 0 => {
                    let items_cat = cat_encoded(&item_enc);
                    let w_cat = cat_weights(&item_w);
                    let cap_cat = concat_one(&cap_enc);
                    let k = opts.rerank_k;
                    let score = |pairs: &[(usize, usize)]| -> Vec<f32> {
                        let mut out = Vec::with_capacity(pairs.len());
                        for chunk in pairs.chunks(256) {
                            let it: Vec<usize> = chunk.iter().map(|p| p.0).collect();
                            let ca: Vec<usize> = chunk.iter().map(|p| p.1).collect();
                            let fused = model.fuse_pairs(
                                pair_fusion,
                                &items_cat,
                                &w_cat,
                                &cap_cat,
                                &it,
                                &ca,
                            );
                            out.extend(
                                itm.itm_scores(fused.pooled)
                                    .into_data()
                                    .convert::<f32>()
                                    .try_to_vec::<f32>()
                                    .expect("itm"),
                            );
                        }
                        out
                    };
                    let mut new_i2t = Vec::with_capacity(i2t.len());
                    for i in 0..ni {
                        let row = &i2t[i * nc..(i + 1) * nc];
                        let top = top_k(row, k);
                        let pairs: Vec<(usize, usize)> = top.iter().map(|&c| (i, c)).collect();
                        let s = score(&pairs);
                        new_i2t.extend(
                            itm_rerank(row, &top, &s, RerankScore::ItmPlusItc)
                                .map_err(|e| TrainError::Data(e.to_string()))?,
                        );
                    }
                    let mut new_t2i = Vec::with_capacity(t2i.len());
                    for c in 0..nc {
                        let row = &t2i[c * ni..(c + 1) * ni];
                        let top = top_k(row, k);
                        let pairs: Vec<(usize, usize)> = top.iter().map(|&i| (i, c)).collect();
                        let s = score(&pairs);
                        new_t2i.extend(
                            itm_rerank(row, &top, &s, RerankScore::ItmPlusItc)
                                .map_err(|e| TrainError::Data(e.to_string()))?,
                        );
                    }
                    (new_i2t, new_t2i, true)
                }
                _ => (i2t, t2i, false),
            };
            let ranks = ranks_two_way(
                &final_i2t,
                &final_t2i,
                ni,
                &caption_to_item,
                TiePolicy::default(),
            )
            .map_err(|e| TrainError::Data(e.to_string()))?;
            let m = ranks.metrics();
            item_scores = retrieval_item_scores(&ranks, &item_ids, &caption_to_item);
            for (k, v) in [
                ("i2t_r1", m.i2t_r1),
                ("i2t_r5", m.i2t_r5),
                ("i2t_r10", m.i2t_r10),
                ("t2i_r1", m.t2i_r1),
                ("t2i_r5", m.t2i_r5),
                ("t2i_r10", m.t2i_r10),
                ("rsum", m.rsum),
                ("itc_rsum", itc_metrics.rsum),
                ("main", m.rsum),
            ] {
                metrics.insert(k.to_string(), v);
            }
            metrics.insert("reranked".into(), if reranked { 1.0 } else { 0.0 });
        }
        Task::Captioning => {
            let data = TaskDataset::Caption(CaptionDataset::per_instance(instances.clone()));
            n = data.len();
            let TaskModule::Captioning(heads) = &model.head else {
                unreachable!("captioning spec with a captioning head")
            };
            let mut gen_cfg = heads.decoder.generation.clone();
            gen_cfg.beam_size = opts.beam_size.max(1);
            let mut samples = Vec::with_capacity(n);
            for idx in batches(data.len(), opts.batch_size) {
                let batch = to_model_batch(data.batch(&batcher, &idx, 0, device));
                let f = model.forward_items(&batch, opts.tau, true);
                stats.add(&batch, &spec.modalities, &f.weights, opts.per_instance);
                let hyps = heads.decoder.generate(&f.fused, &gen_cfg);
                for ((row, h), id) in idx.iter().zip(hyps).zip(&batch.ids) {
                    item_scores.push(ItemScore {
                        id: *id,
                        sub: 0,
                        score: f64::NAN,
                    });
                    let tokens = h.first().map(|h| h.tokens.clone()).unwrap_or_default();
                    samples.push(CaptionSample {
                        candidate: vocab.tokenizer.decode(&tokens),
                        references: instances[*row].captions.clone(),
                    });
                }
            }
            let scores = CaptionScorer::new()
                .score(&samples)
                .map_err(|e| TrainError::Data(e.to_string()))?;
            for (item, s) in item_scores.iter_mut().zip(&scores.per_item) {
                item.score = s.cider;
            }
            for (k, v) in scores.named() {
                metrics.insert(k.to_string(), v);
            }
            metrics.insert("main".into(), scores.cider);
        }
        Task::Vqa => {
            let data = TaskDataset::new(Task::Vqa, instances, &vocab.answers);
            n = data.len();
            let TaskModule::Vqa(heads) = &model.head else {
                unreachable!("vqa spec with a vqa head")
            };
            let TaskDataset::Vqa(vqa) = &data else {
                unreachable!()
            };
            let mut acc_sum = 0.0;
            let mut per_type: BTreeMap<String, (f64, f64)> = BTreeMap::new();
            let mut k = 0usize;
            for idx in batches(data.len(), opts.batch_size) {
                let batch = to_model_batch(data.batch(&batcher, &idx, 0, device));
                let f = model.forward_items(&batch, opts.tau, true);
                stats.add(&batch, &spec.modalities, &f.weights, opts.per_instance);
                let pred = mafs_core::TaskHead::predict(&heads.answer, &f.fused);
                let ids = pred
                    .answer_ids
                    .into_data()
                    .convert::<i64>()
                    .try_to_vec::<i64>()
                    .expect("ids");
                for (row, id) in idx.iter().zip(ids) {
                    let item = burn::data::dataset::Dataset::get(vqa, *row).expect("item");
                    let qa = &item.instance.questions[item.question];
                    let answer = vocab.answers.answer(id as u32).unwrap_or("");
                    let acc = 100.0 * vqa_accuracy(answer, &HumanAnswer::numbered(&qa.answers));
                    item_scores.push(ItemScore {
                        id: item.instance.id,
                        sub: item.question as u32,
                        score: acc,
                    });
                    acc_sum += acc;
                    let e = per_type
                        .entry(qa.question_type.clone())
                        .or_insert((0.0, 0.0));
                    e.0 += acc;
                    e.1 += 1.0;
                    k += 1;
                }
            }
            let overall = acc_sum / k.max(1) as f64;
            metrics.insert("accuracy".into(), overall);
            for (t, (s, c)) in per_type {
                metrics.insert(format!("accuracy_{t}"), s / c);
            }
            metrics.insert("main".into(), overall);
        }
    }
    let (mean_weights, mean_signals) = stats.means();
    Ok(EvalReport {
        task: spec.task,
        metrics,
        modalities: spec.modalities.clone(),
        signal_names: stats.signal_names.clone(),
        mean_weights,
        mean_signals,
        instances: stats.instances,
        n,
        item_scores,
    })
}

/// Per-item shares of rsum (see [`ItemScore`]).
fn retrieval_item_scores(
    ranks: &Ranks,
    item_ids: &[u64],
    caption_to_item: &[usize],
) -> Vec<ItemScore> {
    let hits = |r: usize| [1, 5, 10].iter().filter(|&&k| r < k).count() as f64;
    let scale = item_ids.len() as f64 / caption_to_item.len().max(1) as f64;
    let mut t2i = vec![0.0; item_ids.len()];
    for (c, &i) in caption_to_item.iter().enumerate() {
        t2i[i] += hits(ranks.t2i[c]);
    }
    item_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| ItemScore {
            id,
            sub: 0,
            score: 100.0 * (hits(ranks.i2t[i]) + scale * t2i[i]),
        })
        .collect()
}

/// Concatenates per-batch encodings of each modality along the batch.
fn cat_encoded(batches: &[Vec<Encoded>]) -> Vec<Encoded> {
    let m = batches[0].len();
    (0..m)
        .map(|j| concat_one(&batches.iter().map(|b| b[j].clone()).collect::<Vec<_>>()))
        .collect()
}

/// Concatenates encodings of one modality along the batch (token counts may differ between
/// batches for texts: shorter ones are padded).
fn concat_one(parts: &[Encoded]) -> Encoded {
    let n_max = parts.iter().map(|e| e.dims()[1]).max().unwrap_or(1);
    let padded: Vec<Encoded> = parts.iter().map(|e| pad_tokens(e, n_max)).collect();
    let mut out = Encoded::new(
        padded[0].name.clone(),
        Tensor::cat(padded.iter().map(|e| e.tokens.clone()).collect(), 0),
        cat_bool(padded.iter().map(|e| e.padding.clone()).collect(), 0),
        Tensor::cat(padded.iter().map(|e| e.pooled.clone()).collect(), 0),
        cat_bool(padded.iter().map(|e| e.present.clone()).collect(), 0),
    );
    if padded.iter().all(|e| e.stem_stats.is_some()) {
        out = out.with_stem_stats(Tensor::cat(
            padded
                .iter()
                .map(|e| e.stem_stats.clone().expect("checked"))
                .collect(),
            0,
        ));
    }
    if padded.iter().all(|e| e.pool_attention.is_some()) {
        out = out.with_pool_attention(Tensor::cat(
            padded
                .iter()
                .map(|e| e.pool_attention.clone().expect("checked"))
                .collect(),
            0,
        ));
    }
    out
}

fn pad_tokens(e: &Encoded, n: usize) -> Encoded {
    let [b, t, d] = e.dims();
    if t == n {
        return e.clone();
    }
    let device = e.tokens.device();
    let tokens = Tensor::cat(
        vec![e.tokens.clone(), Tensor::zeros([b, n - t, d], &device)],
        1,
    );
    let padding = cat_bool(
        vec![
            e.padding.clone(),
            Tensor::<2, Int>::ones([b, n - t], &device).equal_elem(1),
        ],
        1,
    );
    let mut out = Encoded::new(
        e.name.clone(),
        tokens,
        padding,
        e.pooled.clone(),
        e.present.clone(),
    );
    if let Some(a) = &e.pool_attention {
        out = out.with_pool_attention(Tensor::cat(
            vec![a.clone(), Tensor::zeros([b, n - t], &device)],
            1,
        ));
    }
    if let Some(st) = &e.stem_stats {
        out = out.with_stem_stats(st.clone());
    }
    out
}

fn cat_weights(parts: &[FusionWeights]) -> FusionWeights {
    FusionWeights {
        weights: Tensor::cat(parts.iter().map(|w| w.weights.clone()).collect(), 0),
        logits: Tensor::cat(parts.iter().map(|w| w.logits.clone()).collect(), 0),
        present: cat_bool(parts.iter().map(|w| w.present.clone()).collect(), 0),
        signals: None,
        tau: parts[0].tau,
    }
}
