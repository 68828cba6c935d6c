//! WebDataset shards: `.tar` files in which consecutive members sharing a key form one
//! sample, as img2dataset writes them and open_clip trains from:
//!
//! ```text
//! 000000000.jpg   the image (jpg, jpeg or png)
//! 000000000.txt   the caption
//! 000000000.json  {"caption": ..., "key": ..., "url": ..., "width": ..., ...}
//! 000000001.jpg ...
//! ```
//!
//! The key is the member's path up to the first `.` of its file name and the extension the
//! rest, lower-cased (webdataset's `base_plus_ext`); members without an extension and
//! names starting with `__` are ignored. Captions come from the json's `captions`/`sentences`
//! (a list, several references per image), else `txt`, else the json's `caption`/`text`; a
//! json's `side_text`, `sentids` and `filename` are our exporter's. An instance's id is the key when it is a number, otherwise a
//! stable 63-bit hash of it.
//!
//! Shards are read one at a time, member by member ([`stream::WdsStream`]): memory holds
//! one sample and a bounded queue, never a shard or an index of the dataset.
//! [`shards::for_rank`] splits shards across workers and devices.

pub mod shards;
pub mod stream;
pub mod write;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::RecordRef;
use crate::image_io::{ResizeMode, resize_square};
use crate::report::{LoadReport, skip_or_fail};
use crate::{DataError, Instance, Split};

/// Options of the WebDataset reader.
#[derive(Debug, Clone, PartialEq)]
pub struct WdsOptions {
    /// Resize images to this square size (`None` keeps the original size).
    pub image_size: Option<u32>,
    /// How images are brought to the size.
    pub resize: ResizeMode,
    /// The split every instance gets.
    pub split: Split,
    /// Skip bad samples, and the rest of a truncated shard (reported), instead of failing.
    pub skip_bad: bool,
    /// Keep the decoded images; `false` only checks that they decode.
    pub keep_images: bool,
}

impl Default for WdsOptions {
    fn default() -> Self {
        Self {
            image_size: Some(64),
            resize: ResizeMode::CenterCrop,
            split: Split::Train,
            skip_bad: false,
            keep_images: true,
        }
    }
}

/// The members of one sample as read from the shard.
#[derive(Debug, Default)]
struct Sample {
    key: String,
    index: usize,
    files: Vec<(String, Vec<u8>)>,
}

/// `(key, extension)` of a member path, webdataset's `base_plus_ext`.
pub fn key_and_ext(path: &str) -> Option<(String, String)> {
    let (dir, name) = match path.rfind('/') {
        Some(k) => (&path[..=k], &path[k + 1..]),
        None => ("", path),
    };
    if name.starts_with("__") {
        return None;
    }
    let dot = name.find('.')?;
    if dot == 0 {
        return None;
    }
    Some((
        format!("{dir}{}", &name[..dot]),
        name[dot + 1..].to_ascii_lowercase(),
    ))
}

/// The id of a key: the key as a number when it is one, else FNV-1a of it (63 bits).
pub fn key_id(key: &str) -> u64 {
    let base = key.rsplit('/').next().unwrap_or(key);
    if let Ok(n) = base.parse::<u64>() {
        return n;
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h >> 1
}

fn text_list(v: &serde_json::Value) -> Option<Vec<String>> {
    match v {
        serde_json::Value::String(s) => Some(vec![s.clone()]),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>(),
        _ => None,
    }
}

impl Sample {
    fn record(&self, shard: &Path) -> RecordRef {
        RecordRef::new(shard, self.index, Some(key_id(&self.key)))
    }

    fn member(&self, exts: &[&str]) -> Option<(&str, &[u8])> {
        exts.iter().find_map(|e| {
            self.files
                .iter()
                .find(|(x, _)| x == e)
                .map(|(x, b)| (x.as_str(), b.as_slice()))
        })
    }

    /// The instance of a sample (its image decoded and resized).
    fn into_instance(self, shard: &Path, opts: &WdsOptions) -> Result<Instance, DataError> {
        let r = self.record(shard);
        let json = match self.member(&["json"]) {
            Some((_, bytes)) => Some(serde_json::from_slice::<serde_json::Value>(bytes).map_err(
                |e| DataError::BadRecord {
                    record: r.clone(),
                    expected: "KEY.json holding a JSON object",
                    message: e.to_string(),
                },
            )?),
            None => None,
        };
        let from_json = |keys: &[&str]| {
            json.as_ref()
                .and_then(|j| keys.iter().find_map(|k| j.get(*k).and_then(text_list)))
        };
        // Every caption of the json's list when there is one (several references per image),
        // else the txt (img2dataset's), else the json's single caption.
        let captions = match (
            from_json(&["captions", "sentences"]),
            self.member(&["txt", "text", "caption"]),
        ) {
            (Some(list), _) => list,
            (None, Some((_, bytes))) => vec![String::from_utf8_lossy(bytes).into_owned()],
            (None, None) => from_json(&["caption", "text"]).unwrap_or_default(),
        };
        if captions.is_empty() {
            return Err(DataError::NoCaptions { record: r });
        }
        let mut clean = Vec::with_capacity(captions.len());
        for (k, c) in captions.iter().enumerate() {
            let t = c.trim();
            if t.is_empty() {
                return Err(DataError::EmptyCaption {
                    record: r,
                    sentence: k,
                });
            }
            clean.push(t.to_string());
        }
        let Some((ext, bytes)) = self.member(&["jpg", "jpeg", "png"]) else {
            let has: Vec<&str> = self.files.iter().map(|f| f.0.as_str()).collect();
            return Err(DataError::BadRecord {
                record: r,
                expected: "an image member KEY.jpg, KEY.jpeg or KEY.png",
                message: format!("sample `{}` has only {}", self.key, has.join(", ")),
            });
        };
        let image_name = PathBuf::from(format!("{}:{}.{ext}", shard.display(), self.key));
        let img = image::load_from_memory(bytes)
            .map_err(|e| DataError::BadImage {
                record: r.clone(),
                image: image_name,
                reason: e.to_string(),
            })?
            .to_rgb8();
        let img = match opts.image_size {
            Some(s) => resize_square(img, s, opts.resize),
            None => img,
        };
        let id = key_id(&self.key);
        let side_text = json
            .as_ref()
            .and_then(|j| j.get("side_text"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let sentids = json
            .as_ref()
            .and_then(|j| j.get("sentids"))
            .and_then(|v| serde_json::from_value::<Vec<u64>>(v.clone()).ok())
            .filter(|s| s.len() == clean.len())
            .unwrap_or_else(|| (0..clean.len() as u64).map(|k| id * 16 + k).collect());
        Ok(Instance {
            id,
            split: opts.split,
            filename: json
                .as_ref()
                .and_then(|j| j.get("filename"))
                .and_then(|v| v.as_str())
                .map_or_else(|| format!("{}.{ext}", self.key), str::to_string),
            image: opts.keep_images.then_some(img),
            captions: clean,
            sentids,
            side_text,
            questions: Vec::new(),
            corruptions: Vec::new(),
        })
    }
}

/// Reads one shard member by member and hands each sample's instance (or its error) to
/// `sink`, which returns `false` to stop. A sample whose key comes back after other keys is
/// a [`DataError::DuplicateId`]. A tar that cannot be read to its end gives one
/// [`DataError::Format`] naming the shard and the member where reading stopped.
pub fn read_shard(
    shard: &Path,
    opts: &WdsOptions,
    sink: &mut dyn FnMut(Result<Instance, DataError>) -> bool,
) -> Result<(), DataError> {
    let file = std::fs::File::open(shard).map_err(|e| DataError::io(shard, "open the shard", e))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let broken = |member: usize, e: std::io::Error| DataError::Format {
        path: shard.to_path_buf(),
        format: "WebDataset tar shard",
        message: format!("cannot read member {member}: {e} (truncated or not a tar file?)"),
    };
    let entries = archive.entries().map_err(|e| broken(0, e))?;
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut current: Option<Sample> = None;
    let mut n_samples = 0usize;
    let mut finish = |s: Sample, seen: &mut std::collections::HashMap<String, usize>| -> bool {
        if let Some(&first) = seen.get(&s.key) {
            return sink(Err(DataError::DuplicateId {
                record: s.record(shard),
                what: "sample key",
                id: key_id(&s.key),
                first,
            }));
        }
        seen.insert(s.key.clone(), s.index);
        sink(s.into_instance(shard, opts))
    };
    for (member, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| broken(member, e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| broken(member, e))?
            .to_string_lossy()
            .into_owned();
        let Some((key, ext)) = key_and_ext(&path) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| broken(member, e))?;
        if current.as_ref().is_some_and(|s| s.key != key) {
            let done = current.take().expect("checked");
            if !finish(done, &mut seen) {
                return Ok(());
            }
        }
        let s = current.get_or_insert_with(|| {
            n_samples += 1;
            Sample {
                key,
                index: n_samples - 1,
                files: Vec::new(),
            }
        });
        s.files.push((ext, bytes));
    }
    if let Some(done) = current {
        finish(done, &mut seen);
    }
    Ok(())
}

/// Reads every sample of `shards` into memory (evaluation sets, checks): bad samples and
/// broken shards fail, or with `skip_bad` are reported and left out.
///
/// # Errors
/// The first bad sample or shard unless `skip_bad`.
pub fn load_webdataset(
    shards: &[PathBuf],
    opts: &WdsOptions,
) -> Result<(Vec<Instance>, LoadReport), DataError> {
    let mut report = LoadReport {
        files: shards.to_vec(),
        ..LoadReport::default()
    };
    let mut out = Vec::new();
    for shard in shards {
        let mut first_err: Option<DataError> = None;
        let res = read_shard(shard, opts, &mut |r| {
            report.total += 1;
            match r {
                Ok(inst) => out.push(inst),
                Err(e) if opts.skip_bad => report.skipped.push(e),
                Err(e) => {
                    first_err = Some(e);
                    return false;
                }
            }
            true
        });
        if let Some(e) = first_err {
            return Err(e);
        }
        if let Err(e) = res {
            skip_or_fail(&mut report, opts.skip_bad, e)?;
        }
    }
    report.loaded = out.len();
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_at_the_first_dot_of_the_file_name() {
        assert_eq!(
            key_and_ext("a/b.c/000001.seg.PNG"),
            Some(("a/b.c/000001".into(), "seg.png".into()))
        );
        assert_eq!(key_and_ext("000001"), None);
        assert_eq!(key_and_ext("__key__.txt"), None);
        assert_eq!(key_id("000000042"), 42);
        assert_eq!(key_id("shard/000000042"), 42);
        assert_eq!(key_id("abc"), key_id("abc"));
        assert_ne!(key_id("abc"), key_id("abd"));
        assert!(key_id("abc") < 1 << 63);
    }
}
