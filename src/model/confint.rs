//! The Q-profile confidence interval for τ² (Viechtbauer 2007), as metafor's
//! `confint()` computes it, with the I² and H² bounds it implies.

use serde::Serialize;
use statrs::distribution::ContinuousCDF;

use super::chi_squared;
use super::moments::{generalised_q, typical_variance};
use super::root::decreasing_root;
use super::standardise::Standardised;
use crate::error::Result;

/// A confidence interval for τ² and the matching bounds of I² and H².
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Tau2Interval {
    /// Lower bound of τ².
    pub tau2_ci_lower: f64,
    /// Upper bound of τ².
    pub tau2_ci_upper: f64,
    /// Lower bound of I², percent.
    pub i2_ci_lower: f64,
    /// Upper bound of I², percent.
    pub i2_ci_upper: f64,
    /// Lower bound of H².
    pub h2_ci_lower: f64,
    /// Upper bound of H².
    pub h2_ci_upper: f64,
    /// Where metafor's `confint()` stops searching by default,
    /// max(100, 10 τ̂²) on the data's scale: a bound beyond it metafor
    /// prints as `>limit` (cochran reports the bound, and says so).
    pub search_limit: f64,
    /// The upper bound lies beyond [`search_limit`](Self::search_limit).
    pub upper_beyond_limit: bool,
    /// The lower bound lies beyond [`search_limit`](Self::search_limit).
    pub lower_beyond_limit: bool,
    /// I² and H² at the search limit, which metafor prints for bounds beyond it.
    pub i2_at_limit: f64,
    /// H² at the search limit.
    pub h2_at_limit: f64,
}

/// The τ² values at which the generalised Q statistic crosses the χ²(k − 1)
/// quantiles; a bound whose crossing lies below 0 is truncated at 0. Solved on
/// the standardised scale, reported on the data's.
pub(crate) fn q_profile(data: &Standardised, level: f64, tau2: f64) -> Result<Tau2Interval> {
    let alpha = 1.0 - level / 100.0;
    let chi2 = chi_squared((data.effects().len() - data.p()) as f64);
    let q_at_zero = generalised_q(data, 0.0);
    let bound = |target: f64| -> Result<f64> {
        if q_at_zero < target {
            Ok(0.0)
        } else {
            decreasing_root(|tau2| generalised_q(data, tau2) - target, 0.0)
        }
    };
    let tau2_ci_lower = bound(chi2.inverse_cdf(1.0 - alpha / 2.0))?;
    let tau2_ci_upper = bound(chi2.inverse_cdf(alpha / 2.0))?;
    let typical = typical_variance(data);
    let i2 = |tau2: f64| 100.0 * tau2 / (typical + tau2);
    let h2 = |tau2: f64| tau2 / typical + 1.0;
    let search_limit = (10.0 * data.variance(tau2)).max(100.0);
    let standard_limit = search_limit / data.variance(1.0);
    Ok(Tau2Interval {
        search_limit,
        upper_beyond_limit: tau2_ci_upper > standard_limit,
        lower_beyond_limit: tau2_ci_lower > standard_limit,
        i2_at_limit: i2(standard_limit),
        h2_at_limit: h2(standard_limit),
        tau2_ci_lower: data.variance(tau2_ci_lower),
        tau2_ci_upper: data.variance(tau2_ci_upper),
        i2_ci_lower: i2(tau2_ci_lower),
        i2_ci_upper: i2(tau2_ci_upper),
        h2_ci_lower: h2(tau2_ci_lower),
        h2_ci_upper: h2(tau2_ci_upper),
    })
}
