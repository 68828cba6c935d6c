//! nlpaug's default tokenizer and reverse tokenizer (`nlpaug/util/text/tokenizer.py`), which
//! its character augmenters split and rejoin text with: runs of word characters and single
//! non-word, non-space characters are tokens; rejoining puts single spaces between tokens and
//! then pulls punctuation back onto the preceding word.

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `[t for t in re.split(r'(\W)', text) if len(t.strip()) > 0]`.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if is_word_char(c) {
            word.push(c);
        } else {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

const END_PUNCT: &[char] = &['.', ',', ':', ';', '?', '!', '%'];
const AFTER_PUNCT: &[char] = &[' ', '\'', '"', '`'];
const OPEN_BRACKETS: &[char] = &['[', '(', '{', '<'];
const CLOSE_BRACKETS: &[char] = &[']', ')', '}', '>'];

/// `' '.join(tokens)` followed by nlpaug's four detokenizer substitutions, then `strip()`:
/// `\s([.,:;?!%]+)([ '"`])` → `\1\2`, `\s([.,:;?!%]+)$` → `\1`, `\s([\[\(\{\<])\s` → ` \1`,
/// `\s([\]\)\}\>])\s` → `\1 `, each applied left to right without overlap as `re.sub` does.
pub fn detokenize(tokens: &[String]) -> String {
    let text: Vec<char> = tokens.join(" ").chars().collect();
    let text = punct_before_space(&text);
    let text = punct_at_end(&text);
    let text = bracket(&text, OPEN_BRACKETS, true);
    let text = bracket(&text, CLOSE_BRACKETS, false);
    text.iter().collect::<String>().trim().to_string()
}

fn punct_before_space(t: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if t[i].is_whitespace() {
            let mut j = i + 1;
            while j < t.len() && END_PUNCT.contains(&t[j]) {
                j += 1;
            }
            if j > i + 1 && j < t.len() && AFTER_PUNCT.contains(&t[j]) {
                out.extend_from_slice(&t[i + 1..=j]);
                i = j + 1;
                continue;
            }
        }
        out.push(t[i]);
        i += 1;
    }
    out
}

fn punct_at_end(t: &[char]) -> Vec<char> {
    // The first whitespace from which a punctuation run reaches the end of the text.
    for i in 0..t.len() {
        if t[i].is_whitespace()
            && i + 1 < t.len()
            && t[i + 1..].iter().all(|c| END_PUNCT.contains(c))
        {
            let mut out = t[..i].to_vec();
            out.extend_from_slice(&t[i + 1..]);
            return out;
        }
    }
    t.to_vec()
}

fn bracket(t: &[char], set: &[char], open: bool) -> Vec<char> {
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if i + 2 < t.len()
            && t[i].is_whitespace()
            && set.contains(&t[i + 1])
            && t[i + 2].is_whitespace()
        {
            if open {
                out.push(' ');
                out.push(t[i + 1]);
            } else {
                out.push(t[i + 1]);
                out.push(' ');
            }
            i += 3;
            continue;
        }
        out.push(t[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_words_and_punctuation() {
        assert_eq!(
            tokenize("A red circle, left of 2 stars."),
            vec!["A", "red", "circle", ",", "left", "of", "2", "stars", "."]
        );
        assert_eq!(tokenize("don't"), vec!["don", "'", "t"]);
        assert!(tokenize("   ").is_empty());
    }

    #[test]
    fn detokenize_reattaches_punctuation() {
        let t = |s: &str| detokenize(&tokenize(s));
        assert_eq!(
            t("A red circle, left of 2 stars."),
            "A red circle, left of 2 stars."
        );
        assert_eq!(t("a ( b ) c"), "a (b) c");
        assert_eq!(t("wait !"), "wait!");
        assert_eq!(t("don't"), "don ' t");
    }
}
