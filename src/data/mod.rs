//! Ingest: one row per study, from delimited text or a spreadsheet, read
//! into a column-major [`Table`].
//!
//! Header names are matched case-insensitively and with surrounding spaces
//! trimmed. Only the columns a caller asks for are parsed as numbers; the
//! others are kept as text ([`Table::text_column`]). A numeric cell is either a number, or missing: empty,
//! `NA` or `N/A` (any case). Anything else is an error that names the file, the
//! line (the header is line 1) or the sheet and cell (`Data!C5`), and the column.
//!
//! Files are read as spreadsheets and other tools write them:
//! - **Spreadsheets** (.xlsx, .xlsm, .xlsb, .xls, .ods): the first sheet, or
//!   the one [`ReadOptions::sheet`] names; its first used row is the header.
//! - **Text**: UTF-8 with or without a byte-order mark, UTF-16 with one, and
//!   Windows-1252 when the bytes are not UTF-8. The delimiter is the most
//!   frequent of comma, semicolon, tab and pipe in the header line; with a
//!   semicolon or tab, a decimal comma is accepted (`2,5`). A spreadsheet or
//!   binary file under a text file's name is refused, saying what it is.
//! - Rows with no value in any cell are skipped; without a `study` column, an
//!   `author`, `trial`, `id` or `name` column labels the studies; the user's
//!   own column names can be mapped with [`ReadOptions::map_column`].
//!
//! [`Table::notes`] says what was detected or assumed.
//!
//! ```
//! use cochran::data::{Table, TableSpec};
//! use std::sync::Arc;
//! let csv = "Author;yi;vi\nA;0,1;0,01\n;;\nB;0,3;0,02\n";
//! let table = Table::from_reader(csv.as_bytes(), None, &TableSpec::numeric(&["yi", "vi"]))?;
//! assert_eq!(table.labels(), ["A", "B"]);
//! assert_eq!(table.column("yi").map(|c| c.to_vec()), Some(vec![Some(0.1), Some(0.3)]));
//! assert_eq!(table.file_row(1), 4); // line 4: the empty line 3 is skipped
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! ```
//! use cochran::data::{Table, TableSpec};
//! use std::sync::Arc;
//! let csv = "Study,yi,vi,notes\nA,0.1,0.01,x\nB,NA,0.02,y\n";
//! let table = Table::from_reader(csv.as_bytes(), None, &TableSpec::numeric(&["yi", "vi"]))?;
//! assert_eq!(table.labels(), ["A", "B"]);
//! assert_eq!(table.column("yi").map(|c| c.to_vec()), Some(vec![Some(0.1), None]));
//! assert!(table.column("notes").is_none()); // not asked for as numbers
//! assert_eq!(table.text_column("notes").map(|n| n.len()), Some(2)); // kept as text
//! # Ok::<(), cochran::Error>(())
//! ```

mod builder;
mod frame;
mod label;
pub mod limits;
mod numbers;
mod read_options;
#[cfg(feature = "spreadsheet")]
mod sheet;

/// The bytes of a reader, refused once past `limit` (one byte more is read,
/// to tell).
fn read_at_most(reader: std::io::Result<impl Read>, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .and_then(|r| r.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::new(ErrorKind::Io(e)))?;
    match bytes.len() as u64 > limit {
        true => Err(limits::too_large("the text file", limit, "bytes")),
        false => Ok(bytes),
    }
}

/// The extensions read as spreadsheets.
const SPREADSHEET_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];
mod text;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use frame::Column;
pub use label::Label;
pub use numbers::NumberColumn;
pub use read_options::ReadOptions;

use crate::error::{Error, ErrorKind, Result};

/// The column that labels studies.
pub const STUDY_COLUMN: &str = "study";
/// The column that groups studies when no other grouping column is chosen.
pub const SUBGROUP_COLUMN: &str = "subgroup";

/// Which columns to read, and how.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TableSpec {
    numeric: Vec<String>,
    text: Vec<String>,
    group_by: Option<String>,
    read: ReadOptions,
}

impl TableSpec {
    /// Reads the given columns as numbers (those present in the file).
    pub fn numeric(columns: &[&str]) -> Self {
        TableSpec {
            numeric: columns.iter().map(|c| c.to_ascii_lowercase()).collect(),
            ..TableSpec::default()
        }
    }

    /// Also reads these columns as numbers (those present in the file).
    pub fn with_numeric(mut self, columns: &[&str]) -> Self {
        for c in columns {
            let c = c.to_ascii_lowercase();
            if !self.numeric.contains(&c) {
                self.numeric.push(c);
            }
        }
        self
    }

    /// Also reads these columns as text (those present in the file).
    pub fn with_text(mut self, columns: &[&str]) -> Self {
        self.text
            .extend(columns.iter().map(|c| c.to_ascii_lowercase()));
        self
    }

    /// The columns to be read as numbers.
    pub fn numeric_columns(&self) -> &[String] {
        &self.numeric
    }

    /// Overrides what the reader detects, and maps the user's column names.
    pub fn read_options(mut self, read: ReadOptions) -> Self {
        self.read = read;
        self
    }

    /// Groups the studies by this column; it must exist in the file. Without
    /// it, a `subgroup` column groups them if there is one.
    pub fn group_by(mut self, column: impl Into<String>) -> Self {
        self.group_by = Some(column.into().trim().to_ascii_lowercase());
        self
    }
}

/// The studies of one CSV file: labels, optional groups, and numeric columns
/// whose cells are `None` where the file has no value.
#[derive(Debug, Clone)]
pub struct Table {
    source: Option<PathBuf>,
    headers: Vec<String>,
    layout: Layout,
    /// (cochran's name, the header as written) of columns `--columns` renamed.
    renamed: Vec<(String, String)>,
    labels: Vec<Label>,
    group_column: Option<String>,
    groups: Option<Vec<Option<String>>>,
    /// Numbers, `NaN` where missing (see [`NumberColumn`]).
    numeric: Named<f64>,
    text: Named<Option<String>>,
    /// Each row's line in the file (the header is line 1) or row in the
    /// spreadsheet, kept through [`Table::subset`].
    file_rows: Vec<u32>,
    /// What reading assumed: delimiter, decimal comma, label column.
    notes: Vec<String>,
}

impl Table {
    /// Reads a file: a spreadsheet by its extension (.xlsx, .xlsm, .xlsb,
    /// .xls, .ods), delimited text otherwise.
    pub fn read(path: impl AsRef<Path>, spec: &TableSpec) -> Result<Table> {
        let path = path.as_ref();
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if SPREADSHEET_EXTENSIONS.contains(&extension.as_str()) {
            #[cfg(feature = "spreadsheet")]
            return sheet::read(path, spec)
                .map(|t| t.with_source(path))
                .map_err(|e| e.in_file(path));
            #[cfg(not(feature = "spreadsheet"))]
            return Err(Error::new(ErrorKind::FeatureDisabled {
                what: "reading spreadsheets",
                feature: "spreadsheet",
            })
            .in_file(path));
        }
        let bytes = read_at_most(std::fs::File::open(path), limits::MAX_TEXT_BYTES)
            .map_err(|e| e.in_file(path))?;
        text::read(&bytes, spec)
            .map(|t| t.with_source(path))
            .map_err(|e| e.in_file(path))
    }

    /// Reads delimited text from any reader; `source` names it in errors.
    pub fn from_reader(
        mut reader: impl Read,
        source: Option<&Path>,
        spec: &TableSpec,
    ) -> Result<Table> {
        let read = read_at_most(Ok(&mut reader), limits::MAX_TEXT_BYTES)
            .and_then(|bytes| text::read(&bytes, spec));
        match source {
            Some(path) => read
                .map(|t| t.with_source(path))
                .map_err(|e| e.in_file(path)),
            None => read,
        }
    }

    /// Reads the named columns of a data frame held in memory (a Python or
    /// Arrow table), with the same column mapping and checks as a file's.
    /// Rows are numbered as the frame numbers them, from 0: an error names
    /// the row's position.
    ///
    /// ```
    /// use cochran::data::{Column, Table, TableSpec};
    /// use std::sync::Arc;
    /// let columns = vec![
    ///     ("Author".to_string(), Column::Text(vec![Some("A".into()), Some("B".into())])),
    ///     ("yi".to_string(), Column::Numbers(vec![Some(0.1), Some(f64::NAN)])),
    ///     ("vi".to_string(), Column::Text(vec![Some("0.01".into()), None])),
    /// ];
    /// let table = Table::from_columns(&columns, &TableSpec::numeric(&["yi", "vi"]))?;
    /// assert_eq!(table.labels(), ["A", "B"]);
    /// assert_eq!(table.column("yi").unwrap().to_vec(), [Some(0.1), None]); // NaN is missing
    /// assert_eq!(table.column("vi").unwrap().to_vec(), [Some(0.01), None]);
    ///
    /// let bad = vec![("yi".to_string(), Column::Text(vec![Some("0.1".into()), Some("abc".into())]))];
    /// let error = Table::from_columns(&bad, &TableSpec::numeric(&["yi"])).unwrap_err();
    /// assert_eq!(error.to_string(), "data frame row 1 (from 0), column `yi`: expected a number, found `abc`");
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn from_columns(columns: &[(String, Column)], spec: &TableSpec) -> Result<Table> {
        frame::read(columns, spec)
    }

    /// Reads a spreadsheet (.xlsx, .xlsm, .xlsb, .xls, .ods) held in memory,
    /// such as a file uploaded to a page; the format is told by its content.
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let bytes = std::fs::read("tests/data/bangertdrowns2004.xlsx").unwrap();
    /// let table = Table::from_spreadsheet_bytes(&bytes, &TableSpec::numeric(&["yi", "vi"]))?;
    /// assert_eq!(table.len(), 48);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    #[cfg(feature = "spreadsheet")]
    pub fn from_spreadsheet_bytes(bytes: &[u8], spec: &TableSpec) -> Result<Table> {
        sheet::read_bytes(bytes, spec)
    }

    fn with_source(mut self, path: &Path) -> Table {
        self.source = Some(path.to_path_buf());
        self
    }

    /// What reading the file assumed (a delimiter other than comma, decimal
    /// commas, the column the study labels came from), for reports.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The file the table was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The header names, lower-cased and trimmed, in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the table has no rows (never the case for a table that was read).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Study labels: the `study` column, or `Study N` where it is absent or empty.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The grouping column's name, when the studies are grouped.
    pub fn group_column(&self) -> Option<&str> {
        self.group_column.as_deref()
    }

    /// Each row's group (`None` where the cell is empty), when grouped.
    pub fn groups(&self) -> Option<&[Option<String>]> {
        self.groups.as_deref()
    }

    /// A numeric column that was asked for and is present in the file.
    pub fn column(&self, name: &str) -> Option<NumberColumn<'_>> {
        self.numeric.get(name).map(|c| NumberColumn::new(c))
    }

    /// The number in a cell: `None` when the column was not read or the cell is empty.
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let t = Table::from_reader("study,yi\nA,1.5\nB,NA\n".as_bytes(), None, &TableSpec::numeric(&["yi"]))?;
    /// assert_eq!((t.value("yi", 0), t.value("yi", 1), t.value("vi", 0)), (Some(1.5), None, None));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn value(&self, column: &str, row: usize) -> Option<f64> {
        self.column(column).and_then(|c| c.get(row))
    }

    /// A column as text: one asked for as text, or any column neither read as
    /// numbers nor holding the labels.
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let t = Table::from_reader("study,yi,arm\nA,1,x\n".as_bytes(), None, &TableSpec::numeric(&["yi"]))?;
    /// assert_eq!(t.text_column("arm"), Some(&[Some("x".to_string())][..]));
    /// assert_eq!(t.text_column("yi"), None); // read as numbers
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn text_column(&self, name: &str) -> Option<&[Option<String>]> {
        self.text.get(name).map(Vec::as_slice)
    }

    /// Sets a numeric cell, adding the column if the file has none: how
    /// recovered statistics join the data. The caller records what it filled;
    /// `NaN` leaves the cell missing.
    pub fn fill(&mut self, column: &str, row: usize, value: f64) {
        let rows = self.len();
        self.numeric.get_or_insert(column, || vec![f64::NAN; rows])[row] = value;
    }

    /// The same rows grouped by another column (one kept as text).
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let t = Table::from_reader("study,yi,arm\nA,1,x\nB,2,\n".as_bytes(), None, &TableSpec::numeric(&["yi"]))?;
    /// let grouped = t.grouped_by("Arm")?;
    /// assert_eq!(grouped.groups(), Some(&[Some("x".to_string()), None][..]));
    /// assert!(t.grouped_by("yi").is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn grouped_by(&self, column: &str) -> Result<Table> {
        let name = column.trim().to_lowercase();
        let groups = self.text_column(&name).ok_or_else(|| {
            Error::new(ErrorKind::InvalidSetting(format!(
                "the grouping column `{column}` is not in the file (or was read as numbers); \
                 its columns are {}",
                crate::error::quoted(&self.headers)
            )))
        })?;
        Ok(Table {
            groups: Some(groups.to_vec()),
            group_column: Some(name),
            ..self.clone()
        })
    }

    /// True when the file has the column (whether or not it was read as numbers).
    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// Where row `row` (0-based) is in the file: its line in a text file
    /// (the header is line 1), or its row in a spreadsheet.
    pub fn file_row(&self, row: usize) -> usize {
        self.file_rows[row] as usize
    }

    /// The rows for which `keep` is true, remembering their rows in the file.
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// use std::sync::Arc;
    /// let t = Table::from_reader("study,yi\nA,1\nB,2\nC,3\n".as_bytes(), None, &TableSpec::numeric(&["yi"]))?;
    /// let odd = t.subset(|row| row != 1);
    /// assert_eq!(odd.labels(), ["A", "C"]);
    /// assert_eq!(odd.file_row(1), 4); // C is on line 4
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn subset(&self, keep: impl Fn(usize) -> bool) -> Table {
        let rows: Vec<usize> = (0..self.len()).filter(|&r| keep(r)).collect();
        fn pick<T: Clone>(values: &[T], rows: &[usize]) -> Vec<T> {
            rows.iter().map(|&r| values[r].clone()).collect()
        }
        Table {
            source: self.source.clone(),
            headers: self.headers.clone(),
            layout: self.layout.clone(),
            renamed: self.renamed.clone(),
            labels: pick(&self.labels, &rows),
            group_column: self.group_column.clone(),
            groups: self.groups.as_ref().map(|g| pick(g, &rows)),
            numeric: self
                .numeric
                .iter()
                .map(|(k, v)| (k.clone(), pick(v, &rows)))
                .collect(),
            text: self
                .text
                .iter()
                .map(|(k, v)| (k.clone(), pick(v, &rows)))
                .collect(),
            file_rows: pick(&self.file_rows, &rows),
            notes: self.notes.clone(),
        }
    }

    /// An error located at row `row` (0-based) of this table: its line, or
    /// its sheet and cell, and the column as the file names it.
    pub fn error_at(&self, row: usize, error: Error) -> Error {
        let column = error.location().column.clone();
        let index = column
            .as_ref()
            .and_then(|c| self.headers.iter().position(|h| h == c));
        let mut error = self.layout.locate(error.at_row(self.file_row(row)), index);
        if let Some(column) = column
            && let Some((_, written)) = self.renamed.iter().find(|(n, _)| *n == column)
        {
            error = error.with_column(written);
        }
        match &self.source {
            Some(path) => error.in_file(path),
            None => error,
        }
    }
}

/// Columns by name. A table has a few dozen columns at most, and a lookup
/// happens for every cell, so a linear scan beats hashing the name each time.
#[derive(Debug, Clone, Default)]
struct Named<T>(Vec<(String, Vec<T>)>);

impl<T> Named<T> {
    fn get(&self, name: &str) -> Option<&Vec<T>> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn get_or_insert(&mut self, name: &str, make: impl FnOnce() -> Vec<T>) -> &mut Vec<T> {
        let i = match self.0.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.0.push((name.to_string(), make()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }

    fn iter(&self) -> impl Iterator<Item = (&String, &Vec<T>)> {
        self.0.iter().map(|(n, v)| (n, v))
    }
}

impl<T> FromIterator<(String, Vec<T>)> for Named<T> {
    fn from_iter<I: IntoIterator<Item = (String, Vec<T>)>>(iter: I) -> Self {
        Named(iter.into_iter().collect())
    }
}

/// Columns that label the studies when there is no `study` column, in order.
const LABEL_COLUMNS: [&str; 4] = ["author", "trial", "id", "name"];

/// How the rows of a table are numbered in the file it came from.
#[derive(Debug, Clone)]
pub(crate) enum Layout {
    /// Lines of a text file (the header is line 1).
    Text,
    /// Rows of a data frame, numbered from 0.
    Frame,
    /// Rows of a spreadsheet's sheet, whose used range starts at this column
    /// (0-based).
    #[cfg_attr(not(feature = "spreadsheet"), allow(dead_code))]
    Sheet { name: String, first_column: usize },
}

impl Layout {
    /// Adds the sheet, and the cell's column letters where the column is
    /// known, to an error located at a row.
    fn locate(&self, error: Error, column: Option<usize>) -> Error {
        match self {
            Layout::Text => error,
            Layout::Frame => error.in_frame(),
            Layout::Sheet { name, first_column } => {
                error.in_sheet(name, column.map(|c| column_letters(first_column + c)))
            }
        }
    }
}

/// A spreadsheet column's letters: 0 → `A`, 25 → `Z`, 26 → `AA`.
fn column_letters(mut column: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, spec: &TableSpec) -> Result<Table> {
        Table::from_reader(text.as_bytes(), Some(Path::new("t.csv")), spec)
    }

    #[test]
    fn headers_are_case_insensitive_and_missing_cells_are_none() {
        let t = read(
            " STUDY ,YI,Vi\nA,1,na\n,2,\n",
            &TableSpec::numeric(&["yi", "vi"]),
        )
        .unwrap();
        assert_eq!(t.labels(), ["A", "Study 2"]);
        assert_eq!(t.column("vi").unwrap().to_vec(), [None, None]);
    }

    #[test]
    fn text_in_a_numeric_column_names_file_line_and_column() {
        let e = read("study,yi\nA,1\nB,abc\n", &TableSpec::numeric(&["yi"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, line 3, column `yi`: expected a number, found `abc`"
        );
        // A quoted label over two lines moves the rows after it down a line.
        let e = read("study,yi\n\"A\nB\",1\nC,x\n", &TableSpec::numeric(&["yi"])).unwrap_err();
        assert_eq!(e.location().row, Some(4), "{e}");
        // CRLF line ends count the same, from the first row on.
        for text in [
            "study,yi\nA,x\n",
            "study,yi\r\nA,x\r\n",
            "\u{feff}study,yi\r\n\r\nA,x\r\n",
        ] {
            let e = read(text, &TableSpec::numeric(&["yi"])).unwrap_err();
            let expected = 2 + usize::from(text.contains("\r\n\r\n"));
            assert_eq!(e.location().row, Some(expected), "{text:?}");
        }
        let crlf = read(
            "study,yi\r\nA,1\r\n\"B\r\nb\",2\r\nC,3\r\n",
            &TableSpec::numeric(&["yi"]),
        )
        .unwrap();
        assert_eq!(
            [crlf.file_row(0), crlf.file_row(1), crlf.file_row(2)],
            [2, 3, 5]
        );
        let e = read("study,yi\nA,1\nB,2,3\n", &TableSpec::numeric(&["yi"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, line 3: malformed CSV: the row has 3 fields; the header has 2"
        );
    }

    #[test]
    fn column_letters_count_like_a_spreadsheet() {
        let letters: Vec<String> = [0, 2, 25, 26, 27, 51, 52, 701, 702]
            .map(column_letters)
            .into();
        assert_eq!(
            letters,
            ["A", "C", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }

    #[test]
    fn encodings_are_detected_and_noted() {
        let spec = TableSpec::numeric(&["yi"]);
        let utf8 = "study,yi\nMüller,1\n";
        let mut utf16: Vec<u8> = vec![0xff, 0xfe];
        utf16.extend(utf8.encode_utf16().flat_map(u16::to_le_bytes));
        let (latin, _, _) = encoding_rs::WINDOWS_1252.encode(utf8);
        for (bytes, note) in [
            (utf16, Some("UTF-16 (little-endian)")),
            (latin.into_owned(), Some("Windows-1252")),
            ([&b"\xef\xbb\xbf"[..], utf8.as_bytes()].concat(), None),
        ] {
            let t = Table::from_reader(&bytes[..], None, &spec).unwrap();
            assert_eq!(t.labels(), ["Müller"]);
            match note {
                Some(note) => assert!(
                    t.notes().iter().any(|n| n.contains(note)),
                    "{:?}",
                    t.notes()
                ),
                None => assert!(t.notes().is_empty(), "{:?}", t.notes()),
            }
        }
    }

    #[test]
    fn files_that_are_not_text_say_what_they_are() {
        let spec = TableSpec::numeric(&["yi"]);
        for (bytes, says) in [
            (&b"PK\x03\x04\x14\x00rest"[..], "spreadsheet"),
            (&b"\xd0\xcf\x11\xe0\xa1\xb1"[..], "spreadsheet"),
            (&b"\x7fELF\x02\x01\x00\x00"[..], "binary"),
        ] {
            let e = Table::from_reader(bytes, Some(Path::new("t.csv")), &spec).unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::Unreadable(_)), "{e}");
            assert!(
                e.to_string()
                    .starts_with("t.csv: cannot read the file as a table"),
                "{e}"
            );
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn mapped_columns_take_cochrans_names_and_errors_use_the_files() {
        let options = ReadOptions::new()
            .map_columns("study=Author, yi=Effect")
            .unwrap();
        let spec = TableSpec::numeric(&["yi"]).read_options(options);
        let t = read("Author,Effect\nA,0.5\nB,x\n", &spec).unwrap_err();
        assert_eq!(
            t.to_string(),
            "t.csv, line 3, column `Effect`: expected a number, found `x`"
        );
        let t = read("Author,Effect\nA,0.5\n", &spec).unwrap();
        assert_eq!(t.labels(), ["A"]);
        assert!(
            t.notes()
                .iter()
                .any(|n| n.contains("`Effect` is read as `yi`"))
        );
        for (csv, says) in [
            ("Author,yi\nA,1\n", "no column `effect`"),
            ("Author,Effect,yi\nA,1,2\n", "also has a column `yi`"),
        ] {
            let e = read(csv, &spec).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
        }
        let twice = ReadOptions::new().map_columns("yi=a,yi=b").unwrap();
        let e = read(
            "a,b\n1,2\n",
            &TableSpec::numeric(&["yi"]).read_options(twice),
        );
        assert!(e.unwrap_err().to_string().contains("two columns to `yi`"));
    }

    #[test]
    fn empty_and_header_only_files_are_errors() {
        for text in ["", "study,yi\n"] {
            let e = read(text, &TableSpec::numeric(&["yi"])).unwrap_err();
            assert!(matches!(e.kind(), ErrorKind::Empty), "{e}");
        }
    }

    #[test]
    fn a_missing_grouping_column_is_an_error() {
        let e = read(
            "study,yi\nA,1\n",
            &TableSpec::numeric(&["yi"]).group_by("arm"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`arm`"), "{e}");
    }
}
