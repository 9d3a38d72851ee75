//! Two independent groups with a continuous outcome: MD, SMD (Hedges' g), ROM.

use serde::Serialize;
use statrs::function::gamma::ln_gamma;

use super::Effect;
use crate::error::{Error, Result};

/// Summary statistics of one group: size, mean and standard deviation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Arm {
    /// Number of participants.
    pub n: f64,
    /// Mean of the outcome.
    pub mean: f64,
    /// Standard deviation of the outcome.
    pub sd: f64,
}

impl Arm {
    /// Validates one group's summary. `suffix` (`"1"` or `"2"`) names the columns
    /// in errors, e.g. `sd1`.
    ///
    /// ```
    /// use cochran::effect::Arm;
    /// let arm = Arm::new(20.0, 5.1, 1.2, "1")?;
    /// assert!(Arm::new(1.0, 5.1, 1.2, "1").is_err()); // an SD needs n >= 2
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn new(n: f64, mean: f64, sd: f64, suffix: &str) -> Result<Self> {
        check_n(n, 2.0, &format!("n{suffix}"), "a standard deviation")?;
        check_finite(mean, &format!("mean{suffix}"))?;
        check_sd(sd, &format!("sd{suffix}"))?;
        Ok(Arm { n, mean, sd })
    }
}

/// A two-group comparison; group 1 is the treatment, group 2 the control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoArms {
    /// Group 1 (treatment).
    pub treatment: Arm,
    /// Group 2 (control).
    pub control: Arm,
}

/// Raw mean difference, treatment − control, with unequal-variance sampling variance.
pub(crate) fn mean_difference(s: &TwoArms) -> Result<Effect> {
    let (t, c) = (&s.treatment, &s.control);
    Effect::new(t.mean - c.mean, t.sd.powi(2) / t.n + c.sd.powi(2) / c.n)
}

/// Hedges' g with the exact small-sample correction and the large-sample variance.
pub(crate) fn standardized_mean_difference(s: &TwoArms) -> Result<Effect> {
    let (t, c) = (&s.treatment, &s.control);
    let df = t.n + c.n - 2.0;
    let pooled_sd = (((t.n - 1.0) * t.sd.powi(2) + (c.n - 1.0) * c.sd.powi(2)) / df).sqrt();
    if pooled_sd == 0.0 {
        return Err(Error::invalid(
            "sd1",
            "both standard deviations are 0: a standardised difference is undefined",
        ));
    }
    let g = hedges_correction(df) * (t.mean - c.mean) / pooled_sd;
    Effect::new(g, 1.0 / t.n + 1.0 / c.n + g * g / (2.0 * (t.n + c.n)))
}

/// Log ratio of means; both means must be positive.
pub(crate) fn log_ratio_of_means(s: &TwoArms) -> Result<Effect> {
    let (t, c) = (&s.treatment, &s.control);
    for (mean, column) in [(t.mean, "mean1"), (c.mean, "mean2")] {
        if mean <= 0.0 {
            return Err(Error::invalid(
                column,
                format!("the ratio of means needs positive means, found {mean}"),
            ));
        }
    }
    let vi = t.sd.powi(2) / (t.n * t.mean.powi(2)) + c.sd.powi(2) / (c.n * c.mean.powi(2));
    Effect::new((t.mean / c.mean).ln(), vi)
}

/// The exact bias correction of a standardised mean difference with `df` degrees
/// of freedom: Γ(df/2) / (√(df/2) Γ((df−1)/2)).
pub(crate) fn hedges_correction(df: f64) -> f64 {
    (ln_gamma(df / 2.0) - 0.5 * (df / 2.0).ln() - ln_gamma((df - 1.0) / 2.0)).exp()
}

pub(crate) fn check_finite(value: f64, column: &str) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            column,
            format!("expected a finite number, found {value}"),
        ))
    }
}

pub(crate) fn check_sd(sd: f64, column: &str) -> Result<()> {
    check_finite(sd, column)?;
    if sd < 0.0 {
        return Err(Error::invalid(
            column,
            format!("a standard deviation cannot be negative, found {sd}"),
        ));
    }
    Ok(())
}

/// Checks that a count of participants or events is a whole number.
pub(crate) fn check_count(value: f64, column: &str) -> Result<()> {
    check_finite(value, column)?;
    if value.fract() != 0.0 {
        return Err(Error::invalid(
            column,
            format!("a count of participants or events must be a whole number, found {value}"),
        ));
    }
    Ok(())
}

/// Checks a sample size against the smallest one `purpose` needs.
pub(crate) fn check_n(n: f64, minimum: f64, column: &str, purpose: &str) -> Result<()> {
    check_count(n, column)?;
    if n < minimum {
        return Err(Error::invalid(
            column,
            format!("{purpose} needs a sample size of at least {minimum}, found {n}"),
        ));
    }
    Ok(())
}
