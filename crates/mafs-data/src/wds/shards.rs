//! Which shards: a shard spec expanded to files, the shards of one worker or device, and the
//! order of an epoch.
//!
//! A spec is one or more parts joined by `::` (as webdataset and open_clip write them), each
//! a `.tar` file, a folder (its `*.tar` files, sorted by name) or a file pattern with one or
//! more brace ranges `{000000..000099}` (zero-padded as written) or lists `{a,b}`.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::DataError;

fn config(found: &str, expected: &str) -> DataError {
    DataError::InvalidConfig {
        field: "WebDataset shards".into(),
        expected: expected.into(),
        found: found.into(),
    }
}

/// Expands brace ranges and lists in a pattern (`a-{00..02}.tar` gives `a-00.tar`,
/// `a-01.tar`, `a-02.tar`).
///
/// # Errors
/// [`DataError::InvalidConfig`] for an unclosed brace or a range that is not numeric.
pub fn brace_expand(pattern: &str) -> Result<Vec<String>, DataError> {
    let Some(open) = pattern.find('{') else {
        return Ok(vec![pattern.to_string()]);
    };
    let close = pattern[open..]
        .find('}')
        .map(|c| open + c)
        .ok_or_else(|| config(pattern, "a pattern whose `{` is closed by `}`"))?;
    let (head, body, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let items: Vec<String> = if let Some((a, b)) = body.split_once("..") {
        let (lo, hi) = (a.trim().parse::<u64>(), b.trim().parse::<u64>());
        let (Ok(lo), Ok(hi)) = (lo, hi) else {
            return Err(config(pattern, "a numeric range such as {000000..000099}"));
        };
        if hi < lo || hi - lo > 10_000_000 {
            return Err(config(pattern, "a range from low to high"));
        }
        let width = a.trim().len();
        (lo..=hi).map(|n| format!("{n:0width$}")).collect()
    } else {
        body.split(',').map(str::to_string).collect()
    };
    let rest = brace_expand(tail)?;
    Ok(items
        .iter()
        .flat_map(|i| rest.iter().map(move |r| format!("{head}{i}{r}")))
        .collect())
}

/// The shard files of a spec, in order; each must exist.
///
/// # Errors
/// [`DataError::InvalidConfig`] for a bad pattern or a spec that names no shard,
/// [`DataError::Io`] for a folder that cannot be listed or a shard that does not exist.
pub fn expand(spec: &str) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for part in spec.split("::").filter(|p| !p.is_empty()) {
        let p = Path::new(part);
        if p.is_dir() {
            let mut tars: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| DataError::io(p, "list the shards of", e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "tar") && f.is_file())
                .collect();
            tars.sort();
            out.extend(tars);
            continue;
        }
        for name in brace_expand(part)? {
            let f = PathBuf::from(&name);
            if !f.is_file() {
                return Err(DataError::io(
                    &f,
                    "open the shard",
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                ));
            }
            out.push(f);
        }
    }
    if out.is_empty() {
        return Err(config(spec, "at least one .tar shard"));
    }
    Ok(out)
}

/// The shards of worker `rank` of `world` (every `world`-th shard from `rank`), as
/// webdataset's `split_by_node` and `split_by_worker` do: each sample is read by exactly
/// one of them.
///
/// # Errors
/// [`DataError::InvalidConfig`] when `rank >= world` or there are fewer shards than
/// workers (some would read nothing).
pub fn for_rank(shards: &[PathBuf], rank: usize, world: usize) -> Result<Vec<PathBuf>, DataError> {
    if world == 0 || rank >= world {
        return Err(config(
            &format!("rank {rank} of {world}"),
            "a rank below the world size",
        ));
    }
    if shards.len() < world {
        return Err(config(
            &format!("{} shards for {world} workers", shards.len()),
            "at least one shard per worker or device",
        ));
    }
    Ok(shards.iter().skip(rank).step_by(world).cloned().collect())
}

/// The shard order of an epoch: a permutation drawn from `(seed, epoch)`, the same on every
/// worker, so that [`for_rank`] of it still partitions the shards.
pub fn epoch_order(shards: &[PathBuf], seed: u64, epoch: u64) -> Vec<PathBuf> {
    let mut v = shards.to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    v.shuffle(&mut rng);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_like_webdataset() {
        assert_eq!(
            brace_expand("s-{000..002}.tar").unwrap(),
            ["s-000.tar", "s-001.tar", "s-002.tar"]
        );
        assert_eq!(
            brace_expand("{a,b}/x-{1..2}.tar").unwrap(),
            ["a/x-1.tar", "a/x-2.tar", "b/x-1.tar", "b/x-2.tar"]
        );
        assert!(brace_expand("s-{000..").is_err());
        assert!(brace_expand("s-{a..b}.tar").is_err());
    }

    #[test]
    fn ranks_partition_and_epochs_permute() {
        let shards: Vec<PathBuf> = (0..7).map(|i| PathBuf::from(format!("{i}.tar"))).collect();
        let mut all: Vec<PathBuf> = (0..3)
            .flat_map(|r| for_rank(&shards, r, 3).unwrap())
            .collect();
        all.sort();
        let mut want = shards.clone();
        want.sort();
        assert_eq!(all, want);
        assert!(for_rank(&shards, 3, 3).is_err());
        assert!(for_rank(&shards[..2], 0, 3).is_err());
        let e0 = epoch_order(&shards, 1, 0);
        assert_eq!(e0, epoch_order(&shards, 1, 0));
        assert_ne!(e0, epoch_order(&shards, 1, 1));
        let mut sorted = e0.clone();
        sorted.sort();
        assert_eq!(sorted, want);
    }

    #[test]
    fn folders_and_missing_shards() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.tar", "a.tar", "notes.txt"] {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        let got = expand(dir.path().to_str().unwrap()).unwrap();
        assert_eq!(got, [dir.path().join("a.tar"), dir.path().join("b.tar")]);
        let e = expand(&format!("{}/c-{{0..1}}.tar", dir.path().display())).unwrap_err();
        assert!(e.to_string().contains("c-0.tar"), "{e}");
    }
}
