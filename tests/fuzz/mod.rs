//! The fuzz driver: proptest strategies that generate and mutate input files, and a runner
//! that repeats them for a time budget.
//!
//! Every target asserts "error or success, never a panic": proptest catches a panic, shrinks
//! the input and fails the test with it. The default budget is small (CI); set
//! `MAFS_FUZZ_SECONDS=N` (what `cargo xtask fuzz --seconds N` does) to run each target for N
//! seconds, rounds of fresh seeds after the first; `MAFS_FUZZ_SEED` moves the seeds.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Cases per round.
const CASES: u32 = 48;

/// Runs `check` on values of `strategy` for the budget; panics (failing the test) with the
/// shrunk input when a check panics.
pub fn run<S: Strategy>(name: &str, strategy: S, check: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let seconds: Option<u64> = std::env::var("MAFS_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let base_seed: u64 = std::env::var("MAFS_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let start = Instant::now();
    let deadline = seconds.map(|s| start + Duration::from_secs(s));
    let mut cases = 0u64;
    for round in 0u64.. {
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&base_seed.wrapping_add(round).to_le_bytes());
        seed[8..16].copy_from_slice(&(name.len() as u64).to_le_bytes());
        let config = Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        if let Err(e) = runner.run(&strategy, |v| {
            check(v);
            Ok(())
        }) {
            panic!("fuzz target {name} (round {round}, MAFS_FUZZ_SEED={base_seed}): {e}");
        }
        cases += CASES as u64;
        if deadline.is_none_or(|d| Instant::now() >= d) {
            break;
        }
    }
    eprintln!(
        "fuzz {name}: {cases} cases in {:.1} s, no panic",
        start.elapsed().as_secs_f64()
    );
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit.
    Flip(usize, u8),
    /// Overwrite one byte.
    Set(usize, u8),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Insert a token hostile to parsers.
    Token(usize, usize),
    /// Delete a range.
    Delete(usize, usize),
    /// Cut the tail.
    Truncate(usize),
    /// Copy a range somewhere else.
    Splice(usize, usize, usize),
}

/// Tokens that break parsers and loaders.
pub const TOKENS: &[&str] = &[
    "..",
    "../",
    "/etc/passwd",
    "18446744073709551615",
    "18446744073709551616",
    "4294967295",
    "-1",
    "1e999",
    "-0",
    "NaN",
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "\"\\u0000\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "\"\"",
    "99999999999999999999999999",
    "\u{1F600}",
    "\u{0301}",
];

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(i, t)| Mutation::Token(i, t)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 1usize..64, any::<usize>())
            .prop_map(|(a, n, b)| Mutation::Splice(a, n, b)),
    ]
}

/// Applies edits to `bytes`.
pub fn apply(mut bytes: Vec<u8>, edits: &[Mutation]) -> Vec<u8> {
    for m in edits {
        let n = bytes.len();
        let at = |i: usize| if n == 0 { 0 } else { i % (n + 1) };
        match m {
            Mutation::Flip(i, b) if n > 0 => bytes[i % n] ^= 1 << b,
            Mutation::Set(i, v) if n > 0 => bytes[i % n] = *v,
            Mutation::Insert(i, v) => {
                let i = at(*i);
                bytes.splice(i..i, v.iter().copied());
            }
            Mutation::Token(i, t) => {
                let i = at(*i);
                bytes.splice(i..i, TOKENS[*t].bytes());
            }
            Mutation::Delete(i, len) if n > 0 => {
                let i = i % n;
                bytes.drain(i..(i + len).min(n));
            }
            Mutation::Truncate(i) => bytes.truncate(at(*i)),
            Mutation::Splice(a, len, b) if n > 0 => {
                let a = a % n;
                let chunk: Vec<u8> = bytes[a..(a + len).min(n)].to_vec();
                let b = b % (n + 1);
                bytes.splice(b..b, chunk);
            }
            _ => {}
        }
    }
    bytes
}

/// `base` with up to `max` edits (none in about one case in five).
pub fn mutated(base: Vec<u8>, max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(mutation(), 0..=max)
        .prop_map(move |edits| apply(base.clone(), &edits))
}

/// Any of the bytes strategies, or fully random bytes.
pub fn mutated_or_random(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => mutated(base, 6),
        1 => proptest::collection::vec(any::<u8>(), 0..512),
    ]
}
