//! Effect sizes and their sampling variances, following metafor's `escalc`.
//!
//! | design | measures | columns |
//! |---|---|---|
//! | two groups, continuous | MD, SMD, ROM | `n1, mean1, sd1, n2, mean2, sd2` (group 1 = treatment) |
//! | one group, before/after | MC, SMCC, SMCR | `n, mean_pre, sd_pre, mean_post, sd_post, r` (SMCR needs no `sd_post`) |
//! | two groups, before/after | SMCRD, MCD | the before/after columns with suffix `1` (treatment) and `2` (control), e.g. `mean_pre1, r2` |
//! | two groups, binary | OR, RR, RD | `events1, n1, events2, n2` |
//! | precomputed | GEN | `yi` and `vi` or `sei` |
//!
//! A study is built from validated parts ([`TwoArms`], [`PrePost`], [`TwoByTwo`],
//! or a ready [`Effect`]) and a [`Measure`] turns it into an [`Effect`]:
//!
//! ```
//! use cochran::effect::{Measure, StudyData, TwoByTwo};
//! let table = TwoByTwo::new(4.0, 123.0, 11.0, 139.0)?;
//! let effect = Measure::Rr.compute(&StudyData::TwoByTwo(Box::new(table)))?;
//! assert!(effect.yi < 0.0); // fewer events with treatment
//! # Ok::<(), cochran::Error>(())
//! ```

pub(crate) mod binary;
mod change;
mod continuous;
pub mod harmonise;
mod measure;
pub(crate) mod one_group;
pub(crate) mod rates;
mod recover;
pub mod scales;
pub mod summary;
mod table;
mod transform;

use serde::Serialize;

pub use binary::{CONTINUITY_CORRECTION, TwoByTwo};
pub use change::{ControlledPrePost, PrePost, ReportedChange};
pub use continuous::{Arm, TwoArms};
pub use measure::{Design, Measure};
pub use one_group::{Correlation, Proportion, SingleMean};
pub use rates::{Rate, TwoRates};
pub use recover::{Imputation, SdImputation};
pub(crate) use table::is_inverse_variance_note;
pub use table::{EffectOptions, EffectSet, Exclusion, StudyEffect, guess_column};
pub use transform::BackTransform;

use crate::error::{Error, Result};
use crate::stats::standard_normal;
use statrs::distribution::ContinuousCDF;

/// An effect size `yi` with its sampling variance `vi`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Effect {
    /// The effect size (log scale for OR, RR and ROM).
    pub yi: f64,
    /// Its sampling variance, > 0.
    pub vi: f64,
}

impl Effect {
    /// Validates an effect: `yi` finite, `vi` finite and positive.
    ///
    /// ```
    /// use cochran::Effect;
    /// assert!(Effect::new(0.3, 0.04).is_ok());
    /// assert!(Effect::new(0.3, -0.04).is_err());
    /// ```
    pub fn new(yi: f64, vi: f64) -> Result<Self> {
        if !yi.is_finite() {
            return Err(Error::invalid(
                "yi",
                format!("the effect size is not a finite number ({yi})"),
            ));
        }
        if !vi.is_finite() || vi <= 0.0 {
            return Err(Error::invalid(
                "vi",
                format!("a sampling variance must be positive, found {vi}"),
            ));
        }
        if vi < f64::MIN_POSITIVE {
            return Err(Error::invalid(
                "vi",
                format!(
                    "the sampling variance {vi:e} is below the smallest normal double \
                     ({:e}) and cannot be pooled; change the unit of measurement",
                    f64::MIN_POSITIVE
                ),
            ));
        }
        Ok(Effect { yi, vi })
    }

    /// An effect from its standard error.
    ///
    /// ```
    /// use cochran::Effect;
    /// assert_eq!(Effect::from_se(0.3, 0.2)?.vi, 0.2 * 0.2);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn from_se(yi: f64, sei: f64) -> Result<Self> {
        if !sei.is_finite() || sei <= 0.0 {
            return Err(Error::invalid(
                "sei",
                format!("a standard error must be positive, found {sei}"),
            ));
        }
        Effect::new(yi, sei * sei).map_err(|e| match e.location().column.as_deref() {
            Some("vi") => Error::invalid(
                "sei",
                format!(
                    "the standard error {sei:e} squared leaves double precision; \
                     change the unit of measurement"
                ),
            ),
            _ => e,
        })
    }

    /// The standard error √vi.
    pub fn se(&self) -> f64 {
        self.vi.sqrt()
    }

    /// The normal-theory confidence interval at `level` percent.
    ///
    /// ```
    /// use cochran::Effect;
    /// let (lo, hi) = Effect::new(0.0, 1.0)?.ci(95.0);
    /// assert!((hi - 1.959964).abs() < 1e-6 && lo == -hi);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn ci(&self, level: f64) -> (f64, f64) {
        self.interval(Effect::z(level))
    }

    /// The normal quantile of a two-sided interval at `level` percent.
    pub(crate) fn z(level: f64) -> f64 {
        standard_normal().inverse_cdf(1.0 - (1.0 - level / 100.0) / 2.0)
    }

    /// yi ± z·se: the interval for a quantile computed once for many studies.
    pub(crate) fn interval(&self, z: f64) -> (f64, f64) {
        (self.yi - z * self.se(), self.yi + z * self.se())
    }
}

/// One study's data, in the form its design reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "design", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StudyData {
    /// Two groups with a continuous outcome (the larger designs are boxed:
    /// a study costs what the common precomputed one needs).
    TwoArms(Box<TwoArms>),
    /// One group before and after.
    PrePost(Box<PrePost>),
    /// Two groups, each before and after (boxed: twice the size of the others).
    ControlledPrePost(Box<ControlledPrePost>),
    /// One group whose change is reported directly.
    ReportedChange(Box<ReportedChange>),
    /// Two groups with a binary outcome (boxed, as every design larger
    /// than an effect: a million precomputed effects do not pay for it).
    TwoByTwo(Box<TwoByTwo>),
    /// An effect computed elsewhere.
    Precomputed(Effect),
    /// Events among the participants of one group.
    Proportion(Proportion),
    /// The mean of one group.
    SingleMean(Box<SingleMean>),
    /// A correlation coefficient.
    Correlation(Correlation),
    /// Events over the person-time of one group.
    Rate(Rate),
    /// Events over person-time in two groups.
    TwoRates(Box<TwoRates>),
}

impl StudyData {
    /// How many participants the study had, when its data say.
    ///
    /// ```
    /// use cochran::effect::{Effect, StudyData};
    /// assert_eq!(StudyData::Precomputed(Effect::new(0.1, 0.01)?).participants(), None);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn participants(&self) -> Option<f64> {
        match self {
            StudyData::TwoArms(s) => Some(s.treatment.n + s.control.n),
            StudyData::PrePost(s) => Some(s.n),
            StudyData::ControlledPrePost(s) => Some(s.treatment.n + s.control.n),
            StudyData::ReportedChange(s) => Some(s.n),
            StudyData::TwoByTwo(s) => Some(s.n1 + s.n2),
            StudyData::Proportion(s) => Some(s.n),
            StudyData::SingleMean(s) => Some(s.n),
            StudyData::Correlation(s) => Some(s.n),
            StudyData::Precomputed(_) | StudyData::Rate(_) | StudyData::TwoRates(_) => None,
        }
    }

    /// The design this data belongs to.
    pub fn design(&self) -> Design {
        match self {
            StudyData::TwoArms(_) => Design::TwoGroupContinuous,
            StudyData::PrePost(_) => Design::BeforeAfter,
            StudyData::ControlledPrePost(_) => Design::ControlledBeforeAfter,
            StudyData::ReportedChange(_) => Design::BeforeAfter,
            StudyData::TwoByTwo(_) => Design::TwoGroupBinary,
            StudyData::Precomputed(_) => Design::Precomputed,
            StudyData::Proportion(_) => Design::Proportion,
            StudyData::SingleMean(_) => Design::SingleMean,
            StudyData::Correlation(_) => Design::Correlation,
            StudyData::Rate(_) => Design::IncidenceRate,
            StudyData::TwoRates(_) => Design::TwoGroupRates,
        }
    }
}
