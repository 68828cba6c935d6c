//! Cross-modal agreement by the Jensen-Shannon divergence of prototype assignments.

use burn::tensor::Tensor;
use mafs_core::{SignalContext, UncertaintySignal};

use crate::prototype::{PrototypeEntropy, distributions};
use crate::util::{PROB_FLOOR, mean_over_other_present};

/// Name of the signal in a [`mafs_core::SignalSet`].
pub const AGREEMENT_JS: &str = "agreement_js";

/// `a_m = mean over the other present modalities n of 1 - JS(q_m, q_n) / ln 2`, in `[0, 1]`,
/// with `q` the prototype assignments of [`PrototypeEntropy::distribution`]; 0 where no other
/// modality is present.
///
/// It borrows the prototype module so that it always reads the current prototypes (the
/// trainer owns one [`PrototypeEntropy`] and builds the signals around it per step).
#[derive(Debug, Clone, Copy)]
pub struct JsAgreement<'a> {
    /// The prototypes the assignments are computed with.
    pub prototypes: &'a PrototypeEntropy,
}

impl<'a> JsAgreement<'a> {
    /// Agreement over the given prototypes.
    pub fn new(prototypes: &'a PrototypeEntropy) -> Self {
        Self { prototypes }
    }
}

/// `1 - JS(q_m, q_n) / ln 2` for every pair of modalities.
///
/// # Shapes
///
/// - `q`: `M` tensors `[batch, K]` (rows on the simplex), output `[batch, M, M]`
///
/// # Panics
///
/// Panics if `q` is empty or the tensors differ in shape.
pub fn js_agreement_pairwise(q: &[Tensor<2>]) -> Tensor<3> {
    assert!(!q.is_empty(), "js_agreement_pairwise: no modalities");
    let [b, k] = q[0].dims();
    for (m, t) in q.iter().enumerate() {
        assert_eq!(
            t.dims(),
            [b, k],
            "js_agreement_pairwise: distribution {m} is {:?}, expected [{b}, {k}]",
            t.dims()
        );
    }
    let m = q.len();
    let q: Tensor<3> = Tensor::stack(q.to_vec(), 1); // [b, m, k]
    let plogp = |p: Tensor<4>| (p.clone() * p.clamp_min(PROB_FLOOR).log()).sum_dim(3);
    let q4 = q.reshape([b, m, 1, k]);
    let mix = (q4.clone() + q4.clone().swap_dims(1, 2)).div_scalar(2.0); // [b, m, m, k]
    let h_mix = plogp(mix).neg().reshape([b, m, m]);
    let h = plogp(q4).neg().reshape([b, m, 1]);
    let js = h_mix - (h.clone() + h.swap_dims(1, 2)).div_scalar(2.0);
    js.div_scalar(std::f64::consts::LN_2).neg().add_scalar(1.0)
}

impl UncertaintySignal for JsAgreement<'_> {
    fn name(&self) -> &str {
        AGREEMENT_JS
    }

    /// `[batch, M]`.
    ///
    /// # Panics
    ///
    /// Panics, naming the modality, if a modality's width differs from the prototypes'.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        let q = distributions(self.prototypes, ctx.encoded);
        mean_over_other_present(
            js_agreement_pairwise(&q),
            mafs_core::mask::presence_of(ctx.encoded),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prototype::PrototypeEntropyConfig;
    use crate::test_util::encoded_from;
    use burn::tensor::{Device, Distribution};

    #[test]
    fn identical_is_one_disjoint_is_zero() {
        let device = Device::flex();
        let a = Tensor::<2>::from_floats([[1.0, 0.0], [0.5, 0.5]], &device);
        let b = Tensor::<2>::from_floats([[0.0, 1.0], [0.5, 0.5]], &device);
        let s: Vec<f32> = js_agreement_pairwise(&[a, b])
            .try_into_vec_as::<f32>()
            .unwrap();
        // [b=0]: [[1, 0], [0, 1]], [b=1]: all ones
        let want = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        for (x, y) in s.iter().zip(want) {
            assert!((x - y).abs() < 1e-5, "{s:?}");
        }
    }

    #[test]
    fn in_unit_interval_with_missing() {
        let device = Device::flex();
        device.seed(4);
        let proto = PrototypeEntropyConfig::new(5).init(&device);
        let enc: Vec<_> = (0..3)
            .map(|i| {
                encoded_from(
                    &format!("m{i}"),
                    Tensor::random([4, 5], Distribution::Normal(0.0, 1.0), &device),
                    vec![true, i == 0, i != 2, false],
                )
            })
            .collect();
        let a: Vec<f32> = JsAgreement::new(&proto)
            .compute(&SignalContext::new(&enc))
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!(a.iter().all(|v| (-1e-5..=1.0 + 1e-5).contains(v)), "{a:?}");
        // instance 1: only m0 present -> its agreement is 0.
        assert_eq!(a[3], 0.0);
        // instance 3: nothing present -> all 0.
        assert_eq!(&a[9..12], &[0.0, 0.0, 0.0]);
    }
}
