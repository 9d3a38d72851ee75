//! The report of an analysis: text summary, JSON and the per-study CSV, alone
//! or one per instrument.

use std::fmt::Write as _;
use std::io::Write;

use super::*;
use crate::analysis::{Analysis, OutcomeAnalysis, Pooled, PooledModel, StudyResult, SubgroupTau2};
use crate::error::{ErrorKind, Result};
use crate::model::{Method, Regression, Test};
use crate::setting::Setting;

/// Studies beyond this count are left out of the text summary's study table.
pub const TEXT_STUDY_LIMIT: usize = 100;

/// The text summary: model, heterogeneity, pooled estimate, subgroups, studies,
/// warnings and notes.
pub fn text(analysis: &Analysis) -> String {
    let mut out = String::new();
    let overall = match &analysis.model {
        PooledModel::Univariate(pooled) => pooled,
        PooledModel::Glmm(glmm) => {
            super::glmm::section(&mut out, analysis, glmm);
            study_table(&mut out, analysis);
            list(&mut out, "Warnings", &analysis.warnings);
            list(&mut out, "Notes", &analysis.notes);
            return out;
        }
        PooledModel::ThreeLevel(multilevel) => {
            multilevel_section(&mut out, analysis, multilevel);
            clinical_section(&mut out, analysis);
            study_table(&mut out, analysis);
            imputed_section(&mut out, analysis);
            list(&mut out, "Warnings", &analysis.warnings);
            list(&mut out, "Notes", &analysis.notes);
            return out;
        }
    };
    let fit = &overall.fit;
    let model = match (fit.method, fit.regression.is_some()) {
        (Method::Random(t), false) => format!("Random-effects model (tau^2 estimator: {t})"),
        (Method::Random(t), true) => format!("Mixed-effects model (tau^2 estimator: {t})"),
        (Method::MantelHaenszel, _) => "Mantel-Haenszel common-effect model".to_string(),
        (Method::Peto, _) => "Peto common-effect model (one-step odds ratio)".to_string(),
        (_, false) => "Common-effect model".to_string(),
        (_, true) => "Common-effect model with moderators".to_string(),
    };
    let _ = writeln!(out, "{model}");
    let _ = writeln!(
        out,
        "Measure: {} ({}); k = {}; test: {}; level: {}%",
        analysis.measure,
        analysis.measure.description(),
        fit.k,
        test_name(fit.test),
        fit.level
    );
    excluded_line(&mut out, analysis.excluded.len());
    out.push('\n');
    pooled_section(&mut out, analysis, overall, "");
    if let Some(groups) = &analysis.subgroups {
        let column = analysis.group_column.as_deref().unwrap_or("subgroup");
        let shared = if analysis.subgroup_tau2 == Some(SubgroupTau2::Common) {
            " (one tau^2 for all, from the mixed-effects model)"
        } else {
            ""
        };
        let _ = writeln!(out, "Subgroups by `{column}`{shared}:\n");
        for group in groups {
            let _ = writeln!(out, "  {} (k = {})", group.name, group.pooled.fit.k);
            pooled_section(&mut out, analysis, &group.pooled, "    ");
        }
        if let Some(test) = &analysis.subgroup_test {
            let statistic = match test.df_residual {
                Some(df2) => format!("F(df1 = {}, df2 = {df2})", test.df),
                None => format!("Q(df = {})", test.df),
            };
            let _ = writeln!(
                out,
                "Test for subgroup differences: {statistic} = {:.4}, p {}\n",
                test.q,
                p_value(test.p_value)
            );
        }
    }
    clinical_section(&mut out, analysis);
    super::bayes::section(&mut out, analysis);
    sensitivity_section(&mut out, analysis);
    study_table(&mut out, analysis);
    imputed_section(&mut out, analysis);
    list(&mut out, "Warnings", &analysis.warnings);
    list(&mut out, "Notes", &analysis.notes);
    out
}

/// The three-level model: variance components, the pooled estimate or the
/// coefficients, and the robust inference asked for.
fn multilevel_section(out: &mut String, analysis: &Analysis, m: &crate::analysis::Multilevel) {
    let fit = &m.fit;
    let moderated = if fit.regression.is_some() {
        " with moderators"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "Three-level model{moderated} (effects nested in clusters of `{}`; {})",
        m.cluster_column, fit.method
    );
    let _ = writeln!(
        out,
        "Measure: {} ({}); k = {} effects in {} clusters; test: {}; level: {}%",
        analysis.measure,
        analysis.measure.description(),
        fit.k,
        fit.clusters,
        if fit.test.uses_t() {
            "t (k - p df)"
        } else {
            "z"
        },
        fit.level
    );
    if !analysis.excluded.is_empty() {
        let _ = writeln!(
            out,
            "Excluded: {} rows (see warnings)",
            analysis.excluded.len()
        );
    }
    let _ = writeln!(out, "\nVariance components:");
    let _ = writeln!(
        out,
        "  sigma^2 between clusters = {:.4}  (I^2 {:.2}%)",
        fit.sigma2_cluster, fit.i2_cluster
    );
    let _ = writeln!(
        out,
        "  sigma^2 within clusters  = {:.4}  (I^2 {:.2}%)",
        fit.sigma2_within, fit.i2_within
    );
    let _ = writeln!(out, "  I^2 total = {:.2}%", fit.i2);
    let _ = writeln!(
        out,
        "  Q(df = {}) = {:.4}, p {}  (residual heterogeneity)\n",
        fit.q_df,
        fit.q,
        p_value(fit.q_p_value)
    );
    let scale = scale_note(analysis.measure);
    let stat = if fit.test.uses_t() { "t" } else { "z" };
    let rows: Vec<CoefficientRow> = match &fit.regression {
        Some(r) => {
            moderator_test(out, r);
            r.coefficients
                .iter()
                .map(|c| CoefficientRow {
                    name: c.name.clone(),
                    values: [
                        c.estimate,
                        c.se,
                        c.statistic,
                        f64::NAN,
                        c.p_value,
                        c.ci_lower,
                        c.ci_upper,
                    ],
                })
                .collect()
        }
        None => vec![CoefficientRow {
            name: "pooled".into(),
            values: [
                fit.estimate,
                fit.se,
                fit.statistic,
                f64::NAN,
                fit.p_value,
                fit.ci_lower,
                fit.ci_upper,
            ],
        }],
    };
    let _ = writeln!(out, "Model results{scale}:");
    coefficient_rows(out, stat, &rows);
    if fit.regression.is_none() {
        let _ = writeln!(
            out,
            "  Prediction interval (new effect, new cluster): [{:.4}, {:.4}]",
            fit.pi_lower, fit.pi_upper
        );
    }
    if let Some(bt) = &m.back_transformed {
        back_transformed_line(out, analysis.measure, bt);
    }
    if let Some(robust) = &m.robust {
        let _ = writeln!(out, "\nCluster-robust inference (CR2, Satterthwaite df):");
        let rows = robust_rows(robust, fit.regression.is_some());
        coefficient_rows(out, "t", &rows);
    }
    if let Some(rve) = &m.rve {
        let _ = writeln!(
            out,
            "\nRobust variance estimation (correlated effects, rho = {}; tau^2 = {:.4}; \
             small-sample corrected):",
            rve.rho, rve.tau2
        );
        let rows = robust_rows(&rve.coefficients, fit.regression.is_some());
        coefficient_rows(out, "t", &rows);
        if rve.coefficients.iter().any(|c| c.df < 4.0) {
            let _ = writeln!(out, "  (df below 4: the robust test is not trustworthy)");
        }
    }
    let naive = &m.ignoring_dependence;
    if fit.regression.is_none() {
        let _ = writeln!(
            out,
            "\nIgnoring the dependence (every effect as an independent study, counting the \
             clusters' patients more than once): {:.4} [{:.4}, {:.4}], tau^2 = {:.4}",
            naive.estimate, naive.ci_lower, naive.ci_upper, naive.tau2
        );
    }
    out.push('\n');
}

/// The rows of a robust coefficient table; without moderators the one
/// coefficient is the pooled estimate.
fn robust_rows(
    coefficients: &[crate::model::RobustCoefficient],
    moderated: bool,
) -> Vec<CoefficientRow> {
    coefficients
        .iter()
        .map(|c| CoefficientRow {
            name: if moderated {
                c.name.clone()
            } else {
                "pooled".into()
            },
            values: [
                c.estimate,
                c.se,
                c.statistic,
                c.df,
                c.p_value,
                c.ci_lower,
                c.ci_upper,
            ],
        })
        .collect()
}

/// One row of a coefficient table: estimate, se, statistic, df (NaN: none),
/// p, lower and upper limit.
pub(super) struct CoefficientRow {
    pub name: String,
    pub values: [f64; 7],
}

pub(super) fn coefficient_rows(out: &mut String, stat: &str, rows: &[CoefficientRow]) {
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 40);
    let with_df = rows.iter().any(|r| !r.values[3].is_nan());
    let df_header = if with_df {
        format!(" {:>7}", "df")
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>9} {:>9}{df_header} {:>8} {:>10} {:>10}",
        "", "estimate", "se", stat, "p", "ci.lower", "ci.upper"
    );
    for row in rows {
        let [estimate, se, statistic, df, p, lower, upper] = row.values;
        let df = if with_df {
            format!(" {df:>7.2}")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {:<width$} {estimate:>10.4} {se:>9.4} {statistic:>9.4}{df} {:>8} {lower:>10.4} {upper:>10.4}",
            shortened(&row.name),
            p_cell(p)
        );
    }
}

/// "Excluded: 3 studies (see warnings)", when any were.
pub(super) fn excluded_line(out: &mut String, count: usize) {
    if count > 0 {
        let plural = if count == 1 { "y" } else { "ies" };
        let _ = writeln!(out, "Excluded: {count} stud{plural} (see warnings)");
    }
}

/// The pooled estimate and its interval on the measure's natural scale.
pub(super) fn back_transformed_line(
    out: &mut String,
    measure: crate::effect::Measure,
    bt: &crate::analysis::BackTransformed,
) {
    let _ = writeln!(
        out,
        "  Back-transformed {}: {:.4} [{:.4}, {:.4}]",
        measure.natural_name(),
        bt.estimate,
        bt.ci_lower,
        bt.ci_upper
    );
}

fn test_name(test: Test) -> &'static str {
    match test {
        Test::Z => "z",
        Test::Knha => "Knapp-Hartung (t)",
        Test::Adhoc => "Knapp-Hartung, ad hoc (t)",
    }
}

fn pooled_section(out: &mut String, analysis: &Analysis, pooled: &Pooled, indent: &str) {
    let fit = &pooled.fit;
    if let Some(regression) = &fit.regression {
        regression_section(out, analysis, pooled, regression);
        return;
    }
    if let Some(q) = fit.q {
        let _ = writeln!(out, "{indent}Heterogeneity:");
        tau2_lines(out, pooled, indent);
        let i2_ci = pooled
            .tau2_interval
            .map(|i| {
                let (lower, upper) = beyond(&i);
                let lower = if lower {
                    format!(">{:.2}", i.i2_at_limit)
                } else {
                    format!("{:.2}", i.i2_ci_lower)
                };
                let upper = if upper {
                    format!(">{:.2}", i.i2_at_limit)
                } else {
                    format!("{:.2}", i.i2_ci_upper)
                };
                format!(" [{lower}%, {upper}%]")
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{indent}  I^2   = {:.2}%{i2_ci}",
            fit.i2.unwrap_or(f64::NAN)
        );
        let _ = writeln!(out, "{indent}  H^2   = {:.2}", fit.h2.unwrap_or(f64::NAN));
        let _ = writeln!(
            out,
            "{indent}  Q(df = {}) = {q:.4}, p {}",
            fit.q_df.unwrap_or(0.0),
            p_value(fit.q_p_value.unwrap_or(f64::NAN))
        );
        out.push('\n');
    }
    for (name, test) in [
        ("Cochran-Mantel-Haenszel test (common OR = 1)", &fit.cmh),
        ("Tarone's test of homogeneous ORs", &fit.tarone),
    ] {
        if let Some(t) = test {
            let _ = writeln!(
                out,
                "{indent}{name}: chi^2(df = {}) = {:.4}, p {}",
                t.df,
                t.statistic,
                p_value(t.p_value)
            );
        }
    }
    if fit.cmh.is_some() {
        out.push('\n');
    }
    let scale = scale_note(analysis.measure);
    let stat = if fit.test.uses_t() { "t" } else { "z" };
    let _ = writeln!(out, "{indent}Pooled estimate{scale}:");
    let _ = writeln!(
        out,
        "{indent}  {:>10} {:>9} {:>9} {:>8} {:>10} {:>10}",
        "estimate", "se", stat, "p", "ci.lower", "ci.upper"
    );
    let _ = writeln!(
        out,
        "{indent}  {:>10.4} {:>9.4} {:>9} {:>8} {:>10.4} {:>10.4}",
        fit.estimate,
        fit.se,
        fit.statistic.map_or("NA".into(), |s| format!("{s:.4}")),
        fit.p_value.map_or("NA".into(), p_cell),
        fit.ci_lower,
        fit.ci_upper
    );
    if let Some(df) = fit.df {
        let _ = writeln!(out, "{indent}  (t distribution with {df} df)");
    }
    if let (Some(lo), Some(hi)) = (fit.pi_lower, fit.pi_upper) {
        let on = match fit.prediction_interval {
            crate::model::PredictionInterval::T => {
                let p = fit.design().map_or(1, |d| d.p());
                format!(" (t, {} df)", (fit.k.saturating_sub(p)).max(1))
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "{indent}  Prediction interval{on}: [{lo:.4}, {hi:.4}]");
    }
    if let Some(bt) = &pooled.back_transformed {
        let ratio = analysis.measure.natural_name();
        let pi = match (bt.pi_lower, bt.pi_upper) {
            (Some(lo), Some(hi)) => format!("; prediction interval [{lo:.4}, {hi:.4}]"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{indent}  Back-transformed {ratio}: {:.4} [{:.4}, {:.4}]{pi}",
            bt.estimate, bt.ci_lower, bt.ci_upper
        );
        if let Some(size) = bt.harmonic_mean {
            let _ = writeln!(
                out,
                "{indent}  (inverse transformation at the harmonic mean size {size:.4})"
            );
        }
    }
    out.push('\n');
}

/// τ² with its interval and standard error, and τ (random effects only).
fn tau2_lines(out: &mut String, pooled: &Pooled, indent: &str) {
    let fit = &pooled.fit;
    if let Method::Random(_) = fit.method {
        let bound = |value: f64, past: bool, limit: f64| {
            if past {
                format!(">{limit:.4}")
            } else {
                format!("{value:.4}")
            }
        };
        let ci = pooled
            .tau2_interval
            .map(|i| {
                let (lower, upper) = beyond(&i);
                format!(
                    " [{}, {}]",
                    bound(i.tau2_ci_lower, lower, i.search_limit),
                    bound(i.tau2_ci_upper, upper, i.search_limit)
                )
            })
            .unwrap_or_default();
        let se = fit
            .se_tau2
            .map(|s| format!(" (SE = {s:.4})"))
            .unwrap_or_default();
        let _ = writeln!(out, "{indent}  tau^2 = {:.4}{ci}{se}", fit.tau2);
        let _ = writeln!(out, "{indent}  tau   = {:.4}", fit.tau2.sqrt());
        if let Some(i) = pooled.tau2_interval.filter(|i| i.upper_beyond_limit) {
            let _ = writeln!(
                out,
                "{indent}  (the Q-profile bound lies at {:.4}, beyond {:.4} = max(100, 10 tau^2), \
                 where metafor stops searching: the data do not bound tau^2 from above)",
                if i.lower_beyond_limit {
                    i.tau2_ci_lower
                } else {
                    i.tau2_ci_upper
                },
                i.search_limit
            );
        }
    }
}

/// Which bounds of the τ² interval lie beyond metafor's search limit.
fn beyond(i: &crate::model::Tau2Interval) -> (bool, bool) {
    (i.lower_beyond_limit, i.upper_beyond_limit)
}

/// A meta-regression, as metafor prints one: residual heterogeneity, R², the
/// tests for residual heterogeneity (QE) and of the moderators (QM), and the
/// coefficient table.
fn regression_section(out: &mut String, analysis: &Analysis, pooled: &Pooled, r: &Regression) {
    let fit = &pooled.fit;
    let _ = writeln!(out, "Residual heterogeneity:");
    tau2_lines(out, pooled, "");
    if let (Some(i2), Some(h2)) = (fit.i2, fit.h2) {
        let _ = writeln!(
            out,
            "  I^2   = {i2:.2}%  (residual heterogeneity / unaccounted variability)"
        );
        let _ = writeln!(out, "  H^2   = {h2:.2}");
    }
    if let Some(r2) = r.r2 {
        let _ = writeln!(
            out,
            "  R^2   = {r2:.2}%  (amount of heterogeneity accounted for)"
        );
    }
    if let (Some(q), Some(df), Some(p)) = (fit.q, fit.q_df, fit.q_p_value) {
        let _ = writeln!(
            out,
            "\nTest for residual heterogeneity: QE(df = {df}) = {q:.4}, p {}",
            p_value(p)
        );
    }
    moderator_test(out, r);
    let scale = scale_note(analysis.measure);
    let stat = if fit.test.uses_t() { "t" } else { "z" };
    let width = r
        .coefficients
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 40);
    if let Some(test) = &r.permutation_test {
        let how = if test.exact {
            format!("all {} distinct permutations", test.permutations)
        } else {
            format!(
                "{} random permutations, seed {}",
                test.permutations,
                test.seed.unwrap_or(0)
            )
        };
        let _ = writeln!(
            out,
            "Permutation test ({how}): QM p {}",
            p_value(test.qm_p_value)
        );
    }
    let _ = writeln!(out, "\nModel results{scale}:");
    let permuted = r.permutation_test.is_some();
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>9} {:>9} {:>8} {:>10} {:>10}{}",
        "",
        "estimate",
        "se",
        stat,
        "p",
        "ci.lower",
        "ci.upper",
        if permuted { "    p.perm" } else { "" }
    );
    for c in &r.coefficients {
        let perm = c
            .p_value_permutation
            .map(|p| format!(" {:>9}", p_cell(p)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<width$} {:>10.4} {:>9.4} {:>9.4} {:>8} {:>10.4} {:>10.4}{perm}",
            shortened(&c.name),
            c.estimate,
            c.se,
            c.statistic,
            p_cell(c.p_value),
            c.ci_lower,
            c.ci_upper
        );
    }
    if let Some(df) = r.qm_df_residual {
        let _ = writeln!(out, "  (t distribution with {df} df)");
    }
    out.push('\n');
    predictions_section(out, analysis);
}

/// The omnibus test of the moderators and the reference levels.
fn moderator_test(out: &mut String, r: &Regression) {
    let tested = match r.qm_df_residual {
        Some(df2) => format!("F(df1 = {}, df2 = {df2}) = {:.4}", r.qm_df, r.qm),
        None => format!("QM(df = {}) = {:.4}", r.qm_df, r.qm),
    };
    let _ = writeln!(
        out,
        "Test of moderators: {tested}, p {}",
        p_value(r.qm_p_value)
    );
    for (moderator, level) in &r.reference_levels {
        let _ = writeln!(out, "Reference level of `{moderator}`: {level}");
    }
}

fn predictions_section(out: &mut String, analysis: &Analysis) {
    let Some(predictions) = &analysis.predictions else {
        return;
    };
    let _ = writeln!(out, "Predictions:");
    for p in predictions {
        let at: Vec<String> = p.values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let q = &p.prediction;
        let _ = writeln!(
            out,
            "  at {}: {:.4} (SE {:.4}) [{:.4}, {:.4}], prediction interval [{:.4}, {:.4}]",
            at.join(", "),
            q.estimate,
            q.se,
            q.ci_lower,
            q.ci_upper,
            q.pi_lower,
            q.pi_upper
        );
        if let Some(bt) = &p.back_transformed {
            let _ = writeln!(
                out,
                "    back-transformed: {:.4} [{:.4}, {:.4}], prediction interval [{:.4}, {:.4}]",
                bt.estimate,
                bt.ci_lower,
                bt.ci_upper,
                bt.pi_lower.unwrap_or(f64::NAN),
                bt.pi_upper.unwrap_or(f64::NAN)
            );
        }
    }
    out.push('\n');
}

fn study_table(out: &mut String, analysis: &Analysis) {
    let studies = &analysis.studies;
    if studies.len() > TEXT_STUDY_LIMIT {
        let _ = writeln!(
            out,
            "Studies: {} (table omitted above {TEXT_STUDY_LIMIT}; use {} csv or json)\n",
            studies.len(),
            Setting::Format
        );
        return;
    }
    let labels: Vec<String> = studies.iter().map(|s| shortened(s.study)).collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out, "Studies:");
    if studies.iter().any(|s| s.exact.is_some()) {
        exact_table(out, analysis, &labels, width);
        return;
    }
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>10} {:>10} {:>8}",
        "study", "yi", "ci.lower", "ci.upper", "weight"
    );
    for (s, label) in studies.iter().zip(&labels) {
        // A GLMM has no weights.
        let weight = if s.weight.is_nan() {
            "-".to_string()
        } else {
            format!("{:.2}%", s.weight)
        };
        let _ = writeln!(
            out,
            "  {:<width$} {:>10.4} {:>10.4} {:>10.4} {weight:>8}",
            label, s.yi, s.ci_lower, s.ci_upper
        );
    }
    out.push('\n');
}

/// The studies of a GLMM of proportions: observed proportions with exact intervals.
fn exact_table(out: &mut String, analysis: &Analysis, labels: &[String], width: usize) {
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>11} {:>11}",
        "study", "proportion", "exact.lower", "exact.upper"
    );
    for (s, label) in analysis.studies.iter().zip(labels) {
        if let Some(e) = s.exact {
            let _ = writeln!(
                out,
                "  {label:<width$} {:>10.4} {:>11.4} {:>11.4}",
                e.proportion, e.ci_lower, e.ci_upper
            );
        }
    }
    out.push('\n');
}

/// Study labels longer than this are cut in the text table (JSON and CSV keep them whole).
pub const TEXT_LABEL_LIMIT: usize = 40;

pub(super) fn shortened(label: &str) -> String {
    if label.chars().count() <= TEXT_LABEL_LIMIT {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(TEXT_LABEL_LIMIT - 1).collect();
    cut.push('…');
    cut
}

fn list(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for line in lines {
        let _ = writeln!(out, "  - {line}");
    }
    out.push('\n');
}

/// Writes the analysis as one JSON object.
pub fn write_json(analysis: &Analysis, mut writer: impl Write) -> Result<()> {
    use crate::analysis::studies::{PLACEHOLDER, deferred};
    if analysis.studies.len() < 4096 {
        return versioned_json(analysis, writer);
    }
    // The document without its rows, then the rows written into their place.
    let mut document = Vec::new();
    deferred(|| versioned_json(analysis, &mut document))?;
    let marker = serde_json::to_vec(PLACEHOLDER).map_err(|e| ErrorKind::Write(e.into()))?;
    let mut found = document
        .windows(marker.len())
        .enumerate()
        .filter(|(_, w)| *w == marker.as_slice())
        .map(|(i, _)| i);
    let (Some(at), None) = (found.next(), found.next()) else {
        // A label that spells the marker: the document in one piece.
        return versioned_json(analysis, writer);
    };
    let write = |e: std::io::Error| crate::Error::from(ErrorKind::Write(e));
    writer.write_all(&document[..at]).map_err(write)?;
    analysis
        .studies
        .write_json_array(&mut writer)
        .map_err(write)?;
    writer
        .write_all(&document[at + marker.len()..])
        .map_err(write)
}

/// Writes the per-study table as CSV.
pub fn write_csv(analysis: &Analysis, writer: impl Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    let grouped = analysis.subgroups.is_some();
    let clustered = analysis.model.three_level().is_some();
    let mut header = vec!["study"];
    if grouped {
        header.push("subgroup");
    }
    if clustered {
        header.push("cluster");
    }
    header.extend(STUDY_COLUMNS);
    let exact = analysis.studies.iter().any(|s| s.exact.is_some());
    if exact {
        header.extend(EXACT_COLUMNS);
    }
    csv.write_record(&header).map_err(csv_io)?;
    for s in &analysis.studies {
        let mut record = vec![s.study.to_string()];
        if grouped {
            record.push(s.subgroup.unwrap_or_default().to_string());
        }
        if clustered {
            record.push(s.cluster.unwrap_or_default().to_string());
        }
        record.extend(study_values(&s));
        if exact {
            let values = s.exact.map(|e| [e.proportion, e.ci_lower, e.ci_upper]);
            record.extend((0..3).map(|i| values.map_or(String::new(), |v| v[i].to_string())));
        }
        csv.write_record(&record).map_err(csv_io)?;
    }
    csv.flush().map_err(ErrorKind::Io)?;
    Ok(())
}

const STUDY_COLUMNS: [&str; 6] = ["yi", "vi", "se", "ci_lower", "ci_upper", "weight"];

/// The row's numbers; a model without weights (the GLMM) leaves the weight empty.
fn study_values(s: &StudyResult) -> [String; 6] {
    let [yi, vi, se, lower, upper] =
        [s.yi, s.vi, s.vi.sqrt(), s.ci_lower, s.ci_upper].map(|x| x.to_string());
    let weight = if s.weight.is_nan() {
        String::new()
    } else {
        s.weight.to_string()
    };
    [yi, vi, se, lower, upper, weight]
}

/// The observed proportion and its exact interval of a GLMM of proportions.
const EXACT_COLUMNS: [&str; 3] = ["proportion", "exact_lower", "exact_upper"];

/// One text summary per instrument, or the reason it could not be analysed.
pub fn outcomes_text(outcomes: &[OutcomeAnalysis]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let _ = writeln!(out, "=== Outcome: {} ===\n", o.outcome);
        match (&o.analysis, &o.error) {
            (Some(a), _) => out.push_str(&text(a)),
            (None, Some(e)) => {
                let _ = writeln!(out, "Not analysed: {e}\n");
            }
            (None, None) => {}
        }
    }
    out
}

/// Writes the per-instrument analyses as one JSON object `{"outcomes": [...]}`.
pub fn write_outcomes_json(outcomes: &[OutcomeAnalysis], writer: impl Write) -> Result<()> {
    versioned_json(&serde_json::json!({ "outcomes": outcomes }), writer)
}

/// Writes the per-study tables of all instruments as one CSV with an `outcome` column.
pub fn write_outcomes_csv(outcomes: &[OutcomeAnalysis], writer: impl Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    let mut header = vec!["outcome", "study"];
    header.extend(STUDY_COLUMNS);
    csv.write_record(&header).map_err(csv_io)?;
    for o in outcomes {
        for s in o.analysis.iter().flat_map(|a| &a.studies) {
            let mut record = vec![o.outcome.clone(), s.study.to_string()];
            record.extend(study_values(&s));
            csv.write_record(&record).map_err(csv_io)?;
        }
    }
    csv.flush().map_err(ErrorKind::Io)?;
    Ok(())
}

fn clinical_section(out: &mut String, analysis: &Analysis) {
    let Some(c) = &analysis.clinical else { return };
    let _ = writeln!(out, "Instruments:");
    for i in &c.instruments {
        let range = if i.default_range {
            "default range"
        } else {
            "range from scale_max"
        };
        let _ = writeln!(
            out,
            "  {} {}-{} ({range}), {}; k = {}",
            i.instrument, i.min, i.max, i.better, i.k
        );
    }
    if let Some(target) = c.harmonisation.rescale {
        let _ = writeln!(out, "  raw changes rescaled to 0-{target} before pooling");
    }
    if c.harmonisation.improvement_positive {
        let _ = writeln!(
            out,
            "  signs of lower-is-better instruments flipped: positive = improvement"
        );
    }
    if let Some(p) = &c.percent_of_range {
        let _ = writeln!(
            out,
            "  Pooled change = {:.1}% of the range [{:.1}%, {:.1}%]",
            p.estimate, p.ci_lower, p.ci_upper
        );
    }
    for m in &c.mic {
        let mic = match m.high {
            Some(high) => format!("{:.2}-{:.2}", m.low, high),
            None => format!("{:.2}", m.low),
        };
        let reading = match m.verdict {
            "above" => "lies entirely above",
            "below" => "lies entirely below",
            _ => "includes",
        };
        let _ = writeln!(
            out,
            "  Improvement {:.2} [{:.2}, {:.2}]: the interval {reading} the MIC {mic} \
             ({}; population: {}; {})",
            m.improvement,
            m.improvement_ci_lower,
            m.improvement_ci_upper,
            m.published,
            m.context,
            m.source
        );
    }
    for l in &c.limitations {
        let _ = writeln!(out, "  ({l})");
    }
    out.push('\n');
}

fn imputed_section(out: &mut String, analysis: &Analysis) {
    let imputed: Vec<StudyResult> = analysis
        .studies
        .iter()
        .filter(|s| !s.imputed.is_empty())
        .collect();
    if imputed.is_empty() {
        return;
    }
    let _ = writeln!(out, "Imputed values (not reported by the study):");
    for s in imputed {
        for i in s.imputed {
            let _ = writeln!(
                out,
                "  {}: {} = {:.4} {}",
                s.study, i.column, i.value, i.method
            );
        }
    }
    out.push('\n');
}

fn sensitivity_section(out: &mut String, analysis: &Analysis) {
    let Some(rows) = &analysis.r_sensitivity else {
        return;
    };
    let _ = writeln!(out, "Sensitivity to the assumed pre/post correlation r:");
    let _ = writeln!(
        out,
        "  {:>5} {:>4} {:>10} {:>10} {:>10} {:>9} {:>8}",
        "r", "k", "estimate", "ci.lower", "ci.upper", "tau^2", "I^2"
    );
    for r in rows {
        let i2 = r.i2.map_or("NA".into(), |i| format!("{i:.1}%"));
        let _ = writeln!(
            out,
            "  {:>5.2} {:>4} {:>10.4} {:>10.4} {:>10.4} {:>9.4} {:>8}",
            r.r, r.k, r.estimate, r.ci_lower, r.ci_upper, r.tau2, i2
        );
    }
    out.push('\n');
}
