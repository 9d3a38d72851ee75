//! Moderators from table columns: the model matrix of a meta-regression.

use crate::data::Table;
use crate::effect::{EffectSet, Exclusion};
use crate::error::{ErrorKind, Result};
use crate::model::Design;

/// Builds the model matrix of the included studies from the moderator columns.
/// A column whose every value is a number enters as one coefficient; any
/// other is categorical. A study without a value for a moderator is excluded
/// (and reported with the other exclusions).
pub(crate) fn design(
    table: &Table,
    effects: &mut EffectSet,
    columns: &[String],
    intercept: bool,
) -> Result<Option<Design>> {
    if columns.is_empty() {
        return Ok(None);
    }
    let cells: Vec<&[Option<String>]> = columns
        .iter()
        .map(|name| {
            table.text_column(name).ok_or_else(|| {
                ErrorKind::InvalidSetting(format!(
                    "the moderator column `{name}` is not in the file; its columns are: {}",
                    table.headers().join(", ")
                ))
                .into()
            })
        })
        .collect::<Result<_>>()?;
    let missing = |row: usize| -> Vec<String> {
        columns
            .iter()
            .zip(&cells)
            .filter(|(_, c)| is_missing(c[row].as_deref()))
            .map(|(name, _)| name.clone())
            .collect()
    };
    let mut kept = Vec::with_capacity(effects.studies.len());
    for study in std::mem::take(&mut effects.studies) {
        let absent = missing(study.table_row());
        if absent.is_empty() {
            kept.push(study);
        } else {
            effects.excluded.push(Exclusion::of_study(&study, absent));
        }
    }
    effects.studies = kept;
    let rows: Vec<usize> = effects.studies.iter().map(|s| s.table_row()).collect();
    let mut builder = Design::builder(rows.len());
    if !intercept {
        builder = builder.without_intercept();
    }
    for (name, column) in columns.iter().zip(&cells) {
        let values: Vec<&str> = rows
            .iter()
            .map(|&r| column[r].as_deref().unwrap_or("").trim())
            .collect();
        let numbers: Option<Vec<f64>> = values
            .iter()
            .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        builder = match numbers {
            Some(numbers) => builder.numeric(name, &numbers)?,
            None => builder.categorical(name, &values)?,
        };
    }
    builder.build().map(Some)
}

fn is_missing(cell: Option<&str>) -> bool {
    cell.is_none_or(|c| {
        let c = c.trim();
        c.is_empty() || c.eq_ignore_ascii_case("na") || c.eq_ignore_ascii_case("n/a")
    })
}
