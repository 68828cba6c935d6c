//! The VQA answer normalisation of the official VQA v2 evaluation (`GT-Vision-Lab/VQA`,
//! `PythonEvaluationTools/vqaEvaluation/vqaEval.py`, master), the one normalisation of the
//! workspace: mafs-data's answer vocabulary and soft targets and mafs-eval's VQA accuracy
//! both call [`normalize_answer`], so a class of the vocabulary is exactly the string the
//! scorer compares.
//!
//! [`normalize_answer`] is what `vqaEval.py` does to a predicted answer: `\n` and `\t`
//! replaced by spaces, stripped, then [`process_punctuation`] and
//! [`process_digit_article`]. (The scorer treats the human answers differently: only
//! [`process_punctuation`], and only when they are not all identical; see mafs-eval's
//! `metrics::vqa`.)

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::pystr::{is_python_space, python_split};

/// `self.punct` of `vqaEval.py` (master), in its order.
const PUNCT: [&str; 21] = [
    ";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`",
    ",", "?", "!",
];

/// `self.manualMap`: number words to digits.
const MANUAL_MAP: [(&str, &str); 12] = [
    ("none", "0"),
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
];

/// `self.articles`.
const ARTICLES: [&str; 3] = ["a", "an", "the"];

/// `self.contractions`, verbatim (including its odd entries such as
/// `"somebody'd": "somebodyd"`).
const CONTRACTIONS: &[(&str, &str)] = &[
    ("aint", "ain't"),
    ("arent", "aren't"),
    ("cant", "can't"),
    ("couldve", "could've"),
    ("couldnt", "couldn't"),
    ("couldn'tve", "couldn't've"),
    ("couldnt've", "couldn't've"),
    ("didnt", "didn't"),
    ("doesnt", "doesn't"),
    ("dont", "don't"),
    ("hadnt", "hadn't"),
    ("hadnt've", "hadn't've"),
    ("hadn'tve", "hadn't've"),
    ("hasnt", "hasn't"),
    ("havent", "haven't"),
    ("hed", "he'd"),
    ("hed've", "he'd've"),
    ("he'dve", "he'd've"),
    ("hes", "he's"),
    ("howd", "how'd"),
    ("howll", "how'll"),
    ("hows", "how's"),
    ("Id've", "I'd've"),
    ("I'dve", "I'd've"),
    ("Im", "I'm"),
    ("Ive", "I've"),
    ("isnt", "isn't"),
    ("itd", "it'd"),
    ("itd've", "it'd've"),
    ("it'dve", "it'd've"),
    ("itll", "it'll"),
    ("let's", "let's"),
    ("maam", "ma'am"),
    ("mightnt", "mightn't"),
    ("mightnt've", "mightn't've"),
    ("mightn'tve", "mightn't've"),
    ("mightve", "might've"),
    ("mustnt", "mustn't"),
    ("mustve", "must've"),
    ("neednt", "needn't"),
    ("notve", "not've"),
    ("oclock", "o'clock"),
    ("oughtnt", "oughtn't"),
    ("ow's'at", "'ow's'at"),
    ("'ows'at", "'ow's'at"),
    ("'ow'sat", "'ow's'at"),
    ("shant", "shan't"),
    ("shed've", "she'd've"),
    ("she'dve", "she'd've"),
    ("she's", "she's"),
    ("shouldve", "should've"),
    ("shouldnt", "shouldn't"),
    ("shouldnt've", "shouldn't've"),
    ("shouldn'tve", "shouldn't've"),
    ("somebody'd", "somebodyd"),
    ("somebodyd've", "somebody'd've"),
    ("somebody'dve", "somebody'd've"),
    ("somebodyll", "somebody'll"),
    ("somebodys", "somebody's"),
    ("someoned", "someone'd"),
    ("someoned've", "someone'd've"),
    ("someone'dve", "someone'd've"),
    ("someonell", "someone'll"),
    ("someones", "someone's"),
    ("somethingd", "something'd"),
    ("somethingd've", "something'd've"),
    ("something'dve", "something'd've"),
    ("somethingll", "something'll"),
    ("thats", "that's"),
    ("thered", "there'd"),
    ("thered've", "there'd've"),
    ("there'dve", "there'd've"),
    ("therere", "there're"),
    ("theres", "there's"),
    ("theyd", "they'd"),
    ("theyd've", "they'd've"),
    ("they'dve", "they'd've"),
    ("theyll", "they'll"),
    ("theyre", "they're"),
    ("theyve", "they've"),
    ("twas", "'twas"),
    ("wasnt", "wasn't"),
    ("wed've", "we'd've"),
    ("we'dve", "we'd've"),
    ("weve", "we've"),
    ("werent", "weren't"),
    ("whatll", "what'll"),
    ("whatre", "what're"),
    ("whats", "what's"),
    ("whatve", "what've"),
    ("whens", "when's"),
    ("whered", "where'd"),
    ("wheres", "where's"),
    ("whereve", "where've"),
    ("whod", "who'd"),
    ("whod've", "who'd've"),
    ("who'dve", "who'd've"),
    ("wholl", "who'll"),
    ("whos", "who's"),
    ("whove", "who've"),
    ("whyll", "why'll"),
    ("whyre", "why're"),
    ("whys", "why's"),
    ("wont", "won't"),
    ("wouldve", "would've"),
    ("wouldnt", "wouldn't"),
    ("wouldnt've", "wouldn't've"),
    ("wouldn'tve", "wouldn't've"),
    ("yall", "y'all"),
    ("yall'll", "y'all'll"),
    ("y'allll", "y'all'll"),
    ("yall'd've", "y'all'd've"),
    ("y'alld've", "y'all'd've"),
    ("y'all'dve", "y'all'd've"),
    ("youd", "you'd"),
    ("youd've", "you'd've"),
    ("you'dve", "you'd've"),
    ("youll", "you'll"),
    ("youre", "you're"),
    ("youve", "you've"),
];

/// `self.commaStrip = re.compile("(\d)(\,)(\d)")` (`\d`: a Unicode decimal digit).
static COMMA_STRIP: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d,\d").expect("valid regex"));
static DIGIT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d").expect("valid regex"));

static CONTRACTION_MAP: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| CONTRACTIONS.iter().copied().collect());

/// `re.UNICODE` (= 32) is passed as the `count` argument of `periodStrip.sub`, so at most
/// 32 periods are removed.
const PERIOD_STRIP_COUNT: usize = 32;

/// `processPunctuation` of `vqaEval.py`.
///
/// Each punctuation mark is deleted if it is next to a space in the input, or if the input
/// contains a digit-comma-digit sequence; otherwise it becomes a space. Then
/// `periodStrip = (?!<=\d)(\.)(?!\d)` removes periods not followed by a digit (its first
/// group is a mistyped look-behind that never fires), at most 32 of them.
pub fn process_punctuation(in_text: &str) -> String {
    let mut out = in_text.to_string();
    let comma = COMMA_STRIP.is_match(in_text);
    for p in PUNCT {
        let spaced = in_text.contains(&format!("{p} ")) || in_text.contains(&format!(" {p}"));
        out = if spaced || comma {
            out.replace(p, "")
        } else {
            out.replace(p, " ")
        };
    }
    // periodStrip.sub("", outText, re.UNICODE): the look-ahead is on the string being
    // substituted, before any removal.
    let mut result = String::with_capacity(out.len());
    let mut removed = 0;
    for (i, c) in out.char_indices() {
        if c == '.' && removed < PERIOD_STRIP_COUNT && !DIGIT.is_match(&out[i + 1..]) {
            removed += 1;
            continue;
        }
        result.push(c);
    }
    result
}

/// `processDigitArticle` of `vqaEval.py`: lower-case, split on whitespace, number words to
/// digits, articles dropped, contractions restored, joined by single spaces.
pub fn process_digit_article(in_text: &str) -> String {
    let lower = in_text.to_lowercase();
    let words: Vec<&str> = python_split(&lower)
        .map(|w| {
            MANUAL_MAP
                .iter()
                .find(|(k, _)| *k == w)
                .map_or(w, |(_, v)| *v)
        })
        .filter(|w| !ARTICLES.contains(w))
        .map(|w| CONTRACTION_MAP.get(w).copied().unwrap_or(w))
        .collect();
    words.join(" ")
}

/// The normalisation of an answer: what `vqaEval.py` applies to a predicted answer before
/// matching (`\n`/`\t` to spaces, Python's `strip()`, [`process_punctuation`],
/// [`process_digit_article`]). The answer vocabulary normalises its classes with it.
pub fn normalize_answer(answer: &str) -> String {
    let a = answer.replace(['\n', '\t'], " ");
    let a = a.trim_matches(is_python_space);
    process_digit_article(&process_punctuation(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_follows_vqa_eval() {
        assert_eq!(normalize_answer("Two"), "2");
        assert_eq!(normalize_answer("ten"), "10");
        assert_eq!(normalize_answer("  the Dog.\n"), "dog");
        assert_eq!(normalize_answer("dont"), "don't");
        assert_eq!(normalize_answer("yes!"), "yes");
        assert_eq!(normalize_answer("3.5"), "3.5");
        assert_eq!(normalize_answer("1,000"), "1000");
        // no digit-comma-digit, no space next to it: the comma becomes a space.
        assert_eq!(normalize_answer("red,white"), "red white");
        assert_eq!(normalize_answer("red, white"), "red white");
        assert_eq!(normalize_answer("t-shirt"), "t shirt");
        assert_eq!(normalize_answer("an apple"), "apple");
    }

    #[test]
    fn period_strip_removes_at_most_32_periods() {
        let s = ".".repeat(40);
        assert_eq!(process_punctuation(&s), ".".repeat(8));
        assert_eq!(process_punctuation("a.b .5"), "ab .5");
    }
}
