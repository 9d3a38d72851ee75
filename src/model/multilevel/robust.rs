//! Cluster-robust inference: the CR2 sandwich with Satterthwaite degrees of
//! freedom (clubSandwich's `coef_test(vcov = "CR2")`), and robust variance
//! estimation with correlated-effects weights (robumeta's `robu`, small-sample
//! corrected). Both are one mechanism: a working covariance Θⱼ per cluster with
//! weights Θⱼ⁻¹, the adjustment Aⱼ = Rᵀ (R (Θⱼ − Xⱼ Q Xⱼᵀ) Rᵀ)^(−1/2) R
//! (RᵀR = Θⱼ), and the degrees of freedom of the working model.

// Index loops read like the formulas they implement.
#![allow(clippy::needless_range_loop)]

use serde::Serialize;

use super::likelihood::{Blocks, dot};
use super::{Clusters, ThreeLevelFit, check_clusters, group};
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};
use crate::model::check_level;
use crate::model::design::Design;
use crate::model::linalg::{Cholesky, inverse_square_root, product, quadratic_form};
use crate::model::standardise::Standardised;
use crate::stats::{t_quantile, t_upper_tail};

/// Eigenvalues of the adjustment's inner matrix at or below this share of the
/// largest are treated as 0 (a cluster the model fits exactly).
const EIGENVALUE_TOLERANCE: f64 = 1e-12;

/// A coefficient whose expected robust variance under the working model is
/// below this share of its model-based variance rests on a single cluster:
/// its robust variance is not estimable.
const NOT_ESTIMABLE: f64 = 1e-10;

/// One coefficient with cluster-robust inference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RobustCoefficient {
    /// `intrcpt` or the moderator's name.
    pub name: String,
    /// The estimate (the model's own).
    pub estimate: f64,
    /// The robust standard error; NaN (`null` in JSON) when the coefficient
    /// rests on the effects of a single cluster.
    pub se: f64,
    /// estimate / se, referred to t with `df` degrees of freedom.
    pub statistic: f64,
    /// Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
}

/// What the sandwich needs of a fit, in standardised units.
struct Working<'a> {
    blocks: &'a Blocks,
    beta: &'a [f64],
    /// (Xᵀ W X)⁻¹, row-major.
    bread: &'a [f64],
}

/// Per-coefficient sums of the Satterthwaite approximation.
#[derive(Clone)]
struct Moments {
    sum_q: f64,
    sum_zqz: f64,
    sum_q2: f64,
    sum_q_zqz: f64,
    /// Σ zⱼ zⱼᵀ.
    s: Vec<f64>,
}

impl Working<'_> {
    /// The CR2 covariance (row-major) and each coefficient's degrees of freedom,
    /// with `theta(j)` the working covariance of cluster j (row-major nⱼ × nⱼ).
    fn sandwich(&self, theta: impl Fn(usize) -> Vec<f64>) -> Result<(Vec<f64>, Vec<f64>)> {
        let (blocks, p) = (self.blocks, self.blocks.p);
        let mut meat = vec![0.0; p * p];
        let mut moments = vec![
            Moments {
                sum_q: 0.0,
                sum_zqz: 0.0,
                sum_q2: 0.0,
                sum_q_zqz: 0.0,
                s: vec![0.0; p * p],
            };
            p
        ];
        for j in 0..blocks.clusters() {
            let range = blocks.range(j);
            let n = range.len();
            let theta = theta(j);
            let x: Vec<&[f64]> = range.clone().map(|i| blocks.row(i)).collect();
            let e: Vec<f64> = range
                .clone()
                .map(|i| blocks.y[i] - dot(blocks.row(i), self.beta))
                .collect();
            let (adjusted_weights, _) = self.adjustment(&theta, &x, n)?;
            // B = A W X Q (n × p): column h is the cluster's part of coefficient h.
            let mut b = vec![0.0; n * p];
            for r in 0..n {
                for h in 0..p {
                    b[r * p + h] = (0..n)
                        .map(|m| {
                            adjusted_weights[r * n + m]
                                * (0..p).map(|l| x[m][l] * self.bread[l * p + h]).sum::<f64>()
                        })
                        .sum();
                }
            }
            let contribution: Vec<f64> = (0..p)
                .map(|h| (0..n).map(|r| b[r * p + h] * e[r]).sum())
                .collect();
            for r in 0..p {
                for c in 0..p {
                    meat[r * p + c] += contribution[r] * contribution[c];
                }
            }
            for (h, moments) in moments.iter_mut().enumerate() {
                let g: Vec<f64> = (0..n).map(|r| b[r * p + h]).collect();
                let q: f64 = (0..n)
                    .map(|r| g[r] * (0..n).map(|m| theta[r * n + m] * g[m]).sum::<f64>())
                    .sum();
                let z: Vec<f64> = (0..p)
                    .map(|l| (0..n).map(|r| x[r][l] * g[r]).sum())
                    .collect();
                let zqz = quadratic_form(self.bread, &z);
                moments.sum_q += q;
                moments.sum_zqz += zqz;
                moments.sum_q2 += q * q;
                moments.sum_q_zqz += q * zqz;
                for r in 0..p {
                    for c in 0..p {
                        moments.s[r * p + c] += z[r] * z[c];
                    }
                }
            }
        }
        let df = moments
            .iter()
            .enumerate()
            .map(|(h, m)| {
                let qs = product(self.bread, &m.s, p);
                let trace_qsqs: f64 = (0..p)
                    .map(|r| (0..p).map(|c| qs[r * p + c] * qs[c * p + r]).sum::<f64>())
                    .sum();
                let expectation = m.sum_q - m.sum_zqz;
                let spread = m.sum_q2 - 2.0 * m.sum_q_zqz + trace_qsqs;
                // A coefficient that rests on one cluster's effects has no
                // residual information left for a robust variance.
                if expectation <= NOT_ESTIMABLE * self.bread[h * p + h] {
                    f64::NAN
                } else {
                    expectation * expectation / spread
                }
            })
            .collect();
        // The meat holds Q Xᵀ W A e per cluster already: the sandwich is its sum.
        Ok((meat, df))
    }

    /// A W for one cluster (row-major n × n), and W = Θ⁻¹.
    fn adjustment(&self, theta: &[f64], x: &[&[f64]], n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let p = self.blocks.p;
        let factor = Cholesky::new(theta, n, 0.0).map_err(|_| {
            ErrorKind::Numerical("a cluster's working covariance is not positive definite".into())
        })?;
        let lower = factor.lower();
        // Θ − X Q Xᵀ, then G = Lᵀ (Θ − X Q Xᵀ) L.
        let mut inner = theta.to_vec();
        for r in 0..n {
            for c in 0..n {
                inner[r * n + c] -= (0..p)
                    .map(|a| x[r][a] * (0..p).map(|b| self.bread[a * p + b] * x[c][b]).sum::<f64>())
                    .sum::<f64>();
            }
        }
        // G = Lᵀ (Θ − X Q Xᵀ) L and A = L G^(−1/2) Lᵀ, as two products each.
        let upper = transpose(lower, n);
        let g = product(&upper, &product(&inner, lower, n), n);
        let root = inverse_square_root(&g, n, EIGENVALUE_TOLERANCE);
        let a = product(lower, &product(&root, &upper, n), n);
        let w = factor.inverse();
        let aw = product(&a, &w, n);
        Ok((aw, w))
    }
}

/// Aᵀ for a row-major n × n matrix.
fn transpose(a: &[f64], n: usize) -> Vec<f64> {
    (0..n * n).map(|i| a[(i % n) * n + i / n]).collect()
}

/// The robust coefficient table on the data's scale.
fn table(
    design: &Design,
    data: &Standardised,
    beta: &[f64],
    covariance: &[f64],
    df: &[f64],
    level: f64,
) -> Vec<RobustCoefficient> {
    let p = design.p();
    let upper = 1.0 - (1.0 - level / 100.0) / 2.0;
    (0..p)
        .map(|h| {
            let estimate = data.coefficient(h, beta[h]);
            // NaN throughout where the degrees of freedom are (not estimable).
            let se = data.spread(covariance[h * p + h].sqrt()) + 0.0 * df[h];
            let df = &df
                .iter()
                .map(|d| if *d > 0.0 { *d } else { f64::NAN })
                .collect::<Vec<_>>();
            let statistic = estimate / se;
            let usable = df[h].is_finite() && df[h] > 0.0;
            let critical = if usable {
                t_quantile(upper, df[h])
            } else {
                f64::NAN
            };
            let p_value = if usable {
                2.0 * t_upper_tail(statistic.abs(), df[h])
            } else {
                f64::NAN
            };
            RobustCoefficient {
                name: design.names()[h].clone(),
                estimate,
                se,
                statistic,
                df: df[h],
                p_value,
                ci_lower: estimate - critical * se,
                ci_upper: estimate + critical * se,
            }
        })
        .collect()
}

impl RobustCoefficient {
    /// False when the coefficient rests on one cluster's effects and has no
    /// robust variance.
    pub fn is_estimable(&self) -> bool {
        self.df.is_finite()
    }
}

impl ThreeLevelFit {
    /// CR2 cluster-robust inference for every coefficient, with Satterthwaite
    /// degrees of freedom, as clubSandwich's `coef_test(fit, vcov = "CR2")`
    /// (the working model is the fitted one).
    pub fn robust(&self) -> Result<Vec<RobustCoefficient>> {
        let working = Working {
            blocks: &self.blocks,
            beta: &self.beta_standardised,
            bread: &self.covariance_standardised,
        };
        let [between, within] = self.sigma2_standardised;
        let (covariance, df) = working.sandwich(|j| {
            let v = &self.blocks.v[self.blocks.range(j)];
            let n = v.len();
            let mut theta = vec![between; n * n];
            for (r, v) in v.iter().enumerate() {
                theta[r * n + r] += v + within;
            }
            theta
        })?;
        Ok(table(
            &self.design,
            &self.data,
            &self.beta_standardised,
            &covariance,
            &df,
            self.level,
        ))
    }
}

/// Robust variance estimation with correlated-effects weights (Hedges, Tipton
/// and Johnson 2010) and the small-sample correction (Tipton 2015), as
/// robumeta's `robu(modelweights = "CORR", small = TRUE)`.
///
/// ```
/// use cochran::{Clusters, Effect, Rve};
///
/// let effects = [
///     Effect::new(0.30, 0.02)?, Effect::new(0.42, 0.03)?,
///     Effect::new(0.05, 0.02)?, Effect::new(0.11, 0.04)?,
///     Effect::new(0.60, 0.05)?, Effect::new(0.21, 0.03)?,
/// ];
/// let clusters = Clusters::new(&["A", "A", "B", "B", "C", "D"])?;
/// let fit = Rve::new(0.8)?.fit(&effects, &clusters)?;
/// assert!(fit.tau2 >= 0.0 && fit.coefficients[0].df > 0.0);
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Rve {
    rho: f64,
    level: f64,
    design: Option<Design>,
}

impl Rve {
    /// The assumed correlation ρ between effects of a cluster, in [0, 1].
    pub fn new(rho: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&rho) {
            return Err(ErrorKind::InvalidSetting(format!(
                "rho, the assumed correlation between effects of a cluster, must be between 0 \
                 and 1, found {rho}"
            ))
            .into());
        }
        Ok(Rve {
            rho,
            level: 95.0,
            design: None,
        })
    }

    /// The confidence level in percent (default 95, robumeta's only level).
    ///
    /// ```
    /// use cochran::Rve;
    /// let rve = Rve::new(0.8)?.level(90.0);
    /// # let _ = rve;
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Moderators.
    ///
    /// ```
    /// use cochran::{Design, Rve};
    /// let design = Design::builder(3).numeric("dose", &[1.0, 2.0, 4.0])?.build()?;
    /// let rve = Rve::new(0.8)?.moderators(design);
    /// # let _ = rve;
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn moderators(mut self, design: Design) -> Self {
        self.design = Some(design);
        self
    }

    /// Fits the model to effects grouped by `clusters`.
    pub fn fit(&self, effects: &[Effect], clusters: &Clusters) -> Result<RveFit> {
        check_level(self.level)?;
        let design = std::sync::Arc::new(match &self.design {
            Some(design) => design.clone(),
            None => Design::builder(effects.len()).build()?,
        });
        if design.k() != effects.len() {
            return Err(ErrorKind::InvalidSetting(format!(
                "the model matrix has {} rows for {} effects",
                design.k(),
                effects.len()
            ))
            .into());
        }
        check_clusters(effects.len(), clusters).or_else(|e| {
            // One effect per cluster is the ordinary robust case.
            if clusters.count() == effects.len() && clusters.count() >= 2 {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        let data = Standardised::with_design(effects, Some(&design))?;
        let blocks = group(data.effects(), &design, clusters);
        let p = design.p();
        if blocks.clusters() <= p {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} clusters cannot estimate {p} coefficients robustly",
                blocks.clusters()
            ))
            .into());
        }
        let tau2 = self.tau2(&blocks)?;
        let weights = cluster_weights(&blocks, tau2);
        let (beta, bread) = weighted_fit(&blocks, &weights)?;
        let working = Working {
            blocks: &blocks,
            beta: &beta,
            bread: &bread,
        };
        let (covariance, df) = working.sandwich(|j| {
            let n = blocks.range(j).len();
            let mut theta = vec![0.0; n * n];
            (0..n).for_each(|r| theta[r * n + r] = 1.0 / weights[j]);
            theta
        })?;
        let coefficients = table(&design, &data, &beta, &covariance, &df, self.level);
        Ok(RveFit {
            rho: self.rho,
            pooled: coefficients[0].clone(),
            tau2: data.variance(tau2),
            k: blocks.k(),
            clusters: blocks.clusters(),
            coefficients,
        })
    }

    /// The method-of-moments τ² of the correlated-effects model.
    fn tau2(&self, blocks: &Blocks) -> Result<f64> {
        let p = blocks.p;
        let weights = cluster_weights(blocks, 0.0);
        let (beta, q) = weighted_fit(blocks, &weights)?;
        let mut qe = 0.0;
        let mut sum_w = 0.0;
        let mut xwjwx = vec![0.0; p * p];
        let mut wkxx = vec![0.0; p * p];
        let mut wk_xjx_xx = vec![0.0; p * p];
        for j in 0..blocks.clusters() {
            let range = blocks.range(j);
            let (w, size) = (weights[j], range.len() as f64);
            let mut column_sums = vec![0.0; p];
            for i in range {
                let x = blocks.row(i);
                qe += w * (blocks.y[i] - dot(x, &beta)).powi(2);
                sum_w += w;
                for r in 0..p {
                    column_sums[r] += x[r];
                    for c in 0..p {
                        wkxx[r * p + c] += w / size * x[r] * x[c];
                        wk_xjx_xx[r * p + c] -= w / size * x[r] * x[c];
                    }
                }
            }
            for r in 0..p {
                for c in 0..p {
                    let outer = column_sums[r] * column_sums[c];
                    xwjwx[r * p + c] += w * w * outer;
                    wk_xjx_xx[r * p + c] += w / size * outer;
                }
            }
        }
        let trace = |m: &[f64]| -> f64 {
            (0..p)
                .map(|r| (0..p).map(|c| q[r * p + c] * m[c * p + r]).sum::<f64>())
                .sum()
        };
        let denominator = sum_w - trace(&xwjwx);
        let clusters = blocks.clusters() as f64;
        let tau2 = (qe - clusters + trace(&wkxx) + self.rho * trace(&wk_xjx_xx)) / denominator;
        Ok(tau2.max(0.0))
    }
}

/// robumeta's correlated-effects weight of each cluster: 1 / (nⱼ (v̄ⱼ + τ²)).
fn cluster_weights(blocks: &Blocks, tau2: f64) -> Vec<f64> {
    (0..blocks.clusters())
        .map(|j| {
            let v = &blocks.v[blocks.range(j)];
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            1.0 / (v.len() as f64 * (mean + tau2))
        })
        .collect()
}

/// Weighted least squares with one weight per cluster: β and (XᵀWX)⁻¹.
fn weighted_fit(blocks: &Blocks, weights: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    let p = blocks.p;
    let mut xwx = vec![0.0; p * p];
    let mut xwy = vec![0.0; p];
    for (j, w) in weights.iter().enumerate() {
        for i in blocks.range(j) {
            let x = blocks.row(i);
            for r in 0..p {
                xwy[r] += w * x[r] * blocks.y[i];
                for c in 0..p {
                    xwx[r * p + c] += w * x[r] * x[c];
                }
            }
        }
    }
    let factor = Cholesky::new(&xwx, p, 1e-13).map_err(|_| {
        ErrorKind::Numerical("the moderators' model matrix is singular for these effects".into())
    })?;
    Ok((factor.solve(&xwy), factor.inverse()))
}

/// A robust-variance-estimation fit (correlated effects).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RveFit {
    /// The assumed correlation between effects of a cluster.
    pub rho: f64,
    /// The pooled estimate (the intercept with moderators) with its robust
    /// inference (Satterthwaite df after Tipton 2015); its keys are at the
    /// top level in JSON.
    #[serde(flatten)]
    pub pooled: RobustCoefficient,
    /// The method-of-moments between-cluster variance.
    pub tau2: f64,
    /// The number of effects.
    pub k: usize,
    /// The number of clusters.
    pub clusters: usize,
    /// Every coefficient (the intercept alone without moderators).
    pub coefficients: Vec<RobustCoefficient>,
}
