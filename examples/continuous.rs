//! Two groups, continuous outcome: length of hospital stay in specialist vs
//! general stroke care (Hedges' g), DerSimonian-Laird with Knapp-Hartung.
//!
//! `cargo run --example continuous`

use cochran::{Analysis, AnalysisOptions, Measure, Method, Tau2, Test, report};

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Smd)
        .method(Method::Random(Tau2::Dl))
        .test(Test::Knha);
    let analysis = Analysis::from_csv("datasets/normand1999.csv", &options)?;
    print!("{}", report::text(&analysis));
    Ok(())
}
