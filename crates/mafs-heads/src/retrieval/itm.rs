//! ITM: the match classifier over fused (item, caption) pairs, and the hard negatives drawn
//! from the ITC similarities that it trains on.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, assert_shape};
use mafs_core::{Fused, TaskHead};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::loss::cross_entropy;

/// Configuration of [`ItmHead`].
#[derive(Config, Debug)]
pub struct ItmHeadConfig {
    /// Width of the fused (item, caption) pair embedding.
    pub d_input: usize,
}

impl ItmHeadConfig {
    /// Builds the head.
    pub fn init(&self, device: &Device) -> ItmHead {
        ItmHead {
            linear: LinearConfig::new(self.d_input, 2).init(device),
        }
    }
}

/// ITM: `Linear(d, 2)` over a fused (item, caption) pair; class 1 = match.
#[derive(Module, Debug)]
pub struct ItmHead {
    /// ALBEF's and BLIP's `itm_head`.
    pub linear: Linear,
}

impl ItmHead {
    /// Match / no-match logits.
    ///
    /// # Shapes
    ///
    /// - `pairs`: `[pairs, d_input]` → `[pairs, 2]`
    pub fn forward(&self, pairs: Tensor<2>) -> Tensor<2> {
        let d = self.linear.weight.dims()[0];
        assert_shape!(pairs, [_, d]);
        self.linear.forward(pairs)
    }

    /// Probability of a match, `[pairs]`.
    pub fn itm_scores(&self, pairs: Tensor<2>) -> Tensor<1> {
        let [p, _] = pairs.dims();
        softmax(self.forward(pairs), 1)
            .slice([0..p, 1..2])
            .reshape([p])
    }

    /// The match logit `logits[:, 1]`, `[pairs]`: the score ALBEF and BLIP add to the ITC
    /// similarity when they re-rank.
    pub fn match_logit(&self, pairs: Tensor<2>) -> Tensor<1> {
        let [p, _] = pairs.dims();
        self.forward(pairs).slice([0..p, 1..2]).reshape([p])
    }
}

impl TaskHead for ItmHead {
    /// Labels `[pairs]`: 1 = matching pair, 0 = negative pair.
    type Target = Tensor<1, Int>;
    /// Match probabilities `[pairs]`.
    type Output = Tensor<1>;

    fn task(&self) -> &str {
        "retrieval"
    }

    fn loss(&self, fused: &Fused, labels: &Tensor<1, Int>) -> Tensor<1> {
        cross_entropy(self.forward(fused.pooled.clone()), labels.clone())
    }

    fn predict(&self, fused: &Fused) -> Tensor<1> {
        self.itm_scores(fused.pooled.clone())
    }
}

/// Hard negatives drawn from ITC similarities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardNegatives {
    /// For each item (row), the index of a negative caption; `None` when every caption of the
    /// batch belongs to that item.
    pub caption_for_item: Vec<Option<usize>>,
    /// For each caption (column), the index of a negative item; `None` when every item of the
    /// batch is that caption's item.
    pub item_for_caption: Vec<Option<usize>>,
}

/// One (item, caption) pair for the ITM head and its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItmPair {
    /// Row of the item in the batch.
    pub item: usize,
    /// Row of the caption in the batch.
    pub caption: usize,
    /// 1 = match, 0 = negative.
    pub label: i64,
}

impl HardNegatives {
    /// ALBEF's ITM batch: the `B` positive pairs `(i, i)`, then for each caption `j` the pair
    /// (negative item, `j`), then for each item `i` the pair (`i`, negative caption); rows
    /// without a negative are skipped.
    pub fn itm_pairs(&self) -> Vec<ItmPair> {
        let b = self.caption_for_item.len();
        let mut pairs: Vec<ItmPair> = (0..b)
            .map(|i| ItmPair {
                item: i,
                caption: i,
                label: 1,
            })
            .collect();
        for (caption, item) in self.item_for_caption.iter().enumerate() {
            if let Some(item) = *item {
                pairs.push(ItmPair {
                    item,
                    caption,
                    label: 0,
                });
            }
        }
        for (item, caption) in self.caption_for_item.iter().enumerate() {
            if let Some(caption) = *caption {
                pairs.push(ItmPair {
                    item,
                    caption,
                    label: 0,
                });
            }
        }
        pairs
    }
}

/// Draws one negative caption per item and one negative item per caption with probability
/// `softmax(logits) + 1e-4` over the non-positives, as BLIP's `blip_retrieval.py`:
/// `mask = torch.eq(idx, idx.t()); weights_i2t = F.softmax(sim_i2t, dim=1) + 1e-4;
/// weights_i2t.masked_fill_(mask, 0); neg_idx = torch.multinomial(weights_t2i[b], 1)`.
/// Deterministic given the RNG state.
///
/// # Shapes
///
/// - `logits`: `[batch, batch]`, item i × caption j (e.g. [`crate::InfoNceOutput::logits`])
/// - `item_ids`: `batch` ids; captions `j` with `item_ids[j] == item_ids[i]` are positives of
///   item i
///
/// # Panics
///
/// Panics if `logits` is not square with one row per id.
pub fn hard_negatives(
    logits: Tensor<2>,
    item_ids: &[i64],
    rng: &mut impl RngCore,
) -> HardNegatives {
    let b = item_ids.len();
    assert_shape!(logits, [b, b]);
    let logits = logits.detach();
    let i2t = softmax(logits.clone(), 1)
        .try_into_vec_as::<f32>()
        .expect("read ITC weights");
    let t2i = softmax(logits.transpose(), 1)
        .try_into_vec_as::<f32>()
        .expect("read ITC weights");
    let draw = |weights: &[f32], rng: &mut dyn RngCore, row: usize| -> Option<usize> {
        let w: Vec<f64> = (0..b)
            .map(|j| {
                if item_ids[j] == item_ids[row] {
                    0.0
                } else {
                    weights[row * b + j] as f64 + 1.0e-4
                }
            })
            .collect();
        sample_index(&w, rng)
    };
    let caption_for_item = (0..b).map(|i| draw(&i2t, rng, i)).collect();
    let item_for_caption = (0..b).map(|j| draw(&t2i, rng, j)).collect();
    HardNegatives {
        caption_for_item,
        item_for_caption,
    }
}

/// [`hard_negatives`] with a fresh ChaCha8 stream from `seed`.
pub fn hard_negatives_seeded(logits: Tensor<2>, item_ids: &[i64], seed: u64) -> HardNegatives {
    hard_negatives(logits, item_ids, &mut ChaCha8Rng::seed_from_u64(seed))
}

/// Index drawn with probability proportional to `weights` (non-negative); `None` if they sum
/// to zero. Uses 53 random bits per draw.
fn sample_index(weights: &[f64], rng: &mut dyn RngCore) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * total;
    let mut acc = 0.0;
    let mut last = None;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            acc += w;
            last = Some(i);
            if u < acc {
                return Some(i);
            }
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn dev() -> Device {
        let d = Device::flex();
        d.seed(0);
        d
    }

    #[test]
    fn hard_negatives_never_pick_positives_and_are_seeded() {
        let d = dev();
        let logits = Tensor::<2>::random([6, 6], Distribution::Normal(0.0, 3.0), &d);
        let ids = [0i64, 0, 1, 2, 3, 3];
        let a = hard_negatives_seeded(logits.clone(), &ids, 7);
        let b = hard_negatives_seeded(logits.clone(), &ids, 7);
        assert_eq!(a, b);
        for (i, neg) in a.caption_for_item.iter().enumerate() {
            assert_ne!(ids[neg.unwrap()], ids[i]);
        }
        for (j, neg) in a.item_for_caption.iter().enumerate() {
            assert_ne!(ids[neg.unwrap()], ids[j]);
        }
        // A batch of one item has no negatives.
        let none = hard_negatives_seeded(logits, &[4; 6], 7);
        assert!(none.caption_for_item.iter().all(Option::is_none));
        assert!(none.itm_pairs().iter().all(|p| p.label == 1));
    }

    #[test]
    fn hard_negatives_follow_the_similarity() {
        // Item 0 is far more similar to caption 1 than to 2 or 3: almost every draw picks 1.
        let d = dev();
        let logits = Tensor::<2>::from_floats(
            [
                [10.0f32, 9.0, 0.0, 0.0],
                [0.0, 10.0, 0.0, 0.0],
                [0.0, 0.0, 10.0, 0.0],
                [0.0, 0.0, 0.0, 10.0],
            ],
            &d,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let picks: Vec<usize> = (0..200)
            .map(|_| {
                hard_negatives(logits.clone(), &[0, 1, 2, 3], &mut rng).caption_for_item[0].unwrap()
            })
            .collect();
        let ones = picks.iter().filter(|&&p| p == 1).count();
        // P(1) = (e^9/Z + 1e-4) / sum over {1,2,3}, about 0.9995 of the non-positive mass.
        assert!(ones >= 195, "{ones} of 200");
    }

    #[test]
    fn itm_pairs_follow_albef_layout() {
        let hn = HardNegatives {
            caption_for_item: vec![Some(1), Some(0), None],
            item_for_caption: vec![Some(2), None, Some(0)],
        };
        let pairs = hn.itm_pairs();
        let labels: Vec<i64> = pairs.iter().map(|p| p.label).collect();
        assert_eq!(labels, vec![1, 1, 1, 0, 0, 0, 0]);
        assert_eq!((pairs[3].item, pairs[3].caption), (2, 0));
        assert_eq!((pairs[5].item, pairs[5].caption), (0, 1));
    }

    #[test]
    fn itm_head_scores_are_probabilities_and_loss_is_ce() {
        let d = dev();
        let head = ItmHeadConfig::new(4).init(&d);
        let pairs = Tensor::<2>::random([5, 4], Distribution::Normal(0.0, 1.0), &d);
        let p = head
            .itm_scores(pairs.clone())
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(p.iter().all(|&x| (0.0..=1.0).contains(&x)));
        let labels = Tensor::<1, Int>::from_ints([1, 0, 0, 1, 0], &d);
        let l: f32 = head
            .loss(&Fused::pooled(pairs.clone()), &labels)
            .into_scalar();
        let want: f32 = cross_entropy(head.forward(pairs), labels).into_scalar();
        assert_eq!(l, want);
    }
}
