//! CSV ingest: one row per study, read into a column-major [`Table`].
//!
//! Header names are matched case-insensitively and with surrounding spaces
//! trimmed. Only the columns a caller asks for are parsed as numbers; other
//! columns are ignored. A numeric cell is either a number, or missing: empty,
//! `NA` or `N/A` (any case). Anything else is an error that names the file, the
//! row and the column.
//!
//! Files as spreadsheets export them are read as they are: the delimiter is
//! the most frequent of comma, semicolon, tab and pipe in the header line;
//! with a semicolon or tab, a decimal comma is accepted (`2,5`); a byte-order
//! mark is skipped; rows with no value in any cell are skipped; without a
//! `study` column, an `author`, `trial`, `id` or `name` column labels the
//! studies. [`Table::notes`] says what was detected.
//!
//! ```
//! use cochran::data::{Table, TableSpec};
//! let csv = "Author;yi;vi\nA;0,1;0,01\n;;\nB;0,3;0,02\n";
//! let table = Table::from_reader(csv.as_bytes(), None, &TableSpec::numeric(&["yi", "vi"]))?;
//! assert_eq!(table.labels(), ["A", "B"]);
//! assert_eq!(table.column("yi"), Some(&[Some(0.1), Some(0.3)][..]));
//! assert_eq!(table.file_row(1), 3); // the empty row is skipped, not renumbered
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! ```
//! use cochran::data::{Table, TableSpec};
//! let csv = "Study,yi,vi,notes\nA,0.1,0.01,x\nB,NA,0.02,y\n";
//! let table = Table::from_reader(csv.as_bytes(), None, &TableSpec::numeric(&["yi", "vi"]))?;
//! assert_eq!(table.labels(), ["A", "B"]);
//! assert_eq!(table.column("yi"), Some(&[Some(0.1), None][..]));
//! assert_eq!(table.column("notes"), None); // not asked for
//! # Ok::<(), cochran::Error>(())
//! ```

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// The column that labels studies.
pub const STUDY_COLUMN: &str = "study";
/// The column that groups studies when no other grouping column is chosen.
pub const SUBGROUP_COLUMN: &str = "subgroup";

/// Which columns to read, and how.
#[derive(Debug, Clone, Default)]
pub struct TableSpec {
    numeric: Vec<String>,
    text: Vec<String>,
    group_by: Option<String>,
    delimiter: Option<u8>,
    decimal_comma: Option<bool>,
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

    /// Reads fields separated by this byte instead of the one sniffed from
    /// the header line.
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let spec = TableSpec::numeric(&["yi"]).delimiter(b';');
    /// let t = Table::from_reader("study;yi\nA;1,5\n".as_bytes(), None, &spec)?;
    /// assert_eq!(t.value("yi", 0), Some(1.5));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }

    /// Whether a comma is the decimal mark (by default: with any delimiter
    /// but the comma).
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let spec = TableSpec::numeric(&["yi"]).decimal_comma(false);
    /// assert!(Table::from_reader("study;yi\nA;1,5\n".as_bytes(), None, &spec).is_err());
    /// ```
    pub fn decimal_comma(mut self, on: bool) -> Self {
        self.decimal_comma = Some(on);
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
    labels: Vec<String>,
    group_column: Option<String>,
    groups: Option<Vec<Option<String>>>,
    numeric: Named<Option<f64>>,
    text: Named<Option<String>>,
    /// Each row's 1-based data row in the file, kept through [`Table::subset`].
    file_rows: Vec<usize>,
    /// What reading assumed: delimiter, decimal comma, label column.
    notes: Vec<String>,
}

impl Table {
    /// Reads a CSV file.
    pub fn read(path: impl AsRef<Path>, spec: &TableSpec) -> Result<Table> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::new(ErrorKind::Io(e)).in_file(path))?;
        Table::from_reader(file, Some(path), spec)
    }

    /// Reads CSV text from any reader; `source` names it in errors.
    pub fn from_reader(
        reader: impl Read,
        source: Option<&Path>,
        spec: &TableSpec,
    ) -> Result<Table> {
        read_table(reader, spec)
            .map_err(|e| match source {
                Some(path) => e.in_file(path),
                None => e,
            })
            .map(|mut table| {
                table.source = source.map(Path::to_path_buf);
                table
            })
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
    pub fn labels(&self) -> &[String] {
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
    pub fn column(&self, name: &str) -> Option<&[Option<f64>]> {
        self.numeric.get(name).map(Vec::as_slice)
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
        self.column(column).and_then(|c| c[row])
    }

    /// A text column that was asked for and is present in the file.
    pub fn text_column(&self, name: &str) -> Option<&[Option<String>]> {
        self.text.get(name).map(Vec::as_slice)
    }

    /// Sets a numeric cell, adding the column if the file has none: how
    /// recovered statistics join the data. The caller records what it filled.
    pub fn fill(&mut self, column: &str, row: usize, value: f64) {
        let rows = self.len();
        self.numeric.get_or_insert(column, || vec![None; rows])[row] = Some(value);
    }

    /// True when the file has the column (whether or not it was read as numbers).
    pub fn has_column(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h == name)
    }

    /// The 1-based data row of the file that row `row` (0-based) came from.
    pub fn file_row(&self, row: usize) -> usize {
        self.file_rows[row]
    }

    /// The rows for which `keep` is true, remembering their rows in the file.
    ///
    /// ```
    /// use cochran::data::{Table, TableSpec};
    /// let t = Table::from_reader("study,yi\nA,1\nB,2\nC,3\n".as_bytes(), None, &TableSpec::numeric(&["yi"]))?;
    /// let odd = t.subset(|row| row != 1);
    /// assert_eq!(odd.labels(), ["A", "C"]);
    /// assert_eq!(odd.file_row(1), 3);
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

    /// An error located at data row `row` (0-based) of this table.
    pub fn error_at(&self, row: usize, error: Error) -> Error {
        let error = error.at_row(self.file_rows[row]);
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

/// The delimiters a file may use, with their names for notes.
const DELIMITERS: [(u8, &str); 4] = [
    (b',', "comma"),
    (b';', "semicolon"),
    (b'\t', "tab"),
    (b'|', "pipe"),
];

/// Columns that label the studies when there is no `study` column, in order.
const LABEL_COLUMNS: [&str; 4] = ["author", "trial", "id", "name"];

/// The most frequent delimiter outside quotes in the first line (comma on a tie).
fn sniff_delimiter(start: &[u8]) -> u8 {
    let line = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = DELIMITERS.iter().position(|(d, _)| *d == b) {
            counts[i] += 1;
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        DELIMITERS[best].0
    }
}

fn read_table(reader: impl Read, spec: &TableSpec) -> Result<Table> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let delimiter = match spec.delimiter {
        Some(d) => d,
        None => {
            use std::io::BufRead;
            let start = reader
                .fill_buf()
                .map_err(|e| Error::new(ErrorKind::Io(e)))?;
            sniff_delimiter(start)
        }
    };
    let decimal_comma = spec.decimal_comma.unwrap_or(delimiter != b',');
    let mut notes = Vec::new();
    if delimiter != b',' || decimal_comma {
        let name = DELIMITERS
            .iter()
            .find(|(d, _)| *d == delimiter)
            .map_or_else(
                || format!("`{}`", delimiter as char),
                |(_, n)| n.to_string(),
            );
        let how = if spec.delimiter.is_some() {
            " (as set)"
        } else {
            ""
        };
        let decimals = if decimal_comma {
            "with decimal commas accepted"
        } else {
            "with decimal points only"
        };
        notes.push(format!("read as {name}-separated values{how}, {decimals}"));
    }
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(reader);
    let headers: Vec<String> = csv
        .byte_headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_ascii_lowercase()
        })
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(ErrorKind::Empty.into());
    }
    check_duplicate_headers(&headers)?;
    let index = |name: &str| headers.iter().position(|h| h == name);
    let numeric_index: Vec<(String, usize)> = spec
        .numeric
        .iter()
        .filter_map(|name| index(name).map(|i| (name.clone(), i)))
        .collect();
    let group_column = match &spec.group_by {
        Some(name) => Some(index(name).map(|_| name.clone()).ok_or_else(|| {
            Error::new(ErrorKind::InvalidSetting(format!(
                "the grouping column `{name}` is not in the file; its columns are: {}",
                headers.join(", ")
            )))
        })?),
        None => index(SUBGROUP_COLUMN).map(|_| SUBGROUP_COLUMN.to_string()),
    };
    let group_index = group_column.as_deref().and_then(index);
    let text_index: Vec<(String, usize)> = spec
        .text
        .iter()
        .filter_map(|name| index(name).map(|i| (name.clone(), i)))
        .collect();
    let mut texts: Vec<Vec<Option<String>>> = vec![Vec::new(); text_index.len()];
    let study_index = index(STUDY_COLUMN).or_else(|| {
        let (name, i) = LABEL_COLUMNS
            .iter()
            .find_map(|name| index(name).map(|i| (*name, i)))?;
        notes.push(format!(
            "no `study` column: the studies are labelled by the `{name}` column"
        ));
        Some(i)
    });

    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); numeric_index.len()];
    let mut labels = Vec::new();
    let mut groups = group_index.map(|_| Vec::new());
    let mut record = csv::ByteRecord::new();
    let mut file_rows = Vec::new();
    let mut row = 0;
    while csv
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(e).at_row(row + 1))?
    {
        row += 1;
        // A spreadsheet's trailing `,,,,` rows hold nothing: not a study.
        if record.iter().all(|cell| cell.is_empty()) {
            continue;
        }
        file_rows.push(row);
        for ((name, i), column) in numeric_index.iter().zip(&mut columns) {
            let cell = parse_cell(&record[*i], decimal_comma);
            column.push(cell.map_err(|e| e.at_row(row).in_column(name))?);
        }
        let text = |i: Option<usize>| {
            i.map(|i| String::from_utf8_lossy(&record[i]).into_owned())
                .filter(|s| !s.is_empty())
        };
        labels.push(text(study_index).unwrap_or_else(|| format!("Study {row}")));
        if let Some(groups) = &mut groups {
            groups.push(text(group_index));
        }
        for ((_, i), column) in text_index.iter().zip(&mut texts) {
            column.push(text(Some(*i)));
        }
    }
    if labels.is_empty() {
        return Err(ErrorKind::Empty.into());
    }
    Ok(Table {
        source: None,
        headers,
        labels,
        group_column,
        groups,
        numeric: numeric_index
            .into_iter()
            .map(|(name, _)| name)
            .zip(columns)
            .collect(),
        text: text_index
            .into_iter()
            .map(|(name, _)| name)
            .zip(texts)
            .collect(),
        file_rows,
        notes,
    })
}

/// A number, or `None` for an empty cell, `NA` or `N/A`; with
/// `decimal_comma`, one comma stands for the decimal point.
fn parse_cell(cell: &[u8], decimal_comma: bool) -> Result<Option<f64>> {
    let text = std::str::from_utf8(cell).map_err(|_| {
        Error::new(ErrorKind::NotANumber {
            found: String::from_utf8_lossy(cell).into_owned(),
        })
    })?;
    if text.is_empty() || text.eq_ignore_ascii_case("na") || text.eq_ignore_ascii_case("n/a") {
        return Ok(None);
    }
    let converted;
    let text = if decimal_comma && text.matches(',').count() == 1 && !text.contains('.') {
        converted = text.replace(',', ".");
        converted.as_str()
    } else {
        text
    };
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(ErrorKind::NotANumber {
            found: text.to_string(),
        }
        .into()),
    }
}

fn csv_error(e: csv::Error) -> Error {
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ErrorKind::Io(io).into(),
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => {
            let line = pos.map_or(String::new(), |p| format!("line {} ", p.line()));
            ErrorKind::Csv(format!(
                "{line}has {len} field{}; the header has {expected_len}",
                if len == 1 { "" } else { "s" }
            ))
            .into()
        }
        _ => ErrorKind::Csv(message).into(),
    }
}

/// Two columns of the same name: which one is meant cannot be guessed.
fn check_duplicate_headers(headers: &[String]) -> Result<()> {
    for (i, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(j) = headers[i + 1..].iter().position(|h| h == name) {
            return Err(ErrorKind::Csv(format!(
                "the header names the column `{name}` twice (columns {} and {}); rename or \
                 remove one",
                i + 1,
                i + j + 2
            ))
            .into());
        }
    }
    Ok(())
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
        assert_eq!(t.column("vi").unwrap(), [None, None]);
    }

    #[test]
    fn text_in_a_numeric_column_names_file_row_and_column() {
        let e = read("study,yi\nA,1\nB,abc\n", &TableSpec::numeric(&["yi"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv, row 2, column `yi`: expected a number, found `abc`"
        );
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
