//! What a pooled change means on a clinical instrument: which instruments were
//! pooled and how they were converted, the change as a percentage of the
//! instrument's range, and how it compares with published minimal important
//! changes.

use serde::Serialize;

use crate::effect::harmonise::{Harmonisation, InstrumentUse};
use crate::effect::scales::{Direction, ScaleRegistry};
use crate::effect::{EffectSet, Measure};
use crate::model::Fit;

/// One instrument among the pooled studies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InstrumentSummary {
    /// The registered instrument.
    pub instrument: String,
    /// The range the studies used.
    pub min: f64,
    /// Its upper end (the instrument's default, or the studies' `scale_max`).
    pub max: f64,
    /// True when the range is the instrument's default.
    pub default_range: bool,
    /// Which direction is better.
    pub better: Direction,
    /// How many of the pooled studies used it.
    pub k: usize,
}

/// The pooled change (and its interval) as a percentage of the range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PercentOfRange {
    /// Pooled change, percent of the range.
    pub estimate: f64,
    /// Lower confidence limit, percent of the range.
    pub ci_lower: f64,
    /// Upper confidence limit, percent of the range.
    pub ci_upper: f64,
}

/// The pooled improvement against one published minimal important change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MicComparison {
    /// The MIC as published.
    pub published: String,
    /// Where it was derived.
    pub context: String,
    /// The publication.
    pub source: String,
    /// The MIC (lower end) in the units of the analysis.
    pub low: f64,
    /// The upper end of a published range, in the units of the analysis.
    pub high: Option<f64>,
    /// The pooled improvement in the same units (positive = better).
    pub improvement: f64,
    /// The lower confidence limit of the improvement.
    pub improvement_ci_lower: f64,
    /// The upper confidence limit of the improvement.
    pub improvement_ci_upper: f64,
    /// Judged by the confidence interval, not the point: `above` (the whole
    /// interval above the MIC, or its range), `includes` (the interval reaches
    /// it) or `below` (the whole interval below it).
    pub verdict: &'static str,
    /// Whether an improvement is an increase of the analysed change.
    #[serde(skip)]
    pub(crate) upward: bool,
}

/// The clinical reading of a before/after analysis on registered instruments.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClinicalSummary {
    /// The instruments pooled.
    pub instruments: Vec<InstrumentSummary>,
    /// The harmonisation requested.
    pub harmonisation: Harmonisation,
    /// For raw changes on one range (or rescaled ones): percent of the range.
    pub percent_of_range: Option<PercentOfRange>,
    /// For raw changes on one instrument: the published MICs.
    pub mic: Vec<MicComparison>,
    /// Why a comparison could not be made, if it could not.
    pub limitations: Vec<String>,
}

/// The summary for a fit of clinical before/after data; `None` when no study
/// names an instrument.
pub(crate) fn summarise(
    effects: &EffectSet,
    pooled: [f64; 3],
    harmonisation: &Harmonisation,
    registry: &ScaleRegistry,
) -> Option<ClinicalSummary> {
    let uses: Vec<&InstrumentUse> = effects
        .studies
        .iter()
        .filter_map(|s| s.instrument())
        .collect();
    let first = *uses.first()?;
    let mut instruments: Vec<InstrumentSummary> = Vec::new();
    for u in &uses {
        match instruments
            .iter_mut()
            .find(|i| i.instrument == u.instrument && i.max == u.max)
        {
            Some(i) => i.k += 1,
            None => instruments.push(InstrumentSummary {
                instrument: u.instrument.clone(),
                min: u.min,
                max: u.max,
                default_range: u.default_range,
                better: u.better,
                k: 1,
            }),
        }
    }
    let mut summary = ClinicalSummary {
        instruments,
        harmonisation: *harmonisation,
        percent_of_range: None,
        mic: Vec::new(),
        limitations: Vec::new(),
    };
    if !matches!(effects.measure, Measure::Mc | Measure::Mcd) {
        summary.limitations.push(
            "a standardised change has no unit: percent of range and MIC comparisons need raw changes (MC)".into(),
        );
        return Some(summary);
    }
    let span = harmonisation.rescale.unwrap_or(first.max - first.min);
    let percent = |x: f64| 100.0 * x / span;
    let [estimate, ci_lower, ci_upper] = pooled;
    summary.percent_of_range = Some(PercentOfRange {
        estimate: percent(estimate),
        ci_lower: percent(ci_lower),
        ci_upper: percent(ci_upper),
    });
    if summary.instruments.len() > 1 {
        summary
            .limitations
            .push("MIC values are instrument-specific: no comparison across instruments".into());
        return Some(summary);
    }
    summary.mic = mic_comparisons(first, pooled, harmonisation, registry);
    if summary.mic.is_empty() {
        summary.limitations.push(format!(
            "no minimal important change is registered for {}",
            first.instrument
        ));
    }
    Some(summary)
}

/// Published MICs are improvements in points of the default range; they are
/// converted to the units of the analysis (the study range, or the rescaled one).
fn mic_comparisons(
    usage: &InstrumentUse,
    [estimate, ci_lower, ci_upper]: [f64; 3],
    harmonisation: &Harmonisation,
    registry: &ScaleRegistry,
) -> Vec<MicComparison> {
    let Ok(scale) = registry.find(&usage.instrument) else {
        return Vec::new();
    };
    let units = usage.factor.abs() * (usage.max - usage.min) / scale.span();
    let improves_upward = usage.better == Direction::Higher || harmonisation.improvement_positive;
    let (improvement, ci) = if improves_upward {
        (estimate, (ci_lower, ci_upper))
    } else {
        (-estimate, (-ci_upper, -ci_lower))
    };
    scale
        .mic
        .iter()
        .map(|m| {
            let (low, high) = (m.low * units, m.high.map(|h| h * units));
            let verdict = if ci.1 < low {
                "below"
            } else if ci.0 > high.unwrap_or(low) {
                "above"
            } else {
                "includes"
            };
            MicComparison {
                published: m.published.clone(),
                context: m.context.clone(),
                source: m.source.clone(),
                low,
                high,
                improvement,
                improvement_ci_lower: ci.0,
                improvement_ci_upper: ci.1,
                verdict,
                upward: improves_upward,
            }
        })
        .collect()
}

/// One row of the sensitivity analysis over the pre/post correlation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RSensitivity {
    /// The correlation assumed for studies that do not report one.
    pub r: f64,
    /// Studies pooled.
    pub k: usize,
    /// Pooled estimate.
    pub estimate: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// τ².
    pub tau2: f64,
    /// I², percent.
    pub i2: Option<f64>,
}

impl RSensitivity {
    pub(crate) fn of(r: f64, fit: &Fit) -> Self {
        RSensitivity {
            r,
            k: fit.k,
            estimate: fit.estimate,
            ci_lower: fit.ci_lower,
            ci_upper: fit.ci_upper,
            tau2: fit.tau2,
            i2: fit.i2,
        }
    }
}

/// Beyond this many SDs a change (or difference) is implausible for a
/// treatment: more often an SE entered as an SD, or a mislabelled column.
pub(crate) const PLAUSIBLE_SDS: f64 = 3.0;

/// Studies whose standardised effect exceeds [`PLAUSIBLE_SDS`]: the
/// standardised measures themselves, and raw before/after changes relative
/// to the baseline SD.
pub(crate) fn plausibility_warnings(effects: &EffectSet) -> Vec<String> {
    let standardised = matches!(
        effects.measure,
        Measure::Smd | Measure::Smcc | Measure::Smcr | Measure::Smcrd
    );
    effects
        .studies
        .iter()
        .filter_map(|s| {
            let size = if standardised {
                s.effect.yi.abs()
            } else {
                match &s.data {
                    crate::effect::StudyData::PrePost(p) if p.sd_pre > 0.0 => {
                        (p.mean_post - p.mean_pre).abs() / p.sd_pre
                    }
                    _ => return None,
                }
            };
            let borrowed = s.imputed().iter().any(|i| i.column == "sd_pre");
            (size > PLAUSIBLE_SDS).then(|| {
                format!(
                    "study `{}`: a change of {size:.1} SDs (baseline SD{}) is more than \
                     {PLAUSIBLE_SDS} and implausible for a treatment effect; check that the SDs \
                     are not standard errors (SE = SD / sqrt(n)) and the columns are the right ones",
                    s.study,
                    if borrowed { ", borrowed" } else { "" }
                )
            })
        })
        .collect()
}
