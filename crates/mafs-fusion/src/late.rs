//! Late fusion: `z_f = sum_m w_m * P_m(z_m)` over the pooled embeddings (CLIP-style when the
//! weights are uniform).

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use mafs_core::{Encoded, Fused, FusionHead, FusionWeights};

use crate::presence::{check_encodings, effective_weights, zero_missing};

/// Configuration of a [`LateFusionHead`].
#[derive(Config, Debug)]
pub struct LateFusionConfig {
    /// Width of each modality's pooled embedding, in scheduler order (`M = len`).
    pub modality_widths: Vec<usize>,
    /// Width of the fused embedding.
    pub d_model: usize,
    /// One projection shared by every modality (all widths must be equal; a new modality then
    /// needs no new weights) instead of one per modality.
    #[config(default = false)]
    pub shared_projection: bool,
    /// Whether the projections have a bias.
    #[config(default = true)]
    pub bias: bool,
}

/// `z_f = sum_m w_m P_m(z_m)`, with a missing modality contributing exactly nothing.
#[derive(Module, Debug)]
pub struct LateFusionHead {
    /// `P_m`, one per modality, or a single shared one.
    pub projections: Vec<Linear>,
    /// Input width of each modality.
    pub modality_widths: Vec<usize>,
    /// Fused width.
    pub d_model: usize,
}

impl LateFusionConfig {
    /// Builds the head.
    ///
    /// # Panics
    ///
    /// Panics if there is no modality, or `shared_projection` is set with unequal widths.
    pub fn init(&self, device: &Device) -> LateFusionHead {
        assert!(
            !self.modality_widths.is_empty(),
            "LateFusionConfig: at least one modality"
        );
        let projections = if self.shared_projection {
            let w = self.modality_widths[0];
            assert!(
                self.modality_widths.iter().all(|&x| x == w),
                "LateFusionConfig: a shared projection needs equal widths, got {:?}",
                self.modality_widths
            );
            vec![
                LinearConfig::new(w, self.d_model)
                    .with_bias(self.bias)
                    .init(device),
            ]
        } else {
            self.modality_widths
                .iter()
                .map(|&w| {
                    LinearConfig::new(w, self.d_model)
                        .with_bias(self.bias)
                        .init(device)
                })
                .collect()
        };
        LateFusionHead {
            projections,
            modality_widths: self.modality_widths.clone(),
            d_model: self.d_model,
        }
    }
}

impl LateFusionHead {
    /// Number of modalities `M`.
    pub fn n_modalities(&self) -> usize {
        self.modality_widths.len()
    }

    /// The projections `P_m(z_m)` stacked `[batch, M, d_model]`, with every missing
    /// modality's input zeroed first (its row is then `P_m(0)`, finite).
    pub fn project(&self, encoded: &[Encoded]) -> Tensor<3> {
        check_encodings("LateFusionHead", encoded, &self.modality_widths);
        let inputs = encoded
            .iter()
            .map(|e| zero_missing(e.pooled.clone(), &e.present));
        if self.projections.len() == 1 && encoded.len() > 1 {
            // one matmul for every modality
            let stacked = Tensor::stack(inputs.collect(), 1);
            self.projections[0].forward(stacked)
        } else {
            let projected = inputs
                .zip(&self.projections)
                .map(|(z, p)| p.forward(z))
                .collect();
            Tensor::stack(projected, 1)
        }
    }
}

impl FusionHead for LateFusionHead {
    fn d_fused(&self) -> usize {
        self.d_model
    }

    /// # Shapes
    ///
    /// - `encoded[m].pooled`: `[batch, modality_widths[m]]`
    /// - `weights.weights`: `[batch, M]`
    /// - output: `pooled` `[batch, d_model]`, `tokens` `None`
    ///
    /// # Panics
    ///
    /// Panics if the number of modalities, a width or the weights' shape disagree with the
    /// configuration.
    fn fuse(&self, encoded: &[Encoded], weights: &FusionWeights) -> Fused {
        let projected = self.project(encoded);
        let [b, m, d] = projected.dims();
        let w = effective_weights(encoded, weights).reshape([b, m, 1]);
        Fused::pooled((projected * w).sum_dim(1).reshape([b, d]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{encoding, poison_missing, random_weights, uniform};
    use burn::tensor::Tolerance;

    const TOL: f32 = 1e-5;

    fn encodings(m: usize, device: &Device) -> Vec<Encoded> {
        let present = [
            [true, true, true, true],
            [true, false, true, false],
            [true, true, false, false],
        ];
        (0..m)
            .map(|i| {
                encoding(
                    &format!("m{i}"),
                    6 + 2 * i,
                    3,
                    &[0, 1, 0, 2],
                    &present[i],
                    device,
                )
            })
            .collect()
    }

    #[test]
    fn any_number_of_modalities() {
        let (_rng, device) = crate::testing::seeded(0);
        for m in 1..=3 {
            let enc = encodings(m, &device);
            let widths = enc.iter().map(Encoded::d_model).collect();
            let head = LateFusionConfig::new(widths, 8).init(&device);
            let fused = head.fuse(&enc, &random_weights(&enc));
            assert_eq!(fused.pooled.dims(), [4, 8]);
            assert!(fused.tokens.is_none());
            assert_eq!(head.d_fused(), 8);
            assert_eq!(head.n_modalities(), m);
        }
    }

    #[test]
    fn uniform_weights_give_the_mean_of_the_projections() {
        let (_rng, device) = crate::testing::seeded(1);
        let present = [true; 4];
        let enc: Vec<_> = (0..3)
            .map(|i| encoding(&format!("m{i}"), 6, 2, &[0; 4], &present, &device))
            .collect();
        for shared in [false, true] {
            let head = LateFusionConfig::new(vec![6; 3], 8)
                .with_shared_projection(shared)
                .init(&device);
            let fused = head.fuse(&enc, &uniform(&enc)).pooled;
            let mean = head.project(&enc).mean_dim(1).reshape([4, 8]);
            fused
                .to_data()
                .assert_approx_eq::<f32>(&mean.to_data(), Tolerance::absolute(TOL));
            // and by hand: (P_0 z_0 + P_1 z_1 + P_2 z_2) / 3
            let by_hand = enc
                .iter()
                .enumerate()
                .map(|(m, e)| {
                    head.projections[if shared { 0 } else { m }].forward(e.pooled.clone())
                })
                .reduce(|a, b| a + b)
                .unwrap()
                .div_scalar(3.0);
            fused
                .to_data()
                .assert_approx_eq::<f32>(&by_hand.to_data(), Tolerance::absolute(TOL));
        }
    }

    #[test]
    fn a_missing_modality_contributes_nothing_even_nan() {
        let (_rng, device) = crate::testing::seeded(2);
        let enc = encodings(3, &device);
        let widths = enc.iter().map(Encoded::d_model).collect();
        let head = LateFusionConfig::new(widths, 8).init(&device);
        let w = random_weights(&enc);
        let base = head.fuse(&enc, &w).pooled;
        let poisoned: Vec<_> = enc.iter().map(|e| poison_missing(e, f32::NAN)).collect();
        // the weights of missing entries are garbage too
        let mut w_bad = w.clone();
        w_bad.weights = w
            .weights
            .clone()
            .mask_fill(w.present.clone().bool_not(), f32::NAN);
        let out = head.fuse(&poisoned, &w_bad).pooled;
        assert!(!out.clone().is_nan().any().into_scalar::<bool>());
        out.to_data()
            .assert_approx_eq::<f32>(&base.to_data(), Tolerance::absolute(0.0));
    }

    #[test]
    fn gradients_do_not_see_missing_slots() {
        let (_rng, device) = crate::testing::seeded_autodiff(3);
        let enc: Vec<_> = encodings(2, &device)
            .iter()
            .map(|e| poison_missing(e, f32::NAN))
            .collect();
        let widths = enc.iter().map(Encoded::d_model).collect();
        let head = LateFusionConfig::new(widths, 8).init(&device);
        let loss = head.fuse(&enc, &random_weights(&enc)).pooled.sum();
        let grads = loss.backward();
        for p in &head.projections {
            let g = p.weight.val().grad(&grads).expect("gradient");
            assert!(
                !g.is_nan().any().into_scalar::<bool>(),
                "NaN reached a gradient"
            );
        }
    }
}
