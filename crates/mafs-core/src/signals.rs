//! Named per-modality signal values, the scheduler's input.

use burn::tensor::Tensor;

/// Signal values for every instance, modality and signal.
///
/// # Shapes
///
/// - `values`: `[batch, M, S]`, where `S = names.len()`; the entry for a missing modality is
///   defined (finite) but meaningless, and every consumer masks it with the presence mask.
#[derive(Debug, Clone)]
pub struct SignalSet {
    /// Signal names, e.g. `["prototype_entropy", "agreement_cosine"]`.
    pub names: Vec<String>,
    /// Values.
    pub values: Tensor<3>,
}

impl SignalSet {
    /// Stacks per-signal `[batch, M]` tensors into a set.
    ///
    /// # Panics
    ///
    /// Panics when `names` and `signals` differ in length, when there is no signal, or when
    /// the tensors disagree in shape.
    pub fn from_signals(names: Vec<String>, signals: Vec<Tensor<2>>) -> Self {
        assert_eq!(
            names.len(),
            signals.len(),
            "SignalSet: {} names for {} signals",
            names.len(),
            signals.len()
        );
        assert!(!signals.is_empty(), "SignalSet: at least one signal");
        let dims = signals[0].dims();
        for (name, s) in names.iter().zip(&signals) {
            assert_eq!(
                s.dims(),
                dims,
                "SignalSet: signal `{name}` has shape {:?}, expected {dims:?}",
                s.dims()
            );
        }
        Self {
            names,
            values: Tensor::stack(signals, 2),
        }
    }

    /// `[batch, M, S]`.
    pub fn dims(&self) -> [usize; 3] {
        self.values.dims()
    }

    /// Number of signals `S`.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the set holds no signal.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The `[batch, M]` values of one signal, by name.
    pub fn get(&self, name: &str) -> Option<Tensor<2>> {
        let i = self.names.iter().position(|n| n == name)?;
        let [b, m, _] = self.dims();
        Some(
            self.values
                .clone()
                .slice([0..b, 0..m, i..i + 1])
                .reshape([b, m]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn stacks_and_gets_by_name() {
        let device = Device::flex();
        let a = Tensor::<2>::from_floats([[0.1, 0.2], [0.3, 0.4]], &device);
        let b = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        let set = SignalSet::from_signals(vec!["a".into(), "b".into()], vec![a, b.clone()]);
        assert_eq!(set.dims(), [2, 2, 2]);
        let got = set
            .get("b")
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(got, b.into_data().try_to_vec::<f32>().unwrap());
        assert!(set.get("c").is_none());
    }

    #[test]
    #[should_panic(expected = "signal `b` has shape")]
    fn rejects_mismatched_shapes() {
        let device = Device::flex();
        let a = Tensor::<2>::zeros([2, 2], &device);
        let b = Tensor::<2>::zeros([2, 3], &device);
        let _ = SignalSet::from_signals(vec!["a".into(), "b".into()], vec![a, b]);
    }
}
