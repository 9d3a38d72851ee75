//! OpenDocument spreadsheets (.ods), read from their `content.xml` here:
//! repeated rows and cells (`number-rows-repeated`, which LibreOffice writes
//! for the empty rest of every sheet) are counted, not expanded, unless they
//! hold values; and a value beyond the sheet's last row is an error rather
//! than lost.

use std::collections::HashSet;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};

use super::super::limits::{MAX_PART_BYTES, MAX_SHEET_COLUMNS};
use super::SheetInfo;
use super::grid::{Grid, Value};
use crate::error::{Error, ErrorKind, Result};

/// The workbook: its sheets and its content, inflated (checked before).
pub(super) struct Book {
    pub(super) sheets: Vec<SheetInfo>,
    content: Vec<u8>,
}

impl Book {
    pub(super) fn open(bytes: &[u8]) -> Result<Book> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
        let mut content = Vec::new();
        archive
            .by_name("content.xml")
            .map_err(damaged)?
            .take(MAX_PART_BYTES)
            .read_to_end(&mut content)
            .map_err(damaged)?;
        let sheets = sheets(&content)?;
        Ok(Book { sheets, content })
    }

    /// The cells with a value of the sheet `name`.
    pub(super) fn grid(&self, name: &str) -> Result<Grid> {
        let mut xml = quick_xml::Reader::from_reader(self.content.as_slice());
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf).map_err(damaged)? {
                Event::Start(e)
                    if e.local_name().as_ref() == "table"
                        && attribute(&e, "name")?.as_deref() == Some(name) =>
                {
                    return Table::default().read(&mut xml);
                }
                Event::Eof => return Err(damaged(format!("no sheet `{name}`"))),
                _ => {}
            }
        }
    }
}

/// The sheets in order; hidden ones are those whose table style says
/// `table:display="false"`.
fn sheets(content: &[u8]) -> Result<Vec<SheetInfo>> {
    let mut xml = quick_xml::Reader::from_reader(content);
    let mut buf = Vec::new();
    let mut hidden_styles = HashSet::new();
    let mut style: Option<String> = None;
    let mut sheets = Vec::new();
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).map_err(damaged)? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "style" => style = attribute(&e, "name")?,
                "table-properties" => {
                    if attribute(&e, "display")?.as_deref() == Some("false")
                        && let Some(style) = &style
                    {
                        hidden_styles.insert(style.clone());
                    }
                }
                "table" => {
                    let name = attribute(&e, "name")?.unwrap_or_default();
                    let style = attribute(&e, "style-name")?;
                    let hidden = style.is_some_and(|s| hidden_styles.contains(&s));
                    sheets.push(SheetInfo { name, hidden });
                    xml.read_to_end_into(e.name(), &mut Vec::new())
                        .map_err(damaged)?;
                }
                _ => {}
            },
            Event::Eof => return Ok(sheets),
            _ => {}
        }
    }
}

/// The state of reading one table.
#[derive(Default)]
struct Table {
    grid: Grid,
    row: u64,
}

/// One cell being read: its value attributes, its text, its repeats.
struct CellStart {
    value: Option<Value>,
    repeat: u64,
}

impl Table {
    fn read(mut self, xml: &mut quick_xml::Reader<&[u8]>) -> Result<Grid> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match xml.read_event_into(&mut buf).map_err(damaged)? {
                Event::Start(e) if e.local_name().as_ref() == "table-row" => {
                    let repeat = repeats(&e, "number-rows-repeated")?;
                    let cells = row_cells(xml)?;
                    self.add_row(cells, repeat)?;
                }
                Event::Empty(e) if e.local_name().as_ref() == "table-row" => {
                    self.row = self
                        .row
                        .saturating_add(repeats(&e, "number-rows-repeated")?);
                }
                Event::End(e) if e.local_name().as_ref() == "table" => return Ok(self.grid),
                Event::Eof => return Err(damaged("a sheet without its end")),
                _ => {}
            }
        }
    }

    /// A row's cells, `repeat` times: repeats without a value only count.
    fn add_row(&mut self, cells: Vec<(u64, Value)>, repeat: u64) -> Result<()> {
        if cells.is_empty() {
            self.row = self.row.saturating_add(repeat);
            return Ok(());
        }
        for _ in 0..repeat {
            let row = u32::try_from(self.row).unwrap_or(u32::MAX);
            for (column, value) in &cells {
                let column = u32::try_from(*column).unwrap_or(u32::MAX);
                self.grid.push(row, column, Some(value.clone()))?;
            }
            self.row += 1;
        }
        Ok(())
    }
}

/// The cells of a row with a value, at their columns, up to the row's end.
fn row_cells(xml: &mut quick_xml::Reader<&[u8]>) -> Result<Vec<(u64, Value)>> {
    let mut buf = Vec::new();
    let mut cells = Vec::new();
    let mut column = 0u64;
    loop {
        buf.clear();
        let (start, has_content) = match xml.read_event_into(&mut buf).map_err(damaged)? {
            Event::Start(e) if is_cell(&e) => (cell_start(&e)?, true),
            Event::Empty(e) if is_cell(&e) => (cell_start(&e)?, false),
            Event::End(e) if e.local_name().as_ref() == "table-row" => return Ok(cells),
            Event::Eof => return Err(damaged("a row without its end")),
            _ => continue,
        };
        let text = match has_content {
            true => cell_text(xml)?,
            false => String::new(),
        };
        if let Some(value) = start.value.or_else(|| Value::text(&text)) {
            // One column past the sheet is kept, for the grid to refuse.
            let end = column.saturating_add(start.repeat);
            for c in column..end.min(u64::from(MAX_SHEET_COLUMNS) + 1) {
                cells.push((c, value.clone()));
            }
        }
        column = column.saturating_add(start.repeat);
    }
}

fn is_cell(e: &BytesStart<'_>) -> bool {
    matches!(e.local_name().as_ref(), "table-cell" | "covered-table-cell")
}

/// The typed value of a cell, from its attributes.
fn cell_start(e: &BytesStart<'_>) -> Result<CellStart> {
    let repeat = repeats(e, "number-columns-repeated")?;
    let kind = attribute(e, "value-type")?;
    let value = match kind.as_deref() {
        Some("float" | "percentage" | "currency") => attribute(e, "value")?
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(Value::Number),
        Some("date") => attribute(e, "date-value")?.map(|d| Value::Date(d.replace('T', " "))),
        Some("time") => attribute(e, "time-value")?.map(Value::Other),
        Some("boolean") => attribute(e, "boolean-value")?.map(Value::Other),
        _ => None,
    };
    Ok(CellStart { value, repeat })
}

/// The text of a cell: its paragraphs, one a line; annotations left out.
fn cell_text(xml: &mut quick_xml::Reader<&[u8]>) -> Result<String> {
    let mut buf = Vec::new();
    let mut text = String::new();
    let mut paragraphs = 0;
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf).map_err(damaged)? {
            Event::Start(e) if e.local_name().as_ref() == "annotation" => {
                xml.read_to_end_into(e.name(), &mut Vec::new())
                    .map_err(damaged)?;
            }
            Event::Start(e) if e.local_name().as_ref() == "p" => {
                if paragraphs > 0 {
                    text.push('\n');
                }
                paragraphs += 1;
            }
            Event::Empty(e) => match e.local_name().as_ref() {
                "s" => {
                    let count = repeats(&e, "c")?.min(1024) as usize;
                    text.push_str(&" ".repeat(count));
                }
                "tab" => text.push('\t'),
                "line-break" => text.push('\n'),
                _ => {}
            },
            Event::Text(t) => text.push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0)),
            Event::GeneralRef(r) => text.push_str(&entity(&r)?),
            Event::End(e) if is_cell_end(e.local_name().as_ref()) => return Ok(text),
            Event::Eof => return Err(damaged("a cell without its end")),
            _ => {}
        }
    }
}

fn is_cell_end(name: &str) -> bool {
    matches!(name, "table-cell" | "covered-table-cell")
}

/// `&amp;` and its kin, and character references.
fn entity(r: &quick_xml::events::BytesRef<'_>) -> Result<String> {
    if let Some(c) = r.resolve_char_ref().map_err(damaged)? {
        return Ok(c.to_string());
    }
    let name = r.clone().into_inner();
    Ok(match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
    .to_string())
}

/// A repeat count: 1 when absent; refused when not a count.
fn repeats(e: &BytesStart<'_>, name: &str) -> Result<u64> {
    match attribute(e, name)? {
        None => Ok(1),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map_err(|_| damaged(format!("a repeat count of `{text}`"))),
    }
}

/// The value of the attribute whose local name is `name`, unescaped.
fn attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<String>> {
    for attribute in e.attributes() {
        let attribute = attribute.map_err(damaged)?;
        if attribute.key.local_name().as_ref() == name {
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(damaged)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn damaged(e: impl std::fmt::Display) -> Error {
    ErrorKind::Unreadable(format!("the .ods file is damaged: {e}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_of(table: &str) -> Result<Grid> {
        let content = format!(
            "<office:document-content xmlns:office=\"o\" xmlns:table=\"t\" xmlns:text=\"x\">\
             <office:body><office:spreadsheet><table:table table:name=\"S\">{table}\
             </table:table></office:spreadsheet></office:body></office:document-content>"
        );
        let book = Book {
            sheets: sheets(content.as_bytes())?,
            content: content.into_bytes(),
        };
        book.grid("S")
    }

    #[test]
    fn a_billion_empty_rows_cost_nothing() {
        let row = "<table:table-row table:number-rows-repeated=\"1000000000\">\
                   <table:table-cell table:number-columns-repeated=\"1024\"/></table:table-row>";
        assert!(grid_of(row).is_ok());
    }

    #[test]
    fn repeated_values_beyond_the_sheet_are_refused() {
        let row = "<table:table-row table:number-rows-repeated=\"1000000000\">\
                   <table:table-cell office:value-type=\"float\" office:value=\"1\" \
                   table:number-columns-repeated=\"95\"/></table:table-row>";
        let error = grid_of(row).map(|_| ()).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::TooLarge { .. }),
            "{error}"
        );
    }
}
