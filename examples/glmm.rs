//! Pools the same 14 case series as `proportions`, by the binomial-normal
//! GLMM (metafor's `rma.glmm(measure = "PLO")`): the counts as they are, two
//! studies with every patient improved included without a continuity
//! correction; writes the forest plot, with exact (Clopper–Pearson) study
//! intervals on the proportion scale, to `target/images/forest_glmm_pritz.png`
//! and `.svg`.
//!
//! Run from the crate root: `cargo run --example glmm` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::{Analysis, AnalysisOptions, Measure, Method, report};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Plo).method(Method::Glmm);
    let analysis = Analysis::from_csv("datasets/pritz1997.csv", &options)?;
    print!("{}", report::text(&analysis));
    let plot = analysis
        .forest_plot()
        .title("Improvement under hyperdynamic therapy: 14 studies (binomial-normal GLMM)");
    plot.clone()
        .scale(2.0)
        .save(&common::image("forest_glmm_pritz.png")?)?;
    plot.save(&common::image("forest_glmm_pritz.svg")?)?;
    Ok(())
}
