//! Image ViT (open_clip-compatible layout) and text transformer encoders for mafs.
