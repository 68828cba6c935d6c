//! Where the time of one tiny forward pass goes: times each op of a ViT block at the tiny
//! shapes (batch 64, 65 tokens, width 128) on flex.
//!
//! ```text
//! cargo run -p mafs-fusion --profile dev --example op_profile
//! ```

use std::time::Instant;

use burn::nn::{LayerNormConfig, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Distribution, Tensor};
use mafs_encoders::{
    MultiHeadAttentionConfig, ResidualAttentionBlockConfig, SelfAttentionInput, WeightsRequest,
};

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (Linux): robust
/// to other processes sharing the cores, unlike wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // fields after the command: state is index 0, utime 11, stime 12 (clock ticks, 100 Hz)
    (ticks(11) + ticks(12)) / 100.0
}

fn time<T>(name: &str, reps: usize, mut f: impl FnMut() -> T) {
    for _ in 0..2 {
        std::hint::black_box(f());
    }
    let (t, c) = (Instant::now(), cpu_seconds());
    for _ in 0..reps {
        std::hint::black_box(f());
    }
    let wall = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    let cpu = (cpu_seconds() - c) * 1e3 / reps as f64;
    println!("{name:40} wall {wall:8.2} ms   cpu {cpu:8.2} ms");
}

fn main() {
    let device = Device::flex();
    device.seed(0);
    let (b, n, d) = (64, 65, 128);
    let x = Tensor::<3>::random([b, n, d], Distribution::Normal(0.0, 1.0), &device);
    let sync = |t: Tensor<3>| t.into_data();
    let qkv = LinearConfig::new(d, 3 * d).init(&device);
    let fc = LinearConfig::new(d, 4 * d).init(&device);
    let proj = LinearConfig::new(4 * d, d).init(&device);
    let ln = LayerNormConfig::new(d).init(&device);
    let attn = MultiHeadAttentionConfig::new(d, 4).init(&device);
    let block = ResidualAttentionBlockConfig::new(d, 4).init(&device);
    let h4 = Tensor::<3>::random([b, n, 4 * d], Distribution::Normal(0.0, 1.0), &device);
    time("linear d->3d", 40, || sync(qkv.forward(x.clone())));
    time("linear d->4d", 40, || sync(fc.forward(x.clone())));
    time("linear 4d->d", 40, || sync(proj.forward(h4.clone())));
    time("layer_norm", 40, || sync(ln.forward(x.clone())));
    time("gelu [b,n,4d]", 40, || sync(gelu(h4.clone())));
    time("add", 40, || sync(x.clone() + x.clone()));
    let q4 = x.clone().reshape([b, n, 4, 32]).swap_dims(1, 2);
    time("swap+reshape (merge heads)", 40, || {
        sync(q4.clone().swap_dims(1, 2).reshape([b, n, d]))
    });
    let qc = q4.clone().into_data();
    let qc = Tensor::<4>::from_data(qc, &device);
    time("fused sdpa (contiguous q,k,v)", 40, || {
        burn::tensor::module::attention(
            qc.clone(),
            qc.clone(),
            qc.clone(),
            None,
            None,
            Default::default(),
        )
        .into_data()
    });
    time("attention layer (fast)", 40, || {
        sync(attn.forward(SelfAttentionInput::new(x.clone())).output)
    });
    time("attention layer (full weights)", 40, || {
        sync(
            attn.forward(SelfAttentionInput::new(x.clone()).weights(WeightsRequest::Full))
                .output,
        )
    });
    let qkv_out = qkv.forward(x.clone());
    let split = || {
        let t = qkv_out.clone().reshape([b, n, 12, 32]).swap_dims(1, 2);
        let mut c = t.chunk(3, 1).into_iter();
        (c.next().unwrap(), c.next().unwrap(), c.next().unwrap())
    };
    time("sdpa on strided chunks", 40, || {
        let (q, k, v) = split();
        burn::tensor::module::attention(q, k, v, None, None, Default::default()).into_data()
    });
    time("split + materialise q,k,v", 40, || {
        let (q, k, v) = split();
        (q.into_data(), k.into_data(), v.into_data())
    });
    let split_head_major = || {
        let t = qkv_out
            .clone()
            .reshape([b, n, 3, 4, 32])
            .permute([2, 0, 3, 1, 4])
            .reshape([3 * b, 4, n, 32]);
        let mut c = t.chunk(3, 0).into_iter();
        (c.next().unwrap(), c.next().unwrap(), c.next().unwrap())
    };
    time("head-major split + materialise", 40, || {
        let (q, k, v) = split_head_major();
        (q.into_data(), k.into_data(), v.into_data())
    });
    time("sdpa on head-major split", 40, || {
        let (q, k, v) = split_head_major();
        burn::tensor::module::attention(q, k, v, None, None, Default::default()).into_data()
    });
    let x2 = x.clone().reshape([b * n, d]);
    time("linear d->3d on [b*n, d]", 40, || {
        qkv.forward(x2.clone()).into_data()
    });
    time("plain sdpa on strided chunks", 40, || {
        let (q, k, v) = split();
        let w = burn::tensor::activation::softmax(q.matmul(k.swap_dims(2, 3)).mul_scalar(0.17), 3);
        w.matmul(v).into_data()
    });
    time("quick_gelu [b,n,4d]", 40, || {
        sync(mafs_encoders::activation::quick_gelu(h4.clone()))
    });
    time("gelu_approximate [b,n,4d]", 40, || {
        sync(burn::tensor::activation::gelu_approximate(h4.clone()))
    });
    let ca = mafs_encoders::CrossAttentionConfig::new(d, 4).init(&device);
    let queries = Tensor::<3>::random([b, 8, d], Distribution::Normal(0.0, 1.0), &device);
    let no_pad = Tensor::<2, burn::tensor::Int>::zeros([b, n], &device).equal_elem(1);
    let kv = LinearConfig::new(d, 2 * d).init(&device);
    time("kv_proj [b,65,d] -> 2d", 40, || sync(kv.forward(x.clone())));
    time("cross-attn 8 queries -> 65 tokens", 40, || {
        sync(
            ca.forward(queries.clone(), x.clone(), Some(&no_pad), false)
                .output,
        )
    });
    time("cross-attn, no padding mask", 40, || {
        sync(ca.forward(queries.clone(), x.clone(), None, false).output)
    });
    time("block", 40, || {
        sync(
            block
                .forward(x.clone(), None, false, WeightsRequest::None)
                .0,
        )
    });
}
