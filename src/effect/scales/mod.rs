//! The registry of clinical instruments: range, which direction is better,
//! subscales, and published minimal important change (MIC) values.
//!
//! The built-in registry is read from two small CSV files compiled into the
//! crate (`instruments.csv` and `mic.csv` beside this module); more instruments
//! can be added from files of the same shape with [`ScaleRegistry::extend_from_csv`].
//!
//! ```
//! use cochran::effect::scales::{Direction, ScaleRegistry};
//! let registry = ScaleRegistry::builtin();
//! let hhs = registry.find("Harris Hip Score")?;
//! assert_eq!((hhs.min, hhs.max, hhs.better), (0.0, 100.0, Direction::Higher));
//! assert!(registry.find("WOMAC").is_ok_and(|w| w.better == Direction::Lower));
//! assert!(registry.find("Lequesne").is_err()); // unknown: the error lists the registered ones
//! # Ok::<(), cochran::Error>(())
//! ```

use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

const INSTRUMENTS: &str = include_str!("instruments.csv");
const MIC: &str = include_str!("mic.csv");

/// Which end of an instrument's range is the better outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher scores are better (HHS, Oxford Hip Score).
    Higher,
    /// Lower scores are better (WOMAC, pain scales).
    Lower,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Direction::Higher => "higher is better",
            Direction::Lower => "lower is better",
        })
    }
}

/// A published minimal important change, as an improvement in points of the
/// instrument's default range.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Mic {
    /// The value, or the lower end of a published range, in points.
    pub low: f64,
    /// The upper end of a published range.
    pub high: Option<f64>,
    /// The value as published.
    pub published: String,
    /// The population or setting it was derived in.
    pub context: String,
    /// The publication.
    pub source: String,
}

/// One registered instrument.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Scale {
    /// The name used in the `outcome` column and on the command line.
    pub name: String,
    /// Other accepted names.
    pub aliases: Vec<String>,
    /// The full name.
    pub full_name: String,
    /// Lowest possible score of the default range.
    pub min: f64,
    /// Highest possible score of the default range.
    pub max: f64,
    /// Which direction is better.
    pub better: Direction,
    /// Subscales and their ranges, as text.
    pub subscales: String,
    /// Anything else a reader should know.
    pub note: String,
    /// Published minimal important changes.
    pub mic: Vec<Mic>,
}

impl Scale {
    /// The width of the default range, max − min.
    pub fn span(&self) -> f64 {
        self.max - self.min
    }

    fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.name.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

#[derive(Deserialize)]
struct InstrumentRow {
    name: String,
    aliases: String,
    full_name: String,
    min: f64,
    max: f64,
    better: Direction,
    subscales: String,
    note: String,
}

/// A row of the MIC file; not flattened into [`Mic`], because csv reads an
/// empty cell as `None` only for fields it deserialises directly.
#[derive(Deserialize)]
struct MicRow {
    instrument: String,
    low: f64,
    high: Option<f64>,
    published: String,
    context: String,
    source: String,
}

/// The instruments known to cochran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleRegistry {
    scales: Vec<Scale>,
}

impl ScaleRegistry {
    /// The built-in registry (HHS, mHHS, WOMAC and its subscales and versions,
    /// VAS and NRS pain, Oxford Hip Score).
    pub fn builtin() -> Self {
        Self::shared().clone()
    }

    /// The built-in registry, parsed once per process.
    pub fn shared() -> &'static ScaleRegistry {
        static BUILTIN: std::sync::OnceLock<ScaleRegistry> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut registry = ScaleRegistry { scales: Vec::new() };
            registry
                .extend_from_csv(INSTRUMENTS.as_bytes(), MIC.as_bytes())
                .expect("the built-in scale files are valid");
            registry
        })
    }

    /// Adds instruments (and their MIC values) from CSV files with the columns of
    /// the built-in ones: `name, aliases, full_name, min, max, better, subscales,
    /// note` and `instrument, low, high, published, context, source`.
    ///
    /// ```
    /// use cochran::effect::scales::ScaleRegistry;
    /// let mut registry = ScaleRegistry::builtin();
    /// let instruments = "name,aliases,full_name,min,max,better,subscales,note\n\
    ///                    HOOS pain,,HOOS pain subscale,0,100,higher,,\n";
    /// let mic = "instrument,low,high,published,context,source\n";
    /// registry.extend_from_csv(instruments.as_bytes(), mic.as_bytes())?;
    /// assert_eq!(registry.find("hoos pain")?.max, 100.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn extend_from_csv(&mut self, instruments: impl Read, mic: impl Read) -> Result<()> {
        for (i, row) in csv::Reader::from_reader(instruments)
            .deserialize::<InstrumentRow>()
            .enumerate()
        {
            // Lines: the header is line 1.
            let line = i + 2;
            let row = row.map_err(|e| scale_file_error(e, line))?;
            if row.max <= row.min {
                return Err(Error::invalid(
                    "max",
                    format!("instrument `{}`: max must exceed min", row.name),
                )
                .at_row(line));
            }
            let names = std::iter::once(row.name.as_str()).chain(row.aliases.split('|'));
            for name in names.map(str::trim).filter(|n| !n.is_empty()) {
                if let Some(known) = self.scales.iter().find(|s| s.answers_to(name)) {
                    return Err(Error::invalid(
                        "name",
                        format!("`{name}` is registered already (as `{}`)", known.name),
                    )
                    .at_row(line));
                }
            }
            self.scales.push(Scale {
                aliases: row
                    .aliases
                    .split('|')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect(),
                name: row.name,
                full_name: row.full_name,
                min: row.min,
                max: row.max,
                better: row.better,
                subscales: row.subscales,
                note: row.note,
                mic: Vec::new(),
            });
        }
        for (i, row) in csv::Reader::from_reader(mic)
            .deserialize::<MicRow>()
            .enumerate()
        {
            let row = row.map_err(|e| scale_file_error(e, i + 2))?;
            let scale = self
                .find_mut(&row.instrument)
                .map_err(|e| e.at_row(i + 2))?;
            scale.mic.push(Mic {
                low: row.low,
                high: row.high,
                published: row.published,
                context: row.context,
                source: row.source,
            });
        }
        Ok(())
    }

    /// The built-in instruments and those of a file in the registry's format
    /// (`name, aliases, full_name, min, max, better, subscales, note`; see
    /// `cochran scales`), for instruments cochran does not know.
    ///
    /// ```
    /// use cochran::effect::scales::ScaleRegistry;
    /// let path = std::env::temp_dir().join("cochran_doc_scales.csv");
    /// std::fs::write(&path, "name,aliases,full_name,min,max,better,subscales,note\nLequesne,LI,Lequesne index,0,24,lower,,\n")?;
    /// let registry = ScaleRegistry::builtin_and_file(&path)?;
    /// assert_eq!(registry.find("LI")?.max, 24.0);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builtin_and_file(path: impl AsRef<std::path::Path>) -> Result<ScaleRegistry> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|e| Error::new(ErrorKind::Io(e)).in_file(path))?;
        let mut registry = ScaleRegistry::builtin();
        registry
            .extend_from_csv(&text[..], &b""[..])
            .map_err(|e| e.in_file(path))?;
        Ok(registry)
    }

    /// The instrument with this name or alias (case-insensitive).
    pub fn find(&self, name: &str) -> Result<&Scale> {
        self.scales
            .iter()
            .find(|s| s.answers_to(name))
            .ok_or_else(|| self.unknown(name))
    }

    fn find_mut(&mut self, name: &str) -> Result<&mut Scale> {
        let error = self.unknown(name);
        self.scales
            .iter_mut()
            .find(|s| s.answers_to(name))
            .ok_or(error)
    }

    fn unknown(&self, name: &str) -> Error {
        ErrorKind::UnknownName {
            what: "instrument",
            given: name.to_string(),
            valid: self.scales.iter().map(|s| s.name.clone()).collect(),
        }
        .into()
    }

    /// Every registered instrument, in registry order.
    pub fn scales(&self) -> &[Scale] {
        &self.scales
    }
}

fn scale_file_error(e: csv::Error, row: usize) -> Error {
    Error::new(ErrorKind::Csv(format!("scale registry file: {e}"))).at_row(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_instrument_has_a_valid_range_and_its_mic_values() {
        let registry = ScaleRegistry::builtin();
        assert!(registry.scales().len() >= 11);
        for name in [
            "HHS",
            "mHHS",
            "WOMAC",
            "WOMAC pain",
            "WOMAC stiffness",
            "WOMAC function",
            "WOMAC VAS",
            "WOMAC normalised",
            "VAS pain",
            "NRS pain",
            "OHS",
        ] {
            let scale = registry.find(name).unwrap();
            assert!(scale.max > scale.min, "{name}");
        }
        assert_eq!(registry.find("mHHS").unwrap().mic.len(), 2);
        assert!(registry.find("pain nrs").is_ok());
    }

    #[test]
    fn a_mic_for_an_unregistered_instrument_is_an_error() {
        let mut registry = ScaleRegistry::builtin();
        let mic = "instrument,low,high,published,context,source\nLequesne,2,,2 points,,x\n";
        let e = registry
            .extend_from_csv(
                "name,aliases,full_name,min,max,better,subscales,note\n".as_bytes(),
                mic.as_bytes(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("Lequesne"), "{e}");
    }
}
