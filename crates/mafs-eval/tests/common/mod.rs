//! Shared helpers of the integration tests: where the committed fixtures are.

#![allow(dead_code)]

use std::path::PathBuf;

/// `datasets/fixtures/metrics/NAME` of the repository.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../datasets/fixtures/metrics")
        .join(name)
}

/// Parses a committed fixture.
pub fn json(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture is readable");
    serde_json::from_str(&text).expect("fixture is valid JSON")
}
