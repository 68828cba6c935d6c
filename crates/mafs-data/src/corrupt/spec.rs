//! Corruption specs: `image:gaussian_noise:3`, several comma separated, groups (`image:all`,
//! `image:imagenet_c`, `text:all`, `all`), severity ranges (`text:keyboard:1-5`; no severity
//! means 1–5). A parsed spec applies its entries in order to an instance, deterministically
//! given (seed, instance id, corruption, severity, salt).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::CorruptError;
use super::image::ImageCorruption;
use super::pair::{DonorSource, PairCorruption, misalign};
use super::rng::{CorruptRng, RngKey};
use super::synonyms::SynonymTable;
use super::text::{TextCorruption, TextTarget};
use crate::batcher::names;
use crate::{Instance, InstanceTransform};
use mafs_core::ModalityCorruption;

/// Any corruption of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corruption {
    /// An image corruption.
    Image(ImageCorruption),
    /// A text corruption of a target.
    Text(TextTarget, TextCorruption),
    /// A pair corruption.
    Pair(PairCorruption),
}

impl Corruption {
    /// Canonical name, `modality:name` (`image:fog`, `text:keyboard`, `caption:ocr`,
    /// `pair:misalign`).
    pub fn name(&self) -> String {
        match self {
            Corruption::Image(c) => format!("image:{}", c.name()),
            Corruption::Text(t, c) => format!("{}:{}", t.prefix(), c.name()),
            Corruption::Pair(c) => format!("pair:{}", c.name()),
        }
    }

    /// What `all` expands to: every image corruption, every text corruption of the side text,
    /// and every pair corruption.
    pub fn all() -> Vec<Corruption> {
        let mut v: Vec<Corruption> = ImageCorruption::ALL
            .iter()
            .map(|&c| Corruption::Image(c))
            .collect();
        v.extend(
            TextCorruption::ALL
                .iter()
                .map(|&c| Corruption::Text(TextTarget::Side, c)),
        );
        v.extend(PairCorruption::ALL.iter().map(|&c| Corruption::Pair(c)));
        v
    }

    /// Every valid spec name, one per corruption and target, with the group names.
    pub fn valid_names() -> Vec<String> {
        let mut v = vec![
            "all".to_string(),
            "image:all".to_string(),
            "image:imagenet_c".to_string(),
        ];
        v.extend(
            ImageCorruption::ALL
                .iter()
                .map(|c| format!("image:{}", c.name())),
        );
        for t in TextTarget::ALL {
            v.push(format!("{}:all", t.prefix()));
            v.extend(
                TextCorruption::ALL
                    .iter()
                    .filter(|c| t == TextTarget::Side || **c != TextCorruption::Missing)
                    .map(|c| format!("{}:{}", t.prefix(), c.name())),
            );
        }
        v.push("pair:all".to_string());
        v.extend(
            PairCorruption::ALL
                .iter()
                .map(|c| format!("pair:{}", c.name())),
        );
        v
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One corruption at one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SpecEntry {
    /// The corruption.
    pub corruption: Corruption,
    /// Severity 1–5.
    pub severity: u8,
}

impl fmt::Display for SpecEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.corruption.name(), self.severity)
    }
}

/// A parsed corruption spec with its seed and resources.
#[derive(Clone)]
pub struct CorruptionSpec {
    entries: Vec<SpecEntry>,
    seed: u64,
    synonyms: Arc<SynonymTable>,
    donors: Option<Arc<dyn DonorSource>>,
}

impl fmt::Debug for CorruptionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CorruptionSpec")
            .field("entries", &self.to_string())
            .field("seed", &self.seed)
            .field("synonym_groups", &self.synonyms.len())
            .field("donors", &self.donors.as_ref().map(|d| d.donor_count()))
            .finish()
    }
}

impl PartialEq for CorruptionSpec {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries && self.seed == other.seed
    }
}

impl fmt::Display for CorruptionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.entries.iter().map(|e| e.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

fn parse_severities(spec: &str, item: &str, s: Option<&str>) -> Result<Vec<u8>, CorruptError> {
    let bad = || CorruptError::BadSeverity {
        spec: spec.to_string(),
        item: item.to_string(),
        severity: s.unwrap_or("").to_string(),
    };
    let Some(s) = s else {
        return Ok((1..=5).collect());
    };
    let parse_one = |t: &str| t.trim().parse::<u8>().ok().filter(|v| (1..=5).contains(v));
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (parse_one(a).ok_or_else(bad)?, parse_one(b).ok_or_else(bad)?);
        if a > b {
            return Err(bad());
        }
        Ok((a..=b).collect())
    } else if s == "*" || s == "all" {
        Ok((1..=5).collect())
    } else {
        Ok(vec![parse_one(s).ok_or_else(bad)?])
    }
}

fn names_list<T>(
    items: &[T],
    name: impl Fn(&T) -> &'static str,
    groups: &[&'static str],
) -> String {
    let mut v: Vec<&'static str> = groups.to_vec();
    v.extend(items.iter().map(name));
    v.join(", ")
}

impl CorruptionSpec {
    /// A spec from entries (seed 0, the builtin synonyms, no donors).
    pub fn from_entries(entries: Vec<SpecEntry>) -> Self {
        Self {
            entries,
            seed: 0,
            synonyms: Arc::new(SynonymTable::builtin()),
            donors: None,
        }
    }

    /// The spec that corrupts nothing.
    pub fn clean() -> Self {
        Self::from_entries(Vec::new())
    }

    /// Parses `modality:name[:severity]` items, comma separated. Modalities: `image`, `text`
    /// (alias `side`; the side text), `caption`, `question`, `pair`; names as in
    /// [`Corruption::valid_names`]; `all` alone, or as a name, is a group. Severity is `1`–`5`,
    /// a range `a-b`, or omitted (1–5). `clean` or `none` is the empty spec.
    ///
    /// # Errors
    /// A [`CorruptError`] naming the item at fault and listing the valid names.
    pub fn parse(spec: &str) -> Result<Self, CorruptError> {
        let trimmed = spec.trim();
        if trimmed.is_empty() {
            return Err(CorruptError::EmptySpec);
        }
        if trimmed == "clean" || trimmed == "none" {
            return Ok(Self::clean());
        }
        let mut entries = Vec::new();
        for raw in trimmed.split(',') {
            let item = raw.trim();
            if item.is_empty() {
                return Err(CorruptError::Malformed {
                    spec: spec.to_string(),
                    item: raw.to_string(),
                });
            }
            let parts: Vec<&str> = item.split(':').map(str::trim).collect();
            if parts[0] == "all" {
                if parts.len() > 2 {
                    return Err(CorruptError::Malformed {
                        spec: spec.to_string(),
                        item: item.to_string(),
                    });
                }
                for sev in parse_severities(spec, item, parts.get(1).copied())? {
                    entries.extend(Corruption::all().into_iter().map(|corruption| SpecEntry {
                        corruption,
                        severity: sev,
                    }));
                }
                continue;
            }
            if parts.len() < 2 || parts.len() > 3 || parts[1].is_empty() {
                return Err(CorruptError::Malformed {
                    spec: spec.to_string(),
                    item: item.to_string(),
                });
            }
            let (modality, name) = (parts[0], parts[1]);
            let sevs = parse_severities(spec, item, parts.get(2).copied())?;
            let unknown = |valid: String| CorruptError::UnknownCorruption {
                spec: spec.to_string(),
                modality: modality.to_string(),
                name: name.to_string(),
                valid,
            };
            let corruptions: Vec<Corruption> = if modality == "image" {
                match name {
                    "all" => ImageCorruption::ALL
                        .iter()
                        .map(|&c| Corruption::Image(c))
                        .collect(),
                    "imagenet_c" => ImageCorruption::IMAGENET_C
                        .iter()
                        .map(|&c| Corruption::Image(c))
                        .collect(),
                    _ => vec![Corruption::Image(
                        ImageCorruption::from_name(name).ok_or_else(|| {
                            unknown(names_list(
                                &ImageCorruption::ALL,
                                |c| c.name(),
                                &["all", "imagenet_c"],
                            ))
                        })?,
                    )],
                }
            } else if modality == "pair" {
                match name {
                    "all" => PairCorruption::ALL
                        .iter()
                        .map(|&c| Corruption::Pair(c))
                        .collect(),
                    _ => vec![Corruption::Pair(
                        PairCorruption::from_name(name).ok_or_else(|| {
                            unknown(names_list(&PairCorruption::ALL, |c| c.name(), &["all"]))
                        })?,
                    )],
                }
            } else if let Some(target) = TextTarget::from_prefix(modality) {
                let allowed: Vec<TextCorruption> = TextCorruption::ALL
                    .iter()
                    .copied()
                    .filter(|c| target == TextTarget::Side || *c != TextCorruption::Missing)
                    .collect();
                match name {
                    "all" => allowed
                        .iter()
                        .map(|&c| Corruption::Text(target, c))
                        .collect(),
                    _ => {
                        let c = TextCorruption::from_name(name)
                            .ok_or_else(|| unknown(names_list(&allowed, |c| c.name(), &["all"])))?;
                        if c == TextCorruption::Missing && target != TextTarget::Side {
                            return Err(CorruptError::Unsupported {
                                item: item.to_string(),
                                reason: format!(
                                    "{}s are targets or queries, not an input modality; `text:missing` drops the side text",
                                    target.prefix()
                                ),
                            });
                        }
                        vec![Corruption::Text(target, c)]
                    }
                }
            } else {
                return Err(CorruptError::UnknownModality {
                    spec: spec.to_string(),
                    item: item.to_string(),
                    modality: modality.to_string(),
                });
            };
            for &sev in &sevs {
                entries.extend(corruptions.iter().map(|&corruption| SpecEntry {
                    corruption,
                    severity: sev,
                }));
            }
        }
        Ok(Self::from_entries(entries))
    }

    /// The entries, in application order.
    pub fn entries(&self) -> &[SpecEntry] {
        &self.entries
    }

    /// One spec per entry (same seed and resources), for sweeps that evaluate each corruption
    /// and severity separately (`all` in `mafs eval --corrupt`).
    pub fn singles(&self) -> Vec<CorruptionSpec> {
        self.entries
            .iter()
            .map(|&e| CorruptionSpec {
                entries: vec![e],
                ..self.clone()
            })
            .collect()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Replaces the synonym table (e.g. the builtin one extended from a file).
    pub fn with_synonyms(mut self, synonyms: Arc<SynonymTable>) -> Self {
        self.synonyms = synonyms;
        self
    }

    /// Sets where pair corruptions take their donors from when applied through
    /// [`InstanceTransform`]. [`super::CorruptedDataset`] supplies the wrapped dataset instead.
    pub fn with_donors(mut self, donors: Arc<dyn DonorSource>) -> Self {
        self.donors = Some(donors);
        self
    }

    /// Whether the spec has pair corruptions (which need donors).
    pub fn needs_donors(&self) -> bool {
        self.entries
            .iter()
            .any(|e| matches!(e.corruption, Corruption::Pair(_)))
    }

    /// The random stream of `entry` on an instance.
    pub fn rng_for(&self, entry: &SpecEntry, instance_id: u64, salt: u64) -> CorruptRng {
        let name = entry.corruption.name();
        RngKey {
            seed: self.seed,
            instance: instance_id,
            corruption: &name,
            severity: entry.severity,
            salt,
        }
        .rng()
    }

    /// Applies every entry in order. Pair entries use `donors` (with the instance at
    /// `self_pos` there, when known).
    ///
    /// # Panics
    /// Panics if the spec has a pair corruption and `donors` is `None`.
    pub fn apply_with_donors(
        &self,
        inst: &mut Instance,
        salt: u64,
        donors: Option<&dyn DonorSource>,
        self_pos: Option<usize>,
    ) {
        for entry in &self.entries {
            let mut rng = self.rng_for(entry, inst.id, salt);
            apply_entry(entry, inst, &self.synonyms, donors, self_pos, &mut rng);
        }
    }
}

/// Applies one entry with a given stream.
///
/// # Panics
/// Panics for a pair corruption when `donors` is `None`.
pub fn apply_entry(
    entry: &SpecEntry,
    inst: &mut Instance,
    synonyms: &SynonymTable,
    donors: Option<&dyn DonorSource>,
    self_pos: Option<usize>,
    rng: &mut CorruptRng,
) {
    let sev = entry.severity;
    let name = entry.corruption.name();
    let mark = |missing: bool| ModalityCorruption {
        kind: Some(name.clone()),
        severity: sev,
        missing,
        misaligned: false,
    };
    match entry.corruption {
        Corruption::Image(c) => {
            if let Some(img) = inst.image.take() {
                inst.image = c.apply(&img, sev, rng);
                let missing = inst.image.is_none();
                inst.mark(names::IMAGE, mark(missing));
            }
        }
        Corruption::Text(TextTarget::Side, c) => {
            if let Some(t) = inst.side_text.take() {
                inst.side_text = c.apply(&t, sev, synonyms, rng);
                let missing = inst.side_text.is_none();
                inst.mark(names::SIDE_TEXT, mark(missing));
            }
        }
        Corruption::Text(TextTarget::Caption, c) => {
            for cap in inst.captions.iter_mut() {
                if let Some(t) = c.apply(cap, sev, synonyms, rng) {
                    *cap = t;
                }
            }
            if !inst.captions.is_empty() {
                inst.mark(names::CAPTION, mark(false));
            }
        }
        Corruption::Text(TextTarget::Question, c) => {
            for qa in inst.questions.iter_mut() {
                if let Some(t) = c.apply(&qa.question, sev, synonyms, rng) {
                    qa.question = t;
                }
            }
            if !inst.questions.is_empty() {
                inst.mark(names::QUESTION, mark(false));
            }
        }
        Corruption::Pair(p) => {
            let source = donors.unwrap_or_else(|| {
                panic!("pair corruption `{}` needs donors: wrap the data in CorruptedDataset or call with_donors", entry)
            });
            if misalign(inst, p, sev, source, self_pos, rng).is_some() {
                mark_misaligned(inst, p, sev);
            }
        }
    }
}

/// Records a misalignment on the modality that was replaced.
pub fn mark_misaligned(inst: &mut Instance, kind: PairCorruption, severity: u8) {
    let modality = match kind {
        PairCorruption::Misalign => names::SIDE_TEXT,
        PairCorruption::MisalignCaption => names::CAPTION,
    };
    inst.mark(
        modality,
        ModalityCorruption {
            kind: Some(format!("pair:{}", kind.name())),
            severity,
            missing: false,
            misaligned: true,
        },
    );
}

impl FromStr for CorruptionSpec {
    type Err = CorruptError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl InstanceTransform for CorruptionSpec {
    /// Applies the spec; pair corruptions take donors from [`CorruptionSpec::with_donors`].
    ///
    /// # Panics
    /// Panics if the spec has a pair corruption and no donors were set.
    fn apply(&self, instance: &mut Instance, salt: u64) {
        let donors = self.donors.as_deref();
        self.apply_with_donors(instance, salt, donors, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_items_groups_and_ranges() {
        let s = CorruptionSpec::parse("image:gaussian_noise:3").unwrap();
        assert_eq!(s.to_string(), "image:gaussian_noise:3");
        let s = CorruptionSpec::parse("image:fog:2, text:keyboard:1-2,pair:misalign").unwrap();
        assert_eq!(s.entries().len(), 1 + 2 + 5);
        assert_eq!(s.entries()[1].to_string(), "text:keyboard:1");
        assert_eq!(
            CorruptionSpec::parse("side:ocr:1").unwrap().to_string(),
            "text:ocr:1"
        );
        let all = CorruptionSpec::parse("all:2").unwrap();
        assert_eq!(all.entries().len(), Corruption::all().len());
        assert_eq!(
            CorruptionSpec::parse("image:imagenet_c:1")
                .unwrap()
                .entries()
                .len(),
            15
        );
        assert_eq!(
            CorruptionSpec::parse("all").unwrap().singles().len(),
            5 * Corruption::all().len()
        );
        assert!(CorruptionSpec::parse("clean").unwrap().entries().is_empty());
        let round = CorruptionSpec::parse(&all.to_string()).unwrap();
        assert_eq!(round, all);
    }

    #[test]
    fn errors_name_the_problem_and_list_valid_names() {
        let e = CorruptionSpec::parse("image:gausian_noise:3")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`gausian_noise`")
                && e.contains("gaussian_noise")
                && e.contains("elastic_transform"),
            "{e}"
        );
        let e = CorruptionSpec::parse("audio:hiss:1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`audio`"), "{e}");
        let e = CorruptionSpec::parse("image:fog:6")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`6`") && e.contains("1-5"), "{e}");
        let e = CorruptionSpec::parse("image:fog:4-2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`4-2`"), "{e}");
        assert!(matches!(
            CorruptionSpec::parse(" "),
            Err(CorruptError::EmptySpec)
        ));
        assert!(matches!(
            CorruptionSpec::parse("fog"),
            Err(CorruptError::Malformed { .. })
        ));
        assert!(matches!(
            CorruptionSpec::parse("image:fog:1,,"),
            Err(CorruptError::Malformed { .. })
        ));
        assert!(matches!(
            CorruptionSpec::parse("caption:missing"),
            Err(CorruptError::Unsupported { .. })
        ));
        let e = CorruptionSpec::parse("text:shout:1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("keyboard") && e.contains("word_mask"), "{e}");
    }

    #[test]
    fn valid_names_all_parse() {
        for n in Corruption::valid_names() {
            CorruptionSpec::parse(&n).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }
}
