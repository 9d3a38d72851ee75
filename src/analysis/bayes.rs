//! The Bayesian random-effects model beside the frequentist one: the prior
//! for τ (given, or a stated default), the posterior, and the probability
//! that the improvement exceeds each published minimal important change.

use serde::Serialize;

use super::clinical::ClinicalSummary;
use crate::effect::{EffectSet, Measure};
use crate::error::{ErrorKind, Result};
use crate::model::{BayesianMetaAnalysis, MuPrior, Posterior, TauPrior};

/// What the Bayesian analysis is asked for: a prior for τ (or the default
/// for the measure) and a prior for μ.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct BayesOptions {
    /// The prior for τ; `None` for the default (see [`default_tau_prior`]).
    pub tau_prior: Option<TauPrior>,
    /// The prior for μ.
    pub mu_prior: MuPrior,
    /// Effects whose posterior probability of being exceeded is reported.
    pub thresholds: Vec<f64>,
}

impl BayesOptions {
    /// The default priors: τ's chosen for the measure, μ uniform.
    pub fn new() -> Self {
        BayesOptions::default()
    }

    /// Sets the prior for τ.
    pub fn tau_prior(mut self, prior: TauPrior) -> Self {
        self.tau_prior = Some(prior);
        self
    }

    /// Sets the prior for μ.
    pub fn mu_prior(mut self, prior: MuPrior) -> Self {
        self.mu_prior = prior;
        self
    }

    /// Reports P(μ > x) and P(a new study's effect > x) for each `x`, on the
    /// analysis scale (log scale for ratios).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, BayesOptions, Measure};
    /// let bayes = BayesOptions::new().thresholds(&[0.0]);
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr).bayes(bayes))?;
    /// let above = &analysis.bayesian.as_ref().unwrap().thresholds[0];
    /// assert!(above.mu < 0.01); // the risk ratio is almost surely below 1
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn thresholds(mut self, values: &[f64]) -> Self {
        self.thresholds = values.to_vec();
        self
    }
}

/// The posterior probabilities of exceeding one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ThresholdProbability {
    /// The threshold, on the analysis scale.
    pub above: f64,
    /// P(μ > threshold | data).
    pub mu: f64,
    /// P(a new study's effect > threshold | data).
    pub new_study: f64,
}

/// The posterior probability that the improvement exceeds one published MIC.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MicProbability {
    /// The MIC as published.
    pub published: String,
    /// The MIC (its lower end) in the units of the analysis, as an improvement.
    pub mic: f64,
    /// P(the mean improvement > MIC | data).
    pub pooled: f64,
    /// P(the improvement in a new study's population > MIC | data).
    pub new_study: f64,
}

/// The Bayesian random-effects analysis of the same studies.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct BayesianSummary {
    /// The posterior (its priors inside).
    pub posterior: Posterior,
    /// Where the prior for τ came from: given, or the default and why.
    pub tau_prior_source: String,
    /// For raw changes on one instrument: P(improvement > MIC) for each MIC.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mic: Vec<MicProbability>,
    /// P(μ > x) and P(a new study's effect > x) for each threshold asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdProbability>,
    /// What the posterior does not say (few studies: τ rests on its prior).
    pub warnings: Vec<String>,
}

/// Log-scale and standardised measures have no unit: a half-normal prior
/// with scale 0.5 puts 95% of its mass on τ < 0.98 (a ratio of 2.7 between
/// a study's true effect and the mean; 1 SD for standardised ones).
fn unitless(measure: Measure) -> bool {
    use Measure::*;
    matches!(
        measure,
        Or | Rr | Rom | Irr | Smd | Smcc | Smcr | Smcrd | Zcor | Plo | Pln | Mnln | Irln
    )
}

/// The default prior for τ: half-normal(0.5) on unitless scales; on a raw
/// scale, half-normal with half the unit-information SD (Röver et al. 2021:
/// the SD of one participant's outcome, √(Σ nᵢ / Σ 1/σᵢ²)) as its scale, so
/// that a between-study SD above one participant's SD has prior
/// probability 4.6%.
pub fn default_tau_prior(effects: &EffectSet) -> Result<(TauPrior, String)> {
    if unitless(effects.measure) {
        return Ok((
            TauPrior::HalfNormal { scale: 0.5 },
            format!(
                "the default for {}: weakly informative on a unitless scale",
                effects.measure.name()
            ),
        ));
    }
    let mut n = 0.0;
    let mut precision = 0.0;
    for study in &effects.studies {
        let Some(participants) = study.data.participants() else {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} has no unit-free default prior for τ and study `{}` gives no sample size \
                 to derive one from: choose a prior for τ",
                effects.measure.name(),
                study.study
            ))
            .into());
        };
        n += participants;
        precision += 1.0 / study.effect.vi;
    }
    let unit = (n / precision).sqrt();
    let scale = significant(unit / 2.0);
    Ok((
        TauPrior::HalfNormal { scale },
        format!(
            "the default for {}: half the unit-information SD {} = sqrt(sum n / sum 1/vi) \
             (Röver et al. 2021)",
            effects.measure.name(),
            significant(unit)
        ),
    ))
}

/// Four significant digits, so that the prior printed is the prior used.
fn significant(x: f64) -> f64 {
    let digits = 3 - x.abs().log10().floor() as i32;
    let factor = 10f64.powi(digits);
    (x * factor).round() / factor
}

/// Fits the Bayesian model to the analysis's effects.
pub(crate) fn fit(
    effects: &EffectSet,
    options: &BayesOptions,
    level: f64,
) -> Result<BayesianSummary> {
    let (tau_prior, tau_prior_source) = match options.tau_prior {
        Some(prior) => (prior, "given".to_string()),
        None => default_tau_prior(effects)?,
    };
    let model = BayesianMetaAnalysis::new(tau_prior)
        .mu_prior(options.mu_prior)
        .level(level);
    let posterior = model.fit(&effects.effects())?;
    let mut warnings = Vec::new();
    if posterior.k < crate::analysis::FEW_STUDIES {
        warnings.push(format!(
            "k = {}: the data say little about tau, so its posterior, and with it the width of \
             the intervals of mu and of a new study, rests largely on the prior for tau ({}); \
             report the prior, and check the conclusions under another",
            posterior.k, tau_prior
        ));
    }
    let thresholds = options
        .thresholds
        .iter()
        .map(|&above| ThresholdProbability {
            above,
            mu: posterior.probability_mu_above(above),
            new_study: posterior.probability_new_study_above(above),
        })
        .collect();
    Ok(BayesianSummary {
        posterior,
        tau_prior_source,
        mic: Vec::new(),
        thresholds,
        warnings,
    })
}

/// P(improvement > MIC) for each MIC the clinical summary compared.
pub(crate) fn mic_probabilities(summary: &mut BayesianSummary, clinical: &ClinicalSummary) {
    summary.mic = clinical
        .mic
        .iter()
        .map(|m| {
            let posterior = &summary.posterior;
            // The improvement is the change, or its negative on instruments
            // where lower is better.
            let (pooled, new_study) = if m.upward {
                (
                    posterior.probability_mu_above(m.low),
                    posterior.probability_new_study_above(m.low),
                )
            } else {
                (
                    posterior.probability_mu_below(-m.low),
                    posterior.probability_new_study_below(-m.low),
                )
            };
            MicProbability {
                published: m.published.clone(),
                mic: m.low,
                pooled,
                new_study,
            }
        })
        .collect();
}
