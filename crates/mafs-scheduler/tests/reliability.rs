//! The reliability target teaches the scheduler which modality to trust (DESIGN §1): on
//! synthetic encodings where one modality is replaced by noise for a known subset of
//! instances, a scheduler trained for a few hundred steps with `KL(t || w)` (and a learned
//! confidence signal trained to the true-class probability) gives that modality the lower
//! weight on held-out instances.

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use mafs_core::{Encoded, Scheduler, SignalContext};
use mafs_scheduler::{
    MlpScheduler, MlpSchedulerConfig, in_batch_tcp, kl_to_target_logits, reliability_target,
};
use mafs_signals::{
    LearnedConfidence, LearnedConfidenceConfig, SignalKind, SignalModules, SignalStack,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const D: usize = 8;
const CLASSES: usize = 6;

#[derive(Module, Debug)]
struct Taught {
    confidence: LearnedConfidence,
    scheduler: MlpScheduler,
}

/// A batch: per modality, class prototype plus small noise; modality 0 is pure noise where
/// `noised` is true. Returns the encodings, the class of each row and the noised flags.
fn batch(
    rng: &mut ChaCha8Rng,
    protos: &[Vec<f32>],
    n: usize,
    device: &Device,
) -> (Vec<Encoded>, Vec<usize>, Vec<bool>) {
    let classes: Vec<usize> = (0..n).map(|_| rng.random_range(0..CLASSES)).collect();
    let noised: Vec<bool> = (0..n).map(|_| rng.random_bool(0.4)).collect();
    let mut gauss = || {
        // Box-Muller
        let (u, v): (f32, f32) = (rng.random_range(1e-6..1.0), rng.random_range(0.0..1.0));
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    };
    let enc = (0..2)
        .map(|m| {
            let mut v = Vec::with_capacity(n * D);
            for i in 0..n {
                for k in 0..D {
                    let x = if m == 0 && noised[i] {
                        1.5 * gauss()
                    } else {
                        protos[m][classes[i] * D + k] + 0.3 * gauss()
                    };
                    v.push(x);
                }
            }
            let pooled = Tensor::<2>::from_data(TensorData::new(v, [n, D]), device);
            Encoded::new(
                format!("m{m}"),
                pooled.clone().reshape([n, 1, D]),
                Tensor::<2, Bool>::from_data(TensorData::new(vec![false; n], [n, 1]), device),
                pooled,
                Tensor::<1, Bool>::from_data(TensorData::new(vec![true; n], [n]), device),
            )
        })
        .collect();
    (enc, classes, noised)
}

/// Each modality's true-class probability under a fixed nearest-prototype classifier.
fn tcp(enc: &[Encoded], protos: &[Vec<f32>], classes: &[usize], device: &Device) -> Tensor<2> {
    let n = classes.len();
    let logits: Vec<Tensor<2>> = enc
        .iter()
        .enumerate()
        .map(|(m, e)| {
            let p =
                Tensor::<2>::from_data(TensorData::new(protos[m].clone(), [CLASSES, D]), device);
            e.pooled.clone().matmul(p.transpose()).mul_scalar(2.0)
        })
        .collect();
    let one_hot: Vec<bool> = (0..n * CLASSES)
        .map(|k| classes[k / CLASSES] == k % CLASSES)
        .collect();
    let positives = Tensor::<2, Bool>::from_data(TensorData::new(one_hot, [n, CLASSES]), device);
    in_batch_tcp(&logits, positives)
}

fn auroc_below(pos: &[f32], neg: &[f32]) -> f64 {
    let mut hits = 0.0;
    for p in pos {
        for q in neg {
            hits += if p < q {
                1.0
            } else if p == q {
                0.5
            } else {
                0.0
            };
        }
    }
    hits / (pos.len() * neg.len()) as f64
}

#[test]
fn the_reliability_target_teaches_the_scheduler_to_distrust_a_noised_modality() {
    let device = Device::flex().autodiff();
    device.seed(0);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let protos: Vec<Vec<f32>> = (0..2)
        .map(|_| {
            (0..CLASSES * D)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect()
        })
        .collect();
    let mut model = Taught {
        confidence: LearnedConfidenceConfig::new(D, 2)
            .with_hidden(32)
            .with_clean_head(false)
            .with_token_stats(false)
            .init(&device),
        scheduler: MlpSchedulerConfig::new(vec!["confidence".into()]).init(&device),
    };
    let mut optim = AdamWConfig::new().init();
    let kinds = [SignalKind::Confidence];
    for _ in 0..300 {
        let (enc, classes, _) = batch(&mut rng, &protos, 64, &device);
        let tcp = tcp(&enc, &protos, &classes, &device).detach();
        let present = mafs_core::mask::presence_of(&enc);
        let mut signals = SignalStack::from_kinds_with(
            &kinds,
            SignalModules {
                prototypes: None,
                confidence: Some(&model.confidence),
            },
        )
        .unwrap()
        .compute(&SignalContext::new(&enc));
        signals.values = signals.values.detach();
        let w = model.scheduler.schedule(&enc, &signals, 1.0);
        let t = reliability_target(tcp.clone(), present.clone(), 1.0);
        let kl = kl_to_target_logits(t, w.logits.clone(), present.clone(), 1.0);
        let conf = LearnedConfidence::tcp_loss(model.confidence.logits(&enc).tcp, tcp, present);
        let loss = kl + conf;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    // held out, on the inference device
    let valid = model.valid();
    let eval = Device::flex();
    let (enc, _, noised) = batch(&mut rng, &protos, 512, &eval);
    let stack = SignalStack::from_kinds_with(
        &kinds,
        SignalModules {
            prototypes: None,
            confidence: Some(&valid.confidence),
        },
    )
    .unwrap();
    let signals = stack.compute(&SignalContext::new(&enc));
    let w: Vec<f32> = valid
        .scheduler
        .schedule(&enc, &signals, 1.0)
        .weights
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    let w0: Vec<f32> = w.chunks(2).map(|r| r[0]).collect();
    let pos: Vec<f32> = w0
        .iter()
        .zip(&noised)
        .filter(|(_, n)| **n)
        .map(|(w, _)| *w)
        .collect();
    let neg: Vec<f32> = w0
        .iter()
        .zip(&noised)
        .filter(|(_, n)| !**n)
        .map(|(w, _)| *w)
        .collect();
    let auroc = auroc_below(&pos, &neg);
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    assert!(
        auroc > 0.9,
        "AUROC of the noised modality's weight {auroc:.3} (mean weight noised {:.3}, clean {:.3})",
        mean(&pos),
        mean(&neg)
    );
    assert!(
        mean(&pos) + 0.15 < mean(&neg),
        "noised {:.3}, clean {:.3}",
        mean(&pos),
        mean(&neg)
    );
}
