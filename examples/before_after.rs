//! One group before and after: Morris (2008) training studies, standardised
//! mean change (pre-test SD), treatment and control arms as subgroups.
//!
//! `cargo run --example before_after`

use cochran::{Analysis, AnalysisOptions, Measure, report};

fn main() -> Result<(), cochran::Error> {
    // The file's `subgroup` column (T or C) groups the studies without --by.
    let analysis = Analysis::from_csv(
        "datasets/morris2008.csv",
        &AnalysisOptions::new(Measure::Smcr),
    )?;
    print!("{}", report::text(&analysis));
    Ok(())
}
