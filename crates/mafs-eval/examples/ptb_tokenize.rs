//! Tokenises stdin as pycocoevalcap's PTBTokenizer tokenises a file of captions, one per
//! line (PTB tokens, lower-cased, punctuation removed), and prints one line per input line.
//!
//! `cargo run -p mafs-eval --example ptb_tokenize < captions.txt`

use std::io::{Read, Write};

use mafs_eval::metrics::PtbTokenizer;

fn main() -> std::io::Result<()> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let lines: Vec<&str> = text.lines().collect();
    let tok = PtbTokenizer::new();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in tok.tokenize_lines(&lines) {
        writeln!(out, "{line}")?;
    }
    out.flush()
}
