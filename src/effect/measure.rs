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

/// What the library knows of a measure: one row per measure, in the order of
/// [`Measure::ALL`]; names, titles, help and errors are made from it.
struct MeasureRow {
    /// The row's measure: the table's test checks the order by it.
    #[cfg_attr(not(test), allow(dead_code))]
    measure: Measure,
    name: &'static str,
    description: &'static str,
    design: Design,
    /// The analysis scale, when it is not the natural one.
    scale: Option<&'static str>,
    /// What the back-transformed estimate is, when it is not the description.
    natural: Option<&'static str>,
    back_transform: Option<BackTransform>,
    /// A ratio, analysed on the log scale.
    ratio: bool,
}

const TABLE: [MeasureRow; 27] = [
    MeasureRow {
        measure: Measure::Md,
        name: "MD",
        description: "mean difference",
        design: Design::TwoGroupContinuous,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Smd,
        name: "SMD",
        description: "Hedges' g standardised mean difference",
        design: Design::TwoGroupContinuous,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Rom,
        name: "ROM",
        description: "log ratio of means",
        design: Design::TwoGroupContinuous,
        scale: Some("log"),
        natural: Some("ratio of means"),
        back_transform: Some(BackTransform::Exp),
        ratio: true,
    },
    MeasureRow {
        measure: Measure::Mc,
        name: "MC",
        description: "mean change (post - pre)",
        design: Design::BeforeAfter,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Smcc,
        name: "SMCC",
        description: "standardised mean change (change-score SD)",
        design: Design::BeforeAfter,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Smcr,
        name: "SMCR",
        description: "standardised mean change (pre-treatment SD)",
        design: Design::BeforeAfter,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Smcrd,
        name: "SMCRD",
        description: "difference of standardised mean changes, treatment - control",
        design: Design::ControlledBeforeAfter,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Mcd,
        name: "MCD",
        description: "difference of mean changes, treatment - control",
        design: Design::ControlledBeforeAfter,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Or,
        name: "OR",
        description: "log odds ratio",
        design: Design::TwoGroupBinary,
        scale: Some("log"),
        natural: Some("OR"),
        back_transform: Some(BackTransform::Exp),
        ratio: true,
    },
    MeasureRow {
        measure: Measure::Rr,
        name: "RR",
        description: "log risk ratio",
        design: Design::TwoGroupBinary,
        scale: Some("log"),
        natural: Some("RR"),
        back_transform: Some(BackTransform::Exp),
        ratio: true,
    },
    MeasureRow {
        measure: Measure::Rd,
        name: "RD",
        description: "risk difference",
        design: Design::TwoGroupBinary,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Gen,
        name: "GEN",
        description: "precomputed effect size",
        design: Design::Precomputed,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Pr,
        name: "PR",
        description: "proportion",
        design: Design::Proportion,
        scale: None,
        natural: Some("proportion"),
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Pln,
        name: "PLN",
        description: "log proportion",
        design: Design::Proportion,
        scale: Some("log"),
        natural: Some("proportion"),
        back_transform: Some(BackTransform::Exp),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Plo,
        name: "PLO",
        description: "logit proportion",
        design: Design::Proportion,
        scale: Some("logit"),
        natural: Some("proportion"),
        back_transform: Some(BackTransform::InverseLogit),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Pas,
        name: "PAS",
        description: "arcsine square-root transformed proportion",
        design: Design::Proportion,
        scale: Some("arcsine"),
        natural: Some("proportion"),
        back_transform: Some(BackTransform::InverseArcsine),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Pft,
        name: "PFT",
        description: "Freeman-Tukey double-arcsine transformed proportion",
        design: Design::Proportion,
        scale: Some("Freeman-Tukey"),
        natural: Some("proportion"),
        back_transform: Some(BackTransform::InverseFreemanTukey),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Mn,
        name: "MN",
        description: "mean",
        design: Design::SingleMean,
        scale: None,
        natural: Some("mean"),
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Mnln,
        name: "MNLN",
        description: "log mean",
        design: Design::SingleMean,
        scale: Some("log"),
        natural: Some("mean"),
        back_transform: Some(BackTransform::Exp),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Cor,
        name: "COR",
        description: "correlation coefficient",
        design: Design::Correlation,
        scale: None,
        natural: Some("correlation"),
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Zcor,
        name: "ZCOR",
        description: "Fisher's r-to-z transformed correlation",
        design: Design::Correlation,
        scale: Some("Fisher's z"),
        natural: Some("correlation"),
        back_transform: Some(BackTransform::Tanh),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Ir,
        name: "IR",
        description: "incidence rate",
        design: Design::IncidenceRate,
        scale: None,
        natural: Some("incidence rate"),
        back_transform: None,
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Irln,
        name: "IRLN",
        description: "log incidence rate",
        design: Design::IncidenceRate,
        scale: Some("log"),
        natural: Some("incidence rate"),
        back_transform: Some(BackTransform::Exp),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Irs,
        name: "IRS",
        description: "square-root transformed incidence rate",
        design: Design::IncidenceRate,
        scale: Some("square-root"),
        natural: Some("incidence rate"),
        back_transform: Some(BackTransform::Square),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Irft,
        name: "IRFT",
        description: "Freeman-Tukey transformed incidence rate",
        design: Design::IncidenceRate,
        scale: Some("Freeman-Tukey"),
        natural: Some("incidence rate"),
        back_transform: Some(BackTransform::InverseRateFreemanTukey),
        ratio: false,
    },
    MeasureRow {
        measure: Measure::Irr,
        name: "IRR",
        description: "log incidence rate ratio",
        design: Design::TwoGroupRates,
        scale: Some("log"),
        natural: Some("rate ratio"),
        back_transform: Some(BackTransform::Exp),
        ratio: true,
    },
    MeasureRow {
        measure: Measure::Ird,
        name: "IRD",
        description: "incidence rate difference",
        design: Design::TwoGroupRates,
        scale: None,
        natural: None,
        back_transform: None,
        ratio: false,
    },
];

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

    /// The measure's row of the table.
    fn row(self) -> &'static MeasureRow {
        &TABLE[self as usize]
    }

    /// The name metafor uses (`"SMD"`, `"RR"`, …).
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// A description for reports.
    pub fn description(self) -> &'static str {
        self.row().description
    }

    /// The design whose data the measure needs.
    pub fn design(self) -> Design {
        self.row().design
    }

    /// True for ratios, analysed on the log scale and reported back-transformed.
    pub fn is_ratio(self) -> bool {
        self.row().ratio
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
        self.row().scale
    }

    /// What the back-transformed estimate is (`"RR"`, `"proportion"`, …).
    ///
    /// ```
    /// use cochran::Measure;
    /// assert_eq!(Measure::Pft.natural_name(), "proportion");
    /// ```
    pub fn natural_name(self) -> &'static str {
        self.row().natural.unwrap_or(self.row().description)
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
        self.row().back_transform
    }

    /// One line per design, with its measures, for help texts:
    /// `two-group binary — OR: log odds ratio; RR: log risk ratio; RD: risk difference`.
    ///
    /// ```
    /// use cochran::Measure;
    /// let help = Measure::help();
    /// assert!(Measure::ALL.iter().all(|m| help.contains(m.name())));
    /// ```
    pub fn help() -> String {
        let mut lines: Vec<(Design, Vec<String>)> = Vec::new();
        for row in &TABLE {
            let entry = format!("{}: {}", row.name, row.description);
            match lines.iter_mut().find(|(d, _)| *d == row.design) {
                Some((_, entries)) => entries.push(entry),
                None => lines.push((row.design, vec![entry])),
            }
        }
        lines
            .into_iter()
            .map(|(design, entries)| format!("{design} — {}", entries.join("; ")))
            .collect::<Vec<_>>()
            .join("\n")
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
    /// let study = StudyData::TwoArms(Box::new(TwoArms {
    ///     treatment: Arm::new(20.0, 12.0, 3.0, "1")?,
    ///     control: Arm::new(20.0, 10.0, 3.0, "2")?,
    /// }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_row_per_measure_in_order() {
        assert_eq!(TABLE.len(), Measure::ALL.len());
        for (i, (row, measure)) in TABLE.iter().zip(Measure::ALL).enumerate() {
            assert_eq!((row.measure, measure as usize), (measure, i));
            assert_eq!(row.name.parse::<Measure>().unwrap(), measure);
            // A ratio is on the log scale and returns by exp.
            if row.ratio {
                assert_eq!(row.scale, Some("log"));
                assert_eq!(row.back_transform, Some(BackTransform::Exp));
            }
            assert_eq!(
                row.scale.is_some(),
                row.back_transform.is_some(),
                "{}",
                row.name
            );
        }
    }
}
