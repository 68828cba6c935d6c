//! Adding a modality needs one new `ModalityEncoder` and nothing else: the same scheduler
//! (same weights, prior off) schedules two or three modalities, the late-fusion head fuses
//! them, `explain` lists them, and the task gradient reaches the scheduler.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Device, Distribution, Tensor, TensorData};
use mafs_core::{
    Encoded, FusionHead, ModalityBatch, ModalityEncoder, ModalityInput, Scheduler, SignalContext,
};
use mafs_fusion::LateFusionConfig;
use mafs_scheduler::{MlpSchedulerConfig, explain};
use mafs_signals::{PrototypeEntropyConfig, SignalKind, SignalStack};

/// A toy encoder for pre-computed feature sequences (`ModalityInput::Dense`): a linear map
/// of each frame and mean pooling over the non-padding frames.
#[derive(Module, Debug)]
struct DenseEncoder {
    proj: Linear,
    name: String,
}

impl ModalityEncoder for DenseEncoder {
    fn modality(&self) -> &str {
        &self.name
    }

    fn d_model(&self) -> usize {
        self.proj.weight.dims()[1]
    }

    fn encode(&self, batch: &ModalityBatch) -> Encoded {
        let ModalityInput::Dense { values, padding } = &batch.input else {
            panic!("DenseEncoder `{}` reads Dense input", self.name)
        };
        let tokens = self.proj.forward(values.clone());
        let [b, n, d] = tokens.dims();
        let keep = padding.clone().bool_not().float().reshape([b, n, 1]);
        let pooled = (tokens.clone() * keep.clone()).sum_dim(1).reshape([b, d])
            / keep.sum_dim(1).reshape([b, 1]).clamp_min(1.0);
        Encoded::new(
            self.name.clone(),
            tokens,
            padding.clone(),
            pooled,
            batch.present.clone(),
        )
    }
}

fn batch(
    name: &str,
    b: usize,
    n: usize,
    d_in: usize,
    present: Vec<bool>,
    device: &Device,
) -> ModalityBatch {
    ModalityBatch::new(
        name,
        ModalityInput::Dense {
            values: Tensor::random([b, n, d_in], Distribution::Normal(0.0, 1.0), device),
            padding: Tensor::<2, Bool>::from_data(
                TensorData::new(vec![false; b * n], [b, n]),
                device,
            ),
        },
        Tensor::<1, Bool>::from_data(TensorData::new(present, [b]), device),
    )
}

#[test]
fn a_third_modality_needs_no_new_scheduler_weights() {
    let device = Device::flex().autodiff();
    device.seed(11);
    let (b, d) = (4, 8);
    let encoders: Vec<DenseEncoder> = [("image", 5), ("text", 6), ("audio", 3)]
        .into_iter()
        .map(|(name, d_in)| DenseEncoder {
            proj: LinearConfig::new(d_in, d).init(&device),
            name: name.into(),
        })
        .collect();
    let batches = [
        batch("image", b, 4, 5, vec![true, true, false, true], &device),
        batch("text", b, 3, 6, vec![true, false, true, true], &device),
        batch("audio", b, 2, 3, vec![true, true, true, false], &device),
    ];
    let proto = PrototypeEntropyConfig::new(d).with_k(8).init(&device);
    let kinds = [
        SignalKind::PrototypeEntropy,
        SignalKind::AgreementCosine,
        SignalKind::AgreementJs,
    ];
    let stack = SignalStack::from_kinds(&kinds, Some(&proto)).unwrap();
    let scheduler = MlpSchedulerConfig::new(stack.names()).init(&device);
    let n_params = scheduler.num_params();

    for m in [2, 3] {
        let enc: Vec<Encoded> = encoders[..m]
            .iter()
            .zip(&batches)
            .map(|(e, x)| e.encode(x))
            .collect();
        let signals = stack.compute(&SignalContext::new(&enc));
        let fw = scheduler.schedule(&enc, &signals, 1.0);
        assert_eq!(fw.dims(), [b, m]);
        let w = fw.weights.clone().try_into_vec_as::<f32>().unwrap();
        for i in 0..b {
            let s: f32 = w[i * m..(i + 1) * m].iter().sum();
            assert!((s - 1.0).abs() < 1e-5, "m = {m}, row {i}: {w:?}");
        }
        let head = LateFusionConfig::new(vec![d; m], d).init(&device);
        let fused = head.fuse(&enc, &fw);
        assert_eq!(fused.pooled.dims(), [b, d]);
        // the task gradient reaches the scheduler (its last layer: the first starts with no
        // gradient, since the last is zero-initialised so that training starts uniform)
        let grads = fused.pooled.clone().square().sum().backward();
        let g = scheduler
            .fc2
            .weight
            .grad(&grads)
            .expect("scheduler gets a gradient");
        assert!(g.abs().sum().into_scalar::<f32>() > 0.0);
        let names: Vec<String> = enc.iter().map(|e| e.name.clone()).collect();
        let why = explain(&fw, &names, 0).unwrap();
        assert_eq!(why.modalities.len(), m);
        assert_eq!(why.modalities[m - 1].signals.len(), 3);
    }
    assert_eq!(scheduler.num_params(), n_params, "no new scheduler weights");
}
