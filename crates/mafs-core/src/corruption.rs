//! What the data pipeline did to each modality of each instance before batching: whether it
//! was corrupted, by which corruption and at which severity, dropped, or misaligned with
//! another instance's.
//!
//! The flags are privileged knowledge that exists only where the pipeline itself corrupted
//! the data (corruption-aware training, corrupted evaluation). Models read them only in their
//! losses (a confidence target, the prototype loss on clean inputs) and evaluations in their
//! reports (the weight of a corrupted modality); nothing on the prediction path may read them.

use burn::tensor::{Bool, Device, Tensor, TensorData};

/// What was done to one modality of one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ModalityCorruption {
    /// The corruption's canonical name (`image:gaussian_noise`, `text:keyboard`,
    /// `image:missing`, `pair:misalign`); `None` when the modality is as the dataset gave it.
    pub kind: Option<String>,
    /// Severity 1-5 (0 when clean).
    pub severity: u8,
    /// The modality was dropped by the corruption (it is absent in the batch).
    pub missing: bool,
    /// The modality was replaced by another instance's (misalignment).
    pub misaligned: bool,
}

impl ModalityCorruption {
    /// A clean modality.
    pub fn clean() -> Self {
        Self::default()
    }

    /// A modality corrupted by `kind` at `severity`.
    pub fn corrupted(kind: impl Into<String>, severity: u8) -> Self {
        Self {
            kind: Some(kind.into()),
            severity,
            missing: false,
            misaligned: false,
        }
    }

    /// Whether anything was done to the modality.
    pub fn is_corrupted(&self) -> bool {
        self.kind.is_some()
    }
}

/// Per-instance corruption flags of one modality of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorruptionFlags {
    /// One entry per instance, in batch order.
    pub rows: Vec<ModalityCorruption>,
}

impl CorruptionFlags {
    /// `n` clean rows.
    pub fn clean(n: usize) -> Self {
        Self {
            rows: vec![ModalityCorruption::clean(); n],
        }
    }

    /// Flags from rows.
    pub fn new(rows: Vec<ModalityCorruption>) -> Self {
        Self { rows }
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no instances.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether each instance's modality was corrupted, dropped or misaligned.
    pub fn corrupted(&self) -> Vec<bool> {
        self.rows
            .iter()
            .map(ModalityCorruption::is_corrupted)
            .collect()
    }

    /// Whether any instance's modality was touched.
    pub fn any(&self) -> bool {
        self.rows.iter().any(ModalityCorruption::is_corrupted)
    }

    /// `[batch]`, `true` where the modality was corrupted, dropped or misaligned.
    pub fn corrupted_mask(&self, device: &Device) -> Tensor<1, Bool> {
        let v = self.corrupted();
        let n = v.len();
        Tensor::from_data(TensorData::new(v, [n]), device)
    }

    /// `[batch]`, `true` where the modality is as the dataset gave it.
    pub fn clean_mask(&self, device: &Device) -> Tensor<1, Bool> {
        let v: Vec<bool> = self.corrupted().into_iter().map(|c| !c).collect();
        let n = v.len();
        Tensor::from_data(TensorData::new(v, [n]), device)
    }

    /// The rows at `idx`, in that order.
    ///
    /// # Panics
    ///
    /// Panics if an index is out of range.
    pub fn select(&self, idx: &[usize]) -> Self {
        Self {
            rows: idx.iter().map(|&i| self.rows[i].clone()).collect(),
        }
    }

    /// The rows of several batches, in order.
    pub fn concat(parts: &[CorruptionFlags]) -> Self {
        Self {
            rows: parts.iter().flat_map(|p| p.rows.iter().cloned()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_follow_rows() {
        let device = Device::flex();
        let f = CorruptionFlags::new(vec![
            ModalityCorruption::clean(),
            ModalityCorruption::corrupted("image:fog", 3),
            ModalityCorruption {
                kind: Some("image:missing".into()),
                severity: 1,
                missing: true,
                misaligned: false,
            },
        ]);
        assert_eq!(f.corrupted(), vec![false, true, true]);
        assert!(f.any());
        let c: Vec<bool> = f
            .clean_mask(&device)
            .into_data()
            .try_to_vec::<bool>()
            .unwrap();
        assert_eq!(c, vec![true, false, false]);
        assert_eq!(f.select(&[2, 0]).corrupted(), vec![true, false]);
        assert_eq!(
            CorruptionFlags::concat(&[f.clone(), CorruptionFlags::clean(2)]).len(),
            5
        );
        assert!(!CorruptionFlags::clean(4).any());
    }
}
