//! Spreadsheets (.xlsx, .xlsm, .xlsb, .xls, .ods), read with calamine: one
//! sheet, whose first used row is the header.

use crate::setting::Setting;
use std::path::Path;

use calamine::{Data, Reader};

use super::builder::{Cell, TableBuilder};
use super::{Layout, Table, TableSpec};
use crate::error::{Error, ErrorKind, Result};

/// Reads the chosen sheet (or the first) of a spreadsheet file.
pub(super) fn read(path: &Path, spec: &TableSpec) -> Result<Table> {
    if spec.read.delimiter.is_some() {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} applies to text files; this is a spreadsheet",
            Setting::Delimiter
        ))
        .into());
    }
    let unreadable = |e: calamine::Error| Error::new(ErrorKind::Unreadable(e.to_string()));
    let mut workbook = calamine::open_workbook_auto(path).map_err(unreadable)?;
    let names = workbook.sheet_names();
    let name = match &spec.read.sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            .cloned()
            .ok_or_else(|| {
                Error::new(ErrorKind::InvalidSetting(format!(
                    "the spreadsheet has no sheet `{wanted}`; its sheets are {}",
                    crate::error::quoted(&names)
                )))
            })?,
        None => names.first().cloned().ok_or(ErrorKind::Empty)?,
    };
    let range = workbook.worksheet_range(&name).map_err(unreadable)?;
    let Some((first_row, first_column)) = range.start() else {
        return Err(Error::new(ErrorKind::Empty).in_sheet(&name, None));
    };
    let mut notes = vec![if names.len() > 1 {
        format!(
            "read the sheet `{name}` (the workbook's sheets: {}; {} chooses)",
            names.join(", "),
            Setting::Sheet
        )
    } else {
        format!("read the sheet `{name}`")
    }];
    let decimal_comma = spec.read.decimal_comma.unwrap_or(false);
    if decimal_comma {
        notes.push("decimal commas accepted in text cells".into());
    }
    let layout = Layout::Sheet {
        name: name.clone(),
        first_column: first_column as usize,
    };
    let mut rows = range.rows();
    let header = rows
        .next()
        .unwrap_or_default()
        .iter()
        .map(|c| cell(c).text().unwrap_or_default())
        .collect();
    let mut builder = TableBuilder::new(header, spec, layout.clone(), decimal_comma, notes)
        .map_err(|e| layout.locate(e.at_row(first_row as usize + 1), None))?;
    for (i, row) in rows.enumerate() {
        let number = first_row as usize + 2 + i;
        builder.push(number, |c| row.get(c).map_or(Cell::Empty, cell))?;
    }
    builder.finish().map_err(|e| match e.kind() {
        ErrorKind::Empty if names.len() > 1 => Error::new(ErrorKind::Unreadable(format!(
            "the sheet `{name}` has no data rows (a header row followed by one row per study is \
             expected); the workbook's sheets are {}: {} chooses one",
            crate::error::quoted(&names),
            Setting::Sheet
        ))),
        _ => e.in_sheet(&name, None),
    })
}

fn cell(data: &Data) -> Cell<'_> {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.trim()),
        Data::Float(x) => Cell::Number(*x),
        Data::Int(i) => Cell::Number(*i as f64),
        other => Cell::Other(other.to_string()),
    }
}
