//! Retrieval, captioning (COCO caption evaluation) and VQA metrics, robustness sweeps and plots for mafs.
