//! Raw per-modality inputs, as a batcher hands them to an encoder.

use burn::tensor::{Bool, Int, Tensor};

use crate::corruption::CorruptionFlags;

/// The raw content of one modality for a batch.
#[derive(Debug, Clone)]
pub enum ModalityInput {
    /// Images, `[batch, channels, height, width]`, values normalised as the encoder expects.
    Image(Tensor<4>),
    /// Token ids `[batch, seq]` and a padding mask `[batch, seq]` (`true` = padding).
    Tokens {
        /// Token ids.
        ids: Tensor<2, Int>,
        /// `true` where the position is padding.
        padding: Tensor<2, Bool>,
    },
    /// Pre-computed feature sequences `[batch, seq, d]` with a padding mask `[batch, seq]`
    /// (`true` = padding): the entry point for new modalities (audio frames, sensor windows,
    /// detector features...).
    Dense {
        /// Feature vectors.
        values: Tensor<3>,
        /// `true` where the position is padding.
        padding: Tensor<2, Bool>,
    },
}

impl ModalityInput {
    /// Batch size of the input.
    pub fn batch_size(&self) -> usize {
        match self {
            ModalityInput::Image(t) => t.dims()[0],
            ModalityInput::Tokens { ids, .. } => ids.dims()[0],
            ModalityInput::Dense { values, .. } => values.dims()[0],
        }
    }
}

/// One modality of a batch: its name, its content and which instances actually have it.
///
/// A missing modality is *absent* (`present = false`), not zeros: its content slot holds
/// whatever placeholder the batcher wrote (usually zeros) and every downstream stage must
/// ignore it through `present`.
#[derive(Debug, Clone)]
pub struct ModalityBatch {
    /// Modality name, e.g. `"image"`, `"text"`, `"side_text"`.
    pub name: String,
    /// The content.
    pub input: ModalityInput,
    /// `[batch]`, `true` where the instance has this modality.
    pub present: Tensor<1, Bool>,
    /// What the data pipeline did to this modality of each instance (all clean unless a
    /// corruption was applied before batching); for losses and reports, never predictions.
    pub corruption: CorruptionFlags,
}

impl ModalityBatch {
    /// Builds a batch, checking that the presence mask matches the batch size.
    ///
    /// # Panics
    ///
    /// Panics if `present` does not have one entry per instance.
    pub fn new(name: impl Into<String>, input: ModalityInput, present: Tensor<1, Bool>) -> Self {
        let b = input.batch_size();
        let [p] = present.dims();
        assert_eq!(
            p, b,
            "ModalityBatch: presence mask has {p} entries, batch has {b}"
        );
        Self {
            name: name.into(),
            input,
            present,
            corruption: CorruptionFlags::clean(b),
        }
    }

    /// Sets the corruption flags.
    ///
    /// # Panics
    ///
    /// Panics if `flags` does not have one row per instance.
    pub fn with_corruption(mut self, flags: CorruptionFlags) -> Self {
        assert_eq!(
            flags.len(),
            self.batch_size(),
            "ModalityBatch `{}`: {} corruption rows for a batch of {}",
            self.name,
            flags.len(),
            self.batch_size()
        );
        self.corruption = flags;
        self
    }

    /// Batch size.
    pub fn batch_size(&self) -> usize {
        self.input.batch_size()
    }
}
