//! Access to the unimodal logits of a [`SignalContext`], shared by the signals that read them.

use burn::tensor::Tensor;
use mafs_core::SignalContext;

/// The unimodal logits of `ctx`, checked against the encodings.
///
/// # Panics
///
/// Panics, naming the signal, when the context has no unimodal logits, when their count is
/// not one per modality, or when a tensor's batch size differs from its modality's.
pub(crate) fn unimodal_logits<'a>(ctx: &SignalContext<'a>, signal: &str) -> &'a [Tensor<2>] {
    let logits = ctx.unimodal_logits.unwrap_or_else(|| {
        panic!(
            "{signal}: the SignalContext has no unimodal logits; build it with \
             SignalContext::with_logits"
        )
    });
    assert_eq!(
        logits.len(),
        ctx.encoded.len(),
        "{signal}: {} unimodal logit tensors for {} modalities",
        logits.len(),
        ctx.encoded.len()
    );
    for (l, e) in logits.iter().zip(ctx.encoded) {
        assert_eq!(
            l.dims()[0],
            e.batch_size(),
            "{signal}: unimodal logits of modality `{}` have batch {}, the encoding has {}",
            e.name,
            l.dims()[0],
            e.batch_size()
        );
    }
    logits
}
