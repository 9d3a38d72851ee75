//! The test for differences between subgroups.

use serde::Serialize;
use statrs::distribution::ContinuousCDF;

use super::{Fit, chi_squared};
use crate::error::{ErrorKind, Result};

/// Cochran's Q between subgroup estimates, each weighted by the inverse of its
/// squared standard error (the test RevMan and R's `meta` report when τ² is
/// estimated within each subgroup).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SubgroupDifference {
    /// Q between subgroups.
    pub q: f64,
    /// Degrees of freedom: the number of subgroups − 1.
    pub df: f64,
    /// p-value from χ²(df), or from F(df, df_residual).
    pub p_value: f64,
    /// The denominator degrees of freedom of an F test (subgroups with one τ²
    /// under Knapp–Hartung); `None` for the χ² test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub df_residual: Option<f64>,
}

/// The test for subgroup differences; `None` with fewer than two subgroups.
///
/// A subgroup whose standard error is 0 (Knapp–Hartung on identical effects)
/// would get an infinite weight: that is an error saying which, not a NaN.
///
/// ```
/// use cochran::{Effect, MetaAnalysis, subgroup_difference};
/// let a = MetaAnalysis::common().fit(&[Effect::new(0.1, 0.01)?, Effect::new(0.2, 0.01)?])?;
/// let b = MetaAnalysis::common().fit(&[Effect::new(0.8, 0.02)?, Effect::new(0.9, 0.02)?])?;
/// let test = subgroup_difference(&[a, b])?.expect("two subgroups");
/// assert_eq!(test.df, 1.0);
/// assert!(test.p_value < 0.001);
/// # Ok::<(), cochran::Error>(())
/// ```
pub fn subgroup_difference(fits: &[Fit]) -> Result<Option<SubgroupDifference>> {
    if fits.len() < 2 {
        return Ok(None);
    }
    if let Some(position) = fits.iter().position(|f| f.se.is_nan() || f.se <= 0.0) {
        return Err(ErrorKind::Numerical(format!(
            "subgroup {} (in order of appearance) has a standard error of 0 (under \
             Knapp-Hartung its effects are identical), so the subgroups cannot be weighted",
            position + 1
        ))
        .into());
    }
    let weight = |f: &Fit| 1.0 / (f.se * f.se);
    let total: f64 = fits.iter().map(weight).sum();
    let mean = fits.iter().map(|f| weight(f) * f.estimate).sum::<f64>() / total;
    let q = fits
        .iter()
        .map(|f| weight(f) * (f.estimate - mean).powi(2))
        .sum::<f64>();
    let df = (fits.len() - 1) as f64;
    Ok(Some(SubgroupDifference {
        q,
        df,
        p_value: chi_squared(df).sf(q),
        df_residual: None,
    }))
}
