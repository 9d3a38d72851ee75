//! # cochran
//!
//! A meta-analysis engine: study-level data in, pooled effect sizes,
//! heterogeneity statistics and per-study results out, with the numbers R's
//! metafor reports.
//!
//! The data flows one way, and the modules follow it:
//!
//! - [`data`]: ingest of CSV, other delimited text and spreadsheets into a [`Table`](data::Table), with errors that name file, line (or sheet and cell) and column;
//! - [`effect`]: effect sizes and variances (metafor's `escalc`): MD, SMD, ROM,
//!   MC, SMCC, SMCR, OR, RR, RD and precomputed ones;
//! - [`model`]: common-effect and random-effects models with eight τ²
//!   estimators, z or Knapp–Hartung inference, Q, I², H², Q-profile τ² intervals;
//! - [`analysis`]: the whole pipeline, CSV to a serialisable [`Analysis`];
//! - [`report`]: the text summary, JSON and CSV;
//! - [`plot`]: forest and funnel plots as PNG or SVG.
//!
//! ## From a CSV file
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure, Method, Tau2, Test};
//!
//! let options = AnalysisOptions::new(Measure::Rr)
//!     .method(Method::Random(Tau2::Reml))
//!     .test(Test::Knha);
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
//! assert_eq!(analysis.model.k(), 13);
//! println!("{}", cochran::report::text(&analysis));
//! let json = serde_json::to_string(&analysis).expect("serialisable");
//! assert!(json.contains("\"tau2\""));
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! ## From effects built in code
//!
//! ```
//! use cochran::{Effect, MetaAnalysis, Tau2};
//!
//! let effects = [Effect::new(0.52, 0.04)?, Effect::new(0.31, 0.09)?, Effect::new(0.90, 0.06)?];
//! let fit = MetaAnalysis::random(Tau2::Pm).fit(&effects)?;
//! let interval = fit.tau2_interval()?.expect("random effects with k >= 2");
//! assert!(interval.tau2_ci_lower <= fit.tau2 && fit.tau2 <= interval.tau2_ci_upper);
//! # Ok::<(), cochran::Error>(())
//! ```
//!
//! ## Conventions
//!
//! Effect sizes follow metafor's `escalc` defaults (Hedges' g with the exact
//! correction and the large-sample variance; ½ added to every cell of a 2×2
//! table with a zero cell). Results are on the analysis scale: log scale for
//! OR, RR and ROM. Iterative τ² estimators converge to |Δτ²| ≤ 10⁻¹⁰.
//! Nothing is dropped silently: excluded studies and every adjustment are listed
//! in the [`Analysis`].

#![deny(missing_docs)]

pub mod analysis;
pub mod bias;
pub mod data;
pub mod effect;
mod error;
mod hash;
pub mod model;
pub mod output;
mod parallel;
#[cfg(feature = "plot")]
pub mod plot;
pub mod report;
pub mod sensitivity;
pub mod setting;
mod stats;

pub use analysis::{
    Analysis, AnalysisOptions, BayesOptions, OutcomeAnalysis, SubgroupResult, SubgroupTau2,
};
pub use effect::{Effect, EffectOptions, EffectSet, Measure, SdImputation};
pub use error::{Error, ErrorKind, Location, Result, SheetCell};
pub use model::{
    Clusters, Coefficient, Design, DesignBuilder, Fit, MetaAnalysis, Method, PermutationTest,
    Prediction, Regression, RobustCoefficient, Rve, RveFit, SubgroupDifference, Tau2, Tau2Interval,
    Test, ThreeLevel, ThreeLevelFit, subgroup_difference,
};
pub use setting::Setting;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
