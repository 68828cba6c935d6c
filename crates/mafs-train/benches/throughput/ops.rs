//! Per-op timings at the shapes of a `tiny` ViT block at batch 64 (`[64, 65, 128]`), forward
//! on the inference device and forward + backward on the autodiff device: the profile that
//! says where a training step's time goes. `bench/torch_mafs.py --mode ops` times the same ops.

use std::time::Instant;

use burn::module::Module;
use burn::nn::{LayerNormConfig, LinearConfig};
use burn::tensor::activation::{gelu, softmax};
use burn::tensor::module::linear;
use burn::tensor::{Device, Distribution, Tensor};
use mafs_encoders::attention::{MultiHeadAttentionConfig, SelfAttentionInput};
use mafs_encoders::pointwise;

fn time<F: FnMut()>(mut f: F, iters: usize) -> f64 {
    f();
    let mut v = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        f();
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

/// `(op, forward ms, forward+backward ms)` for each op.
pub fn profile(iters: usize) -> Vec<(String, f64, f64)> {
    let (b, n, d) = (64, 65, 128);
    let inner = Device::flex();
    let ad = Device::flex().autodiff();
    inner.seed(0);
    let mut out = Vec::new();
    let x = |dev: &Device, w: usize| {
        let t = Tensor::<3>::random([b, n, w], Distribution::Normal(0.0, 1.0), dev);
        if dev.is_autodiff() {
            t.require_grad()
        } else {
            t
        }
    };
    // linear d -> 4d (c_fc)
    {
        let lin = LinearConfig::new(d, 4 * d).init(&ad);
        let lin_i = lin.valid();
        let xi = x(&inner, d);
        let xa = x(&ad, d);
        let f = time(|| drop(lin_i.forward(xi.clone()).into_data()), iters);
        let fb = time(|| drop(lin.forward(xa.clone()).sum().backward()), iters);
        out.push(("linear 128->512".to_string(), f, fb));
    }
    // layer norm
    {
        let ln = LayerNormConfig::new(d).init(&ad);
        let ln_i = ln.valid();
        let xi = x(&inner, d);
        let xa = x(&ad, d);
        let f = time(|| drop(ln_i.forward(xi.clone()).into_data()), iters);
        let fb = time(|| drop(ln.forward(xa.clone()).sum().backward()), iters);
        out.push(("layer_norm 128".to_string(), f, fb));
    }
    // gelu on the MLP hidden
    {
        let xi = x(&inner, 4 * d);
        let xa = x(&ad, 4 * d);
        let f = time(|| drop(gelu(xi.clone()).into_data()), iters);
        let fb = time(|| drop(gelu(xa.clone()).sum().backward()), iters);
        out.push(("gelu [64,65,512] (burn)".to_string(), f, fb));
        // the host kernel (mafs_encoders::pointwise), what the MLPs use on flex
        let f = time(|| drop(pointwise::gelu(xi.clone()).into_data()), iters);
        let fb = time(|| drop(pointwise::gelu(xa.clone()).sum().backward()), iters);
        out.push(("gelu [64,65,512] (mafs kernel)".to_string(), f, fb));
        let f = time(
            || drop(pointwise::quick_gelu(xi.clone()).into_data()),
            iters,
        );
        let fb = time(
            || drop(pointwise::quick_gelu(xa.clone()).sum().backward()),
            iters,
        );
        out.push(("quick_gelu [64,65,512] (mafs kernel)".to_string(), f, fb));
    }
    // softmax over attention scores [64, 4, 65, 65]
    {
        let s = |dev: &Device| {
            let t = Tensor::<4>::random([b, 4, n, n], Distribution::Normal(0.0, 1.0), dev);
            if dev.is_autodiff() {
                t.require_grad()
            } else {
                t
            }
        };
        let si = s(&inner);
        let sa = s(&ad);
        let f = time(|| drop(softmax(si.clone(), 3).into_data()), iters);
        let fb = time(|| drop(softmax(sa.clone(), 3).sum().backward()), iters);
        out.push(("softmax [64,4,65,65]".to_string(), f, fb));
    }
    // residual add
    {
        let xi = x(&inner, d);
        let xa = x(&ad, d);
        let f = time(|| drop((xi.clone() + xi.clone()).into_data()), iters);
        let fb = time(|| drop((xa.clone() + xa.clone()).sum().backward()), iters);
        out.push(("add [64,65,128]".to_string(), f, fb));
    }
    // the fused [q | k | v] projection split into its three parts, two ways (summed, so that
    // backward reaches every part): chunking the [64, 65, 384] activation (the layers before
    // the change) and slicing the [128, 384] weight (`attention::project_heads` on autodiff)
    {
        let lin = LinearConfig::new(d, 3 * d).init(&ad);
        let xa = x(&ad, d);
        let chunked = || {
            let parts = lin.forward(xa.clone()).chunk(3, 2);
            parts.into_iter().reduce(|a, b| a + b).expect("three parts")
        };
        let sliced = || {
            let w = lin.weight.val();
            let bias = lin.bias.as_ref().expect("bias").val();
            (0..3)
                .map(|i| {
                    let cols = i * d..(i + 1) * d;
                    linear(
                        xa.clone(),
                        w.clone().slice([0..d, cols.clone()]),
                        Some(bias.clone().slice([cols])),
                    )
                })
                .reduce(|a, b| a + b)
                .expect("three parts")
        };
        for round in 1..=2 {
            let c = time(|| drop(chunked().sum().backward()), iters);
            let s = time(|| drop(sliced().sum().backward()), iters);
            out.push((
                format!("qkv split, activation chunks ({round})"),
                f64::NAN,
                c,
            ));
            out.push((format!("qkv split, weight slices ({round})"), f64::NAN, s));
        }
    }
    // our self-attention (in-proj, attention core, out-proj)
    {
        let attn = MultiHeadAttentionConfig::new(d, 4).init(&ad);
        let attn_i = attn.valid();
        let xi = x(&inner, d);
        let xa = x(&ad, d);
        let f = time(
            || {
                drop(
                    attn_i
                        .forward(SelfAttentionInput::new(xi.clone()))
                        .output
                        .into_data(),
                )
            },
            iters,
        );
        let fb = time(
            || {
                drop(
                    attn.forward(SelfAttentionInput::new(xa.clone()))
                        .output
                        .sum()
                        .backward(),
                )
            },
            iters,
        );
        out.push(("self-attention d=128 h=4".to_string(), f, fb));
    }
    // one whole ViT block
    {
        let blk = mafs_encoders::block::ResidualAttentionBlockConfig::new(d, 4).init(&ad);
        let blk_i = blk.valid();
        let xi = x(&inner, d);
        let xa = x(&ad, d);
        let none = mafs_encoders::attention::WeightsRequest::None;
        let f = time(
            || {
                drop(
                    blk_i
                        .forward(xi.clone(), None, false, none.clone())
                        .0
                        .into_data(),
                )
            },
            iters,
        );
        let fb = time(
            || {
                drop(
                    blk.forward(xa.clone(), None, false, none.clone())
                        .0
                        .sum()
                        .backward(),
                )
            },
            iters,
        );
        out.push(("ViT block d=128".to_string(), f, fb));
    }
    out
}
