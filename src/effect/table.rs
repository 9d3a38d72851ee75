//! From a table of studies to effect sizes, reporting every exclusion and adjustment.

use crate::setting::Setting;
use serde::Serialize;

use super::harmonise::InstrumentUse;
use super::recover::{Imputation, RECOVERY_COLUMNS, SdImputation, recover};
use super::{
    Arm, CONTINUITY_CORRECTION, ControlledPrePost, Correlation, Design, Effect, Measure, PrePost,
    Proportion, Rate, ReportedChange, SingleMean, StudyData, TwoArms, TwoByTwo, TwoRates,
};
use crate::data::{Table, TableSpec};
use crate::error::{Error, ErrorKind, Result};

/// Choices that affect how studies become effects.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct EffectOptions {
    /// The pre/post correlation for studies without an `r` value (before/after designs).
    pub r: Option<f64>,
    /// Make a missing required value an error instead of excluding the study.
    pub strict: bool,
    /// Derive r for studies without one from the studies that report the SD
    /// before, after and of the change (before/after designs).
    pub impute_r: bool,
    /// Borrow SDs that no study statistic recovers from the other studies of
    /// the same instrument and time (before/after designs).
    pub impute_sd: Option<SdImputation>,
}

/// One included study: its label, data, effect size and any adjustment made.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StudyEffect {
    /// The study's label (shared with the table it was read from).
    pub study: crate::data::Label,
    /// The data the effect was computed from.
    pub data: StudyData,
    /// The effect size and its variance.
    pub effect: Effect,
    /// What few studies carry (a subgroup, notes, imputations, an
    /// instrument), boxed so that a million plain studies do not pay for it.
    extras: Option<Box<Extras>>,
    /// Its row in the file ([`NO_ROW`] when not read from one) and in the
    /// table it was read from (0-based), as `u32`s: a million studies
    /// cost 16 MB less than as `usize`s (tables are limited far below).
    file_row: u32,
    table_row: u32,
}

/// The file row of a study built in code.
const NO_ROW: u32 = u32::MAX;

/// A study's rarer parts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Extras {
    pub(crate) subgroup: Option<String>,
    pub(crate) notes: Vec<String>,
    pub(crate) imputed: Vec<Imputation>,
    pub(crate) instrument: Option<InstrumentUse>,
}

impl StudyEffect {
    pub(crate) fn new(
        study: crate::data::Label,
        row: Option<usize>,
        data: StudyData,
        effect: Effect,
    ) -> Self {
        StudyEffect {
            study,
            file_row: row.map_or(NO_ROW, |r| u32::try_from(r).unwrap_or(NO_ROW)),
            data,
            effect,
            extras: None,
            table_row: 0,
        }
    }

    /// Its row in the file (the header is row 1), when read from a file.
    pub fn row(&self) -> Option<usize> {
        (self.file_row != NO_ROW).then_some(self.file_row as usize)
    }

    /// Its row in the table it was read from (0-based).
    pub(crate) fn table_row(&self) -> usize {
        self.table_row as usize
    }

    /// Its subgroup, when the studies are grouped.
    pub fn subgroup(&self) -> Option<&str> {
        self.extras.as_ref()?.subgroup.as_deref()
    }

    /// Adjustments made to this study (continuity correction, assumed r, …).
    pub fn notes(&self) -> &[String] {
        self.extras.as_ref().map_or(&[], |e| &e.notes)
    }

    /// Values the study did not report, recovered or imputed.
    pub fn imputed(&self) -> &[Imputation] {
        self.extras.as_ref().map_or(&[], |e| &e.imputed)
    }

    /// The clinical instrument, its range and the conversions applied.
    pub fn instrument(&self) -> Option<&InstrumentUse> {
        self.extras.as_ref()?.instrument.as_ref()
    }

    /// The rarer parts, made when first written.
    pub(crate) fn extras_mut(&mut self) -> &mut Extras {
        self.extras.get_or_insert_with(Default::default)
    }

    /// Sets the subgroup, notes and imputations, boxing them only when there are any.
    fn with(
        mut self,
        subgroup: Option<String>,
        notes: Vec<String>,
        imputed: Vec<Imputation>,
    ) -> Self {
        if subgroup.is_some() || !notes.is_empty() || !imputed.is_empty() {
            let extras = self.extras_mut();
            extras.subgroup = subgroup;
            extras.notes = notes;
            extras.imputed = imputed;
        }
        self
    }
}

impl Serialize for StudyEffect {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown<'a> {
            study: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            subgroup: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            row: Option<usize>,
            #[serde(flatten)]
            effect: &'a Effect,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            notes: &'a [String],
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            imputed: &'a [Imputation],
            #[serde(skip_serializing_if = "Option::is_none")]
            instrument: Option<&'a InstrumentUse>,
        }
        Shown {
            study: &self.study,
            subgroup: self.subgroup(),
            row: self.row(),
            effect: &self.effect,
            notes: self.notes(),
            imputed: self.imputed(),
            instrument: self.instrument(),
        }
        .serialize(serializer)
    }
}

/// A study left out because a value it needs is missing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Exclusion {
    /// The study's label.
    pub study: String,
    /// Its row in the file (the header is row 1).
    pub row: usize,
    /// The columns without a value.
    pub missing: Vec<String>,
    /// Groups without participants and without events (`n1` of 0/0): no
    /// information, as a missing value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub empty_groups: Vec<String>,
    /// Its subgroup, when the studies are grouped and it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup: Option<String>,
    /// Its instrument (the `outcome` column), when the file names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl Exclusion {
    /// A study already computed, left out for values that a later step
    /// needs (a moderator, a cluster).
    pub(crate) fn of_study(study: &StudyEffect, missing: Vec<String>) -> Exclusion {
        Exclusion {
            study: study.study.to_string(),
            row: study.row().unwrap_or(study.table_row() + 1),
            missing,
            empty_groups: Vec::new(),
            subgroup: study.subgroup().map(str::to_string),
            outcome: study.instrument().map(|i| i.instrument.clone()),
        }
    }

    /// Why the study was left out: "no value for sd1, n2", "no participants
    /// in n1 (0 events of 0)".
    pub fn reason(&self) -> String {
        match self.missing.is_empty() {
            false => format!("no value for {}", self.missing.join(", ")),
            true => format!(
                "no participants in {} (0 events of 0)",
                self.empty_groups.join(", ")
            ),
        }
    }
}

/// Group sizes with their events, for the designs that count events among
/// participants: a group of 0 of 0 has nothing to say.
fn empty_groups(table: &Table, measure: Measure, row: usize) -> Vec<String> {
    let groups: &[(&str, &str)] = match measure.design() {
        Design::TwoGroupBinary => &[("events1", "n1"), ("events2", "n2")],
        Design::Proportion => &[("events", "n")],
        _ => &[],
    };
    groups
        .iter()
        .filter(|(events, n)| {
            table.value(n, row) == Some(0.0) && table.value(events, row) == Some(0.0)
        })
        .map(|(_, n)| n.to_string())
        .collect()
}

/// The effect sizes of all included studies, in input order, with the studies
/// that were excluded and what was adjusted.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct EffectSet {
    /// The measure computed.
    pub measure: Measure,
    /// The included studies.
    pub studies: Vec<StudyEffect>,
    /// The excluded studies.
    pub excluded: Vec<Exclusion>,
    /// One line per kind of adjustment, naming the studies concerned.
    pub notes: Vec<String>,
    /// Inconsistencies in the data that did not stop the analysis.
    pub warnings: Vec<String>,
}

impl EffectSet {
    /// The columns to read as numbers for a measure (required and optional ones).
    ///
    /// ```
    /// use cochran::{EffectSet, Measure};
    /// assert!(EffectSet::table_spec(Measure::Gen).numeric_columns().contains(&"sei".to_string()));
    /// ```
    pub fn table_spec(measure: Measure) -> TableSpec {
        let mut columns = measure.required_columns().to_vec();
        match measure.design() {
            Design::BeforeAfter => {
                columns.extend(["sd_post"]);
                columns.extend(RECOVERY_COLUMNS);
                let mut seen = std::collections::HashSet::new();
                columns.retain(|c| seen.insert(*c));
                return TableSpec::numeric(&columns).with_text(&["outcome"]);
            }
            Design::ControlledBeforeAfter => columns.extend(["r", "sd_post1", "sd_post2"]),
            Design::Precomputed => columns.push("sei"),
            _ => {}
        }
        TableSpec::numeric(&columns)
    }

    /// Computes the measure for every row of the table. A row with a required
    /// value missing is excluded (or, with `strict`, is an error); an invalid
    /// value is an error naming the file, row and column.
    ///
    /// ```
    /// use cochran::{EffectOptions, EffectSet, Measure, data::Table};
    /// let csv = "study,events1,n1,events2,n2\nA,4,123,11,139\nB,,306,29,303\nC,0,50,3,50\n";
    /// let table = Table::from_reader(csv.as_bytes(), None, &EffectSet::table_spec(Measure::Rr))?;
    /// let set = EffectSet::from_table(&table, Measure::Rr, &EffectOptions::default())?;
    /// assert_eq!(set.studies.len(), 2);
    /// assert_eq!(set.excluded[0].missing, ["events1"]);
    /// assert!(set.notes[0].contains("C")); // zero cell: 0.5 added
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn from_table(
        table: &Table,
        measure: Measure,
        options: &EffectOptions,
    ) -> Result<EffectSet> {
        let (recovered, mut imputed);
        let table = if measure.design() == Design::BeforeAfter {
            let mut copy = table.clone();
            imputed = recover(&mut copy, options.impute_r, options.impute_sd)?;
            recovered = copy;
            &recovered
        } else {
            // Nothing is imputed outside before/after designs: no list per row.
            imputed = Vec::new();
            table
        };
        let columns = Columns::resolve(table, measure, options)?;
        let mut set = EffectSet {
            measure,
            studies: Vec::with_capacity(table.len()),
            excluded: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        };
        for row in 0..table.len() {
            let label = &table.labels()[row];
            let subgroup = table.groups().map(|g| g[row].clone());
            let mut missing = columns.missing(row);
            if subgroup == Some(None) {
                missing.push(table.group_column().unwrap_or_default().to_string());
            }
            let empty_groups = empty_groups(table, measure, row);
            if !missing.is_empty() || !empty_groups.is_empty() {
                if options.strict {
                    let error = match missing.first() {
                        Some(column) => Error::new(ErrorKind::MissingValue {
                            study: label.to_string(),
                            column: missing.join(", "),
                        })
                        .in_column(column),
                        // Only groups of 0 participants: values, but no information.
                        None => Error::new(ErrorKind::InvalidValue(format!(
                            "study `{label}` has a group of 0 participants ({} = 0): no \
                             information to pool (strict mode)",
                            empty_groups.join(" = 0, ")
                        )))
                        .in_column(&empty_groups[0]),
                    };
                    return Err(table.error_at(row, error));
                }
                set.excluded.push(Exclusion {
                    study: label.to_string(),
                    row: table.file_row(row),
                    missing,
                    empty_groups,
                    subgroup: subgroup.flatten(),
                    outcome: table
                        .text_column(super::harmonise::OUTCOME_COLUMN)
                        .and_then(|o| o[row].clone()),
                });
                continue;
            }
            let (data, notes) = columns.study(row).map_err(|e| table.error_at(row, e))?;
            let effect = measure.compute(&data).map_err(|e| {
                let e = match e.location().column.as_deref() {
                    Some("yi" | "vi") if measure.design() != Design::Precomputed => e.computed(),
                    _ => e,
                };
                table.error_at(row, e)
            })?;
            if let Some(w) = columns.contradiction(row) {
                set.warnings.push(format!(
                    "study `{label}` (row {}): {w}",
                    table.file_row(row)
                ));
            }
            let mut study =
                StudyEffect::new(label.clone(), Some(table.file_row(row)), data, effect).with(
                    subgroup.flatten(),
                    notes,
                    imputed.get_mut(row).map(std::mem::take).unwrap_or_default(),
                );
            study.table_row = u32::try_from(row).unwrap_or(u32::MAX);
            set.studies.push(study);
        }
        set.summarise_notes();
        set.notes.splice(0..0, table.notes().iter().cloned());
        Ok(set)
    }

    /// Computes the measure for studies built in code.
    ///
    /// ```
    /// use cochran::{EffectSet, Measure, effect::{StudyData, TwoByTwo}};
    /// let set = EffectSet::from_studies(Measure::Or, [
    ///     ("Aronson", StudyData::TwoByTwo(Box::new(TwoByTwo::new(4.0, 123.0, 11.0, 139.0)?))),
    ///     ("Ferguson", StudyData::TwoByTwo(Box::new(TwoByTwo::new(6.0, 306.0, 29.0, 303.0)?))),
    /// ])?;
    /// assert_eq!(set.effects().len(), 2);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn from_studies<S: Into<String>>(
        measure: Measure,
        studies: impl IntoIterator<Item = (S, StudyData)>,
    ) -> Result<EffectSet> {
        let mut set = EffectSet {
            measure,
            studies: Vec::new(),
            excluded: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        };
        for (label, data) in studies {
            let study = crate::data::Label::from(label.into());
            let effect = measure.compute(&data).map_err(|e| {
                Error::new(ErrorKind::InvalidValue(format!("study `{study}`: {e}")))
            })?;
            let notes = adjustment_notes(measure, &data);
            set.studies
                .push(StudyEffect::new(study, None, data, effect).with(None, notes, Vec::new()));
        }
        set.summarise_notes();
        Ok(set)
    }

    /// The effects alone, in input order, ready for [`MetaAnalysis::fit`](crate::MetaAnalysis::fit).
    pub fn effects(&self) -> Vec<Effect> {
        self.studies.iter().map(|s| s.effect).collect()
    }

    /// The subgroups in order of first appearance, each with the indices of its studies.
    pub fn subgroups(&self) -> Vec<(String, Vec<usize>)> {
        let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
        for (i, study) in self.studies.iter().enumerate() {
            let Some(name) = study.subgroup() else {
                continue;
            };
            match groups.iter_mut().find(|(g, _)| g == name) {
                Some((_, members)) => members.push(i),
                None => groups.push((name.to_string(), vec![i])),
            }
        }
        groups
    }

    /// One note per kind of adjustment, listing the studies it was applied to.
    pub(crate) fn summarise_notes(&mut self) {
        let mut kinds: Vec<(String, Vec<&str>)> = Vec::new();
        for study in &self.studies {
            let imputed = study
                .imputed()
                .iter()
                .map(|i| format!("{} {}", i.column, i.method));
            for note in study.notes().iter().cloned().chain(imputed) {
                match kinds.iter_mut().find(|(n, _)| *n == note) {
                    Some((_, names)) => names.push(&study.study),
                    None => kinds.push((note, vec![&study.study])),
                }
            }
        }
        self.notes = kinds
            .into_iter()
            .map(|(note, names)| {
                format!(
                    "{note} ({} stud{}: {})",
                    names.len(),
                    plural(names.len()),
                    names.join(", ")
                )
            })
            .collect();
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}

/// Adjustments that follow from the data and the measure: metafor's
/// continuity corrections, which the variance-stabilising transforms skip;
/// and, for a proportion of 0 or 1, the model that needs neither.
fn adjustment_notes(measure: Measure, data: &StudyData) -> Vec<String> {
    let corrects = !matches!(
        measure,
        Measure::Pas | Measure::Pft | Measure::Irs | Measure::Irft
    );
    let corrected = match data {
        StudyData::TwoByTwo(t) if t.has_zero_cell() => {
            Some("to every cell of a table with a zero cell")
        }
        StudyData::Proportion(p) if corrects && p.is_extreme() => {
            Some("to the events and non-events of a group with none of either")
        }
        StudyData::Rate(r) if corrects && r.events == 0.0 => Some("to a zero event count"),
        StudyData::TwoRates(t) if t.has_zero() => Some("to both event counts when either is zero"),
        _ => None,
    };
    let mut notes: Vec<String> = corrected
        .map(|note| format!("{CONTINUITY_NOTE} {CONTINUITY_CORRECTION} added {note}"))
        .into_iter()
        .collect();
    if let StudyData::Proportion(p) = data
        && p.is_extreme()
    {
        notes.push(EXTREME_PROPORTION_NOTE.to_string());
    }
    notes
}

/// Whether `note` is one of [`adjustment_notes`]' (with its studies named):
/// the inverse-variance route's, which a model of the counts does without.
pub(crate) fn is_inverse_variance_note(note: &str) -> bool {
    note.starts_with(CONTINUITY_NOTE) || note.starts_with(EXTREME_PROPORTION_NOTE)
}

const CONTINUITY_NOTE: &str = "continuity correction:";

/// Why a proportion of 0 or 1 deserves another model.
const EXTREME_PROPORTION_NOTE: &str = "a proportion of 0 or 1 pooled by inverse variance: its \
     effect needs a continuity correction or a variance-stabilising transform whose \
     back-transformation can mislead (Schwarzer et al., Res Synth Methods 2019); the \
     binomial-normal GLMM pools the counts as they are";

/// Half a unit in the last decimal a number was written with (0.05 for 67.2).
fn half_last_digit(x: f64) -> f64 {
    let text = format!("{x}");
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    0.5 * 10f64.powi(-(decimals as i32))
}

/// A header that is probably `wanted` misspelt: the same letters and digits
/// once spaces, underscores and dashes are gone, or one edit away.
/// The header among `headers` that looks like the column `wanted` (the same
/// letters, one typo, or the parts of a before/after column), if any: what a
/// missing column's error suggests mapping.
///
/// ```
/// let headers = vec!["study".to_string(), "pre_avg".to_string()];
/// assert_eq!(cochran::effect::guess_column("mean_pre", &headers), Some("pre_avg"));
/// assert_eq!(cochran::effect::guess_column("events1", &headers), None);
/// ```
pub fn guess_column<'h>(wanted: &str, headers: &'h [String]) -> Option<&'h str> {
    near_miss(wanted, headers)
}

fn near_miss<'h>(wanted: &str, headers: &'h [String]) -> Option<&'h str> {
    let bare = |s: &str| -> String { s.chars().filter(|c| c.is_alphanumeric()).collect() };
    let wanted_bare = bare(wanted);
    headers
        .iter()
        .find(|h| bare(h) == wanted_bare || edit_distance(h, wanted) == 1)
        .or_else(|| headers.iter().find(|h| same_parts(wanted, h)))
        .map(String::as_str)
}

/// A before/after column by its parts, in any order and spelling: "pre" or
/// "baseline" with "sd" for `sd_pre`, without it for `mean_pre` (so
/// `Pre_Avg` is a guess at `mean_pre`).
fn same_parts(wanted: &str, header: &str) -> bool {
    let h = header.to_lowercase();
    let pre = h.contains("pre") || h.contains("baseline");
    let post = h.contains("post") || h.contains("follow");
    let sd = h.contains("sd") || h.contains("std") || h.contains("deviation");
    match wanted {
        "mean_pre" => pre && !post && !sd,
        "sd_pre" => pre && !post && sd,
        "mean_post" => post && !pre && !sd,
        "sd_post" => post && !pre && sd,
        _ => false,
    }
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Columns that stand in for a required column a study has no value in, in order.
fn substitutes(column: &str) -> &'static [&'static str] {
    match column {
        "vi" => &["sei"],
        "r1" | "r2" => &["r"],
        _ => &[],
    }
}

/// True for the pre/post correlations, which `--r` supplies when the file does not.
fn is_correlation(column: &str) -> bool {
    matches!(column, "r" | "r1" | "r2")
}

/// The columns a measure needs, with their substitutes, for messages.
fn described_needs(measure: Measure) -> Vec<String> {
    measure
        .required_columns()
        .iter()
        .map(|&c| {
            let mut alternatives: Vec<String> =
                substitutes(c).iter().map(|s| s.to_string()).collect();
            if is_correlation(c) {
                alternatives.push(format!("{} VALUE", Setting::Correlation));
            }
            match alternatives.is_empty() {
                true => c.to_string(),
                false => format!("{c} (or {})", alternatives.join(" or ")),
            }
        })
        .collect()
}

/// The table's columns as the measure needs them.
struct Columns<'a> {
    measure: Measure,
    table: &'a Table,
    r_default: Option<f64>,
}

impl<'a> Columns<'a> {
    fn resolve(table: &'a Table, measure: Measure, options: &EffectOptions) -> Result<Self> {
        if let Some(r) = options.r
            && !(-1.0..=1.0).contains(&r)
        {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} must lie in [-1, 1], found {r}",
                Setting::Correlation
            ))
            .into());
        }
        let obtainable = |column: &str| {
            table.has_column(column)
                || table.column(column).is_some()
                || substitutes(column).iter().any(|s| table.has_column(s))
                || (is_correlation(column) && (options.r.is_some() || options.impute_r))
                || (column.starts_with("sd_") && options.impute_sd.is_some())
                || (measure.design() == Design::BeforeAfter
                    && table.has_column("mean_change")
                    && column != "n")
        };
        let absent: Vec<String> = measure
            .required_columns()
            .iter()
            .filter(|c| !obtainable(c))
            .map(|c| c.to_string())
            .collect();
        if !absent.is_empty() {
            // Headers that are already a needed column are not misspellings of another.
            let candidates: Vec<String> = table
                .headers()
                .iter()
                .filter(|h| !measure.required_columns().contains(&h.as_str()))
                .cloned()
                .collect();
            let suggestions = absent
                .iter()
                .filter_map(|wanted| {
                    near_miss(wanted, &candidates).map(|h| (wanted.clone(), h.to_string()))
                })
                .collect();
            let error = Error::new(ErrorKind::MissingColumn {
                suggestions,
                missing: absent,
                measure: measure.to_string(),
                needs: described_needs(measure),
                found: table.headers().to_vec(),
            });
            return Err(match table.source() {
                Some(path) => error.in_file(path),
                None => error,
            });
        }
        Ok(Columns {
            measure,
            table,
            r_default: options.r,
        })
    }

    fn value(&self, column: &str, row: usize) -> Option<f64> {
        self.table.value(column, row)
    }

    /// The row's value of a required column: its own, a substitute's, or `--r`.
    /// The flag says whether `--r` supplied it.
    fn resolved(&self, column: &str, row: usize) -> Option<(f64, bool)> {
        let own = std::iter::once(column).chain(substitutes(column).iter().copied());
        own.filter_map(|c| self.value(c, row))
            .next()
            .map(|v| (v, false))
            .or_else(|| {
                self.r_default
                    .filter(|_| is_correlation(column))
                    .map(|r| (r, true))
            })
    }

    /// True when the row reports its change, which then takes precedence.
    fn reports_change(&self, row: usize) -> bool {
        self.measure.design() == Design::BeforeAfter && self.value("mean_change", row).is_some()
    }

    /// The columns this row needs: those of the measure, or of the reported change.
    fn requirements(&self, row: usize) -> &'static [&'static str] {
        match (self.reports_change(row), self.measure) {
            (true, Measure::Smcr) => &["n", "mean_change", "sd_pre", "r"],
            (true, _) => &["n", "mean_change", "sd_change"],
            (false, measure) => measure.required_columns(),
        }
    }

    /// The required columns without a value in this row (after substitutes).
    fn missing(&self, row: usize) -> Vec<String> {
        self.requirements(row)
            .iter()
            .filter(|c| self.resolved(c, row).is_none())
            .map(|c| c.to_string())
            .collect()
    }

    /// A reported change that disagrees with post − pre by more than the
    /// rounding of the three reported numbers allows.
    fn contradiction(&self, row: usize) -> Option<String> {
        self.change_contradiction(row)
            .or_else(|| self.variance_contradiction(row))
    }

    /// A sampling variance and a standard error that do not agree (one of
    /// them from another column or another study): vi is used, and said.
    fn variance_contradiction(&self, row: usize) -> Option<String> {
        let (vi, sei) = (self.value("vi", row)?, self.value("sei", row)?);
        let (low, high) = (sei - half_last_digit(sei), sei + half_last_digit(sei));
        let (vi_low, vi_high) = (vi - half_last_digit(vi), vi + half_last_digit(vi));
        let agree = vi_high >= low.max(0.0).powi(2) && vi_low <= high * high;
        (!agree).then(|| {
            format!(
                "the reported vi {vi} disagrees with sei^2 = {} beyond rounding (sei {sei}); \
                 vi is used",
                crate::report::number::trimmed(sei * sei, 6)
            )
        })
    }

    fn change_contradiction(&self, row: usize) -> Option<String> {
        let v = |c: &str| self.value(c, row);
        let (change, pre, post) = (v("mean_change")?, v("mean_pre")?, v("mean_post")?);
        let rounding = [change, pre, post]
            .iter()
            .map(|&x| half_last_digit(x))
            .sum::<f64>();
        let difference = post - pre;
        ((change - difference).abs() > rounding + 1e-9).then(|| {
            format!(
                "the reported mean_change {change} disagrees with mean_post - mean_pre = {difference} beyond rounding; \
                 the reported change is used"
            )
        })
    }

    /// The validated study data of a row with every required value present.
    fn study(&self, row: usize) -> Result<(StudyData, Vec<String>)> {
        let v = |column: &str| self.resolved(column, row).map_or(f64::NAN, |(x, _)| x);
        let arm = |suffix: &'static str| {
            let c = |base: &str| format!("{base}{suffix}");
            PrePost::for_arm(
                v(&c("n")),
                v(&c("mean_pre")),
                v(&c("sd_pre")),
                v(&c("mean_post")),
                self.value(&c("sd_post"), row),
                v(&c("r")),
                suffix,
            )
        };
        let data = match self.measure.design() {
            Design::BeforeAfter if self.reports_change(row) => {
                StudyData::ReportedChange(Box::new(ReportedChange::new(
                    v("n"),
                    v("mean_change"),
                    self.resolved("sd_change", row).map(|(x, _)| x),
                    self.resolved("sd_pre", row).map(|(x, _)| x),
                    self.resolved("r", row).map(|(x, _)| x),
                )?))
            }
            Design::TwoGroupContinuous => StudyData::TwoArms(Box::new(TwoArms {
                treatment: Arm::new(v("n1"), v("mean1"), v("sd1"), "1")?,
                control: Arm::new(v("n2"), v("mean2"), v("sd2"), "2")?,
            })),
            Design::BeforeAfter => StudyData::PrePost(Box::new(arm("")?)),
            Design::ControlledBeforeAfter => {
                StudyData::ControlledPrePost(Box::new(ControlledPrePost {
                    treatment: arm("1")?,
                    control: arm("2")?,
                }))
            }
            Design::TwoGroupBinary => StudyData::TwoByTwo(Box::new(TwoByTwo::new(
                v("events1"),
                v("n1"),
                v("events2"),
                v("n2"),
            )?)),
            Design::Precomputed => StudyData::Precomputed(match self.value("vi", row) {
                Some(vi) => Effect::new(v("yi"), vi)?,
                None => Effect::from_se(v("yi"), v("sei"))?,
            }),
            Design::Proportion => StudyData::Proportion(Proportion::new(v("events"), v("n"))?),
            Design::SingleMean => {
                StudyData::SingleMean(Box::new(SingleMean::new(v("n"), v("mean"), v("sd"))?))
            }
            Design::Correlation => StudyData::Correlation(Correlation::new(v("cor"), v("n"))?),
            Design::IncidenceRate => StudyData::Rate(Rate::new(v("events"), v("time"), "")?),
            Design::TwoGroupRates => StudyData::TwoRates(Box::new(TwoRates {
                treatment: Rate::new(v("events1"), v("time1"), "1")?,
                control: Rate::new(v("events2"), v("time2"), "2")?,
            })),
        };
        let mut notes = adjustment_notes(self.measure, &data);
        let assumed_r = self
            .measure
            .required_columns()
            .iter()
            .any(|c| self.resolved(c, row).is_some_and(|(_, assumed)| assumed));
        if assumed_r {
            notes.push(format!(
                "pre/post correlation r = {} assumed (from {})",
                self.r_default.unwrap_or(f64::NAN),
                Setting::Correlation
            ));
        }
        Ok((data, notes))
    }
}
