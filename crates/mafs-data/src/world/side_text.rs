//! Side texts: partial, noisy, shuffled tag lists, the way web alt-text and user tags are.
//! Some true tags are dropped, a wrong tag or a generic web tag sometimes slips in.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::palette::{Colour, Shape};
use super::scene::Scene;

/// Probability that a true tag is dropped.
pub const DROP_PROB: f64 = 0.3;
/// Probability that one wrong (absent) colour, shape or object tag is added.
pub const WRONG_TAG_PROB: f64 = 0.25;
/// Probability that a generic web tag is added.
pub const WEB_TAG_PROB: f64 = 0.35;

const WEB_TAGS: [&str; 10] = [
    "image",
    "clipart",
    "graphic",
    "shapes",
    "art",
    "illustration",
    "jpg",
    "free",
    "download",
    "vector",
];

/// Writes the side text of a scene: for each object one tag among its colour, its shape or
/// both ("red circle"), sometimes its size or fill; the background texture half the time;
/// each true tag dropped with [`DROP_PROB`] (at least one is kept); then possibly a wrong tag
/// and a web tag; shuffled and joined with ", ".
pub fn side_text(rng: &mut impl Rng, scene: &Scene) -> String {
    let mut tags: Vec<String> = Vec::with_capacity(8);
    for o in &scene.objects {
        let t = match rng.random_range(0..4) {
            0 => o.colour.name().to_string(),
            1 => o.shape.name().to_string(),
            _ => format!("{} {}", o.colour.name(), o.shape.name()),
        };
        tags.push(t);
        if rng.random_bool(0.15) {
            tags.push(o.size.tag().to_string());
        }
        if !o.filled && rng.random_bool(0.2) {
            tags.push("outlined".to_string());
        }
    }
    if rng.random_bool(0.5) {
        tags.push(scene.background.texture.tag().to_string());
    }
    // Drop, keeping at least one true tag.
    let keep_one = rng.random_range(0..tags.len());
    let mut i = 0;
    tags.retain(|_| {
        let keep = i == keep_one || !rng.random_bool(DROP_PROB);
        i += 1;
        keep
    });
    if rng.random_bool(WRONG_TAG_PROB) {
        let wrong = loop {
            let c = *Colour::ALL.choose(rng).expect("colours");
            let s = *Shape::ALL.choose(rng).expect("shapes");
            match rng.random_range(0..3) {
                0 if scene.count_colour(c) == 0 => break c.name().to_string(),
                1 if scene.count_shape(s) == 0 => break s.name().to_string(),
                2 if !scene.has(c, s) => break format!("{} {}", c.name(), s.name()),
                _ => {}
            }
        };
        tags.push(wrong);
    }
    if rng.random_bool(WEB_TAG_PROB) {
        tags.push(WEB_TAGS.choose(rng).expect("web tags").to_string());
    }
    tags.shuffle(rng);
    tags.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::palette::{PaletteVariant, Texture};
    use crate::world::scene::sample_scene;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn side_texts_are_partial_noisy_and_never_empty() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (mut dropped, mut wrong, mut total) = (0, 0, 0);
        for _ in 0..500 {
            let sc = sample_scene(&mut rng, 64, 1, 4, PaletteVariant::Standard, &Texture::SEEN);
            let t = side_text(&mut rng, &sc);
            assert!(!t.is_empty());
            total += 1;
            let mentioned = sc
                .objects
                .iter()
                .filter(|o| t.contains(o.colour.name()) || t.contains(o.shape.name()))
                .count();
            if mentioned < sc.objects.len() {
                dropped += 1;
            }
            let has_wrong = t.split(", ").any(|tag| {
                Colour::ALL
                    .iter()
                    .any(|c| tag == c.name() && sc.count_colour(*c) == 0)
                    || Shape::ALL
                        .iter()
                        .any(|s| tag == s.name() && sc.count_shape(*s) == 0)
            });
            if has_wrong {
                wrong += 1;
            }
        }
        assert!(dropped > total / 10, "dropped {dropped}/{total}");
        assert!(
            wrong > total / 20 && wrong < total / 2,
            "wrong {wrong}/{total}"
        );
    }
}
