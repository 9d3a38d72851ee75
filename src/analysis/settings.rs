//! An analysis's settings by name, as text and numbers: what a front end
//! collects (a command line's flags, a page's form, a Python call's keyword
//! arguments) checked and turned into [`AnalysisOptions`] in one place.

use serde::{Deserialize, Deserializer, Serialize};

use super::{AnalysisOptions, BayesOptions, SubgroupTau2, TimeSelection};
use crate::data::ReadOptions;
use crate::effect::scales::ScaleRegistry;
use crate::error::{ErrorKind, Result};
use crate::model::{MuPrior, PredictionInterval, TauPrior};
use crate::{Measure, Method, SdImputation, Setting, Test};

/// The settings of an analysis by name. Every field is optional: an empty
/// text, `None` or `false` keeps the default. Lists read from JSON may be
/// given as a list or as one comma-separated text.
///
/// ```
/// use cochran::analysis::Settings;
/// let settings: Settings = serde_json::from_str(
///     r#"{"measure": "MC", "r": "0.5", "impute_sd": "max", "mods": "year, time"}"#,
/// )?;
/// let options = settings.options()?;
/// assert_eq!(options.moderators, ["year", "time"]);
///
/// let typo = serde_json::from_str::<Settings>(r#"{"measure": "MC", "metod": "DL"}"#);
/// assert!(typo.unwrap_err().to_string().contains("unknown field `metod`"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Settings {
    /// The measure (`MC`, `RR`, …).
    pub measure: String,
    /// The method (`REML` when empty).
    pub method: String,
    /// The GLMM's model of two-group tables (`UM.FS`, `UM.RS`, `CM.EL`,
    /// `CM.AL`), with the method `GLMM`.
    pub glmm_model: String,
    /// The test (`z` when empty).
    pub test: String,
    /// The confidence level in percent (95 when absent).
    pub level: Option<f64>,
    /// The assumed pre/post correlation (`0.5`), or `impute`.
    pub r: String,
    /// Correlations to rerun a before/after analysis with.
    #[serde(deserialize_with = "numbers")]
    pub r_sensitivity: Vec<f64>,
    /// `mean` or `max`: borrow missing SDs from other studies.
    pub impute_sd: String,
    /// Positive changes are improvements on every instrument.
    pub improvement_positive: bool,
    /// Rescale instruments to this common range (e.g. 100).
    pub rescale: Option<f64>,
    /// One analysis per instrument of the `outcome` column.
    pub by_outcome: bool,
    /// A subgroup column.
    pub by: String,
    /// `separate` or `common` τ² across subgroups.
    pub subgroup_tau2: String,
    /// One instrument to pool.
    pub outcome: String,
    /// The follow-up to pool (`latest`, `6`, `6-12`, …).
    pub time: String,
    /// Preferred instruments, in order.
    #[serde(deserialize_with = "texts")]
    pub prefer: Vec<String>,
    /// Moderator columns of a meta-regression.
    #[serde(deserialize_with = "texts")]
    pub mods: Vec<String>,
    /// Moderator values to predict at: one `name=value,…` text per point.
    #[serde(deserialize_with = "points")]
    pub predict: Vec<String>,
    /// Fit the meta-regression without an intercept.
    pub no_intercept: bool,
    /// The number of random permutations of a permutation test.
    pub permutations: Option<usize>,
    /// The seed of random permutations (1 when absent).
    pub seed: Option<u64>,
    /// Refuse dependent effects rather than model them.
    pub strict: bool,
    /// The cluster column of a three-level model.
    pub cluster: String,
    /// Cluster-robust (CR2) tests.
    pub robust: bool,
    /// Robust variance estimation with this correlation within clusters.
    pub rve: Option<f64>,
    /// Also the companion (fixed- or random-effects) model.
    pub both: bool,
    /// The prediction interval's distribution: `metafor` or `t`.
    pub pi: String,
    /// Also the Bayesian model.
    pub bayes: bool,
    /// The prior for τ (the measure's default when empty).
    pub tau_prior: String,
    /// The prior for μ (uniform when empty).
    pub mu_prior: String,
    /// Thresholds x of P(μ > x) and P(new > x).
    #[serde(deserialize_with = "numbers")]
    pub above: Vec<f64>,
    /// A file of instruments added to the built-in ones.
    pub scales: String,
    /// The sheet of a spreadsheet.
    pub sheet: String,
    /// The delimiter of a text file.
    pub delimiter: String,
    /// The decimal mark of a text file.
    pub decimal: String,
    /// Columns read under other names: `name=header,…`.
    pub columns: String,
}

impl Settings {
    /// Settings of a measure, all else default.
    pub fn new(measure: impl Into<String>) -> Settings {
        Settings {
            measure: measure.into(),
            ..Settings::default()
        }
    }

    /// The analysis options these settings describe, each setting checked.
    pub fn options(&self) -> Result<AnalysisOptions> {
        let mut options = AnalysisOptions::new(self.measure.trim().parse::<Measure>()?)
            .method(text(&self.method).unwrap_or("REML").parse::<Method>()?)
            .test(text(&self.test).unwrap_or("z").parse::<Test>()?)
            .level(self.level.unwrap_or(95.0))
            .strict(self.strict)
            .improvement_positive(self.improvement_positive)
            .r_sensitivity(&self.r_sensitivity)
            .robust(self.robust)
            .companion(self.both);
        if let Some(model) = text(&self.glmm_model) {
            options = options.glmm_model(model.parse::<crate::model::GlmmModel>()?);
        }
        if let Some(how) = text(&self.subgroup_tau2) {
            options = options.subgroup_tau2(how.parse::<SubgroupTau2>()?);
        }
        if let Some(kind) = text(&self.pi) {
            options = options.prediction_interval(kind.parse::<PredictionInterval>()?);
        }
        if let Some(r) = text(&self.r) {
            options = options.r_text(r)?;
        }
        if let Some(rule) = text(&self.impute_sd) {
            options = options.impute_sd(sd_imputation(rule)?);
        }
        if let Some(target) = self.rescale {
            options = options.rescale(target);
        }
        options = self.regression(options)?;
        if let Some(name) = text(&self.outcome) {
            options = options.outcome(name);
        }
        if let Some(column) = text(&self.cluster) {
            options = options.cluster(column);
        }
        if let Some(rho) = self.rve {
            options = options.rve(rho);
        }
        if let Some(bayes) = self.bayes_options()? {
            options = options.bayes(bayes);
        }
        options.read = self.read_options()?;
        if let Some(path) = text(&self.scales) {
            options = options.scales(ScaleRegistry::builtin_and_file(path)?);
        }
        if let Some(time) = text(&self.time) {
            options = options.time(time.parse::<TimeSelection>()?);
        }
        if !self.prefer.is_empty() {
            let prefer: Vec<&str> = self.prefer.iter().map(String::as_str).collect();
            options = options.prefer(&prefer);
        }
        if let Some(column) = text(&self.by).filter(|b| !b.eq_ignore_ascii_case("outcome")) {
            options = options.group_by(column);
        }
        Ok(options)
    }

    /// Whether the settings ask for one analysis per instrument.
    pub fn per_outcome(&self) -> bool {
        self.by_outcome || self.by.trim().eq_ignore_ascii_case("outcome")
    }

    /// How the file is read: sheet, delimiter, decimal mark, column names.
    pub fn read_options(&self) -> Result<ReadOptions> {
        let mut read = ReadOptions::new();
        if !self.delimiter.trim().is_empty() {
            read = read.delimiter_named(self.delimiter.trim())?;
        }
        if !self.decimal.trim().is_empty() {
            read = read.decimal_mark(self.decimal.trim())?;
        }
        if !self.sheet.trim().is_empty() {
            read = read.sheet(self.sheet.trim());
        }
        if !self.columns.trim().is_empty() {
            read = read.map_columns(&self.columns)?;
        }
        Ok(read)
    }

    /// Moderators, predictions, permutations.
    fn regression(&self, mut options: AnalysisOptions) -> Result<AnalysisOptions> {
        if !self.mods.is_empty() {
            let mods: Vec<&str> = self.mods.iter().map(String::as_str).collect();
            options = options.moderators(&mods);
        }
        if self.no_intercept {
            options = options.no_intercept();
        }
        if let Some(count) = self.permutations {
            options = options.permutations(count, self.seed.unwrap_or(1));
        }
        for point in &self.predict {
            let pairs = point
                .split(',')
                .map(|pair| {
                    pair.split_once('=').ok_or_else(|| {
                        ErrorKind::InvalidSetting(format!(
                            "{} takes name=value pairs separated by commas, found `{pair}`",
                            Setting::Predict
                        ))
                        .into()
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            options = options.predict(&pairs);
        }
        Ok(options)
    }

    /// The Bayesian model's options, when any setting asks for it.
    fn bayes_options(&self) -> Result<Option<BayesOptions>> {
        let (tau, mu) = (self.tau_prior.trim(), self.mu_prior.trim());
        if !(self.bayes || !tau.is_empty() || !mu.is_empty() || !self.above.is_empty()) {
            return Ok(None);
        }
        let mut bayes = BayesOptions::new().thresholds(&self.above);
        if !tau.is_empty() {
            bayes = bayes.tau_prior(tau.parse::<TauPrior>()?);
        }
        if !mu.is_empty() {
            bayes = bayes.mu_prior(mu.parse::<MuPrior>()?);
        }
        Ok(Some(bayes))
    }
}

/// The text, trimmed, unless it is empty.
fn text(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

fn sd_imputation(rule: &str) -> Result<SdImputation> {
    match rule.to_ascii_lowercase().as_str() {
        "mean" => Ok(SdImputation::Mean),
        "max" => Ok(SdImputation::Max),
        _ => Err(ErrorKind::InvalidSetting(format!(
            "the rule for missing SDs is `mean` or `max`, not `{rule}`"
        ))
        .into()),
    }
}

/// A list, or one text of items separated by commas.
#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrText<T> {
    List(Vec<T>),
    Text(String),
}

fn texts<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(match ListOrText::<String>::deserialize(d)? {
        ListOrText::List(items) => items,
        ListOrText::Text(text) => text
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
    })
}

/// Points to predict at: a list of texts, or one text (a single point).
fn points<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(match ListOrText::<String>::deserialize(d)? {
        ListOrText::List(items) => items,
        ListOrText::Text(text) if text.trim().is_empty() => Vec::new(),
        ListOrText::Text(text) => vec![text],
    })
}

fn numbers<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<f64>, D::Error> {
    use serde::de::Error;
    match ListOrText::<f64>::deserialize(d)? {
        ListOrText::List(items) => Ok(items),
        ListOrText::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<f64>()
                    .map_err(|_| D::Error::custom(format!("`{s}` is not a number")))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_rule_for_missing_sds_is_refused() {
        let settings = Settings {
            impute_sd: "median".into(),
            ..Settings::new("MC")
        };
        let error = settings.options().unwrap_err();
        assert!(error.to_string().contains("`mean` or `max`"), "{error}");
    }

    #[test]
    fn lists_come_as_lists_or_comma_separated_text() {
        let a: Settings =
            serde_json::from_str(r#"{"above": "1, 2.5", "prefer": ["HHS", "WOMAC"]}"#).unwrap();
        assert_eq!(
            (a.above, a.prefer),
            (vec![1.0, 2.5], vec!["HHS".to_string(), "WOMAC".into()])
        );
        let b: Settings =
            serde_json::from_str(r#"{"above": [1, 2.5], "predict": "x=1,y=2"}"#).unwrap();
        assert_eq!(
            (b.above, b.predict),
            (vec![1.0, 2.5], vec!["x=1,y=2".to_string()])
        );
    }
}
