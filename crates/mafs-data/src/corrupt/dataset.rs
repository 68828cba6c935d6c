//! A corrupted view of a dataset, for evaluation: every item read through it has the spec
//! applied, deterministically per instance (the same index always gives the same bytes).

use burn::data::dataset::{Dataset, InMemDataset};

use super::pair::{Donor, DonorSource};
use super::spec::CorruptionSpec;
use crate::Instance;

/// A dataset whose items come out corrupted by a [`CorruptionSpec`].
///
/// Pair corruptions take their donors from the wrapped dataset itself (the donor is read
/// clean), so `CorruptionSpec::parse("pair:misalign:3")` needs nothing else.
#[derive(Debug)]
pub struct CorruptedDataset<D> {
    inner: D,
    spec: CorruptionSpec,
    salt: u64,
}

impl<D> CorruptedDataset<D> {
    /// Wraps `inner`; items get `spec` with salt 0.
    pub fn new(inner: D, spec: CorruptionSpec) -> Self {
        Self {
            inner,
            spec,
            salt: 0,
        }
    }

    /// Sets the salt passed to the corruptions (0 for evaluation).
    pub fn with_salt(mut self, salt: u64) -> Self {
        self.salt = salt;
        self
    }

    /// The spec.
    pub fn spec(&self) -> &CorruptionSpec {
        &self.spec
    }

    /// The wrapped dataset.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

impl CorruptedDataset<InMemDataset<Instance>> {
    /// Wraps a vector of instances.
    pub fn from_vec(items: Vec<Instance>, spec: CorruptionSpec) -> Self {
        Self::new(InMemDataset::new(items), spec)
    }
}

struct InnerDonors<'a, D, E> {
    inner: &'a D,
    _e: std::marker::PhantomData<fn() -> E>,
}

impl<D, E> DonorSource for InnerDonors<'_, D, E>
where
    D: Dataset<Instance, E>,
    E: std::error::Error + Send + Sync + 'static,
{
    fn donor_count(&self) -> usize {
        self.inner.len()
    }
    fn donor(&self, index: usize) -> Option<Donor> {
        self.inner.get(index).ok().map(|i| Donor::of(&i))
    }
    fn position_of(&self, _id: u64) -> Option<usize> {
        None
    }
}

impl<D, E> Dataset<Instance, E> for CorruptedDataset<D>
where
    D: Dataset<Instance, E>,
    E: std::error::Error + Send + Sync + 'static,
{
    fn get(&self, index: usize) -> Result<Instance, E> {
        let mut inst = self.inner.get(index)?;
        let donors = InnerDonors {
            inner: &self.inner,
            _e: std::marker::PhantomData,
        };
        self.spec
            .apply_with_donors(&mut inst, self.salt, Some(&donors), Some(index));
        Ok(inst)
    }

    fn len(&self) -> usize {
        self.inner.len()
    }
}
