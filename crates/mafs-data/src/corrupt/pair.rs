//! Pair corruption: misalignment. A share of instances that grows with severity
//! (`0.2 * severity`: 20 % … 100 %) gets the side text (or the captions) of another instance,
//! chosen uniformly and deterministically, so the image and its text no longer describe the
//! same scene.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::profile::sev_index;
use super::rng::{CorruptRng, index, unit};
use crate::Instance;

/// A pair corruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairCorruption {
    /// The side text comes from another instance.
    Misalign,
    /// The captions (and their sentids) come from another instance.
    MisalignCaption,
}

impl PairCorruption {
    /// Every pair corruption.
    pub const ALL: [PairCorruption; 2] =
        [PairCorruption::Misalign, PairCorruption::MisalignCaption];

    /// The name used in specs (`pair:<name>`).
    pub fn name(&self) -> &'static str {
        match self {
            PairCorruption::Misalign => "misalign",
            PairCorruption::MisalignCaption => "misalign_caption",
        }
    }

    /// Looks a name up.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Share of instances misaligned at `severity`: `0.2 * severity`.
pub fn misalign_rate(severity: u8) -> f64 {
    0.2 * (sev_index(severity) + 1) as f64
}

/// The texts another instance can lend.
#[derive(Debug, Clone, PartialEq)]
pub struct Donor {
    /// The donor's id.
    pub id: u64,
    /// Its side text.
    pub side_text: Option<String>,
    /// Its captions.
    pub captions: Vec<String>,
    /// Its caption sentids.
    pub sentids: Vec<u64>,
}

impl Donor {
    /// The texts of `inst`.
    pub fn of(inst: &Instance) -> Self {
        Self {
            id: inst.id,
            side_text: inst.side_text.clone(),
            captions: inst.captions.clone(),
            sentids: inst.sentids.clone(),
        }
    }
}

/// Where donors come from: a pool of texts, or the dataset being corrupted.
pub trait DonorSource: Send + Sync {
    /// Number of donors.
    fn donor_count(&self) -> usize;
    /// The donor at `index` (`None` if it cannot be read).
    fn donor(&self, index: usize) -> Option<Donor>;
    /// The position of the instance with `id` among the donors, if it is one.
    fn position_of(&self, id: u64) -> Option<usize>;
}

/// An in-memory pool of donor texts (for training-time augmentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DonorPool {
    donors: Vec<Donor>,
    by_id: HashMap<u64, usize>,
}

impl DonorPool {
    /// The texts of `instances`.
    pub fn from_instances<'a>(instances: impl IntoIterator<Item = &'a Instance>) -> Self {
        let donors: Vec<Donor> = instances.into_iter().map(Donor::of).collect();
        let by_id = donors.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
        Self { donors, by_id }
    }

    /// Number of donors.
    pub fn len(&self) -> usize {
        self.donors.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.donors.is_empty()
    }
}

impl DonorSource for DonorPool {
    fn donor_count(&self) -> usize {
        self.donors.len()
    }
    fn donor(&self, index: usize) -> Option<Donor> {
        self.donors.get(index).cloned()
    }
    fn position_of(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }
}

/// Draws a donor uniformly among the others (`self_pos` excluded); for side-text misalignment
/// a donor without side text is redrawn, up to 8 times.
fn draw_donor(
    source: &dyn DonorSource,
    self_pos: Option<usize>,
    self_id: u64,
    need_side: bool,
    rng: &mut CorruptRng,
) -> Option<Donor> {
    let n = source.donor_count();
    let others = n - usize::from(self_pos.is_some_and(|p| p < n));
    if others == 0 {
        return None;
    }
    for _ in 0..9 {
        let mut j = index(rng, others);
        if let Some(p) = self_pos
            && j >= p
        {
            j += 1;
        }
        match source.donor(j) {
            Some(d) if d.id != self_id && (!need_side || d.side_text.is_some()) => return Some(d),
            _ => continue,
        }
    }
    None
}

/// Misaligns `inst` with probability [`misalign_rate`]`(severity)`, drawing the decision and
/// the donor from `rng`. `self_pos` is the instance's position in `source` when known
/// (otherwise it is looked up by id). Returns the donor's id when the instance was misaligned.
pub fn misalign(
    inst: &mut Instance,
    kind: PairCorruption,
    severity: u8,
    source: &dyn DonorSource,
    self_pos: Option<usize>,
    rng: &mut CorruptRng,
) -> Option<u64> {
    if unit(rng) >= misalign_rate(severity) {
        return None;
    }
    misalign_now(inst, kind, source, self_pos, rng)
}

/// Misaligns `inst` unconditionally (training-time augmentation decides by its own
/// probability). Returns the donor's id.
pub fn misalign_now(
    inst: &mut Instance,
    kind: PairCorruption,
    source: &dyn DonorSource,
    self_pos: Option<usize>,
    rng: &mut CorruptRng,
) -> Option<u64> {
    let pos = self_pos.or_else(|| source.position_of(inst.id));
    let donor = draw_donor(source, pos, inst.id, kind == PairCorruption::Misalign, rng)?;
    match kind {
        PairCorruption::Misalign => inst.side_text = donor.side_text,
        PairCorruption::MisalignCaption => {
            inst.captions = donor.captions;
            inst.sentids = donor.sentids;
        }
    }
    Some(donor.id)
}
