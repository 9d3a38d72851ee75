//! One table from any source: the readers of text files and spreadsheets
//! hand over a header and rows of cells; this module maps the columns,
//! parses the cells and remembers where each row came from.

use super::label::{Label, LabelWriter};
use super::limits::{MAX_TABLE_ROWS, MAX_TABLE_VALUES, too_large};
use super::{LABEL_COLUMNS, Layout, Named, STUDY_COLUMN, SUBGROUP_COLUMN, Table, TableSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::setting::Setting;

/// A cell as a reader found it.
pub(super) enum Cell<'a> {
    Empty,
    Text(&'a str),
    #[cfg_attr(not(feature = "spreadsheet"), allow(dead_code))]
    Number(f64),
    /// A date-formatted spreadsheet cell, as year-month-day.
    #[cfg_attr(not(feature = "spreadsheet"), allow(dead_code))]
    Date(&'a str),
    /// Anything else (a spreadsheet's error value, a boolean), as it
    /// displays: a label, never a number.
    Other(String),
}

impl Cell<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.is_empty(),
            _ => false,
        }
    }

    /// The cell as text: numbers as they would be typed (`2001`, not `2001.0`).
    pub(super) fn text(&self) -> Option<String> {
        match self {
            Cell::Empty => None,
            Cell::Text(t) => Some(t.to_string()).filter(|t| !t.is_empty()),
            Cell::Number(x) => Some(x.to_string()),
            Cell::Date(d) => Some(d.to_string()),
            Cell::Other(t) => Some(t.clone()),
        }
    }

    /// Writes the cell as a study's label, or says that it has none.
    fn write_label(&self, writer: &mut LabelWriter) -> bool {
        match self {
            Cell::Text(t) => writer.push(t),
            other => writer.push(other.text().as_deref().unwrap_or_default()),
        }
        !self.is_empty()
    }

    /// A number, or `None` for an empty cell, `NA` or `N/A`; with
    /// `decimal_comma`, one comma in a text cell stands for the decimal point.
    fn number(&self, decimal_comma: bool) -> Result<Option<f64>> {
        match self {
            Cell::Empty => Ok(None),
            Cell::Number(x) if x.is_finite() => Ok(Some(*x)),
            Cell::Number(x) => Err(not_a_number(x.to_string())),
            Cell::Text(t) => parse_number(t, decimal_comma),
            Cell::Date(d) => Err(ErrorKind::DateNotANumber {
                date: d.to_string(),
            }
            .into()),
            Cell::Other(t) => Err(not_a_number(t.clone())),
        }
    }
}

fn not_a_number(found: String) -> Error {
    ErrorKind::NotANumber { found }.into()
}

fn parse_number(text: &str, decimal_comma: bool) -> Result<Option<f64>> {
    if text.is_empty() || text.eq_ignore_ascii_case("na") || text.eq_ignore_ascii_case("n/a") {
        return Ok(None);
    }
    if decimal_comma && looks_like_thousands(text) {
        return Err(ErrorKind::InvalidValue(format!(
            "`{text}` could be {} (a point between thousands) or {} (a decimal point), and this \
             file's decimal mark is the comma; write the number without the point, or set the \
             decimal mark with {} point",
            text.replace('.', ""),
            text.parse::<f64>().unwrap_or(f64::NAN),
            Setting::Decimal
        ))
        .into());
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
        _ => Err(not_a_number(text.to_string())),
    }
}

/// `2.000`, `12.345.678`: groups of three digits after points, the first
/// group not zero: in a decimal-comma file, a point between thousands.
fn looks_like_thousands(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut groups = digits.split('.');
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    !rest.is_empty()
        && (1..=3).contains(&first.len())
        && !first.starts_with('0')
        && first.bytes().all(|b| b.is_ascii_digit())
        && rest
            .iter()
            .all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Collects rows into a [`Table`], column by column.
pub(super) struct TableBuilder {
    headers: Vec<String>,
    layout: Layout,
    decimal_comma: bool,
    notes: Vec<String>,
    renamed: Vec<(String, String)>,
    numeric_index: Vec<(String, usize)>,
    text_index: Vec<(String, usize)>,
    group_column: Option<String>,
    group_index: Option<usize>,
    study_index: Option<usize>,
    /// Numbers, `NaN` where missing.
    columns: Vec<Vec<f64>>,
    texts: Vec<Vec<Option<String>>>,
    /// Labels of rows read before the last flush, then those written since.
    labels: Vec<Label>,
    writing: LabelWriter,
    /// Rows without a label, named `Study n` (their number in the table)
    /// when the table is finished: a part does not know its rows' numbers.
    unlabelled: Vec<usize>,
    groups: Option<Vec<Option<String>>>,
    file_rows: Vec<u32>,
}

impl TableBuilder {
    /// Starts a table with the file's header cells (as written), mapped to
    /// cochran's names as `spec` says.
    pub(super) fn new(
        header: Vec<String>,
        spec: &TableSpec,
        layout: Layout,
        decimal_comma: bool,
        mut notes: Vec<String>,
    ) -> Result<TableBuilder> {
        let mut headers: Vec<String> = header
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(ErrorKind::Empty.into());
        }
        let mut renamed = rename_columns(&mut headers, &header, spec, &mut notes)?;
        recognise_headers(&mut headers, &header, &mut renamed, &mut notes);
        check_duplicate_headers(&headers)?;
        let index = |name: &str| headers.iter().position(|h| h == name);
        let present = |names: &[String]| -> Vec<(String, usize)> {
            names
                .iter()
                .filter_map(|name| index(name).map(|i| (name.clone(), i)))
                .collect()
        };
        let numeric_index = present(&spec.numeric);
        let mut text_index = present(&spec.text);
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
        let study_index = index(STUDY_COLUMN).or_else(|| {
            let (name, i) = LABEL_COLUMNS
                .iter()
                .find_map(|name| index(name).map(|i| (*name, i)))?;
            notes.push(format!(
                "no `study` column: the studies are labelled by the `{name}` column"
            ));
            Some(i)
        });
        // Every other column is kept as text too, so that a grouping, a
        // moderator or a cluster chosen after reading finds its values;
        // numbers and labels are kept once.
        let mut kept = vec![false; headers.len()];
        for (_, i) in numeric_index.iter().chain(&text_index) {
            kept[*i] = true;
        }
        for (i, header) in headers.iter().enumerate() {
            if !header.is_empty() && Some(i) != study_index && !kept[i] {
                text_index.push((header.clone(), i));
            }
        }
        Ok(TableBuilder {
            columns: vec![Vec::new(); numeric_index.len()],
            texts: vec![Vec::new(); text_index.len()],
            groups: group_index.map(|_| Vec::new()),
            headers,
            layout,
            decimal_comma,
            notes,
            renamed,
            numeric_index,
            text_index,
            group_column,
            group_index,
            study_index,
            labels: Vec::new(),
            writing: LabelWriter::default(),
            unlabelled: Vec::new(),
            file_rows: Vec::new(),
        })
    }

    /// Adds the row the file shows as `row` (its line, or its spreadsheet
    /// row); `cell(i)` is its `i`-th cell. A row with no value is skipped: a
    /// spreadsheet's trailing `,,,,` rows are not studies.
    pub(super) fn push<'r>(&mut self, row: usize, cell: impl Fn(usize) -> Cell<'r>) -> Result<()> {
        if (0..self.headers.len()).all(|i| cell(i).is_empty()) {
            return Ok(());
        }
        self.push_with_value(row, cell)
    }

    /// Adds a row known to hold a value in some cell.
    pub(super) fn push_with_value<'r>(
        &mut self,
        row: usize,
        cell: impl Fn(usize) -> Cell<'r>,
    ) -> Result<()> {
        let rows = self.rows() + 1;
        if rows > MAX_TABLE_ROWS {
            let what = format!("the table ({rows} rows)");
            return Err(too_large(what, MAX_TABLE_ROWS as u64, "rows"));
        }
        let kept = self.values_per_row();
        if rows.saturating_mul(kept) > MAX_TABLE_VALUES {
            return Err(too_large(
                format!("the table ({rows} rows of {kept} columns kept)"),
                MAX_TABLE_VALUES as u64,
                "values",
            ));
        }
        for ((name, i), column) in self.numeric_index.iter().zip(&mut self.columns) {
            let value = cell(*i).number(self.decimal_comma);
            let value = value.map_err(|e| {
                self.layout
                    .locate(e.at_row(row), Some(*i))
                    .in_column(original(&self.renamed, name))
            })?;
            column.push(super::numbers::stored(value));
        }
        let text = |i: Option<usize>| i.and_then(|i| cell(i).text());
        let row_index = self.rows();
        let labelled = match self.study_index {
            Some(i) => cell(i).write_label(&mut self.writing),
            None => {
                self.writing.push("");
                false
            }
        };
        if !labelled {
            self.unlabelled.push(row_index);
        }
        if let Some(groups) = &mut self.groups {
            groups.push(text(self.group_index));
        }
        for ((_, i), column) in self.text_index.iter().zip(&mut self.texts) {
            column.push(text(Some(*i)));
        }
        // Files are limited far below 2³² lines or rows.
        self.file_rows
            .push(u32::try_from(row).map_err(|_| too_large("the file", u32::MAX.into(), "rows"))?);
        Ok(())
    }

    /// Makes room for `rows` more rows.
    pub(super) fn reserve(&mut self, rows: usize) {
        self.labels.reserve(rows);
        self.writing.reserve(rows);
        self.file_rows.reserve(rows);
        for column in &mut self.columns {
            column.reserve(rows);
        }
        for column in &mut self.texts {
            column.reserve(rows);
        }
        if let Some(groups) = &mut self.groups {
            groups.reserve(rows);
        }
    }

    /// An empty table with this one's columns, for a part of the rows read
    /// apart and then [`append`](Self::append)ed.
    pub(super) fn part(&self) -> TableBuilder {
        TableBuilder {
            headers: self.headers.clone(),
            layout: self.layout.clone(),
            decimal_comma: self.decimal_comma,
            notes: Vec::new(),
            renamed: self.renamed.clone(),
            numeric_index: self.numeric_index.clone(),
            text_index: self.text_index.clone(),
            group_column: self.group_column.clone(),
            group_index: self.group_index,
            study_index: self.study_index,
            columns: vec![Vec::new(); self.columns.len()],
            texts: vec![Vec::new(); self.texts.len()],
            labels: Vec::new(),
            writing: LabelWriter::default(),
            unlabelled: Vec::new(),
            groups: self.groups.as_ref().map(|_| Vec::new()),
            file_rows: Vec::new(),
        }
    }

    /// The rows read so far.
    fn rows(&self) -> usize {
        self.labels.len() + self.writing.len()
    }

    /// The labels written so far, as labels.
    fn flush_labels(&mut self) {
        let written = std::mem::take(&mut self.writing).finish();
        self.labels.extend(written);
    }

    /// Adds the rows of a [`part`](Self::part) after this table's rows.
    pub(super) fn append(&mut self, mut part: TableBuilder) {
        self.flush_labels();
        part.flush_labels();
        let offset = self.labels.len();
        self.unlabelled
            .extend(part.unlabelled.iter().map(|row| row + offset));
        self.labels.extend(part.labels);
        for (column, values) in self.columns.iter_mut().zip(part.columns) {
            column.extend(values);
        }
        for (column, values) in self.texts.iter_mut().zip(part.texts) {
            column.extend(values);
        }
        if let (Some(groups), Some(values)) = (&mut self.groups, part.groups) {
            groups.extend(values);
        }
        self.file_rows.extend(part.file_rows);
    }

    /// The values a row keeps, as [`MAX_TABLE_VALUES`] counts them.
    pub(super) fn values_per_row(&self) -> usize {
        self.numeric_index.len() + self.text_index.len()
    }

    /// The number of cells a row should have.
    pub(super) fn width(&self) -> usize {
        self.headers.len()
    }

    pub(super) fn finish(mut self) -> Result<Table> {
        self.flush_labels();
        if self.labels.is_empty() {
            return Err(ErrorKind::Empty.into());
        }
        let mut numbered = LabelWriter::default();
        for &row in &self.unlabelled {
            numbered.push(&format!("Study {}", row + 1));
        }
        for (&row, label) in self.unlabelled.iter().zip(numbered.finish()) {
            self.labels[row] = label;
        }
        let named = |index: Vec<(String, usize)>, values| {
            index
                .into_iter()
                .map(|(name, _)| name)
                .zip(values)
                .collect()
        };
        Ok(Table {
            source: None,
            headers: self.headers,
            layout: self.layout,
            renamed: self.renamed,
            labels: self.labels,
            group_column: self.group_column,
            groups: self.groups,
            numeric: named(self.numeric_index, self.columns),
            text: Named(
                self.text_index
                    .into_iter()
                    .map(|(name, _)| name)
                    .zip(self.texts)
                    .collect(),
            ),
            file_rows: self.file_rows,
            notes: self.notes,
        })
    }
}

/// The user's header for a column cochran calls `name`.
pub(super) fn original<'a>(renamed: &'a [(String, String)], name: &'a str) -> &'a str {
    renamed
        .iter()
        .find(|(n, _)| n == name)
        .map_or(name, |(_, header)| header.as_str())
}

/// Applies `--columns`: each mapped header takes cochran's name. Returns
/// (cochran's name, the header as written) for each.
fn rename_columns(
    headers: &mut [String],
    written: &[String],
    spec: &TableSpec,
    notes: &mut Vec<String>,
) -> Result<Vec<(String, String)>> {
    let setting = |message: String| Error::new(ErrorKind::InvalidSetting(message));
    // The file's own headers, before any renaming, for lookups and messages.
    let original = headers.to_vec();
    let as_written: Vec<String> = written.iter().map(|w| w.trim().to_string()).collect();
    let mut renamed: Vec<(String, String)> = Vec::new();
    let mut mapped: Vec<(usize, &str)> = Vec::new();
    for (name, header) in &spec.read.columns {
        let i = original.iter().position(|h| h == header).ok_or_else(|| {
            setting(format!(
                "{} maps `{header}` to `{name}`, but the file has no column `{header}`; \
                 its columns are {}",
                Setting::Columns,
                crate::error::quoted(&as_written)
            ))
        })?;
        if let Some((_, other)) = mapped.iter().find(|(j, _)| *j == i) {
            return Err(setting(format!(
                "{} maps the column `{}` to both `{other}` and `{name}`; one column is read \
                 as one name",
                Setting::Columns,
                as_written[i]
            )));
        }
        if renamed.iter().any(|(n, _)| n == name) {
            return Err(setting(format!(
                "{} maps two columns to `{name}`",
                Setting::Columns
            )));
        }
        if header != name && original.iter().any(|h| h == name) {
            return Err(setting(format!(
                "{} maps `{header}` to `{name}`, but the file also has a column \
                 `{name}`; rename or remove one",
                Setting::Columns
            )));
        }
        mapped.push((i, name));
        let written = written[i].trim().to_string();
        notes.push(format!(
            "the column `{written}` is read as `{name}` ({})",
            Setting::Columns
        ));
        headers[i] = name.clone();
        renamed.push((name.clone(), written));
    }
    Ok(renamed)
}

/// Headers as clinicians write them, by their letters and digits alone (case,
/// spaces and punctuation ignored), and the column each is read as.
const CLINICAL_HEADERS: &[(&str, &[&str])] = &[
    (
        "mean_pre",
        &[
            "premean",
            "meanpre",
            "baselinemean",
            "meanbaseline",
            "preopmean",
            "meanpreop",
            "pretreatmentmean",
        ],
    ),
    (
        "sd_pre",
        &[
            "presd",
            "sdpre",
            "baselinesd",
            "sdbaseline",
            "preopsd",
            "sdpreop",
            "pretreatmentsd",
        ],
    ),
    (
        "mean_post",
        &[
            "postmean",
            "meanpost",
            "followupmean",
            "meanfollowup",
            "postopmean",
            "meanpostop",
            "posttreatmentmean",
        ],
    ),
    (
        "sd_post",
        &[
            "postsd",
            "sdpost",
            "followupsd",
            "sdfollowup",
            "postopsd",
            "sdpostop",
            "posttreatmentsd",
        ],
    ),
    ("mean_change", &["meanchange", "changemean", "change"]),
    ("sd_change", &["sdchange", "changesd", "sdofchange"]),
    (
        "n",
        &[
            "samplesize",
            "patients",
            "npatients",
            "numberofpatients",
            "participants",
        ],
    ),
    (
        "time",
        &[
            "months",
            "followup",
            "followupmonths",
            "monthsfollowup",
            "timemonths",
            "followuptime",
        ],
    ),
    ("outcome", &["instrument", "outcomemeasure", "scale"]),
];

/// Reads headers such as "Pre mean", "SD (post)" or "Follow-up" as
/// cochran's columns, when the file has no column of that name already and
/// the user mapped neither; each one read so is noted.
fn recognise_headers(
    headers: &mut [String],
    written: &[String],
    renamed: &mut Vec<(String, String)>,
    notes: &mut Vec<String>,
) {
    let bare = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    for i in 0..headers.len() {
        if renamed.iter().any(|(name, _)| name == &headers[i]) {
            continue;
        }
        let key = bare(&headers[i]);
        let Some(&(name, _)) = CLINICAL_HEADERS.iter().find(|(name, forms)| {
            forms.contains(&key.as_str()) || bare(name) == key && *name != headers[i]
        }) else {
            continue;
        };
        if headers.iter().any(|h| h == name) || renamed.iter().any(|(n, _)| n == name) {
            continue;
        }
        let as_written = written[i].trim().to_string();
        notes.push(format!("the column `{as_written}` is read as `{name}`"));
        headers[i] = name.to_string();
        renamed.push((name.to_string(), as_written));
    }
}

/// Two columns of the same name: which one is meant cannot be guessed.
fn check_duplicate_headers(headers: &[String]) -> Result<()> {
    let mut seen = std::collections::HashMap::with_capacity(headers.len());
    for (j, name) in headers.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        if let Some(i) = seen.insert(name.as_str(), j) {
            return Err(ErrorKind::Unreadable(format!(
                "the header names the column `{name}` twice (columns {} and {}); rename or \
                 remove one",
                i + 1,
                j + 1
            ))
            .into());
        }
    }
    Ok(())
}
