//! Writes the forest plot of the BCG vaccine trials (risk ratios, subgroups by
//! allocation method) to `target/images/forest_bcg.png` and `.svg`.
//!
//! Run from the crate root: `cargo run --example forest_binary` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::{Analysis, AnalysisOptions, Measure};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Rr).group_by("alloc");
    let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    let plot = analysis
        .forest_plot()
        .title("BCG vaccine and tuberculosis, by allocation method")
        .arms("Vaccinated", "Not vaccinated")
        .favours("Favours vaccine", "Favours no vaccine");
    plot.clone()
        .scale(2.0)
        .save(&common::image("forest_bcg.png")?)?;
    plot.save(&common::image("forest_bcg.svg")?)?;
    Ok(())
}
