//! Generalised linear mixed models of counts (metafor's `rma.glmm`): exact
//! likelihoods of the events instead of effect sizes with continuity
//! corrections, so that studies with no events, or only events, count as
//! they are.
//!
//! ```
//! use cochran::effect::Proportion;
//! use cochran::model::{Glmm, GlmmData};
//!
//! let arms = [
//!     Proportion::new(0.0, 12.0)?,
//!     Proportion::new(3.0, 20.0)?,
//!     Proportion::new(9.0, 9.0)?,
//!     Proportion::new(5.0, 31.0)?,
//! ];
//! let fit = Glmm::random().fit(GlmmData::Proportions(&arms))?;
//! assert_eq!(fit.k, 4);
//! assert!(fit.tau2 > 0.0);
//! assert!(fit.ci_lower < fit.estimate && fit.estimate < fit.ci_upper);
//! # Ok::<(), cochran::Error>(())
//! ```

mod family;
mod fixed_study;
mod hypergeometric;
mod intercept;
mod likelihood;
mod newton;
mod quadrature;

use serde::Serialize;

use crate::effect::{Effect, Measure, Proportion, Rate, TwoByTwo, TwoRates};
use crate::error::{ErrorKind, Result};
use crate::model::standard_normal;
use crate::model::tables::ChiSquareTest;
use family::{Count, Family};
use fixed_study::{Arms, FixedStudy};
use hypergeometric::{Hypergeometric, MAX_SUPPORT};
use intercept::RandomIntercept;
use likelihood::{Likelihood, RandomFit};
use statrs::distribution::ContinuousCDF;

/// Quadrature points metafor asks of lme4 (`nAGQ = 7`).
pub const QUADRATURE_POINTS: usize = 7;

/// Quadrature points for CM.EL, which metafor integrates by R's `integrate()`
/// to its tolerance rather than by a fixed rule: enough points that the
/// adaptive rule is that integral to ~1e-11 (the fits of the reference
/// cases agree with a 40-digit integration to 3e-9 or better).
pub const EXACT_QUADRATURE_POINTS: usize = 15;

/// metafor's models of two-group tables (`model =` in `rma.glmm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum GlmmModel {
    /// Unconditional model with a fixed effect per study (`UM.FS`).
    #[serde(rename = "UM.FS")]
    FixedStudy,
    /// Unconditional model with random study effects (`UM.RS`).
    #[serde(rename = "UM.RS")]
    RandomStudy,
    /// Conditional model with the exact (non-central hypergeometric) likelihood (`CM.EL`).
    #[serde(rename = "CM.EL")]
    ConditionalExact,
    /// Conditional model with the approximate (binomial) likelihood (`CM.AL`).
    #[serde(rename = "CM.AL")]
    ConditionalApproximate,
}

impl GlmmModel {
    /// metafor's name of the model.
    pub fn name(self) -> &'static str {
        match self {
            GlmmModel::FixedStudy => "UM.FS",
            GlmmModel::RandomStudy => "UM.RS",
            GlmmModel::ConditionalExact => "CM.EL",
            GlmmModel::ConditionalApproximate => "CM.AL",
        }
    }
}

impl std::str::FromStr for GlmmModel {
    type Err = crate::Error;

    /// metafor's names, in any case.
    ///
    /// ```
    /// use cochran::model::GlmmModel;
    /// assert_eq!("cm.al".parse::<GlmmModel>()?, GlmmModel::ConditionalApproximate);
    /// assert!("UM.XX".parse::<GlmmModel>().is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        let all = [
            GlmmModel::FixedStudy,
            GlmmModel::RandomStudy,
            GlmmModel::ConditionalExact,
            GlmmModel::ConditionalApproximate,
        ];
        all.into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ErrorKind::UnknownName {
                    what: "GLMM model",
                    given: s.to_string(),
                    valid: all.iter().map(|m| m.name().to_string()).collect(),
                }
                .into()
            })
    }
}

impl std::fmt::Display for GlmmModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// The counts a GLMM pools: one group per study, or two.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum GlmmData<'a> {
    /// Events of n: the logit of the proportion (PLO), binomial-normal model.
    Proportions(&'a [Proportion]),
    /// Events over person-time: the log rate (IRLN), Poisson-normal model.
    Rates(&'a [Rate]),
    /// Two groups' events of n: the log odds ratio (OR).
    Tables(&'a [TwoByTwo]),
    /// Two groups' events over person-time: the log rate ratio (IRR), by the
    /// conditional binomial model of group 1's share of the events.
    RatePairs(&'a [TwoRates]),
}

/// A generalised linear mixed model, common-effect or random-effects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glmm {
    model: GlmmModel,
    random: bool,
    level: f64,
}

impl Glmm {
    /// The random-effects model (τ² by maximum likelihood).
    pub fn random() -> Self {
        Glmm {
            model: GlmmModel::FixedStudy,
            random: true,
            level: 95.0,
        }
    }

    /// The common-effect model (τ² = 0).
    ///
    /// ```
    /// use cochran::effect::Rate;
    /// use cochran::model::{Glmm, GlmmData};
    /// let rates = [Rate::new(3.0, 1200.0, "")?, Rate::new(0.0, 800.0, "")?];
    /// let fit = Glmm::common().fit(GlmmData::Rates(&rates))?;
    /// assert_eq!(fit.tau2, 0.0);
    /// assert!((fit.estimate - (3.0f64 / 2000.0).ln()).abs() < 1e-12);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn common() -> Self {
        Glmm {
            random: false,
            ..Glmm::random()
        }
    }

    /// The model of odds ratios from two-group tables (default: metafor's
    /// default, [`GlmmModel::FixedStudy`]). One-group data and rate ratios
    /// have one model each and ignore it.
    ///
    /// ```
    /// use cochran::effect::TwoByTwo;
    /// use cochran::model::{Glmm, GlmmData, GlmmModel};
    /// let tables = [
    ///     TwoByTwo::new(4.0, 123.0, 11.0, 139.0)?,
    ///     TwoByTwo::new(6.0, 306.0, 29.0, 303.0)?,
    ///     TwoByTwo::new(0.0, 40.0, 3.0, 41.0)?,
    /// ];
    /// let fit = Glmm::random()
    ///     .model(GlmmModel::ConditionalApproximate)
    ///     .fit(GlmmData::Tables(&tables))?;
    /// assert!(fit.estimate < 0.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn model(self, model: GlmmModel) -> Self {
        Glmm { model, ..self }
    }

    /// The confidence level in percent (default 95).
    ///
    /// ```
    /// use cochran::model::{Glmm, GlmmModel};
    /// assert!(Glmm::random().level(90.0).is_ok());
    /// assert!(Glmm::random().level(100.0).is_err());
    /// ```
    pub fn level(self, level: f64) -> Result<Self> {
        crate::model::check_level(level)?;
        Ok(Glmm { level, ..self })
    }

    /// Fits the model to the counts.
    pub fn fit(&self, data: GlmmData<'_>) -> Result<GlmmFit> {
        let prepared = Prepared::new(data, self.model)?;
        let k = prepared.effects.len();
        if k == 0 {
            return Err(ErrorKind::InvalidValue(format!(
                "no study carries information: {}",
                prepared.exclusion_reason()
            ))
            .into());
        }
        if self.random && k == 1 {
            return Err(ErrorKind::InvalidSetting(
                "one study: there is no between-study variance to estimate; the common-effect model applies".into(),
            )
            .into());
        }
        let (model, points): (&dyn Likelihood, usize) = match &prepared.outcomes {
            Outcomes::Counts(counts) => (&RandomIntercept { counts }, QUADRATURE_POINTS),
            Outcomes::Arms(arms) => (&FixedStudy { arms }, QUADRATURE_POINTS),
            Outcomes::Tables(counts) => (&RandomIntercept { counts }, EXACT_QUADRATURE_POINTS),
        };
        let common = model.common()?;
        let tests = model.saturated_tests(&common);
        let fit = if self.random {
            model.random(&common, points)?
        } else {
            (&common).into()
        };
        let RandomFit {
            beta,
            variance,
            tau2,
            log_likelihood,
            converged,
        } = fit;
        let points = if tau2 > 0.0 { points } else { 0 };
        let se = variance.sqrt();
        let z = beta / se;
        let crit = standard_normal().inverse_cdf(0.5 + self.level / 200.0);
        let typical = (k > 1).then(|| typical_variance(&prepared.effects));
        Ok(GlmmFit {
            measure: prepared.measure,
            model: prepared.model,
            random: self.random,
            estimate: beta,
            se,
            z,
            p_value: 2.0 * standard_normal().sf(z.abs()),
            ci_lower: beta - crit * se,
            ci_upper: beta + crit * se,
            level: self.level,
            tau2,
            i2: typical.map(|v| 100.0 * tau2 / (v + tau2)),
            h2: typical.map(|v| tau2 / v + 1.0),
            wald: tests.wald,
            likelihood_ratio: tests.likelihood_ratio,
            log_likelihood,
            k,
            excluded: prepared.excluded,
            quadrature_points: points,
            converged,
        })
    }
}

/// A fitted GLMM.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GlmmFit {
    /// The measure pooled (on its log or logit scale).
    pub measure: Measure,
    /// The model of two-group tables; `None` for one-group data.
    pub model: Option<GlmmModel>,
    /// Random effects (τ² estimated) or a common effect.
    pub random: bool,
    /// The pooled estimate.
    pub estimate: f64,
    /// Its standard error (from the Hessian of the log-likelihood).
    pub se: f64,
    /// Its Wald z.
    pub z: f64,
    /// Its two-sided p-value.
    pub p_value: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// The confidence level in percent.
    pub level: f64,
    /// The between-study variance (0 for the common-effect model).
    pub tau2: f64,
    /// I², in percent, with metafor's typical within-study variance from the
    /// studies' effect sizes (½ added to zero cells for this purpose only);
    /// `None` for one study.
    pub i2: Option<f64>,
    /// H²; `None` for one study.
    pub h2: Option<f64>,
    /// The Wald test of the saturated model against the common effect.
    pub wald: Option<ChiSquareTest>,
    /// The likelihood-ratio test of the saturated model against the common effect.
    pub likelihood_ratio: Option<ChiSquareTest>,
    /// The maximised log-likelihood (with the quadrature approximation).
    pub log_likelihood: f64,
    /// Studies in the model.
    pub k: usize,
    /// Indices of the studies the model leaves out: two-group studies
    /// without events in either group, or with events only.
    pub excluded: Vec<usize>,
    /// Adaptive Gauss–Hermite points per study integral (1 is the Laplace
    /// approximation; 0 when nothing is integrated: τ² = 0).
    pub quadrature_points: usize,
    /// Whether the optimiser converged.
    pub converged: bool,
}

/// Each study's outcome in the form its model takes.
enum Outcomes {
    /// One count per study: binomial or Poisson (PLO, IRLN, CM.AL, IRR).
    Counts(Vec<Count>),
    /// The two groups of each table (UM.FS).
    Arms(Vec<Arms>),
    /// Each table's events in group 1 given its margins (CM.EL).
    Tables(Vec<Hypergeometric>),
}

/// The studies' outcomes in the model's form, with the effect sizes I² needs.
struct Prepared {
    measure: Measure,
    model: Option<GlmmModel>,
    outcomes: Outcomes,
    effects: Vec<Effect>,
    excluded: Vec<usize>,
}

fn count(family: Family, events: f64, trials: f64, offset: f64) -> Count {
    Count {
        family,
        events,
        trials,
        offset,
    }
}

impl Prepared {
    fn new(data: GlmmData<'_>, model: GlmmModel) -> Result<Self> {
        use crate::effect::{binary, one_group, rates};
        use Family::{Binomial, Poisson};
        let (mut counts, mut effects, mut excluded) = (Vec::new(), Vec::new(), Vec::new());
        let (measure, model, outcomes) = match data {
            GlmmData::Proportions(arms) => {
                for p in arms {
                    counts.push(count(Binomial, p.events, p.n, 0.0));
                    effects.push(one_group::logit_proportion(p)?);
                }
                (Measure::Plo, None, Outcomes::Counts(counts))
            }
            GlmmData::Rates(rates) => {
                for r in rates {
                    counts.push(count(Poisson, r.events, 0.0, r.time.ln()));
                    effects.push(rates::log_rate(r)?);
                }
                (Measure::Irln, None, Outcomes::Counts(counts))
            }
            GlmmData::Tables(tables) => {
                if model == GlmmModel::ConditionalExact {
                    check_support(tables)?;
                }
                let (mut arms, mut exact) = (Vec::new(), Vec::new());
                for (i, t) in tables.iter().enumerate() {
                    let events = t.events1 + t.events2;
                    if events == 0.0 || events == t.n1 + t.n2 {
                        excluded.push(i);
                        continue;
                    }
                    effects.push(binary::log_odds_ratio(t)?);
                    match model {
                        GlmmModel::FixedStudy => arms.push(Arms {
                            treated: count(Binomial, t.events1, t.n1, 0.0),
                            control: count(Binomial, t.events2, t.n2, 0.0),
                        }),
                        GlmmModel::ConditionalExact => {
                            exact.push(Hypergeometric::new(t.events1, t.n1, t.events2, t.n2))
                        }
                        GlmmModel::ConditionalApproximate => {
                            counts.push(count(Binomial, t.events1, events, (t.n1 / t.n2).ln()))
                        }
                        GlmmModel::RandomStudy => {
                            return Err(not_implemented(
                                model,
                                "odds ratios",
                                &[
                                    GlmmModel::FixedStudy,
                                    GlmmModel::ConditionalExact,
                                    GlmmModel::ConditionalApproximate,
                                ],
                            ));
                        }
                    }
                }
                let outcomes = match model {
                    GlmmModel::FixedStudy => Outcomes::Arms(arms),
                    GlmmModel::ConditionalExact => Outcomes::Tables(exact),
                    _ => Outcomes::Counts(counts),
                };
                (Measure::Or, Some(model), outcomes)
            }
            GlmmData::RatePairs(pairs) => {
                // Given the total, group 1's events are binomial: the
                // exact conditional likelihood, which metafor also fits for CM.AL.
                if !matches!(
                    model,
                    GlmmModel::ConditionalExact | GlmmModel::ConditionalApproximate
                ) {
                    return Err(not_implemented(
                        model,
                        "rate ratios",
                        &[GlmmModel::ConditionalExact],
                    ));
                }
                for (i, r) in pairs.iter().enumerate() {
                    let events = r.treatment.events + r.control.events;
                    if events == 0.0 {
                        excluded.push(i);
                        continue;
                    }
                    let offset = (r.treatment.time / r.control.time).ln();
                    counts.push(count(Binomial, r.treatment.events, events, offset));
                    effects.push(rates::log_rate_ratio(r)?);
                }
                let model = Some(GlmmModel::ConditionalExact);
                (Measure::Irr, model, Outcomes::Counts(counts))
            }
        };
        Ok(Prepared {
            measure,
            model,
            outcomes,
            effects,
            excluded,
        })
    }

    /// Why studies were left out, for messages.
    fn exclusion_reason(&self) -> &'static str {
        match self.measure {
            Measure::Or => "every table has no events in either group, or only events",
            Measure::Irr => "every study has no events in either group",
            _ => "there are no studies",
        }
    }
}

/// CM.EL tabulates every count each table's margins allow: refuse tables
/// too large for that, naming the models that fit them.
fn check_support(tables: &[TwoByTwo]) -> Result<()> {
    let total: f64 = (tables.iter())
        .map(|t| hypergeometric::support(t.events1, t.n1, t.events2, t.n2))
        .sum();
    if total > MAX_SUPPORT {
        return Err(ErrorKind::InvalidValue(format!(
            "the GLMM CM.EL tabulates every count of group 1 each table's margins allow: these \
             tables allow {total:.0} in all, more than the {MAX_SUPPORT:.0} it handles; UM.FS and \
             CM.AL fit tables of any size"
        ))
        .into());
    }
    Ok(())
}

/// The refusal of a model of two-group tables not built yet, naming those that are.
fn not_implemented(model: GlmmModel, of: &str, built: &[GlmmModel]) -> crate::Error {
    let names: Vec<&str> = built.iter().map(|m| m.name()).collect();
    let (listed, verb) = match names.split_last() {
        Some((last, [])) => (last.to_string(), "is"),
        Some((last, rest)) => (format!("{} and {last}", rest.join(", ")), "are"),
        None => (String::new(), "are"),
    };
    ErrorKind::InvalidSetting(format!(
        "the GLMM {model} of {of} is not implemented yet; {} {listed} {verb}",
        crate::Setting::GlmmModel
    ))
    .into()
}

/// metafor's typical within-study variance for I² and H²: (k − 1) / tr(P)
/// with inverse-variance weights of the studies' effect sizes.
fn typical_variance(effects: &[Effect]) -> f64 {
    let (sw, sww) = effects.iter().fold((0.0, 0.0), |(s, ss), e| {
        let w = 1.0 / e.vi;
        (s + w, ss + w * w)
    });
    (effects.len() as f64 - 1.0) / (sw - sww / sw)
}
