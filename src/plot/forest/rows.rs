//! The forest plot's rows as text and marks, before any geometry: what RevMan
//! prints, in its order.

use crate::analysis::{Analysis, GlmmPooled, Multilevel, Pooled, PooledModel};
use crate::effect::{BackTransform, Exclusion};
use crate::model::{Capability, Fit, Method, Test};
use crate::report::number::{fixed, p_revman, small_decimals, trimmed};
use crate::sensitivity::Refit;

use super::columns::{format_value, values};

/// The mark drawn in the plot column of a row (analysis scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mark {
    None,
    /// A study: square of area ∝ `weight` at `estimate`, whisker `lower..upper`.
    Square {
        estimate: f64,
        lower: f64,
        upper: f64,
        weight: f64,
    },
    /// A refitted estimate (leave-one-out, cumulative): a small square of
    /// fixed size at `estimate`, whisker `lower..upper`.
    Point {
        estimate: f64,
        lower: f64,
        upper: f64,
    },
    /// A pooled estimate: diamond spanning its confidence interval.
    Diamond {
        estimate: f64,
        lower: f64,
        upper: f64,
    },
    /// A prediction interval: a bar.
    Interval {
        lower: f64,
        upper: f64,
    },
}

impl Mark {
    /// The mark with every position passed through `f`.
    pub(crate) fn map(self, f: impl Fn(f64) -> f64) -> Mark {
        match self {
            Mark::None => Mark::None,
            Mark::Square {
                estimate,
                lower,
                upper,
                weight,
            } => Mark::Square {
                estimate: f(estimate),
                lower: f(lower),
                upper: f(upper),
                weight,
            },
            Mark::Point {
                estimate,
                lower,
                upper,
            } => Mark::Point {
                estimate: f(estimate),
                lower: f(lower),
                upper: f(upper),
            },
            Mark::Diamond {
                estimate,
                lower,
                upper,
            } => Mark::Diamond {
                estimate: f(estimate),
                lower: f(lower),
                upper: f(upper),
            },
            Mark::Interval { lower, upper } => Mark::Interval {
                lower: f(lower),
                upper: f(upper),
            },
        }
    }
}

/// What kind of row, which decides its typeface and extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Study, pooled or prediction row: label, data, mark, effect, weight.
    Table,
    /// A subgroup heading, bold, in the label column only.
    Heading,
    /// A line of statistics in a smaller face that may span the left columns.
    Note,
    /// Vertical space between subgroups.
    Blank,
}

/// One row of the plot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub kind: Kind,
    pub bold: bool,
    pub label: String,
    /// One entry per data column; empty strings where nothing is printed.
    pub data: Vec<String>,
    pub mark: Mark,
    pub effect: String,
    pub weight: String,
}

impl Row {
    fn plain(kind: Kind, label: String) -> Self {
        Row {
            kind,
            bold: kind == Kind::Heading,
            label,
            data: Vec::new(),
            mark: Mark::None,
            effect: String::new(),
            weight: String::new(),
        }
    }
}

/// Settings that change the rows and their text.
pub(crate) struct RowStyle {
    pub decimals: usize,
    /// The measure's back-transformation, with its harmonic mean size.
    pub back: Option<(BackTransform, f64)>,
    /// Which data columns show a total in pooled rows.
    pub summed: Vec<bool>,
    /// The studies' order within each group.
    pub order: StudyOrder,
    /// Also the other model's diamond: common-effect beside random-effects.
    pub both: bool,
}

/// The order of the studies in a forest plot (within each subgroup or
/// cluster). Studies that could not be estimated come last, except in file
/// order, where they keep their place.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum StudyOrder {
    /// As in the file.
    #[default]
    File,
    /// By effect size, smallest first.
    Estimate,
    /// By weight, largest first.
    Weight,
    /// In this order of [`Analysis::studies`] indices (e.g. from
    /// [`Analysis::order_by`]); studies not listed follow in file order.
    Given(Vec<usize>),
}

impl StudyOrder {
    /// `members` (indices of studies) in this order; ties keep file order.
    fn arrange(&self, analysis: &Analysis, members: &[usize]) -> Vec<usize> {
        let mut sorted = members.to_vec();
        let studies = &analysis.studies;
        match self {
            StudyOrder::File => {}
            StudyOrder::Estimate => {
                sorted.sort_by(|&a, &b| studies.get(a).yi.total_cmp(&studies.get(b).yi))
            }
            StudyOrder::Weight => {
                sorted.sort_by(|&a, &b| studies.get(b).weight.total_cmp(&studies.get(a).weight))
            }
            StudyOrder::Given(order) => {
                let mut rank = vec![usize::MAX; studies.len()];
                for (position, &i) in order.iter().enumerate() {
                    if let Some(r) = rank.get_mut(i) {
                        *r = (*r).min(position);
                    }
                }
                sorted.sort_by_key(|&i| rank[i]);
            }
        }
        sorted
    }
}

/// Footnote letters for what a row's numbers rest on (imputed or borrowed
/// values, why a study could not be estimated), printed under the plot.
#[derive(Default)]
struct Footnotes(Vec<String>);

const MARKS: [char; 26] = [
    'ᵃ', 'ᵇ', 'ᶜ', 'ᵈ', 'ᵉ', 'ᶠ', 'ᵍ', 'ʰ', 'ⁱ', 'ʲ', 'ᵏ', 'ˡ', 'ᵐ', 'ⁿ', 'ᵒ', 'ᵖ', 'ʳ', 'ˢ', 'ᵗ',
    'ᵘ', 'ᵛ', 'ʷ', 'ˣ', 'ʸ', 'ᶻ', '*',
];

impl Footnotes {
    /// The superscript mark of `text`, numbered on first use.
    fn mark(&mut self, text: String) -> String {
        let i = match self.0.iter().position(|t| *t == text) {
            Some(i) => i,
            None => {
                self.0.push(text);
                self.0.len() - 1
            }
        };
        mark_of(i)
    }

    fn marks(&mut self, texts: impl IntoIterator<Item = String>) -> String {
        texts.into_iter().map(|t| self.mark(t)).collect()
    }

    /// One note row per footnote.
    fn rows(self) -> impl Iterator<Item = Row> {
        let text = |(i, text)| Row::plain(Kind::Note, format!("{} {text}", mark_of(i)));
        self.0.into_iter().enumerate().map(text)
    }
}

/// The `i`-th mark; past z, marks repeat with a count: ᵃ, …, ᶻ, *, ᵃ2, …
fn mark_of(i: usize) -> String {
    let mark = MARKS[i % MARKS.len()];
    match i / MARKS.len() {
        0 => mark.to_string(),
        n => format!("{mark}{}", n + 1),
    }
}

impl RowStyle {
    /// `estimate [lower, upper]` on the natural scale.
    pub fn effect(&self, estimate: f64, lower: f64, upper: f64) -> String {
        format!(
            "{} [{}, {}]",
            self.natural(estimate),
            self.natural(lower),
            self.natural(upper)
        )
    }

    /// A value back on the natural scale, with the plot's decimals.
    pub fn natural(&self, x: f64) -> String {
        let x = self.back.map_or(x, |(back, size)| back.apply(x, size));
        fixed(x, self.decimals)
    }
}

/// Every row, subgroups first when there are any, then the overall result,
/// then the footnotes.
pub(crate) fn rows(analysis: &Analysis, style: &RowStyle) -> Vec<Row> {
    let mut notes = Footnotes::default();
    let mut out = pooled_and_study_rows(analysis, style, &mut notes);
    out.extend(notes.rows());
    let few = analysis
        .fit()
        .and_then(|fit| crate::analysis::few_studies_footnote(fit.k));
    out.extend(few.map(|text| Row::plain(Kind::Note, text)));
    out
}

fn pooled_and_study_rows(analysis: &Analysis, style: &RowStyle, notes: &mut Footnotes) -> Vec<Row> {
    let mut out = Vec::new();
    let overall = match &analysis.model {
        PooledModel::Univariate(pooled) => pooled,
        PooledModel::ThreeLevel(multilevel) => {
            clustered_rows(analysis, multilevel, style, notes, &mut out);
            return out;
        }
        PooledModel::Glmm(glmm) => {
            glmm_rows(analysis, glmm, style, notes, &mut out);
            return out;
        }
    };
    let all: Vec<usize> = (0..analysis.studies.len()).collect();
    if let Some(groups) = &analysis.subgroups {
        for group in groups {
            let members: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&i| analysis.studies.get(i).subgroup == Some(group.name.as_str()))
                .collect();
            out.push(Row::plain(Kind::Heading, group.name.clone()));
            let excluded = |x: &Exclusion| x.subgroup.as_deref() == Some(group.name.as_str());
            study_rows(analysis, &members, excluded, style, notes, &mut out);
            // Only the overall result gets a prediction interval: within small
            // subgroups it is too wide to inform.
            let pooled = Pooling {
                label: "Subtotal",
                prediction: false,
            };
            pooled_rows(analysis, &group.pooled, &members, &pooled, style, &mut out);
            out.push(Row::plain(Kind::Blank, String::new()));
        }
        // Studies without a subgroup could not be placed in one.
        let ungrouped = |x: &Exclusion| x.subgroup.is_none();
        if analysis.excluded.iter().any(ungrouped) {
            out.push(Row::plain(Kind::Heading, "No subgroup".to_string()));
            study_rows(analysis, &[], ungrouped, style, notes, &mut out);
            out.push(Row::plain(Kind::Blank, String::new()));
        }
    } else {
        study_rows(analysis, &all, |_| true, style, notes, &mut out);
    }
    let label = model_label(&overall.fit);
    let pooled = Pooling {
        label: &label,
        prediction: true,
    };
    pooled_rows(analysis, overall, &all, &pooled, style, &mut out);
    if let Some(test) = &analysis.subgroup_test {
        let i2 = if test.q > 0.0 {
            ((test.q - test.df) / test.q).max(0.0) * 100.0
        } else {
            0.0
        };
        let test_line = chi_squared(test.q, test.df, test.p_value, Some(i2));
        out.push(Row::plain(
            Kind::Note,
            format!("Test for subgroup differences: {test_line}"),
        ));
    }
    out
}

/// What a forest plot of refits shows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refits<'a> {
    /// The model without each study: one row per study left out, then all studies.
    LeaveOneOut(&'a [Refit]),
    /// The model as studies are added: one row per step.
    Cumulative(&'a [Refit]),
}

impl Refits<'_> {
    /// What the refits are, for the model's capabilities.
    pub fn capability(&self) -> Capability {
        match self {
            Refits::LeaveOneOut(_) => Capability::LeaveOneOut,
            Refits::Cumulative(_) => Capability::Cumulative,
        }
    }

    /// The heading of the label column.
    pub fn label_heading(&self) -> &'static str {
        match self {
            Refits::LeaveOneOut(_) => "Study omitted",
            Refits::Cumulative(_) => "Study added",
        }
    }
}

/// One row per refit, with I² in the weight column; after leave-one-out rows,
/// the pooled result of all studies.
pub(crate) fn refit_rows(analysis: &Analysis, refits: Refits, style: &RowStyle) -> Vec<Row> {
    let (Refits::LeaveOneOut(list) | Refits::Cumulative(list)) = refits;
    let mut out: Vec<Row> = list
        .iter()
        .map(|r| Row {
            kind: Kind::Table,
            bold: false,
            label: r.study.clone(),
            data: Vec::new(),
            mark: Mark::Point {
                estimate: r.estimate,
                lower: r.ci_lower,
                upper: r.ci_upper,
            },
            effect: style.effect(r.estimate, r.ci_lower, r.ci_upper),
            weight: r
                .i2
                .map_or(String::new(), |i2| format!("{}%", fixed(i2, 0))),
        })
        .collect();
    // Refits are of the model of independent effects.
    if let (Refits::LeaveOneOut(_), Some(overall)) = (refits, analysis.model.univariate()) {
        let all: Vec<usize> = (0..analysis.studies.len()).collect();
        let label = format!("All studies: {}", model_label(&overall.fit));
        let pooled = Pooling {
            label: &label,
            prediction: false,
        };
        pooled_rows(analysis, overall, &all, &pooled, style, &mut out);
        // The weight column holds I² here, not weights.
        if let Some(row) = out
            .iter_mut()
            .rev()
            .find(|r| matches!(r.mark, Mark::Diamond { .. }))
        {
            row.weight = overall
                .fit
                .i2
                .map_or(String::new(), |i2| format!("{}%", fixed(i2, 0)));
        }
    }
    out
}

/// The studies of a group in the plot's order, and the excluded studies
/// `excluded` picks as "Not estimable" rows, each marked with footnotes.
fn study_rows(
    analysis: &Analysis,
    members: &[usize],
    excluded: impl Fn(&Exclusion) -> bool,
    style: &RowStyle,
    notes: &mut Footnotes,
    out: &mut Vec<Row>,
) {
    let mut entries: Vec<(usize, Result<usize, &Exclusion>)> = style
        .order
        .arrange(analysis, members)
        .into_iter()
        .enumerate()
        .map(|(position, i)| (position, Ok(i)))
        .collect();
    let missing = analysis.excluded.iter().filter(|x| excluded(x));
    entries.extend(missing.map(|x| (usize::MAX, Err(x))));
    if style.order == StudyOrder::File {
        let row = |entry: &Result<usize, &Exclusion>| match entry {
            Ok(i) => analysis.studies.get(*i).row.unwrap_or(0),
            Err(x) => x.row,
        };
        entries.sort_by_key(|(position, entry)| (row(entry), *position));
    }
    for (_, entry) in entries {
        out.push(match entry {
            Ok(i) => study_row(analysis, i, analysis.studies.get(i).study, style, notes),
            Err(x) => not_estimable(x, &x.study, style, notes),
        });
    }
}

/// Study `i`'s row, labelled `label` and marked with its footnotes.
fn study_row(
    analysis: &Analysis,
    i: usize,
    label: &str,
    style: &RowStyle,
    notes: &mut Footnotes,
) -> Row {
    let s = &analysis.studies.get(i);
    let data = analysis
        .effects
        .studies
        .get(i)
        .map(|e| values(&e.data).into_iter().map(format_value).collect())
        .unwrap_or_default();
    // Every value the row rests on that the study did not report: imputed
    // or borrowed values, the assumed pre/post r, an assumed instrument range.
    // A model of the counts makes none of the effect sizes' adjustments.
    let glmm = analysis.model.kind() == crate::model::ModelKind::Glmm;
    let marks = notes.marks(
        s.imputed
            .iter()
            .map(|m| format!("{} {}", m.column, m.method))
            .chain(
                (s.notes.iter())
                    .filter(|n| !(glmm && crate::effect::is_inverse_variance_note(n)))
                    .cloned(),
            ),
    );
    // An observed proportion with its exact interval, on the analysis
    // (logit) scale: ±∞ at 0 and 1, drawn on the natural scale.
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let (estimate, lower, upper) = match s.exact {
        Some(e) => (logit(e.proportion), logit(e.ci_lower), logit(e.ci_upper)),
        None => (s.yi, s.ci_lower, s.ci_upper),
    };
    Row {
        kind: Kind::Table,
        bold: false,
        label: labelled(label, &marks),
        data,
        mark: Mark::Square {
            estimate,
            lower,
            upper,
            // A model without weights (the GLMM): the effect's precision.
            weight: if s.weight.is_nan() {
                1.0 / s.vi
            } else {
                s.weight
            },
        },
        effect: style.effect(estimate, lower, upper),
        weight: if s.weight.is_nan() {
            String::new()
        } else {
            format!("{}%", fixed(s.weight, 1))
        },
    }
}

/// RevMan's row for a study without an estimate: its label and the words
/// "Not estimable", with a footnote saying what it lacks.
fn not_estimable(x: &Exclusion, label: &str, style: &RowStyle, notes: &mut Footnotes) -> Row {
    let mark = notes.mark(format!(
        "not estimable: no value for {}",
        x.missing.join(", ")
    ));
    Row {
        data: vec![String::new(); style.summed.len()],
        effect: "Not estimable".to_string(),
        ..Row::plain(Kind::Table, labelled(label, &mark))
    }
}

fn labelled(label: &str, marks: &str) -> String {
    if marks.is_empty() {
        label.to_string()
    } else {
        format!("{label} {marks}")
    }
}

/// The studies the GLMM pooled, then those it left out (with a footnote
/// saying why), the GLMM's diamond and its statistics. Squares are sized by
/// the effect sizes' precision: a GLMM has no weights.
fn glmm_rows(
    analysis: &Analysis,
    glmm: &GlmmPooled,
    style: &RowStyle,
    notes: &mut Footnotes,
    out: &mut Vec<Row>,
) {
    let fit = &glmm.fit;
    let mut left_out = vec![false; analysis.studies.len()];
    fit.excluded.iter().for_each(|&i| left_out[i] = true);
    let pooled: Vec<usize> = (0..left_out.len()).filter(|&i| !left_out[i]).collect();
    study_rows(analysis, &pooled, |_| true, style, notes, out);
    for &i in &fit.excluded {
        let mark = notes.mark(
            "no events in either group (or only events): no information under the GLMM, left out"
                .to_string(),
        );
        let study = analysis.studies.get(i).study;
        out.push(study_row(
            analysis,
            i,
            &labelled(study, &mark),
            style,
            notes,
        ));
    }
    let kind = if fit.random {
        "Random-effects GLMM"
    } else {
        "Common-effect GLMM"
    };
    let label = format!("{kind} ({}% CI)", trimmed(fit.level, 1));
    let pooled = [fit.estimate, fit.ci_lower, fit.ci_upper];
    out.push(diamond_row(label, pooled, style, String::new()));
    let tau2 = format!("τ² = {}", fixed(fit.tau2, 2.max(small_decimals(fit.tau2))));
    let test = fit.likelihood_ratio.map_or(String::new(), |t| {
        format!(
            "; likelihood ratio {}",
            chi_squared(t.statistic, t.df, t.p_value, fit.i2)
        )
    });
    out.push(Row::plain(
        Kind::Note,
        format!("Heterogeneity: {tau2}{test}"),
    ));
    out.push(Row::plain(
        Kind::Note,
        format!(
            "Test for overall effect: Z = {} (P {})",
            fixed(fit.z.abs(), 2),
            p_revman(fit.p_value)
        ),
    ));
    if fit.measure == crate::effect::Measure::Plo {
        out.push(Row::plain(
            Kind::Note,
            "Study intervals: exact (Clopper-Pearson)".to_string(),
        ));
    }
}

/// A bold row with a model's diamond over `[estimate, lower, upper]` and no
/// totals in the data columns.
fn diamond_row(
    label: String,
    [estimate, lower, upper]: [f64; 3],
    style: &RowStyle,
    weight: String,
) -> Row {
    Row {
        kind: Kind::Table,
        bold: true,
        label,
        data: vec![String::new(); style.summed.len()],
        mark: Mark::Diamond {
            estimate,
            lower,
            upper,
        },
        effect: style.effect(estimate, lower, upper),
        weight,
    }
}

/// Effects grouped by cluster (a heading over each cluster of several
/// effects), then the three-level model's diamond, prediction interval and
/// statistics.
fn clustered_rows(
    analysis: &Analysis,
    m: &Multilevel,
    style: &RowStyle,
    notes: &mut Footnotes,
    out: &mut Vec<Row>,
) {
    let clusters = &m.clusters;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); clusters.count()];
    (0..clusters.len()).for_each(|i| members[clusters.of(i)].push(i));
    // Where instruments differ, every row names its own.
    let instruments: std::collections::BTreeSet<&str> = analysis
        .studies
        .iter()
        .filter_map(|s| s.instrument)
        .collect();
    for (c, effects) in members.iter().enumerate() {
        let effects = style.order.arrange(analysis, effects);
        let cluster = clusters.label(c);
        let several = effects.len() > 1;
        if several {
            // A bare number ("11") says nothing without its column ("district 11").
            let heading = if cluster.parse::<f64>().is_ok() {
                format!("{} {cluster}", m.cluster_column)
            } else {
                cluster.to_string()
            };
            out.push(Row::plain(Kind::Heading, heading));
        }
        for &i in &effects {
            let s = &analysis.studies.get(i);
            let instrument = s.instrument;
            // Under its cluster's heading an effect is indented, and named by
            // its instrument where the heading already names the study.
            let label = match (several, s.study == cluster, instrument) {
                (false, _, Some(instrument)) if instruments.len() > 1 => {
                    format!("{} ({instrument})", s.study)
                }
                (false, ..) => s.study.to_string(),
                (true, true, Some(instrument)) => format!("  {instrument}"),
                (true, false, Some(instrument)) => format!("  {} ({instrument})", s.study),
                (true, _, None) => format!("  {}", s.study),
            };
            out.push(study_row(analysis, i, &label, style, notes));
        }
    }
    // Effects that could not be estimated belong to no cluster's model; the
    // instrument tells a study's rows apart.
    for x in &analysis.excluded {
        let label = match &x.outcome {
            Some(outcome) => format!("{} ({outcome})", x.study),
            None => x.study.clone(),
        };
        out.push(not_estimable(x, &label, style, notes));
    }
    let fit = &m.fit;
    let label = format!(
        "Three-level model ({}) ({}% CI)",
        fit.method,
        trimmed(fit.level, 1)
    );
    // No totals: they would count the patients of a cluster's several
    // effects more than once.
    let pooled = [fit.estimate, fit.ci_lower, fit.ci_upper];
    out.push(diamond_row(label, pooled, style, "100.0%".to_string()));
    let robust = m
        .robust
        .as_ref()
        .and_then(|r| r.first())
        .filter(|r| r.is_estimable());
    // With robust inference asked for, its interval is drawn too, labelled:
    // the reader should not have to find it in a footnote.
    if let Some(r) = robust {
        let label = format!("Cluster-robust CR2 ({}% CI)", trimmed(fit.level, 1));
        let interval = [r.estimate, r.ci_lower, r.ci_upper];
        out.push(diamond_row(label, interval, style, String::new()));
    }
    let mut row = Row::plain(Kind::Table, "Prediction interval".to_string());
    row.mark = Mark::Interval {
        lower: fit.pi_lower,
        upper: fit.pi_upper,
    };
    row.effect = format!(
        "[{}, {}]",
        style.natural(fit.pi_lower),
        style.natural(fit.pi_upper)
    );
    out.push(row);
    let variance = |x: f64| fixed(x, 2.max(small_decimals(x)));
    let q_line = chi_squared(fit.q, fit.q_df, fit.q_p_value, Some(fit.i2));
    out.push(Row::plain(Kind::Note, format!("Heterogeneity: {q_line}")));
    out.push(Row::plain(
        Kind::Note,
        format!(
            "Variance components: σ² between clusters = {}, within clusters = {}",
            variance(fit.sigma2_cluster),
            variance(fit.sigma2_within),
        ),
    ));
    let statistic = match fit.test {
        Test::Knha | Test::Adhoc => format!(
            "t = {}, df = {}",
            fixed(fit.statistic.abs(), 2),
            trimmed(fit.q_df, 0)
        ),
        Test::Z => format!("Z = {}", fixed(fit.statistic.abs(), 2)),
    };
    out.push(Row::plain(
        Kind::Note,
        format!(
            "Test for overall effect: {statistic} (P {}); {} effects in {} clusters of `{}`",
            p_revman(fit.p_value),
            fit.k,
            fit.clusters,
            m.cluster_column
        ),
    ));
    if let Some(robust) = robust {
        out.push(Row::plain(
            Kind::Note,
            format!(
                "Cluster-robust (CR2): {}, t = {}, df = {} (P {})",
                style.effect(robust.estimate, robust.ci_lower, robust.ci_upper),
                fixed(robust.statistic.abs(), 2),
                fixed(robust.df, 1),
                p_revman(robust.p_value)
            ),
        ));
    }
}

/// How a pooled result is shown.
struct Pooling<'a> {
    label: &'a str,
    prediction: bool,
}

/// The diamond row, the prediction interval and the two lines of statistics.
fn pooled_rows(
    analysis: &Analysis,
    pooled: &Pooled,
    members: &[usize],
    how: &Pooling,
    style: &RowStyle,
    out: &mut Vec<Row>,
) {
    let fit = &pooled.fit;
    if fit.k < 2 {
        // One study pools nothing: no diamond that would look like a result.
        let what = if how.label == "Subtotal" {
            "Subtotal"
        } else {
            "Pooled result"
        };
        out.push(Row::plain(
            Kind::Note,
            format!("{what}: none (a single study is shown as it is, not pooled)"),
        ));
        return;
    }
    let weight: f64 = members
        .iter()
        .map(|&i| analysis.studies.get(i).weight)
        .sum();
    // The analysis fitted the other model when both were asked for.
    let other = pooled
        .companion
        .as_ref()
        .filter(|_| style.both)
        .map(|c| &c.fit);
    let label = |fit: &Fit| match (&other, how.label) {
        (Some(_), "Subtotal") => format!(
            "Subtotal, {} ({}% CI)",
            model_kind(fit),
            trimmed(fit.level, 1)
        ),
        (Some(_), _) => format!("{} ({}% CI)", model_label(fit), trimmed(fit.level, 1)),
        (None, label) => format!("{label} ({}% CI)", trimmed(fit.level, 1)),
    };
    let diamond = |fit: &Fit| Mark::Diamond {
        estimate: fit.estimate,
        lower: fit.ci_lower,
        upper: fit.ci_upper,
    };
    let primary = Row {
        kind: Kind::Table,
        bold: true,
        label: label(fit),
        data: totals(analysis, members, &style.summed),
        mark: diamond(fit),
        effect: style.effect(fit.estimate, fit.ci_lower, fit.ci_upper),
        weight: format!("{}%", fixed(weight, 1)),
    };
    // Its weights are not the plot's: no weight, no totals.
    let secondary = other.map(|o| Row {
        data: vec![String::new(); style.summed.len()],
        mark: diamond(o),
        effect: style.effect(o.estimate, o.ci_lower, o.ci_upper),
        bold: true,
        ..Row::plain(Kind::Table, label(o))
    });
    // The common-effect diamond above the random-effects one, as meta draws them.
    match (secondary, matches!(fit.method, Method::Random(_))) {
        (Some(common), true) => out.extend([common, primary]),
        (Some(random), false) => out.extend([primary, random]),
        (None, _) => out.push(primary),
    }
    if let (true, Some(lower), Some(upper)) = (how.prediction, fit.pi_lower, fit.pi_upper) {
        let mut row = Row::plain(Kind::Table, "Prediction interval".to_string());
        row.mark = Mark::Interval { lower, upper };
        row.effect = format!("[{}, {}]", style.natural(lower), style.natural(upper));
        out.push(row);
    }
    out.push(Row::plain(Kind::Note, heterogeneity(fit)));
    out.push(Row::plain(Kind::Note, overall_effect(fit)));
}

/// "common effect" or "random effects", for subtotal labels.
fn model_kind(fit: &Fit) -> &'static str {
    match fit.method {
        Method::Random(_) => "random effects",
        _ => "common effect",
    }
}

/// Sums of the count columns over the members, blank elsewhere.
fn totals(analysis: &Analysis, members: &[usize], summed: &[bool]) -> Vec<String> {
    let mut sums = vec![0.0; summed.len()];
    for &i in members {
        if let Some(study) = analysis.effects.studies.get(i) {
            for (sum, v) in sums.iter_mut().zip(values(&study.data)) {
                *sum += v;
            }
        }
    }
    sums.into_iter()
        .zip(summed)
        .map(|(s, &show)| if show { format_value(s) } else { String::new() })
        .collect()
}

/// "Random-effects model (REML)" or "Common-effect model".
pub(crate) fn model_label(fit: &Fit) -> String {
    match fit.method {
        Method::Random(t) => format!("Random-effects model ({t})"),
        Method::MantelHaenszel => "Mantel-Haenszel model".to_string(),
        Method::Peto => "Peto model".to_string(),
        _ => "Common-effect model".to_string(),
    }
}

/// RevMan's heterogeneity line; τ² only under random effects.
fn heterogeneity(fit: &Fit) -> String {
    let (Some(q), Some(df), Some(p)) = (fit.q, fit.q_df, fit.q_p_value) else {
        return "Heterogeneity: not applicable".to_string();
    };
    if df < 1.0 {
        return "Heterogeneity: not applicable".to_string();
    }
    let tau2 = match fit.method {
        Method::Random(_) => format!(
            "τ² = {}; ",
            fixed(fit.tau2, 2.max(small_decimals(fit.tau2)))
        ),
        _ => String::new(),
    };
    format!("Heterogeneity: {tau2}{}", chi_squared(q, df, p, fit.i2))
}

/// RevMan's `χ² = 152.23, df = 12 (P < 0.00001); I² = 92%` (I² when known).
fn chi_squared(q: f64, df: f64, p: f64, i2: Option<f64>) -> String {
    let i2 = i2
        .map(|i| format!("; I² = {}%", fixed(i, 0)))
        .unwrap_or_default();
    format!(
        "χ² = {}, df = {} (P {}){i2}",
        fixed(q, 2),
        trimmed(df, 0),
        p_revman(p)
    )
}

/// "Test for overall effect: Z = 3.97 (P < 0.0001)", or t with its df under Knapp–Hartung.
fn overall_effect(fit: &Fit) -> String {
    let (Some(stat), Some(p)) = (fit.statistic, fit.p_value) else {
        return "Test for overall effect: not applicable".to_string();
    };
    let name = match (fit.test, fit.df) {
        (Test::Knha | Test::Adhoc, Some(df)) => {
            format!("t = {}, df = {}", fixed(stat.abs(), 2), trimmed(df, 0))
        }
        _ => format!("Z = {}", fixed(stat.abs(), 2)),
    };
    format!("Test for overall effect: {name} (P {})", p_revman(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_effects_are_back_transformed() {
        let style = RowStyle {
            decimals: 2,
            back: Some((BackTransform::Exp, f64::NAN)),
            summed: vec![],
            order: StudyOrder::File,
            both: false,
        };
        assert_eq!(
            style.effect(0.49f64.ln(), 0.34f64.ln(), 0.70f64.ln()),
            "0.49 [0.34, 0.70]"
        );
    }
}
