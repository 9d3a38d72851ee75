//! What every GLMM of counts provides: the common-effect fit, the tests of
//! heterogeneity against the saturated model, and the random-effects fit.

use super::newton::Maximum;
use crate::error::{ErrorKind, Result};
use crate::model::tables::ChiSquareTest;

/// A model of the studies' counts.
pub(crate) trait Likelihood {
    /// The common-effect fit (τ² = 0).
    fn common(&self) -> Result<CommonFit>;
    /// The Wald and likelihood-ratio tests of the saturated model.
    fn saturated_tests(&self, common: &CommonFit) -> SaturatedTests;
    /// The maximum-likelihood random-effects fit with `points` quadrature
    /// nodes per study (1: the Laplace approximation).
    fn random(&self, common: &CommonFit, points: usize) -> Result<RandomFit>;
}

/// The common-effect (GLM) fit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CommonFit {
    pub beta: f64,
    pub variance: f64,
    /// With the distributions' constants.
    pub log_likelihood: f64,
    /// The study effects of models with one per study (UM.FS); empty otherwise.
    pub study_effects: Vec<f64>,
}

/// A fitted model: the random-effects fit, or the common effect as one with τ² = 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RandomFit {
    pub beta: f64,
    pub variance: f64,
    pub tau2: f64,
    /// The maximised (quadrature) log-likelihood, constants included.
    pub log_likelihood: f64,
    pub converged: bool,
}

impl From<&CommonFit> for RandomFit {
    fn from(common: &CommonFit) -> Self {
        RandomFit {
            beta: common.beta,
            variance: common.variance,
            tau2: 0.0,
            log_likelihood: common.log_likelihood,
            converged: true,
        }
    }
}

/// The tests of heterogeneity metafor reports: Wald and likelihood-ratio tests
/// of the saturated model (a parameter per study) against the common effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SaturatedTests {
    pub wald: Option<ChiSquareTest>,
    pub likelihood_ratio: Option<ChiSquareTest>,
}

impl SaturatedTests {
    /// The tests on `k − 1` degrees of freedom from the saturated model's
    /// log-likelihood and its per-study estimates with their information (the
    /// studies whose own estimate is infinite have none and are left out: the
    /// limit of the Wald statistic as glm()'s iterations go on).
    pub fn new(
        k: usize,
        saturated_log_likelihood: f64,
        common: &CommonFit,
        estimates: impl Iterator<Item = Option<(f64, f64)>>,
    ) -> Self {
        let df = k as f64 - 1.0;
        let lrt = (2.0 * (saturated_log_likelihood - common.log_likelihood)).max(0.0);
        let (mut sw, mut swy, mut swyy) = (0.0, 0.0, 0.0);
        for (y, weight) in estimates.flatten() {
            sw += weight;
            swy += weight * y;
            swyy += weight * y * y;
        }
        let wald = if sw > 0.0 {
            (swyy - swy * swy / sw).max(0.0)
        } else {
            0.0
        };
        SaturatedTests {
            wald: ChiSquareTest::new(wald, df),
            likelihood_ratio: ChiSquareTest::new(lrt, df),
        }
    }
}

/// A between-study variance beyond any real one on a log or logit scale
/// (a study-to-study SD of 100): the likelihood rising towards it has no maximum.
const MAX_TAU2: f64 = 1e4;

/// The random-effects fit from the maximum of the log-likelihood over
/// (β, log τ) (other parameters profiled out), or an error when the maximum
/// is not at a finite τ².
pub(crate) fn random_fit(max: &Maximum, constant: f64) -> Result<RandomFit> {
    let [h_bb, h_bs, _, h_ss] = max.hessian[..] else {
        unreachable!("two parameters")
    };
    let variance = -h_ss / (h_bb * h_ss - h_bs * h_bs);
    let tau2 = (2.0 * max.at[1]).exp();
    if !(tau2 < MAX_TAU2 && variance > 0.0 && variance.is_finite()) {
        return Err(ErrorKind::Numerical(format!(
            "the random-effects likelihood has no maximum at a finite τ² (it still rises at \
             τ² = {tau2:.3e}): the studies' counts lie at or near their bounds (no events, or nothing but events)"
        ))
        .into());
    }
    Ok(RandomFit {
        beta: max.at[0],
        variance,
        tau2,
        log_likelihood: max.value + constant,
        converged: max.converged,
    })
}
