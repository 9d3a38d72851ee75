//! Meta-regression of the BCG vaccine trials on absolute latitude: the
//! coefficient table, a permutation test, predicted risk ratios at three
//! latitudes, and a bubble plot.
//!
//! Run from the crate root: `cargo run --example meta_regression` writes the plot
//! to `target/images/`; `cargo run --example meta_regression -- docs/images`
//! refreshes the README's image.

use cochran::{Analysis, AnalysisOptions, Measure, report};

#[path = "common/mod.rs"]
mod common;

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Rr)
        .moderators(&["ablat"])
        .permutations(10_000, 1)
        .predict(&[("ablat", "10")])
        .predict(&[("ablat", "30")])
        .predict(&[("ablat", "50")]);
    let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    print!("{}", report::text(&analysis));

    let regression = analysis
        .fit()
        .and_then(|fit| fit.regression.as_ref())
        .expect("a meta-regression of independent effects");
    let latitude = &regression.coefficients[1];
    println!(
        "Latitude: {:.4} per degree (p = {:.2e}; permutation p = {:.4} from {} permutations)",
        latitude.estimate,
        latitude.p_value,
        latitude.p_value_permutation.unwrap_or(f64::NAN),
        regression
            .permutation_test
            .as_ref()
            .map_or(0, |t| t.permutations)
    );
    for prediction in analysis.predictions.iter().flatten() {
        let rr = prediction
            .back_transformed
            .expect("risk ratios are back-transformed");
        println!(
            "  at {:>2} degrees: RR {:.2} [{:.2}, {:.2}], prediction interval [{:.2}, {:.2}]",
            prediction.values["ablat"],
            rr.estimate,
            rr.ci_lower,
            rr.ci_upper,
            rr.pi_lower.unwrap_or(f64::NAN),
            rr.pi_upper.unwrap_or(f64::NAN)
        );
    }

    let path = common::image("bubble_bcg.png")?;
    analysis
        .bubble_plot()
        .title("BCG vaccine: risk ratio by absolute latitude")
        .prediction_band(true)
        .scale(2.0)
        .save(&path)?;
    Ok(())
}
