//! The whole analysis: CSV → effect sizes → pooled model → subgroups, as one
//! serialisable result.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure};
//! let options = AnalysisOptions::new(Measure::Rr).group_by("alloc");
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
//! assert_eq!(analysis.subgroups.as_ref().map(Vec::len), Some(3));
//! assert!(analysis.subgroup_test.is_some());
//! # Ok::<(), cochran::Error>(())
//! ```

mod bayes;
mod clinical;
mod dependence;
mod glmm;
mod moderators;
mod pooled;
mod prepared;
mod selection;
mod settings;
pub(crate) mod studies;

use crate::setting::Setting;
use std::path::Path;
use std::sync::Arc;

use prepared::Prepared;

use serde::Serialize;

pub use bayes::{
    BayesOptions, BayesianSummary, MicProbability, ThresholdProbability, default_tau_prior,
};
pub use clinical::{
    ClinicalSummary, InstrumentSummary, MicComparison, PercentOfRange, RSensitivity,
};
pub use dependence::{IgnoringDependence, Multilevel};
pub use glmm::GlmmPooled;
pub use pooled::{BackTransformed, Companion, Pooled, PooledModel};
pub use selection::{TIME_COLUMN, TimeSelection};
pub use settings::Settings;
pub use studies::{ExactProportion, Iter as StudyIter, StudyResult, StudyResults};

use crate::data::Table;
use crate::effect::harmonise::{Harmonisation, OUTCOME_COLUMN, harmonise};
use crate::effect::scales::ScaleRegistry;
use crate::effect::{EffectOptions, EffectSet, Measure, SdImputation, StudyData};
use crate::error::{ErrorKind, Result};
use crate::hash::{LabelMap, LabelSet};
use crate::model::{
    Capability, Design, Fit, GlmmModel, MetaAnalysis, Method, ModelKind, Prediction, Rve,
    SubgroupDifference, Tau2, Test, subgroup_difference,
};

/// Everything that defines an analysis. Start from [`AnalysisOptions::new`]; the
/// defaults are REML, a z test and a 95% level.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AnalysisOptions {
    /// The effect-size measure.
    pub measure: Measure,
    /// Common effect or random effects with a τ² estimator.
    pub method: Method,
    /// z or Knapp–Hartung.
    pub test: Test,
    /// Confidence level in percent.
    pub level: f64,
    /// How studies become effects (assumed r, strict mode).
    pub effects: EffectOptions,
    /// The column that defines subgroups (default: a `subgroup` column if present).
    pub group_by: Option<String>,
    /// Analyse only the studies of this instrument (the `outcome` column).
    pub outcome: Option<String>,
    /// Common range and direction for clinical instruments.
    pub harmonisation: Harmonisation,
    /// Correlations to re-run the analysis with, for studies without a reported r.
    pub r_sensitivity: Vec<f64>,
    /// Moderator columns of a meta-regression, in model order.
    pub moderators: Vec<String>,
    /// Whether the meta-regression has an intercept (default true).
    pub intercept: bool,
    /// Points to predict the meta-regression at: moderator names and values.
    pub predictions: Vec<Vec<(String, String)>>,
    /// A permutation test of the meta-regression: the number of permutations and the seed.
    pub permutations: Option<(usize, u64)>,
    /// Whether subgroups estimate their own τ² or share one.
    pub subgroup_tau2: SubgroupTau2,
    /// The column whose values group dependent effects (usually `study`): the
    /// three-level model instead of the two-level one.
    pub cluster: Option<String>,
    /// CR2 cluster-robust inference (needs `cluster`).
    pub robust: bool,
    /// Robust variance estimation with this assumed correlation between the
    /// effects of a cluster (needs `cluster`).
    pub rve_rho: Option<f64>,
    /// Which follow-ups (the `time` column) enter the analysis.
    pub time: Option<TimeSelection>,
    /// Instruments in order of preference: each study keeps its rows of the
    /// first one it reports.
    pub prefer: Vec<String>,
    /// How the file is read where detection is not enough: delimiter,
    /// decimal mark, sheet, the user's column names.
    pub read: crate::data::ReadOptions,
    /// Whether every pooled result also carries the other model (common
    /// effect beside random effects, or REML beside a common effect).
    pub companion: bool,
    /// The Bayesian random-effects model beside the frequentist one.
    pub bayes: Option<BayesOptions>,
    /// The prediction interval's distribution.
    pub prediction_interval: crate::model::PredictionInterval,
    /// The GLMM's model of two-group tables (with [`Method::Glmm`]; metafor's
    /// default, UM.FS, unless set).
    pub glmm_model: Option<GlmmModel>,
    /// τ² fixed instead of estimated (how subgroups share one).
    fixed_tau2: Option<f64>,
    /// The instruments known to the analysis, when not the built-in ones.
    scales: Option<std::sync::Arc<ScaleRegistry>>,
}

/// How subgroups get their between-study variance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SubgroupTau2 {
    /// Each subgroup estimates its own τ²; the subgroups are compared with
    /// Cochran's Q between their estimates (RevMan's and meta's default).
    #[default]
    Separate,
    /// One τ² for all subgroups, from the mixed-effects model with the
    /// grouping as a categorical moderator, whose QM tests the differences
    /// (advisable with few studies per subgroup).
    Common,
}

impl std::str::FromStr for SubgroupTau2 {
    type Err = crate::Error;

    /// `separate` or `common`, case-insensitive.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "separate" => Ok(SubgroupTau2::Separate),
            "common" => Ok(SubgroupTau2::Common),
            _ => Err(ErrorKind::UnknownName {
                what: "subgroup tau^2",
                given: s.to_string(),
                valid: vec!["separate".into(), "common".into()],
            }
            .into()),
        }
    }
}

impl AnalysisOptions {
    /// REML random effects, z test, 95% level, for the given measure.
    pub fn new(measure: Measure) -> Self {
        AnalysisOptions {
            measure,
            method: Method::Random(Tau2::Reml),
            test: Test::Z,
            level: 95.0,
            effects: EffectOptions::default(),
            group_by: None,
            outcome: None,
            harmonisation: Harmonisation::default(),
            r_sensitivity: Vec::new(),
            moderators: Vec::new(),
            intercept: true,
            predictions: Vec::new(),
            permutations: None,
            subgroup_tau2: SubgroupTau2::Separate,
            cluster: None,
            robust: false,
            rve_rho: None,
            time: None,
            prefer: Vec::new(),
            read: crate::data::ReadOptions::new(),
            scales: None,
            companion: false,
            bayes: None,
            prediction_interval: Default::default(),
            glmm_model: None,
            fixed_tau2: None,
        }
    }

    /// Selects follow-ups by the `time` column: a value, each study's latest,
    /// or all of them (then several effects of one study are dependent).
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure, analysis::TimeSelection};
    /// let options = AnalysisOptions::new(Measure::Mc).time(TimeSelection::Latest);
    /// assert_eq!(options.time, Some(TimeSelection::Latest));
    /// ```
    pub fn time(mut self, selection: TimeSelection) -> Self {
        self.time = Some(selection);
        self
    }

    /// Keeps one instrument per study, the first of these it reports (any
    /// other instrument ranks after them all), for pooling across instruments.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Smcr).prefer(&["HHS", "mHHS", "WOMAC"]);
    /// assert_eq!(options.prefer.len(), 3);
    /// ```
    pub fn prefer(mut self, instruments: &[&str]) -> Self {
        self.prefer = instruments.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Effects with the same value in this column (usually `study`) are
    /// dependent: the analysis fits the three-level model, effects nested in
    /// clusters.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Gen).cluster("study").robust(true);
    /// assert_eq!(options.cluster.as_deref(), Some("study"));
    /// ```
    pub fn cluster(mut self, column: impl Into<String>) -> Self {
        self.cluster = Some(column.into());
        self
    }

    /// Adds CR2 cluster-robust tests with Satterthwaite degrees of freedom
    /// (needs [`cluster`](Self::cluster)).
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(AnalysisOptions::new(Measure::Gen).robust(true).check().is_err());
    /// ```
    pub fn robust(mut self, on: bool) -> Self {
        self.robust = on;
        self
    }

    /// Adds robust variance estimation (correlated effects, small-sample
    /// corrected) with this assumed correlation in [0, 1] (needs
    /// [`cluster`](Self::cluster)).
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(AnalysisOptions::new(Measure::Gen).cluster("study").rve(1.5).check().is_err());
    /// ```
    pub fn rve(mut self, rho: f64) -> Self {
        self.rve_rho = Some(rho);
        self
    }

    /// Lets the subgroups share one τ² (a mixed-effects model with the grouping
    /// as moderator) or estimate their own.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure, SubgroupTau2};
    /// let options = AnalysisOptions::new(Measure::Rr).group_by("alloc").subgroup_tau2(SubgroupTau2::Common);
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let groups = analysis.subgroups.as_ref().unwrap();
    /// assert!(groups.iter().all(|g| g.pooled.fit.tau2 == groups[0].pooled.fit.tau2));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn subgroup_tau2(mut self, rule: SubgroupTau2) -> Self {
        self.subgroup_tau2 = rule;
        self
    }

    /// Adds a permutation test of the meta-regression (metafor's `permutest`):
    /// exact when `count` reaches the number of distinct permutations, else
    /// `count` random ones drawn from `seed`.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Rr).moderators(&["ablat"]).permutations(200, 7);
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let regression = analysis.fit().unwrap().regression.as_ref().unwrap();
    /// assert!(regression.qm_p_value_permutation.unwrap() < 0.05);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn permutations(mut self, count: usize, seed: u64) -> Self {
        self.permutations = Some((count, seed));
        self
    }

    /// Predicts the meta-regression at these moderator values (a number for a
    /// numeric moderator, a level for a categorical one; every moderator).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Rr)
    ///     .moderators(&["ablat"])
    ///     .predict(&[("ablat", "40")]);
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let at_40 = &analysis.predictions.as_ref().unwrap()[0];
    /// assert!(at_40.prediction.estimate < 0.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn predict(mut self, values: &[(&str, &str)]) -> Self {
        self.predictions.push(
            values
                .iter()
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect(),
        );
        self
    }

    /// Fits a meta-regression on these columns (numeric columns as one
    /// coefficient, others as categorical).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Rr).moderators(&["ablat"]);
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let regression = analysis.fit().unwrap().regression.as_ref().unwrap();
    /// assert_eq!(regression.coefficients[1].name, "ablat");
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn moderators(mut self, columns: &[&str]) -> Self {
        self.moderators = columns
            .iter()
            .map(|c| c.trim().to_ascii_lowercase())
            .collect();
        self
    }

    /// The instruments the analysis knows: the built-in registry extended
    /// with the user's (`--scales FILE`), for instruments it lacks.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// use cochran::effect::scales::ScaleRegistry;
    /// let mut scales = ScaleRegistry::builtin();
    /// let row = "name,aliases,full_name,min,max,better,subscales,note\nLequesne,,Lequesne index,0,24,lower,,\n";
    /// scales.extend_from_csv(row.as_bytes(), "instrument,low,high,published,context,source\n".as_bytes())?;
    /// let options = AnalysisOptions::new(Measure::Mc).scales(scales);
    /// assert_eq!(options.registry().find("Lequesne")?.max, 24.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn scales(mut self, registry: ScaleRegistry) -> Self {
        self.scales = Some(std::sync::Arc::new(registry));
        self
    }

    /// The instruments the analysis knows (the built-in ones unless
    /// [`scales`](Self::scales) set others).
    pub fn registry(&self) -> &ScaleRegistry {
        self.scales
            .as_deref()
            .unwrap_or_else(|| ScaleRegistry::shared())
    }

    /// Fits the meta-regression without an intercept.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(!AnalysisOptions::new(Measure::Rr).moderators(&["alloc"]).no_intercept().intercept);
    /// ```
    pub fn no_intercept(mut self) -> Self {
        self.intercept = false;
        self
    }

    /// The table columns to read for these options, and how.
    pub fn table_spec(&self) -> crate::data::TableSpec {
        let mut text: Vec<&str> = self.moderators.iter().map(String::as_str).collect();
        text.extend(self.cluster.as_deref());
        text.push(OUTCOME_COLUMN);
        let mut spec = EffectSet::table_spec(self.measure).with_text(&text);
        if self.time.is_some() && !self.uses_person_time() {
            spec = spec.with_numeric(&[TIME_COLUMN]);
        }
        spec = spec.read_options(self.read.clone());
        if let Some(column) = &self.group_by {
            spec = spec.group_by(column.as_str());
        }
        spec
    }

    /// Analyses only the studies whose `outcome` is this instrument (or one of its aliases).
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert_eq!(AnalysisOptions::new(Measure::Mc).outcome("HHS").outcome.as_deref(), Some("HHS"));
    /// ```
    pub fn outcome(mut self, instrument: impl Into<String>) -> Self {
        self.outcome = Some(instrument.into());
        self
    }

    /// Flips lower-is-better instruments so that a positive change means improvement.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(AnalysisOptions::new(Measure::Mc).improvement_positive(true).harmonisation.improvement_positive);
    /// ```
    pub fn improvement_positive(mut self, on: bool) -> Self {
        self.harmonisation.improvement_positive = on;
        self
    }

    /// Converts raw changes to a 0–`target` range of each instrument before pooling.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert_eq!(AnalysisOptions::new(Measure::Mc).rescale(100.0).harmonisation.rescale, Some(100.0));
    /// ```
    pub fn rescale(mut self, target: f64) -> Self {
        self.harmonisation.rescale = Some(target);
        self
    }

    /// Derives r for studies without one from those reporting SD before, after and of the change.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(AnalysisOptions::new(Measure::Mc).impute_r(true).effects.impute_r);
    /// ```
    pub fn impute_r(mut self, on: bool) -> Self {
        self.effects.impute_r = on;
        self
    }

    /// Borrows missing SDs from the other studies of the same instrument and time.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure, SdImputation};
    /// let options = AnalysisOptions::new(Measure::Mc).impute_sd(SdImputation::Max);
    /// assert_eq!(options.effects.impute_sd, Some(SdImputation::Max));
    /// ```
    pub fn impute_sd(mut self, rule: SdImputation) -> Self {
        self.effects.impute_sd = Some(rule);
        self
    }

    /// Re-runs the analysis with each of these correlations for the studies
    /// that do not report r.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Mc).r_sensitivity(&[0.2, 0.5, 0.8]);
    /// assert_eq!(options.r_sensitivity.len(), 3);
    /// ```
    pub fn r_sensitivity(mut self, correlations: &[f64]) -> Self {
        self.r_sensitivity = correlations.to_vec();
        self
    }

    /// Sets the method.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure, Method};
    /// let options = AnalysisOptions::new(Measure::Or).method(Method::Common);
    /// assert_eq!(options.method, Method::Common);
    /// ```
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The GLMM's model of two-group tables (OR and IRR), for [`Method::Glmm`].
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure, Method, model::GlmmModel};
    /// let options = AnalysisOptions::new(Measure::Or)
    ///     .method(Method::Glmm)
    ///     .glmm_model(GlmmModel::ConditionalApproximate);
    /// assert!(options.check().is_ok());
    /// assert!(AnalysisOptions::new(Measure::Or)
    ///     .glmm_model(GlmmModel::ConditionalApproximate)
    ///     .check()
    ///     .is_err());
    /// ```
    pub fn glmm_model(mut self, model: GlmmModel) -> Self {
        self.glmm_model = Some(model);
        self
    }

    /// Sets the test.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure, Test};
    /// assert_eq!(AnalysisOptions::new(Measure::Or).test(Test::Knha).test, Test::Knha);
    /// ```
    pub fn test(mut self, test: Test) -> Self {
        self.test = test;
        self
    }

    /// Sets the confidence level in percent.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert_eq!(AnalysisOptions::new(Measure::Or).level(90.0).level, 90.0);
    /// ```
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// The pre/post correlation as front ends take it in text: a number for
    /// [`r`](Self::r), or `impute` for [`impute_r`](Self::impute_r).
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Mc);
    /// assert_eq!(options.clone().r_text(" 0.5 ")?.effects.r, Some(0.5));
    /// assert!(options.clone().r_text("IMPUTE")?.effects.impute_r);
    /// assert!(options.r_text("half").is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn r_text(self, text: &str) -> Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("impute") {
            return Ok(self.impute_r(true));
        }
        let r = text.parse::<f64>().map_err(|_| {
            ErrorKind::InvalidSetting(format!(
                "{} takes a correlation in [-1, 1] or `impute`, found `{text}`",
                Setting::Correlation
            ))
        })?;
        Ok(self.r(r))
    }

    /// Sets the pre/post correlation for studies without an `r` value.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert_eq!(AnalysisOptions::new(Measure::Mc).r(0.5).effects.r, Some(0.5));
    /// ```
    pub fn r(mut self, r: f64) -> Self {
        self.effects.r = Some(r);
        self
    }

    /// Makes a missing required value an error instead of an exclusion.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(AnalysisOptions::new(Measure::Or).strict(true).effects.strict);
    /// ```
    pub fn strict(mut self, strict: bool) -> Self {
        self.effects.strict = strict;
        self
    }

    /// Analyses subgroups defined by this column.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert_eq!(AnalysisOptions::new(Measure::Or).group_by("region").group_by.as_deref(), Some("region"));
    /// ```
    pub fn group_by(mut self, column: impl Into<String>) -> Self {
        self.group_by = Some(column.into());
        self
    }

    /// Checks the settings that do not depend on the data (level, rescaling,
    /// correlations), so that a bad one is an error before any study is read.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure};
    /// assert!(AnalysisOptions::new(Measure::Mc).level(f64::NAN).check().is_err());
    /// assert!(AnalysisOptions::new(Measure::Mc).rescale(0.0).check().is_err());
    /// assert!(AnalysisOptions::new(Measure::Mc).r_sensitivity(&[1.5]).check().is_err());
    /// ```
    pub fn check(&self) -> Result<()> {
        self.model().check()?;
        self.check_dependence()?;
        self.harmonisation.check()?;
        let outside = |r: &&f64| !(-1.0..=1.0).contains(*r);
        let assumed = self
            .effects
            .r
            .iter()
            .find(outside)
            .map(|r| (Setting::Correlation, r));
        let rerun = self.r_sensitivity.iter().find(outside);
        if let Some((option, r)) = assumed.or(rerun.map(|r| (Setting::CorrelationSensitivity, r))) {
            return Err(ErrorKind::InvalidSetting(format!(
                "{option} takes correlations in [-1, 1], found {r}"
            ))
            .into());
        }
        self.check_correlation_used()
    }

    /// A pre/post correlation given for a measure that has none would be
    /// ignored in silence (or, rerun, print a table of identical rows).
    fn check_correlation_used(&self) -> Result<()> {
        let uses = |c: &&str| matches!(*c, "r" | "r1" | "r2");
        if self.measure.required_columns().iter().any(uses) {
            return Ok(());
        }
        let given = [
            (
                !self.r_sensitivity.is_empty(),
                Setting::CorrelationSensitivity,
            ),
            (self.effects.r.is_some(), Setting::Correlation),
            (self.effects.impute_r, Setting::ImputeCorrelation),
        ];
        match given.into_iter().find(|(set, _)| *set) {
            Some((_, option)) => Err(ErrorKind::InvalidSetting(format!(
                "{option} sets the pre/post correlation of before/after measures (MC, SMCC, \
                 SMCR, MCD, SMCRD); {} has none",
                self.measure
            ))
            .into()),
            None => Ok(()),
        }
    }

    /// True for the rate measures, whose `time` column is person-time, not follow-up.
    fn uses_person_time(&self) -> bool {
        matches!(
            self.measure.design(),
            crate::effect::Design::IncidenceRate | crate::effect::Design::TwoGroupRates
        )
    }

    fn check_dependence(&self) -> Result<()> {
        if self.time.is_some() && self.uses_person_time() {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} selects follow-ups of clinical data; for {} the `time` column is \
                 person-time",
                Setting::Time,
                self.measure
            ))
            .into());
        }
        let without_cluster = |option: Setting| {
            Err(ErrorKind::InvalidSetting(format!(
                "{option} needs {cluster} COLUMN: robust inference is about clusters of \
                 dependent effects (usually {cluster} study)",
                cluster = Setting::Cluster
            ))
            .into())
        };
        if self.cluster.is_none() && self.robust {
            return without_cluster(Setting::Robust);
        }
        if self.cluster.is_none() && self.rve_rho.is_some() {
            return without_cluster(Setting::Rve);
        }
        if let Some(rho) = self.rve_rho {
            Rve::new(rho)?;
        }
        let kind = self.kind();
        let asked = [
            (self.permutations.is_some(), Capability::PermutationTest),
            (!self.predictions.is_empty(), Capability::Predictions),
            (!self.r_sensitivity.is_empty(), Capability::RSensitivity),
            (
                self.group_by
                    .as_deref()
                    .is_some_and(|g| g != OUTCOME_COLUMN),
                Capability::Subgroups,
            ),
            (self.companion, Capability::BothModels),
            (!self.moderators.is_empty(), Capability::Moderators),
            (self.bayes.is_some(), Capability::Bayesian),
        ];
        for (_, what) in asked.into_iter().filter(|(on, _)| *on) {
            kind.check(what)?;
        }
        self.check_glmm()
    }

    /// The kind of model these options fit.
    ///
    /// ```
    /// use cochran::{AnalysisOptions, Measure, Method, model::ModelKind};
    /// let options = AnalysisOptions::new(Measure::Plo).method(Method::Glmm);
    /// assert_eq!(options.kind(), ModelKind::Glmm);
    /// ```
    pub fn kind(&self) -> ModelKind {
        if self.cluster.is_some() {
            ModelKind::ThreeLevel
        } else if self.method == Method::Glmm {
            ModelKind::Glmm
        } else {
            ModelKind::Univariate
        }
    }

    /// The GLMM pools counts of the measures with a model of them, alone.
    fn check_glmm(&self) -> Result<()> {
        if self.method != Method::Glmm {
            return match self.glmm_model {
                Some(model) => Err(ErrorKind::InvalidSetting(format!(
                    "{} {model} is a model of the GLMM ({} GLMM), not of {}",
                    Setting::GlmmModel,
                    Setting::Method,
                    self.method
                ))
                .into()),
                None => Ok(()),
            };
        }
        if self.cluster.is_some() {
            return Err(ErrorKind::InvalidSetting(
                "the GLMM pools independent studies; clustered effects need the three-level model"
                    .into(),
            )
            .into());
        }
        let two_groups = matches!(self.measure, Measure::Or | Measure::Irr);
        if !two_groups && !matches!(self.measure, Measure::Plo | Measure::Irln) {
            return Err(ErrorKind::InvalidSetting(format!(
                "the GLMM pools counts: the measure must be PLO (events of n), IRLN (events over \
                 person-time), OR or IRR, not {}",
                self.measure
            ))
            .into());
        }
        if let Some(model) = self.glmm_model.filter(|_| !two_groups) {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} {model} is a model of two-group tables (OR, IRR); the GLMM of {} has one \
                 model",
                Setting::GlmmModel,
                self.measure
            ))
            .into());
        }
        Ok(())
    }

    /// Also fits the other model for every pooled result (overall and each
    /// subgroup): the common-effect model beside random effects, or
    /// random effects (REML) beside a common effect, so that a forest plot
    /// can show both diamonds. Not for clustered effects.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Rr).companion(true);
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let pooled = analysis.model.univariate().unwrap();
    /// assert!(pooled.companion.as_ref().unwrap().fit.tau2 == 0.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn companion(mut self, on: bool) -> Self {
        self.companion = on;
        self
    }

    /// Chooses the prediction interval's distribution: metafor's (default) or
    /// t with k − p degrees of freedom.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// use cochran::model::PredictionInterval;
    /// let t = AnalysisOptions::new(Measure::Rr).prediction_interval(PredictionInterval::T);
    /// let wide = Analysis::from_csv("datasets/bcg.csv", &t)?;
    /// let usual = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
    /// assert!(wide.fit().unwrap().pi_lower < usual.fit().unwrap().pi_lower);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn prediction_interval(mut self, kind: crate::model::PredictionInterval) -> Self {
        self.prediction_interval = kind;
        self
    }

    /// Also fits the Bayesian random-effects model (the analysis's level sets
    /// its credible intervals).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, BayesOptions, Measure};
    /// let options = AnalysisOptions::new(Measure::Rr).bayes(BayesOptions::new());
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let bayes = analysis.bayesian.as_ref().unwrap();
    /// assert_eq!(bayes.posterior.model.tau_prior.to_string(), "half-normal(0.5)");
    /// assert!(bayes.posterior.mu.central[1] < 0.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn bayes(mut self, options: BayesOptions) -> Self {
        self.bayes = Some(options);
        self
    }

    /// A pooled result of `fit`, with its companion when asked for.
    fn pooled<'a>(&self, fit: Fit, studies: impl Iterator<Item = &'a StudyData>) -> Result<Pooled> {
        let mut pooled = Pooled::new(fit, self.measure, studies)?;
        if self.companion {
            pooled.companion = Companion::of(&pooled.fit);
        }
        Ok(pooled)
    }

    fn model(&self) -> MetaAnalysis {
        let model = MetaAnalysis::new(self.method)
            .test(self.test)
            .level(self.level)
            .prediction_interval(self.prediction_interval);
        match self.fixed_tau2 {
            Some(tau2) => model.fixed_tau2(tau2),
            None => model,
        }
    }
}

/// The pooled result of one subgroup.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubgroupResult {
    /// The subgroup's value in the grouping column.
    pub name: String,
    /// Its pooled result (τ² estimated within the subgroup).
    #[serde(flatten)]
    pub pooled: Pooled,
}

/// The analysis of one instrument, or why there is none.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct OutcomeAnalysis {
    /// The instrument.
    pub outcome: String,
    /// Its analysis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Box<Analysis>>,
    /// Why it could not be analysed (written as its message in JSON).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "message")]
    pub error: Option<std::sync::Arc<crate::Error>>,
}

fn message<S: serde::Serializer>(
    error: &Option<std::sync::Arc<crate::Error>>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match error {
        Some(e) => serializer.serialize_str(&e.to_string()),
        None => serializer.serialize_none(),
    }
}

/// The `time` every analysed study shares, when the column was read.
fn common_follow_up(table: &Table, effects: &EffectSet) -> Option<f64> {
    let times = table.column(TIME_COLUMN)?;
    let mut rows = effects.studies.iter().map(|s| times.get(s.table_row()));
    let first = rows.next()??;
    rows.all(|t| t == Some(first)).then_some(first)
}

/// The registry's name of an instrument, or the name as written when it is
/// not registered.
fn canonical(registry: &ScaleRegistry, name: &str) -> String {
    registry
        .find(name)
        .map_or_else(|_| name.trim().to_string(), |s| s.name.clone())
}

/// The rows whose instrument is `name` (through the registry, so aliases match).
fn select_outcome(table: &Table, name: &str, registry: &ScaleRegistry) -> Result<Table> {
    // One instrument, or several separated by commas (pooled across instruments).
    let wanted: Vec<String> = name.split(',').map(|n| canonical(registry, n)).collect();
    let outcomes = table.text_column(OUTCOME_COLUMN).ok_or_else(|| {
        ErrorKind::InvalidSetting(format!(
            "selecting the outcome `{name}` needs an `{OUTCOME_COLUMN}` column"
        ))
    })?;
    let instruments: Vec<Option<String>> = outcomes
        .iter()
        .map(|o| o.as_deref().map(|o| canonical(registry, o)))
        .collect();
    // Unregistered names match as written, in any case.
    let chosen = |i: &str| wanted.iter().any(|w| w.eq_ignore_ascii_case(i));
    // A name neither registered nor in the file is a misspelling: say which are known.
    for (given, wanted) in name.split(',').zip(&wanted) {
        let in_file = instruments
            .iter()
            .flatten()
            .any(|i| i.eq_ignore_ascii_case(wanted));
        if !in_file {
            registry.find(given)?;
        }
    }
    Ok(table.subset(|row| instruments[row].as_deref().is_some_and(chosen)))
}

/// The analysis again for each correlation, for the studies without a reported r.
fn r_sensitivity(table: &Table, options: &AnalysisOptions) -> Result<Option<Vec<RSensitivity>>> {
    if options.r_sensitivity.is_empty() {
        return Ok(None);
    }
    let rows = options
        .r_sensitivity
        .iter()
        .map(|&r| {
            let mut rerun = AnalysisOptions {
                r_sensitivity: Vec::new(),
                ..options.clone()
            };
            rerun.effects.r = Some(r);
            rerun.effects.impute_r = false;
            let analysis = Analysis::from_table(table, &rerun)?;
            Ok(RSensitivity::of(
                r,
                analysis.fit_for(Capability::RSensitivity)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(rows))
}

/// A complete analysis, serialisable as the JSON that `cochran analyze --format json` prints.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Analysis {
    /// The effect-size measure.
    pub measure: Measure,
    /// The pooled model: of independent effects, or the three-level model
    /// when effects are clustered. Its keys are the JSON's top-level keys.
    #[serde(flatten)]
    pub model: PooledModel,
    /// Everything the reader must know: exclusions, assumptions, limits.
    pub warnings: Vec<String>,
    /// Adjustments made to studies (continuity corrections, assumed r).
    pub notes: Vec<String>,
    /// The included studies, in input order.
    pub studies: StudyResults,
    /// The excluded studies.
    pub excluded: Vec<crate::effect::Exclusion>,
    /// The column the subgroups come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_column: Option<String>,
    /// One result per subgroup, in order of first appearance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroups: Option<Vec<SubgroupResult>>,
    /// The test for subgroup differences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup_test: Option<SubgroupDifference>,
    /// Whether the subgroups estimated their own τ² or shared one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup_tau2: Option<SubgroupTau2>,
    /// The instrument selected with [`AnalysisOptions::outcome`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The follow-up (the `time` column, in months) every analysed study
    /// shares, when the file has the column and they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<f64>,
    /// Instruments, conversions, percent of range and MIC comparisons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clinical: Option<ClinicalSummary>,
    /// The analysis re-run for each assumed pre/post correlation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r_sensitivity: Option<Vec<RSensitivity>>,
    /// Predictions of the meta-regression at the requested moderator values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predictions: Option<Vec<PredictionResult>>,
    /// The Bayesian random-effects model, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bayesian: Option<BayesianSummary>,
    /// The study-level data, kept for plots (shared with [`studies`](Self::studies)).
    #[serde(skip)]
    pub effects: Arc<EffectSet>,
}

/// A prediction of the meta-regression at named moderator values.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PredictionResult {
    /// The moderator values, as given.
    pub values: std::collections::BTreeMap<String, String>,
    /// The prediction, its standard error, CI and PI.
    #[serde(flatten)]
    pub prediction: Prediction,
    /// exp of the prediction and its limits, for OR, RR and ROM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub back_transformed: Option<BackTransformed>,
}

/// Runs the permutation test of a fitted meta-regression and records it.
fn permutation_test(
    fit: &mut Fit,
    options: &AnalysisOptions,
    count: usize,
    seed: u64,
) -> Result<()> {
    let design = fit.design().cloned().ok_or_else(|| {
        ErrorKind::InvalidSetting(format!(
            "{} needs a meta-regression ({})",
            Setting::Permutations,
            Setting::Moderators
        ))
    })?;
    let test = options
        .model()
        .moderators(design)
        .permutation_test(fit.effects(), count, seed)?;
    fit.regression = fit.regression.take().map(|r| r.with_permutation_test(test));
    Ok(())
}

/// The requested predictions of a meta-regression.
fn predictions(fit: &Fit, options: &AnalysisOptions) -> Result<Option<Vec<PredictionResult>>> {
    if options.predictions.is_empty() {
        return Ok(None);
    }
    let (Some(regression), Some(design)) = (&fit.regression, fit.design()) else {
        return Err(ErrorKind::InvalidSetting(format!(
            "{} needs a meta-regression ({})",
            Setting::Predict,
            Setting::Moderators
        ))
        .into());
    };
    options
        .predictions
        .iter()
        .map(|point| {
            let named: Vec<(&str, &str)> = point
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let prediction = regression.predict(&design.row_for(&named)?, fit.tau2);
            let back_transformed = options
                .measure
                .back_transform()
                .filter(|t| !t.needs_size())
                .map(|transform| {
                    let f = |x: f64| transform.apply(x, f64::NAN);
                    BackTransformed {
                        transform,
                        harmonic_mean: None,
                        estimate: f(prediction.estimate),
                        ci_lower: f(prediction.ci_lower),
                        ci_upper: f(prediction.ci_upper),
                        pi_lower: Some(f(prediction.pi_lower)),
                        pi_upper: Some(f(prediction.pi_upper)),
                    }
                });
            Ok(PredictionResult {
                values: point.iter().cloned().collect(),
                prediction,
                back_transformed,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

impl Analysis {
    /// Reads a file (delimited text or a spreadsheet, see [`crate::data`])
    /// and runs the analysis.
    pub fn from_csv(path: impl AsRef<Path>, options: &AnalysisOptions) -> Result<Analysis> {
        options.check()?;
        let path = path.as_ref();
        // The table goes before the model is fitted: a million rows are not
        // held twice, as cells and as effects.
        let prepared = Prepared::from_table(&Table::read(path, &options.table_spec())?, options);
        prepared
            .and_then(|p| p.finish(options))
            .map_err(|e| e.in_file(path))
    }

    /// Runs the analysis on a table that was read with
    /// [`AnalysisOptions::table_spec`] (every column the options use), or
    /// with [`EffectSet::table_spec`] for the same measure when the options
    /// need no other column: a table keeps the columns it did not parse as
    /// text, so a grouping chosen after reading still groups the studies.
    ///
    /// ```
    /// use cochran::data::Table;
    /// use cochran::{Analysis, AnalysisOptions, EffectSet, Measure};
    /// let options = AnalysisOptions::new(Measure::Rr).group_by("alloc");
    /// let table = Table::read("datasets/bcg.csv", &options.table_spec())?;
    /// assert_eq!(Analysis::from_table(&table, &options)?.subgroups.map(|g| g.len()), Some(3));
    /// let ungrouped = Table::read("datasets/bcg.csv", &EffectSet::table_spec(Measure::Rr))?;
    /// assert_eq!(Analysis::from_table(&ungrouped, &options)?.subgroups.map(|g| g.len()), Some(3));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn from_table(table: &Table, options: &AnalysisOptions) -> Result<Analysis> {
        Prepared::from_table(table, options)?.finish(options)
    }

    /// One analysis per instrument of the `outcome` column, in order of first
    /// appearance; an outcome that cannot be analysed (no studies left, say)
    /// gets its error instead of stopping the others.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure, effect::SdImputation};
    /// let options = AnalysisOptions::new(Measure::Mc).r(0.5).impute_sd(SdImputation::Max);
    /// let results = Analysis::per_outcome_csv("datasets/hip_oa_msc.csv", &options)?;
    /// assert!(results.iter().any(|o| o.outcome == "HHS" && o.analysis.is_some()));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn per_outcome_csv(
        path: impl AsRef<Path>,
        options: &AnalysisOptions,
    ) -> Result<Vec<OutcomeAnalysis>> {
        options.check()?;
        let path = path.as_ref();
        let spec = AnalysisOptions {
            group_by: None,
            ..options.clone()
        }
        .table_spec();
        let table = Table::read(path, &spec)?;
        Analysis::per_outcome(&table, options).map_err(|e| e.in_file(path))
    }

    /// [`Analysis::per_outcome_csv`] on a table already read.
    pub fn per_outcome(table: &Table, options: &AnalysisOptions) -> Result<Vec<OutcomeAnalysis>> {
        options.check()?;
        if !options.prefer.is_empty() {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} keeps one instrument per study when pooling across instruments; \
                 with {} each analysis has one instrument already",
                Setting::Prefer,
                Setting::ByOutcome
            ))
            .into());
        }
        let outcomes = table.text_column(OUTCOME_COLUMN).ok_or_else(|| {
            ErrorKind::InvalidSetting(format!(
                "analysing by outcome needs an `{OUTCOME_COLUMN}` column naming each study's instrument \
                 (with a before/after measure: MC, SMCC, SMCR)"
            ))
        })?;
        let mut names: Vec<String> = Vec::new();
        for name in outcomes.iter().flatten() {
            let name = canonical(options.registry(), name);
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(names
            .into_iter()
            .map(|outcome| {
                let options = AnalysisOptions {
                    outcome: Some(outcome.clone()),
                    group_by: None,
                    ..options.clone()
                };
                match Analysis::from_table(table, &options) {
                    Ok(analysis) => OutcomeAnalysis {
                        outcome,
                        analysis: Some(Box::new(analysis)),
                        error: None,
                    },
                    Err(e) => OutcomeAnalysis {
                        outcome,
                        analysis: None,
                        error: Some(std::sync::Arc::new(e)),
                    },
                }
            })
            .collect())
    }

    /// Runs the analysis on effect sizes already computed.
    pub fn from_effects(effects: EffectSet, options: &AnalysisOptions) -> Result<Analysis> {
        if options.cluster.is_some() {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} needs the table the effects came from: use Analysis::from_table",
                Setting::Cluster
            ))
            .into());
        }
        Analysis::with_design(effects, options, None, None)
    }

    /// Runs the analysis, a meta-regression when there is a model matrix.
    fn with_design(
        effects: EffectSet,
        options: &AnalysisOptions,
        design: Option<Design>,
        clusters: Option<crate::model::Clusters>,
    ) -> Result<Analysis> {
        let mut warnings = exclusion_warnings(&effects);
        warnings.extend(effects.warnings.iter().cloned());
        warnings.extend(clinical::plausibility_warnings(&effects));
        if effects.studies.is_empty() {
            return Err(ErrorKind::NoStudies(no_studies_reason(&effects)).into());
        }
        // With clusters the dependence is modelled, not warned about.
        let dependent = match clusters {
            Some(_) => Vec::new(),
            None => dependence_warnings(&effects),
        };
        if options.effects.strict && !dependent.is_empty() {
            return Err(ErrorKind::InvalidValue(format!(
                "effects of the same study are not independent ({}): {}",
                Setting::Strict,
                dependent.join("; ")
            ))
            .into());
        }
        if options.method == Method::Glmm {
            return Analysis::glmm(effects, options, warnings, dependent);
        }
        let mut fit = fit_studies(&effects, None, options, design.clone())?;
        let multilevel = clusters
            .map(|labels| dependence::fit(&effects, labels, design, options, &fit))
            .transpose()?;
        if let Some((count, seed)) = options.permutations {
            permutation_test(&mut fit, options, count, seed)?;
        }
        let predictions = predictions(&fit, options)?;
        warnings.extend(dependent);
        match &multilevel {
            Some(m) => {
                warnings.extend(m.fit.warnings.iter().cloned());
                warnings.extend(dependence::robust_warnings(m));
            }
            None => {
                warnings.extend(fit.warnings());
                warnings.extend(few_studies_warning(fit.k, fit.method, fit.test));
            }
        }
        if options.method.pools_tables() {
            warnings.extend(double_zero_warnings(&effects, options.method));
        }
        let weights = match &multilevel {
            Some(m) => m.fit.weights(),
            None => fit.weights(),
        };
        let effects = Arc::new(effects);
        let mut studies = StudyResults::new(effects.clone(), weights, options.level);
        if let Some(m) = &multilevel {
            let labels = (0..m.clusters.count())
                .map(|c| m.clusters.label(c).into())
                .collect();
            let of = (0..effects.studies.len())
                .map(|i| m.clusters.of(i))
                .collect();
            studies = studies.with_clusters(labels, of);
        }
        let mut notes = effects.notes.clone();
        notes.extend(multilevel.as_ref().map(dependence::cluster_note));
        let model = match multilevel {
            Some(m) => PooledModel::ThreeLevel(Box::new(m)),
            None => {
                let data = effects.studies.iter().map(|s| &s.data);
                PooledModel::Univariate(Box::new(options.pooled(fit, data)?))
            }
        };
        let (subgroups, subgroup_test) = subgroups(&effects, options, &mut warnings)?;
        let bayesian = options
            .bayes
            .as_ref()
            .map(|b| {
                model.kind().check(Capability::Bayesian)?;
                if model
                    .univariate()
                    .is_some_and(|p| p.fit.regression.is_some())
                {
                    return Err(ErrorKind::InvalidSetting(
                        "the Bayesian model pools one effect; with moderators it is not available"
                            .into(),
                    )
                    .into());
                }
                bayes::fit(&effects, b, options.level)
            })
            .transpose()?;
        Ok(Analysis {
            measure: options.measure,
            model,
            warnings,
            notes,
            studies,
            excluded: effects.excluded.clone(),
            group_column: None,
            subgroup_tau2: subgroups.as_ref().map(|_| options.subgroup_tau2),
            subgroups,
            subgroup_test,
            outcome: None,
            follow_up: None,
            clinical: None,
            r_sensitivity: None,
            predictions,
            bayesian,
            effects,
        })
    }

    /// The GLMM of the studies' counts: no weights (the squares of a forest
    /// plot are sized by the effect sizes' precision), exact intervals for
    /// single proportions, and none of the inverse-variance route's notes.
    fn glmm(
        effects: EffectSet,
        options: &AnalysisOptions,
        mut warnings: Vec<String>,
        dependent: Vec<String>,
    ) -> Result<Analysis> {
        let pooled = glmm::fit(&effects, options)?;
        warnings.extend(dependent);
        warnings.extend(glmm::exclusion_warning(&pooled, &effects));
        if !pooled.fit.converged {
            warnings.push(
                "the GLMM's optimiser did not converge: the estimates may be inaccurate".into(),
            );
        }
        warnings.extend(few_studies_warning(
            pooled.fit.k,
            options.method,
            options.test,
        ));
        let mut notes: Vec<String> = effects
            .notes
            .iter()
            .filter(|n| !crate::effect::is_inverse_variance_note(n))
            .cloned()
            .collect();
        notes.push(glmm::method_note(&pooled));
        let effects = Arc::new(effects);
        let weights = vec![f64::NAN; effects.studies.len()];
        let mut studies = StudyResults::new(effects.clone(), weights, options.level);
        if options.measure == Measure::Plo {
            studies = studies.with_exact_proportions(options.level)?;
        }
        Ok(Analysis {
            measure: options.measure,
            model: PooledModel::Glmm(Box::new(pooled)),
            warnings,
            notes,
            studies,
            excluded: effects.excluded.clone(),
            group_column: None,
            subgroup_tau2: None,
            subgroups: None,
            subgroup_test: None,
            outcome: None,
            follow_up: None,
            clinical: None,
            r_sensitivity: None,
            predictions: None,
            bayesian: None,
            effects,
        })
    }

    /// The fitted model of independent effects; `None` when the pooled
    /// model is another (see [`model`](Self::model)).
    pub fn fit(&self) -> Option<&Fit> {
        self.model.univariate().map(|p| &p.fit)
    }

    /// The fit of independent effects for `what`, which needs one;
    /// [`ErrorKind::Unsupported`] for every other model.
    pub(crate) fn fit_for(&self, what: Capability) -> Result<&Fit> {
        self.model.univariate_for(what).map(|p| &p.fit)
    }

    /// The pooled estimate and its confidence limits (the three-level
    /// model's when effects are clustered).
    pub fn pooled(&self) -> [f64; 3] {
        self.model.pooled()
    }
}

/// Fits the model to the chosen studies (all when `members` is `None`); a
/// study the model cannot pool is named by its row (and, for precomputed
/// effects, its column).
fn fit_studies(
    effects: &EffectSet,
    members: Option<&[usize]>,
    options: &AnalysisOptions,
    design: Option<Design>,
) -> Result<Fit> {
    if options.method.pools_tables() {
        return fit_tables(effects, members, options, design.is_some());
    }
    let subset: Vec<_> = match members {
        Some(members) => members.iter().map(|&i| effects.studies[i].effect).collect(),
        None => effects.effects(),
    };
    let model = match design {
        Some(design) => options.model().moderators(design),
        None => options.model(),
    };
    // The effects are the fit's to keep: not copied again.
    model.fit_with(subset, Default::default()).map_err(|error| {
        let ErrorKind::Unpoolable { index, column, .. } = *error.kind() else {
            return error;
        };
        let study = &effects.studies[members.map_or(index, |m| m[index])];
        let located = match study.row() {
            Some(row) => error.at_row(row),
            None => error,
        };
        if options.measure == Measure::Gen && column == "yi" {
            located.in_column("yi")
        } else {
            located
        }
    })
}

/// Studies that contribute more than one effect to one analysis (the same
/// label on several rows: several outcomes, time points or arms): pooled as
/// independent, their patients would count more than once.
fn dependence_warnings(effects: &EffectSet) -> Vec<String> {
    if crate::hash::surely_distinct(effects.studies.len(), |i| &effects.studies[i].study) {
        return Vec::new();
    }
    // One pass to find repeated labels, a second for their rows.
    let mut seen: LabelSet<&str> =
        LabelSet::with_capacity_and_hasher(effects.studies.len(), Default::default());
    let repeated: LabelSet<&str> = effects
        .studies
        .iter()
        .filter(|s| !seen.insert(&*s.study))
        .map(|s| &*s.study)
        .collect();
    if repeated.is_empty() {
        return Vec::new();
    }
    // Labels in order of first appearance, with the indices of their studies.
    let mut first_seen: Vec<&str> = Vec::new();
    let mut members: LabelMap<&str, Vec<usize>> = Default::default();
    for (i, s) in effects.studies.iter().enumerate() {
        if !repeated.contains(&*s.study) {
            continue;
        }
        let entry = members.entry(&s.study).or_default();
        if entry.is_empty() {
            first_seen.push(&s.study);
        }
        entry.push(i);
    }
    let row = |i: usize| {
        effects.studies[i]
            .row()
            .map_or_else(|| "?".to_string(), |r| r.to_string())
    };
    // Named as exclusions are: the first few, then a count.
    let more = first_seen.len().saturating_sub(EXCLUSIONS_NAMED);
    let rows = |seen: &[usize]| {
        let mut listed: Vec<String> = seen
            .iter()
            .take(EXCLUSIONS_NAMED)
            .map(|&i| row(i))
            .collect();
        if seen.len() > EXCLUSIONS_NAMED {
            listed.push(format!("and {} more", seen.len() - EXCLUSIONS_NAMED));
        }
        listed
    };
    let mut warnings: Vec<String> = first_seen
        .into_iter()
        .take(EXCLUSIONS_NAMED)
        .map(|label| (label, &members[label]))
        .map(|(label, seen)| {
            let count = seen.len();
            let seen = rows(seen);
            format!(
                "study `{label}` contributes {} effects (rows {}): effects of the same study \
                 share its patients or its design and are not independent; pooled as if they \
                 were, the study counts more than once. Model the dependence with \
                 {cluster} study, or pool one effect per study ({outcome}, {by}, \
                 {time}, {prefer})",
                count,
                seen.join(", "),
                cluster = Setting::Cluster,
                outcome = Setting::Outcome,
                by = Setting::ByOutcome,
                time = Setting::Time,
                prefer = Setting::Prefer
            )
        })
        .collect();
    if more > 0 {
        warnings.push(format!(
            "and {more} more studies contribute several effects each"
        ));
    }
    warnings
}

/// Fewer studies than the usual methods need, said in words a reader of the
/// result can act on (Bender et al., Res Synth Methods 2018; Röver et al. 2021).
pub(crate) const FEW_STUDIES: usize = 5;

fn few_studies_warning(k: usize, method: Method, test: crate::model::Test) -> Option<String> {
    let advice = match (method, test) {
        (Method::Random(_), crate::model::Test::Z) => format!(
            "; {} adhoc (Knapp-Hartung, never narrower than z) is advised with few studies",
            Setting::Test
        ),
        _ => String::new(),
    };
    match (k, method) {
        (0, _) | (FEW_STUDIES.., _) => None,
        (1, _) => Some(
            "k = 1: a single study; the pooled result is that study's own estimate, and \
             heterogeneity cannot be assessed"
                .into(),
        ),
        (_, Method::Random(_) | Method::Glmm) if k == 2 => Some(format!(
            "k = 2: with two studies the between-study variance tau^2 rests on one degree of \
             freedom, so its interval, I^2 and the prediction interval say almost nothing, and \
             the pooled interval treats tau^2 as known; read the result as a summary of these \
             two studies, not of the treatment's effect in general{advice}"
        )),
        (_, Method::Random(_) | Method::Glmm) => Some(format!(
            "k = {k}: with fewer than {FEW_STUDIES} studies tau^2 is estimated imprecisely, so \
             the pooled and prediction intervals can be too narrow{advice}"
        )),
        _ => Some(format!(
            "k = {k}: with fewer than {FEW_STUDIES} studies the common-effect model's assumption \
             of one true effect cannot be checked"
        )),
    }
}

/// The forest plot's footnote for few studies.
pub(crate) fn few_studies_footnote(k: usize) -> Option<String> {
    match k {
        1 => Some("Only 1 study: nothing is pooled; see the report's warnings.".to_string()),
        2..FEW_STUDIES => Some(format!(
            "Only {k} studies: heterogeneity and the intervals are imprecise; see the report's warnings."
        )),
        _ => None,
    }
}

/// Tables without any event (or without any non-event) in both groups: they
/// carry no information on the odds or risks; metafor keeps them in k and
/// leaves them out of Q.
fn double_zero_warnings(effects: &EffectSet, method: Method) -> Vec<String> {
    effects
        .studies
        .iter()
        .filter(|s| match &s.data {
            StudyData::TwoByTwo(t) => {
                (t.events1 == 0.0 && t.events2 == 0.0) || (t.events1 == t.n1 && t.events2 == t.n2)
            }
            _ => false,
        })
        .map(|s| {
            format!(
                "study `{}`: no events (or only events) in both groups; it adds nothing to the \
                 {method} estimate and is left out of Q, as metafor does",
                s.study
            )
        })
        .collect()
}

/// The Mantel–Haenszel or Peto pooling of the (members') 2×2 tables.
fn fit_tables(
    effects: &EffectSet,
    members: Option<&[usize]>,
    options: &AnalysisOptions,
    moderators: bool,
) -> Result<Fit> {
    let method = options.method;
    if moderators {
        return Err(ErrorKind::InvalidSetting(format!(
            "{method} pools a single effect; meta-regression ({}) needs an inverse-variance method",
            Setting::Moderators
        ))
        .into());
    }
    let all: Vec<usize>;
    let members = match members {
        Some(members) => members,
        None => {
            all = (0..effects.studies.len()).collect();
            &all
        }
    };
    let tables = members
        .iter()
        .map(|&i| match &effects.studies[i].data {
            StudyData::TwoByTwo(t) => Ok(**t),
            _ => Err(ErrorKind::InvalidSetting(format!(
                "{} {method} pools 2x2 tables: the measure must be OR, RR or RD \
                 (columns events1, n1, events2, n2), not {}",
                Setting::Method,
                options.measure
            ))
            .into()),
        })
        .collect::<Result<Vec<_>>>()?;
    options.model().fit_tables(options.measure, &tables)
}

/// Excluded studies named one by one in warnings and errors; the rest are
/// counted (the JSON `excluded` list has every one).
pub const EXCLUSIONS_NAMED: usize = 10;

fn exclusion_warnings(effects: &EffectSet) -> Vec<String> {
    let mut warnings: Vec<String> = effects
        .excluded
        .iter()
        .take(EXCLUSIONS_NAMED)
        .map(|x| {
            format!(
                "study `{}` (row {}) excluded: {}",
                x.study,
                x.row,
                x.reason()
            )
        })
        .collect();
    let more = effects.excluded.len().saturating_sub(EXCLUSIONS_NAMED);
    if more > 0 {
        warnings.push(format!(
            "and {more} more studies excluded{}; {} json lists all",
            for_missing_values(effects),
            Setting::Format
        ));
    }
    warnings
}

/// " for missing values" when that is every exclusion's reason.
fn for_missing_values(effects: &EffectSet) -> &'static str {
    match effects.excluded.iter().all(|x| !x.missing.is_empty()) {
        true => " for missing values",
        false => "",
    }
}

fn no_studies_reason(effects: &EffectSet) -> String {
    if effects.excluded.is_empty() {
        return String::new();
    }
    let which: Vec<String> = effects
        .excluded
        .iter()
        .take(EXCLUSIONS_NAMED)
        .map(|x| match x.missing.is_empty() {
            false => format!("`{}` (row {}: no {})", x.study, x.row, x.missing.join(", ")),
            true => format!("`{}` (row {}: {})", x.study, x.row, x.reason()),
        })
        .collect();
    let all = match effects.excluded.len() {
        1 => "the only study was".to_string(),
        n => format!("all {n} studies were"),
    };
    let more = match effects.excluded.len().saturating_sub(EXCLUSIONS_NAMED) {
        0 => String::new(),
        n => format!("; and {n} more"),
    };
    format!(
        ": {all} excluded{}: {}{more}",
        for_missing_values(effects),
        which.join("; ")
    )
}

/// The subgroups and the test for their differences.
fn subgroups(
    effects: &EffectSet,
    options: &AnalysisOptions,
    warnings: &mut Vec<String>,
) -> Result<(Option<Vec<SubgroupResult>>, Option<SubgroupDifference>)> {
    let groups = effects.subgroups();
    if groups.is_empty() {
        return Ok((None, None));
    }
    let shared = match options.subgroup_tau2 {
        SubgroupTau2::Common if groups.len() >= 2 => Some(common_tau2(effects, options)?),
        _ => None,
    };
    let mut results = Vec::with_capacity(groups.len());
    for (name, members) in groups {
        let mut subgroup_options = options.clone();
        subgroup_options.fixed_tau2 = shared.as_ref().map(|(tau2, _)| *tau2);
        let fit = fit_studies(effects, Some(&members), &subgroup_options, None)?;
        warnings.extend(
            fit.warnings()
                .into_iter()
                .map(|w| format!("subgroup `{name}`: {w}")),
        );
        results.push(SubgroupResult {
            name,
            pooled: options.pooled(fit, members.iter().map(|&i| &effects.studies[i].data))?,
        });
    }
    let test = match shared {
        Some((_, test)) => Some(test),
        None => {
            let fits: Vec<Fit> = results.iter().map(|g| g.pooled.fit.clone()).collect();
            subgroup_difference(&fits).unwrap_or_else(|e| {
                warnings.push(format!("no test for subgroup differences: {e}"));
                None
            })
        }
    };
    Ok((Some(results), test))
}

/// The τ² all subgroups share and the test of their differences: the mixed-effects
/// model with the grouping as a categorical moderator, and its QM.
fn common_tau2(
    effects: &EffectSet,
    options: &AnalysisOptions,
) -> Result<(f64, SubgroupDifference)> {
    let labels: Vec<&str> = effects
        .studies
        .iter()
        .map(|s| s.subgroup().unwrap_or(""))
        .collect();
    let design = Design::builder(labels.len())
        .categorical("subgroup", &labels)?
        .build()?;
    let fit = fit_studies(effects, None, options, Some(design))?;
    let regression = fit.regression.as_ref().expect("a model with moderators");
    let test = SubgroupDifference {
        q: regression.qm,
        df: regression.qm_df,
        p_value: regression.qm_p_value,
        df_residual: regression.qm_df_residual,
    };
    Ok((fit.tau2, test))
}
