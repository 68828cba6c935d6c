//! The tensors of a safetensors file (a run's `model.safetensors`, an import's
//! `encoders.safetensors`): names, dtypes and shapes, optionally folded over block indices.
//! `mafs import inspect` prints them; `docs/checkpoints.md` lists a run's, and a test checks
//! that list against a freshly written checkpoint.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::SafeTensors;

use crate::error::TrainError;

/// One tensor of a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TensorRow {
    /// Key (for a mafs model: its module path).
    pub name: String,
    /// safetensors dtype (`F32`, ...).
    pub dtype: String,
    /// Shape.
    pub shape: Vec<usize>,
}

/// The tensors of a safetensors file, sorted by name.
///
/// # Errors
///
/// [`TrainError::Io`] if it cannot be read, [`TrainError::BrokenCheckpoint`] if it is not
/// safetensors.
pub fn safetensors_rows(path: &Path) -> Result<Vec<TensorRow>, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| TrainError::BrokenCheckpoint {
        path: path.to_path_buf(),
        reason: format!("not a safetensors file: {e}"),
    })?;
    let mut rows: Vec<TensorRow> = st
        .iter()
        .map(|(n, v)| TensorRow {
            name: n.to_string(),
            dtype: format!("{:?}", v.dtype()),
            shape: v.shape().to_vec(),
        })
        .collect();
    rows.sort();
    Ok(rows)
}

/// Folds rows whose names differ only in their first numeric path segment and that agree in
/// dtype and shape into one row named `prefix.{a-b}.suffix` (indices `a..=b`, contiguous);
/// any other rows stay as they are. Sorted by name.
pub fn collapse(rows: Vec<TensorRow>) -> Vec<TensorRow> {
    let mut groups: BTreeMap<(String, String, Vec<usize>), Vec<usize>> = BTreeMap::new();
    let mut out = Vec::new();
    for row in rows {
        let segs: Vec<&str> = row.name.split('.').collect();
        match segs.iter().position(|s| s.parse::<usize>().is_ok()) {
            Some(i) => {
                let idx: usize = segs[i].parse().expect("numeric");
                let mut pattern: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
                pattern[i] = "{}".into();
                groups
                    .entry((pattern.join("."), row.dtype, row.shape))
                    .or_default()
                    .push(idx);
            }
            None => out.push(row),
        }
    }
    for ((pattern, dtype, shape), mut idx) in groups {
        idx.sort_unstable();
        let contiguous = idx.windows(2).all(|w| w[1] == w[0] + 1);
        let names: Vec<String> = if idx.len() > 1 && contiguous {
            vec![format!("{{{}-{}}}", idx[0], idx[idx.len() - 1])]
        } else {
            idx.iter().map(|i| i.to_string()).collect()
        };
        for n in names {
            out.push(TensorRow {
                name: pattern.replacen("{}", &n, 1),
                dtype: dtype.clone(),
                shape: shape.clone(),
            });
        }
    }
    out.sort();
    out
}

/// The rows as a Markdown table (`| name | dtype | shape |`).
pub fn markdown(rows: &[TensorRow]) -> String {
    let mut t = mafs_core::table::Table::new(["name", "dtype", "shape"]);
    for r in rows {
        t.row([
            format!("`{}`", r.name),
            r.dtype.to_string(),
            format!("`{:?}`", r.shape),
        ]);
    }
    t.to_string()
}

/// Parses the rows of a table [`markdown`] wrote (other lines are skipped).
pub fn parse_markdown(text: &str) -> Vec<TensorRow> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let [name, dtype, shape] = cells.as_slice() else {
                return None;
            };
            let name = name.strip_prefix('`')?.strip_suffix('`')?;
            let shape = shape.strip_prefix("`[")?.strip_suffix("]`")?;
            let shape = if shape.is_empty() {
                vec![]
            } else {
                shape
                    .split(',')
                    .map(|d| d.trim().parse().ok())
                    .collect::<Option<Vec<usize>>>()?
            };
            Some(TensorRow {
                name: name.to_string(),
                dtype: dtype.to_string(),
                shape,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: &str, s: &[usize]) -> TensorRow {
        TensorRow {
            name: n.into(),
            dtype: "F32".into(),
            shape: s.to_vec(),
        }
    }

    #[test]
    fn collapse_folds_contiguous_blocks_and_markdown_round_trips() {
        let rows = vec![
            r("a.resblocks.0.w", &[2, 2]),
            r("a.resblocks.1.w", &[2, 2]),
            r("a.resblocks.2.w", &[2, 2]),
            r("b.layers.0.w", &[3]),
            r("b.layers.1.w", &[4]),
            r("c", &[]),
        ];
        let out = collapse(rows);
        let names: Vec<&str> = out.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["a.resblocks.{0-2}.w", "b.layers.0.w", "b.layers.1.w", "c"]
        );
        let md = markdown(&out);
        assert!(
            md.contains("| `a.resblocks.{0-2}.w` | F32 | `[2, 2]` |"),
            "{md}"
        );
        assert_eq!(parse_markdown(&format!("intro\n\n{md}\nafter")), out);
    }
}
