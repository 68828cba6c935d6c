//! Late and query (cross-attention) fusion heads for any number of modalities.
