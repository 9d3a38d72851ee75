//! Reports of an [`Analysis`]: a text summary for people, JSON for programs, and
//! the per-study table as CSV.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure, report};
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
//! let text = report::text(&analysis);
//! assert!(text.contains("tau^2 estimator: REML"));
//! let mut csv = Vec::new();
//! report::write_csv(&analysis, &mut csv)?;
//! assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 14); // header + 13 studies
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! Every result a front end prints is a [`Report`]: the analysis, the
//! per-instrument analyses, refits, influence, small-study effects, GOSH and
//! the instrument registry. Their JSON documents carry [`SCHEMA_VERSION`].

use std::io::Write;

use serde::Serialize;

use crate::analysis::{Analysis, OutcomeAnalysis};
use crate::bias::SmallStudyEffects;
use crate::effect::scales::ScaleRegistry;
use crate::error::{ErrorKind, Result};
use crate::sensitivity::{Gosh, Influence, Refit};

mod analysis;
mod bayes;
mod bias;
mod glmm;
pub mod number;
mod scales;
mod sensitivity;

pub use analysis::*;
pub use bias::*;
pub use number::{p_cell, p_value};
pub use scales::*;
pub use sensitivity::*;

/// The layout of the JSON documents, written as `schema_version` at the top
/// of each: it grows when a field is renamed or removed or changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// A result rendered three ways: a text summary for people, a JSON document
/// for programs, a table as CSV.
///
/// ```
/// use cochran::report::Report;
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// let mut json = Vec::new();
/// analysis.write_json(&mut json)?;
/// let document: serde_json::Value = serde_json::from_slice(&json).unwrap();
/// assert_eq!(document["schema_version"], cochran::report::SCHEMA_VERSION);
/// assert!(analysis.text().contains("tau^2 estimator: REML"));
/// # Ok::<(), cochran::Error>(())
/// ```
pub trait Report {
    /// The text summary.
    fn text(&self) -> String;
    /// The JSON document on one line, with `schema_version`.
    fn write_json(&self, writer: &mut dyn Write) -> Result<()>;
    /// The result's table as CSV; a result without one returns
    /// [`ErrorKind::NoTable`].
    fn write_csv(&self, writer: &mut dyn Write) -> Result<()>;
}

impl Report for Analysis {
    fn text(&self) -> String {
        text(self)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        write_json(self, writer)
    }
    fn write_csv(&self, writer: &mut dyn Write) -> Result<()> {
        write_csv(self, writer)
    }
}

impl Report for Vec<OutcomeAnalysis> {
    fn text(&self) -> String {
        outcomes_text(self)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        write_outcomes_json(self, writer)
    }
    fn write_csv(&self, writer: &mut dyn Write) -> Result<()> {
        write_outcomes_csv(self, writer)
    }
}

/// Refits of an analysis (leave-one-out or cumulative) with the words of
/// their table.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RefitsReport<'a> {
    /// The analysis refitted.
    pub analysis: &'a Analysis,
    /// The line above the table.
    pub heading: &'a str,
    /// The header of the column naming each row's study ("omitted", "added").
    pub column: &'a str,
    /// The refits, one a row.
    pub refits: &'a [Refit],
}

impl<'a> RefitsReport<'a> {
    /// The refits of `analysis` under `heading`, rows named in `column`.
    pub fn new(
        analysis: &'a Analysis,
        heading: &'a str,
        column: &'a str,
        refits: &'a [Refit],
    ) -> Self {
        RefitsReport {
            analysis,
            heading,
            column,
            refits,
        }
    }
}

impl Report for RefitsReport<'_> {
    fn text(&self) -> String {
        refits_text(self.analysis, self.heading, self.column, self.refits)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        versioned_json(&serde_json::json!({ "studies": self.refits }), writer)
    }
    fn write_csv(&self, writer: &mut dyn Write) -> Result<()> {
        write_refits_csv(self.refits, writer)
    }
}

impl Report for Influence {
    fn text(&self) -> String {
        influence_text(self)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        versioned_json(self, writer)
    }
    fn write_csv(&self, writer: &mut dyn Write) -> Result<()> {
        write_influence_csv(self, writer)
    }
}

/// The small-study-effect tests of an analysis.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct BiasReport<'a> {
    /// The analysis tested.
    pub analysis: &'a Analysis,
    /// The tests.
    pub bias: &'a SmallStudyEffects,
}

impl<'a> BiasReport<'a> {
    /// The tests `bias` of `analysis`.
    pub fn new(analysis: &'a Analysis, bias: &'a SmallStudyEffects) -> Self {
        BiasReport { analysis, bias }
    }
}

impl Report for BiasReport<'_> {
    fn text(&self) -> String {
        bias_text(self.analysis, self.bias)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        versioned_json(self.bias, writer)
    }
    fn write_csv(&self, _: &mut dyn Write) -> Result<()> {
        Err(ErrorKind::NoTable {
            what: "small-study-effect tests",
        }
        .into())
    }
}

impl Report for Gosh {
    fn text(&self) -> String {
        gosh_text(self)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        versioned_json(self, writer)
    }
    /// The summary has no table: [`GoshCsv`] writes the subsets as they are fitted.
    fn write_csv(&self, _: &mut dyn Write) -> Result<()> {
        Err(ErrorKind::NoTable {
            what: "a GOSH summary",
        }
        .into())
    }
}

impl Report for ScaleRegistry {
    fn text(&self) -> String {
        scales_text(self)
    }
    fn write_json(&self, writer: &mut dyn Write) -> Result<()> {
        versioned_json(self, writer)
    }
    fn write_csv(&self, _: &mut dyn Write) -> Result<()> {
        Err(ErrorKind::NoTable {
            what: "the instrument registry",
        }
        .into())
    }
}

#[derive(Serialize)]
struct Versioned<'a, T: Serialize + ?Sized> {
    schema_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// `body`'s fields after `schema_version`, as one JSON object.
fn versioned_json<T: Serialize + ?Sized>(body: &T, writer: impl Write) -> Result<()> {
    let document = Versioned {
        schema_version: SCHEMA_VERSION,
        body,
    };
    serde_json::to_writer(writer, &document).map_err(|e| ErrorKind::Write(e.into()).into())
}

fn csv_io(e: csv::Error) -> crate::Error {
    ErrorKind::Write(e.into()).into()
}

/// The pooling method of the model of independent effects ("REML", "FE"), or
/// the model's kind.
fn method_name(analysis: &Analysis) -> String {
    match (analysis.fit(), analysis.model.glmm()) {
        (Some(fit), _) => fit.method.to_string(),
        (None, Some(_)) => crate::model::Method::Glmm.to_string(),
        (None, None) => analysis.model.kind().to_string(),
    }
}

/// " (log scale)" and the like for a measure analysed on a transformed scale.
fn scale_note(measure: crate::effect::Measure) -> String {
    measure
        .transformed_scale()
        .map_or(String::new(), |s| format!(" ({s} scale)"))
}
