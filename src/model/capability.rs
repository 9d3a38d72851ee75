//! What each kind of pooled model can do: the one table that refits, bias
//! tests, plots and options consult before they use a model, so that a model
//! that cannot do something says so with [`ErrorKind::Unsupported`] instead of
//! another model being used in its place.
//!
//! ```
//! use cochran::model::{Capability, ModelKind};
//! assert!(ModelKind::Univariate.supports(Capability::LeaveOneOut));
//! assert!(!ModelKind::ThreeLevel.supports(Capability::LeaveOneOut));
//! assert!(ModelKind::ThreeLevel.supports(Capability::ForestPlot));
//! let refused = ModelKind::ThreeLevel.check(Capability::FunnelPlot).unwrap_err();
//! assert_eq!(
//!     refused.to_string(),
//!     "the funnel plot is not available for the three-level model of clustered effects"
//! );
//! ```

use serde::Serialize;

use crate::error::{ErrorKind, Result};

/// The engine behind an analysis's pooled model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ModelKind {
    /// Independent effects: the common-effect or random-effects model, with or
    /// without moderators, by inverse variance, Mantel–Haenszel or Peto.
    Univariate,
    /// Effects nested in clusters: the three-level model.
    ThreeLevel,
    /// The generalised linear mixed model of the studies' counts.
    Glmm,
}

/// Something asked of a fitted model: a refit, a test, a plot or an option
/// of the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Capability {
    /// The model without each study in turn.
    LeaveOneOut,
    /// The model as studies are added one at a time.
    Cumulative,
    /// Influence diagnostics of each study.
    Influence,
    /// The Baujat plot's coordinates.
    Baujat,
    /// The model on subsets of the studies (GOSH).
    Gosh,
    /// Egger's test, the rank test, trim-and-fill and fail-safe N.
    SmallStudyEffects,
    /// The forest plot.
    ForestPlot,
    /// The common-effect and random-effects diamonds side by side.
    BothModels,
    /// The funnel plot.
    FunnelPlot,
    /// The bubble plot of a meta-regression.
    BubblePlot,
    /// The Baujat plot.
    BaujatPlot,
    /// The panels of the influence diagnostics.
    InfluencePlot,
    /// The GOSH plot.
    GoshPlot,
    /// A permutation test of the moderators.
    PermutationTest,
    /// Predictions at moderator values.
    Predictions,
    /// The analysis again for other assumed pre/post correlations.
    RSensitivity,
    /// Subgroups of a grouping column, each pooled on its own.
    Subgroups,
    /// The Bayesian random-effects model beside this one.
    Bayesian,
    /// Moderators: a meta-regression.
    Moderators,
}

impl ModelKind {
    /// Whether this kind of model can do `what`.
    pub fn supports(self, what: Capability) -> bool {
        match self {
            ModelKind::Univariate => true,
            ModelKind::ThreeLevel => {
                matches!(what, Capability::ForestPlot | Capability::Moderators)
            }
            ModelKind::Glmm => matches!(what, Capability::ForestPlot),
        }
    }

    /// `Ok` when the model can do `what`, [`ErrorKind::Unsupported`] otherwise.
    pub fn check(self, what: Capability) -> Result<()> {
        if self.supports(what) {
            Ok(())
        } else {
            Err(ErrorKind::Unsupported { what, model: self }.into())
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Univariate => "the model of independent effects",
            ModelKind::ThreeLevel => "the three-level model of clustered effects",
            ModelKind::Glmm => "the generalised linear mixed model (GLMM)",
        })
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Capability::LeaveOneOut => "leave-one-out",
            Capability::Cumulative => "the cumulative meta-analysis",
            Capability::Influence => "influence diagnostics",
            Capability::Baujat => "the Baujat plot's coordinates",
            Capability::Gosh => "GOSH",
            Capability::SmallStudyEffects => "tests of small-study effects",
            Capability::ForestPlot => "the forest plot",
            Capability::BothModels => "the common-effect and random-effects diamonds together",
            Capability::FunnelPlot => "the funnel plot",
            Capability::BubblePlot => "the bubble plot",
            Capability::BaujatPlot => "the Baujat plot",
            Capability::InfluencePlot => "the influence plot",
            Capability::GoshPlot => "the GOSH plot",
            Capability::PermutationTest => "a permutation test",
            Capability::Bayesian => "the Bayesian random-effects model",
            Capability::Predictions => "predictions at moderator values",
            Capability::RSensitivity => "the sensitivity analysis over r",
            Capability::Subgroups => "subgroup analysis",
            Capability::Moderators => "meta-regression on moderators",
        })
    }
}
