//! What cochran reads at most. Every limit is far above a meta-analysis (a
//! few thousand studies, a few dozen columns) and far below what would
//! exhaust a laptop's memory; beyond it, reading stops with
//! [`ErrorKind::TooLarge`](crate::ErrorKind::TooLarge), which names the limit.

use crate::error::{Error, ErrorKind};

/// The size of a spreadsheet file.
pub const MAX_SPREADSHEET_BYTES: u64 = 256 << 20;

/// The inflated size of one part of a zipped spreadsheet (.xlsx, .xlsb,
/// .ods): a sheet's XML, the shared strings.
pub const MAX_PART_BYTES: u64 = 128 << 20;

/// The inflated size of all parts of a zipped spreadsheet together.
pub const MAX_INFLATED_BYTES: u64 = 512 << 20;

/// The parts of a zipped spreadsheet.
pub const MAX_PARTS: usize = 10_000;

/// Cells with a value in the sheet read.
pub const MAX_SHEET_CELLS: usize = 2_000_000;

/// Rows of a sheet, as Excel and LibreOffice have them.
pub const MAX_SHEET_ROWS: u32 = 1 << 20;

/// Columns of a sheet, as Excel has them (`XFD`).
pub const MAX_SHEET_COLUMNS: u32 = 1 << 14;

/// Values the table keeps: rows times the columns it keeps beside the labels.
pub const MAX_TABLE_VALUES: usize = 10_000_000;

/// Rows of a table (each keeps a label and where it came from).
pub const MAX_TABLE_ROWS: usize = 10_000_000;

/// The size of a text file.
pub const MAX_TEXT_BYTES: u64 = 512 << 20;

/// The length of one line of a text file.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The error for `what` beyond `limit` `unit`.
pub(crate) fn too_large(what: impl Into<String>, limit: u64, unit: &'static str) -> Error {
    ErrorKind::TooLarge {
        what: what.into(),
        limit,
        unit,
    }
    .into()
}
