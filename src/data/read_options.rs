//! How a file is to be read when sniffing is not enough: the delimiter, the
//! decimal mark, the sheet of a spreadsheet and the names of its columns.

use crate::error::{Error, ErrorKind, Result};
use crate::setting::Setting;

/// Settings that override what the reader detects, and the user's names
/// for the columns cochran expects.
///
/// ```
/// use cochran::data::{ReadOptions, Table, TableSpec};
/// let read = ReadOptions::new().map_columns("study=Author,yi=effect")?;
/// let spec = TableSpec::numeric(&["yi"]).read_options(read);
/// let t = Table::from_reader("Author,Effect\nA,0.5\n".as_bytes(), None, &spec)?;
/// assert_eq!((&*t.labels()[0], t.value("yi", 0)), ("A", Some(0.5)));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ReadOptions {
    pub(crate) delimiter: Option<u8>,
    pub(crate) decimal_comma: Option<bool>,
    pub(crate) sheet: Option<String>,
    /// (the name cochran expects, the user's header), both lower-cased.
    pub(crate) columns: Vec<(String, String)>,
}

impl ReadOptions {
    /// Nothing overridden: everything is detected.
    pub fn new() -> Self {
        ReadOptions::default()
    }

    /// Reads fields separated by this byte instead of the one sniffed from
    /// the header line.
    ///
    /// ```
    /// use cochran::data::{ReadOptions, Table, TableSpec};
    /// let spec = TableSpec::numeric(&["yi"]).read_options(ReadOptions::new().delimiter(b';'));
    /// let t = Table::from_reader("study;yi\nA;1,5\n".as_bytes(), None, &spec)?;
    /// assert_eq!(t.value("yi", 0), Some(1.5));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = Some(delimiter);
        self
    }

    /// The delimiter by name, as `--delimiter` takes it: `comma`, `semicolon`,
    /// `tab`, `pipe` or one ASCII character.
    ///
    /// ```
    /// use cochran::data::ReadOptions;
    /// assert_eq!(ReadOptions::new().delimiter_named("tab")?, ReadOptions::new().delimiter(b'\t'));
    /// assert!(ReadOptions::new().delimiter_named("two").is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn delimiter_named(self, name: &str) -> Result<Self> {
        let byte = match name.to_ascii_lowercase().as_str() {
            "comma" | "," => b',',
            "semicolon" | ";" => b';',
            "tab" | "\\t" | "\t" => b'\t',
            "pipe" | "|" => b'|',
            other if other.len() == 1 && other.is_ascii() && !other.contains(['"', '\n', '\r']) => {
                other.as_bytes()[0]
            }
            _ => {
                return Err(setting(format!(
                    "{} takes comma, semicolon, tab, pipe or one ASCII character, \
                     found `{name}`",
                    Setting::Delimiter
                )));
            }
        };
        Ok(self.delimiter(byte))
    }

    /// The decimal mark by name, as `--decimal` takes it: `point` or `comma`.
    ///
    /// ```
    /// use cochran::data::ReadOptions;
    /// assert_eq!(ReadOptions::new().decimal_mark("comma")?, ReadOptions::new().decimal_comma(true));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn decimal_mark(self, name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "comma" | "," => Ok(self.decimal_comma(true)),
            "point" | "." | "period" | "dot" => Ok(self.decimal_comma(false)),
            other => Err(setting(format!(
                "{} takes `point` or `comma`, found `{other}`",
                Setting::Decimal
            ))),
        }
    }

    /// Whether a comma is the decimal mark (by default: in text files with
    /// any delimiter but the comma; never in a spreadsheet's text cells).
    ///
    /// ```
    /// use cochran::data::{ReadOptions, Table, TableSpec};
    /// let spec = TableSpec::numeric(&["yi"]).read_options(ReadOptions::new().decimal_comma(false));
    /// assert!(Table::from_reader("study;yi\nA;1,5\n".as_bytes(), None, &spec).is_err());
    /// ```
    pub fn decimal_comma(mut self, on: bool) -> Self {
        self.decimal_comma = Some(on);
        self
    }

    /// Reads this sheet of a spreadsheet (by default the first); the name is
    /// matched case-insensitively.
    ///
    /// ```
    /// use cochran::data::{ReadOptions, Table, TableSpec};
    /// let spec = TableSpec::numeric(&["yi"]).read_options(ReadOptions::new().sheet("Data"));
    /// // A text file has no sheets: asking for one is an error, not ignored.
    /// assert!(Table::from_reader("study,yi\nA,1\n".as_bytes(), None, &spec).is_err());
    /// ```
    pub fn sheet(mut self, name: impl Into<String>) -> Self {
        self.sheet = Some(name.into());
        self
    }

    /// Reads the user's column `header` as the column cochran calls `name`.
    ///
    /// ```
    /// use cochran::data::{ReadOptions, Table, TableSpec};
    /// let spec = TableSpec::numeric(&["yi"]).read_options(ReadOptions::new().map_column("yi", "SMD"));
    /// let t = Table::from_reader("study,SMD\nA,0.5\n".as_bytes(), None, &spec)?;
    /// assert_eq!(t.value("yi", 0), Some(0.5));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn map_column(mut self, name: &str, header: &str) -> Self {
        self.columns
            .push((name.trim().to_lowercase(), header.trim().to_lowercase()));
        self
    }

    /// Column mappings written as `name=header,name=header` (the form of
    /// `--columns`).
    ///
    /// ```
    /// use cochran::data::ReadOptions;
    /// assert!(ReadOptions::new().map_columns("events1=tpos,n1=total1").is_ok());
    /// assert!(ReadOptions::new().map_columns("events1").is_err());
    /// ```
    pub fn map_columns(mut self, list: &str) -> Result<Self> {
        for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, header) = pair
                .split_once('=')
                .filter(|(n, h)| !n.trim().is_empty() && !h.trim().is_empty())
                .ok_or_else(|| {
                    setting(format!(
                        "{} takes NAME=HEADER pairs separated by commas \
                         (e.g. `study=Author,events1=tpos`), found `{}`",
                        Setting::Columns,
                        pair.trim()
                    ))
                })?;
            self = self.map_column(name, header);
        }
        Ok(self)
    }
}

fn setting(message: String) -> Error {
    Error::new(ErrorKind::InvalidSetting(message))
}
