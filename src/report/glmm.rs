//! The text summary of a GLMM: its model, heterogeneity tests and pooled
//! estimate.

use std::fmt::Write as _;

use super::analysis::{CoefficientRow, back_transformed_line, coefficient_rows, excluded_line};
use super::number::p_value;
use super::scale_note;
use crate::analysis::{Analysis, GlmmPooled};
use crate::effect::Measure;
use crate::model::{ChiSquareTest, GlmmModel};

/// The model, heterogeneity and the pooled estimate.
pub(super) fn section(out: &mut String, analysis: &Analysis, pooled: &GlmmPooled) {
    let fit = &pooled.fit;
    let integration = match fit.quadrature_points {
        0 => String::new(),
        1 => "; Laplace approximation".to_string(),
        n => format!("; adaptive Gauss-Hermite quadrature, {n} points"),
    };
    let _ = writeln!(
        out,
        "{} GLMM: {} (maximum likelihood{integration})",
        if fit.random {
            "Random-effects"
        } else {
            "Common-effect"
        },
        description(fit.measure, fit.model)
    );
    let _ = writeln!(
        out,
        "Measure: {} ({}); k = {}; test: z; level: {}%",
        analysis.measure,
        analysis.measure.description(),
        fit.k,
        fit.level
    );
    excluded_line(out, fit.excluded.len() + analysis.excluded.len());
    let _ = writeln!(out, "\nHeterogeneity:");
    let i2 = fit
        .i2
        .map_or(String::new(), |i2| format!("; I^2 = {i2:.2}%"));
    let h2 = fit
        .h2
        .map_or(String::new(), |h2| format!("; H^2 = {h2:.2}"));
    let _ = writeln!(out, "  tau^2 = {:.4}{i2}{h2}", fit.tau2);
    test_line(out, "Wald test", fit.wald.as_ref());
    test_line(out, "Likelihood-ratio test", fit.likelihood_ratio.as_ref());
    let _ = writeln!(out, "  log-likelihood = {:.4}\n", fit.log_likelihood);
    let _ = writeln!(out, "Model results{}:", scale_note(analysis.measure));
    let row = CoefficientRow {
        name: "pooled".into(),
        values: [
            fit.estimate,
            fit.se,
            fit.z,
            f64::NAN,
            fit.p_value,
            fit.ci_lower,
            fit.ci_upper,
        ],
    };
    coefficient_rows(out, "z", &[row]);
    if let Some(bt) = &pooled.back_transformed {
        back_transformed_line(out, analysis.measure, bt);
    }
    out.push('\n');
}

/// A test of the saturated model against the common effect.
fn test_line(out: &mut String, name: &str, test: Option<&ChiSquareTest>) {
    if let Some(t) = test {
        let _ = writeln!(
            out,
            "  {name} (saturated vs common-effect model): Q(df = {}) = {:.4}, p {}",
            t.df,
            t.statistic,
            p_value(t.p_value)
        );
    }
}

/// The model in words.
fn description(measure: Measure, model: Option<GlmmModel>) -> String {
    match (measure, model) {
        (Measure::Plo, _) => "binomial-normal model of the events (logit link)".into(),
        (Measure::Irln, _) => "Poisson-normal model of the events (log link)".into(),
        (Measure::Irr, _) => {
            "conditional binomial model of group 1's share of the events (CM.EL)".into()
        }
        (_, Some(GlmmModel::ConditionalApproximate)) => {
            "conditional model with approximate (binomial) likelihood (CM.AL)".into()
        }
        (_, Some(GlmmModel::ConditionalExact)) => {
            "conditional model with exact (non-central hypergeometric) likelihood (CM.EL)".into()
        }
        (_, Some(GlmmModel::RandomStudy)) => {
            "unconditional model with random study effects (UM.RS)".into()
        }
        (_, _) => "unconditional model with fixed study effects (UM.FS)".into(),
    }
}
