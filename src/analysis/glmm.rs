//! The GLMM route of an analysis: the studies' counts, not their effect
//! sizes, pooled by [`Glmm`], with exact (Clopper–Pearson) intervals for
//! single proportions in place of the effect sizes' Wald intervals.

use serde::Serialize;

use super::AnalysisOptions;
use super::pooled::BackTransformed;
use crate::effect::{EffectSet, Measure, StudyData};
use crate::error::{ErrorKind, Result};
use crate::model::{Glmm, GlmmData, GlmmFit, GlmmModel, Method};

/// A GLMM's pooled result, with its estimate on the natural scale.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct GlmmPooled {
    /// The method: [`Method::Glmm`].
    pub method: Method,
    /// The fitted model. In JSON beside the analysis's keys: its `measure` is
    /// the analysis's, and its `excluded` (indices of the studies it left
    /// out) is written `left_out`, apart from the studies without data.
    #[serde(flatten, serialize_with = "beside_analysis")]
    pub fit: GlmmFit,
    /// The estimate and confidence limits on the natural scale (proportion,
    /// rate, odds ratio or rate ratio).
    pub back_transformed: Option<BackTransformed>,
}

impl GlmmPooled {
    /// The pooled estimate and its confidence limits (logit or log scale).
    pub fn pooled(&self) -> [f64; 3] {
        [self.fit.estimate, self.fit.ci_lower, self.fit.ci_upper]
    }
}

/// Fits the GLMM the options ask for to the studies' counts.
pub(crate) fn fit(effects: &EffectSet, options: &AnalysisOptions) -> Result<GlmmPooled> {
    let glmm = Glmm::random()
        .model(options.glmm_model.unwrap_or(GlmmModel::FixedStudy))
        .level(options.level)?;
    let data = effects.studies.iter().map(|s| &s.data);
    let fit = match options.measure {
        Measure::Plo => glmm.fit(GlmmData::Proportions(&collect(data, |d| match d {
            StudyData::Proportion(p) => Some(*p),
            _ => None,
        })?)),
        Measure::Irln => glmm.fit(GlmmData::Rates(&collect(data, |d| match d {
            StudyData::Rate(r) => Some(*r),
            _ => None,
        })?)),
        Measure::Or => glmm.fit(GlmmData::Tables(&collect(data, |d| match d {
            StudyData::TwoByTwo(t) => Some(**t),
            _ => None,
        })?)),
        Measure::Irr => glmm.fit(GlmmData::RatePairs(&collect(data, |d| match d {
            StudyData::TwoRates(t) => Some(**t),
            _ => None,
        })?)),
        other => Err(ErrorKind::InvalidSetting(format!(
            "the GLMM pools counts of PLO, IRLN, OR or IRR, not {other}"
        ))
        .into()),
    }?;
    let back_transformed = options.measure.back_transform().map(|t| {
        let studies = effects.studies.iter().map(|s| &s.data);
        BackTransformed::new([fit.estimate, fit.ci_lower, fit.ci_upper], None, t, studies)
    });
    Ok(GlmmPooled {
        method: Method::Glmm,
        fit,
        back_transformed,
    })
}

/// The fit's keys, none of them one of the analysis's.
fn beside_analysis<S: serde::Serializer>(
    fit: &GlmmFit,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut value = serde_json::to_value(fit).map_err(serde::ser::Error::custom)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("measure");
        if let Some(left_out) = map.remove("excluded") {
            map.insert("left_out".into(), left_out);
        }
    }
    value.serialize(serializer)
}

/// Every study's counts, in the form the measure's GLMM takes.
fn collect<'a, T>(
    data: impl Iterator<Item = &'a StudyData>,
    counts: impl Fn(&StudyData) -> Option<T>,
) -> Result<Vec<T>> {
    data.map(|d| {
        counts(d).ok_or_else(|| {
            ErrorKind::InvalidSetting("the GLMM needs every study's counts".into()).into()
        })
    })
    .collect()
}

/// What the reader must know of the studies the GLMM left out.
pub(crate) fn exclusion_warning(pooled: &GlmmPooled, effects: &EffectSet) -> Option<String> {
    let excluded = &pooled.fit.excluded;
    if excluded.is_empty() {
        return None;
    }
    let names: Vec<&str> = excluded
        .iter()
        .take(super::EXCLUSIONS_NAMED)
        .map(|&i| effects.studies[i].study.as_ref())
        .collect();
    let more = excluded.len().saturating_sub(names.len());
    let why = match pooled.fit.measure {
        Measure::Irr => "no events in either group",
        _ => "no events in either group (or only events)",
    };
    let model = pooled
        .fit
        .model
        .map_or(String::new(), |m| format!(" ({m})"));
    let one = excluded.len() == 1;
    Some(format!(
        "{} stud{} with {why} left out: no information under the GLMM{model}: {}{}",
        excluded.len(),
        if one { "y" } else { "ies" },
        names.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    ))
}

/// How the GLMM was fitted: what it integrates and how, and what it does
/// without (continuity corrections).
pub(crate) fn method_note(pooled: &GlmmPooled) -> String {
    let fit = &pooled.fit;
    let integration = match fit.quadrature_points {
        0 => "tau^2 = 0 at the maximum: nothing integrated".to_string(),
        1 => "the Laplace approximation".to_string(),
        n if fit.model == Some(GlmmModel::ConditionalExact) && fit.measure == Measure::Or => {
            format!(
                "adaptive Gauss-Hermite quadrature with {n} points per study, the exact integral \
                 to ~1e-11, which metafor evaluates by numerical integration"
            )
        }
        n => format!("adaptive Gauss-Hermite quadrature with {n} points per study"),
    };
    format!(
        "GLMM fitted by maximum likelihood ({integration}) to the counts as they are: no \
         continuity correction; the studies' effect sizes (with 0.5 added to zero cells) serve \
         only the typical within-study variance of I^2 and the sizes of the forest plot's squares"
    )
}
