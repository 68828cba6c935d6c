//! The fusion-head and task-head modules a model holds, one enum each so one model type
//! serves every task and fusion.

use burn::module::Module;
use mafs_core::{Encoded, Fused, FusionHead, FusionWeights};
use mafs_fusion::{LateFusionHead, QueryFusionHead};
use mafs_heads::{CaptioningHead, ItcHead, ItmHead, UnimodalHeads, VqaHead};

/// The fusion head.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one per model, never in a collection
pub enum FusionModule {
    /// Late fusion of pooled embeddings.
    Late(LateFusionHead),
    /// Query (cross-attention) fusion of token states.
    Query(QueryFusionHead),
}

impl FusionModule {
    /// Fuses with the given weights.
    pub fn fuse(&self, encoded: &[Encoded], weights: &FusionWeights) -> Fused {
        match self {
            FusionModule::Late(h) => h.fuse(encoded, weights),
            FusionModule::Query(h) => h.fuse(encoded, weights),
        }
    }

    /// Width of the fused representation.
    pub fn d_fused(&self) -> usize {
        match self {
            FusionModule::Late(h) => h.d_fused(),
            FusionModule::Query(h) => h.d_fused(),
        }
    }
}

/// Retrieval heads: ITC always, ITM with query fusion.
#[derive(Module, Debug)]
pub struct RetrievalHeads {
    /// Contrastive head.
    pub itc: ItcHead,
    /// Matching head over the pair fusion.
    pub itm: Option<ItmHead>,
}

/// Captioning heads: the decoder, and an ITC head for the unimodal alignment loss and the
/// true-class probabilities PDF learns (BLIP trains its captioner jointly with ITC too).
#[derive(Module, Debug)]
pub struct CaptioningHeads {
    /// Decoder over the fused tokens.
    pub decoder: CaptioningHead,
    /// Alignment head.
    pub itc: ItcHead,
}

/// VQA heads: the answer classifier over the fused representation and one unimodal
/// classifier per modality (the predictive signals and the unimodal loss read them).
#[derive(Module, Debug)]
pub struct VqaHeads {
    /// Answer classifier.
    pub answer: VqaHead,
    /// Unimodal classifiers.
    pub unimodal: UnimodalHeads,
}

/// The task heads.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)] // one per model, never in a collection
pub enum TaskModule {
    /// Retrieval.
    Retrieval(RetrievalHeads),
    /// Captioning.
    Captioning(CaptioningHeads),
    /// VQA.
    Vqa(VqaHeads),
}

impl TaskModule {
    /// The ITC head of retrieval and captioning.
    pub fn itc(&self) -> Option<&ItcHead> {
        match self {
            TaskModule::Retrieval(h) => Some(&h.itc),
            TaskModule::Captioning(h) => Some(&h.itc),
            TaskModule::Vqa(_) => None,
        }
    }
}
