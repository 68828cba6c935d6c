//! The Rust PTB tokenizer against the Java one (pycocoevalcap's PTBTokenizer: CoreNLP 3.4.1
//! with -lowerCase, then punctuation removal) on every committed case.

mod common;

use mafs_eval::metrics::PtbTokenizer;

#[test]
fn matches_pycocoevalcap_tokenizer_on_every_case() {
    let reference = common::json("ptb_tokenizer_reference.json");
    let cases = reference["cases"].as_array().expect("cases");
    assert!(
        cases.len() > 200,
        "expected the full fixture, got {}",
        cases.len()
    );
    // The script tokenised all cases as one file, one per line, as pycocoevalcap does.
    let inputs: Vec<&str> = cases.iter().map(|c| c["input"].as_str().unwrap()).collect();
    let got = PtbTokenizer::new().tokenize_lines(&inputs);
    let mut mismatches = Vec::new();
    for (case, got) in cases.iter().zip(&got) {
        let want = case["output"].as_str().unwrap();
        if got != want {
            let input = case["input"].as_str().unwrap();
            mismatches.push(format!("{input:?}\n   java: {want:?}\n   rust: {got:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
}
