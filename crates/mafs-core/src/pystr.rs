//! Python's `str` whitespace semantics, which the reference evaluation scripts (`vqaEval.py`,
//! `pycocoevalcap`'s BLEU and CIDEr) rely on: `str.isspace`, `str.split()`, `str.strip()`.

/// Python's `str.isspace` for one character: Rust's `char::is_whitespace` plus the
/// separators U+001C..U+001F.
pub fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Splits as Python's `str.split()` with no argument does: on runs of Unicode whitespace
/// ([`is_python_space`]), dropping empty pieces.
pub fn python_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_python_space).filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::python_split;

    #[test]
    fn python_split_matches_str_split() {
        // Python: "a  b\u00a0c\x1dd ".split() == ['a', 'b', 'c', 'd']
        let got: Vec<&str> = python_split(" a  b\u{a0}c\u{1d}d ").collect();
        assert_eq!(got, vec!["a", "b", "c", "d"]);
        assert_eq!(python_split("").count(), 0);
        assert_eq!(python_split("   ").count(), 0);
    }
}
