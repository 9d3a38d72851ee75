//! The settings that messages refer to, and the words a front end uses for them.
//!
//! An error or a note often has to say which setting to change ("`predict`
//! names `x`, which is not a moderator"). The library names a setting by the
//! builder method that sets it; a front end names it in its own words — the
//! command line by a flag (`--predict`), a Python package by a keyword
//! argument. A front end registers its words once, at start-up, with
//! [`Setting::use_names`]; every message written afterwards uses them.
//!
//! ```
//! use cochran::Setting;
//! assert_eq!(Setting::Predict.to_string(), "`predict`");
//! ```

use std::fmt;
use std::sync::OnceLock;

/// A setting of a reading, an analysis or a refit that a message can point to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// The measure ([`AnalysisOptions::new`](crate::AnalysisOptions::new)).
    Measure,
    /// The pooling method ([`AnalysisOptions::method`](crate::AnalysisOptions::method)).
    Method,
    /// The test of coefficients ([`AnalysisOptions::test`](crate::AnalysisOptions::test)).
    Test,
    /// Moderators of a meta-regression ([`AnalysisOptions::moderators`](crate::AnalysisOptions::moderators)).
    Moderators,
    /// Moderator values to predict at ([`AnalysisOptions::predict`](crate::AnalysisOptions::predict)).
    Predict,
    /// A permutation test ([`AnalysisOptions::permutations`](crate::AnalysisOptions::permutations)).
    Permutations,
    /// The cluster column of a three-level model ([`AnalysisOptions::cluster`](crate::AnalysisOptions::cluster)).
    Cluster,
    /// Cluster-robust (CR2) tests ([`AnalysisOptions::robust`](crate::AnalysisOptions::robust)).
    Robust,
    /// Robust variance estimation ([`AnalysisOptions::rve`](crate::AnalysisOptions::rve)).
    Rve,
    /// Refusing dependent effects ([`AnalysisOptions::strict`](crate::AnalysisOptions::strict)).
    Strict,
    /// The follow-up to pool ([`AnalysisOptions::time`](crate::AnalysisOptions::time)).
    Time,
    /// Preferred instruments ([`AnalysisOptions::prefer`](crate::AnalysisOptions::prefer)).
    Prefer,
    /// One instrument to pool ([`AnalysisOptions::outcome`](crate::AnalysisOptions::outcome)).
    Outcome,
    /// One analysis per instrument ([`Analysis::per_outcome`](crate::Analysis::per_outcome)).
    ByOutcome,
    /// A common range of instruments ([`AnalysisOptions::rescale`](crate::AnalysisOptions::rescale)).
    Rescale,
    /// A common direction of improvement ([`AnalysisOptions::improvement_positive`](crate::AnalysisOptions::improvement_positive)).
    ImprovementPositive,
    /// Registered instruments ([`AnalysisOptions::scales`](crate::AnalysisOptions::scales)).
    Scales,
    /// The assumed pre/post correlation ([`AnalysisOptions::r`](crate::AnalysisOptions::r)).
    Correlation,
    /// Imputing the pre/post correlation ([`AnalysisOptions::impute_r`](crate::AnalysisOptions::impute_r)).
    ImputeCorrelation,
    /// Correlations to rerun the analysis with ([`AnalysisOptions::r_sensitivity`](crate::AnalysisOptions::r_sensitivity)).
    CorrelationSensitivity,
    /// Orwin's target effect of a fail-safe N.
    FailSafeTarget,
    /// The number of random subsets of a GOSH analysis.
    Subsets,
    /// The sheet of a workbook ([`ReadOptions::sheet`](crate::data::ReadOptions::sheet)).
    Sheet,
    /// The delimiter of a text file ([`ReadOptions::delimiter`](crate::data::ReadOptions::delimiter)).
    Delimiter,
    /// The decimal mark of a text file ([`ReadOptions::decimal_mark`](crate::data::ReadOptions::decimal_mark)).
    Decimal,
    /// Columns read under other names ([`ReadOptions::map_columns`](crate::data::ReadOptions::map_columns)).
    Columns,
    /// The output format (the [`report`](crate::report) function called).
    Format,
    /// The GLMM's model of two-group tables ([`AnalysisOptions::glmm_model`](crate::AnalysisOptions::glmm_model)).
    GlmmModel,
}

/// A front end's words for settings.
pub type Names = fn(Setting) -> &'static str;

static NAMES: OnceLock<Names> = OnceLock::new();

impl Setting {
    /// The library's name: the builder method or argument that sets it.
    ///
    /// ```
    /// use cochran::Setting;
    /// assert_eq!(Setting::Columns.name(), "map_columns");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Setting::Measure => "measure",
            Setting::Method => "method",
            Setting::Test => "test",
            Setting::Moderators => "moderators",
            Setting::Predict => "predict",
            Setting::Permutations => "permutations",
            Setting::Cluster => "cluster",
            Setting::Robust => "robust",
            Setting::Rve => "rve",
            Setting::Strict => "strict",
            Setting::Time => "time",
            Setting::Prefer => "prefer",
            Setting::Outcome => "outcome",
            Setting::ByOutcome => "per_outcome",
            Setting::Rescale => "rescale",
            Setting::ImprovementPositive => "improvement_positive",
            Setting::Scales => "scales",
            Setting::Correlation => "r",
            Setting::ImputeCorrelation => "impute_r",
            Setting::CorrelationSensitivity => "r_sensitivity",
            Setting::FailSafeTarget => "target",
            Setting::Subsets => "subsets",
            Setting::Sheet => "sheet",
            Setting::Delimiter => "delimiter",
            Setting::Decimal => "decimal_mark",
            Setting::Columns => "map_columns",
            Setting::Format => "format",
            Setting::GlmmModel => "glmm_model",
        }
    }

    /// Registers a front end's words for settings, used by every message
    /// written afterwards. The first registration wins; it returns false when
    /// words were registered already.
    pub fn use_names(names: Names) -> bool {
        NAMES.set(names).is_ok()
    }
}

/// The front end's word for the setting, or the library's name in backticks.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAMES.get() {
            Some(names) => f.write_str(names(*self)),
            None => write!(f, "`{}`", self.name()),
        }
    }
}
