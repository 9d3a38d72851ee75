//! Numeric columns held as plain numbers, `NaN` where a cell is missing: a
//! cell costs 8 bytes rather than an `Option<f64>`'s 16. Cells read from a
//! file are finite (a non-finite number is an error), so `NaN` is free to
//! mean "missing".

use std::fmt;

/// The stored form of a cell.
pub(super) fn stored(value: Option<f64>) -> f64 {
    value.unwrap_or(f64::NAN)
}

/// A numeric column of a [`Table`](super::Table): each cell a number, or
/// missing (empty, `NA` or `N/A` in the file).
///
/// ```
/// use cochran::data::{Table, TableSpec};
/// let t = Table::from_reader("study,yi\nA,1.5\nB,NA\n".as_bytes(), None, &TableSpec::numeric(&["yi"]))?;
/// let yi = t.column("yi").unwrap();
/// assert_eq!((yi.len(), yi.get(0), yi.get(1), yi.get(2)), (2, Some(1.5), None, None));
/// assert_eq!(yi.to_vec(), [Some(1.5), None]);
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct NumberColumn<'t> {
    cells: &'t [f64],
}

impl<'t> NumberColumn<'t> {
    pub(super) fn new(cells: &'t [f64]) -> Self {
        NumberColumn { cells }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The number in row `row` (0-based): `None` when the cell is missing or
    /// the row is beyond the table.
    pub fn get(&self, row: usize) -> Option<f64> {
        self.cells.get(row).copied().filter(|x| !x.is_nan())
    }

    /// The cells in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<f64>> + 't {
        self.cells.iter().map(|&x| (!x.is_nan()).then_some(x))
    }

    /// The cells in order, collected.
    pub fn to_vec(&self) -> Vec<Option<f64>> {
        self.iter().collect()
    }
}

impl fmt::Debug for NumberColumn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
