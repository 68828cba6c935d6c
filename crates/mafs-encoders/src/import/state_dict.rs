//! A PyTorch-style state dict read from safetensors bytes: every float tensor as `f32`, by key.
//!
//! F16, BF16, F32 and F64 tensors are converted to `f32` (open_clip checkpoints are published
//! in all of these). A `module.` prefix on every key (a checkpoint saved from
//! `DistributedDataParallel`) is stripped, as open_clip's `load_checkpoint` does. The scalar
//! metadata OpenAI's original checkpoints carry (`input_resolution`, `context_length`,
//! `vocab_size`) is dropped, as OpenAI's `build_model` deletes it.

use std::collections::BTreeMap;

use safetensors::{Dtype, SafeTensors};

use super::error::ImportError;

/// Keys OpenAI's checkpoints hold that are metadata, not weights.
pub const METADATA_KEYS: [&str; 3] = ["input_resolution", "context_length", "vocab_size"];

/// One tensor: its shape and row-major values.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    /// Shape (empty for a 0-d tensor such as `logit_scale`).
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub values: Vec<f32>,
}

/// The tensors of a checkpoint by key.
#[derive(Debug, Clone, Default)]
pub struct StateDict {
    /// Tensors by key.
    pub tensors: BTreeMap<String, RawTensor>,
}

fn to_f32(dtype: Dtype, bytes: &[u8]) -> Option<Vec<f32>> {
    Some(match dtype {
        Dtype::F32 => bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => bytes
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F64 => bytes
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
            .collect(),
        _ => return None,
    })
}

impl StateDict {
    /// Parses safetensors bytes; `origin` names them in errors.
    ///
    /// # Errors
    ///
    /// [`ImportError::Format`] if the bytes are not safetensors, [`ImportError::Dtype`] for a
    /// non-float tensor that is not OpenAI metadata.
    pub fn from_safetensors(bytes: &[u8], origin: &str) -> Result<Self, ImportError> {
        let st = SafeTensors::deserialize(bytes).map_err(|e| ImportError::Format {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let names = st.names();
        let strip_module = !names.is_empty() && names.iter().all(|n| n.starts_with("module."));
        let mut tensors = BTreeMap::new();
        for (name, view) in st.iter() {
            let key = if strip_module {
                &name["module.".len()..]
            } else {
                name
            };
            if METADATA_KEYS.contains(&key) {
                continue;
            }
            let values = to_f32(view.dtype(), view.data()).ok_or_else(|| ImportError::Dtype {
                origin: origin.to_string(),
                key: key.to_string(),
                dtype: format!("{:?}", view.dtype()),
            })?;
            tensors.insert(
                key.to_string(),
                RawTensor {
                    shape: view.shape().to_vec(),
                    values,
                },
            );
        }
        Ok(Self { tensors })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;

    fn file(entries: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
        let views: Vec<(String, TensorView)> = entries
            .iter()
            .map(|(n, d, s, b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        safetensors::serialize(views, None).unwrap()
    }

    #[test]
    fn converts_half_precision_and_strips_module() {
        let f16: Vec<u8> = [1.5f32, -2.0]
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
            .collect();
        let bf16: Vec<u8> = [0.25f32]
            .iter()
            .flat_map(|v| half::bf16::from_f32(*v).to_le_bytes())
            .collect();
        let f64s: Vec<u8> = 3.0f64.to_le_bytes().to_vec();
        let ints: Vec<u8> = 224i64.to_le_bytes().to_vec();
        let bytes = file(&[
            ("module.a", Dtype::F16, vec![2], f16),
            ("module.b", Dtype::BF16, vec![1, 1], bf16),
            ("module.logit_scale", Dtype::F64, vec![], f64s),
            ("module.input_resolution", Dtype::I64, vec![], ints.clone()),
        ]);
        let sd = StateDict::from_safetensors(&bytes, "x").unwrap();
        assert_eq!(sd.tensors.len(), 3);
        assert_eq!(sd.tensors["a"].values, vec![1.5, -2.0]);
        assert_eq!(sd.tensors["b"].shape, vec![1, 1]);
        assert_eq!(sd.tensors["b"].values, vec![0.25]);
        assert_eq!(sd.tensors["logit_scale"].shape, Vec::<usize>::new());
        assert_eq!(sd.tensors["logit_scale"].values, vec![3.0]);

        let bad = file(&[("idx", Dtype::I64, vec![], ints)]);
        let err = StateDict::from_safetensors(&bad, "ck.safetensors").unwrap_err();
        assert!(
            err.to_string().contains("ck.safetensors") && err.to_string().contains("`idx`"),
            "{err}"
        );
        let err = StateDict::from_safetensors(b"not a file", "junk").unwrap_err();
        assert!(matches!(err, ImportError::Format { .. }), "{err}");
    }
}
