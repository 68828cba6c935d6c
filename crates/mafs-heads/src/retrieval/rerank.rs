//! Evaluation-time re-ranking of ITC candidates by ITM.

use burn::tensor::{Tensor, TensorData};

/// Re-ranks the top `k` candidates of each query by ITM, as ALBEF's and BLIP's evaluation:
/// `score[q, c] = itm(q, c) + sim[q, c]` for the `k` candidates of query `q` with the highest
/// `sim`, -100 elsewhere. `itm(q, candidates)` returns one match score per candidate (ALBEF
/// and BLIP use [`super::ItmHead::match_logit`]). For the other direction pass `sim.transpose()` and
/// a closure with the roles swapped.
///
/// # Shapes
///
/// - `sim`: `[queries, candidates]` cosine similarities → `[queries, candidates]`
///
/// # Panics
///
/// Panics if `k` is zero or the closure returns the wrong number of scores.
pub fn rerank_top_k(
    sim: Tensor<2>,
    k: usize,
    mut itm: impl FnMut(usize, &[usize]) -> Vec<f32>,
) -> Tensor<2> {
    assert!(k > 0, "rerank_top_k: k must be positive");
    let [n, m] = sim.dims();
    let device = sim.device();
    let k = k.min(m);
    let (top_sim, top_idx) = sim.detach().topk_with_indices(k, 1);
    let top_sim = top_sim.try_into_vec_as::<f32>().expect("read similarities");
    let top_idx = top_idx.try_into_vec_as::<i64>().expect("read indices");
    let mut scores = vec![-100.0f32; n * m];
    for q in 0..n {
        let cands: Vec<usize> = top_idx[q * k..(q + 1) * k]
            .iter()
            .map(|&c| c as usize)
            .collect();
        let itm_scores = itm(q, &cands);
        assert_eq!(
            itm_scores.len(),
            k,
            "rerank_top_k: the ITM closure returned {} scores for {k} candidates",
            itm_scores.len()
        );
        for (r, &c) in cands.iter().enumerate() {
            scores[q * m + c] = itm_scores[r] + top_sim[q * k + r];
        }
    }
    Tensor::from_data(TensorData::new(scores, [n, m]), &device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn dev() -> Device {
        let d = Device::flex();
        d.seed(0);
        d
    }

    #[test]
    fn rerank_adds_itm_to_top_k_only() {
        let d = dev();
        let sim = Tensor::<2>::from_floats([[0.9f32, 0.1, 0.5], [0.2, 0.3, 0.8]], &d);
        let scores = rerank_top_k(sim, 2, |q, cands| {
            // The ITM prefers the lower-ranked candidate strongly.
            cands
                .iter()
                .map(|&c| if q == 0 && c == 2 { 5.0 } else { 0.0 })
                .collect()
        });
        let s = scores.try_into_vec_as::<f32>().unwrap();
        assert_eq!(s[1], -100.0);
        assert!((s[0] - 0.9).abs() < 1e-6);
        assert!((s[2] - 5.5).abs() < 1e-6);
        assert_eq!(s[3], -100.0);
        assert!((s[5] - 0.8).abs() < 1e-6);
    }
}
