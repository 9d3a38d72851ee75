//! Cell injections for hip osteoarthritis: pooled before/after changes per
//! instrument (HHS, WOMAC, pain scales), with a stated pre/post correlation, its
//! sensitivity analysis, SDs borrowed conservatively where a study reports none,
//! and a forest plot per instrument that could be analysed.
//!
//! `cargo run --example hip_oa` (plots go to target/hip_oa/)

use cochran::{Analysis, AnalysisOptions, Measure, SdImputation, report};

fn main() -> Result<(), cochran::Error> {
    // The correlation between pre and post scores is not reported by any study:
    // 0.5 is assumed and 0.2 to 0.8 shows how much the result depends on it.
    let options = AnalysisOptions::new(Measure::Mc)
        .r(0.5)
        .r_sensitivity(&[0.2, 0.5, 0.8])
        .impute_sd(SdImputation::Max);
    let outcomes = Analysis::per_outcome_csv("datasets/hip_oa_msc.csv", &options)?;
    print!("{}", report::outcomes_text(&outcomes));
    let folder = std::path::Path::new("target/hip_oa");
    std::fs::create_dir_all(folder).map_err(|e| cochran::Error::from(cochran::ErrorKind::Io(e)))?;
    for outcome in &outcomes {
        let Some(analysis) = &outcome.analysis else {
            continue;
        };
        let path = folder.join(format!("forest_{}.png", outcome.outcome.replace(' ', "_")));
        analysis
            .forest_plot()
            .title(format!(
                "{}: change from baseline after cell injection",
                outcome.outcome
            ))
            .save(&path)?;
        println!("forest plot: {}", path.display());
    }
    Ok(())
}
