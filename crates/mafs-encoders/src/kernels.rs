//! Scalar formulas of the MLP activations and their derivatives, written so that the compiler
//! vectorises a loop over them (no libm calls, no branches but selects), and the loops that
//! apply them to a slice, with an AVX2 + FMA build of each loop chosen at run time.
//!
//! - `exp`: Cephes `expf` (range reduction by `ln 2` split in two constants, degree-5
//!   polynomial, the power of two written into the exponent bits), about 1 ulp on
//!   `[-87, 88]`; arguments below `-87.3` give `~1e-38` instead of 0, and the callers select
//!   0 where that matters.
//! - `erfc` for `z >= 0`: Numerical Recipes' Chebyshev fit `erfcc` (fractional error below
//!   1.2e-7 everywhere), so the lower tail of the normal CDF keeps its relative accuracy
//!   (burn's `0.5 * (1 + erf(x / sqrt 2))` cancels there).
//! - exact GELU `x * Phi(x)` and its derivative `Phi(x) + x * phi(x)`; QuickGELU
//!   `x * sigmoid(1.702 x)` and its derivative `s + 1.702 x s (1 - s)`.

use std::f32::consts::{FRAC_1_SQRT_2, LOG2_E};

/// `1 / sqrt(2 pi)`.
const INV_SQRT_2PI: f32 = 0.398_942_3;
/// Beyond this `|x|` GELU is `x` or `0` and its derivative `1` or `0` to f32 precision.
const GELU_SATURATION: f32 = 14.0;

/// `e^x`, Cephes `expf`; see the module docs.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    // `clamp` keeps NaN, which then flows through the polynomial
    let x = x.clamp(-87.3, 88.3);
    // round x / ln 2 to the nearest integer with the 1.5 * 2^23 trick (adds only, no
    // `round` call, so it vectorises without SSE4.1)
    const MAGIC: f32 = 12_582_912.0;
    let shifted = x * LOG2_E + MAGIC;
    let n = shifted - MAGIC;
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // the integer n sits in the low mantissa bits of `shifted`; wrapping arithmetic (no
    // overflow checks in the loop, which would stop it vectorising; only NaN wraps)
    let k = shifted.to_bits().wrapping_sub(MAGIC.to_bits());
    let scale = f32::from_bits(k.wrapping_add(127) << 23);
    y * scale
}

/// `erfc(z)` for `z >= 0` (Numerical Recipes `erfcc`), given `e^{-z^2}`.
#[inline(always)]
fn erfc_nonneg(z: f32, exp_neg_z2: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.5 * z);
    let mut p = 0.170_872_77_f32;
    p = p * t - 0.822_152_23;
    p = p * t + 1.488_515_9;
    p = p * t - 1.135_204;
    p = p * t + 0.278_868_07;
    p = p * t - 0.186_288_06;
    p = p * t + 0.096_784_18;
    p = p * t + 0.374_091_96;
    p = p * t + 1.000_023_7;
    p = p * t - 1.265_512_2;
    t * exp_neg_z2 * exp(p)
}

/// `(gelu(x), gelu'(x))` for exact GELU, `gelu(x) = x * Phi(x)`.
#[inline(always)]
pub(crate) fn gelu_and_grad(x: f32) -> (f32, f32) {
    let z = (x * FRAC_1_SQRT_2).abs();
    // e^{-z^2} = e^{-x^2 / 2} serves both the tail and the density
    let e = exp(-(z * z));
    // the tail mass beyond |x|: Phi(-|x|) = erfc(|x| / sqrt 2) / 2
    let tail = 0.5 * erfc_nonneg(z, e);
    let cdf = if x < 0.0 { tail } else { 1.0 - tail };
    let pdf = INV_SQRT_2PI * e;
    saturate(x, GELU_SATURATION, (x * cdf, cdf + x * pdf))
}

/// `(f(x), f'(x))` of a GELU-like `f` (`f(x) -> x` as `x -> inf`, `-> 0` as `x -> -inf`): the
/// exact limits beyond `limit`, also for +-inf, where `x * pdf` would be `inf * 0`.
#[inline(always)]
fn saturate(x: f32, limit: f32, inside: (f32, f32)) -> (f32, f32) {
    if x.abs() > limit {
        if x > 0.0 { (x, 1.0) } else { (0.0, 0.0) }
    } else {
        inside
    }
}

/// `gelu(x)` alone.
#[inline(always)]
pub(crate) fn gelu(x: f32) -> f32 {
    gelu_and_grad(x).0
}

/// QuickGELU's sigmoid factor `1.702`.
const QUICK_GELU_ALPHA: f32 = 1.702;

/// `(qg(x), qg'(x))` for QuickGELU, `qg(x) = x * sigmoid(1.702 x)`.
#[inline(always)]
pub(crate) fn quick_gelu_and_grad(x: f32) -> (f32, f32) {
    // sigmoid from e^{-|a|}, stable for both signs
    let a = QUICK_GELU_ALPHA * x;
    let e = exp(-a.abs());
    let s_pos = 1.0 / (1.0 + e);
    let s = if a < 0.0 { 1.0 - s_pos } else { s_pos };
    saturate(x, 60.0, (x * s, s + a * s * (1.0 - s)))
}

/// `qg(x)` alone.
#[inline(always)]
pub(crate) fn quick_gelu(x: f32) -> f32 {
    quick_gelu_and_grad(x).0
}

/// Which activation a loop applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pointwise {
    /// Exact GELU.
    Gelu,
    /// QuickGELU.
    QuickGelu,
}

macro_rules! loops {
    ($value:ident, $pair:ident, $f:path, $fg:path) => {
        #[inline(always)]
        fn $value(buf: &mut [f32]) {
            for v in buf.iter_mut() {
                *v = $f(*v);
            }
        }

        /// On entry `a` holds `x`; on exit `a` holds `f'(x)` and `b` holds `f(x) - x f'(x)`.
        #[inline(always)]
        fn $pair(a: &mut [f32], b: &mut [f32]) {
            for (da, rb) in a.iter_mut().zip(b.iter_mut()) {
                let x = *da;
                let (y, dy) = $fg(x);
                *da = dy;
                *rb = y - x * dy;
            }
        }
    };
}

loops!(gelu_values, gelu_pairs, gelu, gelu_and_grad);
loops!(quick_values, quick_pairs, quick_gelu, quick_gelu_and_grad);

// inlined into the `target_feature` wrappers, so that they are compiled with AVX2
#[inline(always)]
fn values_generic(kind: Pointwise, buf: &mut [f32]) {
    match kind {
        Pointwise::Gelu => gelu_values(buf),
        Pointwise::QuickGelu => quick_values(buf),
    }
}

#[inline(always)]
fn pairs_generic(kind: Pointwise, a: &mut [f32], b: &mut [f32]) {
    match kind {
        Pointwise::Gelu => gelu_pairs(a, b),
        Pointwise::QuickGelu => quick_pairs(a, b),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn values_avx2(kind: Pointwise, buf: &mut [f32]) {
    values_generic(kind, buf)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn pairs_avx2(kind: Pointwise, a: &mut [f32], b: &mut [f32]) {
    pairs_generic(kind, a, b)
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// Replaces every `x` in `buf` by `f(x)`.
pub(crate) fn apply_values(kind: Pointwise, buf: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports the features the function was compiled for.
        unsafe { values_avx2(kind, buf) };
        return;
    }
    values_generic(kind, buf)
}

/// `a`: `x` in, `f'(x)` out; `b`: `f(x) - x f'(x)` out.
pub(crate) fn apply_pairs(kind: Pointwise, a: &mut [f32], b: &mut [f32]) {
    assert_eq!(a.len(), b.len(), "apply_pairs: slices of different lengths");
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports the features the function was compiled for.
        unsafe { pairs_avx2(kind, a, b) };
        return;
    }
    pairs_generic(kind, a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gelu_ref(x: f64) -> (f64, f64) {
        let cdf = 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        (x * cdf, cdf + x * pdf)
    }

    fn grid() -> impl Iterator<Item = f32> {
        (-16_000..=16_000).map(|i| i as f32 * 1e-3)
    }

    #[test]
    fn exp_is_within_two_ulp() {
        for i in -8_700..=8_800 {
            let x = i as f32 * 0.01;
            let want = (x as f64).exp();
            let got = exp(x) as f64;
            assert!(
                ((got - want) / want).abs() < 2.5e-7,
                "exp({x}) = {got}, want {want}"
            );
        }
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn gelu_matches_the_f64_reference() {
        // absolute error scaled by max(1, |x|); measured 9.9e-8 (value), 2.2e-7 (derivative)
        let (mut worst_y, mut worst_dy) = (0.0f64, 0.0f64);
        for x in grid() {
            let (y, dy) = gelu_and_grad(x);
            let (ry, rdy) = gelu_ref(x as f64);
            let scale = (x.abs() as f64).max(1.0);
            worst_y = worst_y.max((y as f64 - ry).abs() / scale);
            worst_dy = worst_dy.max((dy as f64 - rdy).abs() / scale);
        }
        assert!(worst_y < 1.5e-7, "gelu: worst scaled error {worst_y:e}");
        assert!(worst_dy < 3e-7, "gelu': worst scaled error {worst_dy:e}");
        // relative accuracy in the lower tail, where burn's 1 + erf cancels
        for x in [-3.0f32, -5.0, -8.0, -10.0] {
            let (y, _) = gelu_and_grad(x);
            let (ry, _) = gelu_ref(x as f64);
            assert!(
                ((y as f64 - ry) / ry).abs() < 1e-5,
                "gelu({x}) = {y}, want {ry}"
            );
        }
    }

    #[test]
    fn gelu_limits() {
        assert_eq!(gelu_and_grad(f32::INFINITY), (f32::INFINITY, 1.0));
        assert_eq!(gelu_and_grad(f32::NEG_INFINITY), (0.0, 0.0));
        assert_eq!(gelu_and_grad(0.0), (0.0, 0.5));
        let (y, dy) = gelu_and_grad(f32::NAN);
        assert!(y.is_nan() && dy.is_nan());
    }

    #[test]
    fn quick_gelu_matches_its_formula() {
        let mut worst = 0.0f64;
        for x in grid() {
            let (y, dy) = quick_gelu_and_grad(x);
            let xd = x as f64;
            let s = 1.0 / (1.0 + (-1.702 * xd).exp());
            let (ry, rdy) = (xd * s, s + 1.702 * xd * s * (1.0 - s));
            let scale = xd.abs().max(1.0);
            worst = worst
                .max((y as f64 - ry).abs() / scale)
                .max((dy as f64 - rdy).abs() / scale);
        }
        assert!(worst < 2e-7, "quick_gelu: worst scaled error {worst:e}");
    }

    #[test]
    fn vector_loops_equal_the_scalar_formulas() {
        let xs: Vec<f32> = grid().step_by(7).collect();
        for kind in [Pointwise::Gelu, Pointwise::QuickGelu] {
            let f = |x| match kind {
                Pointwise::Gelu => gelu_and_grad(x),
                Pointwise::QuickGelu => quick_gelu_and_grad(x),
            };
            let mut values = xs.clone();
            apply_values(kind, &mut values);
            let mut a = xs.clone();
            let mut b = vec![0.0; xs.len()];
            apply_pairs(kind, &mut a, &mut b);
            for (i, &x) in xs.iter().enumerate() {
                let (y, dy) = f(x);
                // Rust never contracts `a * b + c` into an FMA, so the AVX2 build rounds alike
                assert_eq!(values[i].to_bits(), y.to_bits(), "{kind:?}({x})");
                assert_eq!(a[i].to_bits(), dy.to_bits(), "{kind:?}'({x})");
                assert_eq!(
                    b[i].to_bits(),
                    (y - x * dy).to_bits(),
                    "{kind:?} rest at {x}"
                );
            }
        }
    }
}
