//! Learned confidence (DESIGN §1; PDF's confidence network, Cao et al. ICML 2024): a small MLP
//! per modality on the *detached* pooled embedding predicts
//!
//! - `confidence`: the modality's true-class probability (TCP), trained by L1 to the TCP of
//!   its own unimodal head ([`LearnedConfidence::tcp_loss`], as `Yinan-Xia/PDF` trains its
//!   `ConfidNet`), and
//! - `confidence_clean` (optional): the probability that the modality is as the dataset gave
//!   it, trained by binary cross-entropy to the augmenter's known corruption flag
//!   ([`LearnedConfidence::clean_loss`]). The flag is privileged supervision that exists only
//!   in corruption-aware training; at test time the signal reads nothing but the encoding.
//!
//! Both are uncertainty signals like the others ([`ConfidenceSignal`] implements
//! [`UncertaintySignal`]); they are what lets the scheduler see a corruption that prototype
//! entropy misses. Each network reads the pooled embedding and, by default, the mean and
//! standard deviation of the token states (a pooled embedding trained for the task can be
//! nearly blind to noise that the tokens still show). By default the networks read detached
//! encodings, so neither loss reaches the encoders: the encoders learn the task, the
//! confidence learns to judge their output.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Gelu, Linear, LinearConfig};
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::{Bool, Device, Tensor};
use mafs_core::{Encoded, SignalContext, UncertaintySignal};

use crate::standardize::{SignalStandardizer, SignalStandardizerConfig};
use crate::util::stack_modalities;

/// Name of the predicted-TCP signal in a [`mafs_core::SignalSet`].
pub const CONFIDENCE: &str = "confidence";
/// Name of the predicted-clean-probability signal.
pub const CONFIDENCE_CLEAN: &str = "confidence_clean";

/// Configuration of [`LearnedConfidence`].
#[derive(Config, Debug)]
pub struct LearnedConfidenceConfig {
    /// Width `d` of the pooled embeddings.
    pub d: usize,
    /// Number of modalities (one network each: the modalities' embeddings live in different
    /// spaces).
    pub n_modalities: usize,
    /// Hidden width of each network.
    #[config(default = 64)]
    pub hidden: usize,
    /// Whether each network also predicts the clean probability (`confidence_clean`).
    #[config(default = true)]
    pub clean_head: bool,
    /// Whether the networks also read the mean and standard deviation of the modality's
    /// token states (over its non-padding tokens), besides the pooled embedding: a pooled
    /// embedding trained for the task can be nearly blind to input noise that the token
    /// states still show.
    #[config(default = true)]
    pub token_stats: bool,
    /// Whether the networks read detached encodings (so their losses never reach the
    /// encoders). Off, the clean head's supervision also teaches the encoders to make
    /// corruption visible.
    #[config(default = true)]
    pub detach_input: bool,
    /// Width of each modality's input-embedding statistics ([`Encoded::stem_stats`],
    /// `[batch, 2 * w]`: give `w`), in modality order; empty: the networks do not read them.
    #[config(default = "Vec::new()")]
    pub stem_widths: Vec<usize>,
    /// Whether each network standardises its input features by running statistics of the
    /// training batches ([`SignalStandardizer`]): the token and input-embedding statistics
    /// live on scales far from the pooled embedding's, and a shift of the input-embedding
    /// spread (what pixel noise does) is only visible to the network once it is in units of
    /// its usual spread.
    #[config(default = false)]
    pub standardize: bool,
}

impl LearnedConfidenceConfig {
    /// Builds one network per modality.
    ///
    /// # Panics
    ///
    /// Panics if `d`, `n_modalities` or `hidden` is 0.
    pub fn init(&self, device: &Device) -> LearnedConfidence {
        assert!(
            self.d > 0 && self.n_modalities > 0 && self.hidden > 0,
            "LearnedConfidenceConfig: d, n_modalities and hidden must be positive"
        );
        assert!(
            self.stem_widths.is_empty() || self.stem_widths.len() == self.n_modalities,
            "LearnedConfidenceConfig: {} stem widths for {} modalities",
            self.stem_widths.len(),
            self.n_modalities
        );
        let outputs = if self.clean_head { 2 } else { 1 };
        let base = if self.token_stats { 3 * self.d } else { self.d };
        let width = |m: usize| base + 2 * self.stem_widths.get(m).copied().unwrap_or(0);
        LearnedConfidence {
            nets: (0..self.n_modalities)
                .map(|m| ConfidenceNet {
                    fc1: LinearConfig::new(width(m), self.hidden).init(device),
                    fc2: LinearConfig::new(self.hidden, outputs).init(device),
                    act: Gelu::new(),
                })
                .collect(),
            standardizers: if self.standardize {
                (0..self.n_modalities)
                    .map(|m| {
                        SignalStandardizerConfig::new(width(m))
                            .with_id_offset(CONFIDENCE_STATE_OFFSET + m as u64)
                            .init(device)
                    })
                    .collect()
            } else {
                Vec::new()
            },
            clean_head: self.clean_head,
            token_stats: self.token_stats,
            detach_input: self.detach_input,
            stem: !self.stem_widths.is_empty(),
        }
    }
}

/// One modality's network: `fc2(gelu(fc1(sg(z))))`, logits of (TCP, clean).
#[derive(Module, Debug)]
pub struct ConfidenceNet {
    /// `d -> hidden`.
    pub fc1: Linear,
    /// `hidden -> 1` or `2`.
    pub fc2: Linear,
    /// Activation.
    pub act: Gelu,
}

/// Standardizer id offsets of the confidence networks (the scheduler's own is 0).
const CONFIDENCE_STATE_OFFSET: u64 = 16;

/// Per-modality confidence networks.
#[derive(Module, Debug)]
pub struct LearnedConfidence {
    /// One network per modality, in scheduler order.
    pub nets: Vec<ConfidenceNet>,
    /// One input standardizer per modality (empty: the inputs are read as they are).
    pub standardizers: Vec<SignalStandardizer>,
    /// Whether the networks predict the clean probability too.
    pub clean_head: bool,
    /// Whether they read token statistics besides the pooled embedding.
    pub token_stats: bool,
    /// Whether they read detached encodings.
    pub detach_input: bool,
    /// Whether they read the input-embedding statistics.
    pub stem: bool,
}

impl LearnedConfidence {
    /// The features one network reads: the pooled embedding, then (when on) the token states'
    /// mean and standard deviation and the input-embedding statistics.
    ///
    /// # Panics
    ///
    /// Panics if the stem statistics are asked for and the encoding lacks them.
    fn features(&self, e: &Encoded) -> Tensor<2> {
        let mut parts = vec![e.pooled.clone()];
        if self.token_stats {
            parts.push(mafs_core::token_mean_std(
                e.tokens.clone(),
                e.padding.clone(),
            ));
        }
        if self.stem {
            parts.push(e.stem_stats.clone().unwrap_or_else(|| {
                panic!(
                    "LearnedConfidence: modality `{}` has no stem_stats (its encoder does not \
                     report input-embedding statistics); build the confidence without stem widths",
                    e.name
                )
            }));
        }
        let x = Tensor::cat(parts, 1);
        if self.detach_input { x.detach() } else { x }
    }
}

/// The two outputs of [`LearnedConfidence`], as logits `[batch, M]`.
#[derive(Debug, Clone)]
pub struct ConfidenceLogits {
    /// Logit of the predicted TCP.
    pub tcp: Tensor<2>,
    /// Logit of the predicted clean probability (when the clean head is on).
    pub clean: Option<Tensor<2>>,
}

impl LearnedConfidence {
    /// The same networks with their input statistics fixed (no running update in training).
    pub fn with_frozen_statistics(mut self) -> Self {
        self.standardizers = self
            .standardizers
            .into_iter()
            .map(SignalStandardizer::frozen)
            .collect();
        self
    }

    /// Number of modalities.
    pub fn n_modalities(&self) -> usize {
        self.nets.len()
    }

    /// Logits of both outputs from the detached pooled embeddings.
    ///
    /// # Panics
    ///
    /// Panics if the number of modalities differs from the number of networks.
    pub fn logits(&self, encoded: &[Encoded]) -> ConfidenceLogits {
        assert_eq!(
            encoded.len(),
            self.nets.len(),
            "LearnedConfidence: {} modalities, {} networks",
            encoded.len(),
            self.nets.len()
        );
        let outs: Vec<Tensor<2>> = encoded
            .iter()
            .zip(&self.nets)
            .enumerate()
            .map(|(m, (e, net))| {
                let mut x = self.features(e);
                if let Some(st) = self.standardizers.get(m) {
                    let [b, f] = x.dims();
                    let present = e.present.clone().reshape([b, 1]);
                    x = st.forward(x.reshape([b, 1, f]), present).reshape([b, f]);
                }
                net.fc2.forward(net.act.forward(net.fc1.forward(x)))
            })
            .collect();
        let column = |k: usize| {
            stack_modalities(
                outs.iter()
                    .map(|o| {
                        let [b, _] = o.dims();
                        o.clone().slice([0..b, k..k + 1]).reshape([b])
                    })
                    .collect(),
            )
        };
        ConfidenceLogits {
            tcp: column(0),
            clean: self.clean_head.then(|| column(1)),
        }
    }

    /// `L1(sigmoid(tcp logit), tcp)` averaged over the present entries (0 with none), as
    /// PDF trains its confidence network. `tcp` is detached here.
    ///
    /// # Shapes
    ///
    /// - `logits`, `tcp`: `[batch, M]`, `present`: `[batch, M]`, output `[1]`
    pub fn tcp_loss(logits: Tensor<2>, tcp: Tensor<2>, present: Tensor<2, Bool>) -> Tensor<1> {
        let err = (sigmoid(logits) - tcp.detach()).abs();
        masked_mean(err, present)
    }

    /// Binary cross-entropy of the clean logit against `clean` (`true`: the modality was left
    /// as the dataset gave it), averaged over the entries of `counted` (0 with none).
    ///
    /// # Shapes
    ///
    /// - `logits`: `[batch, M]`, `clean`, `counted`: `[batch, M]`, output `[1]`
    pub fn clean_loss(
        logits: Tensor<2>,
        clean: Tensor<2, Bool>,
        counted: Tensor<2, Bool>,
    ) -> Tensor<1> {
        let y = clean.float();
        // -(y log s(x) + (1 - y) log s(-x))
        let nll = (y.clone() * log_sigmoid(logits.clone())
            + (y.neg().add_scalar(1.0)) * log_sigmoid(logits.neg()))
        .neg();
        masked_mean(nll, counted)
    }
}

fn masked_mean(values: Tensor<2>, mask: Tensor<2, Bool>) -> Tensor<1> {
    let m = mask.float();
    let n = m.clone().sum().clamp_min(1.0);
    (values * m).sum().div(n)
}

/// Which output of [`LearnedConfidence`] a [`ConfidenceSignal`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfidenceOutput {
    /// Predicted TCP ([`CONFIDENCE`]).
    Tcp,
    /// Predicted clean probability ([`CONFIDENCE_CLEAN`]).
    Clean,
}

/// A view of [`LearnedConfidence`] as one uncertainty signal: `sigmoid` of the chosen
/// output, in (0, 1), high for a modality the network trusts.
#[derive(Debug, Clone, Copy)]
pub struct ConfidenceSignal<'a> {
    /// The networks.
    pub net: &'a LearnedConfidence,
    /// The output.
    pub output: ConfidenceOutput,
}

impl UncertaintySignal for ConfidenceSignal<'_> {
    fn name(&self) -> &str {
        match self.output {
            ConfidenceOutput::Tcp => CONFIDENCE,
            ConfidenceOutput::Clean => CONFIDENCE_CLEAN,
        }
    }

    /// # Panics
    ///
    /// Panics if the clean output is asked of networks without the clean head.
    fn compute(&self, ctx: &SignalContext<'_>) -> Tensor<2> {
        let l = self.net.logits(ctx.encoded);
        let logits = match self.output {
            ConfidenceOutput::Tcp => l.tcp,
            ConfidenceOutput::Clean => l
                .clean
                .expect("confidence_clean asked of LearnedConfidence without its clean head"),
        };
        sigmoid(logits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn t2(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    fn b2(v: Vec<bool>, shape: [usize; 2], device: &Device) -> Tensor<2, Bool> {
        Tensor::from_data(TensorData::new(v, shape), device)
    }

    #[test]
    fn tcp_loss_is_l1_over_present_entries_with_its_gradient() {
        let device = Device::flex().autodiff();
        // sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75
        let logits = t2(vec![0.0, 3f32.ln(), 0.0, 0.0], [2, 2], &device).require_grad();
        let tcp = t2(vec![0.25, 1.0, 0.9, 0.1], [2, 2], &device);
        let present = b2(vec![true, true, true, false], [2, 2], &device);
        let loss = LearnedConfidence::tcp_loss(logits.clone(), tcp, present);
        // |0.5-0.25| + |0.75-1| + |0.5-0.9| = 0.25 + 0.25 + 0.4 = 0.9, over 3 entries
        let v: f32 = loss.clone().into_scalar();
        assert!((v - 0.3).abs() < 1e-6, "{v}");
        let g = loss.backward();
        let grad: Vec<f32> = logits
            .grad(&g)
            .unwrap()
            .to_data()
            .try_to_vec::<f32>()
            .unwrap();
        // d/dx |s(x) - t| / 3 = sign(s - t) s (1 - s) / 3
        let want = [
            0.25 / 3.0,
            -(0.75 * 0.25) / 3.0,
            -0.25 / 3.0,
            0.0, // missing entry
        ];
        for (a, b) in grad.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{grad:?} vs {want:?}");
        }
    }

    #[test]
    fn clean_loss_is_bce_with_logits_and_its_gradient() {
        let device = Device::flex().autodiff();
        let logits = t2(vec![0.0, 2.0, -1.0, 5.0], [2, 2], &device).require_grad();
        let clean = b2(vec![true, false, false, true], [2, 2], &device);
        let counted = b2(vec![true, true, true, false], [2, 2], &device);
        let loss = LearnedConfidence::clean_loss(logits.clone(), clean, counted);
        let sp = |x: f64| (1.0 + x.exp()).ln(); // softplus: -log s(-x) = sp(x)
        let want = (sp(-0.0) + sp(2.0) + sp(-1.0)) / 3.0;
        let v: f32 = loss.clone().into_scalar();
        assert!((v as f64 - want).abs() < 1e-6, "{v} vs {want}");
        let g = loss.backward();
        let grad: Vec<f32> = logits
            .grad(&g)
            .unwrap()
            .to_data()
            .try_to_vec::<f32>()
            .unwrap();
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        // d/dx BCE = (s(x) - y) / 3
        let want = [(s(0.0) - 1.0) / 3.0, s(2.0) / 3.0, s(-1.0) / 3.0, 0.0];
        for (a, b) in grad.iter().zip(want) {
            assert!((*a as f64 - b).abs() < 1e-6, "{grad:?} vs {want:?}");
        }
    }

    #[test]
    fn networks_read_detached_embeddings() {
        let device = Device::flex().autodiff();
        device.seed(3);
        let conf = LearnedConfidenceConfig::new(4, 2).init(&device);
        let z = Tensor::<2>::ones([3, 4], &device).require_grad();
        let enc: Vec<Encoded> = (0..2)
            .map(|i| {
                Encoded::new(
                    format!("m{i}"),
                    z.clone().reshape([3, 1, 4]),
                    Tensor::<2, Bool>::from_data(TensorData::new(vec![false; 3], [3, 1]), &device),
                    z.clone(),
                    Tensor::<1, Bool>::from_data(TensorData::new(vec![true; 3], [3]), &device),
                )
            })
            .collect();
        let l = conf.logits(&enc);
        assert_eq!(l.tcp.dims(), [3, 2]);
        let g = (l.tcp.sum() + l.clean.unwrap().sum()).backward();
        assert!(z.grad(&g).is_none(), "the embedding got a gradient");
        let sig = ConfidenceSignal {
            net: &conf,
            output: ConfidenceOutput::Clean,
        };
        let v: Vec<f32> = sig
            .compute(&SignalContext::new(&enc))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(v.iter().all(|x| *x > 0.0 && *x < 1.0));
        assert_eq!(sig.name(), CONFIDENCE_CLEAN);
    }
}
