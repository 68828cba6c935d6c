//! Standardised inputs (of the scheduler, of the confidence networks): each feature minus
//! its running mean, over its running standard deviation, with statistics gathered over the
//! present modalities of the *training* batches only.
//!
//! Signals live on very different scales (an entropy near 0.9 that moves by 0.03, a cosine
//! agreement in [-1, 1], a confidence in (0, 1)); an MLP with a zero last layer and a small
//! learning-rate budget only reacts to the ones that happen to be large. Standardising fixes
//! the scale. Unlike batch normalisation it never uses the current batch's statistics in the
//! forward pass: a batch whose every image is noised must not standardise the noise away, so
//! the statistics are updated from training batches (detached) and used as they are, in
//! training and evaluation alike.

use burn::config::Config;
use burn::module::{Module, ParamId, RunningState};
use burn::tensor::{Bool, Device, Tensor};

/// Base of the standardizer's running-state ids (far above the sequential ids
/// `mafs_train` gives parameters); `id_offset` moves a second standardizer of one model away
/// from the first.
const STATE_ID_BASE: u64 = 0x5347_5354_0000_0000;

/// Configuration of [`SignalStandardizer`].
#[derive(Config, Debug)]
pub struct SignalStandardizerConfig {
    /// Number of signals `S`.
    pub n_signals: usize,
    /// Weight of a new training batch in the running statistics (the first batch sets them).
    #[config(default = 0.05)]
    pub momentum: f64,
    /// Added to the variance before the square root.
    #[config(default = 1e-4)]
    pub epsilon: f64,
    /// Which standardizer of the model this is (0, 1, ...): each one's running states get
    /// their own fixed ids.
    #[config(default = 0)]
    pub id_offset: u64,
}

impl SignalStandardizerConfig {
    /// Builds the standardizer (identity until the first training batch).
    ///
    /// # Panics
    ///
    /// Panics if `n_signals` is 0, `momentum` is not in (0, 1] or `epsilon` is not positive.
    pub fn init(&self, device: &Device) -> SignalStandardizer {
        assert!(
            self.n_signals > 0,
            "SignalStandardizerConfig: n_signals must be positive"
        );
        assert!(
            self.momentum > 0.0 && self.momentum <= 1.0,
            "SignalStandardizerConfig: momentum must be in (0, 1], got {}",
            self.momentum
        );
        assert!(
            self.epsilon > 0.0 && self.epsilon.is_finite(),
            "SignalStandardizerConfig: epsilon must be positive, got {}",
            self.epsilon
        );
        // Fixed ids: burn draws a random id for a new running state and keeps it through
        // `Module::map`, so a checkpoint's bytes would differ between two runs of the same seed.
        let id = |k: u64| ParamId::from(STATE_ID_BASE + 3 * self.id_offset + k);
        SignalStandardizer {
            mean: RunningState::with_id(id(0), Tensor::zeros([self.n_signals], device)),
            var: RunningState::with_id(id(1), Tensor::ones([self.n_signals], device)),
            batches: RunningState::with_id(id(2), Tensor::zeros([1], device)),
            momentum: self.momentum,
            epsilon: self.epsilon,
            learning: true,
        }
    }
}

/// Running per-signal mean and variance; `(s - mean) / sqrt(var + eps)`.
#[derive(Module, Debug)]
pub struct SignalStandardizer {
    /// Running mean `[S]`.
    pub mean: RunningState<Tensor<1>>,
    /// Running variance `[S]`.
    pub var: RunningState<Tensor<1>>,
    /// Training batches seen, `[1]` (0: the statistics are not set yet).
    pub batches: RunningState<Tensor<1>>,
    /// Weight of a new batch.
    pub momentum: f64,
    /// Variance floor.
    pub epsilon: f64,
    /// Whether training batches update the statistics (false once frozen).
    pub learning: bool,
}

impl SignalStandardizer {
    /// Standardises `values`; on an autodiff (training) device the running statistics are
    /// first updated from the present entries of this batch (detached).
    ///
    /// # Shapes
    ///
    /// - `values`: `[batch, M, S]`, `present`: `[batch, M]`, output `[batch, M, S]`
    ///
    /// # Panics
    ///
    /// Panics if `S` differs from the configured number of signals.
    pub fn forward(&self, values: Tensor<3>, present: Tensor<2, Bool>) -> Tensor<3> {
        let [b, m, s] = values.dims();
        let [n] = self.mean.value_sync().dims();
        assert_eq!(
            s, n,
            "SignalStandardizer: {s} signals per modality, configured for {n}"
        );
        let device = values.device();
        if self.learning && device.is_autodiff() {
            self.update(values.clone().detach(), present, [b, m, s]);
        }
        let mean = self.mean.value_sync().to_device(&device).reshape([1, 1, s]);
        let std = self
            .var
            .value_sync()
            .to_device(&device)
            .add_scalar(self.epsilon)
            .sqrt()
            .reshape([1, 1, s]);
        (values - mean.detach()) / std.detach()
    }

    /// The same standardizer with its statistics fixed: a pure function of its input, on any
    /// device (e.g. for finite-difference checks of the scheduling path).
    pub fn frozen(mut self) -> Self {
        self.learning = false;
        self
    }

    fn update(&self, values: Tensor<3>, present: Tensor<2, Bool>, [b, m, s]: [usize; 3]) {
        let w = present.float().reshape([b * m, 1]);
        let count = w.clone().sum();
        let count_v: f32 = count.clone().into_scalar();
        if count_v < 1.0 {
            return;
        }
        let x = values.reshape([b * m, s]);
        let mean = (x.clone() * w.clone()).sum_dim(0).reshape([s]) / count.clone();
        let centred = x - mean.clone().reshape([1, s]);
        let var = (centred.powi_scalar(2) * w).sum_dim(0).reshape([s]) / count;
        let device = mean.device();
        let seen = self.batches.value_sync().to_device(&device);
        let first: f32 = seen.clone().into_scalar();
        let (mean, var) = if first < 0.5 {
            (mean, var)
        } else {
            let k = self.momentum;
            (
                self.mean
                    .value_sync()
                    .to_device(&device)
                    .mul_scalar(1.0 - k)
                    + mean.mul_scalar(k),
                self.var.value_sync().to_device(&device).mul_scalar(1.0 - k) + var.mul_scalar(k),
            )
        };
        self.mean.update(mean.detach());
        self.var.update(var.detach());
        self.batches.update(seen.add_scalar(1.0).detach());
        // Fold the update in now, so that a checkpoint written after this step (which reads
        // the folded value) holds it, and a resumed run continues bit-identically.
        let _ = (
            self.mean.value_sync(),
            self.var.value_sync(),
            self.batches.value_sync(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn values(v: Vec<f32>, device: &Device) -> Tensor<3> {
        let n = v.len() / 2;
        Tensor::from_data(TensorData::new(v, [n, 1, 2]), device)
    }

    fn present(v: Vec<bool>, device: &Device) -> Tensor<2, Bool> {
        let n = v.len();
        Tensor::from_data(TensorData::new(v, [n, 1]), device)
    }

    #[test]
    fn first_training_batch_sets_the_statistics_and_evaluation_keeps_them() {
        let train = Device::flex().autodiff();
        let st = SignalStandardizerConfig::new(2).init(&train);
        // signal 0: 1, 3 (mean 2, var 1); signal 1: 10, 30 (mean 20, var 100); row 3 missing.
        let x = values(vec![1.0, 10.0, 3.0, 30.0, 99.0, 99.0], &train);
        let out: Vec<f32> = st
            .forward(x, present(vec![true, true, false], &train))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let e = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(e(out[0], -1.0) && e(out[1], -1.0) && e(out[2], 1.0) && e(out[3], 1.0));
        // evaluation: no update, whatever the batch looks like
        let eval = Device::flex();
        let st = st.valid();
        let all_noisy = values(vec![5.0, 60.0, 5.0, 60.0], &eval);
        let out: Vec<f32> = st
            .forward(all_noisy, present(vec![true, true], &eval))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(e(out[0], 3.0) && e(out[1], 4.0), "{out:?}");
        let mean: Vec<f32> = st.mean.value().into_data().try_to_vec::<f32>().unwrap();
        assert!(e(mean[0], 2.0) && e(mean[1], 20.0));
    }

    #[test]
    fn later_batches_move_the_statistics_by_the_momentum() {
        let train = Device::flex().autodiff();
        let st = SignalStandardizerConfig::new(2)
            .with_momentum(0.5)
            .init(&train);
        let p = || present(vec![true, true], &train);
        st.forward(values(vec![0.0, 0.0, 2.0, 2.0], &train), p());
        st.forward(values(vec![4.0, 4.0, 4.0, 4.0], &train), p());
        let mean: Vec<f32> = st.mean.value().into_data().try_to_vec::<f32>().unwrap();
        let var: Vec<f32> = st.var.value().into_data().try_to_vec::<f32>().unwrap();
        // mean 0.5 * 1 + 0.5 * 4, var 0.5 * 1 + 0.5 * 0
        assert!((mean[0] - 2.5).abs() < 1e-6 && (var[0] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn no_gradient_reaches_the_statistics() {
        let train = Device::flex().autodiff();
        let st = SignalStandardizerConfig::new(2).init(&train);
        let x = values(vec![1.0, 2.0, 3.0, 5.0], &train).require_grad();
        let y = st.forward(x.clone(), present(vec![true, true], &train));
        let g = y.sum().backward();
        let grad: Vec<f32> = x.grad(&g).unwrap().into_data().try_to_vec::<f32>().unwrap();
        // d/dx (x - mean) / std with mean and std constants
        assert!((grad[0] - 1.0).abs() < 1e-3 && (grad[1] - 1.0 / 1.5).abs() < 1e-3);
    }
}
