//! Batches from the committed world fixture through burn's data loader: shapes, masks and
//! missing modalities.

use std::path::PathBuf;
use std::sync::Arc;

use burn::data::dataloader::DataLoaderBuilder;
use burn::tensor::Device;
use mafs_core::ModalityInput;
use mafs_data::answers::AnswerVocab;
use mafs_data::batcher::{BatcherConfig, MultimodalBatch, MultimodalBatcher, word_tokenizer_for};
use mafs_data::dataset::{CaptionDataset, VqaDataset};
use mafs_data::export::{ExportLoadOptions, load_export};
use mafs_data::tokenizer::{TextTokenizer, WordTokenizerConfig};
use mafs_data::{Instance, InstanceTransform};

fn fixture() -> Vec<Instance> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/fixtures/world");
    load_export(&dir, &ExportLoadOptions::default()).unwrap().0
}

#[derive(Debug)]
struct DropAll;
impl InstanceTransform for DropAll {
    fn apply(&self, instance: &mut Instance, _salt: u64) {
        instance.image = None;
        instance.side_text = None;
    }
}

fn batcher(train: &[Instance]) -> (MultimodalBatcher, Arc<AnswerVocab>) {
    let tok = word_tokenizer_for(train, &WordTokenizerConfig::default());
    let vocab = Arc::new(AnswerVocab::from_instances(train, 50, true));
    let cfg = BatcherConfig {
        image_size: 16,
        ..BatcherConfig::default()
    };
    (
        MultimodalBatcher::new(cfg, Arc::new(TextTokenizer::Word(tok))).with_answers(vocab.clone()),
        vocab,
    )
}

#[test]
fn vqa_loader_with_workers_gives_shapes_and_scores() {
    let all = fixture();
    let (b, vocab) = batcher(&all);
    let ds = VqaDataset::new(all, Some(&vocab));
    let loader = DataLoaderBuilder::new(b)
        .batch_size(4)
        .num_workers(2)
        .set_device(Device::flex())
        .build(ds);
    let mut n = 0;
    for batch in loader.iter() {
        let batch: MultimodalBatch = batch.unwrap();
        let bs = batch.ids.len();
        n += bs;
        let ModalityInput::Image(img) = &batch.image.input else {
            panic!("image input")
        };
        assert_eq!(img.dims(), [bs, 3, 16, 16]);
        assert_eq!(batch.question.as_ref().unwrap().batch_size(), bs);
        assert_eq!(batch.answers.as_ref().unwrap().dims(), [bs]);
        assert_eq!(
            batch.answer_scores.as_ref().unwrap().dims(),
            [bs, vocab.len()]
        );
        assert_eq!(batch.side_text.name, "side_text");
    }
    assert_eq!(n, 27);
}

#[test]
fn a_transform_that_drops_modalities_gives_absent_zero_slots() {
    let all = fixture();
    let (b, _) = batcher(&all);
    let b = b.with_transform(Arc::new(DropAll));
    let loader = DataLoaderBuilder::new(b)
        .batch_size(3)
        .set_device(Device::flex())
        .build(CaptionDataset::per_instance(all));
    for batch in loader.iter() {
        let batch: MultimodalBatch = batch.unwrap();
        let present: Vec<bool> = batch.image.present.into_data().try_into_vec_as().unwrap();
        assert!(present.iter().all(|p| !p));
        let side: Vec<bool> = batch
            .side_text
            .present
            .into_data()
            .try_into_vec_as()
            .unwrap();
        assert!(side.iter().all(|p| !p));
        let ModalityInput::Image(img) = batch.image.input else {
            panic!("image input")
        };
        let max: f32 = img.abs().max().into_scalar();
        assert_eq!(max, 0.0, "absent images are zeros, not grey");
        let caption: Vec<bool> = batch.caption.present.into_data().try_into_vec_as().unwrap();
        assert!(caption.iter().all(|p| *p), "captions stay");
    }
}
