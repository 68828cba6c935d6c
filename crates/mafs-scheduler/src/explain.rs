//! Why did an instance trust the text? Per-modality signals, logits and weights of one
//! instance, as a small serde record the CLI prints.

use std::fmt;

use mafs_core::FusionWeights;
use serde::{Deserialize, Serialize};

use crate::SchedulerError;

/// One named signal value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalValue {
    /// Signal name.
    pub name: String,
    /// Its value for this modality and instance.
    pub value: f64,
}

/// One modality of an explained instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModalityExplanation {
    /// Modality name.
    pub modality: String,
    /// Whether the instance has it.
    pub present: bool,
    /// The signals the scheduler read (empty when it read none).
    pub signals: Vec<SignalValue>,
    /// Scheduler logit; `None` for a missing modality (its logit is `-inf`).
    pub logit: Option<f64>,
    /// Fusion weight.
    pub weight: f64,
}

/// The explanation of one instance's fusion weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Instance index in the batch.
    pub instance: usize,
    /// Temperature of the softmax.
    pub tau: f64,
    /// Per-modality detail, in scheduler order.
    pub modalities: Vec<ModalityExplanation>,
    /// The modality with the largest weight (`None` when nothing is present).
    pub trusted: Option<String>,
}

/// Explains instance `instance` of a batch's fusion weights.
///
/// # Errors
///
/// [`SchedulerError::ModalityNames`] when `modality_names` does not have one name per
/// modality, [`SchedulerError::InstanceOutOfRange`] for an index beyond the batch.
pub fn explain(
    weights: &FusionWeights,
    modality_names: &[String],
    instance: usize,
) -> Result<Explanation, SchedulerError> {
    let [b, m] = weights.dims();
    if modality_names.len() != m {
        return Err(SchedulerError::ModalityNames {
            expected: m,
            got: modality_names.len(),
        });
    }
    if instance >= b {
        return Err(SchedulerError::InstanceOutOfRange { instance, batch: b });
    }
    let row = |t: burn::tensor::Tensor<2>| -> Vec<f32> {
        t.slice([instance..instance + 1, 0..m])
            .try_into_vec_as::<f32>()
            .expect("explain: reading a [1, M] tensor")
    };
    let w = row(weights.weights.clone());
    let l = row(weights.logits.clone());
    let present: Vec<bool> = weights
        .present
        .clone()
        .slice([instance..instance + 1, 0..m])
        .into_data()
        .iter::<bool>()
        .collect();
    let signal_values: Option<(Vec<String>, Vec<f32>)> = weights.signals.as_ref().map(|s| {
        let [_, sm, ns] = s.dims();
        let v = s
            .values
            .clone()
            .slice([instance..instance + 1, 0..sm, 0..ns])
            .try_into_vec_as::<f32>()
            .expect("explain: reading signals");
        (s.names.clone(), v)
    });
    let modalities: Vec<ModalityExplanation> = (0..m)
        .map(|j| ModalityExplanation {
            modality: modality_names[j].clone(),
            present: present[j],
            signals: signal_values
                .as_ref()
                .map(|(names, v)| {
                    let ns = names.len();
                    names
                        .iter()
                        .enumerate()
                        .map(|(k, n)| SignalValue {
                            name: n.clone(),
                            value: v[j * ns + k] as f64,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            logit: (present[j] && l[j].is_finite()).then_some(l[j] as f64),
            weight: w[j] as f64,
        })
        .collect();
    let trusted = modalities
        .iter()
        .filter(|e| e.present)
        .max_by(|a, b| a.weight.total_cmp(&b.weight))
        .map(|e| e.modality.clone());
    Ok(Explanation {
        instance,
        tau: weights.tau,
        modalities,
        trusted,
    })
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "instance {} (tau = {:.3})", self.instance, self.tau)?;
        for e in &self.modalities {
            if !e.present {
                writeln!(f, "  {:<12} missing                weight 0", e.modality)?;
                continue;
            }
            let logit = e.logit.map_or("-".to_string(), |l| format!("{l:+.3}"));
            write!(
                f,
                "  {:<12} logit {logit:>8}  weight {:.3}",
                e.modality, e.weight
            )?;
            for s in &e.signals {
                write!(f, "  {}={:.3}", s.name, s.value)?;
            }
            writeln!(f)?;
        }
        match &self.trusted {
            Some(t) => write!(f, "  trusted: {t}"),
            None => write!(f, "  trusted: nothing present"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedWeights;
    use burn::tensor::{Bool, Device, Tensor, TensorData};
    use mafs_core::SignalSet;

    #[test]
    fn lists_signals_logits_and_weights() {
        let device = Device::flex();
        let present = Tensor::<2, Bool>::from_data(
            TensorData::new(vec![true, true, false, true], [2, 2]),
            &device,
        );
        let mut w = mafs_core::FusionWeights {
            weights: Tensor::from_floats([[0.2, 0.8], [0.0, 1.0]], &device),
            logits: Tensor::from_floats([[-1.0, 0.4], [f32::NEG_INFINITY, 0.1]], &device),
            present: present.clone(),
            signals: None,
            tau: 0.5,
        };
        w.signals = Some(SignalSet::from_signals(
            vec!["prototype_entropy".into()],
            vec![Tensor::from_floats([[0.9, 0.1], [0.0, 0.3]], &device)],
        ));
        let names = vec!["image".to_string(), "text".to_string()];
        let e = explain(&w, &names, 0).unwrap();
        assert_eq!(e.trusted.as_deref(), Some("text"));
        assert_eq!(e.modalities[0].signals[0].name, "prototype_entropy");
        assert!((e.modalities[0].signals[0].value - 0.9).abs() < 1e-6);
        assert_eq!(e.modalities[1].logit.map(|l| (l * 10.0).round()), Some(4.0));
        let e1 = explain(&w, &names, 1).unwrap();
        assert_eq!(e1.modalities[0].logit, None);
        assert!(!e1.modalities[0].present);
        let json = serde_json::to_string(&e1).unwrap();
        let back: Explanation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e1);
        assert!(e.to_string().contains("trusted: text"));
        assert_eq!(
            explain(&w, &names, 2),
            Err(SchedulerError::InstanceOutOfRange {
                instance: 2,
                batch: 2
            })
        );
        let fixed = FixedWeights::default().weights(present);
        assert!(explain(&fixed, &names[..1], 0).is_err());
    }
}
