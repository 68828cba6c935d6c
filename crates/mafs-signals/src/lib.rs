//! Uncertainty signals for modality-aware fusion: prototype, attention and predictive entropy, energy, cross-modal agreement.
