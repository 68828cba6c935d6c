//! Analytic multiply-add count of one sample of the whole model, forward only: the matrix
//! products (linears, attention scores and contexts, patch embedding, vocabulary projection).
//! Element-wise ops are left out, as every "share of the matmul peak" figure does. Training
//! is counted as three forward passes (forward, and backward for inputs and for weights).

use mafs_encoders::EncoderPreset;
use mafs_encoders::block::mlp_width;
use mafs_train::config::Task;

/// One pre-norm self-attention block over `n` tokens of width `d`.
pub fn block(n: f64, d: f64, mlp: f64) -> f64 {
    // in-proj d->3d, out-proj d->d, c_fc d->mlp, c_proj mlp->d; QK^T and AV: 2 n^2 d
    2.0 * n * (3.0 * d * d + d * d + 2.0 * d * mlp) + 2.0 * 2.0 * n * n * d
}

/// Cross-attention of `q` queries of width `d` to `n` memory tokens.
pub fn cross(q: f64, n: f64, d: f64) -> f64 {
    // q-proj and out-proj on the queries, k/v-proj on the memory, scores and context
    2.0 * q * 2.0 * d * d + 2.0 * n * 2.0 * d * d + 2.0 * 2.0 * q * n * d
}

/// One query-fusion layer (self-attention, one cross-attention per memory, MLP).
pub fn query_layer(q: f64, memories: &[f64], d: f64) -> f64 {
    let sa = 2.0 * q * 4.0 * d * d + 4.0 * q * q * d;
    let ca: f64 = memories.iter().map(|&n| cross(q, n, d)).sum();
    sa + ca + 2.0 * q * 2.0 * d * 4.0 * d
}

/// Forward FLOPs (2 per multiply-add) of one sample of `task` at `preset`, with `vocab`
/// text tokens (captioning's output projection) and `answers` answers.
pub fn forward_per_sample(task: Task, preset: &EncoderPreset, vocab: usize, answers: usize) -> f64 {
    let v = &preset.vision;
    let t = &preset.text;
    let e = preset.embed_dim as f64;
    let n_img = (1 + v.n_patches()) as f64;
    let dv = v.width as f64;
    let patch =
        2.0 * v.n_patches() as f64 * (v.in_channels * v.patch_size * v.patch_size) as f64 * dv;
    let image = patch
        + v.layers as f64 * block(n_img, dv, mlp_width(v.width, v.mlp_ratio) as f64)
        + 2.0 * n_img * dv * e;
    let n_txt = t.context_length as f64;
    let dt = t.width as f64;
    let text = t.layers as f64 * block(n_txt, dt, mlp_width(t.width, t.mlp_ratio) as f64)
        + 2.0 * n_txt * dt * e;
    let q = 8.0;
    match task {
        Task::Vqa => {
            // image, question, side text; 2 fusion layers; answer MLP d -> 2d -> answers,
            // and the shared unimodal answer head on each of the 3 modalities
            let fusion = 2.0 * query_layer(q, &[n_img, n_txt, n_txt], e);
            let head = 2.0 * (e * 2.0 * e + 2.0 * e * answers as f64);
            image + 2.0 * text + fusion + 4.0 * head
        }
        Task::Retrieval => {
            // image and side text fused; the caption encoded; ITM over 3 pairs per item
            // through a one-layer fusion of image, side text and caption
            let fusion = 2.0 * query_layer(q, &[n_img, n_txt], e);
            let itm = 3.0 * query_layer(q, &[n_img, n_txt, n_txt], e);
            image + 2.0 * text + fusion + itm
        }
        Task::Captioning => {
            // image and side text fused; the caption encoded (ITC); a 2-layer decoder over
            // the caption with cross-attention to the 8 fused tokens, tied vocab projection
            let fusion = 2.0 * query_layer(q, &[n_img, n_txt], e);
            let dec_layer = block(n_txt, e, 4.0 * e) + cross(n_txt, q, e);
            let decoder = 2.0 * dec_layer + 2.0 * n_txt * e * vocab as f64;
            image + 2.0 * text + fusion + decoder
        }
    }
}
