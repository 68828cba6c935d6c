//! Caption metrics against pycocoevalcap's values on the committed fixtures
//! (`scripts/metrics_reference.py`): BLEU and ROUGE-L within 1e-6, CIDEr-D within 1e-4,
//! corpus and per image.

mod common;

use mafs_eval::metrics::{ImageSet, evaluate_caption_files};

const NAMES: [&str; 6] = ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"];

fn tolerance(name: &str) -> f64 {
    if name == "CIDEr" { 1e-4 } else { 1e-6 }
}

#[test]
fn corpus_and_per_image_scores_match_pycocoevalcap() {
    let reference = common::json("captions_reference.json");
    let m = evaluate_caption_files(
        &common::fixture("captions_results.json"),
        &common::fixture("captions_annotations.json"),
        ImageSet::AllAnnotated,
    )
    .expect("fixtures evaluate");
    let named = m.named();
    for name in NAMES {
        let want = reference["corpus"][name].as_f64().unwrap();
        let got = named[name];
        assert!(
            (got - want).abs() <= tolerance(name),
            "{name}: rust {got} vs pycocoevalcap {want}"
        );
    }
    let per_image = reference["per_image"].as_object().unwrap();
    assert_eq!(m.per_item.len(), per_image.len());
    for item in &m.per_item {
        let want = &per_image[&item.image_id.to_string()];
        let got = [
            ("Bleu_1", item.bleu[0]),
            ("Bleu_2", item.bleu[1]),
            ("Bleu_3", item.bleu[2]),
            ("Bleu_4", item.bleu[3]),
            ("ROUGE_L", item.rouge_l),
            ("CIDEr", item.cider),
        ];
        for (name, g) in got {
            let w = want[name].as_f64().unwrap();
            assert!(
                (g - w).abs() <= tolerance(name),
                "image {}: {name}: rust {g} vs pycocoevalcap {w}",
                item.image_id
            );
        }
    }
}

#[test]
fn tokenised_captions_match_pycocoevalcap() {
    // COCOEvalCap tokenises results and references as two files, in image order.
    let reference = common::json("captions_reference.json");
    let tok = mafs_eval::metrics::PtbTokenizer::new();
    let ann = common::json("captions_annotations.json");
    let res = common::json("captions_results.json");
    let tokenized = reference["tokenized"].as_object().unwrap();
    let order: Vec<String> = ann["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|im| im["id"].to_string())
        .collect();
    let cand_of = |id: &str| {
        res.as_array()
            .unwrap()
            .iter()
            .find(|r| r["image_id"].to_string().as_str() == id)
            .map(|r| r["caption"].as_str().unwrap())
            .unwrap()
    };
    let cands: Vec<&str> = order.iter().map(|id| cand_of(id)).collect();
    for (id, got) in order.iter().zip(tok.tokenize_lines(&cands)) {
        assert_eq!(
            got,
            tokenized[id]["candidate"].as_str().unwrap(),
            "image {id}"
        );
    }
    let mut refs: Vec<&str> = Vec::new();
    let mut owner: Vec<&str> = Vec::new();
    for id in &order {
        for a in ann["annotations"].as_array().unwrap() {
            if a["image_id"].to_string().as_str() == id.as_str() {
                refs.push(a["caption"].as_str().unwrap());
                owner.push(id);
            }
        }
    }
    let got = tok.tokenize_lines(&refs);
    let mut k = 0;
    for id in &order {
        let want = tokenized[id]["references"].as_array().unwrap();
        for w in want {
            assert_eq!(got[k], w.as_str().unwrap(), "image {id}, reference {k}");
            assert_eq!(owner[k], id.as_str());
            k += 1;
        }
    }
    assert_eq!(k, refs.len());
}
