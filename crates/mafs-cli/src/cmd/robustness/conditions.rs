//! The evaluation conditions of a robustness sweep, from corruption families: `clean`, each
//! family at each severity, missing modalities once, and the `shift` split.

use anyhow::{Result, bail};
use mafs_data::corrupt::{Corruption, CorruptionSpec};
use mafs_eval::robustness::results::ConditionSpec;

/// The modalities a corruption degrades (`caption:` corrupts a target or query, no input).
fn degraded(corruption: &str) -> Vec<String> {
    let prefix = corruption.split(':').next().unwrap_or("");
    match prefix {
        "image" => vec!["image".into()],
        "text" | "pair" => vec!["side_text".into()],
        "question" => vec!["question".into()],
        _ => Vec::new(),
    }
}

/// Expands a family token into corruption names: `image:all`, `image:imagenet_c`,
/// `text:all` (and the like) into their members; others stay as they are.
fn expand(token: &str) -> Result<Vec<String>> {
    if token == "both" {
        return Ok(vec![token.to_string()]);
    }
    if token.split(':').count() != 2 {
        bail!(
            "--corruptions `{token}`: expected a family `modality:name` (no severity; see --severities), `both`, or a group like `image:all`"
        );
    }
    let spec = CorruptionSpec::parse(&format!("{token}:1"))
        .map_err(|e| anyhow::anyhow!("--corruptions `{token}`: {e}"))?;
    let mut names: Vec<String> = Vec::new();
    for e in spec.entries() {
        let n = e.corruption.name();
        // Groups put missing modalities in their own family.
        let missing = matches!(e.corruption, Corruption::Image(_) | Corruption::Text(..))
            && n.ends_with(":missing");
        if (missing && token.ends_with(":all")) || names.contains(&n) {
            continue;
        }
        names.push(n);
    }
    Ok(names)
}

/// The conditions of a sweep: `clean`, then every family (missing modalities without
/// severity, others at each of `severities`; `both` = the first image and the first text
/// family together), then `shift`.
pub fn conditions(families: &[String], severities: &[u8]) -> Result<Vec<ConditionSpec>> {
    let mut names: Vec<String> = Vec::new();
    for f in families {
        for n in expand(f.trim())? {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let first = |prefix: &str| {
        names
            .iter()
            .find(|n| n.starts_with(prefix) && !n.ends_with(":missing"))
            .cloned()
    };
    let mut out = vec![ConditionSpec {
        name: "clean".into(),
        family: "clean".into(),
        severity: None,
        split: "test".into(),
        spec: String::new(),
        degraded: Vec::new(),
    }];
    for n in &names {
        if n == "both" {
            let (Some(img), Some(txt)) = (first("image:"), first("text:")) else {
                bail!("--corruptions `both` needs an image and a text family before it");
            };
            for &s in severities {
                out.push(ConditionSpec {
                    name: format!("both:{s}"),
                    family: format!("both ({img} + {txt})"),
                    severity: Some(s),
                    split: "test".into(),
                    spec: format!("{img}:{s},{txt}:{s}"),
                    degraded: vec!["image".into(), "side_text".into()],
                });
            }
        } else if n.ends_with(":missing") {
            out.push(ConditionSpec {
                name: n.clone(),
                family: n.clone(),
                severity: None,
                split: "test".into(),
                spec: format!("{n}:1"),
                degraded: degraded(n),
            });
        } else {
            for &s in severities {
                out.push(ConditionSpec {
                    name: format!("{n}:{s}"),
                    family: n.clone(),
                    severity: Some(s),
                    split: "test".into(),
                    spec: format!("{n}:{s}"),
                    degraded: degraded(n),
                });
            }
        }
    }
    out.push(ConditionSpec {
        name: "shift".into(),
        family: "shift".into(),
        severity: None,
        split: "shift".into(),
        spec: String::new(),
        degraded: Vec::new(),
    });
    Ok(out)
}

/// Parses `1-5`, `3` or `1,3,5`.
pub fn parse_severities(text: &str) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let (a, b): (u8, u8) = match (a.parse(), b.parse()) {
            (Ok(a), Ok(b)) if (1..=5).contains(&a) && (1..=5).contains(&b) && a <= b => (a, b),
            _ => bail!("--severities `{text}`: expected severities 1-5 as `1-5`, `3` or `1,3,5`"),
        };
        for s in a..=b {
            if !v.contains(&s) {
                v.push(s);
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_families_expand() {
        let fam: Vec<String> = [
            "image:gaussian_noise",
            "text:keyboard",
            "both",
            "image:missing",
            "text:missing",
            "pair:misalign",
        ]
        .map(String::from)
        .to_vec();
        let c = conditions(&fam, &[1, 2]).unwrap();
        let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "clean",
                "image:gaussian_noise:1",
                "image:gaussian_noise:2",
                "text:keyboard:1",
                "text:keyboard:2",
                "both:1",
                "both:2",
                "image:missing",
                "text:missing",
                "pair:misalign:1",
                "pair:misalign:2",
                "shift"
            ]
        );
        assert_eq!(c[5].spec, "image:gaussian_noise:1,text:keyboard:1");
        assert_eq!(c[8].degraded, ["side_text"]);
        assert_eq!(c[7].severity, None);
        // Every spec parses.
        for k in c.iter().filter(|k| k.is_corruption()) {
            CorruptionSpec::parse(&k.spec).unwrap();
        }
    }

    #[test]
    fn groups_and_bad_input() {
        let c = conditions(&["image:all".to_string()], &[3]).unwrap();
        // 16 image corruptions besides `missing`, plus clean and shift.
        assert_eq!(c.len(), 18);
        assert!(conditions(&["image:fog:3".to_string()], &[1]).is_err());
        assert!(conditions(&["both".to_string()], &[1]).is_err());
        assert_eq!(parse_severities("1-3,5").unwrap(), [1, 2, 3, 5]);
        assert!(parse_severities("0-6").is_err());
    }
}
