//! Configuration of the built-in world.

use serde::{Deserialize, Serialize};

use crate::{DataError, Split};

/// Largest number of scenes one split may hold: instance ids are `split_code * 10^9 + index`.
pub const MAX_SCENES_PER_SPLIT: usize = 1_000_000_000;

/// Configuration of the built-in procedural world. Every field has a default, so a JSON file
/// may name only the fields it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorldConfig {
    /// Side of the square RGB images, in pixels.
    pub image_size: u32,
    /// Number of training scenes.
    pub train: usize,
    /// Number of validation scenes.
    pub val: usize,
    /// Number of test scenes.
    pub test: usize,
    /// Number of domain-shift scenes (unseen palette shades, textures and caption templates).
    pub shift: usize,
    /// Seed of the whole world; each scene's generator is derived from (seed, split, index).
    pub seed: u64,
    /// Fewest objects in a scene.
    pub min_objects: usize,
    /// Most objects in a scene (at most 6).
    pub max_objects: usize,
    /// Captions per scene (at most 16).
    pub captions_per_scene: usize,
}

impl Default for WorldConfig {
    fn default() -> Self {
        Self {
            image_size: 64,
            train: 4000,
            val: 500,
            test: 500,
            shift: 500,
            seed: 0,
            min_objects: 1,
            max_objects: 4,
            captions_per_scene: 5,
        }
    }
}

/// Most bytes of pixels one split of the world may hold.
pub const MAX_PIXEL_BYTES_PER_SPLIT: u128 = 64 << 30;

impl WorldConfig {
    /// A small world (for tests and quick looks): `n` scenes in train and `n / 4` (at least 2)
    /// in each other split.
    pub fn tiny(n: usize, seed: u64) -> Self {
        let m = (n / 4).max(2);
        Self {
            train: n,
            val: m,
            test: m,
            shift: m,
            seed,
            ..Self::default()
        }
    }

    /// Number of scenes of a split.
    pub fn count(&self, split: Split) -> usize {
        match split {
            Split::Train => self.train,
            Split::Val => self.val,
            Split::Test => self.test,
            Split::Shift => self.shift,
        }
    }

    /// Sets the number of scenes of a split.
    pub fn set_count(&mut self, split: Split, n: usize) {
        match split {
            Split::Train => self.train = n,
            Split::Val => self.val = n,
            Split::Test => self.test = n,
            Split::Shift => self.shift = n,
        }
    }

    /// Checks every field; the error names the field and the accepted range.
    pub fn validate(&self) -> Result<(), DataError> {
        let bad = |field: &str, expected: &str, found: String| DataError::InvalidConfig {
            field: field.to_string(),
            expected: expected.to_string(),
            found,
        };
        if !(16..=1024).contains(&self.image_size) {
            return Err(bad("image_size", "16..=1024", self.image_size.to_string()));
        }
        if self.min_objects == 0 || self.min_objects > self.max_objects {
            return Err(bad(
                "min_objects",
                "1..=max_objects",
                self.min_objects.to_string(),
            ));
        }
        if self.max_objects > 6 {
            return Err(bad("max_objects", "1..=6", self.max_objects.to_string()));
        }
        if !(1..=16).contains(&self.captions_per_scene) {
            return Err(bad(
                "captions_per_scene",
                "1..=16",
                self.captions_per_scene.to_string(),
            ));
        }
        for split in Split::ALL {
            // every scene is held in memory: bound the pixels before generating them
            let bytes = self.count(split) as u128 * (self.image_size as u128).pow(2) * 3;
            if bytes > MAX_PIXEL_BYTES_PER_SPLIT {
                return Err(bad(
                    split.as_str(),
                    "a split whose images fit in 64 GiB (scenes x image_size^2 x 3 bytes)",
                    format!("{} scenes ({bytes} bytes)", self.count(split)),
                ));
            }
            if self.count(split) >= MAX_SCENES_PER_SPLIT {
                return Err(bad(
                    split.as_str(),
                    "fewer than 10^9 scenes",
                    self.count(split).to_string(),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_json_may_be_partial() {
        WorldConfig::default().validate().unwrap();
        let cfg: WorldConfig = serde_json::from_str(r#"{"image_size": 32, "seed": 7}"#).unwrap();
        assert_eq!(cfg.image_size, 32);
        assert_eq!(cfg.seed, 7);
        assert_eq!(cfg.train, 4000);
    }

    #[test]
    fn invalid_fields_are_named() {
        let cfg = WorldConfig {
            image_size: 8,
            ..WorldConfig::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("image_size"), "{err}");
        let cfg = WorldConfig {
            max_objects: 9,
            ..WorldConfig::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("max_objects")
        );
    }
}
