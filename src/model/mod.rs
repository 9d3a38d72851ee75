//! Common-effect and random-effects models for effect sizes.
//!
//! Build a model with [`MetaAnalysis`], fit it to a slice of [`Effect`]s, and read
//! the [`Fit`]:
//!
//! ```
//! use cochran::{Effect, MetaAnalysis, Tau2, Test};
//!
//! let effects = [
//!     Effect::new(-0.89, 0.33)?,
//!     Effect::new(-1.59, 0.19)?,
//!     Effect::new(-1.35, 0.42)?,
//!     Effect::new(-1.44, 0.02)?,
//! ];
//! let fit = MetaAnalysis::random(Tau2::Reml).test(Test::Knha).fit(&effects)?;
//! assert_eq!(fit.k, 4);
//! assert!(fit.ci_lower < fit.estimate && fit.estimate < fit.ci_upper);
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! The intercept-only model never builds a k × k matrix: each iteration of an
//! estimator is a pass over the studies, so a fit costs O(k) time and memory.

mod bayes;
mod capability;
mod coefficients;
mod confint;
mod deletion;
mod design;
mod glmm;
mod linalg;
mod moments;
mod multilevel;
mod permutation;
mod regression;
mod root;
mod standardise;
mod subgroup;
mod tables;
mod tau2;

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use statrs::distribution::ContinuousCDF;

pub use bayes::{BayesianMetaAnalysis, Marginal, MuPrior, Posterior, Shrunken, TauPrior};
pub use capability::{Capability, ModelKind};
pub use coefficients::{Coefficient, Prediction, Regression};
pub use confint::Tau2Interval;
pub use design::{Design, DesignBuilder, INTERCEPT};
pub use glmm::{Glmm, GlmmData, GlmmFit, GlmmModel, QUADRATURE_POINTS};
pub use multilevel::{Clusters, RobustCoefficient, Rve, RveFit, ThreeLevel, ThreeLevelFit};
pub use permutation::PermutationTest;
pub use subgroup::{SubgroupDifference, subgroup_difference};
pub use tau2::{CONVERGENCE_THRESHOLD, MAX_ITERATIONS, Tau2};

use crate::effect::{Effect, Measure, TwoByTwo};
use crate::error::{Error, ErrorKind, Result};
pub(crate) use crate::stats::{chi_squared, standard_normal};
use crate::stats::{t_quantile, t_upper_tail};
pub(crate) use deletion::{Deletions, Hints};
use moments::Moments;
use standardise::Standardised;
pub use tables::ChiSquareTest;
pub(crate) use tables::PooledTables;
use tau2::Tau2Diagnostic;

/// The highest confidence level accepted, in percent: beyond it the critical
/// values of a t distribution with one degree of freedom leave double precision
/// long before they mean anything.
pub const MAX_LEVEL: f64 = 99.999_999;

/// metafor warns when the largest sampling variance exceeds the smallest this many times.
const VARIANCE_RATIO_WARNING: f64 = 1e7;

/// Common effect (inverse-variance) or random effects with a τ² estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// The common-effect ("fixed-effect", `FE`/`EE`/`CE`) model: τ² = 0.
    Common,
    /// The random-effects model with the given estimator of τ².
    Random(Tau2),
    /// The Mantel–Haenszel common-effect model of 2×2 tables (OR, RR, RD).
    MantelHaenszel,
    /// Peto's one-step common-effect odds ratio of 2×2 tables.
    Peto,
    /// The generalised linear mixed model of the studies' counts (see
    /// [`Glmm`]): random effects by maximum likelihood, no continuity corrections.
    Glmm,
}

impl Method {
    /// The name metafor prints: `FE`, or the τ² estimator's.
    pub fn name(self) -> &'static str {
        match self {
            Method::Common => "FE",
            Method::Random(t) => t.name(),
            Method::MantelHaenszel => "MH",
            Method::Peto => "PETO",
            Method::Glmm => "GLMM",
        }
    }

    /// Every accepted name, for messages.
    pub fn valid_names() -> Vec<String> {
        let mut names: Vec<String> = ["FE", "EE", "CE"].map(String::from).to_vec();
        names.extend(Tau2::ALL.iter().map(|t| t.name().to_string()));
        names.extend(["MH", "PETO", "GLMM"].map(String::from));
        names
    }

    /// True for the methods that pool 2×2 tables rather than effect sizes.
    pub fn pools_tables(self) -> bool {
        matches!(self, Method::MantelHaenszel | Method::Peto)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;

    /// `FE`, `EE` and `CE` mean the common-effect model; anything else must name
    /// a τ² estimator. Case does not matter.
    ///
    /// ```
    /// use cochran::{Method, Tau2};
    /// assert_eq!("ee".parse::<Method>()?, Method::Common);
    /// assert_eq!("PM".parse::<Method>()?, Method::Random(Tau2::Pm));
    /// assert!("XYZ".parse::<Method>().is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        if ["FE", "EE", "CE"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(s.trim()))
        {
            return Ok(Method::Common);
        }
        match s.trim().to_ascii_uppercase().as_str() {
            "MH" => return Ok(Method::MantelHaenszel),
            "PETO" => return Ok(Method::Peto),
            "GLMM" => return Ok(Method::Glmm),
            _ => {}
        }
        s.parse::<Tau2>().map(Method::Random).map_err(|_| {
            ErrorKind::UnknownName {
                what: "method",
                given: s.to_string(),
                valid: Method::valid_names(),
            }
            .into()
        })
    }
}

/// How the pooled estimate is tested and its interval built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[non_exhaustive]
pub enum Test {
    /// Normal (Wald) test and interval.
    #[default]
    #[serde(rename = "z")]
    Z,
    /// Knapp–Hartung: rescaled variance and a t distribution with k − 1 df.
    #[serde(rename = "knha")]
    Knha,
    /// Knapp–Hartung with the ad hoc correction (metafor's `test = "adhoc"`):
    /// the variance is never scaled below the z test's, so the interval is
    /// never narrower than Knapp–Hartung's or the z test's would allow with
    /// few studies that happen to agree.
    #[serde(rename = "adhoc")]
    Adhoc,
}

impl Test {
    /// The name on the command line and in JSON: `z`, `knha` or `adhoc`.
    pub fn name(self) -> &'static str {
        match self {
            Test::Z => "z",
            Test::Knha => "knha",
            Test::Adhoc => "adhoc",
        }
    }

    /// Whether the test refers to a t distribution (Knapp–Hartung, plain or ad hoc).
    ///
    /// ```
    /// use cochran::Test;
    /// assert!(Test::Adhoc.uses_t() && !Test::Z.uses_t());
    /// ```
    pub fn uses_t(self) -> bool {
        self != Test::Z
    }

    /// Knapp–Hartung's scale factor from the residual sum `q` on `df`
    /// degrees of freedom (1 for the z test): a sum that is zero up to
    /// rounding is zero, as metafor has it; the ad hoc test never goes below 1.
    pub(crate) fn scale_factor(self, q: f64, df: f64) -> f64 {
        let s2w = if q <= f64::EPSILON { 0.0 } else { q / df };
        match self {
            Test::Z => 1.0,
            Test::Knha => s2w,
            Test::Adhoc => s2w.max(1.0),
        }
    }
}

/// Which distribution the prediction interval takes its critical value from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PredictionInterval {
    /// metafor's default: the test's distribution (normal under z, t(k − p)
    /// under Knapp–Hartung).
    #[default]
    Metafor,
    /// Student's t with k − p degrees of freedom whatever the test (metafor's
    /// `predict(..., pi.type = "t")`; Higgins, Thompson & Spiegelhalter 2009
    /// use k − 2): wider with few studies.
    T,
}

impl FromStr for PredictionInterval {
    type Err = Error;

    /// `metafor` (also `default`) or `t`, case-insensitive.
    ///
    /// ```
    /// use cochran::model::PredictionInterval;
    /// assert_eq!("t".parse::<PredictionInterval>()?, PredictionInterval::T);
    /// assert!("riley".parse::<PredictionInterval>().is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "metafor" | "default" => Ok(PredictionInterval::Metafor),
            "t" => Ok(PredictionInterval::T),
            _ => Err(ErrorKind::UnknownName {
                what: "prediction interval",
                given: s.to_string(),
                valid: vec!["metafor".into(), "t".into()],
            }
            .into()),
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Test {
    type Err = Error;

    /// `z`, `knha` (also `hk`, `hksj`) or `adhoc`, case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "z" => Ok(Test::Z),
            "knha" | "hk" | "hksj" => Ok(Test::Knha),
            "adhoc" => Ok(Test::Adhoc),
            _ => Err(ErrorKind::UnknownName {
                what: "test",
                given: s.to_string(),
                valid: vec!["z".into(), "knha".into(), "adhoc".into()],
            }
            .into()),
        }
    }
}

/// A confidence level in percent: above 1 (a fraction such as 0.95 is a
/// mistake) and at most [`MAX_LEVEL`].
pub(crate) fn check_level(level: f64) -> Result<()> {
    if !(level > 1.0 && level <= MAX_LEVEL) {
        return Err(ErrorKind::InvalidSetting(format!(
            "the confidence level is given in percent and must lie strictly between 1 and 100 \
             (e.g. 95), at most {MAX_LEVEL}; found {level}"
        ))
        .into());
    }
    Ok(())
}

/// A model specification: method, test and confidence level. Build it with
/// [`MetaAnalysis::common`] or [`MetaAnalysis::random`], then [`fit`](Self::fit).
#[derive(Debug, Clone, PartialEq)]
pub struct MetaAnalysis {
    method: Method,
    test: Test,
    level: f64,
    design: Option<std::sync::Arc<Design>>,
    fixed_tau2: Option<f64>,
    prediction: PredictionInterval,
}

impl MetaAnalysis {
    /// The common-effect (inverse-variance) model.
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis};
    /// let fit = MetaAnalysis::common().fit(&[Effect::new(0.2, 0.01)?, Effect::new(0.4, 0.02)?])?;
    /// assert_eq!(fit.tau2, 0.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn common() -> Self {
        Self::new(Method::Common)
    }

    /// The random-effects model with the given τ² estimator.
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis, Tau2};
    /// let effects = [Effect::new(0.1, 0.01)?, Effect::new(0.6, 0.02)?, Effect::new(0.3, 0.01)?];
    /// let fit = MetaAnalysis::random(Tau2::Dl).fit(&effects)?;
    /// assert!(fit.tau2 > 0.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn random(estimator: Tau2) -> Self {
        Self::new(Method::Random(estimator))
    }

    /// A model with the given method, a z test and a 95% level.
    pub fn new(method: Method) -> Self {
        MetaAnalysis {
            method,
            test: Test::Z,
            level: 95.0,
            design: None,
            fixed_tau2: None,
            prediction: PredictionInterval::Metafor,
        }
    }

    /// Chooses the prediction interval's distribution (default: metafor's).
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis, Tau2};
    /// use cochran::model::PredictionInterval;
    /// let effects = [Effect::new(0.1, 0.01)?, Effect::new(0.6, 0.02)?, Effect::new(0.3, 0.01)?];
    /// let z = MetaAnalysis::random(Tau2::Reml).fit(&effects)?;
    /// let t = MetaAnalysis::random(Tau2::Reml).prediction_interval(PredictionInterval::T).fit(&effects)?;
    /// assert!(t.pi_upper.unwrap() > z.pi_upper.unwrap());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn prediction_interval(mut self, kind: PredictionInterval) -> Self {
        self.prediction = kind;
        self
    }

    /// Chooses the test: [`Test::Z`] (default) or [`Test::Knha`].
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis, Tau2, Test};
    /// let effects = [Effect::new(0.1, 0.01)?, Effect::new(0.6, 0.02)?, Effect::new(0.3, 0.01)?];
    /// let fit = MetaAnalysis::random(Tau2::Reml).test(Test::Knha).fit(&effects)?;
    /// assert_eq!(fit.df, Some(2.0));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn test(mut self, test: Test) -> Self {
        self.test = test;
        self
    }

    /// Sets the confidence level in percent (default 95); checked by [`fit`](Self::fit).
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis};
    /// let effects = [Effect::new(0.1, 0.01)?, Effect::new(0.6, 0.02)?];
    /// let narrow = MetaAnalysis::common().level(90.0).fit(&effects)?;
    /// let wide = MetaAnalysis::common().fit(&effects)?;
    /// assert!(narrow.ci_upper < wide.ci_upper);
    /// assert!(MetaAnalysis::common().level(0.95).fit(&effects).is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Fits a meta-regression on this model matrix (one row per study, in the
    /// order the effects will be given).
    ///
    /// ```
    /// use cochran::{Design, Effect, MetaAnalysis, Tau2};
    /// let effects = [
    ///     Effect::new(-0.9, 0.03)?, Effect::new(-1.6, 0.02)?, Effect::new(-0.2, 0.05)?,
    ///     Effect::new(-1.4, 0.01)?, Effect::new(-0.3, 0.04)?,
    /// ];
    /// let latitude = Design::builder(5).numeric("latitude", &[44.0, 55.0, 13.0, 52.0, 19.0])?.build()?;
    /// let fit = MetaAnalysis::random(Tau2::Reml).moderators(latitude).fit(&effects)?;
    /// let regression = fit.regression.as_ref().expect("moderators");
    /// assert!(regression.coefficients[1].estimate < 0.0); // stronger effect further from the equator
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn moderators(mut self, design: Design) -> Self {
        self.design = Some(std::sync::Arc::new(design));
        self
    }

    /// Fixes τ² at this value (on the data's scale) instead of estimating it,
    /// as metafor's `rma(..., tau2 = value)`: how subgroups share one τ².
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis, Tau2};
    /// let effects = [Effect::new(0.1, 0.01)?, Effect::new(0.6, 0.02)?, Effect::new(0.3, 0.01)?];
    /// let fit = MetaAnalysis::random(Tau2::Reml).fixed_tau2(0.05).fit(&effects)?;
    /// assert_eq!(fit.tau2, 0.05);
    /// assert!(fit.se_tau2.is_none());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn fixed_tau2(mut self, tau2: f64) -> Self {
        self.fixed_tau2 = Some(tau2);
        self
    }

    /// The method this model uses.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Checks the settings (the confidence level) without fitting.
    ///
    /// ```
    /// use cochran::MetaAnalysis;
    /// assert!(MetaAnalysis::common().level(f64::NAN).check().is_err());
    /// assert!(MetaAnalysis::common().level(99.99999999999999).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        if let Some(tau2) = self.fixed_tau2
            && !(tau2.is_finite() && tau2 >= 0.0)
        {
            return Err(ErrorKind::InvalidSetting(format!(
                "a fixed tau^2 must be a finite number >= 0, found {tau2}"
            ))
            .into());
        }
        if matches!(
            self.method,
            Method::MantelHaenszel | Method::Peto | Method::Glmm
        ) && self.test != Test::Z
        {
            // metafor's rma.mh and rma.peto have only the z test; our GLMM too.
            return Err(ErrorKind::InvalidSetting(format!(
                "{} pools counts with the z test only; {} {} applies to inverse-variance \
                 models",
                self.method,
                crate::Setting::Test,
                self.test
            ))
            .into());
        }
        check_level(self.level)
    }

    /// Fits the model to the effects, in the order given.
    ///
    /// Every computation runs on the effects centred and divided by a power of
    /// two near their typical standard error, so results do not depend on the
    /// unit of measurement. Effects so extreme that the model's sums would
    /// leave double precision are refused with [`ErrorKind::Unpoolable`].
    pub fn fit(&self, effects: &[Effect]) -> Result<Fit> {
        self.fit_with(effects.to_vec(), Hints::default())
    }

    /// [`fit`](Self::fit) of effects it may keep, with what a refit knows of
    /// the fit it varies.
    pub(crate) fn fit_with(&self, effects: Vec<Effect>, hints: Hints) -> Result<Fit> {
        self.check()?;
        if self.method.pools_tables() {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} pools 2x2 tables, not effect sizes: it needs the studies' events and totals \
                 (events1, n1, events2, n2) and the measure OR, RR or RD",
                self.method
            ))
            .into());
        }
        if self.method == Method::Glmm {
            return Err(ErrorKind::InvalidSetting(
                "the GLMM pools the studies' counts, not effect sizes: fit it with Glmm".into(),
            )
            .into());
        }
        if effects.is_empty() {
            return Err(ErrorKind::NoStudies(String::new()).into());
        }
        if let Some(design) = self.design.as_deref()
            && design.k() != effects.len()
        {
            return Err(ErrorKind::InvalidSetting(format!(
                "the model matrix has {} rows for {} studies",
                design.k(),
                effects.len()
            ))
            .into());
        }
        let data = match (hints.centre, &self.design) {
            (Some(centre), None) => Standardised::centred_at(&effects, centre)?,
            _ => Standardised::with_design(&effects, self.design.as_ref())?,
        };
        let k = effects.len();
        let mut at_zero = None;
        let (tau2, iterations, se_tau2, diagnostics, moments) = match (self.method, self.fixed_tau2)
        {
            (Method::Random(_), Some(tau2)) => {
                (data.standard_variance(tau2), 0, None, Vec::new(), None)
            }
            (Method::Random(estimator), None) if k >= 2 => {
                let t = tau2::estimate_with(estimator, &data, hints)?;
                at_zero = t.at_zero;
                (t.tau2, t.iterations, Some(t.se), t.diagnostics, t.moments)
            }
            _ => (0.0, 0, None, Vec::new(), None),
        };
        // Knapp-Hartung has no degrees of freedom left with one study.
        let test = if k < 2 { Test::Z } else { self.test };
        // Q and tr P at τ² = 0 where a refit or the τ² search already has them
        // (a refit's tr P in the data's units, as the standardised moments have it).
        let known_at_zero = hints
            .at_zero
            .map(|z| (z.q, z.trace_p * data.variance(1.0)))
            .or(at_zero.map(|m| (m.q, m.trace_p)));
        let heterogeneity = Heterogeneity::new(self.method, &data, tau2, known_at_zero);
        let regression = match data.design() {
            Some(design) => {
                let mut regression =
                    coefficients::regression(&data, design, tau2, test, self.level)?;
                regression.r2 = self.pseudo_r2(&effects, data.variance(tau2))?;
                Some(regression)
            }
            None => None,
        };
        let summary = match &regression {
            None => {
                let pooled = moments.unwrap_or_else(|| Moments::at(&data, tau2));
                let pi = (self.prediction, self.level);
                Summary::pooled(&data, &pooled, tau2, test, pi, self.method, k)
            }
            Some(r) => Summary::first_coefficient(r, test, data.p(), k),
        };
        let fit = Fit {
            method: self.method,
            test,
            level: self.level,
            k,
            estimate: summary.estimate,
            se: summary.se,
            statistic: finite(summary.estimate / summary.se),
            p_value: summary.p_value,
            df: summary.df,
            ci_lower: summary.ci.0,
            ci_upper: summary.ci.1,
            pi_lower: summary.pi.map(|pi| pi.0),
            pi_upper: summary.pi.map(|pi| pi.1),
            tau2: data.variance(tau2),
            se_tau2: se_tau2.map(|se| data.variance(se)),
            q: heterogeneity.q,
            q_df: heterogeneity.q_df,
            q_p_value: heterogeneity.q_p_value,
            i2: heterogeneity.i2,
            h2: heterogeneity.h2,
            iterations,
            cmh: None,
            tarone: None,
            regression,
            requested_test: self.test,
            prediction_interval: self.prediction,
            table_weights: None,
            diagnostics,
            standardised_tau2: tau2,
            effects,
            data,
        };
        fit.ensure_finite()?;
        Ok(fit)
    }

    /// Pools 2×2 tables with the Mantel–Haenszel (OR, RR, RD) or Peto (OR)
    /// method, as metafor's `rma.mh()` and `rma.peto()`: the estimate from the
    /// raw counts, Q, I² and H² from the tables' own effects about it (tables
    /// without any event or any non-event left out of Q).
    ///
    /// ```
    /// use cochran::{Measure, MetaAnalysis, Method, effect::TwoByTwo};
    /// let tables = [TwoByTwo::new(4.0, 123.0, 11.0, 139.0)?, TwoByTwo::new(6.0, 306.0, 29.0, 303.0)?];
    /// let fit = MetaAnalysis::new(Method::MantelHaenszel).fit_tables(Measure::Or, &tables)?;
    /// assert!(fit.estimate < 0.0 && fit.cmh.is_some());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn fit_tables(&self, measure: Measure, tables: &[TwoByTwo]) -> Result<Fit> {
        self.check()?;
        let pooled = match (self.method, measure) {
            (Method::MantelHaenszel, Measure::Or | Measure::Rr | Measure::Rd) => {
                tables::mantel_haenszel(tables, measure)?
            }
            (Method::Peto, Measure::Or) => tables::peto(tables)?,
            (method, measure) => {
                return Err(ErrorKind::InvalidSetting(format!(
                    "{method} does not pool {measure}: MH pools OR, RR or RD, PETO pools OR"
                ))
                .into());
            }
        };
        let effects = tables
            .iter()
            .map(|t| measure.compute(&crate::effect::StudyData::TwoByTwo(Box::new(*t))))
            .collect::<Result<Vec<Effect>>>()?;
        let mut fit = MetaAnalysis::common().level(self.level).fit(&effects)?;
        fit.with_pooled_tables(self.method, &pooled);
        fit.ensure_finite()?;
        Ok(fit)
    }

    /// The coefficients and QM of a meta-regression alone: what each refit of
    /// a permutation test needs.
    fn fit_regression(&self, effects: &[Effect]) -> Result<Regression> {
        let design = self.design.as_ref().ok_or_else(|| {
            ErrorKind::InvalidSetting("a meta-regression needs moderators".into())
        })?;
        let data = Standardised::with_design(effects, Some(design))?;
        let design = design.as_ref();
        let tau2 = match self.method {
            Method::Random(estimator) => tau2::estimate(estimator, &data)?.tau2,
            _ => 0.0,
        };
        coefficients::regression(&data, design, tau2, self.test, self.level)
    }

    /// max(0, (τ²₀ − τ²)/τ²₀) in percent, τ²₀ from the intercept-only model
    /// with the same estimator (0 when τ²₀ is 0, as metafor has it). None for
    /// the common-effect model and for a model without an intercept, which has
    /// no intercept-only model to compare with.
    fn pseudo_r2(&self, effects: &[Effect], tau2: f64) -> Result<Option<f64>> {
        let intercept = self.design.as_deref().is_none_or(Design::has_intercept);
        let Method::Random(estimator) = self.method else {
            return Ok(None);
        };
        if !intercept {
            return Ok(None);
        }
        // Only τ² of the intercept-only model is needed, not a whole fit.
        let intercept_only = Standardised::with_design(effects, None)?;
        let tau2_0 = intercept_only.variance(tau2::estimate(estimator, &intercept_only)?.tau2);
        Ok(Some(if tau2_0 == 0.0 {
            0.0
        } else {
            (100.0 * (tau2_0 - tau2) / tau2_0).max(0.0)
        }))
    }
}

/// The top-level estimate of a fit: the pooled effect, or for a meta-regression
/// its first coefficient (reported as null in JSON).
struct Summary {
    estimate: f64,
    se: f64,
    p_value: Option<f64>,
    df: Option<f64>,
    ci: (f64, f64),
    pi: Option<(f64, f64)>,
}

impl Summary {
    fn pooled(
        data: &Standardised,
        pooled: &Moments,
        tau2: f64,
        test: Test,
        (prediction, level): (PredictionInterval, f64),
        method: Method,
        k: usize,
    ) -> Self {
        let inference = Inference::new(test, level, pooled, data.p());
        let margin = inference.critical * inference.se;
        let critical = match prediction {
            PredictionInterval::Metafor => inference.critical,
            PredictionInterval::T => {
                let df = (k as f64 - data.p() as f64).max(1.0);
                t_quantile(1.0 - (1.0 - level / 100.0) / 2.0, df)
            }
        };
        // A prediction interval needs a between-study variance to predict with.
        let prediction = (k >= 2 && matches!(method, Method::Random(_)))
            .then(|| critical * (inference.se.powi(2) + tau2).sqrt());
        // The test is of the effect being 0 on the data's scale, not of the centred one.
        let (estimate, se) = (data.location(pooled.mean), data.spread(inference.se));
        Summary {
            estimate,
            se,
            p_value: inference.p_value(estimate / se),
            df: inference.df,
            ci: (
                data.location(pooled.mean - margin),
                data.location(pooled.mean + margin),
            ),
            pi: prediction.map(|m| {
                (
                    data.location(pooled.mean - m),
                    data.location(pooled.mean + m),
                )
            }),
        }
    }

    fn first_coefficient(regression: &Regression, test: Test, p: usize, k: usize) -> Self {
        let first = &regression.coefficients[0];
        Summary {
            estimate: first.estimate,
            se: first.se,
            p_value: Some(first.p_value),
            df: test.uses_t().then_some((k - p) as f64),
            ci: (first.ci_lower, first.ci_upper),
            pi: None,
        }
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Standard error, critical value and reference distribution of the pooled estimate.
struct Inference {
    se: f64,
    critical: f64,
    df: Option<f64>,
}

impl Inference {
    fn new(test: Test, level: f64, pooled: &Moments, p: usize) -> Self {
        let upper_tail = 1.0 - (1.0 - level / 100.0) / 2.0;
        match test {
            Test::Z => Inference {
                se: (1.0 / pooled.s1).sqrt(),
                critical: standard_normal().inverse_cdf(upper_tail),
                df: None,
            },
            Test::Knha | Test::Adhoc => {
                let df = pooled.k - p as f64;
                let s2w = test.scale_factor(pooled.q, df);
                Inference {
                    se: (s2w / pooled.s1).sqrt(),
                    critical: t_quantile(upper_tail, df),
                    df: Some(df),
                }
            }
        }
    }

    fn p_value(&self, statistic: f64) -> Option<f64> {
        let statistic = statistic.abs();
        if statistic.is_nan() {
            return None;
        }
        let upper = match self.df {
            None => standard_normal().sf(statistic),
            Some(df) => t_upper_tail(statistic, df),
        };
        Some(2.0 * upper)
    }
}

/// Cochran's Q and the I², H² that metafor reports for the method.
struct Heterogeneity {
    q: Option<f64>,
    q_df: Option<f64>,
    q_p_value: Option<f64>,
    i2: Option<f64>,
    h2: Option<f64>,
}

impl Heterogeneity {
    /// Q, I² and H² at `tau2`, with Q and tr P at τ² = 0 when they are `known`.
    fn new(method: Method, data: &Standardised, tau2: f64, known: Option<(f64, f64)>) -> Self {
        let k = data.effects().len();
        if k < 2 {
            return Heterogeneity {
                q: None,
                q_df: None,
                q_p_value: None,
                i2: None,
                h2: None,
            };
        }
        let df = (k - data.p()) as f64;
        let (q, trace_p) = known.unwrap_or_else(|| {
            let m = Moments::for_score(data, 0.0);
            (m.q, m.trace_p)
        });
        let q = q.max(0.0);
        let (i2, h2) = match method {
            Method::Common | Method::MantelHaenszel | Method::Peto | Method::Glmm => (
                if q > 0.0 {
                    (100.0 * (q - df) / q).max(0.0)
                } else {
                    0.0
                },
                q / df,
            ),
            Method::Random(_) => {
                let typical = (k - data.p()) as f64 / trace_p;
                (100.0 * tau2 / (typical + tau2), tau2 / typical + 1.0)
            }
        };
        Heterogeneity {
            q: Some(q),
            q_df: Some(df),
            q_p_value: Some(chi_squared(df).sf(q)),
            i2: Some(i2),
            h2: Some(h2),
        }
    }
}

/// A fitted model: the pooled estimate, its inference and the heterogeneity
/// statistics, on the analysis scale (log scale for ratio measures).
///
/// Fields that cannot be computed (heterogeneity with one study, a prediction
/// interval from one study) are `None`, serialised as `null`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Fit {
    /// Common effect or the τ² estimator.
    pub method: Method,
    /// The test actually used (Knapp–Hartung falls back to z for one study).
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// Number of studies pooled.
    pub k: usize,
    /// Pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic; `None` when the standard error is 0.
    pub statistic: Option<f64>,
    /// Two-sided p-value of the test that the effect is 0.
    pub p_value: Option<f64>,
    /// Degrees of freedom of the t distribution under Knapp–Hartung.
    pub df: Option<f64>,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Lower prediction limit (random effects with k ≥ 2).
    pub pi_lower: Option<f64>,
    /// Upper prediction limit (random effects with k ≥ 2).
    pub pi_upper: Option<f64>,
    /// Between-study variance (0 for the common-effect model).
    pub tau2: f64,
    /// Standard error of τ² (random effects with k ≥ 2).
    pub se_tau2: Option<f64>,
    /// Cochran's Q.
    pub q: Option<f64>,
    /// Its degrees of freedom, k − 1.
    pub q_df: Option<f64>,
    /// p-value of the Q test.
    pub q_p_value: Option<f64>,
    /// I² in percent.
    pub i2: Option<f64>,
    /// H².
    pub h2: Option<f64>,
    /// Fisher-scoring iterations (0 for closed-form estimators).
    pub iterations: usize,
    /// The Cochran–Mantel–Haenszel test (Mantel–Haenszel odds ratio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmh: Option<ChiSquareTest>,
    /// Tarone's test of homogeneous odds ratios (Mantel–Haenszel odds ratio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tarone: Option<ChiSquareTest>,
    /// The coefficients, QM and R² of a meta-regression.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub regression: Option<Regression>,
    #[serde(skip)]
    requested_test: Test,
    /// The prediction interval's distribution.
    pub prediction_interval: PredictionInterval,
    /// The Mantel–Haenszel or Peto weights in percent, where they replace
    /// the inverse-variance ones.
    #[serde(skip)]
    table_weights: Option<Vec<f64>>,
    #[serde(skip)]
    diagnostics: Vec<Tau2Diagnostic>,
    /// τ² on the standardised scale of `data`.
    #[serde(skip)]
    standardised_tau2: f64,
    #[serde(skip)]
    effects: Vec<Effect>,
    #[serde(skip)]
    data: Standardised,
}

impl Fit {
    /// Replaces the inverse-variance pooled effect and heterogeneity with
    /// those of the Mantel–Haenszel or Peto method (z test; Q about their
    /// estimate, on the tables with an effect of their own).
    fn with_pooled_tables(&mut self, method: Method, pooled: &PooledTables) {
        let critical = standard_normal().inverse_cdf(1.0 - (1.0 - self.level / 100.0) / 2.0);
        let statistic = pooled.estimate / pooled.se;
        self.method = method;
        self.estimate = pooled.estimate;
        self.se = pooled.se;
        self.statistic = finite(statistic);
        self.p_value = Some(2.0 * standard_normal().sf(statistic.abs()));
        self.ci_lower = pooled.estimate - critical * pooled.se;
        self.ci_upper = pooled.estimate + critical * pooled.se;
        let df = pooled.q_df;
        let (q, q_p, i2, h2) = if df >= 1.0 {
            let i2 = (100.0 * (pooled.q - df) / pooled.q).max(0.0);
            (pooled.q, chi_squared(df).sf(pooled.q), i2, pooled.q / df)
        } else {
            // One table with an effect: metafor reports no heterogeneity.
            (0.0, 1.0, 0.0, 1.0)
        };
        (self.q, self.q_df, self.q_p_value) = (Some(q), Some(df.max(0.0)), Some(q_p));
        (self.i2, self.h2) = (Some(i2), Some(h2));
        (self.cmh, self.tarone) = (pooled.cmh, pooled.tarone);
        let total: f64 = pooled.weights.iter().sum();
        self.table_weights = Some(pooled.weights.iter().map(|w| 100.0 * w / total).collect());
    }

    /// A model with this fit's method, test and level and no moderators: what
    /// refits on other sets of studies (sensitivity and bias analyses) use.
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis, Tau2, Test};
    /// let effects = [Effect::new(0.1, 0.01)?, Effect::new(0.3, 0.02)?, Effect::new(0.5, 0.04)?];
    /// let fit = MetaAnalysis::random(Tau2::Dl).test(Test::Knha).fit(&effects)?;
    /// let without_last = fit.same_model().fit(&effects[..2])?;
    /// assert_eq!(without_last.test, Test::Knha);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn same_model(&self) -> MetaAnalysis {
        MetaAnalysis::new(self.method)
            .test(self.requested_test)
            .level(self.level)
            .prediction_interval(self.prediction_interval)
    }

    /// Refuses what needs a single pooled effect of at least `needed` studies
    /// (`what` names it) when this fit is a meta-regression or has fewer.
    pub(crate) fn check_pooled(&self, what: &str, needed: usize) -> Result<()> {
        if self.regression.is_some() {
            return Err(ErrorKind::InvalidSetting(format!(
                "{what}: not for a meta-regression, which has no single pooled effect"
            ))
            .into());
        }
        if self.k < needed {
            return Err(ErrorKind::InvalidSetting(format!(
                "{what}: at least {needed} studies are needed (k = {})",
                self.k
            ))
            .into());
        }
        Ok(())
    }

    /// The effects the model was fitted to, in input order.
    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }

    /// What the fit had to assume or could not compute, for the reader of a report.
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis, Tau2, Test};
    /// let fit = MetaAnalysis::random(Tau2::Reml).test(Test::Knha).fit(&[Effect::new(0.2, 0.01)?])?;
    /// assert_eq!(fit.warnings().len(), 2); // no tau^2 and no Knapp-Hartung from one study
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.k == 1 {
            warnings.push(
                "k = 1: a single study is reported as it is; tau^2 is set to 0 and no \
                 heterogeneity statistics or prediction interval are computed"
                    .to_string(),
            );
        }
        if self.requested_test != self.test {
            warnings.push(
                "Knapp-Hartung needs at least 2 studies; the single study's interval uses the normal distribution"
                    .to_string(),
            );
        }
        if self.test.uses_t() && self.method == Method::Common {
            warnings.push(
                "the Knapp-Hartung method is not meant for the common-effect model".to_string(),
            );
        }
        if self.k >= 2 && self.data.variance_ratio() >= VARIANCE_RATIO_WARNING {
            warnings.push(format!(
                "the largest sampling variance is {:.3e} times the smallest (metafor warns \
                 above 1e7): the studies' precisions differ so much that results rest on \
                 very few of them",
                self.data.variance_ratio()
            ));
        }
        warnings.extend(self.diagnostics.iter().map(|d| self.describe(d)));
        warnings
    }

    fn describe(&self, diagnostic: &Tau2Diagnostic) -> String {
        match *diagnostic {
            Tau2Diagnostic::Fallback => format!(
                "Fisher scoring for tau^2 did not converge in {MAX_ITERATIONS} steps; the \
                 estimating equation was solved by bracketing instead"
            ),
            Tau2Diagnostic::ResetToBoundary { fisher } => format!(
                "Fisher scoring stopped at a local maximum of the likelihood (tau^2 = {fisher:.6e}); \
                 the likelihood is higher at tau^2 = 0, which is reported (as metafor does)"
            ),
            Tau2Diagnostic::GlobalMaximum { fisher } => format!(
                "the likelihood has several local maxima: Fisher scoring stopped at tau^2 = \
                 {fisher:.6e}; the global maximum tau^2 = {:.6e} is reported",
                self.tau2
            ),
        }
    }

    /// A fit whose reported numbers are not all finite is a failure, not a result.
    fn ensure_finite(&self) -> Result<()> {
        let values = [
            self.estimate,
            self.se,
            self.ci_lower,
            self.ci_upper,
            self.tau2,
        ];
        let optional = [
            self.pi_lower,
            self.pi_upper,
            self.se_tau2,
            self.q,
            self.q_p_value,
            self.i2,
            self.h2,
        ];
        if values
            .iter()
            .chain(optional.iter().flatten())
            .all(|x| x.is_finite())
        {
            Ok(())
        } else {
            Err(ErrorKind::Numerical(format!(
                "the {} fit gave a non-finite result (estimate {}, se {}, tau^2 {})",
                self.method, self.estimate, self.se, self.tau2
            ))
            .into())
        }
    }

    /// The model matrix of a meta-regression (`None` for the intercept-only model).
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis};
    /// let fit = MetaAnalysis::common().fit(&[Effect::new(0.2, 0.01)?, Effect::new(0.4, 0.02)?])?;
    /// assert!(fit.design().is_none() && fit.regression.is_none());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn design(&self) -> Option<&Design> {
        self.data.design()
    }

    /// Each study's weight in percent, in input order; they sum to 100.
    ///
    /// ```
    /// use cochran::{Effect, MetaAnalysis};
    /// let fit = MetaAnalysis::common().fit(&[Effect::new(0.2, 0.01)?, Effect::new(0.4, 0.03)?])?;
    /// assert_eq!(fit.weights(), vec![75.0, 25.0]);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn weights(&self) -> Vec<f64> {
        if let Some(weights) = &self.table_weights {
            return weights.clone();
        }
        let raw: Vec<f64> = self
            .data
            .effects()
            .iter()
            .map(|e| 1.0 / (e.vi + self.standardised_tau2))
            .collect();
        let total: f64 = raw.iter().sum();
        raw.into_iter().map(|w| 100.0 * w / total).collect()
    }

    /// The Q-profile confidence interval for τ² (and the I², H² it implies), at
    /// the fit's level. `None` for the common-effect model and for k < 2.
    pub fn tau2_interval(&self) -> Result<Option<Tau2Interval>> {
        if !matches!(self.method, Method::Random(_)) || self.k < 2 {
            return Ok(None);
        }
        confint::q_profile(&self.data, self.level, self.standardised_tau2).map(Some)
    }
}
