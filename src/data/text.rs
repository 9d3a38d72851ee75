//! Delimited text files: the encoding, the delimiter and the decimal mark
//! are detected, then the rows go to the [`TableBuilder`].

use super::limits::{MAX_LINE_BYTES, MAX_TABLE_ROWS, MAX_TABLE_VALUES, too_large};
use crate::setting::Setting;
use std::borrow::Cow;

use super::builder::{Cell, TableBuilder};
use super::{Layout, Table, TableSpec};
use crate::error::{Error, ErrorKind, Result};

/// The delimiters a file may use, with their names for notes.
const DELIMITERS: [(u8, &str); 4] = [
    (b',', "comma"),
    (b';', "semicolon"),
    (b'\t', "tab"),
    (b'|', "pipe"),
];

/// A line beyond what is read refused before it is parsed (the file's size
/// was limited as it was read).
fn check_lines(bytes: &[u8]) -> Result<()> {
    let ends = memchr::memchr_iter(b'\n', bytes).chain([bytes.len()]);
    let mut start = 0;
    for (line, end) in (1..).zip(ends) {
        if end - start > MAX_LINE_BYTES {
            return Err(too_large(
                format!("line {line} ({} bytes)", end - start),
                MAX_LINE_BYTES as u64,
                "bytes",
            ));
        }
        start = end + 1;
    }
    Ok(())
}

/// Reads a delimited text file held in memory.
pub(super) fn read(bytes: &[u8], spec: &TableSpec) -> Result<Table> {
    read_with(bytes, spec, Some(PART_BYTES))
}

/// [`read`], with plain files read in parts of `part_bytes` (or, with
/// `None`, record by record as any other file).
fn read_with(bytes: &[u8], spec: &TableSpec, part_bytes: Option<usize>) -> Result<Table> {
    if spec.read.sheet.is_some() {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} applies to spreadsheets (.xlsx, .xls, .ods); this is a text file",
            Setting::Sheet
        ))
        .into());
    }
    check_lines(bytes)?;
    let (text, encoding) = decode(bytes)?;
    let mut notes: Vec<String> = encoding.into_iter().collect();
    let delimiter = spec
        .read
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(text.as_bytes()));
    let decimal_comma = spec.read.decimal_comma.unwrap_or(delimiter != b',');
    if delimiter != b',' || decimal_comma {
        notes.push(format_note(
            delimiter,
            spec.read.delimiter.is_some(),
            decimal_comma,
        ));
    }
    let mut csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = csv
        .byte_headers()
        .map_err(|e| csv_error(e, 1))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let mut builder = TableBuilder::new(header, spec, Layout::Text, decimal_comma, notes)?;
    let body_start = csv.position().byte() as usize;
    let lines_left = line_count(&text.as_bytes()[body_start..]);
    // Room for every line at once: no growing (and copying) a million rows twice over.
    builder.reserve(lines_left);
    if let Some(part_bytes) = part_bytes
        && let Some(body) = text.get(body_start..)
        && is_plain(body.as_bytes())
        && lines_left <= MAX_TABLE_ROWS
        && lines_left.saturating_mul(builder.values_per_row()) <= MAX_TABLE_VALUES
    {
        let first_line = 1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..body_start]).count();
        read_plain(builder, body, first_line, delimiter, part_bytes)
    } else {
        read_records(builder, csv, text.as_bytes())
    }
}

/// The lines of a text: a final line end starts no line (a file of
/// exactly as many rows as the limits allow is still read in parts).
fn line_count(text: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', text).count()
        + usize::from(!text.is_empty() && !text.ends_with(b"\n"))
}

/// The rows of a file with quotes or lone carriage returns, record by record
/// through the csv reader.
fn read_records(
    mut builder: TableBuilder,
    mut csv: csv::Reader<&[u8]>,
    text: &[u8],
) -> Result<Table> {
    let mut record = csv::ByteRecord::new();
    let mut lines = Lines::new(text);
    loop {
        let line = lines.at(csv.position().byte());
        if !csv
            .read_byte_record(&mut record)
            .map_err(|e| csv_error(e, line))?
        {
            break;
        }
        let line = record.position().map_or(line, |p| lines.at(p.byte()));
        if record.len() != builder.width() && !record.iter().all(<[u8]>::is_empty) {
            return Err(unequal_lengths(record.len(), builder.width(), line));
        }
        builder.push(line, |i| match record.get(i) {
            None | Some(b"") => Cell::Empty,
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Cell::Text(text),
                Err(_) => Cell::Other(String::from_utf8_lossy(bytes).into_owned()),
            },
        })?;
    }
    builder.finish()
}

/// Text the csv reader would read line by line: no quotes, and every `\r`
/// ends a line with `\n` (a lone one ends a record too).
fn is_plain(body: &[u8]) -> bool {
    !body.contains(&b'"')
        && memchr::memchr_iter(b'\r', body).all(|i| body.get(i + 1) == Some(&b'\n'))
}

/// The bytes of a part of a plain file read on its own (whole lines).
const PART_BYTES: usize = 1 << 18;

/// Parts read together before they join the table: memory for rows read
/// twice stays bounded.
const PARTS_AT_ONCE: usize = 8;

/// The rows of a plain file (see [`is_plain`]), whose first line is
/// `first_line` of the file: parts of whole lines are read on all cores and
/// joined in order, so the table, and the first error, are those of reading
/// line by line.
fn read_plain(
    mut builder: TableBuilder,
    body: &str,
    first_line: usize,
    delimiter: u8,
    part_bytes: usize,
) -> Result<Table> {
    let parts = whole_lines(body, part_bytes);
    for batch in parts.chunks(PARTS_AT_ONCE) {
        let read = crate::parallel::map(0..batch.len(), |i| {
            let part = &batch[i];
            let mut rows = builder.part();
            rows.reserve(part.lines + 1);
            read_lines(
                rows,
                &body[part.bytes.clone()],
                first_line + part.lines_before,
                delimiter,
            )
        });
        for part in read {
            builder.append(part?);
        }
    }
    builder.finish()
}

/// Whole lines of a text, read apart.
struct Part {
    bytes: std::ops::Range<usize>,
    /// Line ends before the part.
    lines_before: usize,
    /// Line ends in the part (the last line of the text may have none).
    lines: usize,
}

/// `text` cut into parts of about `part_bytes` at line ends.
fn whole_lines(text: &str, part_bytes: usize) -> Vec<Part> {
    let bytes = text.as_bytes();
    let mut parts: Vec<Part> = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let cut = (start + part_bytes).min(bytes.len());
        let end = memchr::memchr(b'\n', &bytes[cut..]).map_or(bytes.len(), |at| cut + at + 1);
        parts.push(Part {
            bytes: start..end,
            lines_before: parts.last().map_or(0, |p| p.lines_before + p.lines),
            lines: memchr::memchr_iter(b'\n', &bytes[start..end]).count(),
        });
        start = end;
    }
    parts
}

/// The rows of whole lines of a plain file into `part`.
fn read_lines(
    mut part: TableBuilder,
    lines: &str,
    first_line: usize,
    delimiter: u8,
) -> Result<TableBuilder> {
    let width = part.width();
    let mut fields: Vec<&str> = Vec::with_capacity(width);
    for (line, record) in (first_line..).zip(lines.split('\n')) {
        fields.clear();
        fields.extend(
            record
                .split(char::from(delimiter))
                .map(|field| field.trim_matches(|c: char| c.is_ascii_whitespace())),
        );
        if fields.len() != width && !fields.iter().all(|f| f.is_empty()) {
            return Err(unequal_lengths(fields.len(), width, line));
        }
        part.push(line, |i| match fields.get(i) {
            None | Some(&"") => Cell::Empty,
            Some(text) => Cell::Text(text),
        })?;
    }
    Ok(part)
}

/// Line numbers from byte offsets, counted once through the text. The csv
/// reader's own line count trails by one after a CRLF line end (it counts a
/// line when it meets the `\n` that starts the next record), so records are
/// placed by where their first byte is.
struct Lines<'t> {
    text: &'t [u8],
    counted_to: usize,
    line: usize,
}

impl<'t> Lines<'t> {
    fn new(text: &'t [u8]) -> Self {
        Lines {
            text,
            counted_to: 0,
            line: 1,
        }
    }

    /// The line (1-based) of the record that starts at `byte`, or right
    /// after the line ends found there. Offsets must not decrease.
    fn at(&mut self, byte: u64) -> usize {
        let mut start = (byte as usize).min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start > self.counted_to {
            let newlines = self.text[self.counted_to..start]
                .iter()
                .filter(|&&b| b == b'\n');
            self.line += newlines.count();
            self.counted_to = start;
        }
        self.line
    }
}

/// "read as semicolon-separated values, with decimal commas accepted".
fn format_note(delimiter: u8, set: bool, decimal_comma: bool) -> String {
    let name = DELIMITERS
        .iter()
        .find(|(d, _)| *d == delimiter)
        .map_or_else(
            || format!("`{}`", delimiter as char),
            |(_, n)| n.to_string(),
        );
    let how = if set { " (as set)" } else { "" };
    let decimals = if decimal_comma {
        "with decimal commas accepted"
    } else {
        "with decimal points only"
    };
    format!("read as {name}-separated values{how}, {decimals}")
}

/// The text of the file and, when it was not plain UTF-8, a note saying how
/// it was decoded. Files that are not text are refused with what they look
/// like.
fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Option<String>)> {
    let unreadable = |message: &str| Error::new(ErrorKind::Unreadable(message.to_string()));
    if let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf")
        && let Ok(text) = std::str::from_utf8(rest)
    {
        return Ok((Cow::Borrowed(text), None));
    }
    for (bom, encoding, name) in [
        (
            &b"\xff\xfe"[..],
            encoding_rs::UTF_16LE,
            "UTF-16 (little-endian)",
        ),
        (
            &b"\xfe\xff"[..],
            encoding_rs::UTF_16BE,
            "UTF-16 (big-endian)",
        ),
    ] {
        if let Some(rest) = bytes.strip_prefix(bom) {
            let (text, malformed) = encoding.decode_without_bom_handling(rest);
            if malformed {
                return Err(unreadable(&format!(
                    "it starts with the byte-order mark of {name} but is not valid {name} text"
                )));
            }
            return Ok((text, Some(format!("decoded from {name}"))));
        }
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xd0\xcf\x11\xe0") {
        return Err(unreadable(
            "it is a spreadsheet (Excel or OpenDocument), not a text file; give it its \
             extension (.xlsx, .xls or .ods) and it is read as one",
        ));
    }
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Err(unreadable(
            "it is a binary file, not delimited text (if it is UTF-16 text, save it with a \
             byte-order mark, or as UTF-8)",
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), None)),
        Err(e) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Ok((
                text,
                Some(format!(
                    "not UTF-8 (from line {line}): decoded as Windows-1252 (Western European); \
                     save the file as UTF-8 if its characters look wrong"
                )),
            ))
        }
    }
}

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

fn unequal_lengths(len: usize, expected: usize, line: usize) -> Error {
    Error::new(ErrorKind::Csv(format!(
        "the row has {len} field{}; the header has {expected}",
        if len == 1 { "" } else { "s" }
    )))
    .at_row(line)
}

fn csv_error(e: csv::Error, line: usize) -> Error {
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => ErrorKind::Io(io).into(),
        _ => Error::new(ErrorKind::Csv(message)).at_row(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What reading in parts and reading record by record make of a text.
    fn both_ways(text: &str, spec: &TableSpec) -> (String, String) {
        let parts = read_with(text.as_bytes(), spec, Some(16));
        let records = read_with(text.as_bytes(), spec, None);
        (format!("{parts:?}"), format!("{records:?}"))
    }

    #[test]
    fn the_datasets_read_in_parts_as_record_by_record() {
        for entry in std::fs::read_dir("datasets").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                let text = std::fs::read_to_string(&path).unwrap();
                let spec = TableSpec::numeric(&["yi", "vi", "n", "tpos", "tneg", "cpos", "cneg"]);
                let (parts, records) = both_ways(&text, &spec);
                assert_eq!(parts, records, "{}", path.display());
            }
        }
    }

    #[test]
    fn a_final_line_end_starts_no_line() {
        let counts = ["", "a", "a\n", "a\nb", "a\nb\n", "\n", "a\r\nb\r\n"]
            .map(|t| line_count(t.as_bytes()));
        assert_eq!(counts, [0, 1, 1, 2, 2, 1, 2]);
    }

    #[test]
    fn a_line_beyond_the_limit_is_named() {
        let long = "x".repeat(MAX_LINE_BYTES);
        let at_limit = format!("study,yi\n{long}\nA,1");
        assert!(check_lines(at_limit.as_bytes()).is_ok());
        for text in [
            format!("study,yi\n{long}\nx{long}\n"),
            format!("a\nb\n{long}x"),
        ] {
            let error = check_lines(text.as_bytes()).unwrap_err().to_string();
            let expected = format!("line 3 ({} bytes)", MAX_LINE_BYTES + 1);
            assert!(error.contains(&expected), "{error}");
        }
    }

    fn field() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "A", "b c", " 1 ", "2.5", "NA", "", "x", "-3", "1e3", " ", "\t7", "Study 9",
        ])
    }

    fn line() -> impl Strategy<Value = (Vec<&'static str>, bool)> {
        (prop::collection::vec(field(), 0..5), any::<bool>())
    }

    proptest! {
        /// Blank lines, CRLF and LF ends, short and long rows, missing
        /// cells, spaces and words where numbers belong: the same table, or
        /// the same error at the same line, either way.
        #[test]
        fn plain_text_reads_the_same_in_parts(
            lines in prop::collection::vec(line(), 0..40),
            delimiter in prop::sample::select(vec![',', ';', '\t']),
        ) {
            let d = delimiter.to_string();
            let mut text = format!("study{d}yi{d}group\n");
            for (fields, crlf) in &lines {
                text.push_str(&fields.join(&d));
                text.push_str(if *crlf { "\r\n" } else { "\n" });
            }
            let spec = TableSpec::numeric(&["yi"]).with_text(&["group"]);
            let (parts, records) = both_ways(&text, &spec);
            prop_assert_eq!(parts, records);
        }
    }
}
