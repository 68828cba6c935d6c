//! What a checkpoint's `state.json` records about it, and the checks a resume makes: each
//! file's size and SHA-256, the fingerprints of the run's configuration and training data,
//! and finite weights. Also the canonical form of `model.safetensors` (sorted header, so the
//! same weights give the same bytes).

use std::collections::BTreeMap;
use std::path::Path;

use mafs_data::Instance;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::TrainState;

/// Size and checksum of one checkpoint file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

impl FileRecord {
    /// The record of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// `state.json`: the training state (its fields at the top level, so the file still reads
/// as a [`TrainState`]) and what the checkpoint must hold. Read it with
/// [`CheckpointMeta::parse`] (serde's `flatten` cannot read the non-finite numbers
/// [`mafs_core::json`] writes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckpointMeta {
    /// The training state.
    #[serde(flatten)]
    pub state: TrainState,
    /// Every other file of the checkpoint, by name.
    #[serde(default)]
    pub files: BTreeMap<String, FileRecord>,
    /// SHA-256 of the run's `config.json` content (empty when the run did not bind one).
    #[serde(default)]
    pub config_fingerprint: String,
    /// SHA-256 over the training split (ids, file names, texts, answers and pixels).
    #[serde(default)]
    pub data_fingerprint: String,
}

impl CheckpointMeta {
    /// Parses `state.json`.
    ///
    /// # Errors
    ///
    /// `serde_json`'s error.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Rest {
            #[serde(default)]
            files: BTreeMap<String, FileRecord>,
            #[serde(default)]
            config_fingerprint: String,
            #[serde(default)]
            data_fingerprint: String,
        }
        let state: TrainState = mafs_core::json::from_str(text)?;
        let rest: Rest = mafs_core::json::from_str(text)?;
        Ok(Self {
            state,
            files: rest.files,
            config_fingerprint: rest.config_fingerprint,
            data_fingerprint: rest.data_fingerprint,
        })
    }
}

/// The fingerprints a run binds its checkpoints to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprints {
    /// Of the configuration.
    pub config: String,
    /// Of the training data.
    pub data: String,
}

/// SHA-256 of bytes as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of a training split: any change to an instance's id, split, file name,
/// texts, answers or pixels, or to the order of instances, changes it.
pub fn data_fingerprint(instances: &[Instance]) -> String {
    let mut h = Sha256::new();
    let text = |h: &mut Sha256, s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    h.update((instances.len() as u64).to_le_bytes());
    for inst in instances {
        h.update(inst.id.to_le_bytes());
        text(&mut h, inst.split.as_str());
        text(&mut h, &inst.filename);
        h.update((inst.captions.len() as u64).to_le_bytes());
        for c in &inst.captions {
            text(&mut h, c);
        }
        for s in &inst.sentids {
            h.update(s.to_le_bytes());
        }
        text(&mut h, inst.side_text.as_deref().unwrap_or("\u{0}none"));
        h.update((inst.questions.len() as u64).to_le_bytes());
        for q in &inst.questions {
            h.update(q.question_id.to_le_bytes());
            text(&mut h, &q.question);
            text(&mut h, &q.answer);
            for a in &q.answers {
                text(&mut h, a);
            }
        }
        match &inst.image {
            Some(img) => {
                h.update(img.width().to_le_bytes());
                h.update(img.height().to_le_bytes());
                h.update(img.as_raw());
            }
            None => h.update(b"no image"),
        }
    }
    hex(&h.finalize())
}

/// Rewrites a safetensors file's header with every JSON object's keys sorted (burn writes
/// the metadata from a `HashMap`, whose order changes from run to run), padded with spaces
/// to a multiple of 8 bytes as the format asks. The tensor bytes are untouched.
///
/// # Errors
///
/// A message when the bytes are not a safetensors file.
pub fn canonical_safetensors(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let (header, data) = split_header(bytes)?;
    let value: serde_json::Value =
        serde_json::from_slice(header).map_err(|e| format!("safetensors header: {e}"))?;
    let mut text = serde_json::to_string(&sorted(value)).expect("a JSON value serialises");
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + data.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    Ok(out)
}

fn split_header(bytes: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let len = bytes
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or("shorter than a safetensors header")?;
    let end = 8u64
        .checked_add(len)
        .filter(|&e| e <= bytes.len() as u64)
        .ok_or_else(|| format!("header length {len} runs past the end of the file"))?;
    Ok((&bytes[8..end as usize], &bytes[end as usize..]))
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let ordered: BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            let mut out = serde_json::Map::new();
            for (k, v) in ordered {
                out.insert(k, v);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Rewrites a burnpack file with its tensors sorted by name. burn's optimizer record lists
/// the parameters' states in `HashMap` order, which changes from run to run; the order does
/// not matter when it is read back (states are keyed by parameter id).
///
/// # Errors
///
/// burnpack's message when the bytes are not a burnpack file.
pub fn canonical_burnpack(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    let reader = burn_pack::Reader::from_bytes(burn_pack::Bytes::from_bytes_vec(bytes))
        .map_err(|e| e.to_string())?;
    let scalars = reader.scalars().clone();
    let metadata = reader.metadata().clone();
    let mut tensors = reader.into_tensors().map_err(|e| e.to_string())?;
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let mut writer = burn_pack::Writer::new(tensors);
    for (k, v) in &scalars {
        writer = writer.with_scalar(k, *v);
    }
    for (k, v) in &metadata {
        writer = writer.with_metadata(k, v);
    }
    Ok(writer.into_bytes().map_err(|e| e.to_string())?.to_vec())
}

/// Checks that every float tensor of a safetensors file is finite.
///
/// # Errors
///
/// A message naming the first tensor that holds NaN or an infinity, or the parse error.
pub fn check_finite_safetensors(bytes: &[u8]) -> Result<(), String> {
    use safetensors::{Dtype, SafeTensors};
    let st = SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
    let mut names = st.names();
    names.sort();
    for name in names {
        let view = st.tensor(name).map_err(|e| e.to_string())?;
        let data = view.data();
        let finite = match view.dtype() {
            Dtype::F32 => data
                .chunks_exact(4)
                .all(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite()),
            Dtype::F64 => data
                .chunks_exact(8)
                .all(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")).is_finite()),
            // F16 and BF16: the exponent bits all set is an infinity or a NaN
            Dtype::F16 => data
                .chunks_exact(2)
                .all(|b| u16::from_le_bytes([b[0], b[1]]) & 0x7C00 != 0x7C00),
            Dtype::BF16 => data
                .chunks_exact(2)
                .all(|b| u16::from_le_bytes([b[0], b[1]]) & 0x7F80 != 0x7F80),
            _ => true,
        };
        if !finite {
            return Err(format!("tensor `{name}` holds NaN or infinite values"));
        }
    }
    Ok(())
}

/// Checks one checkpoint directory against its `state.json`: every recorded file present
/// with its size and checksum, the three weight files recorded, the weights finite, and the
/// fingerprints equal to `expect`'s (when given). Returns the metadata.
///
/// # Errors
///
/// What is wrong, in words.
pub fn verify(dir: &Path, expect: Option<&Fingerprints>) -> Result<CheckpointMeta, String> {
    let state_path = dir.join(super::STATE_FILE);
    let text = mafs_data_read(&state_path)?;
    let meta = CheckpointMeta::parse(&text)
        .map_err(|e| format!("{}: invalid JSON: {e}", state_path.display()))?;
    for required in super::WEIGHT_FILES {
        if !meta.files.contains_key(required) {
            return Err(format!(
                "state.json records no `{required}` (a checkpoint written before checksums, or an edited one)"
            ));
        }
    }
    for (name, rec) in &meta.files {
        if name.contains('/') || name.contains('\\') || name.starts_with('.') {
            return Err(format!("state.json names the file `{name}`"));
        }
        let path = dir.join(name);
        let len = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        if len != rec.bytes {
            return Err(format!(
                "{} has {len} bytes, state.json recorded {}",
                path.display(),
                rec.bytes
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if sha256_hex(&bytes) != rec.sha256 {
            return Err(format!(
                "{}: checksum differs from the one in state.json (the file is damaged)",
                path.display()
            ));
        }
        if name == super::SAFETENSORS_FILE {
            check_finite_safetensors(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    if let Some(fp) = expect {
        if !meta.config_fingerprint.is_empty() && meta.config_fingerprint != fp.config {
            return Err("it was written with another configuration (config.json changed)".into());
        }
        if meta.data_fingerprint != fp.data {
            return Err(format!(
                "the training data changed since it was written (data fingerprint {} then, {} now)",
                short(&meta.data_fingerprint),
                short(&fp.data)
            ));
        }
    }
    Ok(meta)
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

/// Reads a small JSON file of a run, bounded by the file-size limit.
fn mafs_data_read(path: &Path) -> Result<String, String> {
    mafs_core::limits::check_file_size(path, "checkpoint state")?;
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(meta: Option<std::collections::HashMap<String, String>>, value: f32) -> Vec<u8> {
        use safetensors::tensor::TensorView;
        let data: Vec<u8> = [1.0f32, value]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let view = TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
        safetensors::serialize([("w", view)], meta).unwrap()
    }

    #[test]
    fn canonical_header_is_sorted_and_keeps_the_tensors() {
        let meta: std::collections::HashMap<String, String> = (0..16)
            .map(|i| (format!("key{i}"), format!("v{i}")))
            .collect();
        let a = canonical_safetensors(&file(Some(meta.clone()), 2.0)).unwrap();
        let b = canonical_safetensors(&file(Some(meta), 2.0)).unwrap();
        assert_eq!(a, b);
        assert_eq!(canonical_safetensors(&a).unwrap(), a, "idempotent");
        let st = safetensors::SafeTensors::deserialize(&a).unwrap();
        assert_eq!(st.tensor("w").unwrap().data().len(), 8);
        let (header, _) = split_header(&a).unwrap();
        assert!(header.len().is_multiple_of(8));
        let text = std::str::from_utf8(header).unwrap();
        assert!(text.find("key0").unwrap() < text.find("key9").unwrap());
        assert!(canonical_safetensors(b"\xff\xff\xff\xff\xff\xff\xff\x7f{}").is_err());
        assert!(canonical_safetensors(b"abc").is_err());
    }

    #[test]
    fn non_finite_weights_are_found() {
        check_finite_safetensors(&file(None, 3.0)).unwrap();
        let err = check_finite_safetensors(&file(None, f32::NAN)).unwrap_err();
        assert!(err.contains("`w`"), "{err}");
        assert!(check_finite_safetensors(&file(None, f32::INFINITY)).is_err());
    }

    #[test]
    fn data_fingerprint_sees_every_field() {
        let world = mafs_data::world::World::new(mafs_data::world::WorldConfig {
            train: 3,
            ..mafs_data::world::WorldConfig::default()
        })
        .unwrap();
        let base = world.split(mafs_data::Split::Train);
        let fp = data_fingerprint(&base);
        assert_eq!(fp, data_fingerprint(&base.clone()));
        let mut changed = base.clone();
        changed[1].captions[0].push('!');
        assert_ne!(fp, data_fingerprint(&changed));
        let mut changed = base.clone();
        changed[2].image.as_mut().unwrap().get_pixel_mut(0, 0).0[0] ^= 1;
        assert_ne!(fp, data_fingerprint(&changed));
        assert_ne!(fp, data_fingerprint(&base[..2]));
    }
}
