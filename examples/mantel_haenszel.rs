//! Pools 2×2 tables with the Mantel–Haenszel method, RevMan's default for
//! dichotomous outcomes: anti-infective catheters and catheter-related
//! bloodstream infections (Niël-Weise et al. 2007, metadat's
//! dat.nielweise2007), with zero and double-zero tables; prints the
//! Cochran–Mantel–Haenszel and Tarone tests and writes the forest plot to
//! `target/images/forest_mh_nielweise.png` and `.svg`.
//!
//! Run from the crate root: `cargo run --example mantel_haenszel` (images go to
//! `target/images/`; `-- docs/images` refreshes the README's).

use cochran::{Analysis, AnalysisOptions, Measure, Method, report};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Or).method(Method::MantelHaenszel);
    let analysis = Analysis::from_csv("tests/reference/data/nielweise2007.csv", &options)?;
    print!("{}", report::text(&analysis));
    let plot = analysis
        .forest_plot()
        .title("Anti-infective catheters and bloodstream infection (M-H odds ratio)")
        .arms("Anti-infective", "Standard")
        .favours("Favours anti-infective", "Favours standard");
    plot.clone()
        .scale(2.0)
        .save(&common::image("forest_mh_nielweise.png")?)?;
    plot.save(&common::image("forest_mh_nielweise.svg")?)?;
    Ok(())
}
