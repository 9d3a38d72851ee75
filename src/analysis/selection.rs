//! Which rows of a clinical table enter one analysis: instruments (`outcome`),
//! follow-ups (`time`) and one instrument per study (`prefer`). Every row left
//! out is said in the notes; several follow-ups of one study that nobody chose
//! between are a warning.

use crate::setting::Setting;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::data::Table;
use crate::effect::harmonise::OUTCOME_COLUMN;
use crate::effect::scales::ScaleRegistry;
use crate::effect::{EffectSet, StudyEffect};
use crate::error::{Error, ErrorKind, Result};
use crate::hash::LabelMap;

/// The follow-up column of before/after data.
pub const TIME_COLUMN: &str = "time";

/// Which follow-ups of a study enter the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TimeSelection {
    /// The rows whose `time` equals this value.
    Value(f64),
    /// Each study's latest follow-up of each instrument.
    Latest,
    /// Every follow-up (dependent effects: use clusters).
    All,
}

impl FromStr for TimeSelection {
    type Err = Error;

    /// A number, `latest` or `all`.
    ///
    /// ```
    /// use cochran::analysis::TimeSelection;
    /// assert_eq!("6".parse::<TimeSelection>()?, TimeSelection::Value(6.0));
    /// assert_eq!("Latest".parse::<TimeSelection>()?, TimeSelection::Latest);
    /// assert!("soon".parse::<TimeSelection>().is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("latest") {
            return Ok(TimeSelection::Latest);
        }
        if s.eq_ignore_ascii_case("all") {
            return Ok(TimeSelection::All);
        }
        match s.parse::<f64>() {
            Ok(t) if t.is_finite() => Ok(TimeSelection::Value(t)),
            _ => Err(ErrorKind::InvalidSetting(format!(
                "{} takes a follow-up value (as in the `{TIME_COLUMN}` column), `latest` or \
                 `all`, found `{s}`",
                Setting::Time
            ))
            .into()),
        }
    }
}

impl fmt::Display for TimeSelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeSelection::Value(t) => write!(f, "{t}"),
            TimeSelection::Latest => f.write_str("latest"),
            TimeSelection::All => f.write_str("all"),
        }
    }
}

/// The rows chosen, with what was said about them.
pub(crate) struct Selection<'a> {
    /// The table, borrowed when no row is left out.
    pub table: std::borrow::Cow<'a, Table>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// The instrument (canonical name) of each row, `None` where it has none.
fn instruments(table: &Table, registry: &ScaleRegistry) -> Option<Vec<Option<String>>> {
    let outcomes = table.text_column(OUTCOME_COLUMN)?;
    Some(
        outcomes
            .iter()
            .map(|o| {
                let o = o.as_deref()?;
                Some(
                    registry
                        .find(o)
                        .map_or_else(|_| o.trim().to_string(), |s| s.name.clone()),
                )
            })
            .collect(),
    )
}

/// Chooses the follow-ups of `table`.
pub(crate) fn select<'a>(
    table: &'a Table,
    time: Option<TimeSelection>,
    registry: &ScaleRegistry,
) -> Result<Selection<'a>> {
    let mut selection = Selection {
        table: std::borrow::Cow::Borrowed(table),
        notes: Vec::new(),
        warnings: Vec::new(),
    };
    let has_time = table.column(TIME_COLUMN).is_some();
    match time {
        Some(TimeSelection::All) | None => {
            if has_time {
                selection
                    .warnings
                    .extend(several_follow_ups(table, time.is_none(), registry));
            }
        }
        Some(chosen) => {
            if !has_time {
                return Err(ErrorKind::InvalidSetting(format!(
                    "{} {chosen} needs a `{TIME_COLUMN}` column with each row's follow-up",
                    Setting::Time
                ))
                .into());
            }
            selection = choose_time(selection, chosen, registry);
        }
    }
    Ok(selection)
}

/// Each row's instrument, `None` throughout without an `outcome` column.
fn row_instruments(table: &Table, registry: &ScaleRegistry) -> Vec<Option<String>> {
    instruments(table, registry).unwrap_or_else(|| vec![None; table.len()])
}

/// Rows grouped by study label and instrument, in order of first appearance.
fn study_instrument_groups(table: &Table, instruments: &[Option<String>]) -> Vec<Vec<usize>> {
    let mut index: LabelMap<(&str, Option<&str>), usize> = Default::default();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (row, instrument) in instruments.iter().enumerate() {
        let key = (&*table.labels()[row], instrument.as_deref());
        let next = groups.len();
        let g = *index.entry(key).or_insert(next);
        if g == next {
            groups.push(Vec::new());
        }
        groups[g].push(row);
    }
    groups
}

fn describe(table: &Table, instruments: &[Option<String>], row: usize) -> String {
    let instrument = instruments[row]
        .as_ref()
        .map(|i| format!(" {i}"))
        .unwrap_or_default();
    format!("{}{instrument}", table.labels()[row])
}

fn time_text(t: Option<f64>) -> String {
    t.map_or_else(|| "no time".to_string(), |t| format!("{t}"))
}

/// Studies that report one instrument at several follow-ups.
fn several_follow_ups(table: &Table, unchosen: bool, registry: &ScaleRegistry) -> Vec<String> {
    let instruments = row_instruments(table, registry);
    study_instrument_groups(table, &instruments)
        .into_iter()
        .filter_map(|rows| {
            let mut times: Vec<f64> = rows
                .iter()
                .filter_map(|&r| table.value(TIME_COLUMN, r))
                .collect();
            times.sort_by(f64::total_cmp);
            times.dedup();
            (times.len() > 1 && unchosen).then(|| {
                let listed: Vec<String> = times.iter().map(|t| format!("{t}")).collect();
                format!(
                    "{} is reported at several follow-ups ({}: {}): choose one with {time} \
                     VALUE or {time} latest, or keep them all with {time} all and {cluster} study",
                    describe(table, &instruments, rows[0]),
                    TIME_COLUMN,
                    listed.join(", "),
                    time = Setting::Time,
                    cluster = Setting::Cluster
                )
            })
        })
        .collect()
}

fn choose_time<'a>(
    selection: Selection<'a>,
    chosen: TimeSelection,
    registry: &ScaleRegistry,
) -> Selection<'a> {
    let table = selection.table.as_ref();
    let mut keep = vec![false; table.len()];
    let mut left_out: Vec<String> = Vec::new();
    let instruments = row_instruments(table, registry);
    for rows in study_instrument_groups(table, &instruments) {
        let time = |r: usize| table.value(TIME_COLUMN, r);
        let kept: Vec<usize> = match chosen {
            TimeSelection::Value(t) => rows
                .iter()
                .copied()
                .filter(|&r| time(r) == Some(t))
                .collect(),
            _ => {
                let latest = rows
                    .iter()
                    .filter_map(|&r| time(r))
                    .fold(f64::NEG_INFINITY, f64::max);
                match rows.iter().any(|&r| time(r).is_some()) {
                    true => rows
                        .iter()
                        .copied()
                        .filter(|&r| time(r) == Some(latest))
                        .collect(),
                    false => rows.clone(),
                }
            }
        };
        for &r in &rows {
            if kept.contains(&r) {
                keep[r] = true;
            } else {
                left_out.push(format!(
                    "{} at {}",
                    describe(table, &instruments, r),
                    time_text(time(r))
                ));
            }
        }
    }
    let mut notes = selection.notes;
    if !left_out.is_empty() {
        notes.push(format!(
            "{} {chosen}: {} row{} left out: {}",
            Setting::Time,
            left_out.len(),
            if left_out.len() == 1 { "" } else { "s" },
            left_out.join("; ")
        ));
    }
    Selection {
        table: std::borrow::Cow::Owned(table.subset(|r| keep[r])),
        notes,
        warnings: selection.warnings,
    }
}

/// Each study keeps its effects of its most preferred instrument among those
/// it can be analysed with (rows excluded for missing values do not count):
/// instruments listed rank in their order, any other after them all. Returns
/// the note of what was left out.
pub(crate) fn prefer(
    effects: &mut EffectSet,
    table: &Table,
    prefer: &[String],
    registry: &ScaleRegistry,
) -> Result<Option<String>> {
    if prefer.is_empty() {
        return Ok(None);
    }
    let ranking: Vec<String> = prefer
        .iter()
        .map(|p| registry.find(p).map(|s| s.name.clone()))
        .collect::<Result<_>>()?;
    let Some(instruments) = instruments(table, registry) else {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} chooses among instruments: it needs an `{OUTCOME_COLUMN}` column",
            Setting::Prefer
        ))
        .into());
    };
    let instrument = |s: &StudyEffect| instruments[s.table_row()].clone();
    let rank = |s: &StudyEffect| -> usize {
        instrument(s)
            .and_then(|i| ranking.iter().position(|p| *p == i))
            .unwrap_or(ranking.len())
    };
    let mut best: LabelMap<crate::data::Label, usize> = Default::default();
    for s in &effects.studies {
        let entry = best.entry(s.study.clone()).or_insert(usize::MAX);
        *entry = (*entry).min(rank(s));
    }
    let (kept, dropped): (Vec<StudyEffect>, Vec<StudyEffect>) =
        std::mem::take(&mut effects.studies)
            .into_iter()
            .partition(|s| rank(s) == best[&s.study]);
    effects.studies = kept;
    Ok((!dropped.is_empty()).then(|| {
        let listed: Vec<String> = dropped
            .iter()
            .map(|s| match instrument(s) {
                Some(i) => format!("{} {i}", s.study),
                None => s.study.to_string(),
            })
            .collect();
        format!(
            "{} {}: one instrument per study; left out: {}",
            Setting::Prefer,
            prefer.join(","),
            listed.join("; ")
        )
    }))
}
