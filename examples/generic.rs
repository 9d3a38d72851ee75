//! Precomputed effect sizes: writing-to-learn interventions (standardised mean
//! differences with their variances), built in code from the CSV's effects and
//! fitted with every tau^2 estimator.
//!
//! `cargo run --example generic`

use cochran::{Analysis, AnalysisOptions, Measure, MetaAnalysis, Tau2};

fn main() -> Result<(), cochran::Error> {
    let analysis = Analysis::from_csv(
        "datasets/bangertdrowns2004.csv",
        &AnalysisOptions::new(Measure::Gen),
    )?;
    let effects = analysis.effects.effects();
    println!(
        "{:<6} {:>9} {:>9} {:>9}",
        "tau^2", "estimate", "ci.lower", "ci.upper"
    );
    for estimator in Tau2::ALL {
        let fit = MetaAnalysis::random(estimator).fit(&effects)?;
        println!(
            "{estimator:<6} {:>9.4} {:>9.4} {:>9.4}  (tau^2 = {:.4})",
            fit.estimate, fit.ci_lower, fit.ci_upper, fit.tau2
        );
    }
    println!(
        "\nAs JSON:\n{}",
        serde_json::to_string_pretty(&analysis.model).expect("serialisable")
    );
    Ok(())
}
