//! The MA-AFS scheduler: one small MLP shared by all modalities maps each modality's signal
//! vector to a fusion logit.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Gelu, Initializer, Linear, LinearConfig};
use burn::tensor::{Bool, Device, Tensor};
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};

use crate::common::{check_inputs, finish, select_signals};
use mafs_signals::standardize::{SignalStandardizer, SignalStandardizerConfig};

/// Configuration of [`MlpScheduler`].
#[derive(Config, Debug)]
pub struct MlpSchedulerConfig {
    /// Names of the signals `s_m` the MLP reads, in order (e.g. `["prototype_entropy",
    /// "agreement_cosine"]`); the [`SignalSet`] must contain them.
    pub signals: Vec<String>,
    /// Hidden width of `g`.
    #[config(default = 32)]
    pub hidden: usize,
    /// Whether to learn a per-modality prior logit `b_m` (breaks permutation equivariance and
    /// ties the scheduler to `n_modalities`).
    #[config(default = false)]
    pub prior: bool,
    /// Number of modalities, used only by the prior.
    #[config(default = 2)]
    pub n_modalities: usize,
    /// Standardise each signal by running statistics of the training batches
    /// ([`SignalStandardizer`]) before `g` reads it.
    #[config(default = true)]
    pub standardize: bool,
    /// Start `g`'s last layer at zero, so training starts at uniform fusion (DESIGN §1).
    #[config(default = true)]
    pub zero_init_last: bool,
}

impl MlpSchedulerConfig {
    /// Builds the scheduler; the prior starts at 0 (uniform).
    ///
    /// # Panics
    ///
    /// Panics if no signal is named, `hidden == 0`, or the prior is on with `n_modalities == 0`.
    pub fn init(&self, device: &Device) -> MlpScheduler {
        assert!(
            !self.signals.is_empty(),
            "MlpSchedulerConfig: no signals named"
        );
        assert!(
            self.hidden > 0,
            "MlpSchedulerConfig: hidden must be positive"
        );
        assert!(
            !self.prior || self.n_modalities > 0,
            "MlpSchedulerConfig: a prior needs n_modalities > 0"
        );
        let s = self.signals.len();
        let mut last = LinearConfig::new(self.hidden, 1);
        if self.zero_init_last {
            last = last.with_initializer(Initializer::Zeros);
        }
        MlpScheduler {
            norm: self
                .standardize
                .then(|| SignalStandardizerConfig::new(s).init(device)),
            fc1: LinearConfig::new(s, self.hidden).init(device),
            fc2: last.init(device),
            act: Gelu::new(),
            prior: self
                .prior
                .then(|| Initializer::Zeros.init([self.n_modalities], device)),
            signals: self.signals.clone(),
        }
    }
}

/// `l_m = g(s_m) + b_m`, `w = masked_softmax(l / tau)`, with `g` a 2-layer GELU MLP shared by
/// every modality (so the scheduler does not depend on `M` when the prior is off).
#[derive(Module, Debug)]
pub struct MlpScheduler {
    /// Input standardisation (running statistics), when on.
    pub norm: Option<SignalStandardizer>,
    /// First layer of `g`, `S -> hidden`.
    pub fc1: Linear,
    /// Second layer of `g`, `hidden -> 1`.
    pub fc2: Linear,
    /// Activation.
    pub act: Gelu,
    /// Optional per-modality prior `b [M]`.
    pub prior: Option<Param<Tensor<1>>>,
    /// Signal names `g` reads, in order.
    pub signals: Vec<String>,
}

impl MlpScheduler {
    /// Scheduler logits before masking, from the signal values `g` reads.
    ///
    /// # Shapes
    ///
    /// - `values`: `[batch, M, S]` (the configured signals, in order), output `[batch, M]`
    ///
    /// # Panics
    ///
    /// Panics if `S` differs from the configured signal count, or if the prior is on and `M`
    /// differs from its length.
    pub fn logits_from_values(&self, values: Tensor<3>) -> Tensor<2> {
        let [b, m, s] = values.dims();
        assert_eq!(
            s,
            self.signals.len(),
            "MlpScheduler: {s} signal values per modality, configured for {:?}",
            self.signals
        );
        let h = self.act.forward(self.fc1.forward(values));
        let l = self.fc2.forward(h).reshape([b, m]);
        match &self.prior {
            None => l,
            Some(prior) => {
                let [pm] = prior.dims();
                assert_eq!(
                    pm, m,
                    "MlpScheduler: the prior has {pm} modalities, the batch has {m}"
                );
                l + prior.val().reshape([1, m])
            }
        }
    }

    /// The same scheduler with its input statistics fixed (see [`SignalStandardizer::frozen`]).
    pub fn with_frozen_statistics(mut self) -> Self {
        self.norm = self.norm.map(SignalStandardizer::frozen);
        self
    }

    /// The values `g` reads: standardised when the standardizer is on (which, on a training
    /// device, also updates its running statistics), else as given.
    ///
    /// # Shapes
    ///
    /// - `values`: `[batch, M, S]`, `present`: `[batch, M]`, output `[batch, M, S]`
    pub fn inputs(&self, values: Tensor<3>, present: Tensor<2, Bool>) -> Tensor<3> {
        match &self.norm {
            Some(n) => n.forward(values, present),
            None => values,
        }
    }

    /// Weights `[batch, M]` from signal values and presence (the scheduling path of T1-T7).
    ///
    /// # Shapes
    ///
    /// - `values`: `[batch, M, S]`, `present`: `[batch, M]`, output `[batch, M]`
    pub fn weights_from_values(
        &self,
        values: Tensor<3>,
        present: Tensor<2, Bool>,
        tau: f64,
    ) -> Tensor<2> {
        let x = self.inputs(values, present.clone());
        mafs_core::weights::masked_softmax(self.logits_from_values(x), present, tau)
    }
}

impl Scheduler for MlpScheduler {
    /// # Panics
    ///
    /// Panics if the signal set lacks a configured signal or does not match the batch.
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, tau: f64) -> FusionWeights {
        check_inputs("MlpScheduler", encoded, signals);
        let values = select_signals("MlpScheduler", signals, &self.signals);
        let present = mafs_core::mask::presence_of(encoded);
        let x = self.inputs(values, present.clone());
        finish(
            self.logits_from_values(x),
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
    fn weights_on_simplex_and_zero_when_missing() {
        let device = Device::flex();
        device.seed(0);
        let sched = MlpSchedulerConfig::new(vec!["u".into(), "a".into()]).init(&device);
        let enc = vec![
            encoded("image", vec![true, true, false], 4),
            encoded("text", vec![true, false, true], 4),
            encoded("side", vec![false, true, true], 4),
        ];
        let set = signal_set(&["u", "a", "extra"], 3, 3, 1);
        let w = sched.schedule(&enc, &set, 1.0);
        assert_eq!(w.dims(), [3, 3]);
        let v: Vec<f32> = w.weights.clone().try_into_vec_as().unwrap();
        let present = [true, true, false, true, false, true, false, true, true];
        for b in 0..3 {
            let row = &v[b * 3..b * 3 + 3];
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            for m in 0..3 {
                if !present[b * 3 + m] {
                    assert_eq!(row[m], 0.0);
                } else {
                    assert!(row[m] > 0.0);
                }
            }
        }
        let l: Vec<f32> = w.logits.try_into_vec_as().unwrap();
        assert!(l[2].is_infinite() && l[2] < 0.0);
        assert_eq!(w.signals.unwrap().names, vec!["u", "a", "extra"]);
    }

    #[test]
    fn same_weights_for_any_m_without_prior() {
        // g is shared, so a modality's logit depends only on its own signals.
        let device = Device::flex();
        device.seed(1);
        let sched = MlpSchedulerConfig::new(vec!["u".into()]).init(&device);
        let values = Tensor::<3>::from_floats([[[0.1], [0.9], [0.4]]], &device);
        let l3: Vec<f32> = sched
            .logits_from_values(values.clone())
            .try_into_vec_as()
            .unwrap();
        let l2: Vec<f32> = sched
            .logits_from_values(values.slice([0..1, 0..2, 0..1]))
            .try_into_vec_as()
            .unwrap();
        assert_eq!(&l3[..2], &l2[..]);
    }

    #[test]
    fn prior_shifts_logits_per_modality() {
        let device = Device::flex();
        let sched = MlpSchedulerConfig::new(vec!["u".into()])
            .with_prior(true)
            .init(&device);
        let mut sched = sched;
        sched.prior = Some(Param::from_tensor(Tensor::from_floats(
            [1.0, -1.0],
            &device,
        )));
        let values = Tensor::<3>::zeros([1, 2, 1], &device);
        let l: Vec<f32> = sched.logits_from_values(values).try_into_vec_as().unwrap();
        assert!(((l[0] - l[1]) - 2.0).abs() < 1e-6);
    }

    #[test]
    #[should_panic(expected = "signal `u` is not in the signal set")]
    fn missing_signal_is_named() {
        let device = Device::flex();
        let sched = MlpSchedulerConfig::new(vec!["u".into()]).init(&device);
        let enc = vec![encoded("image", vec![true], 4)];
        let set = signal_set(&["a"], 1, 1, 0);
        let _ = sched.schedule(&enc, &set, 1.0);
    }

    #[test]
    fn a_few_hundred_parameters_under_one_percent_of_a_tiny_model() {
        let device = Device::flex();
        let sched = MlpSchedulerConfig::new(vec![
            "prototype_entropy".into(),
            "attention_entropy".into(),
            "agreement_cosine".into(),
        ])
        .init(&device);
        let n = sched.num_params();
        // 3*32 + 32 + 32*1 + 1 learned, and the standardizer's running mean and variance
        // (3 each) and batch count (1), which burn counts as module state
        assert_eq!(n, 161 + 7);
        assert!((n as f64) < 0.01 * 3_000_000.0);
        let with_prior = MlpSchedulerConfig::new(vec!["u".into()])
            .with_prior(true)
            .with_n_modalities(3)
            .init(&device);
        assert_eq!(with_prior.num_params(), 32 + 32 + 32 + 1 + 3 + 3);
    }
}
