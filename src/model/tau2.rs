//! Estimators of the between-study variance τ², following metafor's `rma.uni`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::moments::{Moments, generalised_q};
use super::root::decreasing_root;
use crate::effect::Effect;
use crate::error::{Error, ErrorKind, Result};

/// Iterative estimators stop when τ² changes by no more than this (or by a few
/// units in the last place of a large τ², where 1e-12 is below resolution). It
/// is the threshold of the metafor reference runs: the same start, the same
/// steps and the same stopping rule give the same τ², even on the boundary
/// approached by step halving, and on the scale of risk differences (vᵢ ≈ 1e-4)
/// a looser 1e-10 would already show in the sixth digit.
pub const CONVERGENCE_THRESHOLD: f64 = 1e-12;
/// Fisher scoring gives up after this many steps and falls back to root finding.
pub const MAX_ITERATIONS: usize = 1000;
/// How much higher the log-likelihood at τ² = 0 must be before an interior
/// maximum is treated as a local one (metafor's `ll0check`).
const LOG_LIKELIHOOD_TOLERANCE: f64 = 1e-10;

/// An estimator of the between-study variance τ².
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Tau2 {
    /// DerSimonian–Laird (method of moments with inverse-variance weights).
    #[serde(rename = "DL")]
    Dl,
    /// Hedges (method of moments, unweighted).
    #[serde(rename = "HE")]
    He,
    /// Hunter–Schmidt.
    #[serde(rename = "HS")]
    Hs,
    /// Sidik–Jonkman (one step from the unweighted variance).
    #[serde(rename = "SJ")]
    Sj,
    /// Maximum likelihood.
    #[serde(rename = "ML")]
    Ml,
    /// Restricted maximum likelihood, the default.
    #[serde(rename = "REML")]
    Reml,
    /// Empirical Bayes (Morris).
    #[serde(rename = "EB")]
    Eb,
    /// Paule–Mandel.
    #[serde(rename = "PM")]
    Pm,
}

impl Tau2 {
    /// Every estimator, in the order metafor documents them.
    pub const ALL: [Tau2; 8] = [
        Tau2::Dl,
        Tau2::He,
        Tau2::Hs,
        Tau2::Sj,
        Tau2::Ml,
        Tau2::Reml,
        Tau2::Eb,
        Tau2::Pm,
    ];

    /// The short name metafor uses (`"REML"`, `"DL"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Tau2::Dl => "DL",
            Tau2::He => "HE",
            Tau2::Hs => "HS",
            Tau2::Sj => "SJ",
            Tau2::Ml => "ML",
            Tau2::Reml => "REML",
            Tau2::Eb => "EB",
            Tau2::Pm => "PM",
        }
    }
}

impl fmt::Display for Tau2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Tau2 {
    type Err = Error;

    /// Parses a name case-insensitively.
    ///
    /// ```
    /// use cochran::Tau2;
    /// assert_eq!("reml".parse::<Tau2>()?, Tau2::Reml);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        Tau2::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ErrorKind::UnknownName {
                    what: "tau^2 estimator",
                    given: s.to_string(),
                    valid: Tau2::ALL.iter().map(|t| t.name().to_string()).collect(),
                }
                .into()
            })
    }
}

/// An estimate of τ², how many iterations it took, and its standard error.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tau2Estimate {
    pub tau2: f64,
    pub iterations: usize,
    pub se: f64,
}

/// Estimates τ² for k ≥ 2 studies, truncated at zero.
pub(crate) fn estimate(estimator: Tau2, effects: &[Effect]) -> Result<Tau2Estimate> {
    let (tau2, iterations, sj_start) = match estimator {
        Tau2::Dl => (dersimonian_laird(effects), 0, 0.0),
        Tau2::He => (hedges(effects), 0, 0.0),
        Tau2::Hs => (hunter_schmidt(effects), 0, 0.0),
        Tau2::Sj => {
            let start = sidik_jonkman_start(effects);
            (sidik_jonkman(effects, start), 0, start)
        }
        Tau2::Pm => (paule_mandel(effects)?, 0, 0.0),
        Tau2::Ml | Tau2::Reml | Tau2::Eb => {
            let (tau2, iterations) = fisher_scoring(estimator, effects)?;
            (tau2, iterations, 0.0)
        }
    };
    let tau2 = tau2.max(0.0);
    Ok(Tau2Estimate {
        tau2,
        iterations,
        se: standard_error(estimator, effects, tau2, sj_start),
    })
}

fn dersimonian_laird(effects: &[Effect]) -> f64 {
    let m = Moments::at(effects, 0.0);
    (m.q - (m.k - 1.0)) / m.trace_p()
}

fn hunter_schmidt(effects: &[Effect]) -> f64 {
    let m = Moments::at(effects, 0.0);
    (m.q - m.k) / m.s1
}

/// Sums for the unweighted (Hedges) estimator: (Σ(y − ȳ)², tr(PV)).
fn unweighted_sums(effects: &[Effect]) -> (f64, f64) {
    let k = effects.len() as f64;
    let mean = effects.iter().map(|e| e.yi).sum::<f64>() / k;
    let rss = effects.iter().map(|e| (e.yi - mean).powi(2)).sum::<f64>();
    let sum_v = effects.iter().map(|e| e.vi).sum::<f64>();
    (rss, sum_v * (k - 1.0) / k)
}

fn hedges(effects: &[Effect]) -> f64 {
    let (rss, trace_pv) = unweighted_sums(effects);
    (rss - trace_pv) / (effects.len() as f64 - 1.0)
}

/// The SJ starting value: the variance of the estimates with divisor k.
fn sidik_jonkman_start(effects: &[Effect]) -> f64 {
    unweighted_sums(effects).0 / effects.len() as f64
}

fn sidik_jonkman(effects: &[Effect], start: f64) -> f64 {
    start * generalised_q(effects, start) / (effects.len() as f64 - 1.0)
}

/// The τ² at which the generalised Q equals its expectation k − 1.
fn paule_mandel(effects: &[Effect]) -> Result<f64> {
    let target = effects.len() as f64 - 1.0;
    if generalised_q(effects, 0.0) < target {
        return Ok(0.0);
    }
    decreasing_root(|tau2| generalised_q(effects, tau2) - target, 0.0)
}

/// The Fisher-scoring step of ML, REML or EB at the current τ².
fn scoring_step(estimator: Tau2, m: &Moments) -> f64 {
    match estimator {
        Tau2::Ml => (m.q2 - m.s1) / m.s2,
        Tau2::Reml => (m.q2 - m.trace_p()) / m.trace_pp(),
        _ => (m.q * m.k / (m.k - 1.0) - m.k) / m.s1,
    }
}

/// Fisher scoring from the (truncated) Hedges estimate, halving any step that
/// would leave [0, ∞). Should it not converge, the score equation is solved by
/// bracketing instead, so the user gets an estimate rather than an error.
fn fisher_scoring(estimator: Tau2, effects: &[Effect]) -> Result<(f64, usize)> {
    let mut tau2 = hedges(effects).max(0.0);
    for iteration in 1..=MAX_ITERATIONS {
        let mut step = scoring_step(estimator, &Moments::at(effects, tau2));
        if !step.is_finite() {
            step = 0.0;
        }
        if tau2 + step < 0.0 {
            step = if tau2 == 0.0 {
                0.0
            } else {
                halve_into_range(tau2, step)
            };
        }
        tau2 += step;
        if step.abs() <= CONVERGENCE_THRESHOLD.max(8.0 * f64::EPSILON * tau2) {
            return Ok((check_boundary(estimator, effects, tau2), iteration));
        }
    }
    let tau2 = solve_score(estimator, effects)?;
    Ok((check_boundary(estimator, effects, tau2), MAX_ITERATIONS))
}

fn halve_into_range(tau2: f64, mut step: f64) -> f64 {
    while tau2 + step < 0.0 {
        step /= 2.0;
    }
    step
}

/// The root of the estimating equation (zero score), or 0 when the score is
/// already negative there.
fn solve_score(estimator: Tau2, effects: &[Effect]) -> Result<f64> {
    let score = |tau2: f64| {
        let m = Moments::at(effects, tau2);
        scoring_step(estimator, &m)
    };
    if score(0.0) <= 0.0 {
        return Ok(0.0);
    }
    decreasing_root(score, 0.0)
}

/// metafor's `ll0check`: an interior (RE)ML solution whose log-likelihood is
/// below the one at τ² = 0 is a local maximum, and the boundary wins.
fn check_boundary(estimator: Tau2, effects: &[Effect], tau2: f64) -> f64 {
    if !matches!(estimator, Tau2::Ml | Tau2::Reml) || tau2 <= CONVERGENCE_THRESHOLD {
        return tau2;
    }
    let restricted = estimator == Tau2::Reml;
    let at_zero = log_likelihood(effects, 0.0, restricted);
    if at_zero - log_likelihood(effects, tau2, restricted) > LOG_LIKELIHOOD_TOLERANCE {
        0.0
    } else {
        tau2
    }
}

/// The (restricted) log-likelihood of the random-effects model at τ².
pub(crate) fn log_likelihood(effects: &[Effect], tau2: f64, restricted: bool) -> f64 {
    let m = Moments::at(effects, tau2);
    let log_det: f64 = effects.iter().map(|e| (e.vi + tau2).ln()).sum();
    let n = if restricted { m.k - 1.0 } else { m.k };
    let mut ll = -0.5 * n * (2.0 * std::f64::consts::PI).ln() - 0.5 * log_det - 0.5 * m.q;
    if restricted {
        ll -= 0.5 * m.s1.ln();
    }
    ll
}

/// Standard error of τ², with the formula metafor uses for each estimator.
fn standard_error(estimator: Tau2, effects: &[Effect], tau2: f64, sj_start: f64) -> f64 {
    let k = effects.len() as f64;
    match estimator {
        Tau2::Ml => (2.0 / Moments::at(effects, tau2).s2).sqrt(),
        Tau2::Reml => (2.0 / Moments::at(effects, tau2).trace_pp()).sqrt(),
        Tau2::Eb | Tau2::Pm => {
            let s1 = Moments::at(effects, tau2).s1;
            (2.0 * k * k / (k - 1.0) / (s1 * s1)).sqrt()
        }
        Tau2::Dl | Tau2::Hs => {
            let m = Moments::at(effects, 0.0);
            let (tr_p, tr_pp) = (m.trace_p(), m.trace_pp());
            let spread = 2.0 * (k - 1.0) + 4.0 * tau2 * tr_p + 2.0 * tau2 * tau2 * tr_pp;
            let scale = if estimator == Tau2::Dl { tr_p } else { m.s1 };
            (spread / (scale * scale)).sqrt()
        }
        Tau2::He => {
            let sum_v: f64 = effects.iter().map(|e| e.vi).sum();
            let sum_v2: f64 = effects.iter().map(|e| e.vi * e.vi).sum();
            let tr_pv = sum_v * (k - 1.0) / k;
            let tr_pvpv = sum_v2 - 2.0 * sum_v2 / k + sum_v * sum_v / (k * k);
            let spread = 2.0 * tr_pvpv + 4.0 * tau2 * tr_pv + 2.0 * tau2 * tau2 * (k - 1.0);
            (spread / ((k - 1.0) * (k - 1.0))).sqrt()
        }
        Tau2::Sj => {
            let t = weighted_traces(effects, sj_start);
            let spread = 2.0 * t.pvpv + 4.0 * tau2 * t.vpp + 2.0 * tau2 * tau2 * t.pp;
            (sj_start * sj_start / ((k - 1.0) * (k - 1.0)) * spread).sqrt()
        }
    }
}

/// tr(PVPV), tr(VPP) and tr(PP) for P built from weights 1/(v + τ²₀).
struct WeightedTraces {
    pvpv: f64,
    vpp: f64,
    pp: f64,
}

fn weighted_traces(effects: &[Effect], tau2: f64) -> WeightedTraces {
    let m = Moments::at(effects, tau2);
    let s = m.s1;
    let (mut a2v2, mut a3v2, mut a2v, mut a3v) = (0.0, 0.0, 0.0, 0.0);
    for e in effects {
        let a = 1.0 / (e.vi + tau2);
        a2v2 += a * a * e.vi * e.vi;
        a3v2 += a * a * a * e.vi * e.vi;
        a2v += a * a * e.vi;
        a3v += a * a * a * e.vi;
    }
    WeightedTraces {
        pvpv: a2v2 - 2.0 * a3v2 / s + (a2v / s).powi(2),
        vpp: a2v - 2.0 * a3v / s + a2v * m.s2 / (s * s),
        pp: m.trace_pp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log risk ratios of the 13 BCG trials, computed from the shipped dataset.
    fn effects() -> Vec<Effect> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/bcg.csv");
        let spec = crate::EffectSet::table_spec(crate::Measure::Rr);
        let table = crate::data::Table::read(path, &spec).unwrap();
        crate::EffectSet::from_table(&table, crate::Measure::Rr, &Default::default())
            .unwrap()
            .effects()
    }

    #[test]
    fn the_bracketing_fallback_solves_the_same_equation_as_fisher_scoring() {
        let effects = effects();
        for estimator in [Tau2::Ml, Tau2::Reml, Tau2::Eb] {
            let (scored, _) = fisher_scoring(estimator, &effects).unwrap();
            let bracketed = solve_score(estimator, &effects).unwrap();
            assert!(
                scored > 0.0,
                "{estimator}: an interior solution is expected"
            );
            assert!(
                (scored - bracketed).abs() <= 1e-9 * scored,
                "{estimator}: {scored} vs {bracketed}"
            );
        }
    }

    #[test]
    fn eb_and_pm_solve_the_same_equation() {
        let effects = effects();
        let eb = estimate(Tau2::Eb, &effects).unwrap().tau2;
        let pm = estimate(Tau2::Pm, &effects).unwrap().tau2;
        assert!((eb - pm).abs() <= 1e-9 * pm, "{eb} vs {pm}");
    }

    #[test]
    fn identical_effects_give_zero_for_every_estimator() {
        let effects: Vec<Effect> = [0.01, 0.02, 0.05]
            .iter()
            .map(|&v| Effect::new(0.3, v).unwrap())
            .collect();
        for estimator in Tau2::ALL {
            assert_eq!(
                estimate(estimator, &effects).unwrap().tau2,
                0.0,
                "{estimator}"
            );
        }
    }
}
