//! Retrieval heads: image-text contrastive (ITC) candidates and image-text matching (ITM)
//! re-ranking, as ALBEF (salesforce/ALBEF `models/model_retrieval.py`, `Retrieval.py`) and
//! BLIP (`models/blip_retrieval.py`, `train_retrieval.py`) do them, with the item (image + side
//! text, fused by the scheduler) in the place of the image.
//!
//! - ITC: `vision_proj` / `text_proj` project to an embedding space, features are
//!   L2-normalised, `sim = feat_i · feat_t^T / temp`, symmetric InfoNCE with targets spread over
//!   every pair of the same item (`idx` equality). We use CLIP's learned `logit_scale`
//!   parameterisation (`exp(s)`, init `ln(1/0.07)`, clamped to `[0, ln 100]`) and no-bias
//!   projections as CLIP does.
//! - ITM: `itm_head = Linear(d, 2)` over the fused (item, caption) pair; one negative caption
//!   per item and one negative item per caption drawn with probability `softmax(sim) + 1e-4`,
//!   positives masked out; labels `[1]*B + [0]*2B`, cross-entropy.
//! - Evaluation: for each query the top `k` candidates by ITC cosine are re-scored with
//!   `itm_logit[:, 1] + cosine`, the rest get -100 (`score_matrix_i2t[i, topk_idx] = score +
//!   topk_sim` in ALBEF's and BLIP's `evaluation`).

mod itc;
mod itm;
mod rerank;

pub use itc::{ItcHead, ItcHeadConfig, ItcTarget};
pub use itm::{
    HardNegatives, ItmHead, ItmHeadConfig, ItmPair, hard_negatives, hard_negatives_seeded,
};
pub use rerank::rerank_top_k;
