//! One name and one configuration for every fusion weighting (ours and the baselines), so
//! the trainer can pick one from a string and run them side by side through the same heads.

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::Device;
use mafs_core::{Encoded, FusionWeights, Scheduler, SignalSet};
use serde::{Deserialize, Serialize};

use crate::{
    DynMmGate, DynMmGateConfig, FixedWeights, MlpScheduler, MlpSchedulerConfig, MonotoneScheduler,
    MonotoneSchedulerConfig, PdfWeighting, PdfWeightingConfig, QmfWeighting, QmfWeightingConfig,
    SchedulerError,
};

/// The fusion weightings by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WeightingKind {
    /// Uniform weights (`fixed-late` / `fixed-query` with the late or query head).
    #[serde(rename = "fixed")]
    Fixed,
    /// MA-AFS with the shared-MLP scheduler.
    #[serde(rename = "ma-afs-mlp")]
    MaAfsMlp,
    /// MA-AFS with the monotone scheduler.
    #[serde(rename = "ma-afs-monotone")]
    MaAfsMonotone,
    /// QMF energy weights.
    #[serde(rename = "qmf")]
    Qmf,
    /// PDF predicted-TCP weights.
    #[serde(rename = "pdf")]
    Pdf,
    /// DynMM straight-through hard gate.
    #[serde(rename = "dynmm")]
    DynMm,
}

impl WeightingKind {
    /// Every kind, in a fixed order (for side-by-side runs).
    pub const ALL: [WeightingKind; 6] = [
        WeightingKind::Fixed,
        WeightingKind::MaAfsMlp,
        WeightingKind::MaAfsMonotone,
        WeightingKind::Qmf,
        WeightingKind::Pdf,
        WeightingKind::DynMm,
    ];

    /// The serde / command-line name.
    pub fn name(self) -> &'static str {
        match self {
            WeightingKind::Fixed => "fixed",
            WeightingKind::MaAfsMlp => "ma-afs-mlp",
            WeightingKind::MaAfsMonotone => "ma-afs-monotone",
            WeightingKind::Qmf => "qmf",
            WeightingKind::Pdf => "pdf",
            WeightingKind::DynMm => "dynmm",
        }
    }

    /// Whether the weights are detached from the task gradient by the method's definition
    /// (QMF and PDF train their weighting apart).
    pub fn detached(self) -> bool {
        matches!(self, WeightingKind::Qmf | WeightingKind::Pdf)
    }
}

impl fmt::Display for WeightingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WeightingKind {
    type Err = SchedulerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WeightingKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| SchedulerError::UnknownWeighting {
                name: s.to_string(),
            })
    }
}

/// Configuration of any weighting, tagged by `kind`:
/// `{"kind": "ma-afs-mlp", "signals": ["prototype_entropy", "agreement_cosine"]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum FusionWeightingConfig {
    /// Uniform weights.
    #[serde(rename = "fixed")]
    Fixed,
    /// The MLP scheduler.
    #[serde(rename = "ma-afs-mlp")]
    MaAfsMlp(MlpSchedulerConfig),
    /// The monotone scheduler.
    #[serde(rename = "ma-afs-monotone")]
    MaAfsMonotone(MonotoneSchedulerConfig),
    /// QMF.
    #[serde(rename = "qmf")]
    Qmf(QmfWeightingConfig),
    /// PDF.
    #[serde(rename = "pdf")]
    Pdf(PdfWeightingConfig),
    /// DynMM.
    #[serde(rename = "dynmm")]
    DynMm(DynMmGateConfig),
}

impl FusionWeightingConfig {
    /// The kind of this configuration.
    pub fn kind(&self) -> WeightingKind {
        match self {
            FusionWeightingConfig::Fixed => WeightingKind::Fixed,
            FusionWeightingConfig::MaAfsMlp(_) => WeightingKind::MaAfsMlp,
            FusionWeightingConfig::MaAfsMonotone(_) => WeightingKind::MaAfsMonotone,
            FusionWeightingConfig::Qmf(_) => WeightingKind::Qmf,
            FusionWeightingConfig::Pdf(_) => WeightingKind::Pdf,
            FusionWeightingConfig::DynMm(_) => WeightingKind::DynMm,
        }
    }

    /// The default configuration of a kind for a model with embedding width `d`,
    /// `n_modalities` modalities and the given signal names: the MLP reads every signal; the
    /// monotone scheduler reads the names starting with `agreement` as agreements and the
    /// rest as uncertainties. The raw, unbounded `energy` signal (QMF's input) is left out of
    /// both, so the schedulers only see signals in [-1, 1] by default.
    ///
    /// # Errors
    ///
    /// [`SchedulerError::Config`] when a scheduler kind gets no usable signal.
    pub fn default_for(
        kind: WeightingKind,
        d: usize,
        n_modalities: usize,
        signals: &[String],
    ) -> Result<Self, SchedulerError> {
        Ok(match kind {
            WeightingKind::Fixed => FusionWeightingConfig::Fixed,
            WeightingKind::MaAfsMlp => {
                let bounded: Vec<String> = signals
                    .iter()
                    .filter(|s| s.as_str() != mafs_signals::ENERGY)
                    .cloned()
                    .collect();
                if bounded.is_empty() {
                    return Err(SchedulerError::Config(format!(
                        "ma-afs-mlp needs at least one signal other than energy among {signals:?}"
                    )));
                }
                FusionWeightingConfig::MaAfsMlp(
                    MlpSchedulerConfig::new(bounded).with_n_modalities(n_modalities),
                )
            }
            WeightingKind::MaAfsMonotone => {
                let (agreement, uncertainty): (Vec<String>, Vec<String>) = signals
                    .iter()
                    .filter(|s| s.as_str() != mafs_signals::ENERGY)
                    .cloned()
                    .partition(|s| s.starts_with("agreement"));
                if uncertainty.is_empty() {
                    return Err(SchedulerError::Config(format!(
                        "ma-afs-monotone needs an uncertainty signal among {signals:?}"
                    )));
                }
                FusionWeightingConfig::MaAfsMonotone(
                    MonotoneSchedulerConfig::new(uncertainty)
                        .with_agreement(agreement)
                        .with_n_modalities(n_modalities),
                )
            }
            WeightingKind::Qmf => FusionWeightingConfig::Qmf(QmfWeightingConfig::new()),
            WeightingKind::Pdf => FusionWeightingConfig::Pdf(
                PdfWeightingConfig::new(d).with_n_modalities(n_modalities),
            ),
            WeightingKind::DynMm => FusionWeightingConfig::DynMm(DynMmGateConfig::new(d)),
        })
    }

    /// Builds the weighting.
    pub fn init(&self, device: &Device) -> FusionWeighting {
        match self {
            FusionWeightingConfig::Fixed => FusionWeighting::Fixed(FixedWeights::default()),
            FusionWeightingConfig::MaAfsMlp(c) => FusionWeighting::MaAfsMlp(c.init(device)),
            FusionWeightingConfig::MaAfsMonotone(c) => {
                FusionWeighting::MaAfsMonotone(c.init(device))
            }
            FusionWeightingConfig::Qmf(c) => FusionWeighting::Qmf(c.init()),
            FusionWeightingConfig::Pdf(c) => FusionWeighting::Pdf(c.init(device)),
            FusionWeightingConfig::DynMm(c) => FusionWeighting::DynMm(c.init(device)),
        }
    }
}

/// Any weighting, as one module the model can hold.
#[derive(Module, Debug)]
pub enum FusionWeighting {
    /// Uniform weights.
    Fixed(FixedWeights),
    /// The MLP scheduler.
    MaAfsMlp(MlpScheduler),
    /// The monotone scheduler.
    MaAfsMonotone(MonotoneScheduler),
    /// QMF.
    Qmf(QmfWeighting),
    /// PDF.
    Pdf(PdfWeighting),
    /// DynMM.
    DynMm(DynMmGate),
}

impl FusionWeighting {
    /// Its kind.
    pub fn kind(&self) -> WeightingKind {
        match self {
            FusionWeighting::Fixed(_) => WeightingKind::Fixed,
            FusionWeighting::MaAfsMlp(_) => WeightingKind::MaAfsMlp,
            FusionWeighting::MaAfsMonotone(_) => WeightingKind::MaAfsMonotone,
            FusionWeighting::Qmf(_) => WeightingKind::Qmf,
            FusionWeighting::Pdf(_) => WeightingKind::Pdf,
            FusionWeighting::DynMm(_) => WeightingKind::DynMm,
        }
    }

    /// The same weighting with any input statistics fixed (no running update in training).
    pub fn with_frozen_statistics(self) -> Self {
        match self {
            FusionWeighting::MaAfsMlp(s) => FusionWeighting::MaAfsMlp(s.with_frozen_statistics()),
            other => other,
        }
    }
}

impl Scheduler for FusionWeighting {
    fn schedule(&self, encoded: &[Encoded], signals: &SignalSet, tau: f64) -> FusionWeights {
        match self {
            FusionWeighting::Fixed(s) => s.schedule(encoded, signals, tau),
            FusionWeighting::MaAfsMlp(s) => s.schedule(encoded, signals, tau),
            FusionWeighting::MaAfsMonotone(s) => s.schedule(encoded, signals, tau),
            FusionWeighting::Qmf(s) => s.schedule(encoded, signals, tau),
            FusionWeighting::Pdf(s) => s.schedule(encoded, signals, tau),
            FusionWeighting::DynMm(s) => s.schedule(encoded, signals, tau),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{encoded, signal_set};

    #[test]
    fn names_round_trip() {
        for k in WeightingKind::ALL {
            assert_eq!(k.name().parse::<WeightingKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.name())
            );
        }
        assert!(matches!(
            "mlp".parse::<WeightingKind>(),
            Err(SchedulerError::UnknownWeighting { .. })
        ));
    }

    #[test]
    fn every_kind_builds_and_weighs() {
        let device = Device::flex();
        device.seed(7);
        let names: Vec<String> = ["prototype_entropy", "agreement_cosine", "energy"]
            .map(String::from)
            .to_vec();
        let enc = vec![
            encoded("image", vec![true, false, true], 4),
            encoded("text", vec![true, true, false], 4),
        ];
        let set = signal_set(
            &["prototype_entropy", "agreement_cosine", "energy"],
            3,
            2,
            8,
        );
        for k in WeightingKind::ALL {
            let cfg = FusionWeightingConfig::default_for(k, 4, 2, &names).unwrap();
            assert_eq!(cfg.kind(), k);
            let json = serde_json::to_string(&cfg).unwrap();
            let back: FusionWeightingConfig = serde_json::from_str(&json).unwrap();
            let w = back.init(&device);
            assert_eq!(w.kind(), k);
            let v: Vec<f32> = w
                .schedule(&enc, &set, 1.0)
                .weights
                .try_into_vec_as()
                .unwrap();
            // instance 1 has only text, instance 2 only image
            assert!((v[0] + v[1] - 1.0).abs() < 1e-5, "{k}: {v:?}");
            assert_eq!([v[2], v[5]], [0.0, 0.0], "{k}: {v:?}");
            assert!(
                (v[3] - 1.0).abs() < 1e-5 && (v[4] - 1.0).abs() < 1e-5,
                "{k}: {v:?}"
            );
        }
    }

    #[test]
    fn defaults_leave_raw_energy_to_qmf() {
        let names: Vec<String> = ["prototype_entropy", "agreement_cosine", "energy"]
            .map(String::from)
            .to_vec();
        match FusionWeightingConfig::default_for(WeightingKind::MaAfsMlp, 4, 2, &names).unwrap() {
            FusionWeightingConfig::MaAfsMlp(c) => {
                assert_eq!(c.signals, vec!["prototype_entropy", "agreement_cosine"])
            }
            other => panic!("{other:?}"),
        }
        match FusionWeightingConfig::default_for(WeightingKind::MaAfsMonotone, 4, 2, &names)
            .unwrap()
        {
            FusionWeightingConfig::MaAfsMonotone(c) => {
                assert_eq!(c.uncertainty, vec!["prototype_entropy"]);
                assert_eq!(c.agreement, vec!["agreement_cosine"]);
            }
            other => panic!("{other:?}"),
        }
        let only_energy = vec!["energy".to_string()];
        assert!(matches!(
            FusionWeightingConfig::default_for(WeightingKind::MaAfsMlp, 4, 2, &only_energy),
            Err(SchedulerError::Config(_))
        ));
    }

    #[test]
    fn config_from_json() {
        // burn's Config deserialisation needs every field (defaults apply to `new` only).
        let cfg: FusionWeightingConfig = serde_json::from_str(
            r#"{"kind": "ma-afs-monotone", "uncertainty": ["prototype_entropy"],
                "agreement": ["agreement_js"], "hidden": 16, "prior": false,
                "n_modalities": 3, "alpha_init": 1.0, "f_bound_init": 0.5}"#,
        )
        .unwrap();
        match cfg {
            FusionWeightingConfig::MaAfsMonotone(c) => {
                assert_eq!(c.hidden, 16);
                assert_eq!(c.agreement, vec!["agreement_js"]);
            }
            other => panic!("{other:?}"),
        }
        let err = serde_json::from_str::<FusionWeightingConfig>(
            r#"{"kind": "ma-afs-mlp", "signals": ["u"]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("missing field `hidden`"), "{err}");
    }
}
