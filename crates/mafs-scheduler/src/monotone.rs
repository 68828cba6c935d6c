//! The monotone MA-AFS scheduler: a modality's logit falls linearly with its uncertainty, so
//! `dw_m / du_m <= 0` holds by construction (T4).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Gelu, Initializer, Linear, LinearConfig};
use burn::tensor::activation::softplus;
use burn::tensor::{Bool, Device, Tensor};
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};

use crate::common::{check_inputs, finish, select_signals};

/// `softplus^{-1}(1) = ln(e - 1)`: the raw value that starts a coefficient at 1.
pub const SOFTPLUS_INV_ONE: f64 = 0.541_324_854_612_918_1;

/// Configuration of [`MonotoneScheduler`].
#[derive(Config, Debug)]
pub struct MonotoneSchedulerConfig {
    /// Signals read as uncertainties `u_{m,j}` (higher = less reliable), e.g.
    /// `["prototype_entropy"]`. At least one.
    pub uncertainty: Vec<String>,
    /// Signals read as agreements `a_{m,k}` (inputs of `f`), e.g. `["agreement_cosine"]`;
    /// may be empty (then `f = 0`).
    #[config(default = "Vec::new()")]
    pub agreement: Vec<String>,
    /// Hidden width of the agreement MLP `h`.
    #[config(default = 32)]
    pub hidden: usize,
    /// Whether to learn a per-modality prior logit `b_m` (breaks permutation equivariance).
    #[config(default = false)]
    pub prior: bool,
    /// Number of modalities, used only by the prior.
    #[config(default = 2)]
    pub n_modalities: usize,
    /// Initial uncertainty coefficient `softplus(alpha_j)` (positive).
    #[config(default = 1.0)]
    pub alpha_init: f64,
    /// Initial bound `c = softplus(beta)` of the agreement term `f` (positive).
    #[config(default = 1.0)]
    pub f_bound_init: f64,
}

/// `softplus^{-1}(y) = ln(exp(y) - 1)` for `y > 0`.
fn softplus_inv(y: f64) -> f64 {
    if y > 20.0 { y } else { y.exp_m1().ln() }
}

impl MonotoneSchedulerConfig {
    /// Builds the scheduler.
    ///
    /// # Panics
    ///
    /// Panics if no uncertainty signal is named, a name is both an uncertainty and an
    /// agreement, `hidden == 0`, or an initial value is not positive and finite.
    pub fn init(&self, device: &Device) -> MonotoneScheduler {
        assert!(
            !self.uncertainty.is_empty(),
            "MonotoneSchedulerConfig: at least one uncertainty signal is needed"
        );
        for u in &self.uncertainty {
            assert!(
                !self.agreement.contains(u),
                "MonotoneSchedulerConfig: `{u}` is listed as both uncertainty and agreement"
            );
        }
        assert!(
            self.hidden > 0,
            "MonotoneSchedulerConfig: hidden must be positive"
        );
        for (what, v) in [
            ("alpha_init", self.alpha_init),
            ("f_bound_init", self.f_bound_init),
        ] {
            assert!(
                v.is_finite() && v > 0.0,
                "MonotoneSchedulerConfig: {what} must be positive and finite, got {v}"
            );
        }
        let u = self.uncertainty.len();
        let f = (!self.agreement.is_empty()).then(|| AgreementMlp {
            fc1: LinearConfig::new(self.agreement.len(), self.hidden).init(device),
            fc2: LinearConfig::new(self.hidden, 1).init(device),
            act: Gelu::new(),
            beta: Initializer::Constant {
                value: softplus_inv(self.f_bound_init),
            }
            .init([1], device),
        });
        MonotoneScheduler {
            alpha: Initializer::Constant {
                value: softplus_inv(self.alpha_init),
            }
            .init([u], device),
            f,
            prior: self
                .prior
                .then(|| Initializer::Zeros.init([self.n_modalities], device)),
            uncertainty: self.uncertainty.clone(),
            agreement: self.agreement.clone(),
        }
    }
}

/// The agreement term `f(a) = softplus(beta) * tanh(h(a))`, bounded by `c = softplus(beta)`,
/// with `h` a 2-layer GELU MLP shared by every modality.
#[derive(Module, Debug)]
pub struct AgreementMlp {
    /// First layer of `h`.
    pub fc1: Linear,
    /// Second layer of `h`.
    pub fc2: Linear,
    /// Activation.
    pub act: Gelu,
    /// Raw bound, `c = softplus(beta)`, `[1]`.
    pub beta: Param<Tensor<1>>,
}

impl AgreementMlp {
    /// The bound `c` with `|f| < c`, `[1]`.
    pub fn bound(&self) -> Tensor<1> {
        softplus(self.beta.val(), 1.0)
    }

    /// `f(a)`.
    ///
    /// # Shapes
    ///
    /// - `a`: `[batch, M, A]`, output `[batch, M]`
    pub fn forward(&self, a: Tensor<3>) -> Tensor<2> {
        let [b, m, _] = a.dims();
        let h = self.fc2.forward(self.act.forward(self.fc1.forward(a)));
        h.tanh().reshape([b, m]) * self.bound().reshape([1, 1])
    }
}

/// `l_m = -sum_j softplus(alpha_j) * u_{m,j} + f(a_m) + b_m`, `w = masked_softmax(l / tau)`.
///
/// `alpha` is one scalar per *uncertainty signal*, shared by all modalities (so the
/// scheduler stays permutation equivariant and independent of `M`); `f` reads only the
/// agreement signals, never an uncertainty, so `d l_m / d u_{m,j} = -softplus(alpha_j) < 0`
/// and `d l_n / d u_{m,j} = 0` for `n != m`, hence `dw_m / du_{m,j} <= 0` (docs/theory.md, T4).
#[derive(Module, Debug)]
pub struct MonotoneScheduler {
    /// Raw uncertainty coefficients `[U]`; the coefficients are `softplus(alpha)`.
    pub alpha: Param<Tensor<1>>,
    /// Agreement term, absent when no agreement signal is configured.
    pub f: Option<AgreementMlp>,
    /// Optional per-modality prior `b [M]`.
    pub prior: Option<Param<Tensor<1>>>,
    /// Uncertainty signal names, in order.
    pub uncertainty: Vec<String>,
    /// Agreement signal names, in order.
    pub agreement: Vec<String>,
}

impl MonotoneScheduler {
    /// The uncertainty coefficients `softplus(alpha)` `[U]`, all positive.
    pub fn coefficients(&self) -> Tensor<1> {
        softplus(self.alpha.val(), 1.0)
    }

    /// Logits from uncertainty values `[batch, M, U]` and agreement values `[batch, M, A]`.
    ///
    /// # Shapes
    ///
    /// - `u`: `[batch, M, U]`, `a`: `[batch, M, A]`, output `[batch, M]`
    ///
    /// # Panics
    ///
    /// Panics if `U` or `A` differ from the configuration, or the prior's `M` from the batch's.
    pub fn logits_from_values(&self, u: Tensor<3>, a: Tensor<3>) -> Tensor<2> {
        let [b, m, nu] = u.dims();
        let [ab, am, na] = a.dims();
        assert_eq!(
            nu,
            self.uncertainty.len(),
            "MonotoneScheduler: {nu} uncertainty values, configured for {:?}",
            self.uncertainty
        );
        assert_eq!(
            [ab, am, na],
            [b, m, self.agreement.len()],
            "MonotoneScheduler: agreement values must be [{b}, {m}, {}] for {:?}",
            self.agreement.len(),
            self.agreement
        );
        let coef = self.coefficients().reshape([1, 1, nu]);
        let mut l = (u * coef).sum_dim(2).reshape([b, m]).neg();
        if let Some(f) = &self.f {
            l = l + f.forward(a);
        }
        if let Some(prior) = &self.prior {
            let [pm] = prior.dims();
            assert_eq!(
                pm, m,
                "MonotoneScheduler: the prior has {pm} modalities, the batch has {m}"
            );
            l = l + prior.val().reshape([1, m]);
        }
        l
    }

    /// Weights `[batch, M]` from signal values and presence.
    pub fn weights_from_values(
        &self,
        u: Tensor<3>,
        a: Tensor<3>,
        present: Tensor<2, Bool>,
        tau: f64,
    ) -> Tensor<2> {
        mafs_core::weights::masked_softmax(self.logits_from_values(u, a), present, tau)
    }
}

impl Scheduler for MonotoneScheduler {
    /// # Panics
    ///
    /// Panics if the signal set lacks a configured signal or does not match the batch.
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, tau: f64) -> FusionWeights {
        check_inputs("MonotoneScheduler", encoded, signals);
        let u = select_signals("MonotoneScheduler", signals, &self.uncertainty);
        let a = select_signals("MonotoneScheduler", signals, &self.agreement);
        let present = mafs_core::mask::presence_of(encoded);
        finish(
            self.logits_from_values(u, a),
            present,
            Some(signals.clone()),
            tau,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{encoded, signal_set};

    #[test]
    fn starts_at_the_configured_coefficients() {
        let device = Device::flex();
        let s = MonotoneSchedulerConfig::new(vec!["u".into()])
            .with_agreement(vec!["a".into()])
            .with_alpha_init(2.5)
            .with_f_bound_init(0.3)
            .init(&device);
        let c: Vec<f32> = s.coefficients().try_into_vec_as().unwrap();
        assert!((c[0] - 2.5).abs() < 1e-5);
        let b: Vec<f32> = s.f.as_ref().unwrap().bound().try_into_vec_as().unwrap();
        assert!((b[0] - 0.3).abs() < 1e-5);
    }

    #[test]
    fn more_uncertainty_never_more_weight() {
        let device = Device::flex();
        device.seed(2);
        let s = MonotoneSchedulerConfig::new(vec!["u".into()])
            .with_agreement(vec!["a".into()])
            .init(&device);
        let enc = vec![
            encoded("image", vec![true; 2], 3),
            encoded("text", vec![true; 2], 3),
        ];
        let set = signal_set(&["u", "a"], 2, 2, 3);
        let w0: Vec<f32> = s
            .schedule(&enc, &set, 0.5)
            .weights
            .try_into_vec_as()
            .unwrap();
        // raise u of modality 0 by 0.5
        let bump = Tensor::<3>::from_floats(
            [[[0.5, 0.0], [0.0, 0.0]], [[0.5, 0.0], [0.0, 0.0]]],
            &device,
        );
        let set2 = SignalSet {
            names: set.names.clone(),
            values: set.values.clone() + bump,
        };
        let w1: Vec<f32> = s
            .schedule(&enc, &set2, 0.5)
            .weights
            .try_into_vec_as()
            .unwrap();
        assert!(w1[0] < w0[0] && w1[2] < w0[2], "{w0:?} {w1:?}");
    }

    #[test]
    fn without_agreement_f_is_zero() {
        let device = Device::flex();
        let s = MonotoneSchedulerConfig::new(vec!["u".into()]).init(&device);
        assert!(s.f.is_none());
        let u = Tensor::<3>::from_floats([[[0.2], [0.7]]], &device);
        let a = Tensor::<3>::zeros([1, 2, 0], &device);
        let l: Vec<f32> = s.logits_from_values(u, a).try_into_vec_as().unwrap();
        assert!(
            (l[0] + 0.2).abs() < 1e-5 && (l[1] + 0.7).abs() < 1e-5,
            "{l:?}"
        );
    }

    #[test]
    #[should_panic(expected = "both uncertainty and agreement")]
    fn a_signal_cannot_be_both() {
        let _ = MonotoneSchedulerConfig::new(vec!["u".into()])
            .with_agreement(vec!["u".into()])
            .init(&Device::flex());
    }
}
