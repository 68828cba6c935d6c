//! `mafs predict`: one input through a saved run. VQA answers the question, captioning
//! writes a caption, retrieval ranks the run's test captions for the item.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use burn::tensor::Tensor;
use mafs_data::dataset::CaptionDataset;
use mafs_data::error::RecordRef;
use mafs_data::image_io::{ResizeMode, load_image};
use mafs_data::{Instance, Qa, Split};
use mafs_train::config::Task;
use mafs_train::data::{TaskDataset, load_splits, make_batcher, to_model_batch};
use mafs_train::device::parse_device;
use mafs_train::model::TaskModule;
use mafs_train::train::{load_run, tau_schedule};

/// Arguments of `mafs predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    /// Run directory.
    #[arg(long)]
    pub run: PathBuf,
    /// Image file (JPEG or PNG); resized to the model's input.
    #[arg(long)]
    pub image: PathBuf,
    /// Side text (alt-text, tags) for the item; omitted means missing.
    #[arg(long)]
    pub text: Option<String>,
    /// The question (VQA).
    #[arg(long)]
    pub question: Option<String>,
    /// How many answers or captions to list.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Beam size for captioning.
    #[arg(long, default_value_t = 3)]
    pub beam: usize,
    /// Device: cpu, wgpu[:N], cuda[:N], remote:HOST:PORT.
    #[arg(long, env = "MAFS_DEVICE", default_value = "cpu")]
    pub device: String,
}

/// Runs `mafs predict`.
pub fn run(args: PredictArgs) -> Result<ExitCode> {
    let device = parse_device(&args.device)?;
    let (config, vocab, model, state) =
        load_run(&args.run, &device).with_context(|| format!("loading {}", args.run.display()))?;
    let size = model.spec.image_size as u32;
    let image = load_image(
        &args.image,
        Some(size),
        ResizeMode::CenterCrop,
        &RecordRef::new(&args.image, 0, None),
    )?;
    let mut instance = Instance {
        id: 0,
        split: Split::Test,
        filename: args.image.display().to_string(),
        image: Some(image),
        captions: vec!["".into()],
        sentids: vec![0],
        side_text: args.text.clone(),
        questions: Vec::new(),
        corruptions: Vec::new(),
    };
    let steps = state.step.max(1);
    let tau = tau_schedule(&config, steps).tau(steps);
    let batcher = make_batcher(&vocab, size, model.spec.context_length, None);
    let batch = match model.spec.task {
        Task::Vqa => {
            let Some(q) = &args.question else {
                bail!("this run answers questions: pass --question");
            };
            instance.questions.push(Qa {
                question_id: 0,
                question: q.clone(),
                question_type: "unknown".into(),
                answer_type: "other".into(),
                answers: vec![],
                answer: String::new(),
            });
            let data = TaskDataset::sampled(Task::Vqa, vec![instance.clone()], 0);
            to_model_batch(data.batch(&batcher, &[0], 0, &device))
        }
        _ => {
            let data = TaskDataset::Caption(CaptionDataset::per_instance(vec![instance.clone()]));
            to_model_batch(data.batch(&batcher, &[0], 0, &device))
        }
    };
    let f = model.forward_items(&batch, tau, true);
    let weights = f
        .weights
        .weights
        .clone()
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("weights");
    let mut out = serde_json::json!({
        "run": args.run,
        "task": config.task,
        "fusion": config.fusion,
        "weights": model.spec.modalities.iter().zip(&weights).map(|(m, w)| (m.clone(), *w)).collect::<std::collections::BTreeMap<_, _>>(),
    });
    match &model.head {
        TaskModule::Vqa(h) => {
            let pred = mafs_core::TaskHead::predict(&h.answer, &f.fused);
            let probs = pred
                .probs
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("probs");
            let mut ranked: Vec<(usize, f32)> = probs.into_iter().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            out["answers"] = ranked
                .iter()
                .take(args.top)
                .map(|(i, p)| serde_json::json!({"answer": vocab.answers.answer(*i as u32), "probability": p}))
                .collect();
        }
        TaskModule::Captioning(h) => {
            let mut cfg = h.decoder.generation.clone();
            cfg.beam_size = args.beam.max(1);
            let hyps = h.decoder.generate(&f.fused, &cfg);
            out["captions"] = hyps[0]
                .iter()
                .take(args.top)
                .map(|h| serde_json::json!({"caption": vocab.tokenizer.decode(&h.tokens), "score": h.score}))
                .collect();
        }
        TaskModule::Retrieval(h) => {
            let splits = load_splits(&config.data, size)?;
            let test = splits.get(&Split::Test).cloned().unwrap_or_default();
            if test.is_empty() {
                bail!("the run's data has no test captions to rank");
            }
            let captions = TaskDataset::Caption(CaptionDataset::new(test.clone()));
            let mut texts = Vec::new();
            let mut pooled = Vec::new();
            let n = captions.len();
            for start in (0..n).step_by(64) {
                let idx: Vec<usize> = (start..(start + 64).min(n)).collect();
                let b = to_model_batch(captions.batch(&batcher, &idx, 0, &device));
                pooled.push(
                    model
                        .encode_text(b.caption.as_ref().expect("captions"))
                        .pooled,
                );
            }
            for inst in &test {
                texts.extend(inst.captions.iter().cloned());
            }
            let sim = h
                .itc
                .similarity(f.fused.pooled.clone(), Tensor::cat(pooled, 0));
            let scores = sim
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("scores");
            let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            out["captions"] = ranked
                .iter()
                .take(args.top)
                .map(|(i, s)| serde_json::json!({"caption": texts[*i], "similarity": s}))
                .collect();
        }
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
