//! Pools single-arm case series as proportions: patients whose neurological
//! deficits improved under hyperdynamic therapy for cerebral vasospasm, in 14
//! studies (metadat's dat.pritz1997), on the Freeman–Tukey scale,
//! back-transformed; writes the forest plot to `target/images/forest_pritz.png`
//! and `.svg`.
//!
//! Run from the crate root: `cargo run --example proportions` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::{Analysis, AnalysisOptions, Measure, report};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let analysis = Analysis::from_csv(
        "datasets/pritz1997.csv",
        &AnalysisOptions::new(Measure::Pft),
    )?;
    print!("{}", report::text(&analysis));
    let plot = analysis
        .forest_plot()
        .title("Improvement under hyperdynamic therapy: 14 studies (Freeman-Tukey, REML)");
    plot.clone()
        .scale(2.0)
        .save(&common::image("forest_pritz.png")?)?;
    plot.save(&common::image("forest_pritz.svg")?)?;
    Ok(())
}
