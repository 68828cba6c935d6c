//! The synonym table behind the word-level corruptions.
//!
//! EDA (Wei and Zou 2019), which Qiu et al. use for synonym replacement and random insertion,
//! draws synonyms from WordNet. We ship a table of synonym groups that covers the built-in
//! world's vocabulary and common caption words (`synonyms.txt`, compiled in), and read more
//! groups from a file in the same format: one comma-separated group per line, `#` comments.

use std::collections::HashMap;
use std::path::Path;

use super::error::CorruptError;

/// The compiled-in synonym groups.
pub const BUILTIN_SYNONYMS: &str = include_str!("synonyms.txt");

/// Synonym groups with an index from word to groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SynonymTable {
    groups: Vec<Vec<String>>,
    index: HashMap<String, Vec<usize>>,
}

/// EDA's cleaning of a WordNet lemma: lower case, `_` and `-` to spaces, only ASCII letters and
/// spaces kept.
fn clean_entry(s: &str) -> String {
    s.to_lowercase()
        .replace(['_', '-'], " ")
        .chars()
        .filter(|c| c.is_ascii_lowercase() || *c == ' ')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl SynonymTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The compiled-in table.
    pub fn builtin() -> Self {
        let mut t = Self::new();
        t.extend_from_str(BUILTIN_SYNONYMS, "builtin synonyms.txt")
            .expect("the builtin synonym table parses");
        t
    }

    /// Adds the groups of `text` (`source` names it in errors).
    ///
    /// # Errors
    /// [`CorruptError::SynonymFile`] for a line with fewer than two distinct entries.
    pub fn extend_from_str(&mut self, text: &str, source: &str) -> Result<(), CorruptError> {
        for (ln, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut group: Vec<String> = Vec::new();
            for raw in line.split(',') {
                let e = clean_entry(raw);
                if e.is_empty() {
                    return Err(CorruptError::SynonymFile {
                        path: source.to_string(),
                        line: ln + 1,
                        message: format!(
                            "empty entry in `{line}` (expected comma-separated words of letters)"
                        ),
                    });
                }
                if !group.contains(&e) {
                    group.push(e);
                }
            }
            if group.len() < 2 {
                return Err(CorruptError::SynonymFile {
                    path: source.to_string(),
                    line: ln + 1,
                    message: format!("a group needs at least two distinct entries, got `{line}`"),
                });
            }
            let gi = self.groups.len();
            for e in &group {
                self.index.entry(e.clone()).or_default().push(gi);
            }
            self.groups.push(group);
        }
        Ok(())
    }

    /// Adds the groups of a file.
    ///
    /// # Errors
    /// [`CorruptError::Io`] if it cannot be read, [`CorruptError::SynonymFile`] for a bad line.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), CorruptError> {
        let text = std::fs::read_to_string(path).map_err(|source| CorruptError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.extend_from_str(&text, &path.display().to_string())
    }

    /// The synonyms of `word` (EDA's `get_synonyms`): every entry of every group holding it,
    /// without the word itself, in table order without repeats.
    pub fn synonyms(&self, word: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(gs) = self.index.get(word) {
            for &g in gs {
                for e in &self.groups[g] {
                    if e != word && !out.contains(e) {
                        out.push(e.clone());
                    }
                }
            }
        }
        out
    }

    /// Whether `word` has at least one synonym.
    pub fn covers(&self, word: &str) -> bool {
        self.index.contains_key(word)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether the table has no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_answers() {
        let t = SynonymTable::builtin();
        assert!(t.len() > 100);
        let red = t.synonyms("red");
        assert!(red.contains(&"crimson".to_string()));
        assert!(!red.contains(&"red".to_string()));
        assert!(t.synonyms("beside").contains(&"next to".to_string()));
        assert!(t.synonyms("qwzx").is_empty());
    }

    #[test]
    fn bad_lines_are_reported_with_their_number() {
        let mut t = SynonymTable::new();
        let err = t
            .extend_from_str("# c\nred, crimson\nlonely\n", "user.txt")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "user.txt:3: a group needs at least two distinct entries, got `lonely`"
        );
        let err = t.extend_from_str("a, , b", "x").unwrap_err();
        assert!(err.to_string().starts_with("x:1: empty entry"));
    }

    #[test]
    fn extends_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("syn.txt");
        std::fs::write(&p, "blorb, glorp\n").unwrap();
        let mut t = SynonymTable::builtin();
        t.extend_from_file(&p).unwrap();
        assert_eq!(t.synonyms("blorb"), vec!["glorp".to_string()]);
        let missing = t
            .extend_from_file(&dir.path().join("none.txt"))
            .unwrap_err();
        assert!(missing.to_string().contains("none.txt"));
    }
}
