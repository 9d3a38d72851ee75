//! Bayesian random-effects meta-analysis, computed exactly by numerical
//! integration (no sampling): the normal–normal hierarchical model
//! yᵢ ~ N(θᵢ, σᵢ²), θᵢ ~ N(μ, τ²), with a prior for τ and a uniform or
//! normal prior for μ.
//!
//! Given τ, μ integrates out in closed form, so the posterior of τ is a
//! one-dimensional density, integrated on an adaptive Gauss–Kronrod
//! quadrature; μ, a new study's effect and every study's shrunken effect are
//! then normal mixtures over its nodes. Quantiles are exact to the quadrature's
//! accuracy (about 1e-10 relative), not Monte Carlo estimates.
//!
//! ```
//! use cochran::Effect;
//! use cochran::model::{BayesianMetaAnalysis, TauPrior};
//!
//! let effects = [Effect::new(-0.89, 0.33)?, Effect::new(-1.59, 0.19)?, Effect::new(-1.35, 0.42)?];
//! let posterior = BayesianMetaAnalysis::new(TauPrior::HalfNormal { scale: 0.5 }).fit(&effects)?;
//! assert!(posterior.mu.central[0] < posterior.mu.median && posterior.mu.median < posterior.mu.central[1]);
//! // The posterior probability that the effect is below zero:
//! assert!(1.0 - posterior.probability_mu_above(0.0) > 0.99);
//! # Ok::<(), cochran::Error>(())
//! ```

mod distribution;
mod empirical;
mod grid;
mod prior;

use serde::Serialize;

pub use distribution::Marginal;
pub use prior::{MuPrior, TauPrior};

use crate::effect::Effect;
use crate::error::{ErrorKind, Result};
use distribution::{Continuous, Mixture};
use grid::{Grid, Likelihood};

/// A Bayesian random-effects model: priors and the level of its intervals.
/// Fit it with [`fit`](Self::fit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BayesianMetaAnalysis {
    /// The prior for τ.
    pub tau_prior: TauPrior,
    /// The prior for μ.
    pub mu_prior: MuPrior,
    /// The level of the credible intervals, in percent.
    pub level: f64,
}

impl BayesianMetaAnalysis {
    /// A model with the given prior for τ, the uniform prior for μ and 95% intervals.
    ///
    /// ```
    /// use cochran::model::{BayesianMetaAnalysis, MuPrior, TauPrior};
    /// let model = BayesianMetaAnalysis::new(TauPrior::HalfCauchy { scale: 1.0 });
    /// assert_eq!(model.mu_prior, MuPrior::Uniform);
    /// assert_eq!(model.level, 95.0);
    /// ```
    pub fn new(tau_prior: TauPrior) -> Self {
        BayesianMetaAnalysis {
            tau_prior,
            mu_prior: MuPrior::Uniform,
            level: 95.0,
        }
    }

    /// Sets the prior for μ.
    ///
    /// ```
    /// use cochran::Effect;
    /// use cochran::model::{BayesianMetaAnalysis, MuPrior, TauPrior};
    /// let effects = [Effect::new(0.3, 0.04)?, Effect::new(0.1, 0.02)?];
    /// let posterior = BayesianMetaAnalysis::new(TauPrior::HalfNormal { scale: 0.5 })
    ///     .mu_prior(MuPrior::Normal { mean: 0.0, sd: 1.0 })
    ///     .fit(&effects)?;
    /// // With a proper prior for μ, the Bayes factor for μ = 0 exists.
    /// assert!(posterior.bayes_factor_mu_zero.is_some());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn mu_prior(mut self, prior: MuPrior) -> Self {
        self.mu_prior = prior;
        self
    }

    /// Sets the level of the credible intervals, in percent (default 95).
    ///
    /// ```
    /// use cochran::Effect;
    /// use cochran::model::{BayesianMetaAnalysis, TauPrior};
    /// let effects = [Effect::new(0.3, 0.04)?, Effect::new(0.1, 0.02)?];
    /// let model = BayesianMetaAnalysis::new(TauPrior::HalfNormal { scale: 0.5 });
    /// let narrow = model.level(80.0).fit(&effects)?;
    /// let wide = model.fit(&effects)?;
    /// assert!(narrow.mu.central[1] < wide.mu.central[1]);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Checks the priors, the level, and that the posterior is proper for
    /// `k` studies.
    pub fn check(&self, k: usize) -> Result<()> {
        crate::model::check_level(self.level)?;
        self.tau_prior.check()?;
        self.mu_prior.check()?;
        if k == 0 {
            return Err(ErrorKind::NoStudies(String::new()).into());
        }
        if !self.tau_prior.is_proper() && !self.finite_moment(k, 0.0) {
            return Err(ErrorKind::InvalidSetting(format!(
                "the posterior is improper: the {} prior for τ with the {} prior for μ needs \
                     more than {k} studies; choose a proper prior for τ (e.g. half-normal)",
                self.tau_prior, self.mu_prior
            ))
            .into());
        }
        Ok(())
    }

    /// Whether E(τ^r | y) is finite for `k` studies (r = 0: whether the
    /// posterior is proper). With μ integrated out, L(τ) falls as τ^−(k−1)
    /// under the uniform prior for μ and as τ^−k under a normal one; the
    /// prior's tail does the rest.
    fn finite_moment(&self, k: usize, r: f64) -> bool {
        let (prior, log_power) = self.tau_prior.tail();
        let likelihood = match self.mu_prior {
            MuPrior::Uniform => -(k as f64 - 1.0),
            MuPrior::Normal { .. } => -(k as f64),
        };
        let exponent = prior + likelihood + r;
        exponent < -1.0 || (exponent == -1.0 && log_power > 1.0)
    }

    /// Computes the posterior.
    pub fn fit(&self, effects: &[Effect]) -> Result<Posterior> {
        self.check(effects.len())?;
        let likelihood = Likelihood::new(
            effects.iter().map(|e| e.yi).collect(),
            effects.iter().map(|e| e.vi).collect(),
            self.mu_prior,
        );
        let grid = Grid::new(likelihood, self.tau_prior)?;
        Posterior::new(*self, grid)
    }
}

/// A study's effect after shrinkage towards the overall effect: the
/// posterior of θᵢ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Shrunken {
    /// Posterior mean.
    pub mean: f64,
    /// Posterior SD.
    pub sd: f64,
    /// Posterior median.
    pub median: f64,
    /// The equal-tailed interval at the model's level.
    pub central: [f64; 2],
}

/// The posterior of a Bayesian random-effects model.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Posterior {
    /// The model fitted.
    pub model: BayesianMetaAnalysis,
    /// Number of studies.
    pub k: usize,
    /// The marginal posterior of the heterogeneity τ.
    pub tau: Marginal,
    /// The marginal posterior of the overall effect μ.
    pub mu: Marginal,
    /// The posterior predictive distribution of a new study's true effect θ.
    pub predictive: Marginal,
    /// Each study's shrunken effect, in the order given.
    pub studies: Vec<Shrunken>,
    /// log of the marginal likelihood p(y), when both priors are proper.
    pub log_marginal_likelihood: Option<f64>,
    /// p(y | τ = 0) / p(y): below 1 the data favour heterogeneity. Needs a
    /// proper prior for τ (an improper prior for μ cancels).
    pub bayes_factor_tau_zero: Option<f64>,
    /// p(y | μ = 0) / p(y): below 1 the data favour an effect. Needs a proper
    /// prior for μ (Savage–Dickey: posterior over prior density at 0).
    pub bayes_factor_mu_zero: Option<f64>,
    /// How many quadrature nodes carry the posterior.
    pub nodes: usize,
    #[serde(skip)]
    grid: Grid,
    #[serde(skip)]
    mixtures: Mixtures,
}

#[derive(Debug, Clone, Default)]
struct Mixtures {
    mu: Mixture,
    predictive: Mixture,
}

/// The posterior of τ as a distribution.
struct Tau<'a>(&'a Grid, f64, f64);

impl Continuous for Tau<'_> {
    fn cdf(&self, x: f64) -> f64 {
        self.0.cdf(x)
    }
    fn density(&self, x: f64) -> f64 {
        if x < 0.0 { 0.0 } else { self.0.density(x) }
    }
    fn mean(&self) -> f64 {
        self.1
    }
    fn sd(&self) -> f64 {
        self.2
    }
    fn lower(&self) -> f64 {
        0.0
    }
    fn density_slope(&self, x: f64) -> f64 {
        self.density(x) * self.0.slope(x)
    }
    /// The root of the log density's slope, bracketed by the quadrature
    /// nodes around the highest one; 0 when the density falls from there.
    fn mode(&self) -> f64 {
        let grid = self.0;
        let top = grid.highest().tau;
        let slope = |t: f64| grid.slope(t);
        let upper = grid.prior.upper();
        let mut hi = (2.0 * top).max(self.2 * 1e-3).min(upper);
        let mut tries = 0;
        while slope(hi) > 0.0 && hi < upper && tries < 200 {
            hi = (hi * 2.0).min(upper);
            tries += 1;
        }
        if slope(hi) > 0.0 {
            return hi;
        }
        let mut lo = top * 0.5;
        while lo > 0.0 && slope(lo) <= 0.0 {
            lo *= 0.5;
            if lo < 1e-300 {
                return 0.0;
            }
        }
        if lo <= 0.0 {
            return 0.0;
        }
        crate::model::root::brent(&slope, (lo, slope(lo)), (hi, slope(hi))).unwrap_or(top)
    }
}

impl Posterior {
    fn new(model: BayesianMetaAnalysis, grid: Grid) -> Result<Posterior> {
        let mut mu = Mixture::default();
        let mut predictive = Mixture::default();
        let (mut tau_mean, mut tau_square) = (0.0, 0.0);
        // The nodes with their posterior probabilities, once for every mixture.
        let weighted: Vec<(f64, &grid::Node)> = grid.nodes().collect();
        let nodes = weighted.len();
        for &(p, node) in &weighted {
            let c = node.conditional;
            mu.weights.push(p);
            mu.means.push(c.mean);
            mu.sds.push(c.var.sqrt());
            predictive.sds.push((c.var + node.tau * node.tau).sqrt());
            tau_mean += p * node.tau;
            tau_square += p * node.tau * node.tau;
        }
        predictive.weights = mu.weights.clone();
        predictive.means = mu.means.clone();
        let tau_sd = (tau_square - tau_mean * tau_mean).max(0.0).sqrt();
        let level = model.level / 100.0;
        let k = grid.likelihood.y.len();
        let finite = |r: f64| model.finite_moment(k, r);
        let mut tau = Tau(&grid, tau_mean, tau_sd).summary(level)?;
        let mut mu_summary = mu.summary(level)?;
        let mut predictive_summary = predictive.summary(level)?;
        // The quadrature's moments are finite by construction; report those
        // the posterior does not have as missing.
        if !finite(1.0) {
            tau.mean = None;
        }
        if !finite(2.0) {
            tau.sd = None;
            predictive_summary.sd = None;
            if !model.mu_prior.is_proper() {
                mu_summary.sd = None;
            }
        }
        let studies = (0..k)
            .map(|i| shrunken(&grid.likelihood, &weighted, i, level))
            .collect::<Result<Vec<_>>>()?;
        let log_evidence = grid.log_evidence();
        let log_marginal_likelihood =
            (model.tau_prior.is_proper() && model.mu_prior.is_proper()).then_some(log_evidence);
        let bayes_factor_tau_zero = model
            .tau_prior
            .is_proper()
            .then(|| (grid.likelihood.at(0.0).log_likelihood - log_evidence).exp());
        let bayes_factor_mu_zero = model
            .mu_prior
            .is_proper()
            .then(|| mu.density(0.0) / model.mu_prior.log_density(0.0).exp());
        for (what, m) in [
            ("τ", &tau),
            ("μ", &mu_summary),
            ("a new study", &predictive_summary),
        ] {
            let numbers = [
                m.mode,
                m.median,
                m.central[0],
                m.central[1],
                m.shortest[0],
                m.shortest[1],
            ];
            if numbers.iter().any(|x| !x.is_finite()) {
                return Err(ErrorKind::Numerical(format!(
                    "the posterior summary of {what} is not finite"
                ))
                .into());
            }
        }
        Ok(Posterior {
            model,
            k,
            tau,
            mu: mu_summary,
            predictive: predictive_summary,
            studies,
            log_marginal_likelihood,
            bayes_factor_tau_zero,
            bayes_factor_mu_zero,
            nodes,
            grid,
            mixtures: Mixtures { mu, predictive },
        })
    }

    /// P(μ > x | y).
    ///
    /// ```
    /// use cochran::Effect;
    /// use cochran::model::{BayesianMetaAnalysis, TauPrior};
    /// let effects = [Effect::new(12.0, 9.0)?, Effect::new(20.0, 16.0)?];
    /// let posterior = BayesianMetaAnalysis::new(TauPrior::HalfNormal { scale: 5.0 }).fit(&effects)?;
    /// let p = posterior.probability_mu_above(posterior.mu.median);
    /// assert!((p - 0.5).abs() < 1e-9);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn probability_mu_above(&self, x: f64) -> f64 {
        self.mixtures.mu.upper_tail(x)
    }

    /// P(μ < x | y), accurate far in the lower tail.
    pub fn probability_mu_below(&self, x: f64) -> f64 {
        self.mixtures.mu.cdf(x)
    }

    /// P(θ_new < x | y).
    pub fn probability_new_study_below(&self, x: f64) -> f64 {
        self.mixtures.predictive.cdf(x)
    }

    /// P(θ_new > x | y): that a new study's true effect exceeds `x`.
    pub fn probability_new_study_above(&self, x: f64) -> f64 {
        self.mixtures.predictive.upper_tail(x)
    }

    /// The posterior density of μ at `x`.
    pub fn mu_density(&self, x: f64) -> f64 {
        self.mixtures.mu.density(x)
    }

    /// The posterior predictive density of a new study's effect at `x`.
    pub fn predictive_density(&self, x: f64) -> f64 {
        self.mixtures.predictive.density(x)
    }

    /// The marginal posterior density of τ at `tau`.
    pub fn tau_density(&self, tau: f64) -> f64 {
        if tau < 0.0 {
            0.0
        } else {
            self.grid.density(tau)
        }
    }

    /// P(τ ≤ t | y).
    pub fn tau_cdf(&self, t: f64) -> f64 {
        self.grid.cdf(t)
    }

    /// The prior density of τ at `tau` (unnormalised for improper priors).
    pub fn tau_prior_density(&self, tau: f64) -> f64 {
        self.model
            .tau_prior
            .log_density(tau, &self.grid.likelihood.v)
            .exp()
    }
}

/// θᵢ given τ: mean bᵢ yᵢ + (1 − bᵢ) E(μ|τ), variance bᵢ σᵢ² + (1 − bᵢ)² Var(μ|τ),
/// with bᵢ = τ² / (σᵢ² + τ²); mixed over the posterior of τ.
fn shrunken(
    likelihood: &Likelihood,
    weighted: &[(f64, &grid::Node)],
    i: usize,
    level: f64,
) -> Result<Shrunken> {
    let (y, v) = (likelihood.y[i], likelihood.v[i]);
    let mut mixture = Mixture::default();
    for &(p, node) in weighted {
        let c = node.conditional;
        let t2 = node.tau * node.tau;
        let b = t2 / (v + t2);
        mixture.weights.push(p);
        mixture.means.push(b * y + (1.0 - b) * c.mean);
        mixture.sds.push((b * v + (1.0 - b).powi(2) * c.var).sqrt());
    }
    let tail = (1.0 - level) / 2.0;
    Ok(Shrunken {
        mean: mixture.mean(),
        sd: mixture.sd(),
        median: mixture.quantile(0.5)?,
        central: [mixture.quantile(tail)?, mixture.quantile(1.0 - tail)?],
    })
}
