//! Writes the forest plot of Normand (1999), specialist versus general care
//! after stroke (length of stay; standardised mean differences), and its
//! contour-enhanced funnel plot, to `target/images/`.
//!
//! Run from the crate root: `cargo run --example forest_continuous` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::{Analysis, AnalysisOptions, Measure};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let analysis = Analysis::from_csv(
        "datasets/normand1999.csv",
        &AnalysisOptions::new(Measure::Smd),
    )?;
    let forest = analysis
        .forest_plot()
        .title("Length of hospital stay: specialist vs. routine care")
        .arms("Specialist", "Routine")
        .favours("Shorter with specialist", "Shorter with routine");
    forest
        .clone()
        .scale(2.0)
        .save(&common::image("forest_normand.png")?)?;
    forest.save(&common::image("forest_normand.svg")?)?;
    let funnel = analysis.funnel_plot().contours(true);
    funnel
        .clone()
        .scale(2.0)
        .save(&common::image("funnel_normand.png")?)?;
    funnel.save(&common::image("funnel_normand.svg")?)?;
    Ok(())
}
