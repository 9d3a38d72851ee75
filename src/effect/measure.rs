//! The effect-size measures and the designs they belong to.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{BackTransform, Effect, StudyData, binary, change, continuous, one_group, rates};
use crate::error::{Error, ErrorKind, Result};

/// How a study reports its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Design {
    /// Two independent groups, continuous outcome.
    TwoGroupContinuous,
    /// One group measured before and after.
    BeforeAfter,
    /// Two groups (treatment and control), each measured before and after.
    ControlledBeforeAfter,
    /// Two independent groups, binary outcome.
    TwoGroupBinary,
    /// Effect sizes computed elsewhere.
    Precomputed,
    /// Events among the participants of one group.
    Proportion,
    /// The mean of one group.
    SingleMean,
    /// A correlation coefficient.
    Correlation,
    /// Events over the person-time of one group.
    IncidenceRate,
    /// Events over person-time in two groups.
    TwoGroupRates,
}

impl std::fmt::Display for Design {
    /// The design in words: "two-group continuous", "before/after", …
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Design::TwoGroupContinuous => "two-group continuous",
            Design::BeforeAfter => "one-group before/after",
            Design::ControlledBeforeAfter => "controlled before/after",
            Design::TwoGroupBinary => "two-group binary",
            Design::Precomputed => "precomputed effect",
            Design::Proportion => "proportion",
            Design::SingleMean => "single-mean",
            Design::Correlation => "correlation",
            Design::IncidenceRate => "incidence-rate",
            Design::TwoGroupRates => "two-group rate",
        })
    }
}

/// An effect-size measure, named as in metafor's `escalc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Measure {
    /// Raw mean difference, treatment − control.
    Md,
    /// Standardised mean difference (Hedges' g).
    Smd,
    /// Log ratio of means.
    Rom,
    /// Raw mean change, post − pre.
    Mc,
    /// Standardised mean change, change-score standardisation.
    Smcc,
    /// Standardised mean change, standardised by the pre-treatment SD.
    Smcr,
    /// Controlled before/after: SMCR of treatment minus SMCR of control (Morris 2008).
    Smcrd,
    /// Controlled before/after: mean change of treatment minus mean change of control.
    Mcd,
    /// Log odds ratio.
    Or,
    /// Log risk ratio.
    Rr,
    /// Risk difference.
    Rd,
    /// Precomputed effect sizes (`yi` with `vi` or `sei`).
    Gen,
    /// Raw proportion.
    Pr,
    /// Log proportion.
    Pln,
    /// Logit proportion.
    Plo,
    /// Arcsine square-root transformed proportion.
    Pas,
    /// Freeman–Tukey double-arcsine transformed proportion.
    Pft,
    /// Raw mean of one group.
    Mn,
    /// Log mean of one group.
    Mnln,
    /// Raw correlation coefficient.
    Cor,
    /// Fisher's r-to-z transformed correlation.
    Zcor,
    /// Raw incidence rate.
    Ir,
    /// Log incidence rate.
    Irln,
    /// Square-root transformed incidence rate.
    Irs,
    /// Freeman–Tukey transformed incidence rate.
    Irft,
    /// Log incidence rate ratio.
    Irr,
    /// Incidence rate difference.
    Ird,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Measure; 27] = [
        Measure::Md,
        Measure::Smd,
        Measure::Rom,
        Measure::Mc,
        Measure::Smcc,
        Measure::Smcr,
        Measure::Smcrd,
        Measure::Mcd,
        Measure::Or,
        Measure::Rr,
        Measure::Rd,
        Measure::Gen,
        Measure::Pr,
        Measure::Pln,
        Measure::Plo,
        Measure::Pas,
        Measure::Pft,
        Measure::Mn,
        Measure::Mnln,
        Measure::Cor,
        Measure::Zcor,
        Measure::Ir,
        Measure::Irln,
        Measure::Irs,
        Measure::Irft,
        Measure::Irr,
        Measure::Ird,
    ];

    /// The name metafor uses (`"SMD"`, `"RR"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Measure::Md => "MD",
            Measure::Smd => "SMD",
            Measure::Rom => "ROM",
            Measure::Mc => "MC",
            Measure::Smcc => "SMCC",
            Measure::Smcr => "SMCR",
            Measure::Smcrd => "SMCRD",
            Measure::Mcd => "MCD",
            Measure::Or => "OR",
            Measure::Rr => "RR",
            Measure::Rd => "RD",
            Measure::Gen => "GEN",
            Measure::Pr => "PR",
            Measure::Pln => "PLN",
            Measure::Plo => "PLO",
            Measure::Pas => "PAS",
            Measure::Pft => "PFT",
            Measure::Mn => "MN",
            Measure::Mnln => "MNLN",
            Measure::Cor => "COR",
            Measure::Zcor => "ZCOR",
            Measure::Ir => "IR",
            Measure::Irln => "IRLN",
            Measure::Irs => "IRS",
            Measure::Irft => "IRFT",
            Measure::Irr => "IRR",
            Measure::Ird => "IRD",
        }
    }

    /// A description for reports.
    pub fn description(self) -> &'static str {
        match self {
            Measure::Md => "mean difference",
            Measure::Smd => "Hedges' g standardised mean difference",
            Measure::Rom => "log ratio of means",
            Measure::Mc => "mean change (post - pre)",
            Measure::Smcc => "standardised mean change (change-score SD)",
            Measure::Smcr => "standardised mean change (pre-treatment SD)",
            Measure::Smcrd => "difference of standardised mean changes, treatment - control",
            Measure::Mcd => "difference of mean changes, treatment - control",
            Measure::Or => "log odds ratio",
            Measure::Rr => "log risk ratio",
            Measure::Rd => "risk difference",
            Measure::Gen => "precomputed effect size",
            Measure::Pr => "proportion",
            Measure::Pln => "log proportion",
            Measure::Plo => "logit proportion",
            Measure::Pas => "arcsine square-root transformed proportion",
            Measure::Pft => "Freeman-Tukey double-arcsine transformed proportion",
            Measure::Mn => "mean",
            Measure::Mnln => "log mean",
            Measure::Cor => "correlation coefficient",
            Measure::Zcor => "Fisher's r-to-z transformed correlation",
            Measure::Ir => "incidence rate",
            Measure::Irln => "log incidence rate",
            Measure::Irs => "square-root transformed incidence rate",
            Measure::Irft => "Freeman-Tukey transformed incidence rate",
            Measure::Irr => "log incidence rate ratio",
            Measure::Ird => "incidence rate difference",
        }
    }

    /// The design whose data the measure needs.
    pub fn design(self) -> Design {
        match self {
            Measure::Md | Measure::Smd | Measure::Rom => Design::TwoGroupContinuous,
            Measure::Mc | Measure::Smcc | Measure::Smcr => Design::BeforeAfter,
            Measure::Smcrd | Measure::Mcd => Design::ControlledBeforeAfter,
            Measure::Or | Measure::Rr | Measure::Rd => Design::TwoGroupBinary,
            Measure::Gen => Design::Precomputed,
            Measure::Pr | Measure::Pln | Measure::Plo | Measure::Pas | Measure::Pft => {
                Design::Proportion
            }
            Measure::Mn | Measure::Mnln => Design::SingleMean,
            Measure::Cor | Measure::Zcor => Design::Correlation,
            Measure::Ir | Measure::Irln | Measure::Irs | Measure::Irft => Design::IncidenceRate,
            Measure::Irr | Measure::Ird => Design::TwoGroupRates,
        }
    }

    /// True for ratios, analysed on the log scale and reported back-transformed.
    pub fn is_ratio(self) -> bool {
        matches!(
            self,
            Measure::Rom | Measure::Or | Measure::Rr | Measure::Irr
        )
    }

    /// The scale the measure is analysed on, when it is not the natural one
    /// (`"log"`, `"logit"`, …), for labels.
    ///
    /// ```
    /// use cochran::Measure;
    /// assert_eq!(Measure::Zcor.transformed_scale(), Some("Fisher's z"));
    /// assert_eq!(Measure::Md.transformed_scale(), None);
    /// ```
    pub fn transformed_scale(self) -> Option<&'static str> {
        Some(match self {
            Measure::Rom | Measure::Or | Measure::Rr | Measure::Irr => "log",
            Measure::Pln | Measure::Mnln | Measure::Irln => "log",
            Measure::Plo => "logit",
            Measure::Pas => "arcsine",
            Measure::Pft | Measure::Irft => "Freeman-Tukey",
            Measure::Zcor => "Fisher's z",
            Measure::Irs => "square-root",
            _ => return None,
        })
    }

    /// What the back-transformed estimate is (`"RR"`, `"proportion"`, …).
    ///
    /// ```
    /// use cochran::Measure;
    /// assert_eq!(Measure::Pft.natural_name(), "proportion");
    /// ```
    pub fn natural_name(self) -> &'static str {
        match self {
            Measure::Rom => "ratio of means",
            Measure::Or => "OR",
            Measure::Rr => "RR",
            Measure::Irr => "rate ratio",
            Measure::Pr | Measure::Pln | Measure::Plo | Measure::Pas | Measure::Pft => "proportion",
            Measure::Mn | Measure::Mnln => "mean",
            Measure::Cor | Measure::Zcor => "correlation",
            Measure::Ir | Measure::Irln | Measure::Irs | Measure::Irft => "incidence rate",
            other => other.description(),
        }
    }

    /// How the pooled estimate and its limits return to the natural scale
    /// (`None` for measures on it already).
    ///
    /// ```
    /// use cochran::Measure;
    /// use cochran::effect::BackTransform;
    /// assert_eq!(Measure::Plo.back_transform(), Some(BackTransform::InverseLogit));
    /// assert_eq!(Measure::Md.back_transform(), None);
    /// ```
    pub fn back_transform(self) -> Option<BackTransform> {
        match self {
            Measure::Rom | Measure::Or | Measure::Rr | Measure::Irr => Some(BackTransform::Exp),
            Measure::Pln | Measure::Mnln | Measure::Irln => Some(BackTransform::Exp),
            Measure::Plo => Some(BackTransform::InverseLogit),
            Measure::Pas => Some(BackTransform::InverseArcsine),
            Measure::Pft => Some(BackTransform::InverseFreemanTukey),
            Measure::Zcor => Some(BackTransform::Tanh),
            Measure::Irs => Some(BackTransform::Square),
            Measure::Irft => Some(BackTransform::InverseRateFreemanTukey),
            _ => None,
        }
    }

    /// The columns a study must have a value in. For GEN, `vi` may be replaced
    /// by `sei`; a correlation (`r`, `r1`, `r2`) by `--r`, and `r1`, `r2` by `r`.
    ///
    /// ```
    /// use cochran::Measure;
    /// assert_eq!(Measure::Rr.required_columns(), ["events1", "n1", "events2", "n2"]);
    /// ```
    pub fn required_columns(self) -> &'static [&'static str] {
        match self.design() {
            Design::TwoGroupContinuous => &["n1", "mean1", "sd1", "n2", "mean2", "sd2"],
            Design::BeforeAfter if self == Measure::Smcr => {
                &["n", "mean_pre", "sd_pre", "mean_post", "r"]
            }
            Design::BeforeAfter => &["n", "mean_pre", "sd_pre", "mean_post", "sd_post", "r"],
            Design::TwoGroupBinary => &["events1", "n1", "events2", "n2"],
            Design::ControlledBeforeAfter if self == Measure::Smcrd => &[
                "n1",
                "mean_pre1",
                "sd_pre1",
                "mean_post1",
                "r1",
                "n2",
                "mean_pre2",
                "sd_pre2",
                "mean_post2",
                "r2",
            ],
            Design::ControlledBeforeAfter => &[
                "n1",
                "mean_pre1",
                "sd_pre1",
                "mean_post1",
                "sd_post1",
                "r1",
                "n2",
                "mean_pre2",
                "sd_pre2",
                "mean_post2",
                "sd_post2",
                "r2",
            ],
            Design::Precomputed => &["yi", "vi"],
            Design::Proportion => &["events", "n"],
            Design::SingleMean => &["n", "mean", "sd"],
            Design::Correlation => &["cor", "n"],
            Design::IncidenceRate => &["events", "time"],
            Design::TwoGroupRates => &["events1", "time1", "events2", "time2"],
        }
    }

    /// Computes the effect size of one study.
    ///
    /// ```
    /// use cochran::effect::{Arm, Measure, StudyData, TwoArms};
    /// let study = StudyData::TwoArms(TwoArms {
    ///     treatment: Arm::new(20.0, 12.0, 3.0, "1")?,
    ///     control: Arm::new(20.0, 10.0, 3.0, "2")?,
    /// });
    /// assert_eq!(Measure::Md.compute(&study)?.yi, 2.0);
    /// assert!(Measure::Or.compute(&study).is_err()); // wrong design
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn compute(self, data: &StudyData) -> Result<Effect> {
        match (self, data) {
            (Measure::Md, StudyData::TwoArms(s)) => continuous::mean_difference(s),
            (Measure::Smd, StudyData::TwoArms(s)) => continuous::standardized_mean_difference(s),
            (Measure::Rom, StudyData::TwoArms(s)) => continuous::log_ratio_of_means(s),
            (Measure::Mc, StudyData::PrePost(s)) => change::mean_change(s),
            (Measure::Smcc, StudyData::PrePost(s)) => change::smc_change_scores(s),
            (Measure::Smcr, StudyData::PrePost(s)) => change::smc_raw_scores(s),
            (Measure::Mc, StudyData::ReportedChange(s)) => change::mean_change_reported(s),
            (Measure::Smcc, StudyData::ReportedChange(s)) => change::smc_change_scores_reported(s),
            (Measure::Smcr, StudyData::ReportedChange(s)) => change::smc_raw_scores_reported(s),
            (Measure::Smcrd, StudyData::ControlledPrePost(s)) => {
                change::arm_difference(s, change::smc_raw_scores)
            }
            (Measure::Mcd, StudyData::ControlledPrePost(s)) => {
                change::arm_difference(s, change::mean_change)
            }
            (Measure::Or, StudyData::TwoByTwo(t)) => binary::log_odds_ratio(t),
            (Measure::Rr, StudyData::TwoByTwo(t)) => binary::log_risk_ratio(t),
            (Measure::Rd, StudyData::TwoByTwo(t)) => binary::risk_difference(t),
            (Measure::Gen, StudyData::Precomputed(e)) => Ok(*e),
            (Measure::Pr, StudyData::Proportion(p)) => one_group::proportion(p),
            (Measure::Pln, StudyData::Proportion(p)) => one_group::log_proportion(p),
            (Measure::Plo, StudyData::Proportion(p)) => one_group::logit_proportion(p),
            (Measure::Pas, StudyData::Proportion(p)) => one_group::arcsine_proportion(p),
            (Measure::Pft, StudyData::Proportion(p)) => one_group::freeman_tukey_proportion(p),
            (Measure::Mn, StudyData::SingleMean(m)) => one_group::mean(m),
            (Measure::Mnln, StudyData::SingleMean(m)) => one_group::log_mean(m),
            (Measure::Cor, StudyData::Correlation(c)) => one_group::correlation(c),
            (Measure::Zcor, StudyData::Correlation(c)) => one_group::fisher_z(c),
            (Measure::Ir, StudyData::Rate(r)) => rates::rate(r),
            (Measure::Irln, StudyData::Rate(r)) => rates::log_rate(r),
            (Measure::Irs, StudyData::Rate(r)) => rates::sqrt_rate(r),
            (Measure::Irft, StudyData::Rate(r)) => rates::freeman_tukey_rate(r),
            (Measure::Irr, StudyData::TwoRates(t)) => rates::log_rate_ratio(t),
            (Measure::Ird, StudyData::TwoRates(t)) => rates::rate_difference(t),
            _ => Err(Error::new(ErrorKind::InvalidSetting(format!(
                "measure {self} needs {} data, but the study has {} data",
                self.design(),
                data.design()
            )))),
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Measure {
    type Err = Error;

    /// Parses a measure name case-insensitively.
    ///
    /// ```
    /// use cochran::Measure;
    /// assert_eq!("smd".parse::<Measure>()?, Measure::Smd);
    /// let err = "HR".parse::<Measure>().unwrap_err();
    /// assert!(err.to_string().contains("MD, SMD, ROM"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        Measure::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                ErrorKind::UnknownName {
                    what: "measure",
                    given: s.to_string(),
                    valid: Measure::ALL.iter().map(|m| m.name().to_string()).collect(),
                }
                .into()
            })
    }
}
