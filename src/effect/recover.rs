//! Recovering the statistics a before/after analysis needs from what studies
//! report instead: an SD from a standard error or a confidence interval, the
//! SD of a reported change, a pre/post correlation derived from studies that
//! report all three SDs, and SDs borrowed from other studies. Every recovered
//! value is filled into the table and recorded, so the output can flag it.

use crate::setting::Setting;
use std::collections::BTreeMap;

use serde::Serialize;

use super::summary::{Columns, Summary, mean_sd_from_summary, sd_from_ci, sd_from_se};
use crate::data::Table;
use crate::error::{Error, ErrorKind, Result};

/// How an SD that no study statistic recovers is borrowed from the other studies
/// of the same instrument and follow-up time (Furukawa et al. 2006).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SdImputation {
    /// The mean of the other studies' SDs.
    Mean,
    /// The largest of them: the conservative choice.
    Max,
}

/// One value that was not reported but recovered or imputed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Imputation {
    /// The column it fills.
    pub column: String,
    /// The value used.
    pub value: f64,
    /// How it was obtained, with its source.
    pub method: String,
}

/// The columns recovery reads, besides those of the measures.
pub(crate) const RECOVERY_COLUMNS: &[&str] = &[
    "se_pre",
    "se_post",
    "ci_lower_pre",
    "ci_upper_pre",
    "ci_lower_post",
    "ci_upper_post",
    "mean_change",
    "sd_change",
    "se_change",
    "ci_lower_change",
    "ci_upper_change",
    "median_pre",
    "q1_pre",
    "q3_pre",
    "min_pre",
    "max_pre",
    "median_post",
    "q1_post",
    "q3_post",
    "min_post",
    "max_post",
    "time",
    "scale_max",
];

/// The level, in percent, of a confidence interval given as `ci_lower_*`/`ci_upper_*`.
const CI_LEVEL: f64 = 95.0;

/// Recovers what it can, in order: SDs from SEs or CIs; then, when asked, the
/// correlation r and borrowed SDs. Returns the imputations of each row.
pub(crate) fn recover(
    table: &mut Table,
    impute_r: bool,
    impute_sd: Option<SdImputation>,
) -> Result<Vec<Vec<Imputation>>> {
    let mut imputed = vec![Vec::new(); table.len()];
    for (row, row_imputed) in imputed.iter_mut().enumerate() {
        for part in ["pre", "post", "change"] {
            for i in from_reported(table, row, part)? {
                table.fill(&i.column, row, i.value);
                row_imputed.push(i);
            }
        }
    }
    if impute_r {
        impute_correlation(table, &mut imputed)?;
    }
    if let Some(rule) = impute_sd {
        borrow_sds(table, rule, &mut imputed);
    }
    Ok(imputed)
}

/// What one part (before, after, or the change) reports instead of its mean and SD.
fn summary_of(table: &Table, row: usize, part: &str) -> Option<Summary> {
    let v = |statistic: &str| table.value(&format!("{statistic}_{part}"), row);
    let median = v("median")?;
    Some(match (v("min"), v("q1"), v("q3"), v("max")) {
        (Some(min), Some(q1), Some(q3), Some(max)) => Summary::Five {
            min,
            q1,
            median,
            q3,
            max,
        },
        (_, Some(q1), Some(q3), _) => Summary::Quartiles { q1, median, q3 },
        (Some(min), _, _, Some(max)) => Summary::Range { min, median, max },
        _ => return None,
    })
}

/// The mean and SD a part does not report, from its SE, its 95% CI, or its
/// median with quartiles and/or range, in that order of preference.
fn from_reported(table: &Table, row: usize, part: &str) -> Result<Vec<Imputation>> {
    let (sd_column, mean_column) = (format!("sd_{part}"), format!("mean_{part}"));
    let Some(n) = table.value("n", row) else {
        return Ok(Vec::new());
    };
    let suffix = format!("_{part}");
    let columns = Columns::new(&suffix, "n");
    let v = |statistic: &str| table.value(&columns.name(statistic), row);
    let fill = |column: &str, value: f64, method: String| Imputation {
        column: column.to_string(),
        value,
        method,
    };
    let located = |e: Error| table.error_at(row, e);
    let mut recovered = Vec::new();
    let has_mean = table.value(&mean_column, row).is_some();
    if table.value(&sd_column, row).is_none() {
        if let Some(se) = v("se") {
            let sd = sd_from_se(se, n, columns).map_err(located)?;
            recovered.push(fill(
                &sd_column,
                sd,
                "from its standard error (SD = SE x sqrt(n))".into(),
            ));
        } else if let (Some(lower), Some(upper)) = (v("ci_lower"), v("ci_upper")) {
            let sd = sd_from_ci(lower, upper, n, CI_LEVEL, columns).map_err(located)?;
            if let Some(mean) = table
                .value(&mean_column, row)
                .filter(|m| !(lower..=upper).contains(m))
            {
                let message = format!(
                    "the mean {mean} lies outside its confidence interval [{lower}, {upper}]"
                );
                return Err(located(Error::invalid(&mean_column, message)));
            }
            let method = format!(
                "from its 95% confidence interval (t quantile, {} df)",
                n - 1.0
            );
            recovered.push(fill(&sd_column, sd, method));
        }
    }
    let sd_known = table.value(&sd_column, row).is_some() || !recovered.is_empty();
    if (!has_mean || !sd_known)
        && let Some(summary) = summary_of(table, row, part)
    {
        let estimate = mean_sd_from_summary(summary, n, columns).map_err(located)?;
        if !has_mean {
            recovered.push(fill(
                &mean_column,
                estimate.mean,
                estimate.method.to_string(),
            ));
        }
        if !sd_known {
            recovered.push(fill(&sd_column, estimate.sd, estimate.method.to_string()));
        }
    }
    Ok(recovered)
}

/// r from SD before, after and of the change (Cochrane Handbook, section 6.5.2.8).
fn derived_correlation(sd_pre: f64, sd_post: f64, sd_change: f64) -> f64 {
    (sd_pre * sd_pre + sd_post * sd_post - sd_change * sd_change) / (2.0 * sd_pre * sd_post)
}

/// Fills r for studies without one with the mean r of the studies that report
/// all three SDs; an error when none does.
fn impute_correlation(table: &mut Table, imputed: &mut [Vec<Imputation>]) -> Result<()> {
    let derived: Vec<f64> = (0..table.len())
        .filter_map(|row| {
            let sd = |c: &str| table.value(c, row).filter(|&x| x > 0.0);
            Some(derived_correlation(
                sd("sd_pre")?,
                sd("sd_post")?,
                sd("sd_change")?,
            ))
        })
        .filter(|r| (-1.0..=1.0).contains(r))
        .collect();
    if derived.is_empty() {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} needs at least one study that reports the SD before, after and of the change \
             (sd_pre, sd_post, sd_change); none does: give {} VALUE instead",
            Setting::ImputeCorrelation,
            Setting::Correlation
        ))
        .into());
    }
    let r = derived.iter().sum::<f64>() / derived.len() as f64;
    for (row, row_imputed) in imputed.iter_mut().enumerate() {
        if table.value("r", row).is_none() {
            table.fill("r", row, r);
            row_imputed.push(Imputation {
                column: "r".into(),
                value: r,
                method: format!(
                    "imputed: mean of the r derived from the {} stud{} reporting SD before, after and of the change \
                     (Cochrane Handbook 6.5.2.8)",
                    derived.len(),
                    if derived.len() == 1 { "y" } else { "ies" }
                ),
            });
        }
    }
    Ok(())
}

/// The instrument (as written, matched without case) and follow-up time that
/// define whose SDs may be borrowed.
fn stratum(table: &Table, row: usize) -> (String, String) {
    let outcome = table
        .text_column("outcome")
        .and_then(|c| c[row].clone())
        .unwrap_or_default();
    let time = table
        .value("time", row)
        .map_or_else(|| "an unreported time".into(), |t| format!("{t} months"));
    (outcome.to_lowercase(), time)
}

/// Fills each missing SD whose mean is present from the reported SDs of the
/// same instrument and time; donors are only values present before borrowing.
fn borrow_sds(table: &mut Table, rule: SdImputation, imputed: &mut [Vec<Imputation>]) {
    for part in ["pre", "post", "change"] {
        let sd_column = format!("sd_{part}");
        let mut donors: BTreeMap<(String, String), Vec<(f64, usize)>> = BTreeMap::new();
        for row in 0..table.len() {
            if let Some(sd) = table.value(&sd_column, row) {
                donors
                    .entry(stratum(table, row))
                    .or_default()
                    .push((sd, row));
            }
        }
        for (row, row_imputed) in imputed.iter_mut().enumerate() {
            let needs = table.value(&format!("mean_{part}"), row).is_some()
                && table.value(&sd_column, row).is_none();
            let key = stratum(table, row);
            let Some(sds) = donors.get(&key).filter(|_| needs) else {
                continue;
            };
            let instrument = table.text_column("outcome").and_then(|c| c[row].clone());
            let stratum = format!(
                "{} at {}",
                instrument.unwrap_or_else(|| "any instrument".into()),
                key.1
            );
            let (value, method) = borrowed(table.labels(), sds, rule, &sd_column, &stratum);
            table.fill(&sd_column, row, value);
            row_imputed.push(Imputation {
                column: sd_column.clone(),
                value,
                method,
            });
        }
    }
}

/// The value borrowed from the donors (SD, row) and how, naming them.
fn borrowed(
    labels: &[crate::data::Label],
    donors: &[(f64, usize)],
    rule: SdImputation,
    sd_column: &str,
    stratum: &str,
) -> (f64, String) {
    const SOURCE: &str = "(Furukawa et al. 2006)";
    let name = |row: usize| format!("`{}`", labels[row]);
    if let [(sd, row)] = donors {
        let how = format!(
            "borrowed from {}, the only study of {stratum} reporting {sd_column} {SOURCE}",
            name(*row)
        );
        return (*sd, how);
    }
    let n = donors.len();
    match rule {
        SdImputation::Max => {
            let (sd, row) = donors
                .iter()
                .copied()
                .fold((f64::MIN, 0), |best, d| if d.0 > best.0 { d } else { best });
            let how = format!(
                "borrowed: the largest {sd_column} of the {n} studies of {stratum} reporting \
                 it, {}'s {SOURCE}",
                name(row)
            );
            (sd, how)
        }
        SdImputation::Mean => {
            const NAMED: usize = 5;
            let mut named: Vec<String> = donors.iter().take(NAMED).map(|d| name(d.1)).collect();
            if n > NAMED {
                named.push(format!("and {} more", n - NAMED));
            }
            let how = format!(
                "borrowed: the mean {sd_column} of the {n} studies of {stratum} reporting it \
                 ({}) {SOURCE}",
                named.join(", ")
            );
            (donors.iter().map(|d| d.0).sum::<f64>() / n as f64, how)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::TableSpec;

    fn table(csv: &str) -> Table {
        let spec = TableSpec::numeric(&["n", "mean_pre", "sd_pre", "mean_post", "sd_post", "r"])
            .with_numeric(RECOVERY_COLUMNS)
            .with_text(&["outcome"]);
        Table::from_reader(csv.as_bytes(), None, &spec).unwrap()
    }

    #[test]
    fn an_sd_from_its_se_is_se_times_root_n() {
        let mut t = table("study,n,mean_pre,se_pre\nA,25,10,2\n");
        let imputed = recover(&mut t, false, None).unwrap();
        assert_eq!(t.column("sd_pre").unwrap().get(0), Some(2.0 * 5.0));
        assert_eq!(imputed[0][0].column, "sd_pre");
    }

    #[test]
    fn an_sd_from_a_ci_inverts_the_t_interval() {
        // Build the CI from a known SD with the t quantile, then recover the SD.
        let (n, sd, mean) = (16.0_f64, 4.0, 50.0);
        let t = crate::stats::t_quantile(0.975, n - 1.0);
        let half = t * sd / n.sqrt();
        let mut table = table(&format!(
            "study,n,mean_post,ci_lower_post,ci_upper_post\nA,{n},{mean},{},{}\n",
            mean - half,
            mean + half
        ));
        recover(&mut table, false, None).unwrap();
        let recovered = table.column("sd_post").unwrap().get(0).unwrap();
        assert!((recovered - sd).abs() < 1e-9, "{recovered}");
    }

    #[test]
    fn a_reversed_ci_is_an_error_naming_the_column() {
        let mut t = table("study,n,mean_pre,ci_lower_pre,ci_upper_pre\nA,10,5,6,4\n");
        let e = recover(&mut t, false, None).unwrap_err();
        assert!(e.to_string().contains("ci_upper_pre"), "{e}");
    }

    #[test]
    fn r_is_derived_from_the_three_sds_and_averaged() {
        // sd_change chosen so that r = 0.5 exactly: 3^2 + 4^2 - 2*0.5*3*4 = 13.
        let csv = format!(
            "study,n,sd_pre,sd_post,sd_change,mean_pre\nA,10,3,4,{},1\nB,10,3,4,,1\n",
            13f64.sqrt()
        );
        let mut t = table(&csv);
        let imputed = recover(&mut t, true, None).unwrap();
        let r = t.column("r").unwrap();
        assert!((r.get(0).unwrap() - 0.5).abs() < 1e-12 && (r.get(1).unwrap() - 0.5).abs() < 1e-12);
        assert!(imputed[1].iter().any(|i| i.column == "r"));
    }

    #[test]
    fn impute_r_without_any_donor_is_an_error() {
        let mut t = table("study,n,sd_pre,sd_post\nA,10,3,4\n");
        assert!(recover(&mut t, true, None).is_err());
    }

    #[test]
    fn sds_are_borrowed_within_instrument_and_time_only() {
        let csv = "study,outcome,time,n,mean_pre,sd_pre\nA,HHS,6,10,50,4\nB,HHS,6,10,50,8\nC,HHS,6,10,50,\nD,HHS,12,10,50,\nE,WOMAC,6,10,50,\n";
        for (rule, expected) in [(SdImputation::Mean, 6.0), (SdImputation::Max, 8.0)] {
            let mut t = table(csv);
            recover(&mut t, false, Some(rule)).unwrap();
            let sd = t.column("sd_pre").unwrap();
            assert_eq!(sd.get(2), Some(expected));
            assert_eq!(
                (sd.get(3), sd.get(4)),
                (None, None),
                "other time or instrument"
            );
        }
    }
}
