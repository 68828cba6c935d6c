//! The configuration of one run, saved as `config.json` in the run directory. Everything a
//! run does is a function of this file (and the data it names).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// Which fusion the model uses: a weighting of the modalities and the head that mixes them.
/// Its command-line names (`ma-afs`, `fixed-query`, ...) are the variant names in kebab
/// case, written and parsed by strum.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(
    serialize_all = "kebab-case",
    parse_err_ty = TrainError,
    parse_err_fn = unknown_fusion
)]
pub enum FusionKind {
    /// MA-AFS with the shared-MLP scheduler (ours), query-fusion head.
    MaAfs,
    /// MA-AFS with the monotone scheduler (ours), query-fusion head.
    MaAfsMonotone,
    /// MA-AFS (MLP scheduler) on the late-fusion head.
    MaAfsLate,
    /// CLIP-style late fusion with uniform weights.
    FixedLate,
    /// ALBEF/BLIP-style query (cross-attention) fusion with uniform weights.
    FixedQuery,
    /// QMF energy-score weights, query-fusion head.
    Qmf,
    /// PDF predicted true-class-probability weights, query-fusion head.
    Pdf,
    /// DynMM straight-through hard gate, query-fusion head.
    Dynmm,
}

impl FusionKind {
    /// Every fusion, in report order (baselines first, then ours).
    pub const ALL: [FusionKind; 8] = [
        FusionKind::FixedLate,
        FusionKind::FixedQuery,
        FusionKind::Qmf,
        FusionKind::Pdf,
        FusionKind::Dynmm,
        FusionKind::MaAfsLate,
        FusionKind::MaAfs,
        FusionKind::MaAfsMonotone,
    ];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the fusion head is the late-fusion head (else query fusion).
    pub fn is_late(self) -> bool {
        matches!(self, FusionKind::FixedLate | FusionKind::MaAfsLate)
    }

    /// Whether the weights are constant (fixed fusion).
    pub fn is_fixed(self) -> bool {
        matches!(self, FusionKind::FixedLate | FusionKind::FixedQuery)
    }
}

/// The error of an unknown name, listing the known ones.
fn unknown<T: strum::VariantNames>(what: &str, s: &str) -> TrainError {
    TrainError::Config(format!(
        "unknown {what} `{s}`; expected one of: {}",
        T::VARIANTS.join(", ")
    ))
}

fn unknown_fusion(s: &str) -> TrainError {
    unknown::<FusionKind>("fusion", s)
}

/// The task a run trains (`retrieval`, `captioning`, `vqa`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", parse_err_ty = TrainError, parse_err_fn = unknown_task)]
pub enum Task {
    /// Item (image + side text) ↔ caption retrieval.
    Retrieval,
    /// Image + side text → caption.
    Captioning,
    /// Image + question (+ side text) → answer.
    Vqa,
}

impl Task {
    /// Every task.
    pub const ALL: [Task; 3] = [Task::Retrieval, Task::Captioning, Task::Vqa];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

fn unknown_task(s: &str) -> TrainError {
    unknown::<Task>("task", s)
}

/// The loss of the VQA answer classifier and of its unimodal heads.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[serde(rename_all = "kebab-case")]
#[strum(
    serialize_all = "kebab-case",
    parse_err_ty = TrainError,
    parse_err_fn = unknown_vqa_loss
)]
pub enum VqaLossKind {
    /// Binary cross-entropy against the soft scores, summed over answers (the VQA v2
    /// literature's default: BUTD, Pythia, MCAN). Slow to leave its all-negative start with a
    /// small answer vocabulary.
    SoftBce,
    /// Cross-entropy against the soft scores normalised to a distribution (one-hot for the
    /// built-in world, whose ten human answers agree). The default.
    #[default]
    SoftCrossEntropy,
    /// Cross-entropy on the most frequent answer.
    CrossEntropy,
}

impl VqaLossKind {
    /// Every kind.
    pub const ALL: [VqaLossKind; 3] = [
        VqaLossKind::SoftBce,
        VqaLossKind::SoftCrossEntropy,
        VqaLossKind::CrossEntropy,
    ];

    /// The command-line name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The head's loss.
    pub fn to_head(self) -> mafs_heads::VqaLoss {
        match self {
            VqaLossKind::SoftBce => mafs_heads::VqaLoss::SoftBce,
            VqaLossKind::SoftCrossEntropy => mafs_heads::VqaLoss::SoftCrossEntropy,
            VqaLossKind::CrossEntropy => mafs_heads::VqaLoss::CrossEntropy,
        }
    }
}

fn unknown_vqa_loss(s: &str) -> TrainError {
    unknown::<VqaLossKind>("VQA loss", s)
}

/// Where the data comes from: mafs-data's source, which reads every format (`--data`).
pub use mafs_data::source::DataSource;

/// Corruption-aware training: with probability `p`, one modality of an instance is
/// corrupted, dropped or misaligned (severity drawn from `severity_min..=severity_max`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorruptionAware {
    /// Whether it is on.
    pub enabled: bool,
    /// Probability an instance's image is corrupted or dropped.
    pub p_image: f64,
    /// Probability an instance's side text is corrupted or dropped.
    pub p_text: f64,
    /// Probability an instance's side text is replaced by another instance's.
    pub p_pair: f64,
    /// Lowest severity.
    pub severity_min: u8,
    /// Highest severity.
    pub severity_max: u8,
}

impl Default for CorruptionAware {
    fn default() -> Self {
        Self {
            enabled: true,
            p_image: 0.25,
            p_text: 0.25,
            p_pair: 0.1,
            severity_min: 1,
            severity_max: 5,
        }
    }
}

/// Loss weights of `L = L_task + lambda_uni * sum_m L_uni,m + lambda_reg * KL(w || U) +
/// lambda_proto * L_proto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Unimodal auxiliary losses.
    pub lambda_uni: f64,
    /// KL of the weights to uniform.
    pub lambda_reg: f64,
    /// Prototype loss.
    pub lambda_proto: f64,
    /// ITM loss (retrieval with query fusion).
    pub lambda_itm: f64,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            lambda_uni: 0.5,
            lambda_reg: 0.01,
            lambda_proto: 0.1,
            lambda_itm: 1.0,
        }
    }
}

/// Optimisation settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optim {
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Peak learning rate (AdamW).
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Share of the steps spent warming up.
    pub warmup_fraction: f64,
    /// Gradient clipping by global norm (0 = off).
    pub grad_clip: f64,
    /// Scheduler temperature at the start (near-uniform weights).
    pub tau_start: f64,
    /// Scheduler temperature at the end.
    pub tau_min: f64,
    /// Checkpoint every this many steps (0 = at the end of each epoch only).
    pub checkpoint_every: usize,
}

impl Default for Optim {
    fn default() -> Self {
        Self {
            epochs: 4,
            batch_size: 32,
            lr: 2e-3,
            weight_decay: 0.05,
            warmup_fraction: 0.05,
            grad_clip: 1.0,
            tau_start: 4.0,
            tau_min: 0.5,
            checkpoint_every: 0,
        }
    }
}

/// One run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Task.
    pub task: Task,
    /// Fusion.
    pub fusion: FusionKind,
    /// Encoder preset name or JSON path.
    pub preset: String,
    /// Data.
    pub data: DataSource,
    /// Run seed (model initialisation, data order, augmentation, dropout).
    pub seed: u64,
    /// Optimisation.
    pub optim: Optim,
    /// Loss weights.
    pub loss: LossWeights,
    /// Corruption-aware training.
    pub corruption_aware: CorruptionAware,
    /// Detach the fusion weights from the task gradient (as QMF and PDF do).
    pub detach_weights: bool,
    /// Use the side text as a third, context modality in VQA.
    pub vqa_side_text: bool,
    /// Top-k of ITC candidates re-ranked by ITM at retrieval evaluation (0 = off).
    pub itm_rerank_k: usize,
    /// Train on every (instance, caption) or (instance, question) pair per epoch instead of
    /// one pair per instance drawn afresh each epoch.
    pub all_pairs: bool,
    /// Minimum count of a word to enter the vocabulary.
    pub min_word_count: usize,
    /// Answers kept in the VQA answer vocabulary.
    pub max_answers: usize,
    /// Loss of the VQA answer classifier and unimodal heads (absent in configs written before
    /// it existed, which trained with soft BCE).
    #[serde(default = "legacy_vqa_loss")]
    pub vqa_loss: VqaLossKind,
    /// Pretrained towers to start from, and whether to freeze them (see [`crate::init`]).
    #[serde(default)]
    pub init: crate::init::EncoderInit,
    /// A Hugging Face `tokenizer.json` replacing the word-level vocabulary (`None`: build the
    /// word vocabulary from the training split).
    #[serde(default)]
    pub tokenizer: Option<PathBuf>,
}

fn legacy_vqa_loss() -> VqaLossKind {
    VqaLossKind::SoftBce
}

impl RunConfig {
    /// A run with the defaults for `task` and `fusion` on the built-in world.
    pub fn new(task: Task, fusion: FusionKind, seed: u64) -> Self {
        Self {
            task,
            fusion,
            preset: "tiny".into(),
            data: DataSource::parse("world", None, seed).expect("world needs nothing"),
            seed,
            optim: Optim::default(),
            loss: LossWeights::default(),
            corruption_aware: CorruptionAware::default(),
            detach_weights: matches!(fusion, FusionKind::Qmf | FusionKind::Pdf),
            vqa_side_text: true,
            itm_rerank_k: 16,
            all_pairs: false,
            min_word_count: 1,
            max_answers: 256,
            vqa_loss: VqaLossKind::default(),
            init: crate::init::EncoderInit::default(),
            tokenizer: None,
        }
    }

    /// Checks the values a user can get wrong.
    pub fn validate(&self) -> Result<(), TrainError> {
        let o = &self.optim;
        let bad = |m: String| Err(TrainError::Config(m));
        if o.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if o.batch_size < 2 {
            return bad(format!(
                "batch size {} is too small (contrastive losses need at least 2)",
                o.batch_size
            ));
        }
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return bad(format!("learning rate {} must be positive", o.lr));
        }
        if !(o.tau_start > 0.0 && o.tau_min > 0.0) {
            return bad("temperatures must be positive".into());
        }
        let c = &self.corruption_aware;
        for (name, p) in [
            ("p_image", c.p_image),
            ("p_text", c.p_text),
            ("p_pair", c.p_pair),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!(
                    "corruption-aware {name} = {p} is not a probability"
                ));
            }
        }
        if !(1..=5).contains(&c.severity_min)
            || !(1..=5).contains(&c.severity_max)
            || c.severity_min > c.severity_max
        {
            return bad(format!(
                "corruption-aware severities {}..{} must lie in 1..=5",
                c.severity_min, c.severity_max
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_names_round_trip() {
        for k in FusionKind::ALL {
            assert_eq!(k.as_str().parse::<FusionKind>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        let err = "mafs".parse::<FusionKind>().unwrap_err().to_string();
        assert!(err.contains("unknown fusion `mafs`") && err.contains("fixed-query"));
    }

    #[test]
    fn data_specs_parse() {
        assert!(matches!(
            DataSource::parse("world", None, 1).unwrap(),
            DataSource::World { seed: 1, .. }
        ));
        let err = DataSource::parse("karpathy:a.json", None, 1).unwrap_err();
        assert!(err.to_string().contains("--images"));
        let v = DataSource::parse("vqa:q.json,a.json", Some("img".into()), 1).unwrap();
        assert!(matches!(v, DataSource::Vqa { .. }));
        assert!(DataSource::parse("vqa:q.json", Some("img".into()), 1).is_err());
        assert!(DataSource::parse("coco", None, 1).is_err());
    }

    #[test]
    fn config_round_trips_and_validates() {
        let c = RunConfig::new(Task::Vqa, FusionKind::MaAfs, 3);
        c.validate().unwrap();
        let back: RunConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let mut bad = c.clone();
        bad.optim.batch_size = 1;
        assert!(bad.validate().is_err());
    }

    #[test]
    fn vqa_loss_names_and_legacy_configs() {
        for k in VqaLossKind::ALL {
            assert_eq!(k.as_str().parse::<VqaLossKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert!(
            "bce"
                .parse::<VqaLossKind>()
                .unwrap_err()
                .to_string()
                .contains("soft-bce")
        );
        let c = RunConfig::new(Task::Vqa, FusionKind::MaAfs, 0);
        assert_eq!(c.vqa_loss, VqaLossKind::SoftCrossEntropy);
        // a config written before the field existed trained with soft BCE
        let mut v = serde_json::to_value(&c).unwrap();
        v.as_object_mut().unwrap().remove("vqa_loss");
        let old: RunConfig = serde_json::from_value(v).unwrap();
        assert_eq!(old.vqa_loss, VqaLossKind::SoftBce);
    }
}
