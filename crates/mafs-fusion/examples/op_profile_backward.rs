//! Forward + backward cost of each op of a ViT block at the tiny shapes (batch 64, 65 tokens,
//! width 128) on the autodiff flex device, CPU time (robust to other processes).
//!
//! ```text
//! cargo run -p mafs-fusion --profile dev --example op_profile_backward
//! ```

use std::time::Instant;

use burn::nn::{LayerNormConfig, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Distribution, Tensor};
use mafs_encoders::{
    MultiHeadAttentionConfig, ResidualAttentionBlockConfig, SelfAttentionInput, WeightsRequest,
};

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
    (ticks(11) + ticks(12)) / 100.0
}

fn time(name: &str, reps: usize, mut f: impl FnMut()) {
    f();
    let (t, c) = (Instant::now(), cpu_seconds());
    for _ in 0..reps {
        f();
    }
    let wall = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
    let cpu = (cpu_seconds() - c) * 1e3 / reps as f64;
    println!("{name:44} wall {wall:8.2} ms   cpu {cpu:8.2} ms");
}

fn main() {
    let device = Device::flex().autodiff();
    device.seed(0);
    let (b, n, d) = (64, 65, 128);
    let x = Tensor::<3>::random([b, n, d], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let h4 =
        Tensor::<3>::random([b, n, 4 * d], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let qkv = LinearConfig::new(d, 3 * d).init(&device);
    let fc = LinearConfig::new(d, 4 * d).init(&device);
    let proj = LinearConfig::new(4 * d, d).init(&device);
    let ln = LayerNormConfig::new(d).init(&device);
    let attn = MultiHeadAttentionConfig::new(d, 4).init(&device);
    let block = ResidualAttentionBlockConfig::new(d, 4).init(&device);
    let back = |y: Tensor<3>| {
        let _ = y.sum().backward();
    };
    time("linear d->3d fwd+bwd", 20, || back(qkv.forward(x.clone())));
    time("linear d->4d fwd+bwd", 20, || back(fc.forward(x.clone())));
    time("linear 4d->d fwd+bwd", 20, || {
        back(proj.forward(h4.clone()))
    });
    time("layer_norm fwd+bwd", 20, || back(ln.forward(x.clone())));
    time("gelu [b,n,4d] fwd+bwd", 20, || back(gelu(h4.clone())));
    time("quick_gelu [b,n,4d] fwd+bwd", 20, || {
        back(mafs_encoders::activation::quick_gelu(h4.clone()))
    });
    time("attention layer fwd+bwd", 20, || {
        back(attn.forward(SelfAttentionInput::new(x.clone())).output)
    });
    time("attention layer (plain) fwd+bwd", 20, || {
        back(
            attn.forward(SelfAttentionInput::new(x.clone()).weights(WeightsRequest::Full))
                .output,
        )
    });
    time("block fwd+bwd", 20, || {
        back(
            block
                .forward(x.clone(), None, false, WeightsRequest::None)
                .0,
        )
    });
    time("block fwd only (autodiff device)", 20, || {
        let _ = block
            .forward(x.clone(), None, false, WeightsRequest::None)
            .0
            .into_data();
    });
}
