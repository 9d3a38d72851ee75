//! The crate's one error type.
//!
//! Every fallible function returns [`Error`]. It carries an [`ErrorKind`] that says
//! what went wrong and, where it applies, a [`Location`]: the file, the line
//! (the header is line 1) or the spreadsheet cell, and the column. The `Display`
//! form is written for the person who has to fix the input:
//!
//! ```text
//! studies.csv, line 5, column `sd1`: expected a number, found `abc`
//! studies.xlsx, Data!D5, column `sd1`: expected a number, found `abc`
//! ```

use std::fmt;
use std::path::PathBuf;

/// A shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in the input an error was found. Every part is optional: an error in a
/// study built in code has no file, a missing column has no row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file that was read.
    pub file: Option<PathBuf>,
    /// The row as the user sees it: the line of a text file (the header is
    /// line 1), or the row of a spreadsheet.
    pub row: Option<usize>,
    /// For a spreadsheet: the sheet and, where the column is known, the
    /// cell's column letters (`C`).
    pub sheet: Option<SheetCell>,
    /// The column name as the measure knows it (e.g. `sd1`).
    pub column: Option<String>,
    /// The row is a data frame's position, counted from 0.
    pub frame: bool,
}

/// A sheet of a spreadsheet and, if known, the column letters of a cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SheetCell {
    /// The sheet's name.
    pub sheet: String,
    /// The column's letters (`A`, `AB`), when the cell's column is known.
    pub letters: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(file) = &self.file {
            parts.push(file.display().to_string());
        }
        match (&self.sheet, self.row) {
            (
                Some(SheetCell {
                    sheet,
                    letters: Some(letters),
                }),
                Some(row),
            ) => parts.push(format!("{sheet}!{letters}{row}")),
            (Some(SheetCell { sheet, .. }), Some(row)) => {
                parts.push(format!("sheet `{sheet}`, row {row}"))
            }
            (Some(SheetCell { sheet, .. }), None) => parts.push(format!("sheet `{sheet}`")),
            (None, Some(row)) if self.frame => parts.push(format!("data frame row {row} (from 0)")),
            (None, Some(row)) => parts.push(format!("line {row}")),
            (None, None) => {}
        }
        if let Some(column) = &self.column {
            parts.push(format!("column `{column}`"));
        }
        f.write_str(&parts.join(", "))
    }
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened or read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// An output (a plot file, standard output) could not be written.
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    /// The CSV itself is malformed (e.g. a row with a different number of fields).
    #[error("malformed CSV: {0}")]
    Csv(String),
    /// The file is not a table cochran can read (a binary file, a spreadsheet
    /// with a text file's name, a damaged workbook).
    #[error("cannot read the file as a table: {0}")]
    Unreadable(String),
    /// The file has no header line or no data rows.
    #[error("the file has no data rows (a header line followed by one row per study is expected)")]
    Empty,
    /// Columns that the measure needs are absent from the header.
    #[error("the file has no column {}; measure {measure} needs the columns {}{}; the file's columns are {}", quoted(missing), needs.join(", "), did_you_mean(suggestions), quoted(found))]
    MissingColumn {
        /// The absent columns.
        missing: Vec<String>,
        /// The measure that asked for it.
        measure: String,
        /// Every column the measure needs.
        needs: Vec<String>,
        /// Headers of the file that look like an absent column: (absent, header).
        suggestions: Vec<(String, String)>,
        /// The headers the file has.
        found: Vec<String>,
    },
    /// A numeric cell holds something that is not a number.
    #[error("expected a number, found `{found}`")]
    NotANumber {
        /// The cell's text.
        found: String,
    },
    /// A numeric cell of a spreadsheet holds a date.
    #[error("expected a number, found the date {date} (the cell is formatted as a date)")]
    DateNotANumber {
        /// The date as year-month-day.
        date: String,
    },
    /// The input is larger than cochran reads: a file, a part of a
    /// spreadsheet, a line, a cell or the table.
    #[error("{what} exceeds the limit of {limit} {unit} that cochran reads")]
    TooLarge {
        /// What is too large, as a phrase.
        what: String,
        /// The limit.
        limit: u64,
        /// What the limit counts (bytes, cells, rows, …).
        unit: &'static str,
    },
    /// A value is a number but not an admissible one (negative SD, events > n, …).
    #[error("{0}")]
    InvalidValue(String),
    /// A value required by the measure is missing and `strict` mode is on.
    #[error("study `{study}` has no value for `{column}` (strict mode)")]
    MissingValue {
        /// The study's label.
        study: String,
        /// The empty column.
        column: String,
    },
    /// No studies are left to pool.
    #[error("no studies left to analyse{0}")]
    NoStudies(String),
    /// A name (measure, τ² estimator, test, …) that is not one of the valid ones.
    #[error("unknown {what} `{given}`; valid: {}", valid.join(", "))]
    UnknownName {
        /// What kind of name it was.
        what: &'static str,
        /// What was given.
        given: String,
        /// The accepted names.
        valid: Vec<String>,
    },
    /// A model setting is out of range (e.g. a confidence level of 120).
    #[error("{0}")]
    InvalidSetting(String),
    /// A study whose values would take the model's sums out of double precision.
    /// `index` is its position among the pooled effects; the analysis turns it
    /// into the study's row.
    #[error("{message}")]
    Unpoolable {
        /// Position among the effects passed to the model (0-based).
        index: usize,
        /// The quantity at fault: `yi` (effect size) or `vi` (sampling variance).
        column: &'static str,
        /// What is wrong, as a sentence.
        message: String,
    },
    /// A numerical procedure failed to produce a finite answer.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// A plot could not be drawn or encoded.
    #[error("cannot draw the plot: {0}")]
    Plot(String),
    /// The analysis's model does not support what was asked of it (a refit,
    /// a test, a plot or an option): front ends say it in their own words.
    #[error("{what} is not available for {model}")]
    Unsupported {
        /// What was asked.
        what: crate::model::Capability,
        /// The model that was asked.
        model: crate::model::ModelKind,
    },
    /// A plot or test of one pooled effect asked of a meta-regression, which
    /// has coefficients instead.
    #[error(
        "{what} shows one pooled effect, which a meta-regression does not have; a bubble plot of the moderator shows the model"
    )]
    NoPooledEffect {
        /// What was asked.
        what: crate::model::Capability,
    },
    /// A CSV asked of a result that has no table.
    #[error("{what} has no table to write as CSV")]
    NoTable {
        /// The result.
        what: &'static str,
    },
    /// Something that needs a part of the library this build leaves out.
    #[error("{what} needs cochran's `{feature}` feature, which this build does not have")]
    FeatureDisabled {
        /// What was asked.
        what: &'static str,
        /// The Cargo feature it needs.
        feature: &'static str,
    },
}

/// Names in backticks, comma-separated, for messages.
/// "; did you mean `events1` for `Events_1`?" for near-miss headers.
fn did_you_mean(suggestions: &[(String, String)]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = suggestions
        .iter()
        .map(|(wanted, header)| format!("`{header}` (meant as `{wanted}`?)"))
        .collect();
    let mapping: Vec<String> = suggestions
        .iter()
        .map(|(wanted, header)| format!("{wanted}={header}"))
        .collect();
    format!(
        "; the file has {}: rename them, or map them with {} {}",
        pairs.join(", "),
        crate::Setting::Columns,
        mapping.join(",")
    )
}

pub(crate) fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error returned by every fallible function of the crate.
///
/// Boxed so that `Result<T, Error>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    location: Location,
}

impl Error {
    /// An error of the given kind with no location yet.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                location: Location::default(),
            }),
        }
    }

    /// An [`ErrorKind::InvalidValue`] naming the column it concerns.
    pub(crate) fn invalid(column: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidValue(message.into())).in_column(column)
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// Where it went wrong, as far as known.
    pub fn location(&self) -> &Location {
        &self.inner.location
    }

    /// True when the error is the user's input or settings (exit code 2), false
    /// for failures of the machine or of the computation (exit code 1). An
    /// output path in a folder that does not exist, or may not be written, is
    /// the user's setting; a full disk or a closed pipe is not.
    pub fn is_input_error(&self) -> bool {
        match &self.inner.kind {
            ErrorKind::Write(e) => matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
            ErrorKind::Numerical(_) | ErrorKind::Plot(_) => false,
            _ => true,
        }
    }

    /// Sets the file, keeping any row and column already known.
    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.inner.location.file.get_or_insert(file.into());
        self
    }

    /// Sets the row (the line of a text file, the header being line 1, or
    /// the row of a spreadsheet), keeping one already known.
    pub fn at_row(mut self, row: usize) -> Self {
        self.inner.location.row.get_or_insert(row);
        self
    }

    /// Says the row is a data frame's position (from 0), not a line.
    pub(crate) fn in_frame(mut self) -> Self {
        self.inner.location.frame = true;
        self
    }

    /// Sets the sheet (and the cell's column letters, if known) of a
    /// spreadsheet, keeping one already known.
    pub fn in_sheet(mut self, sheet: &str, letters: Option<String>) -> Self {
        self.inner.location.sheet.get_or_insert(SheetCell {
            sheet: sheet.to_string(),
            letters,
        });
        self
    }

    /// For a value computed from several columns (an effect size and its
    /// variance): drops the column it was checked as, which the file need not
    /// have, and says it was computed.
    pub(crate) fn computed(mut self) -> Self {
        if self.inner.location.column.take().is_some()
            && let ErrorKind::InvalidValue(message) = &mut self.inner.kind
        {
            *message = format!("the effect computed from this row: {message}");
        }
        self
    }

    /// Replaces the column: the user's name for a column cochran renamed.
    pub(crate) fn with_column(mut self, column: &str) -> Self {
        self.inner.location.column = Some(column.to_string());
        self
    }

    /// Sets the column, keeping one already known.
    pub fn in_column(mut self, column: &str) -> Self {
        self.inner
            .location
            .column
            .get_or_insert_with(|| column.to_string());
        self
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = self.inner.location.to_string();
        if location.is_empty() {
            write!(f, "{}", self.inner.kind)
        } else {
            write!(f, "{location}: {}", self.inner.kind)
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            ErrorKind::Io(e) | ErrorKind::Write(e) => Some(e),
            _ => None,
        }
    }
}
