//! The cells of one sheet that hold a value, kept sparse: a sheet's far
//! corner costs nothing, and the cells kept are capped.

use super::super::builder::{Cell, TableBuilder};
use super::super::limits::{MAX_SHEET_CELLS, MAX_SHEET_COLUMNS, MAX_SHEET_ROWS, too_large};
use super::super::{Layout, Table, TableSpec};
use crate::error::{ErrorKind, Result};

/// A cell's value as the sheet holds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Text(String),
    Number(f64),
    /// A date-formatted cell, as year-month-day (and time, if any).
    Date(String),
    /// A boolean, an error value or a duration, as it displays.
    Other(String),
}

impl Value {
    fn cell(&self) -> Cell<'_> {
        match self {
            Value::Text(t) => Cell::Text(t),
            Value::Number(x) => Cell::Number(*x),
            Value::Date(d) => Cell::Date(d),
            Value::Other(o) => Cell::Other(o.clone()),
        }
    }

    /// Text as a value: trimmed, and none when nothing is left.
    pub(super) fn text(text: &str) -> Option<Value> {
        let trimmed = text.trim();
        (!trimmed.is_empty()).then(|| Value::Text(trimmed.to_string()))
    }
}

/// The sheet's cells with a value, at (row, column), both 0-based.
#[derive(Debug, Default)]
pub(super) struct Grid {
    cells: Vec<(u32, u32, Value)>,
}

impl Grid {
    /// Keeps a cell; `None` (an empty cell) is not kept.
    pub(super) fn push(&mut self, row: u32, column: u32, value: Option<Value>) -> Result<()> {
        let Some(value) = value else { return Ok(()) };
        if row >= MAX_SHEET_ROWS {
            return Err(too_large(
                format!("a value in row {}", u64::from(row) + 1),
                MAX_SHEET_ROWS.into(),
                "rows",
            ));
        }
        if column >= MAX_SHEET_COLUMNS {
            return Err(too_large(
                format!("a value in column {}", u64::from(column) + 1),
                MAX_SHEET_COLUMNS.into(),
                "columns",
            ));
        }
        if self.cells.len() >= MAX_SHEET_CELLS {
            return Err(too_large(
                "the sheet's cells with a value",
                MAX_SHEET_CELLS as u64,
                "cells",
            ));
        }
        self.cells.push((row, column, value));
        Ok(())
    }

    /// The table of the sheet `name`: its first row with a value is the
    /// header, its leftmost column with a value the first column.
    pub(super) fn into_table(
        mut self,
        name: &str,
        spec: &TableSpec,
        notes: Vec<String>,
    ) -> Result<Table> {
        // Stable: of two values at one position (a damaged file), the last wins.
        self.cells.sort_by_key(|&(row, column, _)| (row, column));
        self.cells.dedup_by(|later, earlier| {
            let same = (later.0, later.1) == (earlier.0, earlier.1);
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        let Some(&(first_row, _, _)) = self.cells.first() else {
            return Err(ErrorKind::Empty.into());
        };
        let first_column = self.cells.iter().map(|c| c.1).min().unwrap_or(0);
        let last_column = self.cells.iter().map(|c| c.1).max().unwrap_or(0);
        let width = (last_column - first_column) as usize + 1;
        let rows = rows(&self.cells);
        let mut header = vec![String::new(); width];
        for (_, column, value) in rows[0] {
            header[(column - first_column) as usize] = value.cell().text().unwrap_or_default();
        }
        let layout = Layout::Sheet {
            name: name.to_string(),
            first_column: first_column as usize,
        };
        let decimal_comma = spec.read.decimal_comma.unwrap_or(false);
        let mut builder = TableBuilder::new(header, spec, layout.clone(), decimal_comma, notes)
            .map_err(|e| layout.locate(e.at_row(first_row as usize + 1), None))?;
        for row in &rows[1..] {
            let number = row[0].0 as usize + 1;
            let cell = |i: usize| {
                let column = first_column + i as u32;
                row.binary_search_by_key(&column, |c| c.1)
                    .map_or(Cell::Empty, |at| row[at].2.cell())
            };
            builder.push_with_value(number, cell)?;
        }
        builder.finish()
    }
}

/// The cells, sorted by position, cut into rows.
fn rows(cells: &[(u32, u32, Value)]) -> Vec<&[(u32, u32, Value)]> {
    cells.chunk_by(|a, b| a.0 == b.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_cells_cost_nothing_and_rows_keep_their_numbers() {
        let mut grid = Grid::default();
        grid.push(0, 0, Value::text("study")).unwrap();
        grid.push(0, 1, Value::text("yi")).unwrap();
        grid.push(4, 0, Value::text("A")).unwrap();
        grid.push(4, 1, Some(Value::Number(0.5))).unwrap();
        grid.push(MAX_SHEET_ROWS - 1, MAX_SHEET_COLUMNS - 1, Value::text("x"))
            .unwrap();
        let table = grid
            .into_table("Data", &TableSpec::numeric(&["yi"]), Vec::new())
            .unwrap();
        assert_eq!(&*table.labels()[0], "A");
        assert_eq!(table.file_row(0), 5);
        assert_eq!(table.column("yi").unwrap().get(0), Some(0.5));
    }

    #[test]
    fn cells_beyond_the_sheet_are_refused() {
        let mut grid = Grid::default();
        let error = grid.push(MAX_SHEET_ROWS, 0, Value::text("x")).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::TooLarge { .. }),
            "{error}"
        );
    }
}
