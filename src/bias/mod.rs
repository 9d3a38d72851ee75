//! Small-study effects: Egger's regression test, the rank correlation test,
//! trim-and-fill and fail-safe N, as metafor's `regtest()`, `ranktest()`,
//! `trimfill()` and `fsn()` compute them.
//!
//! Each takes a fitted pooled model (no moderators) and refits with the same
//! method, test and level where it needs a model.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure};
//! use cochran::bias::{BiasOptions, Side};
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
//! let bias = analysis.small_study_effects(&BiasOptions::new())?;
//! assert_eq!(bias.trim_and_fill.side, Side::Right);
//! assert!(bias.egger.p_value > 0.05);
//! # Ok::<(), cochran::Error>(())
//! ```

mod kendall;

use crate::setting::Setting;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use statrs::distribution::ContinuousCDF;

use crate::analysis::Analysis;
use crate::effect::Effect;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Coefficient, Design, Fit, Test};
use crate::stats::standard_normal;

/// Fewer studies than this and the tests have little power (Cochrane
/// Handbook, section 13.3.5.4).
pub const POWER_WARNING_BELOW: usize = 10;

/// Egger's regression test: the effects regressed on their standard errors
/// with the model's method and test (metafor's `regtest(model = "rma",
/// predictor = "sei")`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EggerTest {
    /// z, or t under Knapp–Hartung, of the standard error's coefficient.
    pub statistic: f64,
    /// Degrees of freedom k − 2 of the t distribution under Knapp–Hartung.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
    /// The intercept: the effect expected of a study with standard error 0.
    pub limit_estimate: f64,
    /// Its lower confidence limit.
    pub limit_ci_lower: f64,
    /// Its upper confidence limit.
    pub limit_ci_upper: f64,
}

/// Begg and Mazumdar's rank correlation test (metafor's `ranktest()`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RankTest {
    /// Kendall's τ_b between the standardised effects and their variances.
    pub tau: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Whether the p-value is exact; with ties, or more than 500 studies, it
    /// comes from the normal approximation.
    pub exact: bool,
}

/// Which side of the funnel trim-and-fill takes to be missing studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Side {
    /// Studies missing to the left of the pooled effect.
    Left,
    /// Studies missing to the right.
    Right,
}

impl FromStr for Side {
    type Err = Error;

    /// `left` or `right`, case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(unknown("side", s, &["left", "right"])),
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

/// Duval and Tweedie's estimators of the number of missing studies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub enum K0Estimator {
    /// L0, from the sum of the positive ranks (metafor's default).
    #[default]
    L0,
    /// R0, from the length of the rightmost run of ranks.
    R0,
}

impl std::fmt::Display for K0Estimator {
    /// `L0` or `R0`, as Duval and Tweedie name them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            K0Estimator::L0 => "L0",
            K0Estimator::R0 => "R0",
        })
    }
}

impl FromStr for K0Estimator {
    type Err = Error;

    /// `L0` or `R0`, case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L0" => Ok(K0Estimator::L0),
            "R0" => Ok(K0Estimator::R0),
            _ => Err(unknown("estimator", s, &["L0", "R0"])),
        }
    }
}

fn unknown(what: &'static str, given: &str, valid: &[&str]) -> Error {
    ErrorKind::UnknownName {
        what,
        given: given.to_string(),
        valid: valid.iter().map(|v| v.to_string()).collect(),
    }
    .into()
}

/// A study imputed by trim-and-fill: the mirror image of a study on the other side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FilledStudy {
    /// Its effect size.
    pub yi: f64,
    /// Its sampling variance (that of the study it mirrors).
    pub vi: f64,
}

/// Trim-and-fill (metafor's `trimfill()`): the number of studies missing on
/// one side and the model refitted with their mirror images filled in.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TrimAndFill {
    /// The estimator of k0.
    pub estimator: K0Estimator,
    /// The estimated number of missing studies.
    pub k0: usize,
    /// Its standard error.
    pub se_k0: f64,
    /// The side they are missing on.
    pub side: Side,
    /// The pooled estimate with the filled studies (the original one when k0 = 0).
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Its two-sided p-value.
    pub p_value: Option<f64>,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// τ² of the filled model.
    pub tau2: f64,
    /// The filled studies.
    pub filled: Vec<FilledStudy>,
}

/// Fail-safe N: how many unpublished null studies would undo the result (metafor's `fsn()`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FailSafeN {
    /// Rosenthal's, with Stouffer's combined z and a one-tailed α of .05.
    pub rosenthal: f64,
    /// Orwin's: null studies that bring the unweighted mean effect down to `orwin_target`.
    /// `None` when the target is 0 (no number of null studies reaches it).
    pub orwin: Option<f64>,
    /// The target of Orwin's method: by default half the unweighted mean effect.
    pub orwin_target: f64,
    /// Rosenberg's, from the weighted (common-effect) mean and a two-tailed α of .05.
    pub rosenberg: f64,
}

/// Every test of small-study effects on one model.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SmallStudyEffects {
    /// The number of studies.
    pub k: usize,
    /// Egger's regression test.
    pub egger: EggerTest,
    /// The rank correlation test.
    pub rank_test: RankTest,
    /// Trim-and-fill.
    pub trim_and_fill: TrimAndFill,
    /// Fail-safe N.
    pub fail_safe_n: FailSafeN,
    /// What limits the reading of these tests.
    pub warnings: Vec<String>,
}

/// Choices for the tests of small-study effects; the defaults are metafor's.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BiasOptions {
    estimator: K0Estimator,
    side: Option<Side>,
    orwin_target: Option<f64>,
}

impl BiasOptions {
    /// metafor's defaults: L0, the side from Egger's slope, Orwin's target half the mean.
    pub fn new() -> Self {
        Self::default()
    }

    /// The estimator of the number of missing studies.
    ///
    /// ```
    /// use cochran::bias::{BiasOptions, K0Estimator};
    /// let options = BiasOptions::new().estimator("R0".parse::<K0Estimator>()?);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn estimator(mut self, estimator: K0Estimator) -> Self {
        self.estimator = estimator;
        self
    }

    /// The side on which studies are missing, instead of metafor's choice
    /// (the side opposite to the sign of Egger's slope).
    ///
    /// ```
    /// use cochran::bias::{BiasOptions, Side};
    /// let options = BiasOptions::new().side(Side::Left);
    /// ```
    pub fn side(mut self, side: Side) -> Self {
        self.side = Some(side);
        self
    }

    /// The effect Orwin's fail-safe N is to bring the mean down to.
    ///
    /// ```
    /// use cochran::bias::BiasOptions;
    /// let options = BiasOptions::new().orwin_target(0.1);
    /// ```
    pub fn orwin_target(mut self, target: f64) -> Self {
        self.orwin_target = Some(target);
        self
    }
}

impl Analysis {
    /// Egger's test, the rank test, trim-and-fill and fail-safe N on the overall model.
    pub fn small_study_effects(&self, options: &BiasOptions) -> Result<SmallStudyEffects> {
        small_study_effects(
            self.fit_for(crate::model::Capability::SmallStudyEffects)?,
            options,
        )
    }
}

/// Egger's test, the rank test, trim-and-fill and fail-safe N on a pooled model.
pub fn small_study_effects(fit: &Fit, options: &BiasOptions) -> Result<SmallStudyEffects> {
    fit.check_pooled("the tests of small-study effects", 3)?;
    if let Some(target) = options.orwin_target.filter(|t| !t.is_finite()) {
        return Err(ErrorKind::InvalidSetting(format!(
            "Orwin's target ({}) must be a finite effect, found {target}",
            Setting::FailSafeTarget
        ))
        .into());
    }
    check_testable(fit.effects())?;
    // One regression on the standard errors serves Egger's test and the side of trim-and-fill.
    let regression = on_standard_errors(fit, fit.effects())?;
    let side = options.side.unwrap_or_else(|| side_of(&regression));
    let rank = rank_test(fit)?;
    let mut warnings = Vec::new();
    if fit.k < POWER_WARNING_BELOW {
        warnings.push(format!(
            "k = {}: with fewer than {POWER_WARNING_BELOW} studies these tests have little power \
             to tell small-study effects from chance (Cochrane Handbook 13.3.5.4)",
            fit.k
        ));
    }
    if !rank.exact {
        warnings.push(
            "rank test: ties among the effects or variances (or more than 500 studies); \
             its p-value is the normal approximation"
                .to_string(),
        );
    }
    Ok(SmallStudyEffects {
        k: fit.k,
        egger: egger_from(fit, &regression),
        rank_test: rank,
        trim_and_fill: trim_and_fill(fit, options.estimator, Some(side))?,
        fail_safe_n: fail_safe_n(fit.effects(), options.orwin_target),
        warnings,
    })
}

/// Small-study effects are differences between studies of different sizes:
/// with one variance for all, or one effect for all, there is nothing to test.
fn check_testable(effects: &[Effect]) -> Result<()> {
    let all_equal =
        |value: fn(&Effect) -> f64| effects.iter().all(|e| value(e) == value(&effects[0]));
    if all_equal(|e| e.vi) {
        return Err(ErrorKind::InvalidValue(
            "every study has the same variance, so there are no smaller and larger studies to \
             compare: the tests of small-study effects (Egger's regression on the standard \
             errors, the rank test, trim-and-fill) are undefined"
                .into(),
        )
        .into());
    }
    if all_equal(|e| e.yi) {
        return Err(ErrorKind::InvalidValue(
            "every study has the same effect, so it cannot depend on the study's size: the \
             tests of small-study effects are undefined"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// The model of `fit` with the studies' standard errors as the moderator.
fn on_standard_errors(fit: &Fit, effects: &[Effect]) -> Result<Fit> {
    let se: Vec<f64> = effects.iter().map(|e| e.vi.sqrt()).collect();
    let design = Design::builder(effects.len())
        .numeric("sei", &se)?
        .build()?;
    fit.same_model().moderators(design).fit(effects)
}

/// Egger's regression test on the model's effects.
pub fn egger_test(fit: &Fit) -> Result<EggerTest> {
    fit.check_pooled("Egger's test", 3)?;
    Ok(egger_from(fit, &on_standard_errors(fit, fit.effects())?))
}

/// The intercept and the standard error's slope of the regression on the standard errors.
fn egger_coefficients(regression: &Fit) -> (&Coefficient, &Coefficient) {
    let coefficients = &regression
        .regression
        .as_ref()
        .expect("a model with moderators has coefficients")
        .coefficients;
    (&coefficients[0], &coefficients[1])
}

/// Egger's test from the regression of `fit`'s effects on their standard errors.
fn egger_from(fit: &Fit, regression: &Fit) -> EggerTest {
    let (limit, slope) = egger_coefficients(regression);
    EggerTest {
        statistic: slope.statistic,
        df: (regression.test.uses_t()).then(|| (fit.k - 2) as f64),
        p_value: slope.p_value,
        limit_estimate: limit.estimate,
        limit_ci_lower: limit.ci_lower,
        limit_ci_upper: limit.ci_upper,
    }
}

/// metafor's side for trim-and-fill: opposite to the sign of Egger's slope.
fn side_of(regression: &Fit) -> Side {
    if egger_coefficients(regression).1.estimate < 0.0 {
        Side::Right
    } else {
        Side::Left
    }
}

/// The rank correlation test: Kendall's τ between the effects standardised
/// against the common-effect mean and their variances.
pub fn rank_test(fit: &Fit) -> Result<RankTest> {
    fit.check_pooled("the rank test", 3)?;
    let effects = fit.effects();
    let sum_w: f64 = effects.iter().map(|e| 1.0 / e.vi).sum();
    let mean = effects.iter().map(|e| e.yi / e.vi).sum::<f64>() / sum_w;
    let standardised: Vec<f64> = effects
        .iter()
        .map(|e| (e.yi - mean) / (e.vi - 1.0 / sum_w).sqrt())
        .collect();
    let variances: Vec<f64> = effects.iter().map(|e| e.vi).collect();
    let test = kendall::kendall_test(&standardised, &variances);
    Ok(RankTest {
        tau: test.tau,
        p_value: test.p_value,
        exact: test.exact,
    })
}

/// Trim-and-fill with the model's method; the filled model also keeps its test and level.
pub fn trim_and_fill(fit: &Fit, estimator: K0Estimator, side: Option<Side>) -> Result<TrimAndFill> {
    fit.check_pooled("trim-and-fill", 3)?;
    let effects = fit.effects();
    let side = match side {
        Some(side) => side,
        None => side_of(&on_standard_errors(fit, effects)?),
    };
    // Missing studies on the right are those missing on the left of the mirrored data.
    let sign = if side == Side::Right { -1.0 } else { 1.0 };
    let mut sorted: Vec<Effect> = effects
        .iter()
        .map(|e| Effect {
            yi: sign * e.yi,
            vi: e.vi,
        })
        .collect();
    sorted.sort_by(|a, b| a.yi.total_cmp(&b.yi));
    let (k0, se_k0, centre) = missing_studies(fit, &sorted, estimator)?;
    let k = sorted.len();
    let filled: Vec<FilledStudy> = sorted[k - k0..]
        .iter()
        .map(|e| FilledStudy {
            yi: sign * (2.0 * centre - e.yi),
            vi: e.vi,
        })
        .collect();
    let with_filled = if k0 == 0 {
        fit.clone()
    } else {
        let all: Vec<Effect> = effects
            .iter()
            .copied()
            .chain(filled.iter().map(|f| Effect { yi: f.yi, vi: f.vi }))
            .collect();
        fit.same_model().fit(&all)?
    };
    Ok(TrimAndFill {
        estimator,
        k0,
        se_k0,
        side,
        estimate: with_filled.estimate,
        se: with_filled.se,
        p_value: with_filled.p_value,
        ci_lower: with_filled.ci_lower,
        ci_upper: with_filled.ci_upper,
        tau2: with_filled.tau2,
        filled,
    })
}

/// Trim-and-fill never took more than this many rounds in metafor.
const MAX_TRIM_ROUNDS: usize = 100;

/// Duval and Tweedie's iteration on effects sorted ascending (missing studies
/// on the left): trim the k0 largest, re-estimate the centre, re-estimate k0
/// from the signed ranks of all effects about it, until k0 repeats. Returns
/// k0, its standard error and the last centre.
fn missing_studies(
    fit: &Fit,
    sorted: &[Effect],
    estimator: K0Estimator,
) -> Result<(usize, f64, f64)> {
    let k = sorted.len();
    let model = fit.same_model().test(Test::Z);
    let mut k0 = 0;
    for _ in 0..MAX_TRIM_ROUNDS {
        let centre = model.fit(&sorted[..k - k0])?.estimate;
        let (estimate, se) = k0_from_ranks(sorted, centre, estimator)?;
        // R's round() rounds halves to even.
        let next = estimate.round_ties_even().max(0.0);
        if next >= k as f64 {
            return Err(trim_failure(format!(
                "it estimates {next} of {k} studies missing"
            )));
        }
        let next = next as usize;
        if next == k0 {
            return Ok((k0, se.max(0.0), centre));
        }
        k0 = next;
    }
    Err(trim_failure(format!(
        "k0 did not settle in {MAX_TRIM_ROUNDS} rounds"
    )))
}

fn trim_failure(why: String) -> Error {
    ErrorKind::Numerical(format!("trim-and-fill failed: {why}")).into()
}

/// k0 and its standard error from the signed ranks of |yᵢ − centre| (ties
/// ranked in order).
fn k0_from_ranks(sorted: &[Effect], centre: f64, estimator: K0Estimator) -> Result<(f64, f64)> {
    let k = sorted.len();
    let deviations: Vec<f64> = sorted.iter().map(|e| e.yi - centre).collect();
    let mut by_size: Vec<usize> = (0..k).collect();
    by_size.sort_by(|&a, &b| deviations[a].abs().total_cmp(&deviations[b].abs()));
    let mut rank = vec![0usize; k];
    for (r, &i) in by_size.iter().enumerate() {
        rank[i] = r + 1;
    }
    let k = k as f64;
    match estimator {
        K0Estimator::L0 => {
            let positive_ranks: usize = (0..sorted.len())
                .filter(|&i| deviations[i] > 0.0)
                .map(|i| rank[i])
                .sum();
            let k0 = (4.0 * positive_ranks as f64 - k * (k + 1.0)) / (2.0 * k - 1.0);
            let variance =
                (k * (k + 1.0) * (2.0 * k + 1.0) + 10.0 * k0.powi(3) + 27.0 * k0 * k0 + 17.0 * k0
                    - 18.0 * k * k0 * k0
                    - 18.0 * k * k0
                    + 6.0 * k * k * k0)
                    / 24.0;
            Ok((k0, 4.0 * variance.sqrt() / (2.0 * k - 1.0)))
        }
        K0Estimator::R0 => {
            let largest_negative = (0..sorted.len())
                .filter(|&i| deviations[i] < 0.0)
                .map(|i| rank[i])
                .max()
                .ok_or_else(|| trim_failure("no effect lies below the centre".into()))?;
            let k0 = k - largest_negative as f64 - 1.0;
            Ok((k0, (2.0 * k0.max(0.0) + 2.0).sqrt()))
        }
    }
}

/// Rosenthal's, Orwin's and Rosenberg's fail-safe N, rounded up as metafor rounds them.
pub fn fail_safe_n(effects: &[Effect], orwin_target: Option<f64>) -> FailSafeN {
    let k = effects.len() as f64;
    let normal = standard_normal();
    let z_sum: f64 = effects.iter().map(|e| e.yi / e.vi.sqrt()).sum();
    let z_mean = (z_sum / k.sqrt()).abs();
    let rosenthal = (k * (z_mean / normal.inverse_cdf(0.95)).powi(2) - k).max(0.0);

    let mean = effects.iter().map(|e| e.yi).sum::<f64>() / k;
    let target = orwin_target.unwrap_or(mean / 2.0);
    let orwin = (target != 0.0).then(|| {
        let target = if target.signum() != mean.signum() {
            -target
        } else {
            target
        };
        (k * (mean - target) / target).max(0.0)
    });

    let sum_w: f64 = effects.iter().map(|e| 1.0 / e.vi).sum();
    let sum_wy: f64 = effects.iter().map(|e| e.yi / e.vi).sum();
    let needed = (sum_wy / normal.inverse_cdf(0.975)).powi(2) - sum_w;
    let rosenberg = (k * needed / sum_w).max(0.0);
    FailSafeN {
        rosenthal: whole_studies(rosenthal),
        orwin: orwin.map(whole_studies),
        orwin_target: target,
        rosenberg: whole_studies(rosenberg),
    }
}

/// Up to the next whole study, unless already whole within √ε.
fn whole_studies(n: f64) -> f64 {
    if (n - n.round()).abs() >= f64::EPSILON.sqrt() {
        n.ceil()
    } else {
        n.round()
    }
}
