//! Writes the README's sensitivity and small-study-effect figures to
//! `target/images/`: the Baujat plot and the GOSH plot of the BCG vaccine trials
//! (risk ratios, REML), the leave-one-out forest plot, and the trim-and-fill
//! funnel plot of the writing-to-learn studies (Bangert-Drowns et al. 2004).
//!
//! Run from the crate root: `cargo run --release --example sensitivity` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::bias::BiasOptions;
use cochran::sensitivity::Subsets;
use cochran::{Analysis, AnalysisOptions, Measure};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let bcg = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;

    let baujat = bcg.baujat()?;
    let plot = bcg.baujat_plot(&baujat).title("BCG trials: Baujat plot");
    plot.clone()
        .scale(2.0)
        .save(&common::image("baujat_bcg.png")?)?;
    plot.save(&common::image("baujat_bcg.svg")?)?;

    let gosh = bcg.gosh(Subsets::Default)?;
    let plot = bcg.gosh_plot(&gosh).title("BCG trials: GOSH plot (REML)");
    plot.clone()
        .scale(2.0)
        .save(&common::image("gosh_bcg.png")?)?;
    plot.save(&common::image("gosh_bcg.svg")?)?;

    let loo = bcg.leave_one_out()?;
    let plot = bcg
        .forest_plot()
        .leave_one_out(&loo)
        .title("BCG trials: leave-one-out")
        .favours("Favours vaccine", "Favours no vaccine");
    plot.clone()
        .scale(2.0)
        .save(&common::image("leave_one_out_bcg.png")?)?;
    plot.save(&common::image("leave_one_out_bcg.svg")?)?;

    let writing = Analysis::from_csv(
        "datasets/bangertdrowns2004.csv",
        &AnalysisOptions::new(Measure::Gen),
    )?;
    let bias = writing.small_study_effects(&BiasOptions::new())?;
    let plot = writing
        .funnel_plot()
        .trim_and_fill(&bias.trim_and_fill)
        .title("Writing-to-learn interventions: trim-and-fill");
    plot.clone()
        .scale(2.0)
        .save(&common::image("trimfill_bangertdrowns.png")?)?;
    plot.save(&common::image("trimfill_bangertdrowns.svg")?)?;
    Ok(())
}
