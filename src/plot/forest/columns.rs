//! The left-hand data columns: what each design reports per study.

use crate::effect::{Design, StudyData};
use crate::report::number::trimmed;

/// One block of data columns under a shared heading ("Treatment", "Control").
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnGroup {
    pub heading: String,
    pub columns: Vec<DataColumn>,
}

/// One data column: its heading and whether pooled rows show its total.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DataColumn {
    pub heading: &'static str,
    pub summed: bool,
}

const fn col(heading: &'static str, summed: bool) -> DataColumn {
    DataColumn { heading, summed }
}

/// The column blocks for a design; `arms` names the two groups.
pub(crate) fn groups_for(design: Design, arms: &(String, String)) -> Vec<ColumnGroup> {
    let one = |columns: Vec<DataColumn>| {
        vec![ColumnGroup {
            heading: String::new(),
            columns,
        }]
    };
    let two = |columns: Vec<DataColumn>| {
        vec![
            ColumnGroup {
                heading: arms.0.clone(),
                columns: columns.clone(),
            },
            ColumnGroup {
                heading: arms.1.clone(),
                columns,
            },
        ]
    };
    match design {
        Design::TwoGroupContinuous => two(vec![
            col("Mean", false),
            col("SD", false),
            col("Total", true),
        ]),
        Design::TwoGroupBinary => two(vec![col("Events", true), col("Total", true)]),
        Design::BeforeAfter => one(vec![
            col("N", true),
            col("Pre mean", false),
            col("Post mean", false),
        ]),
        Design::ControlledBeforeAfter => two(vec![
            col("N", true),
            col("Pre mean", false),
            col("Post mean", false),
        ]),
        Design::Proportion => one(vec![col("Events", true), col("Total", true)]),
        Design::SingleMean => one(vec![
            col("Mean", false),
            col("SD", false),
            col("Total", true),
        ]),
        Design::Correlation => one(vec![col("r", false), col("N", true)]),
        Design::IncidenceRate => one(vec![col("Events", true), col("Time", true)]),
        Design::TwoGroupRates => two(vec![col("Events", true), col("Time", true)]),
        _ => one(vec![col("Estimate", false), col("SE", false)]),
    }
}

/// A study's numbers, one per data column, in the order of [`groups_for`].
pub(crate) fn values(data: &StudyData) -> Vec<f64> {
    match data {
        StudyData::TwoArms(a) => vec![
            a.treatment.mean,
            a.treatment.sd,
            a.treatment.n,
            a.control.mean,
            a.control.sd,
            a.control.n,
        ],
        StudyData::TwoByTwo(t) => vec![t.events1, t.n1, t.events2, t.n2],
        StudyData::PrePost(p) => vec![p.n, p.mean_pre, p.mean_post],
        // Only the change is reported: the pre and post cells stay empty.
        StudyData::ReportedChange(c) => vec![c.n, f64::NAN, f64::NAN],
        StudyData::ControlledPrePost(c) => {
            let arm = |p: &crate::effect::PrePost| [p.n, p.mean_pre, p.mean_post];
            [arm(&c.treatment), arm(&c.control)].concat()
        }
        StudyData::Precomputed(e) => vec![e.yi, e.se()],
        StudyData::Proportion(p) => vec![p.events, p.n],
        StudyData::SingleMean(m) => vec![m.mean, m.sd, m.n],
        StudyData::Correlation(c) => vec![c.cor, c.n],
        StudyData::Rate(r) => vec![r.events, r.time],
        StudyData::TwoRates(t) => vec![
            t.treatment.events,
            t.treatment.time,
            t.control.events,
            t.control.time,
        ],
    }
}

/// Data as the study reported it: integers bare, others with up to three
/// decimals, nothing for a value the study did not report.
pub(crate) fn format_value(x: f64) -> String {
    if x.is_finite() {
        trimmed(x, 3)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::TwoByTwo;

    #[test]
    fn every_design_has_as_many_values_as_columns() {
        let arms = ("T".to_string(), "C".to_string());
        let data = StudyData::TwoByTwo(Box::new(TwoByTwo::new(4.0, 123.0, 11.0, 139.0).unwrap()));
        let width: usize = groups_for(data.design(), &arms)
            .iter()
            .map(|g| g.columns.len())
            .sum();
        assert_eq!(values(&data).len(), width);
        assert_eq!(format_value(123.0), "123");
        assert_eq!(format_value(5.25), "5.25");
    }
}
