//! The tokenisation of the COCO caption evaluation: Stanford CoreNLP 3.4.1's
//! `PTBTokenizer -preserveLines -lowerCase`, then removal of pycocoevalcap's punctuation
//! tokens, reimplemented without Java.
//!
//! `PTBTokenizer` is a JFlex scanner (`PTBLexer.flex`): at each position, the rule with the
//! longest match wins (the earlier rule on a tie; a trailing context `r1/r2` counts `r2` in
//! the length but returns only `r1`), and the rule's action makes the token. This module
//! transcribes the macros and rules of `PTBLexer.flex` that English captions reach, in the
//! file's order, and runs them with the same longest-match semantics (lazy DFAs from
//! `regex-automata`, searched anchored with leftmost-longest match). The scanner is
//! `%caseless`: literals match either case, character classes match as written. The list of
//! rules, the options of 3.4.1 that are in effect, and what is left out are in
//! `docs/metrics.md` ("PTB tokenizer"). Agreement with the Java tokenizer is tested on the
//! committed fixtures (`datasets/fixtures/metrics/ptb_tokenizer_reference.json`).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::{Anchored, Input, MatchKind};

/// Tokens pycocoevalcap drops after tokenising (`PUNCTUATIONS` in `ptbtokenizer.py`).
/// They are compared with the lower-cased tokens, so `-LRB-` and friends never match and
/// bracket tokens stay (as `-lrb-`, `-rrb-`, `-lsb-`, `-rsb-`, `-lcb-`, `-rcb-`), exactly as
/// in the reference.
pub const PUNCTUATIONS: [&str; 17] = [
    "''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--",
    "...", ";",
];

/// Macros of `PTBLexer.flex`, in JFlex syntax (`{NAME}` refers to another macro, `\uXXXX`
/// is a UTF-16 code unit, `[:letter:]`/`[:digit:]` are Java's letter/digit classes).
const MACROS: &[(&str, &str)] = &[
    // SGML1 of later PTBLexer.flex versions: "<side blue, >" is not a tag in 3.4.1.
    (
        "SGML",
        r#"<([!?][A-Za-z\-][^>\r\n]*|[A-Za-z][A-Za-z0-9_:.\-]*([ ]+([A-Za-z][A-Za-z0-9_:.\-]*|[A-Za-z][A-Za-z0-9_:.\-]*[ ]*=[ ]*('[^']*'|"[^"]*"|[A-Za-z][A-Za-z0-9_:.\-]*)))*[ ]*\/?|\/[A-Za-z][A-Za-z0-9_:.\-]*)[ ]*>"#,
    ),
    (
        "SPMDASH",
        r"&(MD|mdash|ndash);|[\u0096\u0097\u2013\u2014\u2015]",
    ),
    ("SPAMP", r"&amp;"),
    ("SPPUNC", r"&(HT|TL|UR|LR|QC|QL|QR|odq|cdq|#[0-9]+);"),
    ("SPLET", r"&[aeiouAEIOU](acute|grave|uml);"),
    ("SPACE", r"[ \t\u00A0\u2000-\u200A\u3000]"),
    ("SPACES", r"{SPACE}+"),
    ("NEWLINE", r"\r|\r?\n|\u2028|\u2029|\u000B|\u000C|\u0085"),
    ("SPACENL", r"({SPACE}|{NEWLINE})"),
    ("SENTEND", r"{SPACENL}({SPACENL}|[A-Z]|{SGML})"),
    ("DIGIT", r"[:digit:]|[\u07C0-\u07C9]"),
    ("DATE", r"{DIGIT}{1,2}[\-\/]{DIGIT}{1,2}[\-\/]{DIGIT}{2,4}"),
    (
        "NUM",
        r"{DIGIT}+|{DIGIT}*([.:,\u00AD\u066B\u066C]{DIGIT}+)+",
    ),
    ("NUMBER", r"[\-+]?{NUM}"),
    (
        "SUBSUPNUM",
        r"[\u207A\u207B\u208A\u208B]?([\u2070\u00B9\u00B2\u00B3\u2074-\u2079]+|[\u2080-\u2089]+)",
    ),
    (
        "FRAC",
        r"({DIGIT}{1,4}[- \u00A0])?{DIGIT}{1,4}(\\?\/|\u2044){DIGIT}{1,4}",
    ),
    ("FRAC2", r"[\u00BC\u00BD\u00BE\u2153-\u215E]"),
    ("DOLSIGN", r"([A-Z]*\$|#)"),
    (
        "DOLSIGN2",
        r"[\u00A2\u00A3\u00A4\u00A5\u0080\u20A0\u20AC\u060B\u0E3F\u20A4\uFFE0\uFFE1\uFFE5\uFFE6]",
    ),
    (
        "LETTER",
        r"([:letter:]|{SPLET}|[\u00AD\u0237-\u024F\u02C2-\u02C5\u02D2-\u02DF\u02E5-\u02FF\u0300-\u036F\u0370-\u037D\u0384\u0385\u03CF\u03F6\u03FC-\u03FF\u0483-\u0487\u04CF\u04F6-\u04FF\u0510-\u0525\u055A-\u055F\u0591-\u05BD\u05BF\u05C1\u05C2\u05C4\u05C5\u05C7\u0615-\u061A\u063B-\u063F\u064B-\u065E\u0670\u06D6-\u06EF\u06FA-\u06FF\u070F\u0711\u0730-\u074F\u0750-\u077F\u07A6-\u07B1\u07CA-\u07F5\u07FA\u0900-\u0903\u093C\u093E-\u094E\u0951-\u0955\u0962-\u0963\u0981-\u0983\u09BC-\u09C4\u09C7\u09C8\u09CB-\u09CD\u09D7\u09E2\u09E3\u0A01-\u0A03\u0A3C\u0A3E-\u0A4F\u0A81-\u0A83\u0ABC-\u0ACF\u0B82\u0BBE-\u0BC2\u0BC6-\u0BC8\u0BCA-\u0BCD\u0C01-\u0C03\u0C3E-\u0C56\u0D3E-\u0D44\u0D46-\u0D48\u0E30-\u0E3A\u0E47-\u0E4E\u0EB1-\u0EBC\u0EC8-\u0ECD])",
    ),
    // 3.4.1 joins letters across [.!?] ("dog.The" is one token, "dog.3" is not).
    (
        "WORD",
        r"{LETTER}({LETTER}|{DIGIT})*([.!?]{LETTER}({LETTER}|{DIGIT})*)*",
    ),
    (
        "THING",
        r"([dDoOlL]{APOSETCETERA}([:letter:]|[:digit:]))?([:letter:]|[:digit:])+({HYPHEN}([dDoOlL]{APOSETCETERA}([:letter:]|[:digit:]))?([:letter:]|[:digit:])+)*",
    ),
    ("THINGA", r"[A-Z]+(([+&]|{SPAMP})[A-Z]+)+"),
    (
        "THING3",
        r"[A-Za-z0-9]+(-[A-Za-z]+){0,2}(\\?\/[A-Za-z0-9]+(-[A-Za-z]+){0,2}){1,2}",
    ),
    ("APOS", r"['\u0092\u2019]|&apos;"),
    ("APOSETCETERA", r"{APOS}|[`\u0091\u2018\u201B]"),
    (
        "HTHING",
        r"[A-Za-z0-9][A-Za-z0-9.,\u00AD]*(-([A-Za-z0-9\u00AD]+|{ACRO2}\.))+",
    ),
    ("REDAUX", r"{APOS}([msdMSD]|re|ve|ll)"),
    ("SWORD", r"[A-Za-z\u00AD]*[A-MO-Za-mo-z](\u00AD)*"),
    ("SREDAUX", r"n{APOSETCETERA}t"),
    (
        "APOWORD",
        r"{APOS}n{APOS}?|[lLdDjJ]{APOS}|Dunkin{APOS}|somethin{APOS}|ol{APOS}|{APOS}em|[A-HJ-XZn]{APOSETCETERA}[:letter:]{2}[:letter:]*|{APOS}[2-9]0s|{APOS}till?|[:letter:][:letter:]*[aeiouyAEIOUY]{APOSETCETERA}[aeiouA-Z][:letter:]*|{APOS}cause|cont'd\.?|'twas|nor'easter|c'mon|e'er|s'mores|ev'ry|li'l|nat'l",
    ),
    ("APOWORD2", r"y{APOS}"),
    (
        "FULLURL",
        r#"https?:\/\/[^ \t\n\f\r"<>|(){}]+[^ \t\n\f\r"<>|.!?(){},-]"#,
    ),
    (
        "LIKELYURL",
        r#"((www\.([^ \t\n\f\r"<>|.!?(){},]+\.)+[a-zA-Z]{2,4})|(([^ \t\n\f\r"`'<>|.!?(){},-_$]+\.)+(com|net|org|edu)))(\/[^ \t\n\f\r"<>|()]+[^ \t\n\f\r"<>|.!?(){},-])?"#,
    ),
    (
        "EMAIL",
        r#"(&lt;|<)?[a-zA-Z0-9][^ \t\n\f\r"<>|(){}\u00A0]*@([^ \t\n\f\r"<>|(){}.\u00A0]+\.)*([^ \t\n\f\r"<>|(){}.\u00A0]+)(&gt;|>)?"#,
    ),
    ("TWITTER_NAME", r"@[a-zA-Z_][a-zA-Z_0-9]*"),
    // 3.4.1: "#tag1594" is "#tag" "1594" and "#tag.foo" is "#tag" "." "foo".
    ("TWITTER_CATEGORY", r"#{LETTER}+"),
    ("TWITTER", r"{TWITTER_NAME}|{TWITTER_CATEGORY}"),
    (
        "ABMONTH",
        r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec",
    ),
    ("ABDAYS", r"Mon|Tue|Tues|Wed|Thu|Thurs|Fri"),
    (
        "ABSTATE",
        r"Ala|Ariz|[A]z|[A]rk|Calif|Colo|Conn|Ct|Dak|[D]el|Fla|Ga|[I]ll|Ind|Kans?|Ky|[L]a|[M]ass|Md|Mich|Minn|[M]iss|Mo|Mont|Neb|Nev|Okla|[O]re|[P]a|Penn|Tenn|[T]ex|Va|Vt|[W]ash|Wisc?|Wyo",
    ),
    (
        "ACRO",
        r"[A-Za-z](\.[A-Za-z])*|(Canada|Sino|Korean|EU|Japan|non)-U\.S|U\.S\.-(U\.K|U\.S\.S\.R)",
    ),
    (
        "ACRO2",
        r"[A-Za-z](\.[A-Za-z])+|(Canada|Sino|Korean|EU|Japan|non)-U\.S|U\.S\.-(U\.K|U\.S\.S\.R)",
    ),
    (
        "ABTITLE",
        r"Mr|Mrs|Ms|[M]iss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|Rev|Maj|Sgt|Cpl|Pvt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det|Mt|Ft|Adj|Adv|Asst|Assoc|Ens|Insp|Mlle|Mme|Msgr|Sfc",
    ),
    ("ABPTIT", r"Jr|Sr|Bros|(Ed|Ph)\.D|Blvd|Rd|Esq"),
    (
        "ABCOMP",
        r"Inc|Cos?|Corp|Pp?t[ye]s?|Ltd|Plc|Rt|Bancorp|Bhd|Assn|Univ|Intl|Sys",
    ),
    ("ABCOMP2", r"Invt|Elec|Natl|M[ft]g|Dept"),
    ("ABNUM", r"tel|est|ext|sq"),
    (
        "ABBREV1",
        r"({ABMONTH}|{ABDAYS}|{ABSTATE}|{ABCOMP}|{ABNUM}|{ABPTIT}|etc|al|seq|Bldg)\.",
    ),
    (
        "ABBREV4",
        r"{ABTITLE}|vs|[v]|Alex|Wm|Jos|Cie|a\.k\.a|cf|TREAS|Ph|{ACRO}|{ABCOMP2}",
    ),
    ("ABBREV2", r"{ABBREV4}\."),
    ("ACRONYM", r"({ACRO})\."),
    // Abbreviations kept only before a number (3.4.1's list, found against the jar).
    ("ABBREV3", r"(ca|figs?|prop|nos?|art|bldg|pp|op)\."),
    (
        "SENTSTART",
        r"([A]bout|[A]ccording|[A]dditionally|[A]fter|[A]n|[A]|[A]s|[A]t|[B]ut|[E]arlier|[H]e|[H]er|[H]ere|[H]owever|[I]f|[I]n|[I]t|[L]ast|[M]any|[M]ore|[M]r\.|[M]s\.|[N]ow|[O]nce|[O]ne|[O]ther|[O]ur|[S]he|[S]ince|[S]o|[S]ome|[S]uch|[T]hat|[T]he|[T]heir|[T]hen|[T]here|[T]hese|[T]hey|[T]his|[W]e|[W]hen|[W]hile|[W]hat|[Y]et|[Y]ou)",
    ),
    (
        "PHONE",
        r"(\([0-9]{2,3}\)[ \u00A0]?|(\+\+?)?([0-9]{2,4}[\- \u00A0])?[0-9]{2,4}[\- \u00A0])[0-9]{3,4}[\- \u00A0]?[0-9]{3,5}|((\+\+?)?[0-9]{2,4}\.)?[0-9]{2,4}\.[0-9]{3,4}\.[0-9]{3,5}",
    ),
    ("FAKEDUCKFEET", r"<<|>>"),
    ("HYPHEN", r"[-_\u058A\u2010\u2011]"),
    ("HYPHENS", r"\-+"),
    ("LDOTS", r"\.{3,5}|(\.[ \u00A0]){2,4}\.|[\u0085\u2026]"),
    ("ATS", r"@+"),
    ("UNDS", r"_+"),
    ("ASTS", r"\*+|(\\\*){1,3}"),
    ("HASHES", r"#+"),
    ("FNMARKS", r"{ATS}|{HASHES}|{UNDS}"),
    ("INSENTP", r"[,;:\u3001]"),
    (
        "QUOTES",
        r"{APOS}|''|[`\u2018\u2019\u201A\u201B\u201C\u201D\u0091\u0092\u0093\u0094\u201E\u201F\u2039\u203A\u00AB\u00BB]{1,2}",
    ),
    ("DBLQUOT", r#""|&quot;"#),
    (
        "TBSPEC",
        r"-(RRB|LRB|RCB|LCB|RSB|LSB)-|C\.D\.s|pro-|anti-|S(&|&amp;)P-500|S(&|&amp;)Ls|Cap{APOS}n|c{APOS}est",
    ),
    ("TBSPEC2", r"{APOS}[0-9][0-9]"),
    (
        "MISCSYMBOL",
        r"[+%&~\^|\\\u00A6\u00A7\u00A8\u00A9\u00AC\u00AE\u00AF\u00B0-\u00B3\u00B4-\u00BA\u00D7\u00F7\u0387\u05BE\u05C0\u05C3\u05C6\u05F3\u05F4\u0600-\u0603\u0606-\u060A\u060C\u0614\u061B\u061E\u066A\u066D\u0703-\u070D\u07F6\u07F7\u07F8\u0964\u0965\u0E4F\u1FBD\u2016\u2017\u2020-\u2023\u2030-\u2038\u203B\u203E-\u2042\u2044\u207A-\u207F\u208A-\u208E\u2100-\u214F\u2190-\u21FF\u2200-\u2BFF\u3012\u30FB\uFF01-\uFF0F\uFF1A-\uFF20\uFF3B-\uFF40\uFF5B-\uFF65]",
    ),
    // Found against the 3.4.1 jar: only these extensions, only "." as separator.
    (
        "FILENAME_EXT",
        r"bat|bmp|c|class|cgi|cpp|dll|doc|docx|exe|gif|gz|h|htm|html|jar|java|jpeg|jpg|mov|mp3|pdf|php|pl|png|ppt|ps|py|sql|tar|txt|wav|x|xml|zip",
    ),
    (
        "FILENAME",
        r"[A-Za-z0-9]+(\.[A-Za-z0-9]+)*\.({FILENAME_EXT})",
    ),
    ("LESSTHAN", r"<|&lt;"),
    ("GREATERTHAN", r">|&gt;"),
    ("SMILEY", r"[<>]?[:;=][\-o\*']?[\(\)DPdpO\\{@\|\[\]]"),
    (
        "ASIANSMILEY",
        r"[\^x=~<>]\.\[\^x=~<>]|[\-\^x=~<>']_[\-\^x=~<>']|\([\-\^x=~<>'][_.]?[\-\^x=~<>']\)|\([\^x=~<>']-[\^x=~<>'`]\)",
    ),
    ("PROG_LANGS", r"c[+][+]|(c|f)#"),
    ("ASSIMILATIONS3", r"cannot|'twas"),
    ("ASSIMILATIONS2", r"{APOS}tis|gonna|gotta|lemme|gimme|wanna"),
    ("SKIPSPACE", r"\u0000|{SPACES}|[\u200B\u200E-\u200F\uFEFF]"),
];

/// What a rule's action does with the matched text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// `getNext()`: the text is the token.
    Keep,
    /// Whitespace and control characters: no token.
    Skip,
    /// `yypushback(n)`: the token is the text without its last n characters.
    Pushback(usize),
    /// A fixed replacement (`-LRB-`, `--`, `...`, ...).
    Replace(&'static str),
    /// `handleQuotes(tok, probablyLeft)` with LaTeX quotes.
    Quotes(bool),
    /// `removeSoftHyphens`.
    SoftHyphens,
    /// `getNormalizedAmpNext`: `&amp;` becomes `&`.
    Amp,
    /// FRAC: spaces become non-breaking spaces (`normalizeSpace`).
    Frac,
    /// FRAC2: composed fractions spelled out (`normalizeFractions`).
    Frac2,
    /// DOLSIGN2: `normalizeCurrency`.
    Currency,
    /// PHONE: spaces to U+00A0, parentheses to -LRB-/-RRB-.
    Phone,
    /// Smileys: parentheses to -LRB-/-RRB- (`normalizeParentheses`).
    Parens,
    /// SGML tags: spaces and newlines to U+00A0 (`normalizeSpace`).
    Sgml,
    /// A sentence-final acronym: one letter returns the letter, longer keeps the period;
    /// both return the period again as the next token.
    Acronym,
    /// A sentence-final ABBREV1: the abbreviation with its period, then the period again.
    Abbrev1,
    /// HYPHENS: 3 or 4 hyphens become `--`.
    Hyphens,
    /// ASSIMILATIONS (`cannot` → `can` `not`).
    Untokenizable,
}

/// One rule: `head` (with an optional trailing context `tail`) and its action.
struct RuleSpec {
    head: &'static str,
    tail: Option<&'static str>,
    action: Action,
}

const fn rule(head: &'static str, action: Action) -> RuleSpec {
    RuleSpec {
        head,
        tail: None,
        action,
    }
}

const fn ctx(head: &'static str, tail: &'static str, action: Action) -> RuleSpec {
    RuleSpec {
        head,
        tail: Some(tail),
        action,
    }
}

/// The rules, in `PTBLexer.flex` order (the `YyTraditionalTreebank3` state; options of
/// 3.4.1: no Americanize, no escaping of `/` and `*`, LaTeX quotes, PTB3 ellipsis and
/// dashes, assimilations split).
const RULES: &[RuleSpec] = &[
    rule("{PROG_LANGS}", Action::Keep),
    rule("{ASSIMILATIONS3}", Action::Pushback(3)),
    rule("{ASSIMILATIONS2}", Action::Pushback(2)),
    rule("{SGML}", Action::Sgml),
    rule("{SPMDASH}", Action::Replace("--")),
    rule("{SPAMP}", Action::Amp),
    rule("{SPPUNC}", Action::Keep),
    ctx("{WORD}", "{REDAUX}", Action::SoftHyphens),
    ctx("{SWORD}", "{SREDAUX}", Action::SoftHyphens),
    rule("{WORD}", Action::SoftHyphens),
    rule("{APOWORD}", Action::Keep),
    ctx("{APOWORD2}", "[:letter:]", Action::Keep),
    rule("{FULLURL}", Action::Keep),
    rule("{LIKELYURL}", Action::Keep),
    rule("{EMAIL}", Action::Keep),
    rule("{TWITTER}", Action::Keep),
    ctx("{REDAUX}", "[^A-Za-z]", Action::Quotes(false)),
    ctx("{SREDAUX}", "[^A-Za-z]", Action::Quotes(false)),
    rule("{DATE}", Action::Keep),
    rule("{NUMBER}", Action::SoftHyphens),
    rule("{SUBSUPNUM}", Action::Keep),
    rule("{FRAC}", Action::Frac),
    rule("{FRAC2}", Action::Frac2),
    rule("{TBSPEC}", Action::Amp),
    rule("{THING3}", Action::Keep),
    rule("{DOLSIGN}", Action::Keep),
    rule("{DOLSIGN2}", Action::Currency),
    ctx(
        "{ACRONYM}",
        "{SPACENL}+{SENTSTART}{SPACENL}",
        Action::Acronym,
    ),
    ctx("{ABBREV3}", "{SPACENL}?[:digit:]", Action::Keep),
    ctx("{ABBREV1}", "{SENTEND}", Action::Abbrev1),
    // Any two characters: makes "INC.A" an ABBREV1 and a letter, not one WORD.
    ctx("{ABBREV1}", "(?s:..)", Action::Keep),
    rule("{ABBREV1}", Action::Keep),
    rule("{ABBREV2}", Action::Keep),
    ctx("{ABBREV4}", "{SPACE}", Action::Keep),
    ctx("{ACRO}", "{SPACENL}", Action::Keep),
    ctx("{TBSPEC2}", "{SPACENL}", Action::Keep),
    ctx("{FILENAME}", "({SPACENL}|[.?!,])", Action::Keep),
    ctx(r"{WORD}\.", "{INSENTP}", Action::SoftHyphens),
    rule("{PHONE}", Action::Phone),
    ctx("{DBLQUOT}", "[A-Za-z0-9$]", Action::Quotes(true)),
    rule("{DBLQUOT}", Action::Quotes(false)),
    rule(r"\u007F", Action::Skip),
    rule("{LESSTHAN}", Action::Replace("<")),
    rule("{GREATERTHAN}", Action::Replace(">")),
    ctx("{SMILEY}", "[^A-Za-z0-9]", Action::Parens),
    rule("{ASIANSMILEY}", Action::Parens),
    rule(r"\{", Action::Replace("-LCB-")),
    rule(r"\}", Action::Replace("-RCB-")),
    rule(r"\[", Action::Replace("-LSB-")),
    rule(r"\]", Action::Replace("-RSB-")),
    rule(r"\(", Action::Replace("-LRB-")),
    rule(r"\)", Action::Replace("-RRB-")),
    rule("{HYPHENS}", Action::Hyphens),
    rule("{LDOTS}", Action::Replace("...")),
    rule("{FNMARKS}", Action::Keep),
    rule("{ASTS}", Action::Keep),
    rule("{INSENTP}", Action::Keep),
    rule("[?!]+", Action::Keep),
    rule(
        r"[.\u00A1\u00BF\u037E\u0589\u061F\u06D4\u0700-\u0702\u07FA\u3002]",
        Action::Keep,
    ),
    rule("=", Action::Keep),
    rule(r"\/", Action::Keep),
    ctx(r"{HTHING}\.", "{INSENTP}", Action::SoftHyphens),
    rule("{HTHING}", Action::SoftHyphens),
    ctx(r"{THING}\.", "{INSENTP}", Action::Keep),
    rule("{THING}", Action::Keep),
    ctx(r"{THINGA}\.", "{INSENTP}", Action::Amp),
    rule("{THINGA}", Action::Amp),
    ctx("'", r"[A-Za-z][^ \t\n\r\u00A0]", Action::Quotes(true)),
    rule("{REDAUX}", Action::Quotes(false)),
    rule("{QUOTES}", Action::Quotes(false)),
    rule("{FAKEDUCKFEET}", Action::Keep),
    rule("{MISCSYMBOL}", Action::Keep),
    rule("{SKIPSPACE}", Action::Skip),
    rule("{NEWLINE}", Action::Skip),
    rule("&nbsp;", Action::Skip),
    // `.`: any other character is untokenizable and deleted ("firstDelete").
    rule(r"(?s:.)", Action::Untokenizable),
];

/// Expands `{NAME}` macro references (each wrapped in a group), as JFlex does.
fn expand(pattern: &str, macros: &HashMap<&str, &str>, depth: usize) -> String {
    assert!(depth < 20, "macro recursion too deep in {pattern}");
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('}');
        let name = end.map(|e| &after[..e]);
        let escaped = out.ends_with('\\') && !out.ends_with("\\\\")
            || out.ends_with("\\p")
            || out.ends_with("\\x");
        match name {
            Some(n) if !escaped && macros.contains_key(n) => {
                out.push_str("(?:");
                out.push_str(&expand(macros[n], macros, depth + 1));
                out.push(')');
                rest = &after[n.len() + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Turns an expanded JFlex pattern into Rust regex syntax: `\uXXXX` → `\x{XXXX}`, Java's
/// classes → Unicode properties, and every character class made case-sensitive
/// (`%caseless` does not apply inside classes).
fn to_rust_syntax(p: &str) -> String {
    let p = p
        .replace("[:letter:]", r"\p{L}")
        .replace("[:digit:]", r"\p{Nd}");
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() * 2);
    let mut i = 0;
    let mut in_class = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n == 'u' && i + 5 < chars.len() {
                let hex: String = chars[i + 2..i + 6].iter().collect();
                out.push_str(&format!(r"\x{{{}}}", hex.to_lowercase()));
                i += 6;
                continue;
            }
            if n == 'p' {
                // \p{..}: copy through the closing brace, case-sensitively.
                let close = (i..chars.len())
                    .find(|&j| chars[j] == '}')
                    .expect("closed \\p");
                let prop: String = chars[i..=close].iter().collect();
                if in_class {
                    out.push_str(&prop);
                } else {
                    out.push_str(&format!("(?-i:{prop})"));
                }
                i = close + 1;
                continue;
            }
            out.push(c);
            out.push(n);
            i += 2;
            continue;
        }
        if !in_class && c == '[' {
            in_class = true;
            out.push_str("(?-i:[");
            i += 1;
            if i < chars.len() && chars[i] == '^' {
                out.push('^');
                i += 1;
            }
            continue;
        }
        if in_class && c == ']' {
            in_class = false;
            out.push_str("])");
            i += 1;
            continue;
        }
        if in_class && c == '[' {
            out.push_str(r"\[");
            i += 1;
            continue;
        }
        // Rust treats `&&`, `--` and `~~` in classes as set operations: escape them.
        if in_class && matches!(c, '&' | '~') {
            out.push('\\');
            out.push(c);
            i += 1;
            continue;
        }
        if in_class && c == '-' && chars.get(i + 1) == Some(&'-') {
            out.push_str(r"\-");
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn compile(pattern: &str) -> DFA {
    DFA::builder()
        .configure(DFA::config().match_kind(MatchKind::All))
        .build(&format!("(?i:{pattern})"))
        .unwrap_or_else(|e| panic!("PTB rule does not compile: {pattern}: {e}"))
}

struct Rule {
    full: DFA,
    head: Option<DFA>,
    tail: Option<DFA>,
    action: Action,
}

/// Stanford PTBTokenizer 3.4.1 with `-lowerCase`, plus pycocoevalcap's punctuation removal.
pub struct PtbTokenizer {
    rules: Vec<Rule>,
    caches: Mutex<Vec<Vec<Cache>>>,
}

impl std::fmt::Debug for PtbTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PtbTokenizer")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl Default for PtbTokenizer {
    fn default() -> Self {
        Self::new()
    }
}

/// A rule's full pattern and, for a trailing context, its head and tail, in Rust syntax.
type CompiledRule = (String, Option<(String, String)>);

static COMPILED: LazyLock<Vec<CompiledRule>> = LazyLock::new(|| {
    let macros: HashMap<&str, &str> = MACROS.iter().copied().collect();
    RULES
        .iter()
        .map(|r| {
            let head = to_rust_syntax(&expand(r.head, &macros, 0));
            match r.tail {
                None => (head, None),
                Some(t) => {
                    let tail = to_rust_syntax(&expand(t, &macros, 0));
                    (format!("(?:{head})(?:{tail})"), Some((head, tail)))
                }
            }
        })
        .collect()
});

fn longest(dfa: &DFA, cache: &mut Cache, hay: &str) -> Option<usize> {
    let input = Input::new(hay).anchored(Anchored::Yes);
    dfa.try_search_fwd(cache, &input)
        .ok()
        .flatten()
        .map(|m| m.offset())
}

impl PtbTokenizer {
    /// Compiles the rules (lazily determinised as they are used).
    pub fn new() -> Self {
        let rules = RULES
            .iter()
            .zip(COMPILED.iter())
            .map(|(spec, (full, split))| Rule {
                full: compile(full),
                head: split.as_ref().map(|(h, _)| compile(h)),
                tail: split.as_ref().map(|(_, t)| compile(t)),
                action: spec.action,
            })
            .collect();
        Self {
            rules,
            caches: Mutex::new(Vec::new()),
        }
    }

    fn take_caches(&self) -> Vec<Cache> {
        let pooled = self.caches.lock().map(|mut p| p.pop()).unwrap_or(None);
        pooled.unwrap_or_else(|| {
            self.rules
                .iter()
                .flat_map(|r| [Some(&r.full), r.head.as_ref(), r.tail.as_ref()])
                .flatten()
                .map(DFA::create_cache)
                .collect()
        })
    }

    fn give_caches(&self, caches: Vec<Cache>) {
        if let Ok(mut p) = self.caches.lock() {
            p.push(caches);
        }
    }

    /// PTB tokens of one line of text, as `PTBTokenizer` prints them (before
    /// lower-casing and punctuation removal), for a file holding only this line.
    pub fn ptb_tokens(&self, line: &str) -> Vec<String> {
        self.ptb_tokens_in_context(line, "")
    }

    /// PTB tokens of `line` when the Java tokenizer reads it from a file where `following`
    /// is what comes after it (starting with its newline; empty at the end of the file).
    /// The scanner looks ahead across newlines (a one-letter acronym before "A"/"The"/...
    /// starting the next line loses its period), so the tokens can depend on the next
    /// lines; a few hundred bytes of `following` are enough.
    pub fn ptb_tokens_in_context(&self, line: &str, following: &str) -> Vec<String> {
        let mut hay = String::with_capacity(line.len() + following.len());
        hay.push_str(line);
        hay.push_str(following);
        let mut caches = self.take_caches();
        let mut tokens = Vec::new();
        let mut pos = 0;
        // No token spans a newline, so the line's tokens end where the line does.
        while pos < line.len() {
            let rest = &hay[pos..];
            let mut best: Option<(usize, usize)> = None; // (rule, full length)
            let mut ci = 0;
            let mut cache_of = Vec::with_capacity(self.rules.len());
            for (ri, r) in self.rules.iter().enumerate() {
                cache_of.push(ci);
                let len = longest(&r.full, &mut caches[ci], rest);
                ci += 1 + usize::from(r.head.is_some()) + usize::from(r.tail.is_some());
                if let Some(l) = len
                    && l > 0
                    && best.is_none_or(|(_, bl)| l > bl)
                {
                    best = Some((ri, l));
                }
            }
            let Some((ri, full_len)) = best else {
                // Unreachable: the last rule matches any character.
                pos += rest.chars().next().map_or(1, char::len_utf8);
                continue;
            };
            let r = &self.rules[ri];
            let head_len = match (&r.head, &r.tail) {
                (Some(h), Some(t)) => {
                    let c = cache_of[ri];
                    let (hc, tc) = caches[c + 1..c + 3].split_at_mut(1);
                    split_trailing(h, t, &mut hc[0], &mut tc[0], &rest[..full_len])
                }
                _ => full_len,
            };
            let (token, consumed) = apply(r.action, &rest[..head_len]);
            if let Some(t) = token {
                tokens.push(t);
            }
            pos += consumed.max(1);
        }
        self.give_caches(caches);
        tokens
    }

    /// A caption as pycocoevalcap's `PTBTokenizer.tokenize` leaves it when it is alone in
    /// its file: see [`PtbTokenizer::tokenize_lines`].
    pub fn tokenize_caption(&self, caption: &str) -> String {
        self.tokenize_lines(&[caption]).pop().unwrap_or_default()
    }

    /// Captions as pycocoevalcap's `PTBTokenizer.tokenize` leaves them: newlines replaced
    /// by spaces, the captions written one per line to one file (in this order, which
    /// matters through the look-ahead across lines), PTB-tokenised, lower-cased,
    /// punctuation tokens removed, joined by single spaces.
    pub fn tokenize_lines<S: AsRef<str>>(&self, captions: &[S]) -> Vec<String> {
        let lines: Vec<String> = captions
            .iter()
            .map(|c| c.as_ref().replace('\n', " "))
            .collect();
        (0..lines.len())
            .map(|i| {
                // What the file holds after line i: "\n" + the next lines, enough of them.
                let mut following = String::new();
                for next in &lines[i + 1..] {
                    if following.len() >= LOOKAHEAD {
                        break;
                    }
                    following.push('\n');
                    following.push_str(next);
                }
                let kept: Vec<String> = self
                    .ptb_tokens_in_context(&lines[i], &following)
                    .into_iter()
                    .map(|t| t.to_lowercase())
                    .filter(|t| !PUNCTUATIONS.contains(&t.as_str()))
                    .collect();
                kept.join(" ")
            })
            .collect()
    }
}

/// How much of the following lines the look-ahead needs (the longest trailing context
/// that crosses a newline is blank lines, a sentence-start word and one character).
const LOOKAHEAD: usize = 256;

/// Where a trailing-context match `r1/r2` of `text` splits: the longest `r1` prefix whose
/// remainder matches `r2`.
fn split_trailing(head: &DFA, tail: &DFA, hc: &mut Cache, tc: &mut Cache, text: &str) -> usize {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).skip(1).collect();
    for &l in bounds.iter().rev() {
        if longest(head, hc, &text[..l]) == Some(l)
            && longest(tail, tc, &text[l..]) == Some(text.len() - l)
        {
            return l;
        }
    }
    text.len()
}

fn char_prefix_len(s: &str, drop_last: usize) -> usize {
    let n = s.chars().count();
    s.char_indices()
        .nth(n.saturating_sub(drop_last))
        .map_or(s.len(), |(i, _)| i)
}

/// `latexQuotes`: ASCII quotes by their guessed side, curly and CP1252 quotes by theirs.
fn latex_quotes(s: &str, probably_left: bool) -> String {
    let s = if probably_left {
        s.replace("&apos;", "`")
            .replace('\'', "`")
            .replace("&quot;", "``")
            .replace('"', "``")
    } else {
        s.replace("&apos;", "'")
            .replace("&quot;", "''")
            .replace('"', "''")
    };
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{91}' | '\u{2018}' | '\u{201B}' | '\u{2039}' => out.push('`'),
            '\u{92}' | '\u{2019}' | '\u{203A}' => out.push('\''),
            '\u{93}' | '\u{201C}' | '\u{AB}' => out.push_str("``"),
            '\u{94}' | '\u{201D}' | '\u{BB}' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out
}

fn remove_soft_hyphens(s: &str) -> String {
    let out: String = s.chars().filter(|&c| c != '\u{AD}').collect();
    if out.is_empty() { "-".into() } else { out }
}

fn replace_amp(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    if !lower.contains("&amp;") {
        return s.to_string();
    }
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        if lower[i..].starts_with("&amp;") {
            out.push('&');
            i += 5;
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Runs a rule's action: the token (if any) and how many bytes were consumed.
fn apply(action: Action, text: &str) -> (Option<String>, usize) {
    let all = text.len();
    match action {
        Action::Keep => (Some(text.into()), all),
        Action::Skip | Action::Untokenizable => (None, all),
        Action::Pushback(n) => {
            let l = char_prefix_len(text, n);
            (Some(text[..l].into()), l)
        }
        Action::Replace(s) => (Some(s.into()), all),
        Action::Quotes(left) => (Some(latex_quotes(text, left)), all),
        Action::SoftHyphens => (Some(remove_soft_hyphens(text)), all),
        Action::Amp => (Some(replace_amp(text)), all),
        Action::Frac => (Some(text.replace(' ', "\u{A0}")), all),
        Action::Frac2 => {
            let s = text
                .replace('\u{BC}', "1/4")
                .replace('\u{BD}', "1/2")
                .replace('\u{BE}', "3/4")
                .replace('\u{2153}', "1/3");
            (Some(s), all)
        }
        Action::Currency => {
            let s = text
                .replace('\u{A2}', "cents")
                .replace('\u{A3}', "#")
                .replace(['\u{80}', '\u{A4}', '\u{20A0}', '\u{20AC}'], "$");
            (Some(s), all)
        }
        Action::Phone => {
            let s = text
                .replace(' ', "\u{A0}")
                .replace('(', "-LRB-")
                .replace(')', "-RRB-");
            (Some(s), all)
        }
        Action::Sgml => (Some(text.replace([' ', '\r', '\n'], "\u{A0}")), all),
        Action::Parens => (Some(text.replace('(', "-LRB-").replace(')', "-RRB-")), all),
        Action::Acronym => {
            if text.chars().count() == 2 {
                let l = char_prefix_len(text, 1);
                (Some(text[..l].into()), l)
            } else {
                (Some(text.into()), char_prefix_len(text, 1))
            }
        }
        Action::Abbrev1 => (Some(text.into()), char_prefix_len(text, 1)),
        Action::Hyphens => {
            let n = text.chars().count();
            if (3..=4).contains(&n) {
                (Some("--".into()), all)
            } else {
                (Some(text.into()), all)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> String {
        static T: LazyLock<PtbTokenizer> = LazyLock::new(PtbTokenizer::new);
        T.tokenize_caption(s)
    }

    #[test]
    fn every_rule_compiles() {
        let t = PtbTokenizer::new();
        assert_eq!(t.rules.len(), RULES.len());
    }

    #[test]
    fn common_caption_rules() {
        // Outputs of the Java tokenizer (pycocoevalcap 1.2, CoreNLP 3.4.1) on these lines.
        assert_eq!(
            tok("A man's dog isn't running (quickly) down the street."),
            "a man 's dog is n't running -lrb- quickly -rrb- down the street"
        );
        assert_eq!(
            tok("Two dogs, three cats; and a/b test * star -- dash - single... ellipsis!?"),
            "two dogs three cats and a/b test * star dash single ellipsis !?"
        );
        assert_eq!(
            tok("I'm you're they'll we'd she've can't won't gonna cannot wanna Dogs' toys"),
            "i 'm you 're they 'll we 'd she 've ca n't wo n't gon na can not wan na dogs toys"
        );
        assert_eq!(
            tok("The U.S. flag. U.S. The flag. Wash. Ill. ill. St. Louis st. corner"),
            "the u.s. flag u.s. the flag wash. ill. ill st. louis st. corner"
        );
        assert_eq!(
            tok("the dog.The cat e.g. the Yahoo! news"),
            "the dog.the cat e.g. the yahoo news"
        );
        assert_eq!(
            tok("A sign reading \"STOP\" on a pole."),
            "a sign reading stop on a pole"
        );
        assert_eq!(tok("1/2 ½ $3.50 £5 100%"), "1/2 1/2 $ 3.50 # 5 100 %");
        assert_eq!(tok(""), "");
        assert_eq!(tok("   "), "");
    }
}
