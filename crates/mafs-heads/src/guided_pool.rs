//! Question-guided attention pooling: a query vector (the question's pooled embedding)
//! attends over another modality's token states and returns their weighted mean, the
//! top-down attention of classic VQA models (Anderson et al. 2018, "Bottom-Up and Top-Down
//! Attention"; Kazemi & Elqursh 2017, "Show, Ask, Attend, and Answer"): which image patches
//! or side-text tokens matter depends on what is asked, and a pooled embedding computed
//! without the question cannot know that.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor, assert_shape};

/// Configuration of [`GuidedPool`].
#[derive(Config, Debug)]
pub struct GuidedPoolConfig {
    /// Width of the token states.
    pub d_tokens: usize,
    /// Width of the guiding query vector.
    pub d_query: usize,
    /// Width of the attention's keys and queries; 0 means `d_tokens`.
    #[config(default = 0)]
    pub d_attention: usize,
}

impl GuidedPoolConfig {
    /// Builds the pool.
    ///
    /// # Panics
    ///
    /// Panics if a width is zero.
    pub fn init(&self, device: &Device) -> GuidedPool {
        assert!(
            self.d_tokens > 0 && self.d_query > 0,
            "GuidedPoolConfig: widths must be positive"
        );
        let d = if self.d_attention == 0 {
            self.d_tokens
        } else {
            self.d_attention
        };
        GuidedPool {
            key: LinearConfig::new(self.d_tokens, d).init(device),
            query: LinearConfig::new(self.d_query, d).init(device),
        }
    }
}

/// `softmax(K(tokens) . Q(query) / sqrt(d))` over the non-padding tokens, then the weighted
/// mean of the tokens.
#[derive(Module, Debug)]
pub struct GuidedPool {
    /// Key projection of the tokens.
    pub key: Linear,
    /// Projection of the guiding vector.
    pub query: Linear,
}

impl GuidedPool {
    /// The attention over the tokens, `[batch, n]` (rows sum to 1 over the non-padding
    /// positions; a row that is all padding gets zeros).
    ///
    /// # Shapes
    ///
    /// - `tokens`: `[batch, n, d_tokens]`, `padding`: `[batch, n]` (`true` = padding),
    ///   `query`: `[batch, d_query]` → `[batch, n]`
    pub fn attention(
        &self,
        tokens: Tensor<3>,
        padding: Tensor<2, Bool>,
        query: Tensor<2>,
    ) -> Tensor<2> {
        let [b, n, _] = tokens.dims();
        assert_shape!(padding, [b, n]);
        let k = self.key.forward(tokens);
        let d = k.dims()[2];
        let q = self.query.forward(query).reshape([b, d, 1]);
        let scores = k
            .matmul(q)
            .reshape([b, n])
            .div_scalar((d as f64).sqrt())
            .mask_fill(padding.clone(), -1.0e9);
        softmax(scores, 1).mask_fill(padding, 0.0)
    }

    /// The guided mean of the tokens, `[batch, d_tokens]`.
    ///
    /// # Shapes
    ///
    /// - `tokens`: `[batch, n, d_tokens]`, `padding`: `[batch, n]`, `query`: `[batch, d_query]`
    pub fn forward(
        &self,
        tokens: Tensor<3>,
        padding: Tensor<2, Bool>,
        query: Tensor<2>,
    ) -> Tensor<2> {
        let [b, n, w] = tokens.dims();
        let a = self.attention(tokens.clone(), padding, query);
        a.reshape([b, 1, n]).matmul(tokens).reshape([b, w])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    fn dev() -> Device {
        let d = Device::flex();
        d.seed(2);
        d
    }

    #[test]
    fn attention_skips_padding_and_sums_to_one() {
        let d = dev();
        let pool = GuidedPoolConfig::new(4, 3).init(&d);
        let tokens = Tensor::<3>::random([2, 3, 4], Distribution::Normal(0.0, 1.0), &d);
        let padding = Tensor::<2, Bool>::from_bool(
            TensorData::from([[false, false, true], [true, true, true]]),
            &d,
        );
        let q = Tensor::<2>::random([2, 3], Distribution::Normal(0.0, 1.0), &d);
        let a: Vec<f32> = pool
            .attention(tokens, padding, q)
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!((a[0] + a[1] - 1.0).abs() < 1e-5, "{a:?}");
        assert_eq!(&a[2..], &[0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn forward_is_the_attention_weighted_mean() {
        let d = dev();
        let pool = GuidedPoolConfig::new(4, 3).init(&d);
        let tokens = Tensor::<3>::random([2, 3, 4], Distribution::Normal(0.0, 1.0), &d);
        let padding = Tensor::<2, Bool>::from_bool(TensorData::from([[false; 3]; 2]), &d);
        let q = Tensor::<2>::random([2, 3], Distribution::Normal(0.0, 1.0), &d);
        let a = pool.attention(tokens.clone(), padding.clone(), q.clone());
        let manual = (tokens.clone() * a.reshape([2, 3, 1]))
            .sum_dim(1)
            .reshape([2, 4]);
        pool.forward(tokens, padding, q)
            .into_data()
            .assert_approx_eq::<f32>(&manual.into_data(), Tolerance::absolute(1e-5));
    }

    #[test]
    fn the_query_moves_the_attention() {
        let d = dev();
        let pool = GuidedPoolConfig::new(4, 3).init(&d);
        let tokens = Tensor::<3>::random([1, 5, 4], Distribution::Normal(0.0, 3.0), &d);
        let padding = Tensor::<2, Bool>::from_bool(TensorData::from([[false; 5]]), &d);
        let q1 = Tensor::<2>::random([1, 3], Distribution::Normal(0.0, 3.0), &d);
        let a1 = pool.attention(tokens.clone(), padding.clone(), q1.clone());
        let a2 = pool.attention(tokens, padding, q1.neg());
        let moved: f32 = (a1 - a2).abs().max().into_scalar();
        assert!(moved > 1e-2, "the attention ignores the query ({moved})");
    }
}
