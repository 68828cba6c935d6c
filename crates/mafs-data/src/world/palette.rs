//! Colours, shapes, sizes and background textures of the world, with the names captions,
//! tags and answers use. The shift split draws its object colours from held-out shades
//! ([`PaletteVariant::Shifted`]) and its backgrounds from textures training never sees.

use serde::{Deserialize, Serialize};

/// Per-channel jitter (±) added to an object's palette colour.
pub const COLOUR_JITTER: i16 = 10;

/// The eight object colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    /// red
    Red,
    /// green
    Green,
    /// blue
    Blue,
    /// yellow
    Yellow,
    /// purple
    Purple,
    /// orange
    Orange,
    /// pink
    Pink,
    /// cyan
    Cyan,
}

impl Colour {
    /// All colours.
    pub const ALL: [Colour; 8] = [
        Colour::Red,
        Colour::Green,
        Colour::Blue,
        Colour::Yellow,
        Colour::Purple,
        Colour::Orange,
        Colour::Pink,
        Colour::Cyan,
    ];

    /// The colour word.
    pub fn name(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Yellow => "yellow",
            Colour::Purple => "purple",
            Colour::Orange => "orange",
            Colour::Pink => "pink",
            Colour::Cyan => "cyan",
        }
    }

    /// A near-synonym some human answerers give instead.
    pub fn variant(self) -> &'static str {
        match self {
            Colour::Red => "crimson",
            Colour::Green => "dark green",
            Colour::Blue => "navy",
            Colour::Yellow => "gold",
            Colour::Purple => "violet",
            Colour::Orange => "dark orange",
            Colour::Pink => "magenta",
            Colour::Cyan => "turquoise",
        }
    }
}

/// Which shades the colours are rendered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaletteVariant {
    /// Train, val and test.
    Standard,
    /// The shift split's held-out shades (same colour names, different RGB).
    Shifted,
}

impl PaletteVariant {
    /// Base RGB of a colour in this variant.
    pub fn rgb(self, c: Colour) -> [u8; 3] {
        match self {
            PaletteVariant::Standard => match c {
                Colour::Red => [220, 40, 40],
                Colour::Green => [40, 180, 60],
                Colour::Blue => [40, 80, 220],
                Colour::Yellow => [235, 215, 40],
                Colour::Purple => [140, 50, 190],
                Colour::Orange => [245, 140, 30],
                Colour::Pink => [245, 120, 190],
                Colour::Cyan => [40, 210, 220],
            },
            PaletteVariant::Shifted => match c {
                Colour::Red => [160, 20, 50],
                Colour::Green => [120, 200, 40],
                Colour::Blue => [30, 40, 140],
                Colour::Yellow => [190, 170, 60],
                Colour::Purple => [190, 110, 230],
                Colour::Orange => [200, 90, 20],
                Colour::Pink => [200, 60, 130],
                Colour::Cyan => [20, 140, 150],
            },
        }
    }
}

/// The seven shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    /// circle
    Circle,
    /// square
    Square,
    /// triangle (pointing up)
    Triangle,
    /// diamond
    Diamond,
    /// five-pointed star
    Star,
    /// cross (plus sign)
    Cross,
    /// hexagon
    Hexagon,
}

impl Shape {
    /// All shapes.
    pub const ALL: [Shape; 7] = [
        Shape::Circle,
        Shape::Square,
        Shape::Triangle,
        Shape::Diamond,
        Shape::Star,
        Shape::Cross,
        Shape::Hexagon,
    ];

    /// The shape word.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Diamond => "diamond",
            Shape::Star => "star",
            Shape::Cross => "cross",
            Shape::Hexagon => "hexagon",
        }
    }

    /// The plural.
    pub fn plural(self) -> &'static str {
        match self {
            Shape::Circle => "circles",
            Shape::Square => "squares",
            Shape::Triangle => "triangles",
            Shape::Diamond => "diamonds",
            Shape::Star => "stars",
            Shape::Cross => "crosses",
            Shape::Hexagon => "hexagons",
        }
    }

    /// A near-synonym some human answerers give instead.
    pub fn variant(self) -> &'static str {
        match self {
            Shape::Circle => "round",
            Shape::Square => "rectangle",
            Shape::Triangle => "triangles",
            Shape::Diamond => "rhombus",
            Shape::Star => "stars",
            Shape::Cross => "plus",
            Shape::Hexagon => "hexagons",
        }
    }
}

/// The two object sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    /// Radius 9% of the image side.
    Small,
    /// Radius 15.5% of the image side.
    Large,
}

impl Size {
    /// Radius as a fraction of the image side.
    pub fn radius_fraction(self) -> f32 {
        match self {
            Size::Small => 0.09,
            Size::Large => 0.155,
        }
    }

    /// Caption words for this size.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Size::Small => &["small", "little", "tiny"],
            Size::Large => &["big", "large"],
        }
    }

    /// The canonical tag.
    pub fn tag(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Large => "big",
        }
    }
}

/// Background textures. The first five appear in train/val/test, the last three only in the
/// shift split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Texture {
    /// One flat tone.
    Plain,
    /// Horizontal stripes.
    Stripes,
    /// A checkerboard.
    Checks,
    /// A grid of dots.
    Dots,
    /// Per-pixel grey noise.
    Noise,
    /// Diagonal stripes (shift only).
    Diagonal,
    /// A thin line grid (shift only).
    Grid,
    /// Concentric rings (shift only).
    Rings,
}

impl Texture {
    /// Textures of train, val and test.
    pub const SEEN: [Texture; 5] = [
        Texture::Plain,
        Texture::Stripes,
        Texture::Checks,
        Texture::Dots,
        Texture::Noise,
    ];
    /// Textures of the shift split.
    pub const UNSEEN: [Texture; 3] = [Texture::Diagonal, Texture::Grid, Texture::Rings];

    /// Caption words for this texture. Unseen textures are described with `patterned`,
    /// a word training captions also use, so the shift split adds no new concept word.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Texture::Plain => &["plain"],
            Texture::Stripes => &["striped", "patterned"],
            Texture::Checks => &["checkered", "patterned"],
            Texture::Dots => &["dotted", "spotted"],
            Texture::Noise => &["noisy", "grainy"],
            Texture::Diagonal | Texture::Grid | Texture::Rings => &["patterned"],
        }
    }

    /// The side-text tag.
    pub fn tag(self) -> &'static str {
        self.words()[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linf(a: [u8; 3], b: [u8; 3]) -> i16 {
        (0..3)
            .map(|i| (a[i] as i16 - b[i] as i16).abs())
            .max()
            .unwrap()
    }

    #[test]
    fn shifted_shades_are_outside_every_jittered_standard_shade() {
        for s in Colour::ALL {
            for t in Colour::ALL {
                let d = linf(
                    PaletteVariant::Shifted.rgb(s),
                    PaletteVariant::Standard.rgb(t),
                );
                assert!(d > 2 * COLOUR_JITTER, "{s:?} shifted vs {t:?}: {d}");
            }
        }
    }

    #[test]
    fn standard_colours_are_distinct() {
        for (i, a) in Colour::ALL.iter().enumerate() {
            for b in &Colour::ALL[i + 1..] {
                let p = PaletteVariant::Standard;
                assert!(linf(p.rgb(*a), p.rgb(*b)) > 2 * COLOUR_JITTER);
            }
        }
    }
}
