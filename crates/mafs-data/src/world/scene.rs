//! The scene graph: objects, their geometry and the background, sampled from a seeded RNG.

use rand::Rng;
use rand::seq::IndexedRandom;
use serde::{Deserialize, Serialize};

use super::palette::{COLOUR_JITTER, Colour, PaletteVariant, Shape, Size, Texture};

/// One object of a scene. Within a scene every (colour, shape) pair is unique, so "the red
/// circle" always names one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// Shape.
    pub shape: Shape,
    /// Colour name.
    pub colour: Colour,
    /// Size class.
    pub size: Size,
    /// Filled (`true`) or outlined.
    pub filled: bool,
    /// Centre, x in pixels.
    pub cx: f32,
    /// Centre, y in pixels (down).
    pub cy: f32,
    /// Radius in pixels.
    pub r: f32,
    /// The rendered RGB (palette shade plus jitter).
    pub rgb: [u8; 3],
}

/// Where one object lies relative to another (its dominant axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Smaller x.
    Left,
    /// Larger x.
    Right,
    /// Smaller y.
    Above,
    /// Larger y.
    Below,
}

impl Relation {
    /// The opposite relation.
    pub fn opposite(self) -> Relation {
        match self {
            Relation::Left => Relation::Right,
            Relation::Right => Relation::Left,
            Relation::Above => Relation::Below,
            Relation::Below => Relation::Above,
        }
    }

    /// The one-word answer (`left`, `right`, `above`, `below`).
    pub fn word(self) -> &'static str {
        match self {
            Relation::Left => "left",
            Relation::Right => "right",
            Relation::Above => "above",
            Relation::Below => "below",
        }
    }

    /// Whether the relation is horizontal.
    pub fn is_horizontal(self) -> bool {
        matches!(self, Relation::Left | Relation::Right)
    }
}

impl Object {
    /// Dominant relation of `self` with respect to `other`: the axis with the larger centre
    /// displacement decides (objects never overlap, so it is never ambiguous).
    pub fn relation_to(&self, other: &Object) -> Relation {
        let dx = self.cx - other.cx;
        let dy = self.cy - other.cy;
        if dx.abs() >= dy.abs() {
            if dx < 0.0 {
                Relation::Left
            } else {
                Relation::Right
            }
        } else if dy < 0.0 {
            Relation::Above
        } else {
            Relation::Below
        }
    }

    /// Whether two objects are close enough for "next to".
    pub fn is_next_to(&self, other: &Object) -> bool {
        let d = ((self.cx - other.cx).powi(2) + (self.cy - other.cy).powi(2)).sqrt();
        d <= 1.6 * (self.r + other.r)
    }
}

/// The background.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Background {
    /// Texture.
    pub texture: Texture,
    /// Main tone.
    pub tone: [u8; 3],
    /// Second tone of the pattern.
    pub tone2: [u8; 3],
    /// Pattern period in pixels.
    pub period: u32,
    /// Seed of the noise texture.
    pub noise_seed: u64,
}

/// A sampled scene before rendering and captioning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// Image side in pixels.
    pub size: u32,
    /// The objects (1-4 by default).
    pub objects: Vec<Object>,
    /// The background.
    pub background: Background,
    /// The shades the objects were drawn with.
    pub palette: PaletteVariant,
}

impl Scene {
    /// Whether an object of this colour and shape is in the scene.
    pub fn has(&self, colour: Colour, shape: Shape) -> bool {
        self.objects
            .iter()
            .any(|o| o.colour == colour && o.shape == shape)
    }

    /// Number of objects with this shape.
    pub fn count_shape(&self, shape: Shape) -> usize {
        self.objects.iter().filter(|o| o.shape == shape).count()
    }

    /// Number of objects with this colour.
    pub fn count_colour(&self, colour: Colour) -> usize {
        self.objects.iter().filter(|o| o.colour == colour).count()
    }
}

fn jitter(rng: &mut impl Rng, c: u8) -> u8 {
    (c as i16 + rng.random_range(-COLOUR_JITTER..=COLOUR_JITTER)).clamp(0, 255) as u8
}

/// Samples a scene: the number of objects uniformly in `min_objects..=max_objects`, each
/// object's attributes uniformly, positions by rejection so that objects do not overlap
/// (an object that finds no free place after 64 tries is dropped).
pub fn sample_scene(
    rng: &mut impl Rng,
    size: u32,
    min_objects: usize,
    max_objects: usize,
    palette: PaletteVariant,
    textures: &[Texture],
) -> Scene {
    let s = size as f32;
    let n = rng.random_range(min_objects..=max_objects);
    let mut objects: Vec<Object> = Vec::with_capacity(n);
    for _ in 0..n {
        let (colour, shape) = loop {
            let c = *Colour::ALL.choose(rng).expect("colours");
            let sh = *Shape::ALL.choose(rng).expect("shapes");
            if !objects.iter().any(|o| o.colour == c && o.shape == sh) {
                break (c, sh);
            }
        };
        let size_class = if rng.random_bool(0.5) {
            Size::Small
        } else {
            Size::Large
        };
        let filled = rng.random_bool(0.6);
        let r = size_class.radius_fraction() * s;
        let base = palette.rgb(colour);
        let rgb = [
            jitter(rng, base[0]),
            jitter(rng, base[1]),
            jitter(rng, base[2]),
        ];
        let lo = r + 1.0;
        let hi = s - r - 1.0;
        let mut placed = None;
        for _ in 0..64 {
            let cx = rng.random_range(lo..hi);
            let cy = rng.random_range(lo..hi);
            let free = objects.iter().all(|o| {
                let d2 = (o.cx - cx).powi(2) + (o.cy - cy).powi(2);
                let min = o.r + r + 2.0;
                d2 >= min * min
            });
            if free {
                placed = Some((cx, cy));
                break;
            }
        }
        if let Some((cx, cy)) = placed {
            objects.push(Object {
                shape,
                colour,
                size: size_class,
                filled,
                cx,
                cy,
                r,
                rgb,
            });
        }
    }
    let texture = *textures.choose(rng).expect("at least one texture");
    let light = rng.random_bool(0.5);
    let g: u8 = if light {
        rng.random_range(150..=215)
    } else {
        rng.random_range(35..=95)
    };
    let tint = [
        rng.random_range(-8i16..=8),
        rng.random_range(-8i16..=8),
        rng.random_range(-8i16..=8),
    ];
    let tone = [0, 1, 2].map(|i| (g as i16 + tint[i]).clamp(0, 255) as u8);
    let delta: i16 = if light { -30 } else { 30 };
    let tone2 = tone.map(|c| (c as i16 + delta).clamp(0, 255) as u8);
    let period = ((s / 64.0) * rng.random_range(4.0f32..9.0))
        .round()
        .max(2.0) as u32;
    let background = Background {
        texture,
        tone,
        tone2,
        period,
        noise_seed: rng.random(),
    };
    Scene {
        size,
        objects,
        background,
        palette,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn objects_fit_do_not_overlap_and_are_unique() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let sc = sample_scene(&mut rng, 64, 1, 4, PaletteVariant::Standard, &Texture::SEEN);
            assert!(!sc.objects.is_empty() && sc.objects.len() <= 4);
            for (i, a) in sc.objects.iter().enumerate() {
                assert!(a.cx - a.r >= 0.0 && a.cx + a.r <= 64.0);
                assert!(a.cy - a.r >= 0.0 && a.cy + a.r <= 64.0);
                for b in &sc.objects[i + 1..] {
                    let d = ((a.cx - b.cx).powi(2) + (a.cy - b.cy).powi(2)).sqrt();
                    assert!(d >= a.r + b.r);
                    assert!(!(a.colour == b.colour && a.shape == b.shape));
                    assert_eq!(a.relation_to(b), b.relation_to(a).opposite());
                }
            }
        }
    }
}
