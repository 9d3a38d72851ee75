//! Writes the forest plot of Normand (1999), specialist versus general care
//! after stroke (length of stay; standardised mean differences), and its
//! contour-enhanced funnel plot, to `docs/images/`.
//!
//! Run from the crate root: `cargo run --example forest_continuous`.

use cochran::{Analysis, AnalysisOptions, ErrorKind, Measure};

fn main() -> Result<(), cochran::Error> {
    let analysis = Analysis::from_csv(
        "datasets/normand1999.csv",
        &AnalysisOptions::new(Measure::Smd),
    )?;
    std::fs::create_dir_all("docs/images").map_err(ErrorKind::Io)?;
    let forest = analysis
        .forest_plot()
        .title("Length of hospital stay: specialist vs. routine care")
        .arms("Specialist", "Routine")
        .favours("Shorter with specialist", "Shorter with routine");
    forest
        .clone()
        .scale(2.0)
        .save("docs/images/forest_normand.png")?;
    forest.save("docs/images/forest_normand.svg")?;
    let funnel = analysis.funnel_plot().contours(true);
    funnel
        .clone()
        .scale(2.0)
        .save("docs/images/funnel_normand.png")?;
    funnel.save("docs/images/funnel_normand.svg")?;
    println!(
        "wrote docs/images/forest_normand.{{png,svg}} and docs/images/funnel_normand.{{png,svg}}"
    );
    Ok(())
}
