//! Writing instances as WebDataset shards (`mafs data export --format wds`): per sample
//! `KEY.png` (lossless), `KEY.txt` (the first caption, what img2dataset writes) and
//! `KEY.json` (`{"key", "filename", "captions", "sentids", "side_text", "split"}`), the key being the id
//! zero-padded to 12 digits, `per_shard` samples to a shard named `PREFIX-000000.tar`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::RecordRef;
use crate::{DataError, Instance};

fn append(b: &mut tar::Builder<impl Write>, name: &str, data: &[u8]) -> std::io::Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    b.append_data(&mut h, name, data)
}

/// Writes `instances` to `dir/PREFIX-NNNNNN.tar`, `per_shard` samples each, and returns the
/// shard paths. Each file is written to a temporary name and renamed when complete.
///
/// # Errors
/// [`DataError::Io`] or [`DataError::ImageWrite`]; [`DataError::BadRecord`] for an instance
/// without an image.
pub fn write_shards(
    instances: &[Instance],
    dir: &Path,
    prefix: &str,
    per_shard: usize,
) -> Result<Vec<PathBuf>, DataError> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, "create directory", e))?;
    let mut out = Vec::new();
    for (s, chunk) in instances.chunks(per_shard.max(1)).enumerate() {
        let path = dir.join(format!("{prefix}-{s:06}.tar"));
        let io = |e: std::io::Error| DataError::io(&path, "write", e);
        let tmp = mafs_core::atomic::temp_file_in(dir).map_err(io)?;
        let mut b = tar::Builder::new(std::io::BufWriter::new(tmp));
        for (k, inst) in chunk.iter().enumerate() {
            let Some(img) = &inst.image else {
                return Err(DataError::BadRecord {
                    record: RecordRef::new("<instances>", s * per_shard + k, Some(inst.id)),
                    expected: "an instance with an image",
                    message: "the image is missing".into(),
                });
            };
            let key = format!("{:012}", inst.id);
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| DataError::ImageWrite {
                    path: path.join(format!("{key}.png")),
                    reason: e.to_string(),
                })?;
            append(&mut b, &format!("{key}.png"), &png).map_err(io)?;
            let first = inst.captions.first().cloned().unwrap_or_default();
            append(&mut b, &format!("{key}.txt"), first.as_bytes()).map_err(io)?;
            let json = serde_json::json!({
                "key": key,
                "filename": inst.filename,
                "captions": inst.captions,
                "sentids": inst.sentids,
                "side_text": inst.side_text,
                "split": inst.split,
            });
            append(&mut b, &format!("{key}.json"), json.to_string().as_bytes()).map_err(io)?;
        }
        let w = b.into_inner().map_err(io)?;
        let tmp = w.into_inner().map_err(|e| io(e.into_error()))?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        out.push(path);
    }
    Ok(out)
}
