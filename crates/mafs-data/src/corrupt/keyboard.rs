//! The QWERTY neighbour table of the keyboard-typo corruption.
//!
//! nlpaug's `KeyboardAug` replaces a character by one of its neighbours at one key distance
//! (`nlpaug/res/char/keyboard/en.json`, after Belinkov and Bisk 2018). We build the table from
//! the key geometry instead of copying it: keys sit on the four rows of a US QWERTY board with
//! the usual stagger (row offsets 0, 0.5, 0.75, 1.25 key widths); two keys are neighbours when
//! they are side by side in a row, or on adjacent rows less than one key width apart. A digit's
//! shifted symbol (`!` on `1`, ...) counts as a neighbour wherever its digit does, and a digit
//! key also neighbours its own shifted symbol, as in nlpaug's table. Upper case follows nlpaug's
//! `Keyboard.get_model(upper_case=True)`: a lower-case key gets its neighbours in both cases, an
//! upper-case key the same list.

use std::collections::BTreeMap;

const ROWS: [(&str, f64); 4] = [
    ("1234567890", 0.0),
    ("qwertyuiop", 0.5),
    ("asdfghjkl;", 0.75),
    ("zxcvbnm,./", 1.25),
];
const SHIFTED_DIGITS: [(char, char); 10] = [
    ('1', '!'),
    ('2', '@'),
    ('3', '#'),
    ('4', '$'),
    ('5', '%'),
    ('6', '^'),
    ('7', '&'),
    ('8', '*'),
    ('9', '('),
    ('0', ')'),
];

fn shifted(c: char) -> Option<char> {
    SHIFTED_DIGITS
        .iter()
        .find(|(d, _)| *d == c)
        .map(|(_, s)| *s)
}

/// The neighbour table: key character → sorted, de-duplicated neighbours (never the key).
/// Keys are the letters (both cases) and digits.
pub fn keyboard_neighbours() -> BTreeMap<char, Vec<char>> {
    let keys: Vec<(char, usize, f64)> = ROWS
        .iter()
        .enumerate()
        .flat_map(|(r, (row, off))| {
            row.chars()
                .enumerate()
                .map(move |(i, c)| (c, r, i as f64 + off))
        })
        .collect();
    let mut table: BTreeMap<char, Vec<char>> = BTreeMap::new();
    for &(c, r, x) in &keys {
        if !(c.is_ascii_lowercase() || c.is_ascii_digit()) {
            continue;
        }
        let mut n: Vec<char> = Vec::new();
        if let Some(s) = shifted(c) {
            n.push(s);
        }
        for &(d, r2, x2) in &keys {
            if d == c {
                continue;
            }
            let adjacent =
                (r == r2 && (x - x2).abs() == 1.0) || (r.abs_diff(r2) == 1 && (x - x2).abs() < 1.0);
            if adjacent {
                n.push(d);
                if let Some(s) = shifted(d) {
                    n.push(s);
                }
            }
        }
        let mut lower = Vec::new();
        for &v in &n {
            lower.push(v);
            if v.is_ascii_lowercase() {
                lower.push(v.to_ascii_uppercase());
            }
        }
        lower.sort_unstable();
        lower.dedup();
        if c.is_ascii_lowercase() {
            table.insert(c.to_ascii_uppercase(), lower.clone());
        }
        table.insert(c, lower);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_adjacent_keys() {
        let t = keyboard_neighbours();
        let a: String = t[&'a'].iter().collect();
        for c in ['q', 'w', 's', 'z', 'Q', 'S'] {
            assert!(a.contains(c), "a's neighbours {a} lack {c}");
        }
        assert!(!a.contains('a') && !a.contains('d') && !a.contains('p'));
        let five: String = t[&'5'].iter().collect();
        for c in ['4', '6', '%', '$', '^', 'r', 't'] {
            assert!(five.contains(c), "5's neighbours {five} lack {c}");
        }
        let m: String = t[&'m'].iter().collect();
        assert!(m.contains('n') && m.contains(',') && m.contains('j') && m.contains('k'));
        assert_eq!(t[&'G'], t[&'g']);
        assert_eq!(t.len(), 26 * 2 + 10);
    }
}
