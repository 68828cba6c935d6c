//! The data side of a run: instances per split, the task's dataset view, the batcher (with
//! the run's [`Vocabulary`]), and the conversion of a [`MultimodalBatch`] into the model's
//! [`ModelBatch`].

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::Dataset;
use burn::tensor::Device;
use mafs_data::answers::AnswerVocab;
use mafs_data::batcher::{BatcherConfig, MultimodalBatch, MultimodalBatcher};
use mafs_data::dataset::{CaptionDataset, CaptionItem, VqaDataset, VqaItem};
use mafs_data::{Instance, InstanceTransform, Split};
use mafs_heads::{CaptionTarget, VqaTarget};

use crate::config::{DataSource, Task};
use crate::error::TrainError;
use crate::model::ModelBatch;
use crate::seed::mix;

/// The run's vocabulary (moved to [`crate::vocabulary`]; this path stays for callers).
pub use crate::vocabulary::Vocabulary;

/// Instances of every split a source provides (see [`mafs_data::source`] for every format).
pub fn load_splits(
    source: &DataSource,
    image_size: u32,
) -> Result<BTreeMap<Split, Vec<Instance>>, TrainError> {
    let (out, _report) =
        mafs_data::source::load_splits(source, &mafs_data::source::LoadOptions::new(image_size))
            .map_err(|e| TrainError::Data(e.to_string()))?;
    if out.get(&Split::Train).is_none_or(|v| v.is_empty()) {
        return Err(TrainError::Data(format!(
            "{source:?}: the training split is empty"
        )));
    }
    Ok(out)
}

/// One split of a source, for evaluating a run on data other than its own; an empty split
/// is an error naming the source.
pub fn load_split(
    source: &DataSource,
    split: Split,
    image_size: u32,
) -> Result<Vec<Instance>, TrainError> {
    let opts = mafs_data::source::LoadOptions {
        splits: Some(vec![split]),
        ..mafs_data::source::LoadOptions::new(image_size)
    };
    let (mut out, _report) = mafs_data::source::load_splits(source, &opts)
        .map_err(|e| TrainError::Data(e.to_string()))?;
    out.remove(&split)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TrainError::Data(format!("{source:?} has no `{split}` split")))
}

/// The task's dataset over a split.
///
/// - `Caption` / `Vqa`: one item per (instance, caption) or (instance, question), the
///   evaluation view and the `all_pairs` training view;
/// - `Sampled`: one item per instance, whose caption or question is drawn afresh each epoch
///   from (seed, epoch, instance), the default training view (an epoch is one pass over the
///   scenes, not five passes over the same images).
pub enum TaskDataset {
    /// Captions.
    Caption(CaptionDataset),
    /// Questions.
    Vqa(VqaDataset),
    /// One item per instance, caption or question sampled per epoch.
    Sampled {
        /// The task (which text is sampled).
        task: Task,
        /// The instances that have something to sample.
        instances: Vec<Arc<Instance>>,
        /// Seed of the draws.
        seed: u64,
    },
}

impl TaskDataset {
    /// The every-pair dataset of `task` over `instances`.
    pub fn new(task: Task, instances: Vec<Instance>, answers: &AnswerVocab) -> Self {
        match task {
            Task::Retrieval | Task::Captioning => {
                TaskDataset::Caption(CaptionDataset::new(instances))
            }
            Task::Vqa => TaskDataset::Vqa(VqaDataset::new(instances, Some(answers))),
        }
    }

    /// The sampled (one item per instance per epoch) dataset of `task`.
    pub fn sampled(task: Task, instances: Vec<Instance>, seed: u64) -> Self {
        let instances = instances
            .into_iter()
            .filter(|i| match task {
                Task::Vqa => !i.questions.is_empty(),
                _ => !i.captions.is_empty(),
            })
            .map(Arc::new)
            .collect();
        TaskDataset::Sampled {
            task,
            instances,
            seed,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            TaskDataset::Caption(d) => d.len(),
            TaskDataset::Vqa(d) => d.len(),
            TaskDataset::Sampled { instances, .. } => instances.len(),
        }
    }

    /// Whether there is no item.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Batches the items at `indices` (`epoch` drives the sampled view's draws).
    pub fn batch(
        &self,
        batcher: &MultimodalBatcher,
        indices: &[usize],
        epoch: usize,
        device: &Device,
    ) -> MultimodalBatch {
        match self {
            TaskDataset::Caption(d) => {
                let items: Vec<CaptionItem> = indices
                    .iter()
                    .map(|&i| d.get(i).expect("index within the dataset"))
                    .collect();
                batcher.batch(items, device)
            }
            TaskDataset::Vqa(d) => {
                let items: Vec<VqaItem> = indices
                    .iter()
                    .map(|&i| d.get(i).expect("index within the dataset"))
                    .collect();
                batcher.batch(items, device)
            }
            TaskDataset::Sampled {
                task,
                instances,
                seed,
            } => {
                let draw = |inst: &Instance, n: usize| {
                    (mix(*seed ^ inst.id, 0x5A3B + epoch as u64) % n as u64) as usize
                };
                match task {
                    Task::Vqa => {
                        let items: Vec<VqaItem> = indices
                            .iter()
                            .map(|&i| {
                                let inst = &instances[i];
                                VqaItem {
                                    instance: inst.clone(),
                                    question: draw(inst, inst.questions.len()),
                                }
                            })
                            .collect();
                        batcher.batch(items, device)
                    }
                    _ => {
                        let items: Vec<CaptionItem> = indices
                            .iter()
                            .map(|&i| {
                                let inst = &instances[i];
                                CaptionItem {
                                    instance: inst.clone(),
                                    caption: Some(draw(inst, inst.captions.len())),
                                }
                            })
                            .collect();
                        batcher.batch(items, device)
                    }
                }
            }
        }
    }
}

/// The batcher of a run: sizes from the model, vocabulary from the run, an optional
/// transform (corruption-aware augmentation in training, a corruption spec at evaluation).
pub fn make_batcher(
    vocab: &Vocabulary,
    image_size: u32,
    context_length: usize,
    transform: Option<Arc<dyn InstanceTransform>>,
) -> MultimodalBatcher {
    let cfg = BatcherConfig {
        image_size,
        max_caption_len: context_length,
        max_side_text_len: context_length,
        max_question_len: context_length,
        add_bos_eos: vocab.wraps_text(),
        ..BatcherConfig::default()
    };
    let mut b =
        MultimodalBatcher::new(cfg, vocab.tokenizer.clone()).with_answers(vocab.answers.clone());
    if let Some(t) = transform {
        b = b.with_transform(t);
    }
    b
}

/// Converts the batcher's output into the model's batch.
pub fn to_model_batch(batch: MultimodalBatch) -> ModelBatch {
    let caption_target = batch
        .caption_targets
        .map(|t| CaptionTarget::new(t.input_ids, t.target_ids, t.padding));
    let answers = batch.answers.map(|ids| VqaTarget {
        answer_ids: ids,
        scores: batch.answer_scores,
    });
    ModelBatch {
        ids: batch.ids,
        image: batch.image,
        side_text: batch.side_text,
        caption: Some(batch.caption),
        caption_target,
        question: batch.question,
        answers,
    }
}
