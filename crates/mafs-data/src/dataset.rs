//! burn `Dataset`s over instances, one per task:
//! [`CaptionDataset`] (retrieval and captioning: one item per (instance, caption)) and
//! [`VqaDataset`] (one item per (instance, question)). Items share their instance through an
//! `Arc`, so an item is cheap to clone.

use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};

use crate::Instance;
use crate::answers::AnswerVocab;

/// One (instance, caption) pair. `caption = None` asks for the instance alone (e.g. the
/// gallery side of retrieval evaluation).
#[derive(Debug, Clone)]
pub struct CaptionItem {
    /// The instance.
    pub instance: Arc<Instance>,
    /// Index into `instance.captions`.
    pub caption: Option<usize>,
}

/// One (instance, question) pair.
#[derive(Debug, Clone)]
pub struct VqaItem {
    /// The instance.
    pub instance: Arc<Instance>,
    /// Index into `instance.questions`.
    pub question: usize,
}

/// Retrieval / captioning items.
#[derive(Debug, Clone)]
pub struct CaptionDataset {
    instances: Vec<Arc<Instance>>,
    items: Vec<(u32, Option<u32>)>,
}

impl CaptionDataset {
    /// One item per (instance, caption), instance by instance.
    pub fn new(instances: Vec<Instance>) -> Self {
        let instances: Vec<Arc<Instance>> = instances.into_iter().map(Arc::new).collect();
        let items = instances
            .iter()
            .enumerate()
            .flat_map(|(i, inst)| (0..inst.captions.len()).map(move |c| (i as u32, Some(c as u32))))
            .collect();
        Self { instances, items }
    }

    /// One item per instance, with its first caption (or none when it has none).
    pub fn per_instance(instances: Vec<Instance>) -> Self {
        let instances: Vec<Arc<Instance>> = instances.into_iter().map(Arc::new).collect();
        let items = instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (i as u32, (!inst.captions.is_empty()).then_some(0)))
            .collect();
        Self { instances, items }
    }

    /// The instances.
    pub fn instances(&self) -> &[Arc<Instance>] {
        &self.instances
    }
}

impl Dataset<CaptionItem> for CaptionDataset {
    /// # Panics
    ///
    /// Panics if `index >= len()`, as burn's `InMemDataset` does.
    fn get(&self, index: usize) -> Result<CaptionItem, DatasetError> {
        let len = self.items.len();
        let &(i, c) = self
            .items
            .get(index)
            .unwrap_or_else(|| panic!("CaptionDataset: index {index} >= {len}"));
        Ok(CaptionItem {
            instance: self.instances[i as usize].clone(),
            caption: c.map(|c| c as usize),
        })
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// VQA items.
#[derive(Debug, Clone)]
pub struct VqaDataset {
    instances: Vec<Arc<Instance>>,
    items: Vec<(u32, u32)>,
    dropped: usize,
}

impl VqaDataset {
    /// One item per (instance, question). With a vocabulary that has no unknown class,
    /// questions whose answer is outside it are left out (as VQA training usually does);
    /// [`VqaDataset::dropped`] says how many.
    pub fn new(instances: Vec<Instance>, vocab: Option<&AnswerVocab>) -> Self {
        let instances: Vec<Arc<Instance>> = instances.into_iter().map(Arc::new).collect();
        let mut items = Vec::new();
        let mut dropped = 0;
        for (i, inst) in instances.iter().enumerate() {
            for (k, q) in inst.questions.iter().enumerate() {
                if vocab.is_some_and(|v| v.id(&q.answer).is_none()) {
                    dropped += 1;
                } else {
                    items.push((i as u32, k as u32));
                }
            }
        }
        Self {
            instances,
            items,
            dropped,
        }
    }

    /// Questions left out because their answer is not in the vocabulary.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// The instances.
    pub fn instances(&self) -> &[Arc<Instance>] {
        &self.instances
    }
}

impl Dataset<VqaItem> for VqaDataset {
    /// # Panics
    ///
    /// Panics if `index >= len()`, as burn's `InMemDataset` does.
    fn get(&self, index: usize) -> Result<VqaItem, DatasetError> {
        let len = self.items.len();
        let &(i, q) = self
            .items
            .get(index)
            .unwrap_or_else(|| panic!("VqaDataset: index {index} >= {len}"));
        Ok(VqaItem {
            instance: self.instances[i as usize].clone(),
            question: q as usize,
        })
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}
