//! The MLP activations (exact GELU, QuickGELU) as one multi-threaded pass on the CPU, with a
//! hand-written backward, for tensors on the flex device.
//!
//! Why: flex evaluates `gelu` with a scalar libm `erff` per element on one thread, in the
//! forward and again in `gelu_backward` (`burn-flex-0.22.1/src/ops/activation.rs`, `gelu`
//! and `gelu_backward`), which made exact GELU 6x PyTorch's and the second largest cost of a
//! ViT block (docs/performance.md). burn 0.22.1 without its `extension` feature gives user code
//! no access to a tensor's backend primitive (`Tensor::primitive` is `pub(crate)`;
//! `try_into_primitive` / `from_primitive` live in `burn-tensor/src/tensor/api/extension.rs`,
//! compiled only with `extension`) and no way to register a backward
//! (`burn_autodiff::ops::Backward` is implemented for the autodiff backend's own ops only). So
//! the op is built from what the public API has:
//!
//! - the values go through [`TensorData`] (zero-copy on flex both ways when the tensor is not
//!   shared: `FlexTensor::into_data` unwraps its `Arc`, `from_data` wraps the bytes), and one
//!   pass of [`crate::kernels`] over them runs on rayon's pool (the one flex uses, sized by
//!   `RAYON_NUM_THREADS`), vectorised with AVX2 where the CPU has it;
//! - on an autodiff device the same pass also computes the derivative `D = f'(x)` and the rest
//!   `R = f(x) - x D`, both constants, and the output is recorded as `x * D + R`: its value is
//!   `f(x)` (to one rounding of the sum) and its gradient `D`, the exact derivative. The backward
//!   is then one element-wise multiply.
//!
//! On any other device (wgpu, remote), or for a dtype other than f32, burn's own ops run.

use burn::tensor::activation::{gelu as burn_gelu, sigmoid};
use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

use crate::kernels::{Pointwise, apply_pairs, apply_values};

/// Elements per rayon task: large enough that scheduling is noise, small enough that two
/// threads split a `[64, 65, 512]` activation evenly.
const CHUNK: usize = 1 << 14;

/// Exact GELU, `x * Phi(x)` (PyTorch `nn.GELU()`), with the host kernel on flex.
///
/// # Shapes
///
/// - `x`: any shape; output: the same
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_host(&x) {
        host(x, Pointwise::Gelu)
    } else {
        burn_gelu(x)
    }
}

/// QuickGELU, `x * sigmoid(1.702 x)` (open_clip `QuickGELU`), with the host kernel on flex.
///
/// # Shapes
///
/// - `x`: any shape; output: the same
pub fn quick_gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if on_host(&x) {
        host(x, Pointwise::QuickGelu)
    } else {
        x.clone() * sigmoid(x.mul_scalar(1.702))
    }
}

/// Whether the host kernel applies: an f32 tensor on the flex device.
fn on_host<const D: usize>(x: &Tensor<D>) -> bool {
    x.dtype() == DType::F32 && x.device() == Device::flex()
}

fn host<const D: usize>(x: Tensor<D>, kind: Pointwise) -> Tensor<D> {
    let device = x.device();
    let shape = x.shape();
    if !device.is_autodiff() {
        let mut data = x.into_data();
        let buf = data
            .as_mut_slice::<f32>()
            .expect("an f32 tensor's data is an f32 slice");
        buf.par_chunks_mut(CHUNK)
            .for_each(|c| apply_values(kind, c));
        return Tensor::from_data(data, &device);
    }
    // `x` stays on the graph, so its data is shared: this copies it once
    let mut deriv = x.clone().detach().into_data();
    let a = deriv
        .as_mut_slice::<f32>()
        .expect("an f32 tensor's data is an f32 slice");
    let mut rest = vec![0.0f32; a.len()];
    a.par_chunks_mut(CHUNK)
        .zip(rest.par_chunks_mut(CHUNK))
        .for_each(|(a, b)| apply_pairs(kind, a, b));
    let deriv = Tensor::<D>::from_data(deriv, &device);
    let rest = Tensor::<D>::from_data(TensorData::new(rest, shape), &device);
    x * deriv + rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tolerance};

    /// Values and input gradients of `f` and `g` on the same random input, through a loss
    /// that weights every element differently (so a wrong gradient cannot hide in a sum).
    fn compare(f: fn(Tensor<3>) -> Tensor<3>, g: fn(Tensor<3>) -> Tensor<3>, scale: f64, tol: f64) {
        let (_guard, device) = crate::test_util::seeded_autodiff(7);
        let shape = [3, 5, 37];
        let x = Tensor::<3>::random(shape, Distribution::Normal(0.0, scale), &device);
        let w = Tensor::<3>::random(shape, Distribution::Uniform(-1.0, 1.0), &device);
        let grad_of = |h: fn(Tensor<3>) -> Tensor<3>| {
            let xi = x.clone().detach().require_grad();
            let y = h(xi.clone());
            let grads = (y.clone() * w.clone()).sum().backward();
            (
                y.detach().into_data(),
                xi.grad(&grads).expect("grad").into_data(),
            )
        };
        let (y1, d1) = grad_of(f);
        let (y2, d2) = grad_of(g);
        y1.assert_approx_eq::<f32>(&y2, Tolerance::absolute(tol));
        d1.assert_approx_eq::<f32>(&d2, Tolerance::absolute(tol));
        // the inference device takes the value-only pass
        let xi = Tensor::<3>::from_data(x.into_data(), &device.clone().inner());
        f(xi.clone())
            .into_data()
            .assert_approx_eq::<f32>(&g(xi).into_data(), Tolerance::absolute(tol));
    }

    fn quick_gelu_plain(x: Tensor<3>) -> Tensor<3> {
        x.clone() * sigmoid(x.mul_scalar(1.702))
    }

    #[test]
    fn gelu_is_burns_gelu_in_values_and_gradients() {
        compare(gelu, burn_gelu, 1.0, 1e-6);
        // wide inputs reach the tails and the saturated range
        compare(gelu, burn_gelu, 6.0, 4e-6);
    }

    #[test]
    fn quick_gelu_is_the_plain_formula_in_values_and_gradients() {
        compare(quick_gelu, quick_gelu_plain, 1.0, 1e-6);
        compare(quick_gelu, quick_gelu_plain, 6.0, 4e-6);
    }

    #[test]
    fn gradients_flow_to_parameters_upstream() {
        // the straight-through form must not cut the graph: a weight before the activation
        // gets the gradient of the plain composition
        let (_guard, device) = crate::test_util::seeded_autodiff(3);
        let a = Tensor::<2>::random([4, 6], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<2>::random([6, 8], Distribution::Normal(0.0, 1.0), &device);
        let grad_w = |h: fn(Tensor<2>) -> Tensor<2>| {
            let wi = w.clone().detach().require_grad();
            let g = h(a.clone().matmul(wi.clone())).sum().backward();
            wi.grad(&g).expect("grad").into_data()
        };
        grad_w(gelu).assert_approx_eq::<f32>(&grad_w(burn_gelu), Tolerance::absolute(1e-5));
    }

    #[test]
    fn non_contiguous_input_keeps_its_logical_order() {
        let (_guard, device) = crate::test_util::seeded(5);
        let x = Tensor::<2>::random([7, 9], Distribution::Normal(0.0, 2.0), &device);
        let xt = x.clone().transpose();
        gelu(xt).into_data().assert_approx_eq::<f32>(
            &burn_gelu(x).transpose().into_data(),
            Tolerance::absolute(1e-6),
        );
    }
}
