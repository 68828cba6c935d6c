//! Every built-in signal, for any number of modalities and any missing pattern: finite, in its
//! documented range, and `[batch, M]`; a `SignalStack` of all of them fills missing entries.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use mafs_core::{Encoded, SignalContext, UncertaintySignal};
use mafs_signals::{
    AttentionEntropy, CosineAgreement, Energy, JsAgreement, PredictiveEntropy,
    PrototypeEntropyConfig, SignalKind, SignalStack,
};
use proptest::prelude::*;

/// An encoding `[b, n, d]` from `vals`, pooled by the mean, with a pooling attention that
/// is a softmax over the non-padding tokens.
fn encoded(
    name: &str,
    dims: [usize; 3],
    vals: &[f32],
    present: Vec<bool>,
    pad: Vec<bool>,
    device: &Device,
) -> Encoded {
    let [b, n, d] = dims;
    let tokens = Tensor::<3>::from_data(
        TensorData::new(vals[..b * n * d].to_vec(), [b, n, d]),
        device,
    );
    let pooled = tokens.clone().mean_dim(1).reshape([b, d]);
    let padding = Tensor::<2, Bool>::from_data(TensorData::new(pad, [b, n]), device);
    let scores = tokens
        .clone()
        .sum_dim(2)
        .reshape([b, n])
        .mask_fill(padding.clone(), -1.0e9);
    let attention = burn::tensor::activation::softmax(scores, 1);
    Encoded::new(
        name,
        tokens,
        padding,
        pooled,
        Tensor::<1, Bool>::from_data(TensorData::new(present, [b]), device),
    )
    .with_pool_attention(attention)
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5349_474e),
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn signals_are_finite_and_in_range(
        b in 1usize..4,
        m in 1usize..5,
        n in 1usize..5,
        d in 2usize..5,
        classes in 1usize..5,
        vals in prop::collection::vec(-3.0f32..3.0, 4 * 4 * 4 * 4),
        logit_vals in prop::collection::vec(-10.0f32..10.0, 4 * 4 * 4),
        mask in prop::collection::vec(any::<bool>(), 4 * 4 * 2),
    ) {
        let device = Device::flex();
        device.seed(0);
        let enc: Vec<Encoded> = (0..m)
            .map(|j| {
                let present: Vec<bool> = (0..b).map(|i| mask[i * 4 + j]).collect();
                // padding: never the first token, so every instance has a valid one
                let pad: Vec<bool> = (0..b * n).map(|k| k % n != 0 && mask[16 + (k % 16)]).collect();
                encoded(&format!("m{j}"), [b, n, d], &vals[j * 64..], present, pad, &device)
            })
            .collect();
        let logits: Vec<Tensor<2>> = (0..m)
            .map(|j| Tensor::from_data(TensorData::new(logit_vals[j * 16..j * 16 + b * classes].to_vec(), [b, classes]), &device))
            .collect();
        let ctx = SignalContext::new(&enc).with_logits(&logits);
        let proto = PrototypeEntropyConfig::new(d).with_k(4).init(&device);
        let js = JsAgreement::new(&proto);
        let bounded: [(&dyn UncertaintySignal, f32, f32); 5] = [
            (&proto, 0.0, 1.0),
            (&AttentionEntropy, 0.0, 1.0),
            (&PredictiveEntropy, 0.0, 1.0),
            (&CosineAgreement, -1.0, 1.0),
            (&js, 0.0, 1.0),
        ];
        for (s, lo, hi) in bounded {
            let v = s.compute(&ctx);
            prop_assert_eq!(v.dims(), [b, m]);
            for x in v.try_into_vec_as::<f32>().unwrap() {
                prop_assert!(x.is_finite() && x >= lo - 1e-5 && x <= hi + 1e-5, "{}: {}", s.name(), x);
            }
        }
        let e = Energy::default().compute(&ctx).try_into_vec_as::<f32>().unwrap();
        prop_assert!(e.iter().all(|x| x.is_finite()));
        let all = [
            SignalKind::PrototypeEntropy,
            SignalKind::AttentionEntropy,
            SignalKind::PredictiveEntropy,
            SignalKind::Energy,
            SignalKind::AgreementCosine,
            SignalKind::AgreementJs,
        ];
        let set = SignalStack::from_kinds(&all, Some(&proto)).unwrap().with_fill(0.0).compute(&ctx);
        prop_assert_eq!(set.dims(), [b, m, 6]);
        let v = set.values.try_into_vec_as::<f32>().unwrap();
        for i in 0..b {
            for j in 0..m {
                if !mask[i * 4 + j] {
                    prop_assert!(v[(i * m + j) * 6..(i * m + j + 1) * 6].iter().all(|&x| x == 0.0));
                }
            }
        }
    }
}
