//! Spreadsheets (.xlsx, .xlsm, .xlsb, .xls, .ods): one sheet, whose first
//! used row is the header.
//!
//! A spreadsheet is a container that can claim anything: a cell in its far
//! corner, a part that inflates to gigabytes, a million repeats of a row, a
//! sector table that loops. Before anything is allocated on the file's word,
//! the container is checked ([`zipped`], [`cfb`]); cells are kept sparse and
//! capped ([`grid`]); .ods content is parsed here ([`ods`]); and a panic of
//! the reader library becomes an error naming the file.

mod cfb;
mod grid;
mod ods;
mod zipped;

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, DataRef, Reader, SheetType, SheetVisible, Xls, Xlsb, Xlsx};

use super::limits::{MAX_SPREADSHEET_BYTES, too_large};
use super::{Table, TableSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::setting::Setting;
use grid::{Grid, Value};

/// Reads the chosen sheet (or the first visible one) of a spreadsheet file.
pub(super) fn read(path: &Path, spec: &TableSpec) -> Result<Table> {
    let size = std::fs::metadata(path).map_err(ErrorKind::Io)?.len();
    check_size(size)?;
    let bytes = std::fs::read(path).map_err(ErrorKind::Io)?;
    read_bytes(&bytes, spec)
}

/// Reads the chosen sheet (or the first visible one) of a spreadsheet held
/// in memory; the format is told by its content.
pub(super) fn read_bytes(bytes: &[u8], spec: &TableSpec) -> Result<Table> {
    if spec.read.delimiter.is_some() {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} applies to text files; this is a spreadsheet",
            Setting::Delimiter
        ))
        .into());
    }
    check_size(bytes.len() as u64)?;
    let (name, grid, notes, sheets) = without_panics(|| {
        let mut book = Book::open(bytes)?;
        let sheets = book.sheets();
        let (name, notes) = choose(&sheets, spec)?;
        let grid = book.grid(&name).map_err(|e| e.in_sheet(&name, None))?;
        Ok((name, grid, notes, sheets))
    })?;
    grid.into_table(&name, spec, notes)
        .map_err(|e| match e.kind() {
            ErrorKind::Empty if sheets.len() > 1 => Error::new(ErrorKind::Unreadable(format!(
                "the sheet `{name}` has no data rows (a header row followed by one row per \
                 study is expected); the workbook's sheets are {}: {} chooses one",
                crate::error::quoted(&names(&sheets)),
                Setting::Sheet
            ))),
            _ => e.in_sheet(&name, None),
        })
}

fn check_size(size: u64) -> Result<()> {
    match size > MAX_SPREADSHEET_BYTES {
        true => Err(too_large(
            format!("the spreadsheet file ({size} bytes)"),
            MAX_SPREADSHEET_BYTES,
            "bytes",
        )),
        false => Ok(()),
    }
}

/// A worksheet of the workbook, in the workbook's order.
#[derive(Debug, Clone)]
struct SheetInfo {
    name: String,
    hidden: bool,
}

fn names(sheets: &[SheetInfo]) -> Vec<String> {
    sheets.iter().map(|s| s.name.clone()).collect()
}

/// The sheet named in the options, else the first visible one; and the
/// notes that say which was read and what was passed over.
fn choose(sheets: &[SheetInfo], spec: &TableSpec) -> Result<(String, Vec<String>)> {
    let chosen = match &spec.read.sheet {
        Some(wanted) => sheets
            .iter()
            .find(|s| s.name.trim().eq_ignore_ascii_case(wanted.trim()))
            .ok_or_else(|| {
                Error::new(ErrorKind::InvalidSetting(format!(
                    "the spreadsheet has no sheet `{wanted}`; its sheets are {}",
                    crate::error::quoted(&names(sheets))
                )))
            })?,
        None => sheets
            .iter()
            .find(|s| !s.hidden)
            .or(sheets.first())
            .ok_or(ErrorKind::Empty)?,
    };
    let name = chosen.name.clone();
    let mut notes = vec![if sheets.len() > 1 {
        format!(
            "read the sheet `{name}` (the workbook's sheets: {}; {} chooses)",
            names(sheets).join(", "),
            Setting::Sheet
        )
    } else {
        format!("read the sheet `{name}`")
    }];
    if chosen.hidden {
        notes.push(format!("the sheet `{name}` is hidden in the workbook"));
    }
    let skipped: Vec<String> = sheets
        .iter()
        .take_while(|s| s.name != name)
        .filter(|s| s.hidden)
        .map(|s| format!("`{}`", s.name))
        .collect();
    if spec.read.sheet.is_none() && !skipped.is_empty() {
        notes.push(format!("hidden sheets passed over: {}", skipped.join(", ")));
    }
    if spec.read.decimal_comma.unwrap_or(false) {
        notes.push("decimal commas accepted in text cells".into());
    }
    Ok((name, notes))
}

/// Streams the cells of a sheet of a workbook with a cell reader into the grid.
macro_rules! stream_cells {
    ($book:expr, $name:expr, $grid:expr) => {{
        let mut cells = $book
            .worksheet_cells_reader($name)
            .map_err(|e| unreadable(&e))?;
        while let Some(cell) = cells.next_cell().map_err(|e| unreadable(&e))? {
            let (row, column) = cell.get_position();
            $grid.push(row, column, from_data_ref(cell.get_value()))?;
        }
    }};
}

/// An open workbook of any of the formats.
enum Book<'a> {
    Xlsx(Box<Xlsx<Cursor<&'a [u8]>>>),
    Xlsb(Box<Xlsb<Cursor<&'a [u8]>>>),
    Xls(Box<Xls<Cursor<&'a [u8]>>>),
    Ods(ods::Book),
}

impl<'a> Book<'a> {
    /// Checks the container, then opens it.
    fn open(bytes: &'a [u8]) -> Result<Book<'a>> {
        if cfb::is_cfb(bytes) {
            cfb::check(bytes)?;
            let book = Xls::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            return Ok(Book::Xls(Box::new(book)));
        }
        let parts = zipped::check(bytes)?;
        let has = |name: &str| parts.iter().any(|p| p.eq_ignore_ascii_case(name));
        if has("content.xml") {
            Ok(Book::Ods(ods::Book::open(bytes)?))
        } else if has("xl/workbook.bin") {
            let book = Xlsb::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            Ok(Book::Xlsb(Box::new(book)))
        } else if has("xl/workbook.xml") {
            let book = Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
            Ok(Book::Xlsx(Box::new(book)))
        } else {
            Err(ErrorKind::Unreadable(
                "a zip archive that is not a spreadsheet (.xlsx, .xlsb or .ods)".into(),
            )
            .into())
        }
    }

    fn sheets(&self) -> Vec<SheetInfo> {
        let metadata = match self {
            Book::Xlsx(b) => b.sheets_metadata(),
            Book::Xlsb(b) => b.sheets_metadata(),
            Book::Xls(b) => b.sheets_metadata(),
            Book::Ods(b) => return b.sheets.clone(),
        };
        metadata
            .iter()
            .filter(|s| s.typ == SheetType::WorkSheet)
            .map(|s| SheetInfo {
                name: s.name.clone(),
                hidden: s.visible != SheetVisible::Visible,
            })
            .collect()
    }

    /// The cells of the sheet `name` that hold a value.
    fn grid(&mut self, name: &str) -> Result<Grid> {
        let mut grid = Grid::default();
        match self {
            // The two cell readers share a shape, not a trait.
            Book::Xlsx(book) => stream_cells!(book, name, grid),
            Book::Xlsb(book) => stream_cells!(book, name, grid),
            Book::Xls(book) => {
                let range = book.worksheet_range(name).map_err(|e| unreadable(&e))?;
                let (top, left) = range.start().unwrap_or((0, 0));
                for (row, column, data) in range.used_cells() {
                    grid.push(top + row as u32, left + column as u32, from_data(data))?;
                }
            }
            Book::Ods(book) => return book.grid(name),
        }
        Ok(grid)
    }
}

fn from_data_ref(data: &DataRef<'_>) -> Option<Value> {
    match data {
        DataRef::Empty => None,
        DataRef::String(s) => Value::text(s),
        DataRef::SharedString(s) => Value::text(s),
        DataRef::Float(x) => Some(Value::Number(*x)),
        DataRef::Int(i) => Some(Value::Number(*i as f64)),
        DataRef::DateTime(d) if d.is_datetime() => Some(Value::Date(date(d))),
        DataRef::DateTimeIso(d) => Some(Value::Date(d.clone())),
        DataRef::Bool(b) => Some(Value::Other(b.to_string())),
        DataRef::Error(e) => Some(Value::Other(e.to_string())),
        DataRef::DateTime(d) => Some(Value::Other(d.to_string())),
        DataRef::DurationIso(d) => Some(Value::Other(d.clone())),
    }
}

fn from_data(data: &Data) -> Option<Value> {
    match data {
        Data::Empty => None,
        Data::String(s) => Value::text(s),
        Data::Float(x) => Some(Value::Number(*x)),
        Data::Int(i) => Some(Value::Number(*i as f64)),
        Data::DateTime(d) if d.is_datetime() => Some(Value::Date(date(d))),
        Data::DateTimeIso(d) => Some(Value::Date(d.clone())),
        Data::Bool(b) => Some(Value::Other(b.to_string())),
        Data::Error(e) => Some(Value::Other(e.to_string())),
        Data::DateTime(d) => Some(Value::Other(d.to_string())),
        Data::DurationIso(d) => Some(Value::Other(d.clone())),
    }
}

/// `2023-03-15`, or `2023-03-15 14:30` when the cell has a time of day.
fn date(value: &calamine::ExcelDateTime) -> String {
    let (year, month, day, hour, minute, _, _) = value.to_ymd_hms_milli();
    match (hour, minute) {
        (0, 0) => format!("{year:04}-{month:02}-{day:02}"),
        _ => format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}"),
    }
}

/// The reader library's complaint about a file.
fn unreadable(e: &dyn std::fmt::Display) -> Error {
    Error::new(ErrorKind::Unreadable(e.to_string()))
}

/// Runs a reader on a file's word: a panic in it (a damaged file the
/// reader library did not foresee) becomes an error, and prints nothing.
fn without_panics<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    use std::cell::Cell;
    use std::sync::Once;
    thread_local!(static QUIET: Cell<bool> = const { Cell::new(false) });
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    QUIET.with(|q| q.set(was));
    result.unwrap_or_else(|_| {
        Err(ErrorKind::Unreadable(
            "the spreadsheet is damaged: the reader stopped on an inconsistency in its structure"
                .into(),
        )
        .into())
    })
}
