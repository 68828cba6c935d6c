//! A new task head, added by implementing `TaskHead` alone, trains end to end through the
//! MA-AFS scheduler and query fusion on the built-in world (docs/extending.md).
//!
//! The toy task: count the objects of a scene (1-4) from its image and side text.

use std::sync::Arc;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Device, Int, Tensor, TensorData};
use mafs_core::{Fused, FusionHead, ModalityEncoder, Scheduler, SignalContext, TaskHead};
use mafs_data::Split;
use mafs_data::batcher::{BatcherConfig, MultimodalBatcher, word_tokenizer_for};
use mafs_data::dataset::CaptionItem;
use mafs_data::tokenizer::{TextTokenizer, WordTokenizerConfig};
use mafs_data::world::{World, WorldConfig};
use mafs_encoders::EncoderPreset;
use mafs_fusion::QueryFusionConfig;
use mafs_scheduler::MlpSchedulerConfig;
use mafs_signals::{PrototypeEntropyConfig, SignalKind, SignalStack};

/// Counts the objects in a scene: a classifier over 1..=4.
#[derive(Module, Debug)]
struct CountHead {
    out: Linear,
}

impl TaskHead for CountHead {
    type Target = Tensor<1, Int>;
    type Output = Tensor<1, Int>;

    fn task(&self) -> &str {
        "count"
    }

    fn loss(&self, fused: &Fused, target: &Tensor<1, Int>) -> Tensor<1> {
        mafs_heads::loss::cross_entropy(self.out.forward(fused.pooled.clone()), target.clone())
    }

    fn predict(&self, fused: &Fused) -> Tensor<1, Int> {
        let logits = self.out.forward(fused.pooled.clone());
        let [b, _] = logits.dims();
        logits.argmax(1).reshape([b])
    }
}

#[derive(Module, Debug)]
struct ToyModel {
    image: mafs_encoders::ImageVit,
    text: mafs_encoders::TextTransformer,
    prototypes: mafs_signals::PrototypeEntropy,
    scheduler: mafs_scheduler::MlpScheduler,
    fusion: mafs_fusion::QueryFusionHead,
    head: CountHead,
}

#[test]
fn a_new_task_head_trains_end_to_end() {
    let device = Device::flex().autodiff();
    device.seed(1);
    let mut cfg = WorldConfig::tiny(32, 1);
    cfg.image_size = 32;
    let world = World::new(cfg).unwrap();
    let n = world.len(Split::Train);
    let instances: Vec<_> = (0..n).map(|i| world.generate(Split::Train, i)).collect();
    let counts: Vec<i64> = instances
        .iter()
        .map(|g| g.scene.objects.len() as i64 - 1)
        .collect();
    let train: Vec<_> = instances.iter().map(|g| g.instance.clone()).collect();
    let tokenizer = word_tokenizer_for(&train, &WordTokenizerConfig::default());
    let vocab = tokenizer.vocab_size();
    let batcher = MultimodalBatcher::new(
        BatcherConfig {
            image_size: 32,
            max_side_text_len: 16,
            max_caption_len: 16,
            ..BatcherConfig::default()
        },
        Arc::new(TextTokenizer::Word(tokenizer)),
    );
    let preset = EncoderPreset::named("micro")
        .unwrap()
        .with_image_size(32)
        .with_vocab_size(vocab);
    let d = preset.embed_dim;
    let signal_kinds = [SignalKind::PrototypeEntropy, SignalKind::AgreementCosine];
    let mut model = ToyModel {
        image: preset.image_encoder(&device),
        text: preset.text_encoder("side_text", &device),
        prototypes: PrototypeEntropyConfig::new(d).init(&device),
        scheduler: MlpSchedulerConfig::new(
            signal_kinds.iter().map(|k| k.name().to_string()).collect(),
        )
        .init(&device),
        fusion: QueryFusionConfig::new(vec![d, d], d)
            .with_layers(1)
            .init(&device),
        head: CountHead {
            out: LinearConfig::new(d, 4).init(&device),
        },
    };
    let items: Vec<CaptionItem> = train
        .iter()
        .map(|i| CaptionItem {
            instance: Arc::new(i.clone()),
            caption: None,
        })
        .collect();
    let batch = burn::data::dataloader::batcher::Batcher::batch(&batcher, items, &device);
    let target = Tensor::<1, Int>::from_data(TensorData::new(counts.clone(), [n]), &device);

    let forward = |m: &ToyModel| {
        let encoded = vec![
            m.image.encode(&batch.image),
            m.text.encode(&batch.side_text),
        ];
        let stack = SignalStack::from_kinds(&signal_kinds, Some(&m.prototypes)).unwrap();
        let signals = stack.compute(&SignalContext::new(&encoded));
        let weights = m.scheduler.schedule(&encoded, &signals, 1.0);
        m.fusion.fuse(&encoded, &weights)
    };
    let mut optim = AdamWConfig::new().init();
    let first = m_loss(&model, &forward, &target);
    for _ in 0..60 {
        let fused = forward(&model);
        let loss = model.head.loss(&fused, &target);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model, grads);
    }
    let last = m_loss(&model, &forward, &target);
    let predicted = model
        .head
        .predict(&forward(&model))
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    let accuracy = predicted
        .iter()
        .zip(&counts)
        .filter(|(p, c)| p == c)
        .count() as f64
        / n as f64;
    let majority = (0..4)
        .map(|k| counts.iter().filter(|&&c| c == k).count())
        .max()
        .unwrap() as f64
        / n as f64;
    eprintln!("loss {first:.3} -> {last:.3}, accuracy {accuracy:.3} vs majority {majority:.3}");
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert!(
        accuracy > majority,
        "accuracy {accuracy} vs majority {majority}"
    );
}

fn m_loss(model: &ToyModel, forward: &dyn Fn(&ToyModel) -> Fused, target: &Tensor<1, Int>) -> f64 {
    let v = model.head.loss(&forward(model), target);
    v.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()[0]
}
