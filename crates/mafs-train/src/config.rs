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

impl CorruptionAware {
    /// The corruption suite's augmenter configuration for these settings, drawing with
    /// `seed` (every image and side-text corruption of the suite).
    pub fn augmenter_config(&self, seed: u64) -> mafs_data::corrupt::CorruptionAugmenterConfig {
        mafs_data::corrupt::CorruptionAugmenterConfig {
            p_image: self.p_image,
            p_text: self.p_text,
            p_pair: self.p_pair,
            severity_min: self.severity_min,
            severity_max: self.severity_max,
            seed,
            ..Default::default()
        }
    }
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

/// Loss weights of `L = L_task + lambda_uni * sum_m L_uni,m + lambda_sched * KL(t || w)
/// (+ lambda_rank * rank) + lambda_conf * (L1(c, tcp) + BCE(c_clean, clean)) + lambda_proto *
/// L_proto(clean) (+ lambda_reg * KL(w || U))` (DESIGN §1). The scheduler terms apply to the
/// MA-AFS fusions only; the baselines keep their published training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Unimodal auxiliary losses.
    pub lambda_uni: f64,
    /// KL of the weights to uniform (off by default: it pulls towards fixed fusion).
    pub lambda_reg: f64,
    /// Prototype loss.
    pub lambda_proto: f64,
    /// ITM loss (retrieval with query fusion).
    pub lambda_itm: f64,
    /// `KL(t || w)`: the weights against the reliability target (0 in configs written before
    /// it existed).
    #[serde(default)]
    pub lambda_sched: f64,
    /// QMF's rank loss on the weights against the unimodal losses (0 = off).
    #[serde(default)]
    pub lambda_rank: f64,
    /// The learned confidence's losses: L1 to the true-class probability, and BCE of its
    /// clean head to the known corruption flag.
    #[serde(default)]
    pub lambda_conf: f64,
}

impl Default for LossWeights {
    fn default() -> Self {
        Self {
            lambda_uni: 0.5,
            lambda_reg: 0.0,
            lambda_proto: 0.1,
            lambda_itm: 1.0,
            lambda_sched: 1.0,
            lambda_rank: 0.0,
            lambda_conf: 1.0,
        }
    }
}

/// How the MA-AFS scheduler is fed and taught (DESIGN §1, revised).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulerSettings {
    /// The scheduler's softmax temperature (the temperature at the end of training when
    /// `tau_start` is set).
    pub tau: f64,
    /// When set, tau follows a cosine from this value down to `tau` over the run (the old
    /// default was 4.0 -> 0.5); `None`: constant tau.
    pub tau_start: Option<f64>,
    /// Signals read detached encodings and logits, so the task gradient cannot turn an
    /// "uncertainty" into a routing feature.
    pub detach_signals: bool,
    /// Standardise the scheduler's inputs by running statistics of the training batches.
    pub standardize: bool,
    /// Start the scheduler's last layer at zero (uniform fusion at step 0).
    pub zero_init: bool,
    /// Add the learned-confidence signal (`confidence`: predicted true-class probability).
    pub confidence: bool,
    /// Add its clean head (`confidence_clean`), trained to the augmenter's corruption flag.
    pub confidence_clean: bool,
    /// The confidence networks also read the mean and spread of the token states.
    #[serde(default)]
    pub confidence_token_stats: bool,
    /// The confidence networks also read the statistics of the encoders' input embeddings
    /// (patch and token embeddings), where input corruption shows most.
    #[serde(default)]
    pub confidence_stem_stats: bool,
    /// The confidence networks read detached encodings (off: their supervision also shapes
    /// the encoders).
    #[serde(default = "yes")]
    pub confidence_detach: bool,
    /// The confidence networks standardise their inputs by running statistics of the
    /// training batches.
    #[serde(default)]
    pub confidence_standardize: bool,
    /// Temperature of the reliability target `t = softmax(ln tcp / T)` (1: `tcp / sum tcp`).
    pub target_temperature: f64,
    /// The prototype loss sees only present and clean inputs (else every present one).
    pub proto_clean_only: bool,
    /// VQA: each modality's reliability is what the fused answer loses when it is left out
    /// (`leave_one_out_reliability`), not its unimodal answer head's true-class probability
    /// (an image alone cannot know the question, so that is near 0 clean or corrupted). Off by
    /// default: measured, it collapses the weights onto the question (0.905) and the model
    /// stops learning colour, because early on leaving the image out costs the fused answer
    /// nothing (docs/results.md, the scheduler's trials).
    #[serde(default)]
    pub vqa_leave_one_out: bool,
    /// VQA: the unimodal answer heads are conditioned on the question (each context
    /// modality's head answers from that modality *given the question*; the question's own
    /// head from the question alone), so each modality's true-class probability says how well
    /// it answers what is asked, independently of the current fusion. The reliability target
    /// and `KL(t || w)` then cover the context modalities (image, side text) only: the
    /// question is what is asked, not evidence to trust or distrust, and its weight is
    /// learned by the task. On by default (measured: VQA test accuracy 45.8 -> 52.3, seed 0,
    /// docs/results.md); off in runs configured before it existed.
    #[serde(default)]
    pub vqa_condition_on_question: bool,
    /// VQA with `vqa_condition_on_question`: a context modality's reliability is what it adds
    /// to the question's own answer (`gain_over_condition`: its true-class probability given
    /// the question minus the question's alone, floored), not its true-class probability.
    /// Off by default: measured, the image's gain is at its floor clean and corrupted
    /// (docs/results.md), so the target says nothing.
    #[serde(default)]
    pub vqa_gain_over_question: bool,
    /// Learning-rate multiplier of the scheduler and the confidence networks: a few hundred
    /// parameters that must move far within a short run, next to millions in the encoders.
    #[serde(default = "one")]
    pub lr_scale: f64,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            tau: 1.0,
            tau_start: None,
            detach_signals: true,
            standardize: true,
            zero_init: true,
            confidence: true,
            confidence_clean: true,
            confidence_token_stats: true,
            confidence_stem_stats: true,
            confidence_detach: true,
            confidence_standardize: true,
            target_temperature: 1.0,
            proto_clean_only: true,
            vqa_leave_one_out: false,
            vqa_condition_on_question: true,
            vqa_gain_over_question: false,
            lr_scale: 10.0,
        }
    }
}

impl SchedulerSettings {
    /// What runs configured before these settings existed did: tau on a cosine from 4.0 to
    /// 0.5, raw signals on live encodings, a random last layer, no confidence signal.
    pub fn legacy() -> Self {
        Self {
            tau: 0.5,
            tau_start: Some(4.0),
            detach_signals: false,
            standardize: false,
            zero_init: false,
            confidence: false,
            confidence_clean: false,
            confidence_token_stats: false,
            confidence_stem_stats: false,
            confidence_detach: true,
            confidence_standardize: false,
            target_temperature: 1.0,
            proto_clean_only: false,
            vqa_leave_one_out: false,
            vqa_condition_on_question: false,
            vqa_gain_over_question: false,
            lr_scale: 1.0,
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
    /// Checkpoint every this many steps (0 = at the end of each epoch only).
    pub checkpoint_every: usize,
}

impl Default for Optim {
    fn default() -> Self {
        Self {
            epochs: 20,
            batch_size: 32,
            lr: 5e-4,
            weight_decay: 0.05,
            warmup_fraction: 0.05,
            grad_clip: 1.0,
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
    /// How the scheduler is fed and taught (configs written before it existed get
    /// [`SchedulerSettings::legacy`]).
    #[serde(default = "SchedulerSettings::legacy")]
    pub scheduler: SchedulerSettings,
    /// Detach the fusion weights from the task gradient (as QMF and PDF do).
    pub detach_weights: bool,
    /// Use the side text as a third, context modality in VQA.
    pub vqa_side_text: bool,
    /// Top-k of ITC candidates re-ranked by ITM at retrieval evaluation (0 = off).
    pub itm_rerank_k: usize,
    /// Query fusion: a learned null token in every modality's memory, so that a query can
    /// attend to nothing (`mafs_fusion::QueryFusionConfig::null_token`). Off by default and
    /// in configs written before it existed.
    #[serde(default)]
    pub fusion_null_token: bool,
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
    pub init: EncoderInit,
    /// A Hugging Face `tokenizer.json` replacing the word-level vocabulary (`None`: build the
    /// word vocabulary from the training split).
    #[serde(default)]
    pub tokenizer: Option<PathBuf>,
}

/// Where a run's encoders start (applied by [`crate::init::init_encoders`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncoderInit {
    /// Safetensors file holding `image.*` and `text.*` (mafs names); `None`: random towers.
    pub encoders: Option<PathBuf>,
    /// Train only the prototypes, scheduler, fusion and heads; the towers stay as loaded.
    pub freeze_encoders: bool,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

fn legacy_vqa_loss() -> VqaLossKind {
    VqaLossKind::SoftBce
}

/// Most epochs a run may ask for (step counts stay far from overflow).
pub const MAX_EPOCHS: usize = 1_000_000;
/// Largest batch a run may ask for.
pub const MAX_BATCH_SIZE: usize = 1 << 20;

impl RunConfig {
    /// A run with the defaults for `task` and `fusion` on the built-in world.
    pub fn new(task: Task, fusion: FusionKind, seed: u64) -> Self {
        Self {
            task,
            fusion,
            preset: mafs_encoders::DEFAULT_PRESET.into(),
            data: DataSource::parse("world", None, seed).expect("world needs nothing"),
            seed,
            optim: Optim::default(),
            loss: LossWeights::default(),
            corruption_aware: CorruptionAware::default(),
            scheduler: SchedulerSettings::default(),
            detach_weights: matches!(fusion, FusionKind::Qmf | FusionKind::Pdf),
            vqa_side_text: true,
            itm_rerank_k: 16,
            fusion_null_token: false,
            all_pairs: false,
            min_word_count: 1,
            max_answers: 256,
            vqa_loss: VqaLossKind::default(),
            init: EncoderInit::default(),
            tokenizer: None,
        }
    }

    /// This configuration with a JSON merge patch (RFC 7386) applied, e.g.
    /// `{"optim": {"warmup_fraction": 0.1}, "scheduler": {"tau": 0.5}}`: for settings that
    /// have no command-line flag. Every key of the patch must name an existing setting (a
    /// typo is an error, not a silently ignored key); the result is validated.
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] naming the unknown key, the value that does not fit its
    /// setting, or the validation failure.
    pub fn patched(&self, patch: &serde_json::Value) -> Result<Self, TrainError> {
        let mut value = serde_json::to_value(self)
            .map_err(|e| TrainError::Config(format!("config does not serialise: {e}")))?;
        check_patch_keys(&value, patch, "")?;
        json_patch::merge(&mut value, patch);
        let out: RunConfig = serde_json::from_value(value)
            .map_err(|e| TrainError::Config(format!("config patch {patch}: {e}")))?;
        out.validate()?;
        Ok(out)
    }

    /// Checks the values a user can get wrong.
    pub fn validate(&self) -> Result<(), TrainError> {
        let o = &self.optim;
        let bad = |m: String| Err(TrainError::Config(m));
        if o.epochs == 0 || o.epochs > MAX_EPOCHS {
            return bad(format!("epochs = {} must be in 1..={MAX_EPOCHS}", o.epochs));
        }
        if o.batch_size > MAX_BATCH_SIZE {
            return bad(format!(
                "batch size {} exceeds the limit of {MAX_BATCH_SIZE}",
                o.batch_size
            ));
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
        let sc = &self.scheduler;
        if !(sc.tau.is_finite() && sc.tau > 0.0)
            || sc.tau_start.is_some_and(|t| !(t.is_finite() && t > 0.0))
        {
            return bad(format!(
                "scheduler temperatures must be positive and finite (tau {}, tau_start {:?})",
                sc.tau, sc.tau_start
            ));
        }
        if !(sc.target_temperature.is_finite() && sc.target_temperature > 0.0) {
            return bad(format!(
                "the reliability target's temperature {} must be positive",
                sc.target_temperature
            ));
        }
        if !(sc.lr_scale.is_finite() && sc.lr_scale > 0.0) {
            return bad(format!(
                "scheduler lr_scale {} must be positive",
                sc.lr_scale
            ));
        }
        if sc.confidence_clean && !sc.confidence {
            return bad("confidence_clean needs the confidence signal (confidence = true)".into());
        }
        let l = &self.loss;
        for (name, v) in [
            ("lambda_uni", l.lambda_uni),
            ("lambda_reg", l.lambda_reg),
            ("lambda_proto", l.lambda_proto),
            ("lambda_itm", l.lambda_itm),
            ("lambda_sched", l.lambda_sched),
            ("lambda_rank", l.lambda_rank),
            ("lambda_conf", l.lambda_conf),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!(
                    "{name} = {v} must be a finite, non-negative weight"
                ));
            }
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

/// Every key of `patch` must exist in `base` (recursively, through objects).
fn check_patch_keys(
    base: &serde_json::Value,
    patch: &serde_json::Value,
    path: &str,
) -> Result<(), TrainError> {
    let (Some(b), Some(p)) = (base.as_object(), patch.as_object()) else {
        if path.is_empty() {
            return Err(TrainError::Config(format!(
                "config patch must be a JSON object, got {patch}"
            )));
        }
        return Ok(());
    };
    for (k, v) in p {
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match b.get(k) {
            None => {
                let known: Vec<&str> = b.keys().map(String::as_str).collect();
                return Err(TrainError::Config(format!(
                    "config patch: unknown setting `{here}`; expected one of: {}",
                    known.join(", ")
                )));
            }
            Some(inner) if inner.is_object() && v.is_object() => {
                check_patch_keys(inner, v, &here)?;
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_merge_and_reject_unknown_keys() {
        let c = RunConfig::new(Task::Retrieval, FusionKind::MaAfs, 0);
        let p = c
            .patched(
                &serde_json::json!({"optim": {"warmup_fraction": 0.2}, "scheduler": {"tau": 0.5}}),
            )
            .unwrap();
        assert_eq!(p.optim.warmup_fraction, 0.2);
        assert_eq!(p.scheduler.tau, 0.5);
        assert_eq!(p.optim.lr, c.optim.lr);
        let e = c
            .patched(&serde_json::json!({"optim": {"warmup_frac": 0.2}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`optim.warmup_frac`") && e.contains("warmup_fraction"),
            "{e}"
        );
        let e = c
            .patched(&serde_json::json!({"scheduler": {"tau": -1.0}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("temperature"), "{e}");
        let e = c
            .patched(&serde_json::json!({"optim": {"lr": "fast"}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("config patch"), "{e}");
        assert!(c.patched(&serde_json::json!([1])).is_err());
    }

    #[test]
    fn configs_without_scheduler_settings_are_legacy() {
        let c = RunConfig::new(Task::Retrieval, FusionKind::MaAfs, 0);
        let mut v = serde_json::to_value(&c).unwrap();
        v.as_object_mut().unwrap().remove("scheduler");
        let loss = v["loss"].as_object_mut().unwrap();
        for k in ["lambda_sched", "lambda_rank", "lambda_conf"] {
            loss.remove(k);
        }
        let old: RunConfig = serde_json::from_value(v).unwrap();
        assert_eq!(old.scheduler, SchedulerSettings::legacy());
        assert_eq!(old.loss.lambda_sched, 0.0);
        assert_eq!(c.scheduler.tau, 1.0);
        assert!(c.scheduler.tau_start.is_none());
        assert_eq!(c.loss.lambda_reg, 0.0);
    }

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
