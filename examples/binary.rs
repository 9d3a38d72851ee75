//! Two groups, binary outcome: BCG vaccine trials (risk ratio), random effects
//! with subgroups by allocation method.
//!
//! `cargo run --example binary`

use cochran::{Analysis, AnalysisOptions, Measure, Method, Tau2, report};

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Rr)
        .method(Method::Random(Tau2::Reml))
        .group_by("alloc");
    let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    print!("{}", report::text(&analysis));
    Ok(())
}
