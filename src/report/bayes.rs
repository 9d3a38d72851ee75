//! The text of the Bayesian random-effects model: priors, posterior
//! summaries of μ, τ and a new study's effect, Bayes factors, the
//! probability of exceeding each MIC, and the shrunken study estimates.

use std::fmt::Write;

use crate::analysis::{Analysis, BayesianSummary};
use crate::model::{Marginal, MuPrior, TauPrior};

pub(super) fn section(out: &mut String, analysis: &Analysis) {
    let Some(bayes) = &analysis.bayesian else {
        return;
    };
    let posterior = &bayes.posterior;
    let level = posterior.model.level;
    let _ = writeln!(
        out,
        "Bayesian random-effects model (exact numerical integration)"
    );
    let _ = writeln!(
        out,
        "  Priors: tau ~ {} ({}); mu ~ {}",
        prior_name(&posterior.model.tau_prior),
        bayes.tau_prior_source,
        match posterior.model.mu_prior {
            MuPrior::Uniform => "uniform (improper)".to_string(),
            other => other.to_string(),
        }
    );
    let central = format!("{level}% central");
    let _ = writeln!(
        out,
        "  {:<12}{:>10}{:>10}{:>10}{:>10}   {central:<24}{level}% shortest",
        "", "median", "mean", "sd", "mode"
    );
    for (name, m) in [
        ("mu", &posterior.mu),
        ("tau", &posterior.tau),
        ("new study", &posterior.predictive),
    ] {
        row(out, name, m);
    }
    bayes_factors(out, bayes);
    for m in &bayes.mic {
        let _ = writeln!(
            out,
            "  P(improvement > MIC {:.2} | data) = {:.3} for the mean; {:.3} for a new study's population ({})",
            m.mic, m.pooled, m.new_study, m.published
        );
    }
    for t in &bayes.thresholds {
        let _ = writeln!(
            out,
            "  P(mu > {} | data) = {:.4}; P(a new study's effect > {} | data) = {:.4}",
            t.above, t.mu, t.above, t.new_study
        );
    }
    for warning in &bayes.warnings {
        let _ = writeln!(out, "  Note: {warning}");
    }
    let _ = writeln!(
        out,
        "  Shrunken study estimates (posterior mean [{level}% interval]):"
    );
    for (study, s) in analysis.studies.iter().zip(&posterior.studies) {
        let _ = writeln!(
            out,
            "    {:<18}{:>10.4} [{:.4}, {:.4}]",
            super::analysis::shortened(study.study),
            s.mean,
            s.central[0],
            s.central[1]
        );
    }
    out.push('\n');
}

fn prior_name(prior: &TauPrior) -> String {
    match prior {
        TauPrior::LogNormal { .. } | TauPrior::LogStudentT { .. } => {
            format!("{prior} of log tau^2")
        }
        TauPrior::Uniform { upper: None } | TauPrior::Jeffreys => format!("{prior} (improper)"),
        _ => prior.to_string(),
    }
}

fn row(out: &mut String, name: &str, m: &Marginal) {
    let optional = |x: Option<f64>| x.map_or("infinite".to_string(), |x| format!("{x:.4}"));
    let _ = writeln!(
        out,
        "  {name:<12}{:>10.4}{:>10}{:>10}{:>10.4}   {:<24}[{:.4}, {:.4}]",
        m.median,
        optional(m.mean),
        optional(m.sd),
        m.mode,
        format!("[{:.4}, {:.4}]", m.central[0], m.central[1]),
        m.shortest[0],
        m.shortest[1]
    );
}

fn bayes_factors(out: &mut String, bayes: &BayesianSummary) {
    let p = &bayes.posterior;
    let tau = p
        .bayes_factor_tau_zero
        .map_or("n/a (needs a proper prior for tau)".to_string(), |b| {
            format!("{b:.4}")
        });
    let mu = p
        .bayes_factor_mu_zero
        .map_or("n/a (needs a proper prior for mu)".to_string(), |b| {
            format!("{b:.4}")
        });
    let _ = writeln!(
        out,
        "  Bayes factors (p(data | H0) / p(data); below 1 favours the alternative): tau = 0: {tau}; mu = 0: {mu}"
    );
}
