//! The `lambda_reg * KL(w || uniform)` term of the training loss.

use burn::tensor::{Bool, Tensor};

/// `KL(w || uniform over the present modalities)`, averaged over the instances with at least
/// one present modality, a scalar `[1]` (0 for uniform weights, at most `ln(#present)`):
/// `sum_{m present} w_m * ln(w_m * n_present)`, with `0 ln 0 = 0`. It pulls the scheduler
/// towards fixed fusion, so it only departs from uniform where the task gradient pays for it.
///
/// # Shapes
///
/// - `weights`, `present`: `[batch, M]`, output `[1]`
///
/// # Panics
///
/// Panics if the shapes differ.
pub fn kl_to_uniform(weights: Tensor<2>, present: Tensor<2, Bool>) -> Tensor<1> {
    assert_eq!(
        weights.dims(),
        present.dims(),
        "kl_to_uniform: weights {:?} and presence {:?} differ",
        weights.dims(),
        present.dims()
    );
    let p = present.float();
    let n = p.clone().sum_dim(1); // [b, 1]
    let w = weights * p.clone();
    let kl_row = (w.clone() * (w.clamp_min(1.0e-12) * n.clone().clamp_min(1.0)).log()).sum_dim(1);
    let has_any = n.greater_elem(0.5).float();
    let rows = has_any.clone().sum().clamp_min(1.0);
    (kl_row * has_any).sum() / rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn zero_for_uniform_ln_n_for_one_hot() {
        let device = Device::flex();
        let w =
            Tensor::<2>::from_floats([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]], &device);
        let present = Tensor::<2, Bool>::from_data(
            TensorData::new(
                vec![true, true, false, true, true, true, false, false, false],
                [3, 3],
            ),
            &device,
        );
        let kl = kl_to_uniform(w, present).into_scalar::<f32>();
        // rows: 0 and ln 3, averaged over the two rows with a present modality
        assert!((kl - 3f32.ln() / 2.0).abs() < 1e-6, "{kl}");
    }
}
