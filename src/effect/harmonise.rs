//! Clinical instruments in before/after data: which instrument each study used,
//! whether its values fit that instrument's range, and the conversions that make
//! studies poolable (a common 0–100 range, a common direction of improvement).
//! Every conversion is recorded on the study it was applied to.

use crate::setting::Setting;
use serde::Serialize;

use super::scales::{Direction, Scale, ScaleRegistry};
use super::{EffectSet, Measure};
use crate::data::Table;
use crate::error::{Error, ErrorKind, Result};

/// The column naming each study's instrument.
pub const OUTCOME_COLUMN: &str = "outcome";

/// How effects on clinical instruments are put on a common footing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Harmonisation {
    /// Flip the sign of lower-is-better instruments so that a positive change
    /// always means improvement.
    pub improvement_positive: bool,
    /// Convert raw changes to a 0–`target` range of each instrument.
    pub rescale: Option<f64>,
}

impl Harmonisation {
    /// No change of sign, no rescaling.
    pub fn new() -> Self {
        Harmonisation::default()
    }

    /// Flips the sign of lower-is-better instruments so that a positive
    /// change always means improvement.
    ///
    /// ```
    /// use cochran::effect::harmonise::Harmonisation;
    /// assert!(Harmonisation::new().improvement_positive(true).improvement_positive);
    /// ```
    pub fn improvement_positive(mut self, on: bool) -> Self {
        self.improvement_positive = on;
        self
    }

    /// Converts raw changes to a 0–`target` range of each instrument.
    ///
    /// ```
    /// use cochran::effect::harmonise::Harmonisation;
    /// assert_eq!(Harmonisation::new().rescale(100.0).rescale, Some(100.0));
    /// ```
    pub fn rescale(mut self, target: f64) -> Self {
        self.rescale = Some(target);
        self
    }

    /// Checks the settings: a rescaling target must be a positive number.
    ///
    /// ```
    /// use cochran::effect::harmonise::Harmonisation;
    /// let bad = Harmonisation::new().rescale(f64::NAN);
    /// assert!(bad.check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        match self.rescale {
            Some(target) if !(target.is_finite() && target > 0.0) => {
                Err(ErrorKind::InvalidSetting(format!(
                    "{} takes the top of the common range, a positive number such as \
                     100; found {target}",
                    Setting::Rescale
                ))
                .into())
            }
            _ => Ok(()),
        }
    }
}

/// How one study's instrument was read and converted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InstrumentUse {
    /// The registered instrument.
    pub instrument: String,
    /// Lowest score of the range the study used.
    pub min: f64,
    /// Highest score of the range the study used.
    pub max: f64,
    /// True when `max` is the instrument's default (no `scale_max` given).
    pub default_range: bool,
    /// Which direction is better.
    pub better: Direction,
    /// The factor the effect was multiplied by (rescaling, sign flip), 1 when none.
    pub factor: f64,
    /// The conversions applied, in words.
    pub conversions: Vec<String>,
}

/// Value columns that must lie within the instrument's range.
const RANGE_COLUMNS: &[&str] = &[
    "mean_pre",
    "mean_post",
    "median_pre",
    "median_post",
    "q1_pre",
    "q3_pre",
    "q1_post",
    "q3_post",
    "min_pre",
    "max_pre",
    "min_post",
    "max_post",
];

/// Changes and SDs: none can exceed the width of the instrument's range.
const WIDTH_COLUMNS: &[&str] = &["mean_change", "sd_pre", "sd_post", "sd_change"];

/// Resolves and checks each study's instrument and applies the harmonisation
/// to its effect; `table` is the one the set was computed from. Studies
/// without an `outcome` value are left as they are.
pub fn harmonise(
    set: &mut EffectSet,
    table: &Table,
    registry: &ScaleRegistry,
    options: &Harmonisation,
) -> Result<()> {
    options.check()?;
    let Some(outcomes) = table.text_column(OUTCOME_COLUMN) else {
        return Ok(());
    };
    let raw = matches!(set.measure, Measure::Mc | Measure::Mcd);
    let mut unregistered: Vec<&str> = Vec::new();
    for study in &mut set.studies {
        let row = study.table_row();
        let Some(name) = &outcomes[row] else { continue };
        let located = |e: Error| table.error_at(row, e.in_column(OUTCOME_COLUMN));
        let scale = match registry.find(name) {
            Ok(scale) => scale,
            // A standardised change needs no range: it proceeds, said below.
            Err(_) if !raw => {
                if !unregistered.contains(&name.as_str()) {
                    unregistered.push(name);
                }
                continue;
            }
            Err(e) => return Err(located(unregistered_for_raw(e, name))),
        };
        let usage = instrument_use(scale, table, row, set.measure, options)?;
        study.effect.yi *= usage.factor;
        study.effect.vi *= usage.factor * usage.factor;
        study
            .extras_mut()
            .notes
            .extend(usage.conversions.iter().cloned());
        if usage.default_range && raw {
            // The registry's version of the instrument is an assumption the
            // reader should see (WOMAC Likert 0-96 rather than VAS 0-500, say).
            study.extras_mut().notes.push(format!(
                "{} range {}-{} assumed ({}; the study gives no scale_max)",
                scale.name, usage.min, usage.max, scale.full_name
            ));
        }
        study.extras_mut().instrument = Some(usage);
    }
    set.warnings.extend(unregistered.iter().map(|name| {
        format!(
            "instrument `{name}` is not registered: its range and direction are unknown, so its \
             scores are not checked against a range and its sign is not changed ({} FILE \
             adds it)",
            Setting::Scales
        )
    }));
    set.summarise_notes();
    // What reading the file noted (columns recognised or mapped) stays first.
    set.notes.splice(0..0, table.notes().iter().cloned());
    let uses: Vec<&InstrumentUse> = set.studies.iter().filter_map(|s| s.instrument()).collect();
    check_poolable(set.measure, &uses, options)
}

/// An unknown instrument under a raw mean change, whose units and direction
/// must be known: the error says how to add it.
fn unregistered_for_raw(error: Error, name: &str) -> Error {
    let ErrorKind::UnknownName { valid, .. } = error.kind() else {
        return error;
    };
    Error::new(ErrorKind::InvalidValue(format!(
        "unknown instrument `{name}` (registered: {}): a raw mean change needs its range and \
         direction; add it with {} FILE (columns: name, aliases, full_name, min, max, \
         better, subscales, note), or pool standardised changes (SMCR, SMCC)",
        valid.join(", "),
        Setting::Scales
    )))
}

/// Scores within the instrument's range; changes and SDs within its width.
fn check_range(scale: &Scale, max: f64, table: &Table, row: usize) -> Result<()> {
    let width = max - scale.min;
    let scores = RANGE_COLUMNS.iter().map(|&c| (c, true));
    let spreads = WIDTH_COLUMNS.iter().map(|&c| (c, false));
    for (column, is_score) in scores.chain(spreads) {
        let admissible = |x: f64| {
            if is_score {
                (scale.min..=max).contains(&x)
            } else {
                x.abs() <= width
            }
        };
        let fault = if is_score {
            "lies outside"
        } else {
            "exceeds the width of"
        };
        if let Some(x) = table.value(column, row).filter(|&x| !admissible(x)) {
            let message = format!(
                "study `{}`: {column} = {x} {fault} the range {}-{max} of {}",
                table.labels()[row],
                scale.min,
                scale.name
            );
            return Err(table.error_at(row, Error::invalid(column, message)));
        }
    }
    Ok(())
}

fn instrument_use(
    scale: &Scale,
    table: &Table,
    row: usize,
    measure: Measure,
    options: &Harmonisation,
) -> Result<InstrumentUse> {
    let value = |c: &str| table.value(c, row);
    let scale_max = value("scale_max");
    let max = scale_max.unwrap_or(scale.max);
    if max <= scale.min {
        let message = format!(
            "scale_max {max} must exceed the minimum {} of {}",
            scale.min, scale.name
        );
        return Err(table.error_at(row, Error::invalid("scale_max", message)));
    }
    check_range(scale, max, table, row)?;
    let raw = matches!(measure, Measure::Mc | Measure::Mcd);
    let mut factor = 1.0;
    let mut conversions = Vec::new();
    if let Some(target) = options.rescale.filter(|_| raw) {
        factor *= target / (max - scale.min);
        conversions.push(format!(
            "rescaled from {}-{max} to 0-{target} (x {:.6})",
            scale.min,
            target / (max - scale.min)
        ));
    }
    if options.improvement_positive && scale.better == Direction::Lower {
        factor = -factor;
        conversions.push(format!(
            "sign flipped: lower is better on {}, so a positive change means improvement",
            scale.name
        ));
    }
    Ok(InstrumentUse {
        instrument: scale.name.clone(),
        min: scale.min,
        max,
        default_range: scale_max.is_none(),
        better: scale.better,
        factor,
        conversions,
    })
}

/// Raw changes on different instruments or ranges are not comparable, and
/// changes that point in opposite directions cannot be pooled.
fn check_poolable(
    measure: Measure,
    used: &[&InstrumentUse],
    options: &Harmonisation,
) -> Result<()> {
    let Some(first) = used.first() else {
        return Ok(());
    };
    let raw = matches!(measure, Measure::Mc | Measure::Mcd);
    let differs = |u: &&&InstrumentUse| {
        (u.instrument.as_str(), u.max) != (first.instrument.as_str(), first.max)
    };
    if raw
        && options.rescale.is_none()
        && let Some(other) = used.iter().find(differs)
    {
        return Err(ErrorKind::InvalidSetting(format!(
            "pooling raw mean changes of different instruments or ranges ({} {}-{} and {} {}-{}) is refused: \
             use a standardised measure ({measure} SMCR) or convert to a common range ({rescale} 100), \
             or analyse each outcome on its own ({by} or {outcome} NAME)",
            first.instrument, first.min, first.max, other.instrument, other.min, other.max,
            measure = Setting::Measure,
            rescale = Setting::Rescale,
            by = Setting::ByOutcome,
            outcome = Setting::Outcome
        ))
        .into());
    }
    let mixed = used.iter().any(|u| u.better != first.better);
    if mixed && !options.improvement_positive {
        return Err(ErrorKind::InvalidSetting(format!(
            "the instruments point in opposite directions (higher is better on some, lower on others): \
             add {} so that a positive change always means improvement",
            Setting::ImprovementPositive
        ))
        .into());
    }
    Ok(())
}
