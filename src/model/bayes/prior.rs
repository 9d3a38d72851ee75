//! Prior distributions for the heterogeneity τ and the overall effect μ of
//! the Bayesian random-effects model, by name and parameters.
//!
//! ```
//! use cochran::model::{MuPrior, TauPrior};
//! let tau: TauPrior = "half-normal(0.5)".parse()?;
//! assert_eq!(tau, TauPrior::HalfNormal { scale: 0.5 });
//! assert_eq!(tau.to_string(), "half-normal(0.5)");
//! // Turner et al. (2015), the marginal setting for binary outcomes: τ² log-normal.
//! let turner: TauPrior = "turner".parse()?;
//! assert_eq!(turner, TauPrior::LogNormal { mu: -2.56, sigma: 1.74 });
//! let mu: MuPrior = "normal(0, 10)".parse()?;
//! assert_eq!(mu, MuPrior::Normal { mean: 0.0, sd: 10.0 });
//! # Ok::<(), cochran::Error>(())
//! ```

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use statrs::function::gamma::ln_gamma;

use crate::error::{Error, ErrorKind, Result};

/// A prior for the between-study standard deviation τ.
///
/// The empirical priors of Turner et al. (2015, binary outcomes, log odds
/// ratios) and Rhodes et al. (2015, standardised mean differences) are
/// distributions of τ², as their papers state them: [`TauPrior::LogNormal`]
/// and [`TauPrior::LogStudentT`] take the parameters of log τ².
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum TauPrior {
    /// Half-normal with the given scale (the SD of the normal it folds).
    HalfNormal {
        /// Scale, > 0.
        scale: f64,
    },
    /// Half-Cauchy with the given scale.
    HalfCauchy {
        /// Scale, > 0.
        scale: f64,
    },
    /// Half-Student-t with `df` degrees of freedom and the given scale.
    HalfStudentT {
        /// Degrees of freedom, > 0.
        df: f64,
        /// Scale, > 0.
        scale: f64,
    },
    /// Uniform on [0, `upper`], or the improper uniform on [0, ∞) without a bound.
    Uniform {
        /// The upper bound, if any.
        upper: Option<f64>,
    },
    /// The improper Jeffreys prior of τ given μ, √Σ (τ / (σᵢ² + τ²))²
    /// (Tibshirani 1989; Bodnar et al. 2017): it depends on the studies'
    /// standard errors.
    Jeffreys,
    /// log τ² normal with mean `mu` and SD `sigma` (Turner et al. 2015).
    LogNormal {
        /// Mean of log τ².
        mu: f64,
        /// SD of log τ², > 0.
        sigma: f64,
    },
    /// log τ² Student-t with location, scale and `df` (Rhodes et al. 2015 use 5).
    LogStudentT {
        /// Location of log τ².
        location: f64,
        /// Scale of log τ², > 0.
        scale: f64,
        /// Degrees of freedom, > 0.
        df: f64,
    },
}

/// A prior for the overall effect μ.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum MuPrior {
    /// The improper uniform prior on the real line.
    #[default]
    Uniform,
    /// Normal with the given mean and SD.
    Normal {
        /// Prior mean.
        mean: f64,
        /// Prior SD, > 0.
        sd: f64,
    },
}

/// log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ): the log normalising constant of
/// Student's t density.
fn t_log_constant(df: f64) -> f64 {
    ln_gamma((df + 1.0) / 2.0) - ln_gamma(df / 2.0) - 0.5 * (df * PI).ln()
}

fn t_log_density(x: f64, df: f64) -> f64 {
    t_log_constant(df) - (df + 1.0) / 2.0 * (x * x / df).ln_1p()
}

impl TauPrior {
    /// Whether the prior integrates to one (Bayes factors and the marginal
    /// likelihood need it).
    pub fn is_proper(&self) -> bool {
        !matches!(self, TauPrior::Uniform { upper: None } | TauPrior::Jeffreys)
    }

    /// The largest τ the prior allows.
    pub(crate) fn upper(&self) -> f64 {
        match self {
            TauPrior::Uniform { upper: Some(upper) } => *upper,
            _ => f64::INFINITY,
        }
    }

    /// How the prior density falls as τ → ∞: p(τ) ~ τ^a (log τ)^−b as
    /// (a, b), with a = −∞ for tails lighter than any power. It decides
    /// whether the posterior is proper and which of its moments are finite.
    pub(crate) fn tail(&self) -> (f64, f64) {
        match *self {
            TauPrior::Uniform { upper: None } => (0.0, 0.0),
            TauPrior::Jeffreys => (-1.0, 0.0),
            TauPrior::HalfCauchy { .. } => (-2.0, 0.0),
            TauPrior::HalfStudentT { df, .. } => (-(df + 1.0), 0.0),
            // log τ² ~ t: the density of τ is τ^−1 (log τ)^−(df+1) far out.
            TauPrior::LogStudentT { df, .. } => (-1.0, df + 1.0),
            TauPrior::HalfNormal { .. } | TauPrior::Uniform { .. } | TauPrior::LogNormal { .. } => {
                (f64::NEG_INFINITY, 0.0)
            }
        }
    }

    /// The log density at τ ≥ 0 (up to a constant for improper priors);
    /// `variances` are the studies' sampling variances, which the Jeffreys
    /// prior depends on.
    pub fn log_density(&self, tau: f64, variances: &[f64]) -> f64 {
        if tau.is_nan() || tau < 0.0 || tau > self.upper() {
            return f64::NEG_INFINITY;
        }
        match *self {
            TauPrior::HalfNormal { scale } => {
                (2.0 / PI).sqrt().ln() - scale.ln() - 0.5 * (tau / scale).powi(2)
            }
            TauPrior::HalfCauchy { scale } => {
                (2.0 / PI).ln() - scale.ln() - (tau / scale).powi(2).ln_1p()
            }
            TauPrior::HalfStudentT { df, scale } => {
                2f64.ln() + t_log_density(tau / scale, df) - scale.ln()
            }
            TauPrior::Uniform { upper } => upper.map_or(0.0, |upper| -upper.ln()),
            TauPrior::Jeffreys => {
                let sum: f64 = variances
                    .iter()
                    .map(|v| (tau / (v + tau * tau)).powi(2))
                    .sum();
                0.5 * sum.ln()
            }
            TauPrior::LogNormal { mu, sigma } => {
                // log τ = ½ log τ² is normal(mu/2, sigma/2).
                let (m, s) = (mu / 2.0, sigma / 2.0);
                let z = (tau.ln() - m) / s;
                -tau.ln() - s.ln() - 0.5 * (2.0 * PI).ln() - 0.5 * z * z
            }
            TauPrior::LogStudentT {
                location,
                scale,
                df,
            } => {
                let (m, s) = (location / 2.0, scale / 2.0);
                t_log_density((tau.ln() - m) / s, df) - s.ln() - tau.ln()
            }
        }
    }

    /// The derivative of [`log_density`](Self::log_density) with respect to τ > 0.
    pub(crate) fn log_density_slope(&self, tau: f64, variances: &[f64]) -> f64 {
        match *self {
            TauPrior::HalfNormal { scale } => -tau / (scale * scale),
            TauPrior::HalfCauchy { scale } => half_t_slope(tau, 1.0, scale),
            TauPrior::HalfStudentT { df, scale } => half_t_slope(tau, df, scale),
            TauPrior::Uniform { .. } => 0.0,
            TauPrior::Jeffreys => {
                let (sum, slope) = variances.iter().fold((0.0, 0.0), |(s, d), v| {
                    let total = v + tau * tau;
                    (
                        s + (tau / total).powi(2),
                        d + 2.0 * tau * (v - tau * tau) / total.powi(3),
                    )
                });
                slope / (2.0 * sum)
            }
            TauPrior::LogNormal { mu, sigma } => {
                let (m, s) = (mu / 2.0, sigma / 2.0);
                -1.0 / tau - (tau.ln() - m) / (s * s * tau)
            }
            TauPrior::LogStudentT {
                location,
                scale,
                df,
            } => {
                let (m, s) = (location / 2.0, scale / 2.0);
                let z = (tau.ln() - m) / s;
                -(df + 1.0) * z / (df * s * tau) / (1.0 + z * z / df) - 1.0 / tau
            }
        }
    }

    /// Checks the parameters: scales and degrees of freedom positive and finite.
    pub fn check(&self) -> Result<()> {
        let positive = |what: &str, value: f64| -> Result<()> {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(invalid(format!(
                    "the {what} of the prior for τ must be a positive number, not {value}"
                )))
            }
        };
        match *self {
            TauPrior::HalfNormal { scale } | TauPrior::HalfCauchy { scale } => {
                positive("scale", scale)
            }
            TauPrior::HalfStudentT { df, scale } => {
                positive("degrees of freedom", df)?;
                positive("scale", scale)
            }
            TauPrior::Uniform { upper } => upper.map_or(Ok(()), |u| positive("upper bound", u)),
            TauPrior::Jeffreys => Ok(()),
            TauPrior::LogNormal { mu, sigma } => {
                positive("SD", sigma)?;
                finite("mean", mu)
            }
            TauPrior::LogStudentT {
                location,
                scale,
                df,
            } => {
                positive("scale", scale)?;
                positive("degrees of freedom", df)?;
                finite("location", location)
            }
        }
    }

    /// The names [`FromStr`] accepts, with their parameters.
    pub fn valid_names() -> Vec<String> {
        [
            "half-normal(scale)",
            "half-cauchy(scale)",
            "half-t(df, scale)",
            "uniform",
            "uniform(upper)",
            "jeffreys",
            "log-normal(mean, sd) of log τ²",
            "log-t(location, scale, df) of log τ²",
            "turner",
            "turner:OUTCOME:COMPARISON",
            "rhodes",
            "rhodes:OUTCOME:COMPARISON",
        ]
        .map(String::from)
        .to_vec()
    }
}

fn half_t_slope(tau: f64, df: f64, scale: f64) -> f64 {
    -(df + 1.0) / df * tau / (scale * scale) / (1.0 + (tau / scale).powi(2) / df)
}

fn finite(what: &str, value: f64) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(invalid(format!(
            "the {what} of the prior must be a finite number, not {value}"
        )))
    }
}

fn invalid(message: String) -> Error {
    ErrorKind::InvalidSetting(message).into()
}

impl MuPrior {
    /// The log density at `mu` (0 for the improper uniform prior).
    pub fn log_density(&self, mu: f64) -> f64 {
        match *self {
            MuPrior::Uniform => 0.0,
            MuPrior::Normal { mean, sd } => {
                let z = (mu - mean) / sd;
                -0.5 * z * z - sd.ln() - 0.5 * (2.0 * PI).ln()
            }
        }
    }

    /// Whether the prior integrates to one.
    pub fn is_proper(&self) -> bool {
        matches!(self, MuPrior::Normal { .. })
    }

    /// Checks the parameters.
    pub fn check(&self) -> Result<()> {
        match *self {
            MuPrior::Uniform => Ok(()),
            MuPrior::Normal { mean, sd } => {
                finite("mean", mean)?;
                // Its precision 1/sd² must be a number too: below ~1e-154 it overflows.
                if sd.is_finite() && sd > 0.0 && (1.0 / (sd * sd)).is_finite() {
                    Ok(())
                } else {
                    Err(invalid(format!(
                        "the SD of the prior for μ must be a positive number of at least \
                         1e-150, not {sd}"
                    )))
                }
            }
        }
    }
}

/// Splits `name(a, b)` into the name and its numbers.
fn call(text: &str) -> Result<(String, Vec<f64>)> {
    let text = text.trim();
    let (name, arguments) = match text.find('(') {
        Some(open) if text.ends_with(')') => (&text[..open], &text[open + 1..text.len() - 1]),
        Some(_) => return Err(invalid(format!("`{text}` has no closing parenthesis"))),
        None => (text, ""),
    };
    let numbers = arguments
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| {
            a.parse::<f64>()
                .map_err(|_| invalid(format!("`{a}` in `{text}` is not a number")))
        })
        .collect::<Result<Vec<f64>>>()?;
    let name = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    Ok((name, numbers))
}

fn arity(text: &str, numbers: &[f64], expected: &[usize]) -> Result<()> {
    if expected.contains(&numbers.len()) {
        Ok(())
    } else {
        Err(invalid(format!(
            "`{text}` takes {} number(s) in parentheses",
            expected
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        )))
    }
}

impl FromStr for TauPrior {
    type Err = Error;

    fn from_str(text: &str) -> Result<TauPrior> {
        if let Some(prior) = super::empirical::by_setting(text) {
            return prior;
        }
        let (name, n) = call(text)?;
        let prior = match name.as_str() {
            "half-normal" | "halfnormal" => {
                arity(text, &n, &[1])?;
                TauPrior::HalfNormal { scale: n[0] }
            }
            "half-cauchy" | "halfcauchy" => {
                arity(text, &n, &[1])?;
                TauPrior::HalfCauchy { scale: n[0] }
            }
            "half-t" | "half-student-t" | "halft" => {
                arity(text, &n, &[2])?;
                TauPrior::HalfStudentT {
                    df: n[0],
                    scale: n[1],
                }
            }
            "uniform" => {
                arity(text, &n, &[0, 1])?;
                TauPrior::Uniform {
                    upper: n.first().copied(),
                }
            }
            "jeffreys" => {
                arity(text, &n, &[0])?;
                TauPrior::Jeffreys
            }
            "log-normal" | "lognormal" => {
                arity(text, &n, &[2])?;
                TauPrior::LogNormal {
                    mu: n[0],
                    sigma: n[1],
                }
            }
            "log-t" | "log-student-t" => {
                arity(text, &n, &[3])?;
                TauPrior::LogStudentT {
                    location: n[0],
                    scale: n[1],
                    df: n[2],
                }
            }
            // Turner et al. (2015), the marginal setting of their Table IV's model
            // (any outcome, any comparison): log τ² ~ N(−2.56, 1.74²).
            "turner" => {
                arity(text, &n, &[0])?;
                TauPrior::LogNormal {
                    mu: -2.56,
                    sigma: 1.74,
                }
            }
            // Rhodes et al. (2015), the general setting (their Sec. 3.3):
            // log τ² ~ t₅(−3.44, 2.59).
            "rhodes" => {
                arity(text, &n, &[0])?;
                TauPrior::LogStudentT {
                    location: -3.44,
                    scale: 2.59,
                    df: 5.0,
                }
            }
            _ => {
                return Err(ErrorKind::UnknownName {
                    what: "prior for τ",
                    given: text.trim().to_string(),
                    valid: TauPrior::valid_names(),
                }
                .into());
            }
        };
        prior.check()?;
        Ok(prior)
    }
}

impl FromStr for MuPrior {
    type Err = Error;

    fn from_str(text: &str) -> Result<MuPrior> {
        let (name, n) = call(text)?;
        let prior = match name.as_str() {
            "uniform" | "flat" => {
                arity(text, &n, &[0])?;
                MuPrior::Uniform
            }
            "normal" => {
                arity(text, &n, &[2])?;
                MuPrior::Normal {
                    mean: n[0],
                    sd: n[1],
                }
            }
            _ => {
                return Err(ErrorKind::UnknownName {
                    what: "prior for μ",
                    given: text.trim().to_string(),
                    valid: vec!["uniform".into(), "normal(mean, sd)".into()],
                }
                .into());
            }
        };
        prior.check()?;
        Ok(prior)
    }
}

impl fmt::Display for TauPrior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TauPrior::HalfNormal { scale } => write!(f, "half-normal({scale})"),
            TauPrior::HalfCauchy { scale } => write!(f, "half-cauchy({scale})"),
            TauPrior::HalfStudentT { df, scale } => write!(f, "half-t({df}, {scale})"),
            TauPrior::Uniform { upper: None } => write!(f, "uniform"),
            TauPrior::Uniform { upper: Some(u) } => write!(f, "uniform({u})"),
            TauPrior::Jeffreys => write!(f, "jeffreys"),
            TauPrior::LogNormal { mu, sigma } => write!(f, "log-normal({mu}, {sigma})"),
            TauPrior::LogStudentT {
                location,
                scale,
                df,
            } => write!(f, "log-t({location}, {scale}, {df})"),
        }
    }
}

impl fmt::Display for MuPrior {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MuPrior::Uniform => write!(f, "uniform"),
            MuPrior::Normal { mean, sd } => write!(f, "normal({mean}, {sd})"),
        }
    }
}

impl Serialize for TauPrior {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for MuPrior {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
