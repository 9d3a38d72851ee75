//! Hip function after cell injections for osteoarthritis: HHS, mHHS and WOMAC
//! pooled as standardised changes, with the several instruments of one study
//! as dependent effects (three-level model, CR2 robust test). Prints the
//! summary and writes the forest plot to `target/images/forest_hip_clusters.png`
//! and `.svg`.
//!
//! Run from the crate root: `cargo run --example dependent_effects` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::effect::SdImputation;
use cochran::{Analysis, AnalysisOptions, Measure};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Smcr)
        .outcome("HHS,mHHS,WOMAC")
        .r(0.5)
        .impute_sd(SdImputation::Max)
        .improvement_positive(true)
        .cluster("study")
        .robust(true);
    let analysis = Analysis::from_csv("datasets/hip_oa_msc.csv", &options)?;
    print!("{}", cochran::report::text(&analysis));
    let plot = analysis
        .forest_plot()
        .title("Hip function (HHS, mHHS, WOMAC), effects nested in studies");
    plot.clone()
        .scale(2.0)
        .save(&common::image("forest_hip_clusters.png")?)?;
    plot.save(&common::image("forest_hip_clusters.svg")?)?;
    Ok(())
}
