//! A list of signals computed together into a [`SignalSet`], and the serde names that let a
//! configuration file pick them.

use burn::tensor::Tensor;
use mafs_core::{SignalContext, SignalSet, UncertaintySignal};
use serde::{Deserialize, Serialize};

use crate::attention::ATTENTION_ENTROPY;
use crate::confidence::{CONFIDENCE, CONFIDENCE_CLEAN, ConfidenceOutput, ConfidenceSignal};
use crate::cosine::AGREEMENT_COSINE;
use crate::energy::ENERGY;
use crate::js::AGREEMENT_JS;
use crate::predictive::PREDICTIVE_ENTROPY;
use crate::prototype::PROTOTYPE_ENTROPY;
use crate::{
    AttentionEntropy, CosineAgreement, Energy, JsAgreement, LearnedConfidence, PredictiveEntropy,
    PrototypeEntropy, SignalError,
};

/// The learned modules some signals read.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignalModules<'a> {
    /// The prototypes (prototype entropy, JS agreement).
    pub prototypes: Option<&'a PrototypeEntropy>,
    /// The confidence networks (`confidence`, `confidence_clean`).
    pub confidence: Option<&'a LearnedConfidence>,
}

/// The built-in signals by name, as a configuration names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// [`PrototypeEntropy`].
    PrototypeEntropy,
    /// [`AttentionEntropy`].
    AttentionEntropy,
    /// [`PredictiveEntropy`] (needs unimodal logits).
    PredictiveEntropy,
    /// [`Energy`] at temperature 1 (needs unimodal logits).
    Energy,
    /// [`CosineAgreement`].
    AgreementCosine,
    /// [`JsAgreement`].
    AgreementJs,
    /// [`crate::LearnedConfidence`]'s predicted true-class probability.
    Confidence,
    /// [`crate::LearnedConfidence`]'s predicted probability that the modality is clean.
    ConfidenceClean,
}

impl SignalKind {
    /// The default, label-free signals of MA-AFS: prototype entropy (the visual and textual
    /// entropy) and both cross-modal agreements. They need no unimodal head.
    pub const DEFAULT: [SignalKind; 3] = [
        SignalKind::PrototypeEntropy,
        SignalKind::AgreementCosine,
        SignalKind::AgreementJs,
    ];

    /// The name the signal carries in a [`SignalSet`].
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::PrototypeEntropy => PROTOTYPE_ENTROPY,
            SignalKind::AttentionEntropy => ATTENTION_ENTROPY,
            SignalKind::PredictiveEntropy => PREDICTIVE_ENTROPY,
            SignalKind::Energy => ENERGY,
            SignalKind::AgreementCosine => AGREEMENT_COSINE,
            SignalKind::AgreementJs => AGREEMENT_JS,
            SignalKind::Confidence => CONFIDENCE,
            SignalKind::ConfidenceClean => CONFIDENCE_CLEAN,
        }
    }

    /// Whether the signal is a cross-modal agreement (as opposed to an uncertainty).
    pub fn is_agreement(self) -> bool {
        matches!(self, SignalKind::AgreementCosine | SignalKind::AgreementJs)
    }
}

struct Borrowed<'a>(&'a dyn UncertaintySignal);

impl UncertaintySignal for Borrowed<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        self.0.compute(ctx)
    }
}

/// Signals computed in order into one [`SignalSet`] `[batch, M, S]`, with the entries of
/// missing modalities set to a finite fill value (0 by default).
pub struct SignalStack<'a> {
    signals: Vec<Box<dyn UncertaintySignal + 'a>>,
    fill: f64,
}

impl std::fmt::Debug for SignalStack<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalStack")
            .field("names", &self.names())
            .field("fill", &self.fill)
            .finish()
    }
}

impl Default for SignalStack<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> SignalStack<'a> {
    /// An empty stack.
    pub fn new() -> Self {
        Self {
            signals: Vec::new(),
            fill: 0.0,
        }
    }

    /// Appends an owned signal.
    pub fn with<S: UncertaintySignal + 'a>(mut self, signal: S) -> Self {
        self.signals.push(Box::new(signal));
        self
    }

    /// Appends a borrowed signal (e.g. the model's own [`PrototypeEntropy`] module).
    pub fn with_ref(mut self, signal: &'a dyn UncertaintySignal) -> Self {
        self.signals.push(Box::new(Borrowed(signal)));
        self
    }

    /// Sets the value written where a modality is missing (must be finite).
    ///
    /// # Panics
    ///
    /// Panics if `fill` is not finite.
    pub fn with_fill(mut self, fill: f64) -> Self {
        assert!(
            fill.is_finite(),
            "SignalStack: fill must be finite, got {fill}"
        );
        self.fill = fill;
        self
    }

    /// Builds the built-in signals named by `kinds`, borrowing `prototypes` for the ones that
    /// read them.
    ///
    /// # Errors
    ///
    /// [`SignalError::Empty`] for no signal, [`SignalError::Duplicate`] for a repeated one,
    /// [`SignalError::MissingPrototypes`] when a prototype signal is asked for without
    /// prototypes.
    pub fn from_kinds(
        kinds: &[SignalKind],
        prototypes: Option<&'a PrototypeEntropy>,
    ) -> Result<Self, SignalError> {
        Self::from_kinds_with(
            kinds,
            SignalModules {
                prototypes,
                confidence: None,
            },
        )
    }

    /// [`SignalStack::from_kinds`] with every learned module a signal may read.
    ///
    /// # Errors
    ///
    /// As [`SignalStack::from_kinds`], and [`SignalError::MissingConfidence`] when a
    /// confidence signal is asked for without the networks (or `confidence_clean` without
    /// their clean head).
    pub fn from_kinds_with(
        kinds: &[SignalKind],
        modules: SignalModules<'a>,
    ) -> Result<Self, SignalError> {
        if kinds.is_empty() {
            return Err(SignalError::Empty);
        }
        let mut stack = Self::new();
        for (i, kind) in kinds.iter().enumerate() {
            if kinds[..i].contains(kind) {
                return Err(SignalError::Duplicate {
                    signal: kind.name().to_string(),
                });
            }
            let needs = || SignalError::MissingPrototypes {
                signal: kind.name().to_string(),
            };
            let confidence = |output: ConfidenceOutput| {
                let net = modules
                    .confidence
                    .filter(|c| output == ConfidenceOutput::Tcp || c.clean_head)
                    .ok_or_else(|| SignalError::MissingConfidence {
                        signal: kind.name().to_string(),
                    })?;
                Ok::<_, SignalError>(ConfidenceSignal { net, output })
            };
            stack = match kind {
                SignalKind::PrototypeEntropy => {
                    stack.with_ref(modules.prototypes.ok_or_else(needs)?)
                }
                SignalKind::AgreementJs => {
                    stack.with(JsAgreement::new(modules.prototypes.ok_or_else(needs)?))
                }
                SignalKind::AttentionEntropy => stack.with(AttentionEntropy),
                SignalKind::PredictiveEntropy => stack.with(PredictiveEntropy),
                SignalKind::Energy => stack.with(Energy::default()),
                SignalKind::AgreementCosine => stack.with(CosineAgreement),
                SignalKind::Confidence => stack.with(confidence(ConfidenceOutput::Tcp)?),
                SignalKind::ConfidenceClean => stack.with(confidence(ConfidenceOutput::Clean)?),
            };
        }
        Ok(stack)
    }

    /// Signal names, in order.
    pub fn names(&self) -> Vec<String> {
        self.signals.iter().map(|s| s.name().to_string()).collect()
    }

    /// Number of signals.
    pub fn len(&self) -> usize {
        self.signals.len()
    }

    /// Whether the stack has no signal.
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty()
    }

    /// Computes every signal into a [`SignalSet`] `[batch, M, S]`.
    ///
    /// # Panics
    ///
    /// Panics if the stack is empty, if a name repeats, or if a signal returns a tensor that
    /// is not `[batch, M]` (the message names the signal).
    pub fn compute(&self, ctx: &SignalContext<'_>) -> SignalSet {
        assert!(!self.signals.is_empty(), "SignalStack: no signals");
        assert!(!ctx.encoded.is_empty(), "SignalStack: no modalities");
        let names = self.names();
        for (i, n) in names.iter().enumerate() {
            assert!(
                !names[..i].contains(n),
                "SignalStack: signal `{n}` appears twice"
            );
        }
        let b = ctx.encoded[0].batch_size();
        let m = ctx.encoded.len();
        let absent = mafs_core::mask::presence_of(ctx.encoded).bool_not();
        let values = self
            .signals
            .iter()
            .map(|s| {
                let v = s.compute(ctx);
                assert_eq!(
                    v.dims(),
                    [b, m],
                    "SignalStack: signal `{}` returned {:?}, expected [batch, M] = [{b}, {m}]",
                    s.name(),
                    v.dims()
                );
                v.mask_fill(absent.clone(), self.fill)
            })
            .collect();
        SignalSet::from_signals(names, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PrototypeEntropyConfig;
    use crate::test_util::encoded_from;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn names_in_order_and_missing_filled() {
        let device = Device::flex();
        device.seed(5);
        let proto = PrototypeEntropyConfig::new(4).init(&device);
        let enc: Vec<_> = (0..3)
            .map(|i| {
                encoded_from(
                    &format!("m{i}"),
                    Tensor::random([3, 4], Distribution::Normal(0.0, 1.0), &device),
                    vec![true, i != 1, i == 2],
                )
            })
            .collect();
        let kinds = [
            SignalKind::PrototypeEntropy,
            SignalKind::AgreementCosine,
            SignalKind::AgreementJs,
        ];
        let stack = SignalStack::from_kinds(&kinds, Some(&proto))
            .unwrap()
            .with_fill(-7.0);
        let set = stack.compute(&SignalContext::new(&enc));
        assert_eq!(
            set.names,
            vec!["prototype_entropy", "agreement_cosine", "agreement_js"]
        );
        assert_eq!(set.dims(), [3, 3, 3]);
        let v: Vec<f32> = set.values.try_into_vec_as::<f32>().unwrap();
        // [b, m, s]: instance 1 modality 1 is missing, instance 2 modalities 0 and 1 are.
        for (b, m) in [(1, 1), (2, 0), (2, 1)] {
            for s in 0..3 {
                assert_eq!(v[b * 9 + m * 3 + s], -7.0);
            }
        }
        assert!(v.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn config_errors_are_typed() {
        assert_eq!(
            SignalStack::from_kinds(&[SignalKind::AgreementJs], None).unwrap_err(),
            SignalError::MissingPrototypes {
                signal: "agreement_js".into()
            }
        );
        assert_eq!(
            SignalStack::from_kinds(&[], None).unwrap_err(),
            SignalError::Empty
        );
        assert!(matches!(
            SignalStack::from_kinds(&[SignalKind::Energy, SignalKind::Energy], None),
            Err(SignalError::Duplicate { .. })
        ));
    }

    #[test]
    fn kinds_have_serde_names() {
        let kinds: Vec<SignalKind> =
            serde_json::from_str(r#"["prototype_entropy", "agreement_js", "energy"]"#).unwrap();
        assert_eq!(kinds[1].name(), "agreement_js");
        assert!(kinds[1].is_agreement() && !kinds[0].is_agreement());
        assert_eq!(
            serde_json::to_string(&SignalKind::AttentionEntropy).unwrap(),
            "\"attention_entropy\""
        );
    }
}
