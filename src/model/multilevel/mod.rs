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
        let (sigma2, evaluation, iterations) = maximise(&blocks, likelihood)?;
        self.summarise(data, &design, blocks, sigma2, evaluation, iterations)
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

    #[allow(clippy::too_many_arguments)]
    fn summarise(
        &self,
        data: Standardised,
        design: &Arc<Design>,
        blocks: Blocks,
        sigma2: [f64; 2],
        evaluation: Evaluation,
        iterations: usize,
    ) -> Result<ThreeLevelFit> {
        let (k, p) = (blocks.k(), design.p());
        let df = (k - p) as f64;
        let reference = match self.test {
            Test::Z => Reference::Normal,
            Test::Knha => Reference::T(df),
        };
        let scale2 = data.variance(1.0);
        let estimates: Vec<f64> = (0..p)
            .map(|j| data.coefficient(j, evaluation.beta[j]))
            .collect();
        let covariance: Vec<f64> = evaluation.covariance.iter().map(|c| c * scale2).collect();
        let regression = coefficient_table(design, estimates, covariance, reference, self.level)?;
        let heterogeneity = residual_heterogeneity(&blocks)?;
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
            regression: (!design.is_intercept_only()).then_some(regression),
            clusters: blocks.clusters(),
            blocks,
            data,
            design: design.clone(),
            beta_standardised: evaluation.beta,
            covariance_standardised: evaluation.covariance,
            sigma2_standardised: sigma2,
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
fn maximise(blocks: &Blocks, likelihood: Likelihood) -> Result<([f64; 2], Evaluation, usize)> {
    let singular = || {
        ErrorKind::Numerical(
            "the moderators' model matrix is singular for these effects (a moderator is \
             constant or a combination of others)"
                .to_string(),
        )
    };
    // Standardised data: the typical sampling variance is near 1.
    let mut sigma2 = [0.25, 0.25];
    let mut current = blocks.evaluate(sigma2, likelihood).ok_or_else(singular)?;
    for iteration in 1..=MAX_SCORING_ITERATIONS {
        let step = scoring_step(&current, sigma2);
        let mut scale = 1.0;
        let (next, evaluation) = loop {
            let candidate = [
                (sigma2[0] + scale * step[0]).max(0.0),
                (sigma2[1] + scale * step[1]).max(0.0),
            ];
            let evaluation = blocks
                .evaluate(candidate, likelihood)
                .ok_or_else(singular)?;
            let tolerance = 1e-13 * current.log_likelihood.abs().max(1.0);
            if evaluation.log_likelihood >= current.log_likelihood - tolerance || scale < 1e-12 {
                break (candidate, evaluation);
            }
            scale /= 2.0;
        };
        let size = sigma2[0].max(sigma2[1]).max(1.0);
        let moved = (next[0] - sigma2[0]).abs().max((next[1] - sigma2[1]).abs());
        // Where the likelihood is flat, rounding in the score moves the
        // components by more than the step tolerance: stop when the step's
        // predicted gain is below the rounding of the likelihood itself.
        let gain = (0..2)
            .map(|a| current.score[a] * (next[a] - sigma2[a]))
            .sum::<f64>()
            .abs();
        let noise = 64.0 * f64::EPSILON * current.log_likelihood.abs().max(1.0);
        sigma2 = next;
        current = evaluation;
        if moved <= STEP_TOLERANCE * size || gain <= noise {
            return Ok((sigma2, current, iteration));
        }
    }
    Err(ErrorKind::Numerical(format!(
        "Fisher scoring of the variance components did not converge in \
         {MAX_SCORING_ITERATIONS} iterations"
    ))
    .into())
}

/// The step of Newton's method with the observed information where that is
/// positive definite (quadratic convergence near the maximum), of Fisher
/// scoring otherwise; components at 0 whose score is ≤ 0 are held there.
fn scoring_step(evaluation: &Evaluation, sigma2: [f64; 2]) -> [f64; 2] {
    let g = evaluation.score;
    let free = [
        !(sigma2[0] <= 0.0 && g[0] <= 0.0),
        !(sigma2[1] <= 0.0 && g[1] <= 0.0),
    ];
    let observed = solve_free(evaluation.observed, g, free);
    observed.unwrap_or_else(|| {
        solve_free(evaluation.information, g, free).unwrap_or_else(|| {
            // The components are not separately identified here: move along
            // the score, each scaled by its own information.
            let info = evaluation.information;
            std::array::from_fn(|a| {
                if free[a] {
                    g[a] / info[a][a].max(f64::MIN_POSITIVE)
                } else {
                    0.0
                }
            })
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
    /// Fisher-scoring iterations.
    pub iterations: usize,
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

    /// The critical value of the intervals.
    pub fn critical(&self) -> f64 {
        let upper = 1.0 - (1.0 - self.level / 100.0) / 2.0;
        match self.test {
            Test::Z => standard_normal().inverse_cdf(upper),
            Test::Knha => t_quantile(upper, self.q_df),
        }
    }
}
