//! Unimodal predictions: what each modality alone says, for the signals (predictive entropy,
//! energy), the unimodal loss and PDF's true-class probabilities.

use burn::tensor::{Int, Tensor};
use mafs_core::Encoded;
use mafs_heads::loss::masked_mean;
use mafs_heads::{ItcHead, ItcTarget};

/// The unimodal alignment of each modality with the batch's captions: ITC logits of the
/// modality's pooled embedding against every caption `[B, B]`, and the item→caption InfoNCE
/// per instance, averaged over the instances that have the modality.
pub struct UnimodalAlignment {
    /// In-batch logits per modality, `[B, B]` each.
    pub logits: Vec<Tensor<2>>,
    /// Mean loss per modality, `[1]` each.
    pub losses: Vec<Tensor<1>>,
}

/// Computes [`UnimodalAlignment`] for every modality against `captions` `[B, d]`.
pub fn unimodal_alignment(
    itc: &ItcHead,
    encoded: &[Encoded],
    captions: &Tensor<2>,
    item_ids: &Tensor<1, Int>,
) -> UnimodalAlignment {
    let mut logits = Vec::with_capacity(encoded.len());
    let mut losses = Vec::with_capacity(encoded.len());
    for e in encoded {
        let out = itc.contrastive(
            &mafs_core::Fused::pooled(e.pooled.clone()),
            &ItcTarget {
                captions: captions.clone(),
                item_ids: Some(item_ids.clone()),
            },
        );
        losses.push(masked_mean(out.a_to_b_per_instance, e.present.clone()));
        logits.push(out.logits);
    }
    UnimodalAlignment { logits, losses }
}

/// Row indices `[B]` (each row's own caption is its class in the in-batch alignment).
pub fn arange(b: usize, device: &burn::tensor::Device) -> Tensor<1, Int> {
    Tensor::arange(0..b as i64, device)
}
