//! Dependent effects: the three-level model of effects nested in clusters, and
//! cluster-robust inference.
//!
//! Several effects of one study (instruments, follow-ups, arms) share its
//! patients. The three-level model (metafor's
//! `rma.mv(yi, vi, random = ~ 1 | cluster/effect)`) gives each cluster a random
//! effect with variance σ²_cluster and each effect within it another with
//! σ²_within:
//!
//! ```
//! use cochran::{Clusters, Effect, ThreeLevel};
//!
//! let effects = [
//!     Effect::new(0.30, 0.02)?, Effect::new(0.42, 0.03)?, // study A
//!     Effect::new(0.05, 0.02)?, Effect::new(0.11, 0.04)?, // study B
//!     Effect::new(0.60, 0.05)?,                           // study C
//!     Effect::new(0.21, 0.03)?, Effect::new(0.35, 0.02)?, // study D
//! ];
//! let clusters = Clusters::new(&["A", "A", "B", "B", "C", "D", "D"])?;
//! let fit = ThreeLevel::reml().fit(&effects, &clusters)?;
//! assert_eq!((fit.k, fit.clusters), (7, 4));
//! assert!(fit.sigma2_cluster >= 0.0 && fit.sigma2_within >= 0.0);
//! let robust = fit.robust()?; // CR2, Satterthwaite degrees of freedom
//! assert!(robust[0].df > 0.0);
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! Every cluster is a small block of the marginal covariance; the likelihood,
//! its score and information are sums over clusters (O(k p²) per iteration),
//! never a k × k matrix.

mod clusters;
mod likelihood;
mod robust;

use std::sync::Arc;

use serde::Serialize;

pub use clusters::Clusters;
pub use robust::{RobustCoefficient, Rve, RveFit};

use super::coefficients::{Reference, Regression, coefficient_table};
use super::design::Design;
use super::linalg::Cholesky;
use super::standardise::Standardised;
use super::{Tau2, Test, check_level, chi_squared, standard_normal};
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};
use crate::stats::t_quantile;
use likelihood::{Blocks, Evaluation, Likelihood, dot};
use statrs::distribution::ContinuousCDF;

/// Fisher scoring stops when no variance component moves by more than this,
/// relative to the larger of the components and the typical sampling variance
/// (or when a step can gain no more likelihood than rounding).
const STEP_TOLERANCE: f64 = 1e-12;
/// The smallest starting value of a variance component (standardised data:
/// the typical sampling variance is near 1).
const START_FLOOR: f64 = 0.01;

/// The maximum of the likelihood and how it was reached.
struct Maximum {
    sigma2: [f64; 2],
    evaluation: Evaluation,
    iterations: usize,
    /// Whether a higher maximum than the moment start's was found.
    several: bool,
}

/// Up to this many effects, a grid of the likelihood over both components
/// (625 evaluations) seeds further local searches: small reviews are where
/// the likelihood is flat enough to have several maxima, and where the grid
/// costs little (about a millisecond for 50 effects).
const GRID_LIMIT: usize = 1_000;
/// Points per component of that grid (log-spaced, plus 0).
const GRID_POINTS: usize = 24;

/// The highest of the local maxima from the moment start (both components
/// free), along each boundary (one component held at 0), at (0, 0) and, for
/// up to [`GRID_LIMIT`] effects, from the best points of a grid: the
/// likelihood of two variance components can have several local maxima,
/// inside and on the boundaries. `several` says whether the one reported is
/// not the moment start's.
fn maximise_globally(blocks: &Blocks, likelihood: Likelihood, total: f64) -> Result<Maximum> {
    let half = total / 2.0;
    let first = maximise(blocks, likelihood, [half, half], [true, true])?;
    // Each boundary search starts from the interior maximum's total variance.
    let found = first.sigma2[0] + first.sigma2[1];
    let along = if found > 0.0 { found } else { total };
    let mut starts: Vec<([f64; 2], [bool; 2])> = vec![
        ([along, 0.0], [true, false]),
        ([0.0, along], [false, true]),
        ([0.0, 0.0], [false, false]),
    ];
    if blocks.k() <= GRID_LIMIT {
        starts.extend(
            grid_starts(blocks, likelihood)?
                .into_iter()
                .map(|s| (s, [true, true])),
        );
    }
    let mut best = first;
    let mut iterations = best.iterations;
    let mut several = false;
    for (start, movable) in starts {
        let candidate = maximise(blocks, likelihood, start, movable)?;
        iterations += candidate.iterations;
        // Ties go to the earlier candidate (first the moment start's).
        let margin = 1e-10 * best.evaluation.log_likelihood.abs().max(1.0);
        if candidate.evaluation.log_likelihood > best.evaluation.log_likelihood + margin {
            several = true;
            best = candidate;
        }
    }
    Ok(Maximum {
        iterations,
        several,
        ..best
    })
}

/// The local maxima of a log-spaced grid over both components (points above
/// their eight neighbours), from a sixteenth of the smallest sampling
/// variance to the squared range of the effects plus the largest variance
/// (and 0).
fn grid_starts(blocks: &Blocks, likelihood: Likelihood) -> Result<Vec<[f64; 2]>> {
    let (v_min, v_max) = blocks
        .v
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let (y_min, y_max) = blocks
        .y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        });
    let (low, high) = (v_min / 16.0, (y_max - y_min).powi(2) + v_max);
    let ratio = (high / low).max(1.0);
    let values: Vec<f64> = std::iter::once(0.0)
        .chain((0..GRID_POINTS).map(|i| low * ratio.powf(i as f64 / (GRID_POINTS - 1) as f64)))
        .collect();
    let n = values.len();
    let mut ll = vec![f64::NEG_INFINITY; n * n];
    for (a, &x) in values.iter().enumerate() {
        for (b, &y) in values.iter().enumerate() {
            ll[a * n + b] = evaluate(blocks, [x, y], likelihood)?.log_likelihood;
        }
    }
    let peak = |a: usize, b: usize| {
        let here = ll[a * n + b];
        (a.saturating_sub(1)..(a + 2).min(n)).all(|i| {
            (b.saturating_sub(1)..(b + 2).min(n)).all(|j| (i, j) == (a, b) || ll[i * n + j] <= here)
        })
    };
    Ok((0..n)
        .flat_map(|a| (0..n).map(move |b| (a, b)))
        .filter(|&(a, b)| peak(a, b))
        .map(|(a, b)| [values[a], values[b]])
        .collect())
}

/// Fisher scoring gives up after this many iterations.
const MAX_SCORING_ITERATIONS: usize = 2_000;

/// A three-level model: estimator (REML or ML), test, level and moderators.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreeLevel {
    estimator: Tau2,
    test: Test,
    level: f64,
    design: Option<Arc<Design>>,
}

impl Default for ThreeLevel {
    fn default() -> Self {
        ThreeLevel::reml()
    }
}

impl ThreeLevel {
    /// Restricted maximum likelihood (metafor's default).
    pub fn reml() -> Self {
        ThreeLevel {
            estimator: Tau2::Reml,
            test: Test::Z,
            level: 95.0,
            design: None,
        }
    }

    /// The estimator of the variance components: `Tau2::Reml` or `Tau2::Ml`;
    /// any other is refused by [`fit`](Self::fit).
    ///
    /// ```
    /// use cochran::{Tau2, ThreeLevel};
    /// let model = ThreeLevel::reml().estimator(Tau2::Ml);
    /// assert!(ThreeLevel::reml().estimator(Tau2::Dl).check().is_err());
    /// # let _ = model;
    /// ```
    pub fn estimator(mut self, estimator: Tau2) -> Self {
        self.estimator = estimator;
        self
    }

    /// `Test::Z` (normal) or `Test::Knha`, which for this model means metafor's
    /// `test = "t"`: t tests with k − p degrees of freedom, no rescaling.
    ///
    /// ```
    /// use cochran::{Test, ThreeLevel};
    /// let model = ThreeLevel::reml().test(Test::Knha);
    /// # let _ = model;
    /// ```
    pub fn test(mut self, test: Test) -> Self {
        self.test = test;
        self
    }

    /// The confidence level in percent (default 95).
    ///
    /// ```
    /// use cochran::ThreeLevel;
    /// assert!(ThreeLevel::reml().level(90.0).check().is_ok());
    /// assert!(ThreeLevel::reml().level(100.0).check().is_err());
    /// ```
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Moderators: a meta-regression with the three-level random effects.
    ///
    /// ```
    /// use cochran::{Design, ThreeLevel};
    /// let design = Design::builder(4).numeric("year", &[1990.0, 1995.0, 2001.0, 2010.0])?.build()?;
    /// let model = ThreeLevel::reml().moderators(design);
    /// # let _ = model;
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn moderators(mut self, design: Design) -> Self {
        self.design = Some(Arc::new(design));
        self
    }

    /// Checks the settings without fitting.
    pub fn check(&self) -> Result<()> {
        if !matches!(self.estimator, Tau2::Reml | Tau2::Ml) {
            return Err(ErrorKind::InvalidSetting(format!(
                "the three-level model is fitted by REML or ML, not {}",
                self.estimator
            ))
            .into());
        }
        if self.test == Test::Adhoc {
            return Err(ErrorKind::InvalidSetting(format!(
                "the ad hoc Knapp-Hartung correction applies to models of independent effects; \
                 the three-level model takes {test} z or {test} knha",
                test = crate::Setting::Test
            ))
            .into());
        }
        check_level(self.level)
    }

    /// Fits the model to effects grouped by `clusters` (one label per effect).
    pub fn fit(&self, effects: &[Effect], clusters: &Clusters) -> Result<ThreeLevelFit> {
        self.check()?;
        let design = self.design_for(effects.len())?;
        check_clusters(effects.len(), clusters)?;
        let data = Standardised::with_design(effects, Some(&design))?;
        let blocks = group(data.effects(), &design, clusters);
        let likelihood = match self.estimator {
            Tau2::Ml => Likelihood::Full,
            _ => Likelihood::Restricted,
        };
        let heterogeneity = residual_heterogeneity(&blocks)?;
        // Start from the moment estimate of the total heterogeneity (kept off
        // the boundary, where a component's score can vanish).
        let df = (blocks.k() - design.p()) as f64;
        let total = (heterogeneity.q - df) * heterogeneity.typical_variance / df;
        let fitted = maximise_globally(&blocks, likelihood, total.max(2.0 * START_FLOOR))?;
        self.summarise(data, &design, blocks, fitted, heterogeneity)
    }

    fn design_for(&self, k: usize) -> Result<Arc<Design>> {
        let design = match &self.design {
            Some(design) => design.clone(),
            None => Arc::new(Design::builder(k).build()?),
        };
        if design.k() != k {
            return Err(ErrorKind::InvalidSetting(format!(
                "the model matrix has {} rows for {k} effects",
                design.k()
            ))
            .into());
        }
        if k <= design.p() {
            return Err(ErrorKind::InvalidSetting(format!(
                "{k} effects cannot estimate {} coefficients and two variance components",
                design.p()
            ))
            .into());
        }
        Ok(design)
    }

    fn summarise(
        &self,
        data: Standardised,
        design: &Arc<Design>,
        blocks: Blocks,
        fitted: Maximum,
        heterogeneity: Heterogeneity,
    ) -> Result<ThreeLevelFit> {
        let Maximum {
            sigma2,
            evaluation,
            iterations,
            several,
        } = fitted;
        let warnings = if several {
            vec![
                "the likelihood of the variance components has several local maxima: the \
                 highest is reported, not the one Fisher scoring reached from the moment \
                 estimate"
                    .to_string(),
            ]
        } else {
            Vec::new()
        };
        let (k, p) = (blocks.k(), design.p());
        let df = (k - p) as f64;
        let reference = match self.test {
            Test::Z => Reference::Normal,
            // Refused by `check`; a t reference were it not.
            Test::Knha | Test::Adhoc => Reference::T(df),
        };
        let scale2 = data.variance(1.0);
        let estimates: Vec<f64> = (0..p)
            .map(|j| data.coefficient(j, evaluation.beta[j]))
            .collect();
        let covariance: Vec<f64> = evaluation.covariance.iter().map(|c| c * scale2).collect();
        let regression = coefficient_table(design, estimates, covariance, reference, self.level)?;
        let total = sigma2[0] + sigma2[1] + heterogeneity.typical_variance;
        let first = &regression.coefficients[0];
        let (sigma2_cluster, sigma2_within) = (data.variance(sigma2[0]), data.variance(sigma2[1]));
        let pi_half_width =
            regression.critical * (first.se * first.se + sigma2_cluster + sigma2_within).sqrt();
        // The likelihood of the data on their own scale (each effect's density
        // carries 1/scale); metafor's restricted likelihood adds ½ ln det(XᵀX).
        let log_likelihood = match self.estimator {
            Tau2::Ml => evaluation.log_likelihood - 0.5 * scale2.ln() * k as f64,
            _ => {
                evaluation.log_likelihood - 0.5 * scale2.ln() * df + 0.5 * heterogeneity.log_det_xtx
            }
        };
        Ok(ThreeLevelFit {
            method: self.estimator,
            test: self.test,
            level: self.level,
            estimate: first.estimate,
            se: first.se,
            statistic: first.statistic,
            p_value: first.p_value,
            ci_lower: first.ci_lower,
            ci_upper: first.ci_upper,
            pi_lower: first.estimate - pi_half_width,
            pi_upper: first.estimate + pi_half_width,
            q: heterogeneity.q,
            q_df: df,
            q_p_value: chi_squared(df).sf(heterogeneity.q),
            k,
            sigma2_cluster,
            sigma2_within,
            i2: 100.0 * (sigma2[0] + sigma2[1]) / total,
            i2_cluster: 100.0 * sigma2[0] / total,
            i2_within: 100.0 * sigma2[1] / total,
            log_likelihood,
            iterations,
            warnings,
            regression: (!design.is_intercept_only()).then_some(regression),
            clusters: blocks.clusters(),
            blocks,
            data,
            design: design.clone(),
            beta_standardised: evaluation.beta,
            covariance_standardised: evaluation.covariance,
            sigma2_standardised: sigma2,
            standardised_log_likelihood: evaluation.log_likelihood,
        })
    }
}

fn check_clusters(k: usize, clusters: &Clusters) -> Result<()> {
    if clusters.len() != k {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} cluster labels for {k} effects",
            clusters.len()
        ))
        .into());
    }
    if clusters.count() < 2 {
        return Err(ErrorKind::InvalidSetting(format!(
            "all {k} effects are in one cluster ({}): a cluster variance needs at least two \
             clusters",
            clusters.label(0)
        ))
        .into());
    }
    if clusters.count() == k {
        return Err(ErrorKind::InvalidSetting(
            "every cluster has a single effect: the cluster and within-cluster variances cannot \
             be told apart; fit the usual random-effects model instead"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// The effects (standardised) grouped by cluster, contiguous.
fn group(effects: &[Effect], design: &Design, clusters: &Clusters) -> Blocks {
    let p = design.p();
    let mut blocks = Blocks {
        starts: vec![0],
        y: Vec::with_capacity(effects.len()),
        v: Vec::with_capacity(effects.len()),
        x: Vec::with_capacity(effects.len() * p),
        p,
        order: Vec::with_capacity(effects.len()),
    };
    for members in clusters.members() {
        for i in members {
            blocks.y.push(effects[i].yi);
            blocks.v.push(effects[i].vi);
            blocks.x.extend((0..p).map(|j| design.x(i, j)));
            blocks.order.push(i);
        }
        blocks.starts.push(blocks.y.len());
    }
    blocks
}

/// Fisher scoring on the two variance components, each kept ≥ 0: a component
/// at 0 whose score points below 0 stays there, and a step that lowers the
/// likelihood is halved.
fn maximise(
    blocks: &Blocks,
    likelihood: Likelihood,
    start: [f64; 2],
    movable: [bool; 2],
) -> Result<Maximum> {
    let mut sigma2 = start;
    let mut current = evaluate(blocks, sigma2, likelihood)?;
    if movable == [false, false] {
        return Ok(Maximum {
            sigma2,
            evaluation: current,
            iterations: 0,
            several: false,
        });
    }
    for iteration in 1..=MAX_SCORING_ITERATIONS {
        let newton = newton_step(&current, sigma2, movable);
        let mut taken = line_search(blocks, likelihood, &current, sigma2, newton)?;
        // Far from the maximum the observed information can be positive
        // definite and still a poor model, its step cut to crumbs: then
        // Fisher scoring, whose information is the expected one, leads.
        if taken.scale < 0.25 {
            let fisher = fisher_step(&current, sigma2, movable);
            let other = line_search(blocks, likelihood, &current, sigma2, fisher)?;
            if other.evaluation.log_likelihood > taken.evaluation.log_likelihood {
                taken = other;
            }
        }
        let size = sigma2[0].max(sigma2[1]).max(1.0);
        let moved = (taken.next[0] - sigma2[0])
            .abs()
            .max((taken.next[1] - sigma2[1]).abs());
        // Where the likelihood is flat, rounding in the score moves the
        // components by more than the step tolerance: stop when the full
        // step's predicted gain is below the rounding of the likelihood.
        let gain = (0..2)
            .map(|a| current.score[a] * taken.step[a])
            .sum::<f64>()
            .abs();
        let noise = 64.0 * f64::EPSILON * current.log_likelihood.abs().max(1.0);
        sigma2 = taken.next;
        current = taken.evaluation;
        if moved <= STEP_TOLERANCE * size || gain <= noise {
            return Ok(Maximum {
                sigma2,
                evaluation: current,
                iterations: iteration,
                several: false,
            });
        }
    }
    Err(ErrorKind::Numerical(format!(
        "Fisher scoring of the variance components did not converge in \
         {MAX_SCORING_ITERATIONS} iterations"
    ))
    .into())
}

fn evaluate(blocks: &Blocks, sigma2: [f64; 2], likelihood: Likelihood) -> Result<Evaluation> {
    blocks.evaluate(sigma2, likelihood).ok_or_else(|| {
        ErrorKind::Numerical(
            "the moderators' model matrix is singular for these effects (a moderator is \
             constant or a combination of others)"
                .to_string(),
        )
        .into()
    })
}

/// A step along a direction, halved until the likelihood does not fall.
struct Step {
    /// The full step, before halving.
    step: [f64; 2],
    scale: f64,
    next: [f64; 2],
    evaluation: Evaluation,
}

fn line_search(
    blocks: &Blocks,
    likelihood: Likelihood,
    current: &Evaluation,
    sigma2: [f64; 2],
    step: [f64; 2],
) -> Result<Step> {
    let tolerance = 1e-13 * current.log_likelihood.abs().max(1.0);
    let mut scale = 1.0;
    loop {
        let next = [
            (sigma2[0] + scale * step[0]).max(0.0),
            (sigma2[1] + scale * step[1]).max(0.0),
        ];
        let evaluation = evaluate(blocks, next, likelihood)?;
        if evaluation.log_likelihood >= current.log_likelihood - tolerance || scale < 1e-12 {
            return Ok(Step {
                step,
                scale,
                next,
                evaluation,
            });
        }
        scale /= 2.0;
    }
}

/// The components free to move: the movable ones, except those at 0 whose
/// score is ≤ 0, which stay there.
fn free_components(evaluation: &Evaluation, sigma2: [f64; 2], movable: [bool; 2]) -> [bool; 2] {
    let g = evaluation.score;
    std::array::from_fn(|a| movable[a] && !(sigma2[a] <= 0.0 && g[a] <= 0.0))
}

/// Newton's step with the observed information where that is positive
/// definite (quadratic convergence near the maximum), else Fisher scoring's.
fn newton_step(evaluation: &Evaluation, sigma2: [f64; 2], movable: [bool; 2]) -> [f64; 2] {
    let free = free_components(evaluation, sigma2, movable);
    solve_free(evaluation.observed, evaluation.score, free)
        .unwrap_or_else(|| fisher_step(evaluation, sigma2, movable))
}

/// Fisher scoring's step (the expected information); where the components
/// are not separately identified, each moves along its score scaled by its
/// own information.
fn fisher_step(evaluation: &Evaluation, sigma2: [f64; 2], movable: [bool; 2]) -> [f64; 2] {
    let (g, info) = (evaluation.score, evaluation.information);
    let free = free_components(evaluation, sigma2, movable);
    solve_free(info, g, free).unwrap_or_else(|| {
        std::array::from_fn(|a| {
            if free[a] {
                g[a] / info[a][a].max(f64::MIN_POSITIVE)
            } else {
                0.0
            }
        })
    })
}

/// info⁻¹ g over the free components; `None` unless that block of `info` is
/// positive definite.
fn solve_free(info: [[f64; 2]; 2], g: [f64; 2], free: [bool; 2]) -> Option<[f64; 2]> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    match free {
        [true, true] => {
            let det = info[0][0] * info[1][1] - info[0][1] * info[1][0];
            (positive(info[0][0]) && positive(det) && det > 1e-12 * info[0][0] * info[1][1]).then(
                || {
                    [
                        (info[1][1] * g[0] - info[0][1] * g[1]) / det,
                        (info[0][0] * g[1] - info[1][0] * g[0]) / det,
                    ]
                },
            )
        }
        [true, false] => positive(info[0][0]).then(|| [g[0] / info[0][0], 0.0]),
        [false, true] => positive(info[1][1]).then(|| [0.0, g[1] / info[1][1]]),
        [false, false] => Some([0.0, 0.0]),
    }
}

/// Cochran's Q of the residuals of the common-effect fit and the typical
/// sampling variance (k − p)/tr(P) of the multilevel I².
struct Heterogeneity {
    q: f64,
    typical_variance: f64,
    /// ln det(XᵀX), for metafor's restricted likelihood.
    log_det_xtx: f64,
}

fn residual_heterogeneity(blocks: &Blocks) -> Result<Heterogeneity> {
    let p = blocks.p;
    let mut xwx = vec![0.0; p * p];
    let mut xwwx = vec![0.0; p * p];
    let mut xwy = vec![0.0; p];
    let mut xtx = vec![0.0; p * p];
    let mut sum_w = 0.0;
    for i in 0..blocks.k() {
        let (x, w) = (blocks.row(i), 1.0 / blocks.v[i]);
        sum_w += w;
        for r in 0..p {
            xwy[r] += w * x[r] * blocks.y[i];
            for c in 0..p {
                xtx[r * p + c] += x[r] * x[c];
                xwx[r * p + c] += w * x[r] * x[c];
                xwwx[r * p + c] += w * w * x[r] * x[c];
            }
        }
    }
    let singular = || {
        ErrorKind::Numerical("the moderators' model matrix is singular for these effects".into())
    };
    let factor = Cholesky::new(&xwx, p, 1e-13).map_err(|_| singular())?;
    let log_det_xtx = Cholesky::new(&xtx, p, 1e-13)
        .map_err(|_| singular())?
        .log_determinant();
    let beta = factor.solve(&xwy);
    let q = (0..blocks.k())
        .map(|i| (blocks.y[i] - dot(blocks.row(i), &beta)).powi(2) / blocks.v[i])
        .sum();
    let h = factor.inverse();
    let trace_hw: f64 = (0..p)
        .map(|r| (0..p).map(|c| h[r * p + c] * xwwx[c * p + r]).sum::<f64>())
        .sum();
    let trace_p = sum_w - trace_hw;
    Ok(Heterogeneity {
        q,
        typical_variance: (blocks.k() - p) as f64 / trace_p,
        log_det_xtx,
    })
}

/// A fitted three-level model, as metafor's `rma.mv` reports it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ThreeLevelFit {
    /// REML or ML.
    pub method: Tau2,
    /// `z`, or `knha` for t tests with k − p degrees of freedom.
    pub test: Test,
    /// The confidence level in percent.
    pub level: f64,
    /// The pooled estimate (the intercept with moderators).
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Lower prediction limit for a new effect in a new cluster (σ²_cluster +
    /// σ²_within added to the estimate's variance).
    pub pi_lower: f64,
    /// Upper prediction limit.
    pub pi_upper: f64,
    /// The test of residual heterogeneity: Q of the common-effect fit.
    pub q: f64,
    /// Its degrees of freedom, k − p.
    pub q_df: f64,
    /// Its p-value.
    pub q_p_value: f64,
    /// The number of effects.
    pub k: usize,
    /// The number of clusters.
    pub clusters: usize,
    /// The variance between clusters.
    pub sigma2_cluster: f64,
    /// The variance between effects within a cluster.
    pub sigma2_within: f64,
    /// Multilevel I² in percent: (σ²_cluster + σ²_within) over that plus the
    /// typical sampling variance.
    pub i2: f64,
    /// The share of σ²_cluster in the same total, in percent.
    pub i2_cluster: f64,
    /// The share of σ²_within, in percent.
    pub i2_within: f64,
    /// The maximised (restricted) log-likelihood.
    pub log_likelihood: f64,
    /// Fisher-scoring iterations, over every start.
    pub iterations: usize,
    /// What the reader must know about the fit (several local maxima).
    pub warnings: Vec<String>,
    /// The coefficient table and omnibus test, with moderators.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub regression: Option<Regression>,
    /// The standardised effects grouped by cluster, for robust inference.
    #[serde(skip)]
    blocks: Blocks,
    #[serde(skip)]
    data: Standardised,
    #[serde(skip)]
    design: Arc<Design>,
    #[serde(skip)]
    beta_standardised: Vec<f64>,
    #[serde(skip)]
    covariance_standardised: Vec<f64>,
    #[serde(skip)]
    sigma2_standardised: [f64; 2],
    /// The maximum in standardised units: the log-likelihood less the
    /// constant that takes it to the data's scale.
    #[serde(skip)]
    standardised_log_likelihood: f64,
}

impl ThreeLevelFit {
    /// The coefficients: the intercept alone without moderators.
    pub fn coefficient_names(&self) -> &[String] {
        self.design.names()
    }

    /// Each effect's weight in percent, in the order the effects were given:
    /// the diagonal of the inverse marginal covariance, as metafor's
    /// `weights()` of an `rma.mv` fit.
    pub fn weights(&self) -> Vec<f64> {
        let [between, within] = self.sigma2_standardised;
        let blocks = &self.blocks;
        let mut weights = vec![0.0; blocks.k()];
        for j in 0..blocks.clusters() {
            let range = blocks.range(j);
            let total: f64 = range.clone().map(|i| 1.0 / (blocks.v[i] + within)).sum();
            let c = between / (1.0 + between * total);
            for i in range {
                let w = 1.0 / (blocks.v[i] + within);
                weights[blocks.order[i]] = w - c * w * w;
            }
        }
        let sum: f64 = weights.iter().sum();
        weights.iter().map(|w| 100.0 * w / sum).collect()
    }

    /// The model's (restricted) log-likelihood at other values of the variance
    /// components (on the data's scale), for profiles and checks of the
    /// maximum; `None` where the model matrix is singular.
    ///
    /// ```
    /// use cochran::{Clusters, Effect, ThreeLevel};
    /// let effects: Vec<Effect> = [(0.3, 0.02), (0.4, 0.03), (0.0, 0.02), (0.1, 0.04), (0.6, 0.05)]
    ///     .iter().map(|&(y, v)| Effect::new(y, v)).collect::<Result<_, _>>()?;
    /// let fit = ThreeLevel::reml().fit(&effects, &Clusters::new(&["A", "A", "B", "B", "C"])?)?;
    /// let elsewhere = fit.log_likelihood_at(fit.sigma2_cluster * 2.0, fit.sigma2_within).unwrap();
    /// assert!(elsewhere <= fit.log_likelihood);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn log_likelihood_at(&self, sigma2_cluster: f64, sigma2_within: f64) -> Option<f64> {
        let standard = [
            self.data.standard_variance(sigma2_cluster),
            self.data.standard_variance(sigma2_within),
        ];
        let likelihood = match self.method {
            Tau2::Ml => Likelihood::Full,
            _ => Likelihood::Restricted,
        };
        let at = self.blocks.evaluate(standard, likelihood)?;
        Some(at.log_likelihood + (self.log_likelihood - self.standardised_log_likelihood))
    }

    /// The critical value of the intervals.
    pub fn critical(&self) -> f64 {
        let upper = 1.0 - (1.0 - self.level / 100.0) / 2.0;
        match self.test {
            Test::Z => standard_normal().inverse_cdf(upper),
            Test::Knha | Test::Adhoc => t_quantile(upper, self.q_df),
        }
    }
}
