//! Builds a [`MafsModel`] from a run configuration.

use burn::tensor::Device;
use mafs_encoders::EncoderPreset;
use mafs_fusion::{LateFusionConfig, QueryFusionConfig};
use mafs_heads::{
    AnswerClassifierConfig, CaptionDecoderConfig, CaptioningHeadConfig, GenerationConfig,
    ItcHeadConfig, ItmHeadConfig, UnimodalHeadsConfig, VqaHeadConfig,
};
use mafs_scheduler::{FusionWeightingConfig, WeightingKind};
use mafs_signals::{LearnedConfidenceConfig, PrototypeEntropyConfig, SignalKind};
use serde::{Deserialize, Serialize};

use super::MafsModel;
use super::heads::{CaptioningHeads, FusionModule, RetrievalHeads, TaskModule, VqaHeads};
use crate::config::{FusionKind, RunConfig, SchedulerSettings, Task};
use crate::error::TrainError;

/// Everything about a model that is not a weight: enough to rebuild it from `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Task.
    pub task: Task,
    /// Fusion.
    pub fusion: FusionKind,
    /// Modality names in scheduler order.
    pub modalities: Vec<String>,
    /// Signals computed for every batch (the scheduler reads some of them).
    pub signals: Vec<SignalKind>,
    /// Text vocabulary size.
    pub vocab_size: usize,
    /// Text context length (tokens, specials included).
    pub context_length: usize,
    /// Answer vocabulary size (VQA).
    pub n_answers: usize,
    /// Token ids the captioning decoder needs: BOS, EOS, PAD.
    pub bos_id: u32,
    /// End of sequence.
    pub eos_id: u32,
    /// Padding.
    pub pad_id: u32,
    /// Image side.
    pub image_size: usize,
    /// Detach the weights from the task gradient.
    pub detach_weights: bool,
    /// How the scheduler is fed and taught (configs written before it existed get
    /// [`SchedulerSettings::legacy`]).
    #[serde(default = "SchedulerSettings::legacy")]
    pub scheduler: SchedulerSettings,
}

impl ModelSpec {
    /// Number of modalities the scheduler weighs.
    pub fn n_modalities(&self) -> usize {
        self.modalities.len()
    }

    /// VQA with `scheduler.vqa_condition_on_question`: the index of the question, on which
    /// the unimodal heads are conditioned and which the reliability target leaves out.
    pub fn conditioning_modality(&self) -> Option<usize> {
        if self.task == Task::Vqa && self.scheduler.vqa_condition_on_question {
            self.modalities.iter().position(|n| n == "question")
        } else {
            None
        }
    }

    /// Whether the fusion is one of ours, taught by the reliability target.
    pub fn is_ma_afs(&self) -> bool {
        is_ma_afs(self.fusion)
    }

    /// Names of the signals the adaptive schedulers read (energy is QMF's only).
    pub fn scheduler_signal_names(&self) -> Vec<String> {
        self.signals
            .iter()
            .filter(|s| !matches!(s, SignalKind::Energy))
            .map(|s| s.name().to_string())
            .collect()
    }
}

/// The modalities of a task.
pub fn modalities_for(task: Task, vqa_side_text: bool) -> Vec<String> {
    match task {
        Task::Retrieval | Task::Captioning => vec!["image".into(), "side_text".into()],
        Task::Vqa if vqa_side_text => {
            vec!["image".into(), "question".into(), "side_text".into()]
        }
        Task::Vqa => vec!["image".into(), "question".into()],
    }
}

/// The signals of a task: prototype (visual/textual) entropy, attention entropy and cosine
/// agreement for all; predictive entropy where a task has classes (VQA); energy (QMF's input)
/// always, so that every fusion sees the same evidence.
pub fn signals_for(task: Task) -> Vec<SignalKind> {
    let mut s = vec![
        SignalKind::PrototypeEntropy,
        SignalKind::AttentionEntropy,
        SignalKind::AgreementCosine,
    ];
    if task == Task::Vqa {
        s.push(SignalKind::PredictiveEntropy);
    }
    s.push(SignalKind::Energy);
    s
}

/// The signals of a run: [`signals_for`] its task, plus the learned confidence (and its
/// clean head) for the MA-AFS fusions when the settings turn it on.
pub fn signals_for_run(task: Task, fusion: FusionKind, s: &SchedulerSettings) -> Vec<SignalKind> {
    let mut v = signals_for(task);
    if is_ma_afs(fusion) && s.confidence {
        v.push(SignalKind::Confidence);
        if s.confidence_clean {
            v.push(SignalKind::ConfidenceClean);
        }
    }
    v
}

/// Whether a fusion is one of ours (taught by the reliability target).
pub fn is_ma_afs(fusion: FusionKind) -> bool {
    matches!(
        fusion,
        FusionKind::MaAfs | FusionKind::MaAfsLate | FusionKind::MaAfsMonotone
    )
}

fn weighting_kind(fusion: FusionKind) -> WeightingKind {
    match fusion {
        FusionKind::MaAfs | FusionKind::MaAfsLate => WeightingKind::MaAfsMlp,
        FusionKind::MaAfsMonotone => WeightingKind::MaAfsMonotone,
        FusionKind::FixedLate | FusionKind::FixedQuery => WeightingKind::Fixed,
        FusionKind::Qmf => WeightingKind::Qmf,
        FusionKind::Pdf => WeightingKind::Pdf,
        FusionKind::Dynmm => WeightingKind::DynMm,
    }
}

/// Vocabulary facts the model needs from the data.
#[derive(Debug, Clone, Copy)]
pub struct VocabSizes {
    /// Text vocabulary size.
    pub vocab_size: usize,
    /// Answer vocabulary size.
    pub n_answers: usize,
    /// BOS id.
    pub bos_id: u32,
    /// EOS id.
    pub eos_id: u32,
    /// PAD id.
    pub pad_id: u32,
    /// Whether the tokenizer has real BOS and EOS tokens (captioning needs them).
    pub has_bos_eos: bool,
}

/// Builds the model a configuration describes, on `device`.
///
/// # Errors
///
/// [`TrainError::Config`] for an unknown preset or an inconsistent configuration.
pub fn build_model(
    config: &RunConfig,
    vocab: VocabSizes,
    device: &Device,
) -> Result<MafsModel, TrainError> {
    let preset = EncoderPreset::load(&config.preset)
        .map_err(|e| TrainError::Config(e.to_string()))?
        .with_vocab_size(vocab.vocab_size);
    let d = preset.embed_dim;
    let modalities = modalities_for(config.task, config.vqa_side_text);
    let m = modalities.len();
    let signals = signals_for_run(config.task, config.fusion, &config.scheduler);
    let vqa_loss = config.vqa_loss;
    let spec = ModelSpec {
        task: config.task,
        fusion: config.fusion,
        modalities: modalities.clone(),
        signals: signals.clone(),
        vocab_size: vocab.vocab_size,
        context_length: preset.text.context_length,
        n_answers: vocab.n_answers,
        bos_id: vocab.bos_id,
        eos_id: vocab.eos_id,
        pad_id: vocab.pad_id,
        image_size: preset.vision.image_size,
        detach_weights: config.detach_weights,
        scheduler: config.scheduler.clone(),
    };
    let mut weighting_config = FusionWeightingConfig::default_for(
        weighting_kind(config.fusion),
        d,
        m,
        &spec.scheduler_signal_names(),
    )
    .map_err(|e| TrainError::Config(e.to_string()))?;
    if let FusionWeightingConfig::MaAfsMlp(c) = &mut weighting_config {
        c.standardize = config.scheduler.standardize;
        c.zero_init_last = config.scheduler.zero_init;
    }
    let weighting = weighting_config.init(device);
    let confidence = signals.contains(&SignalKind::Confidence).then(|| {
        LearnedConfidenceConfig::new(d, m)
            .with_clean_head(signals.contains(&SignalKind::ConfidenceClean))
            .with_token_stats(config.scheduler.confidence_token_stats)
            .with_detach_input(config.scheduler.confidence_detach)
            .with_standardize(config.scheduler.confidence_standardize)
            .with_stem_widths(if config.scheduler.confidence_stem_stats {
                modalities
                    .iter()
                    .map(|m| match m.as_str() {
                        "image" => preset.vision.width,
                        _ => preset.text.width,
                    })
                    .collect()
            } else {
                Vec::new()
            })
            .init(device)
    });
    let widths = vec![d; m];
    let fusion = if config.fusion.is_late() {
        FusionModule::Late(LateFusionConfig::new(widths, d).init(device))
    } else {
        FusionModule::Query(
            QueryFusionConfig::new(widths, d)
                .with_null_token(config.fusion_null_token)
                .init(device),
        )
    };
    let query = !config.fusion.is_late();
    let itm_fusion = (config.task == Task::Retrieval && query).then(|| {
        QueryFusionConfig::new(vec![d; 3], d)
            .with_layers(1)
            .init(device)
    });
    let itc = || ItcHeadConfig::new(d, d).with_d_embed(d).init(device);
    let head = match config.task {
        Task::Retrieval => TaskModule::Retrieval(RetrievalHeads {
            itc: itc(),
            itm: query.then(|| ItmHeadConfig::new(d).init(device)),
        }),
        Task::Captioning => {
            if !vocab.has_bos_eos {
                return Err(TrainError::Config(
                    "captioning needs a tokenizer with begin and end tokens ([BOS]/[EOS] or <|startoftext|>/<|endoftext|>)".into(),
                ));
            }
            let generation = GenerationConfig::new(vocab.bos_id, vocab.eos_id)
                .with_pad_id(Some(vocab.pad_id))
                .with_max_len(preset.text.context_length);
            let decoder = CaptionDecoderConfig::new(vocab.vocab_size, d)
                .with_d_model(d)
                .with_n_layers(2)
                .with_n_heads(4)
                .with_max_positions(preset.text.context_length + 1)
                .with_dropout(0.0);
            let decoder = CaptioningHeadConfig::new(decoder, generation)
                .init(device)
                .map_err(|e| TrainError::Config(e.to_string()))?;
            TaskModule::Captioning(CaptioningHeads {
                decoder,
                itc: itc(),
            })
        }
        Task::Vqa => {
            if vocab.n_answers < 2 {
                return Err(TrainError::Config(format!(
                    "VQA needs at least 2 answers in the answer vocabulary, got {}",
                    vocab.n_answers
                )));
            }
            TaskModule::Vqa(VqaHeads {
                answer: VqaHeadConfig::new(
                    AnswerClassifierConfig::new(d, vocab.n_answers).with_d_hidden(2 * d),
                )
                .with_loss(vqa_loss.to_head())
                .init(device),
                unimodal: UnimodalHeadsConfig::new(d, vocab.n_answers, m)
                    .with_loss(vqa_loss.to_head())
                    .with_condition_on(spec.conditioning_modality())
                    .init(device),
            })
        }
    };
    Ok(MafsModel {
        image: preset.image_encoder(device),
        text: preset.text_encoder("text", device),
        prototypes: PrototypeEntropyConfig::new(d).init(device),
        confidence,
        weighting,
        fusion,
        itm_fusion,
        head,
        spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;

    fn vocab() -> VocabSizes {
        VocabSizes {
            vocab_size: 300,
            n_answers: 64,
            bos_id: 1,
            eos_id: 2,
            pad_id: 0,
            has_bos_eos: true,
        }
    }

    #[test]
    fn scheduler_is_under_one_percent_of_the_tiny_model() {
        let device = Device::flex();
        for task in Task::ALL {
            for fusion in [FusionKind::MaAfs, FusionKind::MaAfsMonotone] {
                let mut config = RunConfig::new(task, fusion, 0);
                config.preset = "tiny".into();
                let model = build_model(&config, vocab(), &device).unwrap();
                let (s, total) = (model.scheduler_params(), model.num_params());
                assert!(s > 0, "{task} {fusion}: the scheduler has parameters");
                assert!(
                    (s as f64) < 0.01 * total as f64,
                    "{task} {fusion}: scheduler {s} of {total} parameters"
                );
                assert!(
                    total > 1_000_000,
                    "{task} {fusion}: tiny has {total} parameters"
                );
            }
        }
    }

    #[test]
    fn every_fusion_builds_for_every_task() {
        let device = Device::flex();
        for task in Task::ALL {
            for fusion in FusionKind::ALL {
                let m = build_model(&RunConfig::new(task, fusion, 0), vocab(), &device).unwrap();
                assert_eq!(m.spec.n_modalities(), if task == Task::Vqa { 3 } else { 2 });
                assert_eq!(
                    m.itm_fusion.is_some(),
                    task == Task::Retrieval && !fusion.is_late()
                );
            }
        }
    }

    #[test]
    fn vqa_heads_are_conditioned_on_the_question_by_default_only_for_vqa() {
        let device = Device::flex();
        for task in Task::ALL {
            let m = build_model(
                &RunConfig::new(task, FusionKind::MaAfs, 0),
                vocab(),
                &device,
            )
            .unwrap();
            let question = m.spec.modalities.iter().position(|n| n == "question");
            assert_eq!(m.spec.conditioning_modality(), question, "{task}");
            if let TaskModule::Vqa(h) = &m.head {
                let c = question.expect("VQA has a question");
                assert_eq!(h.unimodal.condition_on, Some(c));
                assert!(h.unimodal.pools[c].is_none() && h.unimodal.pools.len() == 3);
            }
        }
        let mut off = RunConfig::new(Task::Vqa, FusionKind::MaAfs, 0);
        off.scheduler.vqa_condition_on_question = false;
        let m = build_model(&off, vocab(), &device).unwrap();
        assert_eq!(m.spec.conditioning_modality(), None);
        if let TaskModule::Vqa(h) = &m.head {
            assert!(h.unimodal.pools.is_empty());
        }
    }
}
