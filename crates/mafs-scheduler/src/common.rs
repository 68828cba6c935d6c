//! Pieces every weighting shares: input checks, signal selection and the masked softmax that
//! turns logits into [`FusionWeights`].

use burn::tensor::{Bool, Tensor};
use mafs_core::weights::masked_softmax;
use mafs_core::{Encoded, FusionWeights, SignalSet};

/// Checks that `signals` is `[batch, M, S]` for these encodings and returns `(batch, M)`.
///
/// # Panics
///
/// Panics with a message naming `who` when the encodings are empty or the shapes disagree.
pub(crate) fn check_inputs(who: &str, encoded: &[Encoded], signals: &SignalSet) -> (usize, usize) {
    assert!(!encoded.is_empty(), "{who}: no modalities");
    let b = encoded[0].batch_size();
    let m = encoded.len();
    let [sb, sm, _] = signals.dims();
    assert_eq!(
        [sb, sm],
        [b, m],
        "{who}: signals are [{sb}, {sm}, _] but the batch has {b} instances of {m} modalities"
    );
    (b, m)
}

/// The `[batch, M, n]` values of the named signals, in the order of `names`.
///
/// # Panics
///
/// Panics, naming the missing signal and the available ones, if one is not in the set.
pub(crate) fn select_signals(who: &str, signals: &SignalSet, names: &[String]) -> Tensor<3> {
    let [b, m, _] = signals.dims();
    let cols: Vec<Tensor<2>> = names
        .iter()
        .map(|n| {
            signals.get(n).unwrap_or_else(|| {
                panic!(
                    "{who}: signal `{n}` is not in the signal set (it has {:?})",
                    signals.names
                )
            })
        })
        .collect();
    if cols.is_empty() {
        return Tensor::zeros([b, m, 0], &signals.values.device());
    }
    Tensor::stack(cols, 2)
}

/// Logits with `-inf` written where the modality is missing (as `FusionWeights` documents).
pub(crate) fn mask_logits(logits: Tensor<2>, present: Tensor<2, Bool>) -> Tensor<2> {
    logits.mask_fill(present.bool_not(), f32::NEG_INFINITY)
}

/// `w = masked_softmax(logits / tau)` packed into [`FusionWeights`].
pub(crate) fn finish(
    logits: Tensor<2>,
    present: Tensor<2, Bool>,
    signals: Option<SignalSet>,
    tau: f64,
) -> FusionWeights {
    let weights = masked_softmax(logits.clone(), present.clone(), tau);
    FusionWeights {
        weights,
        logits: mask_logits(logits, present.clone()),
        present,
        signals,
        tau,
    }
}
