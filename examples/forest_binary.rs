//! Writes the forest plot of the BCG vaccine trials (risk ratios, subgroups by
//! allocation method) to `docs/images/forest_bcg.png` and `.svg`.
//!
//! Run from the crate root: `cargo run --example forest_binary`.

use cochran::{Analysis, AnalysisOptions, Measure};

fn main() -> Result<(), cochran::Error> {
    let options = AnalysisOptions::new(Measure::Rr).group_by("alloc");
    let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    let plot = analysis
        .forest_plot()
        .title("BCG vaccine and tuberculosis, by allocation method")
        .arms("Vaccinated", "Not vaccinated")
        .favours("Favours vaccine", "Favours no vaccine");
    std::fs::create_dir_all("docs/images").map_err(cochran::ErrorKind::Io)?;
    plot.clone().scale(2.0).save("docs/images/forest_bcg.png")?;
    plot.save("docs/images/forest_bcg.svg")?;
    println!("wrote docs/images/forest_bcg.png and docs/images/forest_bcg.svg");
    Ok(())
}
