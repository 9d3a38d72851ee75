//! Estimators of the between-study variance τ², following metafor's `rma.uni`.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::deletion::Hints;
use super::design::Design;
use super::moments::{Moments, generalised_q};
use super::regression::{Projection, Weights};
use super::root::decreasing_root;
use super::standardise::Standardised;
use crate::error::{Error, ErrorKind, Result};

/// Iterative estimators stop when a step changes τ² by no more than this
/// fraction of τ² + the smallest sampling variance. Relative, so that results
/// do not depend on the unit of measurement: an absolute threshold stops too
/// early on data of small magnitude (vᵢ ≈ 1e-14) and never on large ones.
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

/// What the estimator had to do beyond its ordinary iteration, for the report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tau2Diagnostic {
    /// Fisher scoring did not converge in [`MAX_ITERATIONS`] steps (or took a
    /// non-finite step); the estimating equation was solved by bracketing.
    Fallback,
    /// Fisher scoring stopped at a local maximum of the likelihood; the higher
    /// one at τ² = 0 was taken (metafor's `ll0check`).
    ResetToBoundary {
        /// Where Fisher scoring stopped, on the data's scale.
        fisher: f64,
    },
    /// The likelihood has several local maxima and Fisher scoring found a lower one.
    GlobalMaximum {
        /// Where Fisher scoring stopped, on the data's scale.
        fisher: f64,
    },
}

/// An estimate of τ², how many iterations it took, and its standard error, on
/// the data's scale.
#[derive(Debug, Clone)]
pub(crate) struct Tau2Estimate {
    pub tau2: f64,
    pub iterations: usize,
    pub se: f64,
    pub diagnostics: Vec<Tau2Diagnostic>,
    /// The moments at τ², where the standard error needed them.
    pub moments: Option<Moments>,
    /// The moments at τ² = 0 (as [`Moments::for_score`]), where the search
    /// for the likelihood's global maximum computed them.
    pub at_zero: Option<Moments>,
}

/// Estimates τ² for k ≥ 2 standardised studies, truncated at zero; the result
/// is on the standardised scale.
pub(crate) fn estimate(estimator: Tau2, data: &Standardised) -> Result<Tau2Estimate> {
    estimate_with(estimator, data, Hints::default())
}

/// [`estimate`] with what a refit knows.
pub(crate) fn estimate_with(
    estimator: Tau2,
    data: &Standardised,
    hints: Hints,
) -> Result<Tau2Estimate> {
    let mut diagnostics = Vec::new();
    let mut at_zero = None;
    let (tau2, iterations, sj_start) = match estimator {
        Tau2::Dl => (dersimonian_laird(data), 0, 0.0),
        Tau2::He => (hedges(data), 0, 0.0),
        Tau2::Hs => (hunter_schmidt(data), 0, 0.0),
        Tau2::Sj => {
            let start = sidik_jonkman_start(data);
            (sidik_jonkman(data, start), 0, start)
        }
        Tau2::Pm => (paule_mandel(data)?, 0, 0.0),
        Tau2::Ml | Tau2::Reml | Tau2::Eb => {
            let found = iterate(estimator, data, hints, MAX_ITERATIONS, &mut diagnostics)?;
            at_zero = found.at_zero;
            (found.tau2, found.iterations, 0.0)
        }
    };
    let tau2 = tau2.max(0.0);
    if !tau2.is_finite() {
        return Err(ErrorKind::Numerical(format!(
            "the {estimator} estimate of tau^2 is not a finite number"
        ))
        .into());
    }
    let (se, moments) = standard_error(estimator, data, tau2, sj_start);
    Ok(Tau2Estimate {
        tau2,
        iterations,
        se,
        moments,
        diagnostics,
        at_zero,
    })
}

/// k − p: the residual degrees of freedom.
fn residual_df(data: &Standardised) -> f64 {
    (data.effects().len() - data.p()) as f64
}

fn dersimonian_laird(data: &Standardised) -> f64 {
    let m = Moments::at(data, 0.0);
    (m.q - residual_df(data)) / m.trace_p
}

fn hunter_schmidt(data: &Standardised) -> f64 {
    let m = Moments::at(data, 0.0);
    (m.q - m.k) / m.s1
}

/// Σ (yᵢ − ȳ)², about the unweighted mean.
fn squared_deviations(data: &Standardised) -> f64 {
    let effects = data.effects();
    let mean = effects.iter().map(|e| e.yi).sum::<f64>() / effects.len() as f64;
    effects.iter().map(|e| (e.yi - mean).powi(2)).sum()
}

/// Sums for the unweighted (Hedges) estimator: (yᵀPy, tr(PV)) for the
/// unweighted P = I − X(XᵀX)⁻¹Xᵀ.
fn unweighted_sums(data: &Standardised) -> (f64, f64) {
    let effects = data.effects();
    let Some(design) = data.design() else {
        let k = effects.len() as f64;
        let sum_v = effects.iter().map(|e| e.vi).sum::<f64>();
        return (squared_deviations(data), sum_v * (k - 1.0) / k);
    };
    match Projection::new(design, effects, Weights::Unit) {
        Ok(ols) => {
            let (sums, _) = ols.moments();
            (sums.q, sums.trace_pv)
        }
        Err(_) => (f64::NAN, f64::NAN),
    }
}

fn hedges(data: &Standardised) -> f64 {
    let (rss, trace_pv) = unweighted_sums(data);
    (rss - trace_pv) / residual_df(data)
}

/// The SJ starting value: the variance of the estimates with divisor k (of the
/// effects themselves, moderators or not, as metafor starts).
fn sidik_jonkman_start(data: &Standardised) -> f64 {
    squared_deviations(data) / data.effects().len() as f64
}

fn sidik_jonkman(data: &Standardised, start: f64) -> f64 {
    start * generalised_q(data, start) / residual_df(data)
}

/// The τ² at which the generalised Q equals its expectation k − 1.
fn paule_mandel(data: &Standardised) -> Result<f64> {
    let target = residual_df(data);
    if generalised_q(data, 0.0) < target {
        return Ok(0.0);
    }
    decreasing_root(|tau2| generalised_q(data, tau2) - target, 0.0)
}

/// The Fisher-scoring step of ML, REML or EB at the current τ²: the score over
/// its expected information.
fn scoring_step(estimator: Tau2, m: &Moments, data: &Standardised) -> f64 {
    let information = match estimator {
        Tau2::Ml => m.s2,
        Tau2::Reml => m.trace_pp,
        _ => m.s1,
    };
    score_of(estimator, m, data) / information
}

/// The estimating equation's left side, with the sign of the score: positive
/// where the (restricted) likelihood increases.
fn score(estimator: Tau2, data: &Standardised, tau2: f64) -> f64 {
    score_of(estimator, &Moments::for_score(data, tau2), data)
}

/// The score from moments already computed.
fn score_of(estimator: Tau2, m: &Moments, data: &Standardised) -> f64 {
    match estimator {
        Tau2::Ml => m.q2 - m.s1,
        Tau2::Reml => m.q2 - m.trace_p,
        _ => m.q * m.k / residual_df(data) - m.k,
    }
}

/// Whether a step is small enough to stop: relative to τ², with a floor at the
/// smallest sampling variance (below which τ² changes no weight).
fn converged(step: f64, tau2: f64, data: &Standardised) -> bool {
    step.abs() <= CONVERGENCE_THRESHOLD * (tau2 + data.v_min())
}

/// Fisher scoring as metafor does it (start at the truncated Hedges estimate,
/// halve any step that would leave [0, ∞)), on standardised data. A non-finite
/// step or the iteration limit hands over to bracketing. For ML and REML the
/// result is then checked against every local maximum of the likelihood.
fn iterate(
    estimator: Tau2,
    data: &Standardised,
    hints: Hints,
    max_iterations: usize,
    diagnostics: &mut Vec<Tau2Diagnostic>,
) -> Result<Found> {
    let found = match hints.start {
        Some(tau2) => {
            // A score has the units of a weight: it scales as 1 / variance.
            let known = hints
                .known_score
                .map(|(t, score)| (data.standard_variance(t), score * data.variance(1.0)));
            warm_scoring(
                estimator,
                data,
                max_iterations,
                data.standard_variance(tau2),
                known,
            )
        }
        None => fisher_scoring(estimator, data, max_iterations, hedges(data).max(0.0)),
    };
    let (tau2, iterations) = match found {
        Some(found) => found,
        None => {
            diagnostics.push(Tau2Diagnostic::Fallback);
            (solve_score(estimator, data)?, max_iterations)
        }
    };
    let known = hints
        .only_maximum
        .is_some_and(|only| only(data.variance(tau2)));
    if !matches!(estimator, Tau2::Ml | Tau2::Reml) || known {
        return Ok(Found {
            tau2,
            iterations,
            at_zero: None,
        });
    }
    let (best, at_zero) = global_maximum(estimator, data, tau2)?;
    if best != tau2 {
        let fisher = data.variance(tau2);
        diagnostics.push(if best == 0.0 {
            Tau2Diagnostic::ResetToBoundary { fisher }
        } else {
            Tau2Diagnostic::GlobalMaximum { fisher }
        });
    }
    Ok(Found {
        tau2: best,
        iterations,
        at_zero: Some(at_zero),
    })
}

/// What an iterative estimator found.
struct Found {
    tau2: f64,
    iterations: usize,
    /// The moments at τ² = 0, where they were computed.
    at_zero: Option<Moments>,
}

fn fisher_scoring(
    estimator: Tau2,
    data: &Standardised,
    max_iterations: usize,
    start: f64,
) -> Option<(f64, usize)> {
    let mut tau2 = start;
    let mut previous_step = f64::INFINITY;
    for iteration in 1..=max_iterations {
        let moments = Moments::at(data, tau2);
        let mut step = scoring_step(estimator, &moments, data);
        if !step.is_finite() {
            return None;
        }
        let slow = step.abs() > SLOW_CONVERGENCE * previous_step.abs();
        previous_step = step;
        if iteration >= ACCELERATE_AFTER
            && slow
            && !converged(step, tau2, data)
            && let Some(root) = bracketed_step(estimator, data, tau2, step, &moments)
        {
            return Some((root, iteration));
        }
        if tau2 + step < 0.0 {
            step = if tau2 == 0.0 {
                0.0
            } else {
                halve_into_range(tau2, step)
            };
        }
        tau2 += step;
        if converged(step, tau2, data) {
            // Step halving approaches the boundary geometrically and stops a hair
            // above it; where the score is not positive at 0, 0 is the answer.
            let at_boundary =
                tau2 <= SQRT_EPSILON * data.v_min() && score(estimator, data, 0.0) <= 0.0;
            return Some((if at_boundary { 0.0 } else { tau2 }, iteration));
        }
    }
    None
}

/// From a start near the root (a refit's, at the τ² of the fit it varies):
/// one Fisher step (or a known point of the score), then secant steps on the score, which converge
/// superlinearly where Fisher scoring's converge linearly. The same stopping
/// rule ends it; a step that would leave (0, ∞) or fails to shrink hands over
/// to Fisher scoring from where it stands.
fn warm_scoring(
    estimator: Tau2,
    data: &Standardised,
    max_iterations: usize,
    start: f64,
    known: Option<(f64, f64)>,
) -> Option<(f64, usize)> {
    if start.is_nan() || start <= 0.0 {
        return fisher_scoring(estimator, data, max_iterations, 0.0);
    }
    let (mut previous, mut tau2) = match known {
        Some(point) if point.0 != start && point.1.is_finite() => (point, start),
        _ => {
            let moments = Moments::at(data, start);
            let here = (start, score_of(estimator, &moments, data));
            (here, start + scoring_step(estimator, &moments, data))
        }
    };
    let mut last_step = f64::INFINITY;
    for iteration in 1..=MAX_SECANT_STEPS {
        let step = tau2 - previous.0;
        if !(tau2 > 0.0 && step.is_finite() && step.abs() < last_step) {
            break;
        }
        if converged(step, tau2, data) {
            return Some((tau2, iteration));
        }
        let here = (tau2, score(estimator, data, tau2));
        let next = here.0 - here.1 * (here.0 - previous.0) / (here.1 - previous.1);
        (previous, tau2, last_step) = (here, next, step.abs());
    }
    fisher_scoring(estimator, data, max_iterations, previous.0)
}

/// Secant steps before a warm start gives up and hands over to Fisher scoring.
const MAX_SECANT_STEPS: usize = 8;

/// Fisher scoring converges linearly, at times slowly (tens of steps on large
/// data); from this step on, a step longer than [`SLOW_CONVERGENCE`] times the
/// one before is checked for a sign change of the score within twice its
/// length, and a bracketed root is finished by Brent's method.
const ACCELERATE_AFTER: usize = 3;
/// Steps shrinking by less than this factor mark slow convergence.
const SLOW_CONVERGENCE: f64 = 0.25;

/// The root of the score between τ² and τ² + 2·step, when the score changes
/// sign there (the root Fisher scoring is converging to).
fn bracketed_step(
    estimator: Tau2,
    data: &Standardised,
    tau2: f64,
    step: f64,
    moments: &Moments,
) -> Option<f64> {
    let here = (tau2, score_of(estimator, moments, data));
    let probe = (tau2 + 2.0 * step).max(0.0);
    let there = (probe, score(estimator, data, probe));
    let brackets = if step > 0.0 {
        there.1 <= 0.0
    } else {
        there.1 > 0.0
    };
    if !brackets || !here.1.is_finite() || !there.1.is_finite() {
        return None;
    }
    let (lower, upper) = if step > 0.0 {
        (here, there)
    } else {
        (there, here)
    };
    super::root::brent(&|t| score(estimator, data, t), lower, upper).ok()
}

fn halve_into_range(tau2: f64, mut step: f64) -> f64 {
    while tau2 + step < 0.0 {
        step /= 2.0;
    }
    step
}

/// The root of the estimating equation, or 0 when the score is not positive there.
fn solve_score(estimator: Tau2, data: &Standardised) -> Result<f64> {
    if score(estimator, data, 0.0) <= 0.0 {
        return Ok(0.0);
    }
    decreasing_root(|tau2| score(estimator, data, tau2), 0.0)
}

/// Every local maximum of the (restricted) likelihood on [0, ∞): τ² = 0 where
/// the score is not positive there, and each sign change of the score from + to
/// − on a geometric grid from a quarter of the smallest sampling variance to
/// beyond the largest squared residual, refined by bracketing. Of these and
/// Fisher scoring's answer the one with the highest likelihood wins; Fisher
/// scoring's wins ties, so results agree with metafor wherever it finds the
/// global maximum. The moments at τ² = 0 are returned beside it (Q and I²
/// need them).
fn global_maximum(estimator: Tau2, data: &Standardised, fisher: f64) -> Result<(f64, Moments)> {
    let score = |tau2: f64| score(estimator, data, tau2);
    let mut brackets = Vec::new();
    let at_zero = Moments::for_score(data, 0.0);
    let mut previous = (0.0, score_of(estimator, &at_zero, data));
    let boundary = previous.1 <= 0.0;
    let mut tau2 = 0.25 * data.v_min();
    let top = grid_top(data);
    for _ in 0..MAX_GRID_POINTS {
        let current = (tau2, score(tau2));
        if previous.1 > 0.0 && current.1 <= 0.0 {
            brackets.push((previous, current));
        }
        // Beyond the top, keep going only while the score is still positive.
        if tau2 > top && current.1 <= 0.0 {
            break;
        }
        previous = current;
        tau2 *= GRID_RATIO;
    }
    // One local maximum, and Fisher scoring found it: nothing to compare.
    match (boundary, brackets.as_slice()) {
        (true, []) if fisher == 0.0 => return Ok((fisher, at_zero)),
        (false, [((a, _), (b, _))]) if *a < fisher && fisher <= *b => {
            return Ok((fisher, at_zero));
        }
        _ => {}
    }
    let mut candidates = Vec::with_capacity(brackets.len() + 1);
    if boundary {
        candidates.push(0.0);
    }
    for (lower, upper) in brackets {
        candidates.push(bracketed_root(&score, lower, upper)?);
    }
    let restricted = estimator == Tau2::Reml;
    let mut best = (fisher, log_likelihood(data, fisher, restricted));
    for candidate in candidates {
        let ll = log_likelihood(data, candidate, restricted);
        if ll > best.1 + LOG_LIKELIHOOD_TOLERANCE {
            best = (candidate, ll);
        }
    }
    Ok((best.0, at_zero))
}

/// Neighbouring points of the grid on which local maxima are sought differ by
/// this factor: a likelihood peak narrower than that in τ² would need studies
/// whose variances differ by less, and is found by Fisher scoring's own root.
pub(super) const GRID_RATIO: f64 = 4.0;
/// At most this many grid points (4^1100 spans any data the model accepts).
pub(super) const MAX_GRID_POINTS: usize = 1100;
const SQRT_EPSILON: f64 = 1.490_116_119_384_765_6e-8;

/// A τ² beyond which the score stays negative: the largest squared distance
/// between effects plus the largest variance. (For the intercept-only model a
/// residual about the weighted mean is |rᵢ| ≤ (1 − πᵢ)·range, so wᵢ²rᵢ² ≤
/// wᵢ(1 − πᵢ)·wᵢ·range² and, once wᵢ·range² < 1, the REML score Σwᵢ²rᵢ² − tr P
/// and the ML score Σwᵢ²rᵢ² − Σwᵢ are negative. With moderators a fitted line
/// can leave the range of the effects, and the bound is a heuristic.)
pub(super) fn grid_top(data: &Standardised) -> f64 {
    let (lo, hi, v) = data.effects().iter().fold(
        (f64::INFINITY, f64::NEG_INFINITY, 0.0f64),
        |(lo, hi, v), e| (lo.min(e.yi), hi.max(e.yi), v.max(e.vi)),
    );
    (hi - lo).powi(2) + v
}

/// The root of a decreasing function between two grid points.
fn bracketed_root(
    f: &impl Fn(f64) -> f64,
    (a, fa): (f64, f64),
    (b, fb): (f64, f64),
) -> Result<f64> {
    if fb == 0.0 {
        return Ok(b);
    }
    super::root::brent(f, (a, fa), (b, fb))
}

/// The (restricted) log-likelihood of the random-effects model at τ², up to a
/// constant that depends only on the scale.
pub(crate) fn log_likelihood(data: &Standardised, tau2: f64, restricted: bool) -> f64 {
    let m = Moments::at(data, tau2);
    let log_det: f64 = data.effects().iter().map(|e| (e.vi + tau2).ln()).sum();
    let n = if restricted { residual_df(data) } else { m.k };
    let mut ll = -0.5 * n * (2.0 * std::f64::consts::PI).ln() - 0.5 * log_det - 0.5 * m.q;
    if restricted {
        ll -= 0.5 * log_det_xtwx(data, tau2, m.s1);
    }
    ll
}

/// ln det(XᵀWX): ln Σw for the intercept-only model.
fn log_det_xtwx(data: &Standardised, tau2: f64, s1: f64) -> f64 {
    let Some(design) = data.design() else {
        return s1.ln();
    };
    Projection::new(design, data.effects(), Weights::Inverse(tau2))
        .map_or(f64::NAN, |p| p.log_determinant())
}

/// Standard error of τ², with the formula metafor uses for each estimator, on
/// the standardised scale.
/// The standard error of τ², with the moments at τ² when it needed them.
fn standard_error(
    estimator: Tau2,
    data: &Standardised,
    tau2: f64,
    sj_start: f64,
) -> (f64, Option<Moments>) {
    let k = data.effects().len() as f64;
    let df = residual_df(data);
    let at = || Moments::at(data, tau2);
    let se = match estimator {
        Tau2::Ml | Tau2::Reml | Tau2::Eb | Tau2::Pm => {
            let m = at();
            let se = match estimator {
                Tau2::Ml => (2.0 / m.s2).sqrt(),
                Tau2::Reml => (2.0 / m.trace_pp).sqrt(),
                _ => (2.0 * k * k / df / (m.s1 * m.s1)).sqrt(),
            };
            return (se, Some(m));
        }
        Tau2::Dl | Tau2::Hs => {
            let m = Moments::at(data, 0.0);
            let spread = 2.0 * df + 4.0 * tau2 * m.trace_p + 2.0 * tau2 * tau2 * m.trace_pp;
            let scale = if estimator == Tau2::Dl {
                m.trace_p
            } else {
                m.s1
            };
            (spread / (scale * scale)).sqrt()
        }
        Tau2::He => {
            let t = Traces::with_weights(data, Weights::Unit);
            let spread = 2.0 * t.pvpv + 4.0 * tau2 * t.pv + 2.0 * tau2 * tau2 * df;
            (spread / (df * df)).sqrt()
        }
        Tau2::Sj => {
            let t = Traces::with_weights(data, Weights::Inverse(sj_start));
            let spread = 2.0 * t.pvpv + 4.0 * tau2 * t.ppv + 2.0 * tau2 * tau2 * t.pp;
            (sj_start * sj_start / (df * df) * spread).sqrt()
        }
    };
    (se, None)
}

/// The traces of P (for weights a(vᵢ)) and V = diag(v) that the HE and SJ
/// standard errors need: tr(PV), tr(PVPV), Σ Pᵢⱼ² vⱼ and tr(PP).
struct Traces {
    pv: f64,
    pvpv: f64,
    ppv: f64,
    pp: f64,
}

impl Traces {
    fn with_weights(data: &Standardised, weights: Weights) -> Self {
        let effects = data.effects();
        let intercept_only;
        let design = match data.design() {
            Some(design) => design,
            None => {
                intercept_only = Design::builder(effects.len())
                    .build()
                    .expect("k >= 2 studies and an intercept");
                &intercept_only
            }
        };
        let v = |i: usize| effects[i].vi;
        match Projection::new(design, effects, weights) {
            Ok(p) => Traces {
                pv: p.sums().trace_pv,
                pvpv: p.weighted_trace(v, v),
                ppv: p.weighted_trace(|_| 1.0, v),
                pp: p.trace_pp(),
            },
            Err(_) => Traces {
                pv: f64::NAN,
                pvpv: f64::NAN,
                ppv: f64::NAN,
                pp: f64::NAN,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::effect::Effect;

    /// Log risk ratios of the 13 BCG trials, computed from the shipped dataset.
    fn effects() -> Standardised {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/bcg.csv");
        let spec = crate::EffectSet::table_spec(crate::Measure::Rr);
        let table = crate::data::Table::read(path, &spec).unwrap();
        let effects = crate::EffectSet::from_table(&table, crate::Measure::Rr, &Default::default())
            .unwrap()
            .effects();
        Standardised::new(&effects).unwrap()
    }

    #[test]
    fn the_bracketing_fallback_solves_the_same_equation_as_fisher_scoring() {
        let effects = effects();
        for estimator in [Tau2::Ml, Tau2::Reml, Tau2::Eb] {
            let (scored, _) = fisher_scoring(
                estimator,
                &effects,
                MAX_ITERATIONS,
                hedges(&effects).max(0.0),
            )
            .unwrap();
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
    fn reaching_the_iteration_limit_falls_back_to_bracketing_and_says_so() {
        let effects = effects();
        for estimator in [Tau2::Ml, Tau2::Reml, Tau2::Eb] {
            let mut diagnostics = Vec::new();
            let limited = iterate(estimator, &effects, Hints::default(), 2, &mut diagnostics)
                .unwrap()
                .tau2;
            assert_eq!(diagnostics, [Tau2Diagnostic::Fallback], "{estimator}");
            let full = estimate(estimator, &effects).unwrap();
            assert!(full.diagnostics.is_empty(), "{estimator}");
            assert!(
                (limited - full.tau2).abs() <= 1e-9 * full.tau2,
                "{estimator}"
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
        let effects = Standardised::new(&effects).unwrap();
        for estimator in Tau2::ALL {
            assert_eq!(
                estimate(estimator, &effects).unwrap().tau2,
                0.0,
                "{estimator}"
            );
        }
    }
}
