//! `mafs metrics`: the evaluation metrics of mafs-eval on result files made elsewhere,
//! printed as one JSON object on stdout.
//!
//! - `mafs metrics caption --results R.json --annotations A.json`: COCO caption files,
//!   BLEU-1..4, CIDEr-D and ROUGE-L as pycocoevalcap computes them;
//! - `mafs metrics vqa --results R.json --questions Q.json --annotations A.json`: VQA v2
//!   files, accuracy as the official `vqaEval.py` computes it;
//! - `mafs metrics retrieval --scores S.json`: recall at 1/5/10 both ways and rsum.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mafs_eval::metrics::retrieval::{self, TiePolicy};
use mafs_eval::metrics::vqa::round_half_even;
use mafs_eval::metrics::{ImageSet, evaluate_caption_files, evaluate_vqa_files};
use serde::Deserialize;
use serde_json::{Value, json};

/// Arguments of `mafs metrics`.
#[derive(Args, Debug)]
pub struct MetricsArgs {
    #[command(subcommand)]
    command: MetricsCommand,
}

#[derive(Subcommand, Debug)]
enum MetricsCommand {
    /// BLEU-1..4, CIDEr-D and ROUGE-L of COCO caption results (as pycocoevalcap).
    Caption(CaptionArgs),
    /// VQA accuracy of VQA v2 results (as the official vqaEval.py).
    Vqa(VqaArgs),
    /// Recall at 1/5/10 in both directions and rsum from a score matrix.
    Retrieval(RetrievalArgs),
}

#[derive(Args, Debug)]
struct CaptionArgs {
    /// COCO caption result file: `[{"image_id": .., "caption": ".."}]`.
    #[arg(long)]
    results: PathBuf,
    /// COCO caption annotation file: `{"images": [{"id"}], "annotations": [{"image_id",
    /// "caption"}]}`.
    #[arg(long)]
    annotations: PathBuf,
    /// Evaluate only the images that have a result (as the pycocoevalcap example and BLIP
    /// do) instead of requiring one result per annotated image.
    #[arg(long)]
    only_result_images: bool,
    /// Also print the scores of each image.
    #[arg(long)]
    per_image: bool,
}

#[derive(Args, Debug)]
struct VqaArgs {
    /// VQA result file: `[{"question_id": .., "answer": ".."}]`.
    #[arg(long)]
    results: PathBuf,
    /// VQA v2 question file (`v2_OpenEnded_mscoco_*_questions.json` layout).
    #[arg(long)]
    questions: PathBuf,
    /// VQA v2 annotation file (`v2_mscoco_*_annotations.json` layout).
    #[arg(long)]
    annotations: PathBuf,
    /// Also print the accuracy of each question.
    #[arg(long)]
    per_question: bool,
}

#[derive(Args, Debug)]
struct RetrievalArgs {
    /// JSON file: `{"caption_to_item": [..], "similarity": [[..]]}` with similarity
    /// `[n_items][n_captions]`, or `"i2t"` `[n_items][n_captions]` and `"t2i"`
    /// `[n_captions][n_items]` (after re-ranking) instead of `"similarity"`.
    #[arg(long)]
    scores: PathBuf,
    /// Count ties against the query (default: a tie does not push the ground truth down).
    #[arg(long)]
    pessimistic_ties: bool,
}

/// Runs `mafs metrics`.
pub fn run(args: MetricsArgs) -> anyhow::Result<ExitCode> {
    let out = match args.command {
        MetricsCommand::Caption(a) => caption(&a)?,
        MetricsCommand::Vqa(a) => vqa(&a)?,
        MetricsCommand::Retrieval(a) => retrieval_cmd(&a)?,
    };
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", serde_json::to_string_pretty(&out)?) {
        // A closed pipe (`| head`) is not an error of the command.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn caption(a: &CaptionArgs) -> anyhow::Result<Value> {
    let set = if a.only_result_images {
        ImageSet::WithResults
    } else {
        ImageSet::AllAnnotated
    };
    let m = evaluate_caption_files(&a.results, &a.annotations, set)?;
    let mut out = serde_json::Map::new();
    for (k, v) in m.named() {
        out.insert(k.into(), json!(v));
    }
    out.insert("n_images".into(), json!(m.per_item.len()));
    if a.per_image {
        let per: BTreeMap<String, Value> = m
            .per_item
            .iter()
            .map(|i| {
                (
                    i.image_id.key(),
                    json!({
                        "Bleu_1": i.bleu[0], "Bleu_2": i.bleu[1], "Bleu_3": i.bleu[2],
                        "Bleu_4": i.bleu[3], "CIDEr": i.cider, "ROUGE_L": i.rouge_l,
                    }),
                )
            })
            .collect();
        out.insert("per_image".into(), json!(per));
    }
    Ok(Value::Object(out))
}

fn vqa(a: &VqaArgs) -> anyhow::Result<Value> {
    let m = evaluate_vqa_files(&a.results, &a.questions, &a.annotations)?;
    let r = |x: f64| round_half_even(x, 2);
    let round_map = |m: &BTreeMap<String, f64>| {
        m.iter()
            .map(|(k, v)| (k.clone(), r(*v)))
            .collect::<BTreeMap<_, _>>()
    };
    let mut out = json!({
        "overall": m.overall,
        "perAnswerType": m.per_answer_type,
        "perQuestionType": m.per_question_type,
        "n_questions": m.n_questions,
        "rounded": {
            "overall": r(m.overall),
            "perAnswerType": round_map(&m.per_answer_type),
            "perQuestionType": round_map(&m.per_question_type),
        },
    });
    if a.per_question {
        let per: BTreeMap<String, f64> =
            m.per_question.iter().map(|(q, v)| (q.key(), *v)).collect();
        out["perQuestion"] = json!(per);
    }
    Ok(out)
}

/// The `--scores` file of `mafs metrics retrieval`.
#[derive(Deserialize)]
struct ScoresFile {
    caption_to_item: Vec<usize>,
    #[serde(default)]
    similarity: Option<Vec<Vec<f32>>>,
    #[serde(default)]
    i2t: Option<Vec<Vec<f32>>>,
    #[serde(default)]
    t2i: Option<Vec<Vec<f32>>>,
}

fn flatten(path: &Path, name: &str, m: &[Vec<f32>], cols: usize) -> anyhow::Result<Vec<f32>> {
    let mut flat = Vec::with_capacity(m.len() * cols);
    for (i, row) in m.iter().enumerate() {
        if row.len() != cols {
            bail!(
                "{}: {name}[{i}] has {} scores, expected {cols}",
                path.display(),
                row.len()
            );
        }
        flat.extend_from_slice(row);
    }
    Ok(flat)
}

fn retrieval_cmd(a: &RetrievalArgs) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(&a.scores)
        .with_context(|| format!("cannot read {}", a.scores.display()))?;
    let f: ScoresFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid scores file ({{\"caption_to_item\", \"similarity\"}} or {{\"caption_to_item\", \"i2t\", \"t2i\"}})",
            a.scores.display()
        )
    })?;
    let ties = if a.pessimistic_ties {
        TiePolicy::Pessimistic
    } else {
        TiePolicy::Optimistic
    };
    let n_captions = f.caption_to_item.len();
    let ranks = match (&f.similarity, &f.i2t, &f.t2i) {
        (Some(sim), None, None) => {
            let flat = flatten(&a.scores, "similarity", sim, n_captions)?;
            retrieval::ranks(&flat, sim.len(), &f.caption_to_item, ties)
        }
        (None, Some(i2t), Some(t2i)) => {
            let n_items = i2t.len();
            let a_flat = flatten(&a.scores, "i2t", i2t, n_captions)?;
            let b_flat = flatten(&a.scores, "t2i", t2i, n_items)?;
            if t2i.len() != n_captions {
                bail!(
                    "{}: t2i has {} rows, expected one per caption ({n_captions})",
                    a.scores.display(),
                    t2i.len()
                );
            }
            retrieval::ranks_two_way(&a_flat, &b_flat, n_items, &f.caption_to_item, ties)
        }
        _ => bail!(
            "{}: give either \"similarity\" or both \"i2t\" and \"t2i\"",
            a.scores.display()
        ),
    }
    .with_context(|| format!("in {}", a.scores.display()))?;
    Ok(serde_json::to_value(ranks.metrics())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../datasets/fixtures/metrics")
            .join(name)
    }

    #[test]
    fn caption_command_prints_pycocoevalcap_names() {
        let out = caption(&CaptionArgs {
            results: fixture("captions_results.json"),
            annotations: fixture("captions_annotations.json"),
            only_result_images: false,
            per_image: true,
        })
        .unwrap();
        for k in ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "CIDEr", "ROUGE_L"] {
            assert!(out[k].is_f64(), "{k} in {out}");
        }
        assert_eq!(out["n_images"], 40);
        assert!(out["per_image"]["1001"]["CIDEr"].is_f64());
    }

    #[test]
    fn vqa_command_prints_official_rounding_too() {
        let out = vqa(&VqaArgs {
            results: fixture("vqa_results.json"),
            questions: fixture("vqa_questions.json"),
            annotations: fixture("vqa_annotations.json"),
            per_question: true,
        })
        .unwrap();
        assert_eq!(out["rounded"]["overall"], 82.86);
        assert_eq!(out["n_questions"], 42);
        assert_eq!(out["perQuestion"]["9000"], 100.0);
    }

    #[test]
    fn retrieval_command_reads_both_layouts() {
        let dir = tempfile_dir();
        let one = dir.join("one.json");
        std::fs::write(
            &one,
            r#"{"caption_to_item": [0, 0, 1, 1], "similarity": [[0.9, 0.1, 0.2, 0.3], [0.5, 0.4, 0.8, 0.1]]}"#,
        )
        .unwrap();
        let out = retrieval_cmd(&RetrievalArgs {
            scores: one,
            pessimistic_ties: false,
        })
        .unwrap();
        assert_eq!(out["i2t_r1"], 100.0);
        assert_eq!(out["t2i_r1"], 50.0);
        let two = dir.join("two.json");
        std::fs::write(
            &two,
            r#"{"caption_to_item": [0, 1], "i2t": [[1.0, 0.0], [0.0, 1.0]], "t2i": [[0.0, 1.0], [0.0, 1.0]]}"#,
        )
        .unwrap();
        let out = retrieval_cmd(&RetrievalArgs {
            scores: two,
            pessimistic_ties: false,
        })
        .unwrap();
        assert_eq!(out["i2t_r1"], 100.0);
        assert_eq!(out["t2i_r1"], 50.0);
        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"{"caption_to_item": [0], "similarity": [[1.0, 2.0]]}"#,
        )
        .unwrap();
        let err = retrieval_cmd(&RetrievalArgs {
            scores: bad,
            pessimistic_ties: false,
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("similarity[0]"), "{err:#}");
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A directory of this test process under the system temp dir (mafs-cli has no
    /// tempfile dependency).
    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("mafs-metrics-cli-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
