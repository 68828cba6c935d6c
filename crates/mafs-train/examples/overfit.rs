//! Overfits one batch: a quick check that every task's loss can go down.
//! `cargo run -p mafs-train --example overfit -- retrieval fixed-late`

use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::Device;
use mafs_data::Split;
use mafs_train::config::{DataSource, RunConfig};
use mafs_train::data::{TaskDataset, Vocabulary, load_splits, make_batcher, to_model_batch};
use mafs_train::model::build_model;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let task = args
        .get(1)
        .map_or("retrieval", |s| s.as_str())
        .parse()
        .unwrap();
    let fusion = args
        .get(2)
        .map_or("fixed-late", |s| s.as_str())
        .parse()
        .unwrap();
    let lr: f64 = args.get(3).map_or(1e-3, |s| s.parse().unwrap());
    let mut config = RunConfig::new(task, fusion, 0);
    config.data = DataSource::World {
        seed: 0,
        train: 64,
        val: 8,
        test: 8,
        shift: 8,
    };
    let device = Device::flex().autodiff();
    let splits = load_splits(&config.data, 64).unwrap();
    let vocab = Vocabulary::build(&splits[&Split::Train], &config);
    device.seed(0);
    let mut model = build_model(&config, vocab.sizes(), &device).unwrap();
    let batcher = make_batcher(&vocab, 64, model.spec.context_length, None);
    let data = TaskDataset::sampled(task, splits[&Split::Train].clone(), 0);
    let idx: Vec<usize> = (0..32).collect();
    let batch = to_model_batch(data.batch(&batcher, &idx, 0, &device));
    let mut optim = AdamWConfig::new().init();
    for step in 0..40 {
        let out = model.forward_loss(&batch, 1.0, &config.loss, step);
        if step % 5 == 0 {
            println!("step {step}: {:?}", out.parts);
        }
        let grads = GradientsParams::from_grads(out.loss.backward(), &model);
        model = optim.step(lr, model, grads);
    }
}
