//! The caption grammar: noun phrases with optional size and fill words, lists, spatial
//! relations with synonyms, and caption templates. Train, val and test captions use
//! [`SEEN_TEMPLATES`]; the shift split uses [`UNSEEN_TEMPLATES`], whose framing words never
//! occur in training captions, while the concept words (colours, shapes, sizes, relations)
//! stay the same.

use rand::Rng;
use rand::seq::IndexedRandom;

use super::scene::{Object, Relation, Scene};

/// Caption templates of train, val and test.
pub const SEEN_TEMPLATES: [usize; 6] = [0, 1, 2, 3, 4, 5];
/// Caption templates of the shift split.
pub const UNSEEN_TEMPLATES: [usize; 4] = [6, 7, 8, 9];

const NUMBERS: [&str; 7] = ["zero", "one", "two", "three", "four", "five", "six"];

/// The number word for `n` (digits beyond six).
pub fn number_word(n: usize) -> String {
    NUMBERS
        .get(n)
        .map(|s| s.to_string())
        .unwrap_or_else(|| n.to_string())
}

fn pick<'a>(rng: &mut impl Rng, words: &[&'a str]) -> &'a str {
    words.choose(rng).copied().expect("non-empty word list")
}

fn article(next: &str) -> &'static str {
    match next.as_bytes().first() {
        Some(b'a' | b'e' | b'i' | b'o' | b'u') => "an",
        _ => "a",
    }
}

/// A noun phrase for an object: `[size] [fill] colour shape`, with size words half the time
/// and fill words some of the time. `definite` gives "the ...", otherwise "a"/"an".
pub fn noun_phrase(rng: &mut impl Rng, o: &Object, definite: bool) -> String {
    let mut words: Vec<&str> = Vec::with_capacity(5);
    if rng.random_bool(0.5) {
        words.push(pick(rng, o.size.words()));
    }
    if !o.filled && rng.random_bool(0.5) {
        words.push(pick(rng, &["outlined", "hollow"]));
    } else if o.filled && rng.random_bool(0.15) {
        words.push(pick(rng, &["solid", "filled"]));
    }
    words.push(o.colour.name());
    words.push(o.shape.name());
    let det = if definite { "the" } else { article(words[0]) };
    let mut s = String::with_capacity(32);
    s.push_str(det);
    for w in words {
        s.push(' ');
        s.push_str(w);
    }
    s
}

/// "x", "x and y", "x, y and z".
fn join_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        n => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn object_list(rng: &mut impl Rng, scene: &Scene) -> String {
    let mut order: Vec<usize> = (0..scene.objects.len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
    let nps: Vec<String> = order
        .iter()
        .map(|&i| noun_phrase(rng, &scene.objects[i], false))
        .collect();
    join_list(&nps)
}

/// A relation phrase that is true of `a` relative to `b`: the dominant direction, or "next to"
/// (with synonyms) for close pairs.
pub fn relation_phrase(rng: &mut impl Rng, a: &Object, b: &Object) -> &'static str {
    if a.is_next_to(b) && rng.random_bool(0.3) {
        return pick(rng, &["next to", "beside", "near"]);
    }
    match a.relation_to(b) {
        Relation::Left => pick(rng, &["to the left of", "left of"]),
        Relation::Right => pick(rng, &["to the right of", "right of"]),
        Relation::Above => pick(rng, &["above", "over"]),
        Relation::Below => pick(rng, &["below", "under", "beneath"]),
    }
}

fn pair(rng: &mut impl Rng, scene: &Scene) -> Option<(usize, usize)> {
    let n = scene.objects.len();
    if n < 2 {
        return None;
    }
    let a = rng.random_range(0..n);
    let mut b = rng.random_range(0..n - 1);
    if b >= a {
        b += 1;
    }
    Some((a, b))
}

fn capitalise(mut s: String) -> String {
    if let Some(c) = s.get(0..1) {
        let up = c.to_ascii_uppercase();
        s.replace_range(0..1, &up);
    }
    s
}

fn texture_word(rng: &mut impl Rng, scene: &Scene) -> &'static str {
    pick(rng, scene.background.texture.words())
}

/// Writes a caption of the scene with template `template` (see [`SEEN_TEMPLATES`] and
/// [`UNSEEN_TEMPLATES`]). Relation templates fall back to a list for one-object scenes.
///
/// # Panics
///
/// Panics on a template id above 9.
pub fn caption(rng: &mut impl Rng, scene: &Scene, template: usize) -> String {
    let n = scene.objects.len();
    let noun = |rng: &mut _| pick(rng, &["objects", "shapes"]);
    let body = match template {
        0 => format!(
            "{} of {}",
            pick(rng, &["a picture", "an image", "a drawing", "a photo"]),
            object_list(rng, scene)
        ),
        1 => {
            let list = object_list(rng, scene);
            format!("{list} on a {} background", texture_word(rng, scene))
        }
        2 => {
            if n == 1 {
                format!(
                    "one {}: {}",
                    pick(rng, &["object", "shape"]),
                    object_list(rng, scene)
                )
            } else {
                let w = number_word(n);
                format!("{w} {}: {}", noun(rng), object_list(rng, scene))
            }
        }
        3 => match pair(rng, scene) {
            Some((a, b)) => {
                let (oa, ob) = (&scene.objects[a], &scene.objects[b]);
                let na = noun_phrase(rng, oa, false);
                let rel = relation_phrase(rng, oa, ob);
                let nb = noun_phrase(rng, ob, false);
                format!("{na} {rel} {nb}")
            }
            None => format!("{} alone", noun_phrase(rng, &scene.objects[0], false)),
        },
        4 => {
            let verb = if n == 1 { "is" } else { "are" };
            let list = object_list(rng, scene);
            format!(
                "there {verb} {list} in the {}",
                pick(rng, &["picture", "image"])
            )
        }
        5 => match pair(rng, scene) {
            Some((a, b)) => {
                let (oa, ob) = (&scene.objects[a], &scene.objects[b]);
                let na = noun_phrase(rng, oa, true);
                let rel = relation_phrase(rng, oa, ob);
                let nb = noun_phrase(rng, ob, true);
                format!("{na} is {rel} {nb}")
            }
            None => format!(
                "{} is in the {}",
                noun_phrase(rng, &scene.objects[0], true),
                pick(rng, &["picture", "image"])
            ),
        },
        6 => format!("{} can be seen here", object_list(rng, scene)),
        7 => format!("this scene contains {}", object_list(rng, scene)),
        8 => match pair(rng, scene) {
            Some((a, b)) => {
                let (oa, ob) = (&scene.objects[a], &scene.objects[b]);
                let na = noun_phrase(rng, oa, false);
                let rel = relation_phrase(rng, oa, ob);
                let nb = noun_phrase(rng, ob, false);
                format!("we see {na} placed {rel} {nb}")
            }
            None => format!("we see {}", noun_phrase(rng, &scene.objects[0], false)),
        },
        9 => format!("shown: {}", object_list(rng, scene)),
        other => panic!("caption template {other} does not exist (0..=9)"),
    };
    let mut s = capitalise(body);
    s.push('.');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::palette::{PaletteVariant, Texture};
    use crate::world::scene::sample_scene;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn captions_name_every_listed_object_and_relations_are_true() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..100 {
            let sc = sample_scene(&mut rng, 64, 2, 4, PaletteVariant::Standard, &Texture::SEEN);
            let c = caption(&mut rng, &sc, 0);
            for o in &sc.objects {
                assert!(
                    c.contains(o.shape.name()) && c.contains(o.colour.name()),
                    "{c}"
                );
            }
            assert!(c.starts_with('A') && c.ends_with('.'), "{c}");
            let c = caption(&mut rng, &sc, 5);
            assert!(c.starts_with("The "), "{c}");
        }
    }

    #[test]
    fn articles_agree() {
        assert_eq!(article("orange"), "an");
        assert_eq!(article("red"), "a");
        assert_eq!(
            join_list(&["x".into(), "y".into(), "z".into()]),
            "x, y and z"
        );
        assert_eq!(number_word(3), "three");
    }

    #[test]
    fn shift_templates_use_framing_words_training_never_uses() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut seen = std::collections::HashSet::new();
        let mut unseen = std::collections::HashSet::new();
        for _ in 0..300 {
            let sc = sample_scene(&mut rng, 64, 1, 4, PaletteVariant::Standard, &Texture::SEEN);
            for t in SEEN_TEMPLATES {
                for w in caption(&mut rng, &sc, t).split_whitespace() {
                    seen.insert(
                        w.trim_matches(|c: char| !c.is_alphanumeric())
                            .to_lowercase(),
                    );
                }
            }
            for t in UNSEEN_TEMPLATES {
                for w in caption(&mut rng, &sc, t).split_whitespace() {
                    unseen.insert(
                        w.trim_matches(|c: char| !c.is_alphanumeric())
                            .to_lowercase(),
                    );
                }
            }
        }
        for w in [
            "can", "seen", "here", "scene", "contains", "we", "see", "placed", "shown",
        ] {
            assert!(unseen.contains(w) && !seen.contains(w), "{w}");
        }
        for w in ["red", "circle", "left", "above", "beside"] {
            assert!(seen.contains(w) && unseen.contains(w), "{w}");
        }
    }
}
