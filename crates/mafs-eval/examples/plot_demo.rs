//! Draws one figure of each kind the plotting code makes, from fixed numbers, to look at
//! after changing `src/plot/`:
//!
//! `cargo build --workspace --example plot_demo && target/debug/examples/plot_demo OUT_DIR`
//!
//! writes `OUT_DIR/{lines,bars}.{png,svg}`: metric against severity with error bars and
//! labelled ticks next to a log-log panel; grouped bars with long category names.

use std::path::PathBuf;

use mafs_eval::plot::bars::{BarGroup, grouped_bars};
use mafs_eval::plot::{Figure, Legend, PALETTE, Panel, Series, Style};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let mut ticks = vec![(0.0, "clean".to_string())];
    ticks.extend((1..=5).map(|s| (s as f64, s.to_string())));
    let line = |i: usize, name: &str, base: f64, drop: f64| Series {
        name: name.into(),
        color: PALETTE[i],
        style: Style::Line,
        points: (0..=5)
            .map(|s| (s as f64, base - drop * s as f64, 1.0 + 0.3 * s as f64))
            .collect(),
    };
    let severity = Panel {
        title: "image:gaussian_noise".into(),
        x_label: "severity".into(),
        y_label: "rsum".into(),
        series: vec![
            line(0, "ma-afs", 160.0, 9.0),
            line(1, "fixed-query", 158.0, 14.0),
        ],
        x_range: Some((-0.3, 5.3)),
        x_tick_labels: ticks,
        legend: Legend::LowerLeft,
        ..Panel::default()
    };
    let xs = [8.0, 16.0, 32.0, 64.0];
    let scale = Panel {
        title: "step time against batch".into(),
        x_label: "batch".into(),
        y_label: "ms per training step".into(),
        series: vec![
            Series::new("burn", PALETTE[0], Style::Line, &xs.map(|x| (x, 40.0 * x))),
            Series::new(
                "PyTorch",
                PALETTE[1],
                Style::Line,
                &xs.map(|x| (x, 30.0 * x + 100.0)),
            ),
        ],
        x_tick_labels: xs.iter().map(|x| (*x, x.to_string())).collect(),
        x_log: true,
        y_log: true,
        legend: Legend::UpperLeft,
        ..Panel::default()
    };
    Figure::new(
        "demo: lines with error bars; log axes",
        vec![severity, scale],
        2,
    )
    .save(&out, "lines")?;
    let cats: Vec<String> = [
        "clean",
        "image:gaussian_noise:3",
        "image:missing",
        "text:keyboard:3",
        "shift (domain)",
        "transfer hf.parquet (test)",
    ]
    .map(String::from)
    .to_vec();
    let groups = vec![
        BarGroup {
            name: "ma-afs".into(),
            values: vec![
                Some((156.0, 4.0)),
                Some((150.0, 3.0)),
                Some((160.0, 5.0)),
                Some((151.0, 2.0)),
                Some((6.0, 1.0)),
                Some((500.0, 10.0)),
            ],
        },
        BarGroup {
            name: "fixed-query".into(),
            values: vec![
                Some((156.0, 3.0)),
                Some((142.0, 4.0)),
                Some((171.0, 2.0)),
                None,
                Some((6.1, 1.0)),
                Some((550.0, 12.0)),
            ],
        },
    ];
    grouped_bars("demo: rsum by condition", "rsum", &cats, &groups).save(&out, "bars")?;
    println!(
        "wrote {}/lines.png and {}/bars.png (and .svg)",
        out.display(),
        out.display()
    );
    Ok(())
}
