//! The pooled model of an analysis: one type for every engine, which refits,
//! tests and plots ask what it supports.

use serde::Serialize;

use super::Multilevel;
use super::glmm::GlmmPooled;
use crate::effect::{BackTransform, Measure, StudyData};
use crate::error::Result;
use crate::model::{Capability, Fit, Method, ModelKind, Tau2Interval};

/// The pooled model of an analysis. Refits, bias tests and plots ask it what
/// it supports ([`PooledModel::check`]) and refuse with
/// [`ErrorKind::Unsupported`](crate::ErrorKind::Unsupported) rather than use
/// another model in its place.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure, ErrorKind};
/// use cochran::model::{Capability, ModelKind};
/// let options = AnalysisOptions::new(Measure::Gen).cluster("district");
/// let analysis = Analysis::from_csv("tests/reference/data/konstantopoulos2011.csv", &options)?;
/// assert_eq!(analysis.model.kind(), ModelKind::ThreeLevel);
/// let refused = analysis.leave_one_out().unwrap_err();
/// assert!(matches!(
///     refused.kind(),
///     ErrorKind::Unsupported { what: Capability::LeaveOneOut, model: ModelKind::ThreeLevel }
/// ));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum PooledModel {
    /// Independent effects: common effect or random effects, with or without
    /// moderators; inverse variance, Mantel–Haenszel or Peto.
    Univariate(Box<Pooled>),
    /// Effects nested in clusters.
    ThreeLevel(Box<Multilevel>),
    /// The generalised linear mixed model of the studies' counts.
    Glmm(Box<GlmmPooled>),
}

impl PooledModel {
    /// Which engine fitted it.
    pub fn kind(&self) -> ModelKind {
        match self {
            PooledModel::Univariate(_) => ModelKind::Univariate,
            PooledModel::ThreeLevel(_) => ModelKind::ThreeLevel,
            PooledModel::Glmm(_) => ModelKind::Glmm,
        }
    }

    /// Whether the model can do `what`.
    pub fn supports(&self, what: Capability) -> bool {
        self.kind().supports(what)
    }

    /// `Ok` when the model can do `what`, `Unsupported` otherwise.
    pub fn check(&self, what: Capability) -> Result<()> {
        self.kind().check(what)
    }

    /// The model of independent effects, if it is one.
    pub fn univariate(&self) -> Option<&Pooled> {
        match self {
            PooledModel::Univariate(p) => Some(p.as_ref()),
            _ => None,
        }
    }

    /// The three-level model, if it is one.
    pub fn three_level(&self) -> Option<&Multilevel> {
        match self {
            PooledModel::ThreeLevel(m) => Some(m),
            _ => None,
        }
    }

    /// The GLMM, if it is one.
    pub fn glmm(&self) -> Option<&GlmmPooled> {
        match self {
            PooledModel::Glmm(g) => Some(g),
            _ => None,
        }
    }

    /// The fit of independent effects for `what`, which needs one: the
    /// `Unsupported` error for every other model.
    pub(crate) fn univariate_for(&self, what: Capability) -> Result<&Pooled> {
        self.check(what)?;
        self.univariate().ok_or_else(|| {
            crate::ErrorKind::Unsupported {
                what,
                model: self.kind(),
            }
            .into()
        })
    }

    /// The pooled estimate and its confidence limits (the intercept with moderators).
    pub fn pooled(&self) -> [f64; 3] {
        match self {
            PooledModel::Univariate(p) => [p.fit.estimate, p.fit.ci_lower, p.fit.ci_upper],
            PooledModel::ThreeLevel(m) => m.pooled(),
            PooledModel::Glmm(g) => g.pooled(),
        }
    }

    /// The estimate and limits on the measure's natural scale, if it has one.
    pub fn back_transformed(&self) -> Option<&BackTransformed> {
        match self {
            PooledModel::Univariate(p) => p.back_transformed.as_ref(),
            PooledModel::ThreeLevel(m) => m.back_transformed.as_ref(),
            PooledModel::Glmm(g) => g.back_transformed.as_ref(),
        }
    }

    /// The number of effects pooled.
    pub fn k(&self) -> usize {
        match self {
            PooledModel::Univariate(p) => p.fit.k,
            PooledModel::ThreeLevel(m) => m.fit.k,
            PooledModel::Glmm(g) => g.fit.k,
        }
    }

    /// The confidence level in percent.
    pub fn level(&self) -> f64 {
        match self {
            PooledModel::Univariate(p) => p.fit.level,
            PooledModel::ThreeLevel(m) => m.fit.level,
            PooledModel::Glmm(g) => g.fit.level,
        }
    }
}

/// The other model of a pooled result, fitted by the analysis when both are
/// to be shown (forest plots with both diamonds).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Companion {
    /// Its fit, on the same studies.
    #[serde(flatten)]
    pub fit: Fit,
}

impl Companion {
    /// The other model than `fit`'s on the same effects: common effect for a
    /// random-effects fit, random effects (REML) otherwise; `None` where it
    /// cannot be fitted.
    pub(crate) fn of(fit: &Fit) -> Option<Companion> {
        let method = match fit.method {
            Method::Random(_) => Method::Common,
            _ => Method::Random(crate::model::Tau2::Reml),
        };
        crate::model::MetaAnalysis::new(method)
            .test(fit.test)
            .level(fit.level)
            .fit(fit.effects())
            .ok()
            .map(|fit| Companion { fit })
    }
}

/// Estimate and intervals back-transformed to the ratio scale (exp).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BackTransformed {
    /// The measure's inverse transformation.
    pub transform: BackTransform,
    /// The harmonic mean sample size (PFT) or person-time (IRFT) it used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harmonic_mean: Option<f64>,
    /// The estimate on the natural scale.
    pub estimate: f64,
    /// The lower confidence limit.
    pub ci_lower: f64,
    /// The upper confidence limit.
    pub ci_upper: f64,
    /// The lower prediction limit.
    pub pi_lower: Option<f64>,
    /// The upper prediction limit.
    pub pi_upper: Option<f64>,
}

impl BackTransformed {
    /// The fit's estimate and limits through `transform`; `studies` are the
    /// pooled studies' data, whose harmonic mean size some transforms need.
    pub(crate) fn of<'a>(
        fit: &Fit,
        transform: BackTransform,
        studies: impl Iterator<Item = &'a StudyData>,
    ) -> Self {
        let prediction = fit.pi_lower.zip(fit.pi_upper);
        let pooled = [fit.estimate, fit.ci_lower, fit.ci_upper];
        BackTransformed::new(pooled, prediction, transform, studies)
    }

    /// [estimate, lower, upper] and the prediction interval through `transform`.
    pub(crate) fn new<'a>(
        [estimate, ci_lower, ci_upper]: [f64; 3],
        prediction: Option<(f64, f64)>,
        transform: BackTransform,
        studies: impl Iterator<Item = &'a StudyData>,
    ) -> Self {
        let harmonic_mean = transform.needs_size().then(|| harmonic_mean_size(studies));
        let size = harmonic_mean.unwrap_or(f64::NAN);
        let f = |x: f64| transform.apply(x, size);
        BackTransformed {
            transform,
            harmonic_mean,
            estimate: f(estimate),
            ci_lower: f(ci_lower),
            ci_upper: f(ci_upper),
            pi_lower: prediction.map(|p| f(p.0)),
            pi_upper: prediction.map(|p| f(p.1)),
        }
    }
}

/// The harmonic mean of the studies' sample sizes or person-times.
fn harmonic_mean_size<'a>(studies: impl Iterator<Item = &'a StudyData>) -> f64 {
    let (count, inverse_sum) = studies
        .filter_map(|s| match s {
            StudyData::Proportion(p) => Some(p.n),
            StudyData::Rate(r) => Some(r.time),
            _ => None,
        })
        .fold((0.0, 0.0), |(c, sum), size| (c + 1.0, sum + 1.0 / size));
    count / inverse_sum
}

/// A pooled result with its τ² interval and, for ratio measures, the back-transformed values.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Pooled {
    /// The fitted model. With moderators there is no single pooled effect: its
    /// keys (`estimate`, `se`, `ci_lower`, …) are `null` and `coefficients` has
    /// the model.
    #[serde(flatten, serialize_with = "fit_fields")]
    pub fit: Fit,
    /// The Q-profile interval for τ² (random effects, k ≥ 2); its keys are
    /// serialised as `null` when there is none, so the JSON keeps one shape.
    #[serde(flatten, serialize_with = "interval_or_nulls")]
    pub tau2_interval: Option<Tau2Interval>,
    /// exp of the estimate and intervals, for OR, RR and ROM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back_transformed: Option<BackTransformed>,
    /// The other model on the same studies, when the analysis was asked for
    /// both: common effect beside random effects, random effects (REML)
    /// beside a common effect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub companion: Option<Companion>,
}

impl Pooled {
    /// `studies`: the pooled studies' data.
    pub(crate) fn new<'a>(
        fit: Fit,
        measure: Measure,
        studies: impl Iterator<Item = &'a StudyData>,
    ) -> Result<Self> {
        let tau2_interval = fit.tau2_interval()?;
        let back_transformed = measure
            .back_transform()
            .filter(|_| fit.regression.is_none())
            .map(|t| BackTransformed::of(&fit, t, studies));
        Ok(Pooled {
            fit,
            tau2_interval,
            back_transformed,
            companion: None,
        })
    }
}

/// The keys of a pooled effect, which a meta-regression does not have.
const POOLED_EFFECT_KEYS: [&str; 9] = [
    "estimate",
    "se",
    "statistic",
    "p_value",
    "df",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
];

fn fit_fields<S: serde::Serializer>(
    fit: &Fit,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    if fit.regression.is_none() {
        return fit.serialize(serializer);
    }
    let mut value = serde_json::to_value(fit).map_err(serde::ser::Error::custom)?;
    if let Some(map) = value.as_object_mut() {
        for key in POOLED_EFFECT_KEYS {
            map.insert(key.to_string(), serde_json::Value::Null);
        }
    }
    value.serialize(serializer)
}

fn interval_or_nulls<S: serde::Serializer>(
    interval: &Option<Tau2Interval>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Nullable {
        tau2_ci_lower: Option<f64>,
        tau2_ci_upper: Option<f64>,
        i2_ci_lower: Option<f64>,
        i2_ci_upper: Option<f64>,
        h2_ci_lower: Option<f64>,
        h2_ci_upper: Option<f64>,
    }
    let i = interval.as_ref();
    Nullable {
        tau2_ci_lower: i.map(|i| i.tau2_ci_lower),
        tau2_ci_upper: i.map(|i| i.tau2_ci_upper),
        i2_ci_lower: i.map(|i| i.i2_ci_lower),
        i2_ci_upper: i.map(|i| i.i2_ci_upper),
        h2_ci_lower: i.map(|i| i.h2_ci_lower),
        h2_ci_upper: i.map(|i| i.h2_ci_upper),
    }
    .serialize(serializer)
}
