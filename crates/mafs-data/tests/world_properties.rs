//! Properties of the world for arbitrary seeds, indices and sizes: geometry inside the image,
//! captions and side texts naming real objects, answers consistent with the scene graph, and
//! word-tokenizer round trips of world text.

use mafs_data::Split;
use mafs_data::tokenizer::{EncodeOptions, WordTokenizer, WordTokenizerConfig};
use mafs_data::world::{World, WorldConfig};
use proptest::prelude::*;

fn split_of(k: u8) -> Split {
    Split::ALL[k as usize % 4]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn scenes_are_consistent(seed in any::<u64>(), index in 0usize..100_000, k in 0u8..4, size in 16u32..96) {
        let world = World::new(WorldConfig { image_size: size, seed, ..WorldConfig::default() }).unwrap();
        let split = split_of(k);
        let g = world.generate(split, index);
        let inst = &g.instance;
        prop_assert_eq!(inst.image.as_ref().unwrap().dimensions(), (size, size));
        prop_assert_eq!(inst.id, World::id(split, index));
        prop_assert!(!g.scene.objects.is_empty() && g.scene.objects.len() <= 4);
        for o in &g.scene.objects {
            prop_assert!(o.cx - o.r >= 0.0 && o.cx + o.r <= size as f32);
            prop_assert!(o.cy - o.r >= 0.0 && o.cy + o.r <= size as f32);
        }
        prop_assert_eq!(inst.captions.len(), 5);
        for c in &inst.captions {
            prop_assert!(g.scene.objects.iter().any(|o| c.contains(o.shape.name())), "{}", c);
        }
        prop_assert!(!inst.side_text.as_ref().unwrap().is_empty());
        for q in &inst.questions {
            prop_assert_eq!(q.answers.len(), 10);
            let agree = q.answers.iter().filter(|a| **a == q.answer).count();
            prop_assert!(agree >= 7);
            if q.question == "How many objects are there?" {
                prop_assert_eq!(&q.answer, &g.scene.objects.len().to_string());
            }
            if q.question_type == "exist" {
                let asked = g.scene.objects.iter().any(|o| {
                    q.question.contains(&format!("{} {}", o.colour.name(), o.shape.name()))
                        || q.question.contains(&format!("{} {}", o.colour.name(), o.shape.plural()))
                });
                prop_assert_eq!(asked, q.answer == "yes", "{}", q.question);
            }
        }
        prop_assert_eq!(world.scene(split, index), g.instance);
    }

    #[test]
    fn world_text_round_trips_through_the_word_tokenizer(seed in any::<u64>(), index in 0usize..1000) {
        let world = World::new(WorldConfig { seed, ..WorldConfig::tiny(8, seed) }).unwrap();
        let inst = world.scene(Split::Train, index);
        let tok = WordTokenizer::build(inst.captions.iter().map(String::as_str), &WordTokenizerConfig::default());
        for c in &inst.captions {
            let (ids, len) = tok.encode(c, 64, EncodeOptions { cls: true, bos: true, eos: true });
            prop_assert!(len < 64);
            prop_assert_eq!(tok.decode(&ids), c.to_lowercase());
        }
    }
}
