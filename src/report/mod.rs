//! Reports of an [`Analysis`]: a text summary for people, JSON for programs, and
//! the per-study table as CSV.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure, report};
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
//! let text = report::text(&analysis);
//! assert!(text.contains("tau^2 estimator: REML"));
//! let mut csv = Vec::new();
//! report::write_csv(&analysis, &mut csv)?;
//! assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 14); // header + 13 studies
//! # Ok::<(), cochran::Error>(())
//! ```

use crate::setting::Setting;
use std::fmt::Write as _;
use std::io::Write;

use crate::analysis::{Analysis, OutcomeAnalysis, Pooled, PooledModel, StudyResult, SubgroupTau2};
use crate::effect::scales::ScaleRegistry;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Method, Regression, Test};

/// Studies beyond this count are left out of the text summary's study table.
pub const TEXT_STUDY_LIMIT: usize = 100;

/// The text summary: model, heterogeneity, pooled estimate, subgroups, studies,
/// warnings and notes.
pub fn text(analysis: &Analysis) -> String {
    let mut out = String::new();
    let overall = match &analysis.model {
        PooledModel::Univariate(pooled) => pooled,
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
    if !analysis.excluded.is_empty() {
        let _ = writeln!(
            out,
            "Excluded: {} stud{} (see warnings)",
            analysis.excluded.len(),
            if analysis.excluded.len() == 1 {
                "y"
            } else {
                "ies"
            }
        );
    }
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
        if fit.test == Test::Knha {
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
    let stat = if fit.test == Test::Knha { "t" } else { "z" };
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
        let _ = writeln!(
            out,
            "  Back-transformed {}: {:.4} [{:.4}, {:.4}]",
            analysis.measure.natural_name(),
            bt.estimate,
            bt.ci_lower,
            bt.ci_upper
        );
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
struct CoefficientRow {
    name: String,
    values: [f64; 7],
}

fn coefficient_rows(out: &mut String, stat: &str, rows: &[CoefficientRow]) {
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

fn test_name(test: Test) -> &'static str {
    match test {
        Test::Z => "z",
        Test::Knha => "Knapp-Hartung (t)",
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
            .map(|i| format!(" [{:.2}%, {:.2}%]", i.i2_ci_lower, i.i2_ci_upper))
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
    let stat = if fit.test == Test::Knha { "t" } else { "z" };
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
        let _ = writeln!(out, "{indent}  Prediction interval: [{lo:.4}, {hi:.4}]");
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
        let ci = pooled
            .tau2_interval
            .map(|i| format!(" [{:.4}, {:.4}]", i.tau2_ci_lower, i.tau2_ci_upper))
            .unwrap_or_default();
        let se = fit
            .se_tau2
            .map(|s| format!(" (SE = {s:.4})"))
            .unwrap_or_default();
        let _ = writeln!(out, "{indent}  tau^2 = {:.4}{ci}{se}", fit.tau2);
        let _ = writeln!(out, "{indent}  tau   = {:.4}", fit.tau2.sqrt());
    }
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
    let stat = if fit.test == Test::Knha { "t" } else { "z" };
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
    let labels: Vec<String> = studies.iter().map(|s| shortened(&s.study)).collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(out, "Studies:");
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>10} {:>10} {:>8}",
        "study", "yi", "ci.lower", "ci.upper", "weight"
    );
    for (s, label) in studies.iter().zip(&labels) {
        let _ = writeln!(
            out,
            "  {:<width$} {:>10.4} {:>10.4} {:>10.4} {:>7.2}%",
            label, s.yi, s.ci_lower, s.ci_upper, s.weight
        );
    }
    out.push('\n');
}

/// Study labels longer than this are cut in the text table (JSON and CSV keep them whole).
pub const TEXT_LABEL_LIMIT: usize = 40;

fn shortened(label: &str) -> String {
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

/// A p-value as metafor prints it: four decimals, or `< .0001`.
///
/// ```
/// assert_eq!(cochran::report::p_value(0.00001), "< .0001");
/// assert_eq!(cochran::report::p_value(0.0312), "= 0.0312");
/// ```
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "< .0001".into()
    } else {
        format!("= {p:.4}")
    }
}

/// A p-value for a table cell: four decimals, or `<.0001`.
///
/// ```
/// assert_eq!(cochran::report::p_cell(0.00001), "<.0001");
/// assert_eq!(cochran::report::p_cell(0.0312), "0.0312");
/// ```
pub fn p_cell(p: f64) -> String {
    if p < 1e-4 {
        "<.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// Writes the analysis as one JSON object.
pub fn write_json(analysis: &Analysis, writer: impl Write) -> Result<()> {
    serde_json::to_writer(writer, analysis).map_err(|e| ErrorKind::Write(e.into()).into())
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
    csv.write_record(&header).map_err(csv_io)?;
    for s in &analysis.studies {
        let mut record = vec![s.study.clone()];
        if grouped {
            record.push(s.subgroup.clone().unwrap_or_default());
        }
        if clustered {
            record.push(s.cluster.as_deref().unwrap_or_default().to_string());
        }
        record.extend(study_values(s));
        csv.write_record(&record).map_err(csv_io)?;
    }
    csv.flush().map_err(ErrorKind::Io)?;
    Ok(())
}

const STUDY_COLUMNS: [&str; 6] = ["yi", "vi", "se", "ci_lower", "ci_upper", "weight"];

fn study_values(s: &StudyResult) -> [String; 6] {
    [s.yi, s.vi, s.vi.sqrt(), s.ci_lower, s.ci_upper, s.weight].map(|x| x.to_string())
}

fn csv_io(e: csv::Error) -> crate::Error {
    ErrorKind::Write(e.into()).into()
}

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
    serde_json::to_writer(writer, &serde_json::json!({ "outcomes": outcomes }))
        .map_err(|e| ErrorKind::Write(e.into()).into())
}

/// Writes the per-study tables of all instruments as one CSV with an `outcome` column.
pub fn write_outcomes_csv(outcomes: &[OutcomeAnalysis], writer: impl Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    let mut header = vec!["outcome", "study"];
    header.extend(STUDY_COLUMNS);
    csv.write_record(&header).map_err(csv_io)?;
    for o in outcomes {
        for s in o.analysis.iter().flat_map(|a| &a.studies) {
            let mut record = vec![o.outcome.clone(), s.study.clone()];
            record.extend(study_values(s));
            csv.write_record(&record).map_err(csv_io)?;
        }
    }
    csv.flush().map_err(ErrorKind::Io)?;
    Ok(())
}

/// The instrument registry as a readable list.
///
/// ```
/// let text = cochran::report::scales_text(cochran::effect::scales::ScaleRegistry::shared());
/// assert!(text.contains("HHS") && text.contains("higher is better"));
/// ```
pub fn scales_text(registry: &ScaleRegistry) -> String {
    let mut out = String::new();
    for s in registry.scales() {
        let _ = writeln!(
            out,
            "{} ({}): {}-{}, {}",
            s.name, s.full_name, s.min, s.max, s.better
        );
        if !s.aliases.is_empty() {
            let _ = writeln!(out, "  also: {}", s.aliases.join(", "));
        }
        if !s.subscales.is_empty() {
            let _ = writeln!(out, "  subscales: {}", s.subscales);
        }
        for m in &s.mic {
            let _ = writeln!(out, "  MIC: {} - {} ({})", m.published, m.context, m.source);
        }
        if !s.note.is_empty() {
            let _ = writeln!(out, "  note: {}", s.note);
        }
    }
    out
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
    let imputed: Vec<&StudyResult> = analysis
        .studies
        .iter()
        .filter(|s| !s.imputed.is_empty())
        .collect();
    if imputed.is_empty() {
        return;
    }
    let _ = writeln!(out, "Imputed values (not reported by the study):");
    for s in imputed {
        for i in &s.imputed {
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

/// A table of refits (leave-one-out, cumulative): `heading` above it, each
/// row named in a column headed `column`.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure, report};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// let loo = analysis.leave_one_out()?;
/// let text = report::refits_text(&analysis, "Leave-one-out", "omitted", &loo.studies);
/// assert!(text.contains("Aronson 1948"));
/// # Ok::<(), cochran::Error>(())
/// ```
pub fn refits_text(
    analysis: &Analysis,
    heading: &str,
    column: &str,
    refits: &[crate::sensitivity::Refit],
) -> String {
    let mut out = String::new();
    let scale = scale_note(analysis.measure);
    let _ = writeln!(out, "{heading}: {} model{scale}\n", method_name(analysis));
    let labels: Vec<String> = refits.iter().map(|r| shortened(&r.study)).collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(column.chars().count());
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>9} {:>8} {:>10} {:>10} {:>10} {:>8} {:>10} {:>8}",
        column, "estimate", "se", "p", "ci.lower", "ci.upper", "Q", "Q p", "tau^2", "I^2"
    );
    for (r, label) in refits.iter().zip(&labels) {
        let _ = writeln!(
            out,
            "  {:<width$} {:>10.4} {:>9.4} {:>8} {:>10.4} {:>10.4} {:>10} {:>8} {:>10.4} {:>8}",
            label,
            r.estimate,
            r.se,
            r.p_value.map_or("NA".into(), p_cell),
            r.ci_lower,
            r.ci_upper,
            r.q.map_or("NA".into(), |q| format!("{q:.4}")),
            r.q_p_value.map_or("NA".into(), p_cell),
            r.tau2,
            r.i2.map_or("NA".into(), |i| format!("{i:.2}%")),
        );
    }
    out.push('\n');
    out
}

/// Refits as CSV, one row each.
pub fn write_refits_csv(refits: &[crate::sensitivity::Refit], writer: impl Write) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record([
        "study",
        "estimate",
        "se",
        "statistic",
        "p_value",
        "ci_lower",
        "ci_upper",
        "q",
        "q_p_value",
        "tau2",
        "i2",
        "h2",
    ])
    .map_err(csv_io)?;
    let cell = |x: Option<f64>| x.map_or(String::new(), |x| x.to_string());
    for r in refits {
        csv.write_record([
            r.study.clone(),
            r.estimate.to_string(),
            r.se.to_string(),
            cell(r.statistic),
            cell(r.p_value),
            r.ci_lower.to_string(),
            r.ci_upper.to_string(),
            cell(r.q),
            cell(r.q_p_value),
            r.tau2.to_string(),
            cell(r.i2),
            cell(r.h2),
        ])
        .map_err(csv_io)?;
    }
    csv.flush().map_err(|e| ErrorKind::Write(e).into())
}

/// The influence diagnostics as a table; influential studies marked `*`.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure, report};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// assert!(report::influence_text(&analysis.influence()?).contains("rstudent"));
/// # Ok::<(), cochran::Error>(())
/// ```
pub fn influence_text(influence: &crate::sensitivity::Influence) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Influence diagnostics (* influential by metafor's rule)\n"
    );
    let labels: Vec<String> = influence
        .studies
        .iter()
        .map(|r| shortened(&r.study))
        .collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "  {:<width$} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10} {:>7} {:>8} {:>9}",
        "study",
        "rstudent",
        "dffits",
        "cook.d",
        "cov.r",
        "tau2.del",
        "QE.del",
        "hat",
        "weight",
        "dfbetas"
    );
    for (r, label) in influence.studies.iter().zip(&labels) {
        let _ = writeln!(
            out,
            "  {:<width$} {:>9.4} {:>9.4} {:>9.4} {:>9.4} {:>10.4} {:>10.4} {:>7.4} {:>7.2}% {:>9.4}{}",
            label,
            r.rstudent,
            r.dffits,
            r.cooks_distance,
            r.cov_ratio,
            r.tau2_deleted,
            r.q_deleted,
            r.hat,
            r.weight,
            r.dfbetas,
            if r.influential { " *" } else { "" }
        );
    }
    out.push('\n');
    out
}

/// The influence diagnostics as CSV, one row per study.
pub fn write_influence_csv(
    influence: &crate::sensitivity::Influence,
    writer: impl Write,
) -> Result<()> {
    let mut csv = csv::Writer::from_writer(writer);
    csv.write_record([
        "study",
        "rstudent",
        "dffits",
        "cooks_distance",
        "cov_ratio",
        "tau2_deleted",
        "q_deleted",
        "hat",
        "weight",
        "dfbetas",
        "influential",
    ])
    .map_err(csv_io)?;
    for r in &influence.studies {
        let numbers = [
            r.rstudent,
            r.dffits,
            r.cooks_distance,
            r.cov_ratio,
            r.tau2_deleted,
            r.q_deleted,
            r.hat,
            r.weight,
            r.dfbetas,
        ];
        let mut record = vec![r.study.clone()];
        record.extend(numbers.iter().map(f64::to_string));
        record.push(r.influential.to_string());
        csv.write_record(&record).map_err(csv_io)?;
    }
    csv.flush().map_err(|e| ErrorKind::Write(e).into())
}

/// The pooling method of the model of independent effects ("REML", "FE"), or
/// the model's kind.
fn method_name(analysis: &Analysis) -> String {
    match analysis.fit() {
        Some(fit) => fit.method.to_string(),
        None => analysis.model.kind().to_string(),
    }
}

/// Egger's test, the rank test, trim-and-fill and fail-safe N as text.
pub fn bias_text(analysis: &Analysis, bias: &crate::bias::SmallStudyEffects) -> String {
    let mut out = String::new();
    let scale = scale_note(analysis.measure);
    let _ = writeln!(
        out,
        "Small-study effects: {} model, k = {}{scale}\n",
        method_name(analysis),
        bias.k
    );
    let e = &bias.egger;
    let statistic = match e.df {
        Some(df) => format!("t = {:.4}, df = {df}", e.statistic),
        None => format!("z = {:.4}", e.statistic),
    };
    let _ = writeln!(
        out,
        "Egger's regression test (predictor: standard error)\n  {statistic}, p {}\n  \
         limit estimate (as se -> 0): {:.4} [{:.4}, {:.4}]\n",
        p_value(e.p_value),
        e.limit_estimate,
        e.limit_ci_lower,
        e.limit_ci_upper
    );
    let r = &bias.rank_test;
    let _ = writeln!(
        out,
        "Rank correlation test (Begg and Mazumdar)\n  Kendall's tau = {:.4}, p {} ({})\n",
        r.tau,
        p_value(r.p_value),
        if r.exact {
            "exact"
        } else {
            "normal approximation"
        }
    );
    let t = &bias.trim_and_fill;
    let _ = writeln!(
        out,
        "Trim-and-fill ({} estimator)\n  estimated missing studies on the {} side: {} (se {:.4})",
        t.estimator, t.side, t.k0, t.se_k0
    );
    // Transforms that need the studies' sizes are left on the analysis scale
    // here: the filled studies have none.
    let natural = match analysis
        .measure
        .back_transform()
        .filter(|b| !b.needs_size())
    {
        Some(back) => {
            let f = |x: f64| back.apply(x, f64::NAN);
            format!(
                " ({} {:.4} [{:.4}, {:.4}])",
                analysis.measure.natural_name(),
                f(t.estimate),
                f(t.ci_lower),
                f(t.ci_upper)
            )
        }
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  {} estimate: {:.4} [{:.4}, {:.4}]{natural}, p {}, tau^2 = {:.4}\n",
        if t.k0 > 0 { "filled" } else { "unchanged" },
        t.estimate,
        t.ci_lower,
        t.ci_upper,
        t.p_value.map_or("NA".into(), p_value),
        t.tau2
    );
    let f = &bias.fail_safe_n;
    let _ = writeln!(
        out,
        "Fail-safe N\n  Rosenthal (one-tailed alpha = .05): {}\n  Orwin (target {:.4}): {}\n  \
         Rosenberg (alpha = .05): {}",
        f.rosenthal,
        f.orwin_target,
        f.orwin
            .map_or("not reachable (target 0)".into(), |n| n.to_string()),
        f.rosenberg
    );
    if !bias.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in &bias.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out.push('\n');
    out
}

/// " (log scale)" and the like for a measure analysed on a transformed scale.
fn scale_note(measure: crate::effect::Measure) -> String {
    measure
        .transformed_scale()
        .map_or(String::new(), |s| format!(" ({s} scale)"))
}

/// GOSH's summary as text.
pub fn gosh_text(gosh: &crate::sensitivity::Gosh) -> String {
    let mut out = String::new();
    let how = match gosh.seed {
        None => "every subset".to_string(),
        Some(seed) => format!("random subsets, seed {seed}"),
    };
    let _ = writeln!(
        out,
        "GOSH: k = {} studies, {} subsets fitted ({how})\n",
        gosh.k, gosh.subsets
    );
    let _ = writeln!(
        out,
        "  {:<9} {:>12} {:>12} {:>12}",
        "", "min", "mean", "max"
    );
    let s = &gosh.summary;
    for (name, spread) in [
        ("estimate", s.estimate),
        ("I^2 (%)", s.i2),
        ("tau^2", s.tau2),
        ("Q", s.q),
    ] {
        let _ = writeln!(
            out,
            "  {name:<9} {:>12.4} {:>12.4} {:>12.4}",
            spread.min, spread.mean, spread.max
        );
    }
    out.push('\n');
    out
}

/// Writes GOSH fits as CSV rows as they arrive: members (1-based study
/// positions separated by spaces), k, estimate, se, tau2, i2, q.
pub struct GoshCsv<W: Write> {
    csv: csv::Writer<W>,
    header: bool,
}

impl<W: Write> GoshCsv<W> {
    /// Rows to `writer`, the header before the first.
    pub fn new(writer: W) -> Self {
        GoshCsv {
            csv: csv::Writer::from_writer(writer),
            header: false,
        }
    }

    /// One fit.
    pub fn write(&mut self, fit: &crate::sensitivity::GoshFit) -> Result<()> {
        if !self.header {
            self.csv
                .write_record(["members", "k", "estimate", "se", "tau2", "i2", "q"])
                .map_err(csv_io)?;
            self.header = true;
        }
        let members: Vec<String> = fit.members.iter().map(|i| (i + 1).to_string()).collect();
        self.csv
            .write_record([
                members.join(" "),
                fit.members.len().to_string(),
                fit.estimate.to_string(),
                fit.se.to_string(),
                fit.tau2.to_string(),
                fit.i2.to_string(),
                fit.q.to_string(),
            ])
            .map_err(csv_io)
    }

    /// Flushes what is buffered.
    pub fn finish(mut self) -> Result<()> {
        self.csv
            .flush()
            .map_err(|e| Error::from(ErrorKind::Write(e)))
    }
}
