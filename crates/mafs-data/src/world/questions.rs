//! VQA questions of five types (colour, shape, count, existence, spatial relation), each with
//! ten human answers in the VQA v2 manner: mostly the true answer, a few near-synonyms
//! and a few mistakes, never more than three noisy answers, so the most frequent answer
//! (`multiple_choice_answer`) is the true one. Yes/no questions flip a fair coin first, so
//! "yes" and "no" are balanced.

use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};

use super::grammar::number_word;
use super::palette::{Colour, Shape};
use super::scene::{Relation, Scene};
use crate::Qa;

/// Human answers per question, as in VQA v2.
pub const ANSWERS_PER_QUESTION: usize = 10;

/// Question types, in the order questions are asked.
pub const QUESTION_TYPES: [&str; 5] = ["color", "shape", "count", "exist", "relation"];

/// A question before its human answers are drawn.
struct Draft {
    question: String,
    qtype: &'static str,
    answer_type: &'static str,
    answer: String,
    /// Near-synonyms an answerer may give.
    variants: Vec<String>,
    /// Plausible wrong answers.
    wrong: Vec<String>,
}

fn colour_draft(rng: &mut impl Rng, scene: &Scene) -> Option<Draft> {
    let unique: Vec<_> = scene
        .objects
        .iter()
        .filter(|o| scene.count_shape(o.shape) == 1)
        .collect();
    let o = *unique.choose(rng)?;
    let question = match rng.random_range(0..3) {
        0 => format!("What color is the {}?", o.shape.name()),
        1 => format!("What is the color of the {}?", o.shape.name()),
        _ => format!("Which color does the {} have?", o.shape.name()),
    };
    Some(Draft {
        question,
        qtype: "color",
        answer_type: "other",
        answer: o.colour.name().to_string(),
        variants: vec![o.colour.variant().to_string()],
        wrong: Colour::ALL
            .iter()
            .filter(|c| **c != o.colour)
            .map(|c| c.name().to_string())
            .collect(),
    })
}

fn shape_draft(rng: &mut impl Rng, scene: &Scene) -> Option<Draft> {
    let unique: Vec<_> = scene
        .objects
        .iter()
        .filter(|o| scene.count_colour(o.colour) == 1)
        .collect();
    let o = *unique.choose(rng)?;
    let question = match rng.random_range(0..2) {
        0 => format!("What shape is the {} object?", o.colour.name()),
        _ => format!("What is the shape of the {} object?", o.colour.name()),
    };
    Some(Draft {
        question,
        qtype: "shape",
        answer_type: "other",
        answer: o.shape.name().to_string(),
        variants: vec![o.shape.variant().to_string()],
        wrong: Shape::ALL
            .iter()
            .filter(|s| **s != o.shape)
            .map(|s| s.name().to_string())
            .collect(),
    })
}

/// A count question. Every count question the scene admits (all objects, each shape, each
/// colour) is a candidate; the answer is drawn uniformly from the distinct answers the
/// candidates have, then a candidate with that answer, so small counts do not dominate.
fn count_draft(rng: &mut impl Rng, scene: &Scene) -> Draft {
    /// What a count question counts.
    #[derive(Clone, Copy)]
    enum Counted {
        All,
        Shape(Shape),
        Colour(Colour),
    }
    let mut candidates: Vec<(Counted, usize)> = Vec::with_capacity(16);
    candidates.push((Counted::All, scene.objects.len()));
    candidates.extend(
        Shape::ALL
            .iter()
            .map(|s| (Counted::Shape(*s), scene.count_shape(*s))),
    );
    candidates.extend(
        Colour::ALL
            .iter()
            .map(|c| (Counted::Colour(*c), scene.count_colour(*c))),
    );
    let mut values: Vec<usize> = candidates.iter().map(|(_, n)| *n).collect();
    values.sort_unstable();
    values.dedup();
    let target = *values.choose(rng).expect("at least one candidate");
    let matching: Vec<Counted> = candidates
        .iter()
        .filter(|(_, n)| *n == target)
        .map(|(c, _)| *c)
        .collect();
    let n = target;
    let question = match *matching.choose(rng).expect("target comes from a candidate") {
        Counted::All => "How many objects are there?".to_string(),
        Counted::Shape(s) => format!("How many {} are there?", s.plural()),
        Counted::Colour(c) => format!("How many {} objects are there?", c.name()),
    };
    let mut wrong = vec![(n + 1).to_string()];
    if n > 0 {
        wrong.push((n - 1).to_string());
    }
    Draft {
        question,
        qtype: "count",
        answer_type: "number",
        answer: n.to_string(),
        variants: vec![number_word(n)],
        wrong,
    }
}

fn yes_no(answer: bool) -> (String, Vec<String>) {
    let (a, w) = if answer { ("yes", "no") } else { ("no", "yes") };
    (a.to_string(), vec![w.to_string()])
}

fn exist_draft(rng: &mut impl Rng, scene: &Scene) -> Draft {
    let truth = rng.random_bool(0.5);
    let (colour, shape) = if truth {
        let o = scene.objects.choose(rng).expect("non-empty scene");
        (o.colour, o.shape)
    } else {
        loop {
            // Half the time a near miss: a present shape in an absent colour.
            let shape = if rng.random_bool(0.5) {
                scene.objects.choose(rng).expect("non-empty scene").shape
            } else {
                *Shape::ALL.choose(rng).expect("shapes")
            };
            let colour = *Colour::ALL.choose(rng).expect("colours");
            if !scene.has(colour, shape) {
                break (colour, shape);
            }
        }
    };
    let question = if rng.random_bool(0.5) {
        format!("Is there a {} {}?", colour.name(), shape.name())
    } else {
        format!("Are there any {} {}?", colour.name(), shape.plural())
    };
    let (answer, wrong) = yes_no(truth);
    Draft {
        question,
        qtype: "exist",
        answer_type: "yes/no",
        answer,
        variants: vec![],
        wrong,
    }
}

fn relation_words(r: Relation) -> &'static str {
    match r {
        Relation::Left => "to the left of",
        Relation::Right => "to the right of",
        Relation::Above => "above",
        Relation::Below => "below",
    }
}

fn relation_draft(rng: &mut impl Rng, scene: &Scene) -> Option<Draft> {
    let n = scene.objects.len();
    if n < 2 {
        return None;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    let (a, b) = (&scene.objects[idx[0]], &scene.objects[idx[1]]);
    let rel = a.relation_to(b);
    let na = format!("{} {}", a.colour.name(), a.shape.name());
    let nb = format!("{} {}", b.colour.name(), b.shape.name());
    if rng.random_bool(0.5) {
        let truth = rng.random_bool(0.5);
        let asked = if truth { rel } else { rel.opposite() };
        let (answer, wrong) = yes_no(truth);
        Some(Draft {
            question: format!("Is the {na} {} the {nb}?", relation_words(asked)),
            qtype: "relation",
            answer_type: "yes/no",
            answer,
            variants: vec![],
            wrong,
        })
    } else {
        let question = if rel.is_horizontal() {
            format!("Is the {na} to the left or to the right of the {nb}?")
        } else {
            format!("Is the {na} above or below the {nb}?")
        };
        let variant = match rel {
            Relation::Left => "on the left",
            Relation::Right => "on the right",
            Relation::Above => "on top",
            Relation::Below => "underneath",
        };
        Some(Draft {
            question,
            qtype: "relation",
            answer_type: "other",
            answer: rel.word().to_string(),
            variants: vec![variant.to_string()],
            wrong: vec![rel.opposite().word().to_string()],
        })
    }
}

/// Draws the ten human answers of a draft: 0-3 noisy answers (weights 4:3:2:1), each a
/// near-synonym (when the answer has one) or a plausible mistake, at random positions.
fn human_answers(rng: &mut impl Rng, d: &Draft) -> Vec<String> {
    let mut answers = vec![d.answer.clone(); ANSWERS_PER_QUESTION];
    let noisy = *[0usize, 0, 0, 0, 1, 1, 1, 2, 2, 3]
        .choose(rng)
        .expect("weights");
    let mut pos: Vec<usize> = (0..ANSWERS_PER_QUESTION).collect();
    pos.shuffle(rng);
    for &p in &pos[..noisy] {
        let use_variant = !d.variants.is_empty() && rng.random_bool(0.5);
        let pool = if use_variant { &d.variants } else { &d.wrong };
        if let Some(a) = pool.choose(rng) {
            answers[p] = a.clone();
        }
    }
    answers
}

/// Writes the questions of a scene: one of each type that applies (a colour question needs
/// an object with a unique shape, a shape question one with a unique colour, a relation
/// question two objects). Question ids are `id * 16 + k`.
pub fn questions(rng: &mut impl Rng, scene: &Scene, id: u64) -> Vec<Qa> {
    let drafts = [
        colour_draft(rng, scene),
        shape_draft(rng, scene),
        Some(count_draft(rng, scene)),
        Some(exist_draft(rng, scene)),
        relation_draft(rng, scene),
    ];
    drafts
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(k, d)| {
            let answers = human_answers(rng, &d);
            Qa {
                question_id: id * 16 + k as u64,
                question: d.question,
                question_type: d.qtype.to_string(),
                answer_type: d.answer_type.to_string(),
                answers,
                answer: d.answer,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::palette::{PaletteVariant, Texture};
    use crate::world::scene::sample_scene;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn answers_are_true_and_the_majority() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for i in 0..300 {
            let sc = sample_scene(&mut rng, 64, 1, 4, PaletteVariant::Standard, &Texture::SEEN);
            let qs = questions(&mut rng, &sc, i);
            assert!(qs.len() >= 3);
            for q in &qs {
                assert_eq!(q.answers.len(), ANSWERS_PER_QUESTION);
                let agree = q.answers.iter().filter(|a| **a == q.answer).count();
                assert!(agree >= 7, "{q:?}");
                match q.question_type.as_str() {
                    "count" if q.question == "How many objects are there?" => {
                        assert_eq!(q.answer, sc.objects.len().to_string())
                    }
                    "color" => {
                        let o = sc
                            .objects
                            .iter()
                            .find(|o| q.question.contains(o.shape.name()))
                            .unwrap();
                        assert_eq!(q.answer, o.colour.name());
                    }
                    "exist" => assert!(q.answer == "yes" || q.answer == "no"),
                    _ => {}
                }
            }
            if sc.objects.len() >= 2 {
                assert!(qs.iter().any(|q| q.question_type == "relation"));
            }
        }
    }

    #[test]
    fn relation_answers_follow_geometry() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for i in 0..200 {
            let sc = sample_scene(&mut rng, 64, 2, 2, PaletteVariant::Standard, &Texture::SEEN);
            let q = questions(&mut rng, &sc, i)
                .into_iter()
                .find(|q| q.question_type == "relation")
                .unwrap();
            let (a, b) = (&sc.objects[0], &sc.objects[1]);
            let name = |o: &crate::world::scene::Object| {
                format!("the {} {}", o.colour.name(), o.shape.name())
            };
            let (first, second) = if q.question.find(&name(a)) < q.question.find(&name(b)) {
                (a, b)
            } else {
                (b, a)
            };
            let rel = first.relation_to(second);
            if q.answer_type == "other" {
                assert_eq!(q.answer, rel.word(), "{}", q.question);
            } else {
                let asked = q.question.contains(relation_words(rel));
                assert_eq!(q.answer == "yes", asked, "{}", q.question);
            }
        }
    }
}
