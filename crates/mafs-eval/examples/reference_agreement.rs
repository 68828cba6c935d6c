//! Prints how closely mafs-eval reproduces the committed reference values
//! (`datasets/fixtures/metrics/*_reference.json`, made by `scripts/metrics_reference.py`):
//! the largest absolute difference per metric over the corpus score and every per-item
//! score, and the tokenizer's exact-match count.
//!
//! `cargo run -p mafs-eval --example reference_agreement`

use std::path::PathBuf;

use mafs_eval::metrics::vqa::round_half_even;
use mafs_eval::metrics::{ImageSet, PtbTokenizer, evaluate_caption_files, evaluate_vqa_files};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/fixtures/metrics")
        .join(name)
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).expect("fixture")).expect("json")
}

fn main() {
    let reference = json("captions_reference.json");
    let m = evaluate_caption_files(
        &fixture("captions_results.json"),
        &fixture("captions_annotations.json"),
        ImageSet::AllAnnotated,
    )
    .expect("caption fixtures");
    let named = m.named();
    println!("captions: {} images (pycocoevalcap 1.2)", m.per_item.len());
    for name in ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "ROUGE_L", "CIDEr"] {
        let corpus = (named[name] - reference["corpus"][name].as_f64().unwrap()).abs();
        let per_item = m
            .per_item
            .iter()
            .map(|i| {
                let got = match name {
                    "Bleu_1" => i.bleu[0],
                    "Bleu_2" => i.bleu[1],
                    "Bleu_3" => i.bleu[2],
                    "Bleu_4" => i.bleu[3],
                    "ROUGE_L" => i.rouge_l,
                    _ => i.cider,
                };
                let want = reference["per_image"][i.image_id.to_string()][name]
                    .as_f64()
                    .unwrap();
                (got - want).abs()
            })
            .fold(0.0f64, f64::max);
        println!(
            "  {name:8} corpus {:.6} |diff| {corpus:.1e}, max per-image |diff| {per_item:.1e}",
            named[name]
        );
    }

    let cases = json("ptb_tokenizer_reference.json");
    let cases = cases["cases"].as_array().unwrap();
    let inputs: Vec<&str> = cases.iter().map(|c| c["input"].as_str().unwrap()).collect();
    let got = PtbTokenizer::new().tokenize_lines(&inputs);
    let same = cases
        .iter()
        .zip(&got)
        .filter(|(c, g)| c["output"].as_str().unwrap() == g.as_str())
        .count();
    println!(
        "tokenizer: {same} of {} lines identical to the Java PTBTokenizer",
        cases.len()
    );

    let reference = json("vqa_reference.json");
    let v = evaluate_vqa_files(
        &fixture("vqa_results.json"),
        &fixture("vqa_questions.json"),
        &fixture("vqa_annotations.json"),
    )
    .expect("vqa fixtures");
    let un = &reference["unrounded"];
    let mut max = (v.overall - un["overall"].as_f64().unwrap()).abs();
    for (key, got) in [
        ("perAnswerType", &v.per_answer_type),
        ("perQuestionType", &v.per_question_type),
    ] {
        for (t, g) in got {
            max = max.max((g - un[key][t].as_f64().unwrap()).abs());
        }
    }
    let per_q_same = v
        .per_question
        .iter()
        .filter(|(q, a)| {
            round_half_even(**a, 2) == reference["per_question"][q.to_string()].as_f64().unwrap()
        })
        .count();
    println!(
        "vqa: {} questions, overall {:.4} (official {}), max |diff| overall/per type {max:.1e}, \
         per-question accuracies identical: {per_q_same} of {}",
        v.n_questions,
        v.overall,
        reference["accuracy"]["overall"],
        v.per_question.len()
    );
}
