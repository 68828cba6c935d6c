//! The key mapping between our towers' module paths and open_clip's state-dict keys (the one
//! remapping table of the crate README, as code).
//!
//! Our paths follow open_clip's names, so the mapping is a prefix and four rules:
//! - the image tower's keys carry open_clip's `visual.` prefix, the text tower's none;
//! - burn's `LayerNorm` names `gamma`/`beta` what PyTorch names `weight`/`bias`;
//! - the fused in-projection is a burn `Linear` (`attn.in_proj.{weight,bias}`) where PyTorch's
//!   `nn.MultiheadAttention` holds two plain tensors (`attn.in_proj_weight`,
//!   `attn.in_proj_bias`); its columns are `[q | k | v]`, each `[head_0 | head_1 | ...]`, the
//!   split `F.multi_head_attention_forward` makes, so no reordering is needed;
//! - burn stores `Linear` weights `[d_in, d_out]`, PyTorch `[d_out, d_in]`: the weights of
//!   `in_proj`, `out_proj`, `c_fc` and `c_proj` are transposed. `proj` and
//!   `text_projection` are plain matrices `[width, embed_dim]` in both, used as `x @ proj`.

/// How a checkpoint tensor becomes ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// The same values and shape.
    Identity,
    /// A 2-d transpose (`[d_out, d_in]` in PyTorch, `[d_in, d_out]` in burn).
    Transpose,
}

/// One row of the mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMapping {
    /// Our module path (inside the tower, e.g. `transformer.resblocks.0.ln_1.gamma`).
    pub ours: String,
    /// open_clip's key (e.g. `visual.transformer.resblocks.0.ln_1.weight`).
    pub theirs: String,
    /// What turns theirs into ours.
    pub transform: Transform,
}

/// Which tower a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tower {
    /// The image tower (open_clip's `visual.`).
    Image,
    /// The text tower (no prefix in open_clip).
    Text,
}

impl Tower {
    /// open_clip's key prefix for the tower.
    pub fn prefix(self) -> &'static str {
        match self {
            Tower::Image => "visual.",
            Tower::Text => "",
        }
    }
}

/// Linear layers whose weight PyTorch stores transposed relative to burn.
const LINEARS: [&str; 4] = ["attn.in_proj", "attn.out_proj", "mlp.c_fc", "mlp.c_proj"];

/// open_clip's key for our module path `ours` in `tower`, and the transform between them.
pub fn open_clip_key(tower: Tower, ours: &str) -> KeyMapping {
    let mut theirs = ours.to_string();
    let mut transform = Transform::Identity;
    if let Some(stem) = ours.strip_suffix(".gamma") {
        theirs = format!("{stem}.weight");
    } else if let Some(stem) = ours.strip_suffix(".beta") {
        theirs = format!("{stem}.bias");
    } else if let Some(stem) = ours.strip_suffix(".weight")
        && LINEARS.iter().any(|l| stem.ends_with(l))
    {
        transform = Transform::Transpose;
        if let Some(block) = stem.strip_suffix(".in_proj") {
            theirs = format!("{block}.in_proj_weight");
        }
    } else if let Some(block) = ours.strip_suffix(".in_proj.bias") {
        theirs = format!("{block}.in_proj_bias");
    }
    KeyMapping {
        ours: ours.to_string(),
        theirs: format!("{}{theirs}", tower.prefix()),
        transform,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_keys_follow_open_clip() {
        let cases = [
            (
                Tower::Image,
                "transformer.resblocks.3.attn.in_proj.weight",
                "visual.transformer.resblocks.3.attn.in_proj_weight",
                Transform::Transpose,
            ),
            (
                Tower::Image,
                "transformer.resblocks.3.attn.in_proj.bias",
                "visual.transformer.resblocks.3.attn.in_proj_bias",
                Transform::Identity,
            ),
            (
                Tower::Text,
                "transformer.resblocks.0.attn.out_proj.weight",
                "transformer.resblocks.0.attn.out_proj.weight",
                Transform::Transpose,
            ),
            (
                Tower::Text,
                "transformer.resblocks.0.attn.out_proj.bias",
                "transformer.resblocks.0.attn.out_proj.bias",
                Transform::Identity,
            ),
            (
                Tower::Text,
                "transformer.resblocks.1.mlp.c_fc.weight",
                "transformer.resblocks.1.mlp.c_fc.weight",
                Transform::Transpose,
            ),
            (
                Tower::Image,
                "transformer.resblocks.1.mlp.c_proj.weight",
                "visual.transformer.resblocks.1.mlp.c_proj.weight",
                Transform::Transpose,
            ),
            (
                Tower::Image,
                "ln_pre.gamma",
                "visual.ln_pre.weight",
                Transform::Identity,
            ),
            (
                Tower::Text,
                "ln_final.beta",
                "ln_final.bias",
                Transform::Identity,
            ),
            (
                Tower::Image,
                "conv1.weight",
                "visual.conv1.weight",
                Transform::Identity,
            ),
            (Tower::Image, "proj", "visual.proj", Transform::Identity),
            (
                Tower::Text,
                "token_embedding.weight",
                "token_embedding.weight",
                Transform::Identity,
            ),
            (
                Tower::Text,
                "text_projection",
                "text_projection",
                Transform::Identity,
            ),
        ];
        for (tower, ours, theirs, transform) in cases {
            let m = open_clip_key(tower, ours);
            assert_eq!(m.theirs, theirs, "{ours}");
            assert_eq!(m.transform, transform, "{ours}");
        }
    }
}
