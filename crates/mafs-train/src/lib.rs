//! Training loop, safetensors checkpoints and resume for mafs.
