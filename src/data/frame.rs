//! Columns handed over in memory, as a data frame holds them (a Python or
//! Arrow table): the same mapping and checks as a file's, rows numbered as
//! the frame numbers them (from 0).

use super::builder::{Cell, TableBuilder};
use super::{Layout, Table, TableSpec};
use crate::error::{ErrorKind, Result};

/// One column of a data frame.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Column {
    /// Numbers; `NaN` and `None` are missing values.
    Numbers(Vec<Option<f64>>),
    /// Text; `None` is a missing value. Text is read as a number where the
    /// analysis needs one (`"0.5"`).
    Text(Vec<Option<String>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Numbers(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Column::Numbers(v) => match v[row] {
                Some(x) if !x.is_nan() => Cell::Number(x),
                _ => Cell::Empty,
            },
            Column::Text(v) => v[row].as_deref().map_or(Cell::Empty, Cell::Text),
        }
    }
}

/// Reads named columns of equal length into a table.
pub(super) fn read(columns: &[(String, Column)], spec: &TableSpec) -> Result<Table> {
    if spec.read.sheet.is_some() || spec.read.delimiter.is_some() {
        return Err(ErrorKind::InvalidSetting(
            "a sheet or a delimiter applies to files; these data are a data frame".into(),
        )
        .into());
    }
    let rows = columns.first().map_or(0, |(_, c)| c.len());
    if let Some((name, column)) = columns.iter().find(|(_, c)| c.len() != rows) {
        return Err(ErrorKind::Unreadable(format!(
            "the column `{name}` has {} values and the first column {rows}; the columns of a \
             data frame have one value per row",
            column.len()
        ))
        .into());
    }
    let header = columns.iter().map(|(name, _)| name.clone()).collect();
    let mut builder = TableBuilder::new(header, spec, Layout::Frame, false, Vec::new())?;
    builder.reserve(rows);
    for row in 0..rows {
        builder.push(row, |i| columns[i].1.cell(row))?;
    }
    builder.finish()
}
