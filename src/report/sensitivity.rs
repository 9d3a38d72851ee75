//! Reports of refits: leave-one-out, cumulative, influence, GOSH.

use std::fmt::Write as _;
use std::io::Write;

use super::*;
use crate::analysis::Analysis;
use crate::error::{Error, ErrorKind, Result};

/// A table of refits (leave-one-out, cumulative): `heading` above it, each
/// row named in a column headed `column`.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure, report};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// let loo = analysis.leave_one_out()?;
/// let text = report::refits_text(&analysis, "Leave-one-out", "omitted", &loo.studies);
/// assert!(text.contains("Aronson 1948"));
/// # Ok::<(), cochran::Error>(())
/// ```
pub fn refits_text(
    analysis: &Analysis,
    heading: &str,
    column: &str,
    refits: &[crate::sensitivity::Refit],
) -> String {
    let mut out = String::new();
    let scale = scale_note(analysis.measure);
    let _ = writeln!(out, "{heading}: {} model{scale}\n", method_name(analysis));
    let labels: Vec<String> = refits.iter().map(|r| shortened(&r.study)).collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(column.chars().count());
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>9} {:>8} {:>10} {:>10} {:>10} {:>8} {:>10} {:>8}",
        column, "estimate", "se", "p", "ci.lower", "ci.upper", "Q", "Q p", "tau^2", "I^2"
    );
    for (r, label) in refits.iter().zip(&labels) {
        let _ = writeln!(
            out,
            "  {:<width$} {:>10.4} {:>9.4} {:>8} {:>10.4} {:>10.4} {:>10} {:>8} {:>10.4} {:>8}",
            label,
            r.estimate,
            r.se,
            r.p_value.map_or("NA".into(), p_cell),
            r.ci_lower,
            r.ci_upper,
            r.q.map_or("NA".into(), |q| format!("{q:.4}")),
            r.q_p_value.map_or("NA".into(), p_cell),
            r.tau2,
            r.i2.map_or("NA".into(), |i| format!("{i:.2}%")),
        );
    }
    out.push('\n');
    out
}

/// Refits as CSV, one row each.
pub fn write_refits_csv(refits: &[crate::sensitivity::Refit], writer: impl Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record([
        "study",
        "estimate",
        "se",
        "statistic",
        "p_value",
        "ci_lower",
        "ci_upper",
        "q",
        "q_p_value",
        "tau2",
        "i2",
        "h2",
    ])
    .map_err(csv_io)?;
    let cell = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    for r in refits {
        csv.write_record([
            r.study.clone(),
            r.estimate.to_string(),
            r.se.to_string(),
            cell(r.statistic),
            cell(r.p_value),
            r.ci_lower.to_string(),
            r.ci_upper.to_string(),
            cell(r.q),
            cell(r.q_p_value),
            r.tau2.to_string(),
            cell(r.i2),
            cell(r.h2),
        ])
        .map_err(csv_io)?;
    }
    csv.flush().map_err(|e| ErrorKind::Write(e).into())
}

/// The influence diagnostics as a table; influential studies marked `*`.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure, report};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// assert!(report::influence_text(&analysis.influence()?).contains("rstudent"));
/// # Ok::<(), cochran::Error>(())
/// ```
pub fn influence_text(influence: &crate::sensitivity::Influence) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Influence diagnostics (* influential by metafor's rule)\n"
    );
    let labels: Vec<String> = influence
        .studies
        .iter()
        .map(|r| shortened(&r.study))
        .collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "  {:<width$} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>7} {:>8} {:>9}",
        "study",
        "rstudent",
        "dffits",
        "cook.d",
        "cov.r",
        "tau2.del",
        "QE.del",
        "hat",
        "weight",
        "dfbetas"
    );
    for (r, label) in influence.studies.iter().zip(&labels) {
        let _ = writeln!(
            out,
            "  {:<width$} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>10.4} {:>10.4} {:>7.4} {:>7.2}% {:>9.4}{}",
            label,
            r.rstudent,
            r.dffits,
            r.cooks_distance,
            r.cov_ratio,
            r.tau2_deleted,
            r.q_deleted,
            r.hat,
            r.weight,
            r.dfbetas,
            if r.influential { " *" } else { "" }
        );
    }
    out.push('\n');
    out
}

/// The influence diagnostics as CSV, one row per study.
pub fn write_influence_csv(
    influence: &crate::sensitivity::Influence,
    writer: impl Write,
) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record([
        "study",
        "rstudent",
        "dffits",
        "cooks_distance",
        "cov_ratio",
        "tau2_deleted",
        "q_deleted",
        "hat",
        "weight",
        "dfbetas",
        "influential",
    ])
    .map_err(csv_io)?;
    for r in &influence.studies {
        let numbers = [
            r.rstudent,
            r.dffits,
            r.cooks_distance,
            r.cov_ratio,
            r.tau2_deleted,
            r.q_deleted,
            r.hat,
            r.weight,
            r.dfbetas,
        ];
        let mut record = vec![r.study.clone()];
        record.extend(numbers.iter().map(f64::to_string));
        record.push(r.influential.to_string());
        csv.write_record(&record).map_err(csv_io)?;
    }
    csv.flush().map_err(|e| ErrorKind::Write(e).into())
}

/// GOSH's summary as text.
pub fn gosh_text(gosh: &crate::sensitivity::Gosh) -> String {
    let mut out = String::new();
    let how = match gosh.seed {
        None => "every subset".to_string(),
        Some(seed) => format!("random subsets, seed {seed}"),
    };
    let _ = writeln!(
        out,
        "GOSH: k = {} studies, {} subsets fitted ({how})\n",
        gosh.k, gosh.subsets
    );
    let _ = writeln!(
        out,
        "  {:<9} {:>12} {:>12} {:>12}",
        "", "min", "mean", "max"
    );
    let s = &gosh.summary;
    for (name, spread) in [
        ("estimate", s.estimate),
        ("I^2 (%)", s.i2),
        ("tau^2", s.tau2),
        ("Q", s.q),
    ] {
        let _ = writeln!(
            out,
            "  {name:<9} {:>12.4} {:>12.4} {:>12.4}",
            spread.min, spread.mean, spread.max
        );
    }
    out.push('\n');
    out
}

/// Writes GOSH fits as CSV rows as they arrive: members (1-based study
/// positions separated by spaces), k, estimate, se, tau2, i2, q.
pub struct GoshCsv<W: Write> {
    csv: csv::Writer<W>,
    header: bool,
}

impl<W: Write> GoshCsv<W> {
    /// Rows to `writer`, the header before the first.
    pub fn new(writer: W) -> Self {
        GoshCsv {
            csv: csv::Writer::from_writer(writer),
            header: false,
        }
    }

    /// One fit.
    pub fn write(&mut self, fit: &crate::sensitivity::GoshFit) -> Result<()> {
        if !self.header {
            self.csv
                .write_record(["members", "k", "estimate", "se", "tau2", "i2", "q"])
                .map_err(csv_io)?;
            self.header = true;
        }
        let members: Vec<String> = fit.members.iter().map(|i| (i + 1).to_string()).collect();
        self.csv
            .write_record([
                members.join(" "),
                fit.members.len().to_string(),
                fit.estimate.to_string(),
                fit.se.to_string(),
                fit.tau2.to_string(),
                fit.i2.to_string(),
                fit.q.to_string(),
            ])
            .map_err(csv_io)
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> Result<()> {
        self.csv
            .flush()
            .map_err(|e| Error::from(ErrorKind::Write(e)))
    }
}
