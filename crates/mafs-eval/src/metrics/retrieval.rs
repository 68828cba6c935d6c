//! Image-text retrieval recall, as the ALBEF/BLIP evaluation code (`itm_eval`) ranks.
//!
//! - image → text: the rank of an item is the best rank among its captions;
//! - text → image: the rank of a caption is the rank of its item;
//! - R@k = percentage of queries whose rank is below k; rsum = the sum of the six recalls.
//!
//! Ranks are counted, not sorted: the rank of the ground truth is the number of candidates
//! that score strictly higher than it ([`TiePolicy::Optimistic`], the default) or at least
//! as high ([`TiePolicy::Pessimistic`], other ground-truth captions of the same item
//! excluded), so a 5,000 x 25,000 matrix costs two passes over its entries. `itm_eval`
//! sorts with `np.argsort`, whose order among equal scores is unspecified; with distinct
//! scores both give the same ranks.
//!
//! Scores are a row-major `[n_items, n_captions]` slice; with ITM re-ranking the two
//! directions have different score matrices (each re-ranks its own top k), so
//! [`retrieval_metrics_two_way`] takes both.

use burn::tensor::Tensor;
use serde::Serialize;

use super::error::{MetricsError, Result};

/// How equal scores are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TiePolicy {
    /// A candidate tied with the ground truth does not push it down.
    #[default]
    Optimistic,
    /// A candidate tied with the ground truth ranks above it.
    Pessimistic,
}

/// Recall at 1, 5, 10 (percent) in both directions, and their sum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalMetrics {
    /// Image → text R@1 (`txt_r1` in ALBEF/BLIP).
    pub i2t_r1: f64,
    /// Image → text R@5.
    pub i2t_r5: f64,
    /// Image → text R@10.
    pub i2t_r10: f64,
    /// Text → image R@1 (`img_r1` in ALBEF/BLIP).
    pub t2i_r1: f64,
    /// Text → image R@5.
    pub t2i_r5: f64,
    /// Text → image R@10.
    pub t2i_r10: f64,
    /// Sum of the six recalls.
    pub rsum: f64,
    /// Number of items (image queries).
    pub n_items: usize,
    /// Number of captions (text queries).
    pub n_captions: usize,
}

/// The 0-based rank of each query's ground truth, in both directions.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranks {
    /// Per item: the best rank among its captions.
    pub i2t: Vec<usize>,
    /// Per caption: the rank of its item.
    pub t2i: Vec<usize>,
}

fn check_scores(scores: &[f32], rows: usize, cols: usize, what: &str) -> Result<()> {
    if scores.len() != rows * cols {
        return Err(MetricsError::InvalidInput(format!(
            "{what}: {} scores for a [{rows}, {cols}] matrix",
            scores.len()
        )));
    }
    if let Some(i) = scores.iter().position(|s| s.is_nan()) {
        return Err(MetricsError::InvalidInput(format!(
            "{what}: score [{}, {}] is NaN",
            i / cols.max(1),
            i % cols.max(1)
        )));
    }
    Ok(())
}

fn captions_per_item(caption_to_item: &[usize], n_items: usize) -> Result<Vec<Vec<usize>>> {
    let mut per_item = vec![Vec::new(); n_items];
    for (c, &i) in caption_to_item.iter().enumerate() {
        if i >= n_items {
            return Err(MetricsError::InvalidInput(format!(
                "caption {c} belongs to item {i}, but there are {n_items} items"
            )));
        }
        per_item[i].push(c);
    }
    if let Some(i) = per_item.iter().position(Vec::is_empty) {
        return Err(MetricsError::InvalidInput(format!(
            "item {i} has no caption: image → text recall is undefined"
        )));
    }
    Ok(per_item)
}

fn beats(s: f32, gt: f32, ties: TiePolicy) -> bool {
    match ties {
        TiePolicy::Optimistic => s > gt,
        TiePolicy::Pessimistic => s >= gt,
    }
}

/// Ground-truth ranks from an image → text matrix `i2t [n_items, n_captions]` and a
/// text → image matrix `t2i [n_captions, n_items]` (both row-major).
///
/// # Errors
/// [`MetricsError::InvalidInput`] for wrong lengths, NaN scores, a caption mapped to no
/// item, or an item without captions.
pub fn ranks_two_way(
    i2t: &[f32],
    t2i: &[f32],
    n_items: usize,
    caption_to_item: &[usize],
    ties: TiePolicy,
) -> Result<Ranks> {
    let n_captions = caption_to_item.len();
    check_scores(i2t, n_items, n_captions, "image → text scores")?;
    check_scores(t2i, n_captions, n_items, "text → image scores")?;
    let per_item = captions_per_item(caption_to_item, n_items)?;
    let i2t_ranks = (0..n_items)
        .map(|i| {
            let row = &i2t[i * n_captions..(i + 1) * n_captions];
            // The best-ranked ground truth is the highest-scoring one.
            let best = per_item[i]
                .iter()
                .map(|&c| row[c])
                .fold(f32::NEG_INFINITY, f32::max);
            row.iter()
                .enumerate()
                .filter(|&(c, &s)| caption_to_item[c] != i && beats(s, best, ties))
                .count()
        })
        .collect();
    let t2i_ranks = (0..n_captions)
        .map(|c| {
            let row = &t2i[c * n_items..(c + 1) * n_items];
            let gt_item = caption_to_item[c];
            let gt = row[gt_item];
            row.iter()
                .enumerate()
                .filter(|&(i, &s)| i != gt_item && beats(s, gt, ties))
                .count()
        })
        .collect();
    Ok(Ranks {
        i2t: i2t_ranks,
        t2i: t2i_ranks,
    })
}

/// Ground-truth ranks from one similarity matrix `[n_items, n_captions]` used for both
/// directions (no re-ranking), without transposing it.
///
/// # Errors
/// As [`ranks_two_way`].
pub fn ranks(
    similarity: &[f32],
    n_items: usize,
    caption_to_item: &[usize],
    ties: TiePolicy,
) -> Result<Ranks> {
    let n_captions = caption_to_item.len();
    check_scores(similarity, n_items, n_captions, "similarity")?;
    let per_item = captions_per_item(caption_to_item, n_items)?;
    let mut i2t_ranks = Vec::with_capacity(n_items);
    // Ground-truth score of each caption, then one row-major pass counting, per caption,
    // the items that beat its own.
    let gt: Vec<f32> = caption_to_item
        .iter()
        .enumerate()
        .map(|(c, &i)| similarity[i * n_captions + c])
        .collect();
    let mut t2i_ranks = vec![0usize; n_captions];
    for i in 0..n_items {
        let row = &similarity[i * n_captions..(i + 1) * n_captions];
        let best = per_item[i]
            .iter()
            .map(|&c| row[c])
            .fold(f32::NEG_INFINITY, f32::max);
        let mut rank = 0;
        for (c, &s) in row.iter().enumerate() {
            let own = caption_to_item[c] == i;
            if !own {
                rank += usize::from(beats(s, best, ties));
                t2i_ranks[c] += usize::from(beats(s, gt[c], ties));
            }
        }
        i2t_ranks.push(rank);
    }
    Ok(Ranks {
        i2t: i2t_ranks,
        t2i: t2i_ranks,
    })
}

impl Ranks {
    /// Recall at 1, 5 and 10 and rsum, in percent.
    pub fn metrics(&self) -> RetrievalMetrics {
        // tr1 = 100.0 * len(np.where(ranks < 1)[0]) / len(ranks)
        let recall = |r: &[usize], k: usize| {
            100.0 * r.iter().filter(|&&x| x < k).count() as f64 / r.len().max(1) as f64
        };
        let (i1, i5, i10) = (
            recall(&self.i2t, 1),
            recall(&self.i2t, 5),
            recall(&self.i2t, 10),
        );
        let (t1, t5, t10) = (
            recall(&self.t2i, 1),
            recall(&self.t2i, 5),
            recall(&self.t2i, 10),
        );
        RetrievalMetrics {
            i2t_r1: i1,
            i2t_r5: i5,
            i2t_r10: i10,
            t2i_r1: t1,
            t2i_r5: t5,
            t2i_r10: t10,
            rsum: i1 + i5 + i10 + t1 + t5 + t10,
            n_items: self.i2t.len(),
            n_captions: self.t2i.len(),
        }
    }
}

/// Recall metrics from one similarity matrix `[n_items, n_captions]` (row-major) and the
/// item of each caption.
///
/// # Errors
/// As [`ranks_two_way`].
pub fn retrieval_metrics(
    similarity: &[f32],
    n_items: usize,
    caption_to_item: &[usize],
) -> Result<RetrievalMetrics> {
    Ok(ranks(similarity, n_items, caption_to_item, TiePolicy::default())?.metrics())
}

/// Recall metrics from separate image → text `[n_items, n_captions]` and text → image
/// `[n_captions, n_items]` score matrices (as after ITM re-ranking).
///
/// # Errors
/// As [`ranks_two_way`].
pub fn retrieval_metrics_two_way(
    i2t: &[f32],
    t2i: &[f32],
    n_items: usize,
    caption_to_item: &[usize],
) -> Result<RetrievalMetrics> {
    Ok(ranks_two_way(i2t, t2i, n_items, caption_to_item, TiePolicy::default())?.metrics())
}

/// Recall metrics from a burn similarity tensor `[n_items, n_captions]` (read back to the
/// host, then as [`retrieval_metrics`]).
///
/// # Errors
/// As [`ranks_two_way`], and if the tensor's columns do not match `caption_to_item`.
pub fn retrieval_metrics_tensor(
    similarity: Tensor<2>,
    caption_to_item: &[usize],
) -> Result<RetrievalMetrics> {
    let [n_items, n_captions] = similarity.dims();
    if n_captions != caption_to_item.len() {
        return Err(MetricsError::InvalidInput(format!(
            "similarity has {n_captions} columns but {} captions are mapped",
            caption_to_item.len()
        )));
    }
    let data = similarity
        .into_data_as::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| MetricsError::InvalidInput(format!("similarity readback: {e:?}")))?;
    retrieval_metrics(&data, n_items, caption_to_item)
}

/// Indices of the `k` highest scores of a row, best first (ties: lower index first).
pub fn top_k(row: &[f32], k: usize) -> Vec<usize> {
    let cmp = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..row.len()).collect();
    let k = k.min(row.len());
    if k < idx.len() && k > 0 {
        idx.select_nth_unstable_by(k - 1, cmp);
    }
    idx.truncate(k);
    idx.sort_by(cmp);
    idx
}

/// How the re-ranked candidates are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RerankScore {
    /// The ITM score alone (ALBEF: `score_matrix_i2t[i, topk_idx] = score`).
    Itm,
    /// ITM score plus ITC similarity (BLIP: `= score + topk_sim`).
    #[default]
    ItmPlusItc,
}

/// ITM re-ranking of one query's row, as ALBEF/BLIP evaluate: the `topk` candidates (by
/// ITC) are re-scored by ITM and ranked first, in the order of their new scores; every
/// other candidate keeps its ITC score and order below them. (ALBEF/BLIP set the others to
/// -100, tying them all; keeping their ITC order only changes ranks beyond k.)
///
/// Returns a new score row to pass to the recall functions: the non-top-k entries keep
/// their ITC value, the top-k ones are lifted above the largest ITC score, ordered (and
/// tied) as their re-rank scores are.
///
/// # Errors
/// [`MetricsError::InvalidInput`] if `topk` and `itm` differ in length, an index is out of
/// range or repeated, or a score is NaN.
pub fn itm_rerank(itc: &[f32], topk: &[usize], itm: &[f32], mode: RerankScore) -> Result<Vec<f32>> {
    if topk.len() != itm.len() {
        return Err(MetricsError::InvalidInput(format!(
            "ITM re-ranking: {} candidates but {} ITM scores",
            topk.len(),
            itm.len()
        )));
    }
    let mut seen = vec![false; itc.len()];
    for &j in topk {
        if j >= itc.len() || std::mem::replace(&mut seen[j], true) {
            return Err(MetricsError::InvalidInput(format!(
                "ITM re-ranking: candidate index {j} out of range or repeated (row of {})",
                itc.len()
            )));
        }
    }
    if itc.iter().chain(itm).any(|s| s.is_nan()) {
        return Err(MetricsError::InvalidInput(
            "ITM re-ranking: NaN score".into(),
        ));
    }
    let combined: Vec<f32> = topk
        .iter()
        .zip(itm)
        .map(|(&j, &s)| match mode {
            RerankScore::Itm => s,
            RerankScore::ItmPlusItc => s + itc[j],
        })
        .collect();
    // Order the re-ranked candidates, then give each tie group one lifted score.
    let mut order: Vec<usize> = (0..topk.len()).collect();
    order.sort_by(|&a, &b| combined[a].total_cmp(&combined[b]));
    let base = itc
        .iter()
        .copied()
        .filter(|s| s.is_finite())
        .fold(0.0f32, f32::max)
        + 1.0;
    let mut out = itc.to_vec();
    let mut level = 0.0f32;
    for (pos, &o) in order.iter().enumerate() {
        if pos > 0 && combined[o] != combined[order[pos - 1]] {
            level += 1.0;
        }
        out[topk[o]] = base + level;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3 items, 2 captions each: caption c belongs to item c / 2.
    fn mapping() -> Vec<usize> {
        vec![0, 0, 1, 1, 2, 2]
    }

    #[test]
    fn perfect_similarity_gives_full_recall() {
        let map = mapping();
        let mut sim = vec![0.0f32; 3 * 6];
        for (c, &i) in map.iter().enumerate() {
            sim[i * 6 + c] = 1.0;
        }
        let m = retrieval_metrics(&sim, 3, &map).unwrap();
        assert_eq!(m.i2t_r1, 100.0);
        assert_eq!(m.t2i_r1, 100.0);
        assert_eq!(m.rsum, 600.0);
    }

    #[test]
    fn hand_checked_ranks() {
        // rows: items, cols: captions (c0,c1 -> item0; c2,c3 -> item1; c4,c5 -> item2)
        #[rustfmt::skip]
        let sim = vec![
            0.1, 0.9, 0.8, 0.2, 0.0, 0.3, // item0: best own = 0.9 (c1) -> rank 0
            0.5, 0.6, 0.1, 0.4, 0.7, 0.0, // item1: best own = 0.4 (c3); beaten by 0.5 0.6 0.7 -> 3
            0.9, 0.8, 0.7, 0.6, 0.5, 0.1, // item2: best own = 0.5 (c4); beaten by 4 -> rank 4
        ];
        let r = ranks(&sim, 3, &mapping(), TiePolicy::Optimistic).unwrap();
        assert_eq!(r.i2t, vec![0, 3, 4]);
        // t2i column c0: gt item0 0.1; beaten by 0.5, 0.9 -> 2. c1: 0.9 vs 0.6, 0.8 -> 0.
        // c2: item1 0.1 vs 0.8, 0.7 -> 2. c3: 0.4 vs 0.2, 0.6 -> 1.
        // c4: item2 0.5 vs 0.0, 0.7 -> 1. c5: 0.1 vs 0.3, 0.0 -> 1.
        assert_eq!(r.t2i, vec![2, 0, 2, 1, 1, 1]);
        let m = r.metrics();
        assert!((m.i2t_r1 - 100.0 / 3.0).abs() < 1e-9);
        assert!((m.i2t_r5 - 100.0).abs() < 1e-9);
        assert!((m.t2i_r1 - 100.0 / 6.0).abs() < 1e-9);
        // The two-way version with the transpose agrees.
        let mut t2i = vec![0.0f32; 18];
        for i in 0..3 {
            for c in 0..6 {
                t2i[c * 3 + i] = sim[i * 6 + c];
            }
        }
        let r2 = ranks_two_way(&sim, &t2i, 3, &mapping(), TiePolicy::Optimistic).unwrap();
        assert_eq!(r, r2);
    }

    #[test]
    fn ties_follow_the_policy() {
        // Every score equal: optimistic rank 0, pessimistic rank = number of others.
        let sim = vec![0.5f32; 3 * 6];
        let o = ranks(&sim, 3, &mapping(), TiePolicy::Optimistic).unwrap();
        assert!(o.i2t.iter().chain(&o.t2i).all(|&r| r == 0));
        let p = ranks(&sim, 3, &mapping(), TiePolicy::Pessimistic).unwrap();
        assert_eq!(p.i2t, vec![4, 4, 4]);
        assert_eq!(p.t2i, vec![2; 6]);
    }

    #[test]
    fn bad_input_is_rejected() {
        assert!(retrieval_metrics(&[0.0; 5], 3, &mapping()).is_err());
        assert!(retrieval_metrics(&[0.0; 6], 3, &[0, 0]).is_err()); // items 1, 2 captionless
        assert!(retrieval_metrics(&[0.0; 2], 1, &[0, 1]).is_err()); // item out of range
        let mut sim = vec![0.0f32; 18];
        sim[3] = f32::NAN;
        assert!(retrieval_metrics(&sim, 3, &mapping()).is_err());
    }

    #[test]
    fn tensor_input_matches_slice_input() {
        let device = burn::tensor::Device::flex();
        #[rustfmt::skip]
        let sim = vec![
            0.1f32, 0.9, 0.8, 0.2, 0.0, 0.3,
            0.5, 0.6, 0.1, 0.4, 0.7, 0.0,
            0.9, 0.8, 0.7, 0.6, 0.5, 0.1,
        ];
        let t = Tensor::<2>::from_data(burn::tensor::TensorData::new(sim.clone(), [3, 6]), &device);
        let a = retrieval_metrics_tensor(t, &mapping()).unwrap();
        let b = retrieval_metrics(&sim, 3, &mapping()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn top_k_orders_best_first_with_index_ties() {
        let row = [0.1, 0.9, 0.5, 0.9, 0.3];
        assert_eq!(top_k(&row, 3), vec![1, 3, 2]);
        assert_eq!(top_k(&row, 10), vec![1, 3, 2, 4, 0]);
        assert!(top_k(&row, 0).is_empty());
    }

    #[test]
    fn itm_rerank_reorders_top_k_and_keeps_the_rest() {
        let itc = [0.9, 0.8, 0.7, 0.1, 0.2];
        let topk = top_k(&itc, 3); // [0, 1, 2]
        // ITM prefers candidate 2, then 0, then 1.
        let out = itm_rerank(&itc, &topk, &[0.5, 0.1, 2.0], RerankScore::Itm).unwrap();
        assert!(out[2] > out[0] && out[0] > out[1]);
        assert!(out[1] > out[4] && out[4] > out[3]);
        assert_eq!(&out[3..], &[0.1, 0.2]);
        let final_order = top_k(&out, 5);
        assert_eq!(final_order, vec![2, 0, 1, 4, 3]);
        // BLIP mode adds ITC: 0.9+0.5=1.4, 0.8+0.1=0.9, 0.7+0.6=1.3 -> 0, 2, 1.
        let out = itm_rerank(&itc, &topk, &[0.5, 0.1, 0.6], RerankScore::ItmPlusItc).unwrap();
        assert_eq!(top_k(&out, 3), vec![0, 2, 1]);
        assert!(itm_rerank(&itc, &[0, 0], &[1.0, 2.0], RerankScore::Itm).is_err());
        assert!(itm_rerank(&itc, &[7], &[1.0], RerankScore::Itm).is_err());
    }
}
