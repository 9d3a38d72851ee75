//! Dependent effects in one analysis: effects nested in clusters (usually
//! studies: several instruments, follow-ups or arms of the same patients),
//! fitted with the three-level model, with CR2 or RVE inference on request.

use crate::setting::Setting;
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{AnalysisOptions, BackTransformed};
use crate::data::Table;
use crate::effect::{EffectSet, Exclusion};
use crate::error::{ErrorKind, Result};
use crate::model::{
    Clusters, Design, Fit, Method, RobustCoefficient, Rve, RveFit, Tau2, ThreeLevel, ThreeLevelFit,
};

/// The three-level model of an analysis with `--cluster`, and what it
/// replaces.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Multilevel {
    /// The column whose values define the clusters.
    pub cluster_column: String,
    /// The fitted three-level model.
    pub fit: ThreeLevelFit,
    /// CR2 cluster-robust inference for each coefficient, when asked for.
    pub robust: Option<Vec<RobustCoefficient>>,
    /// Robust variance estimation (correlated effects), when asked for.
    pub rve: Option<RveFit>,
    /// The pooled estimate and limits on the natural scale, for ratio and
    /// transformed measures.
    pub back_transformed: Option<BackTransformed>,
    /// The random-effects model that treats every effect as independent:
    /// for comparison only, it counts the clusters' patients more than once.
    pub ignoring_dependence: IgnoringDependence,
    /// Each included effect's cluster, in the studies' order.
    pub clusters: Clusters,
}

/// The usual random-effects result of the same effects, as if independent.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct IgnoringDependence {
    /// The pooled estimate.
    pub estimate: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// τ².
    pub tau2: f64,
}

impl Multilevel {
    /// The pooled estimate and its limits (the intercept with moderators).
    pub fn pooled(&self) -> [f64; 3] {
        [self.fit.estimate, self.fit.ci_lower, self.fit.ci_upper]
    }
}

impl Serialize for Multilevel {
    /// The model's keys at the top level (as a two-level fit's are), with
    /// `cluster_column`, `robust` (or each coefficient's `robust_*` keys with
    /// moderators), `rve` and `ignoring_dependence`.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.fit).map_err(serde::ser::Error::custom)?;
        let map = value
            .as_object_mut()
            .ok_or_else(|| serde::ser::Error::custom("a fit serialises as an object"))?;
        map.insert("model".into(), Value::from("three-level"));
        map.insert(
            "cluster_column".into(),
            Value::from(self.cluster_column.as_str()),
        );
        if let Some(robust) = &self.robust {
            match map.get_mut("coefficients").and_then(Value::as_array_mut) {
                Some(coefficients) => {
                    for (c, r) in coefficients.iter_mut().zip(robust) {
                        if let Some(c) = c.as_object_mut() {
                            c.insert("robust_se".into(), r.se.into());
                            c.insert("robust_statistic".into(), r.statistic.into());
                            c.insert("robust_df".into(), r.df.into());
                            c.insert("robust_p_value".into(), r.p_value.into());
                            c.insert("robust_ci_lower".into(), r.ci_lower.into());
                            c.insert("robust_ci_upper".into(), r.ci_upper.into());
                        }
                    }
                }
                None => {
                    let r = &robust[0];
                    map.insert(
                        "robust".into(),
                        serde_json::json!({
                            "se": r.se, "statistic": r.statistic, "df": r.df,
                            "p_value": r.p_value, "ci_lower": r.ci_lower, "ci_upper": r.ci_upper,
                        }),
                    );
                }
            }
        }
        if let Some(rve) = &self.rve {
            map.insert("rve".into(), json(rve));
        }
        if let Some(back) = &self.back_transformed {
            map.insert("back_transformed".into(), json(back));
        }
        map.insert(
            "ignoring_dependence".into(),
            json(&self.ignoring_dependence),
        );
        value.serialize(serializer)
    }
}

/// A part of the output as a JSON value.
fn json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Each included study's cluster from `column` (the study labels when it is
/// the label column); studies without one are excluded and reported.
pub(crate) fn cluster_labels<'a>(
    table: &'a Table,
    effects: &mut EffectSet,
    column: &str,
) -> Result<Vec<&'a str>> {
    let cells = table.text_column(&column.to_ascii_lowercase());
    let is_label_column = column.eq_ignore_ascii_case("study");
    if cells.is_none() && !is_label_column {
        return Err(ErrorKind::InvalidSetting(format!(
            "the cluster column `{column}` is not in the file; its columns are: {}",
            table.headers().join(", ")
        ))
        .into());
    }
    let label = |study: &crate::effect::StudyEffect| -> Option<&'a str> {
        match cells {
            Some(cells) => cells[study.table_row()]
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("na")),
            None => Some(&*table.labels()[study.table_row()]),
        }
    };
    let mut labels = Vec::with_capacity(effects.studies.len());
    let mut kept = Vec::with_capacity(effects.studies.len());
    for study in std::mem::take(&mut effects.studies) {
        match label(&study) {
            Some(l) => {
                labels.push(l);
                kept.push(study);
            }
            None => effects
                .excluded
                .push(Exclusion::of_study(&study, vec![column.to_string()])),
        }
    }
    effects.studies = kept;
    Ok(labels)
}

/// The three-level model (and the robust inference asked for) of the
/// included effects, with `naive` the fit that treats them as independent.
pub(crate) fn fit(
    effects: &EffectSet,
    clusters: Clusters,
    design: Option<Design>,
    options: &AnalysisOptions,
    naive: &Fit,
) -> Result<Multilevel> {
    let column = options.cluster.clone().unwrap_or_default();
    let estimator = match options.method {
        Method::Random(Tau2::Reml) => Tau2::Reml,
        Method::Random(Tau2::Ml) => Tau2::Ml,
        other => {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} fits the three-level model by REML or ML ({} REML or ML), \
                 not {other}",
                Setting::Cluster,
                Setting::Method
            ))
            .into());
        }
    };
    let effect_values = effects.effects();
    let mut model = ThreeLevel::reml()
        .estimator(estimator)
        .test(options.test)
        .level(options.level);
    let mut rve = options
        .rve_rho
        .map(|rho| Rve::new(rho).map(|r| r.level(options.level)))
        .transpose()?;
    if let Some(design) = design {
        model = model.moderators(design.clone());
        rve = rve.map(|r| r.moderators(design));
    }
    let fit = model
        .fit(&effect_values, &clusters)
        .map_err(|e| explain(e, &column))?;
    let robust = options.robust.then(|| fit.robust()).transpose()?;
    let rve = rve.map(|r| r.fit(&effect_values, &clusters)).transpose()?;
    let back_transformed = options
        .measure
        .back_transform()
        .filter(|_| fit.regression.is_none())
        .map(|t| {
            BackTransformed::new(
                [fit.estimate, fit.ci_lower, fit.ci_upper],
                Some((fit.pi_lower, fit.pi_upper)),
                t,
                effects.studies.iter().map(|s| &s.data),
            )
        });
    Ok(Multilevel {
        cluster_column: column,
        robust,
        rve,
        back_transformed,
        ignoring_dependence: IgnoringDependence {
            estimate: naive.estimate,
            ci_lower: naive.ci_lower,
            ci_upper: naive.ci_upper,
            tau2: naive.tau2,
        },
        clusters,
        fit,
    })
}

/// Warnings for coefficients without robust inference.
pub(crate) fn robust_warnings(multilevel: &Multilevel) -> Vec<String> {
    let cr2 = multilevel.robust.iter().flatten().map(|c| ("CR2", c));
    let rve = multilevel
        .rve
        .iter()
        .flat_map(|r| &r.coefficients)
        .map(|c| ("RVE", c));
    cr2.chain(rve)
        .filter(|(_, c)| !c.is_estimable())
        .map(|(method, c)| {
            format!(
                "{method}: `{}` rests on the effects of a single cluster, so it has no \
                 cluster-robust standard error (reported as missing)",
                c.name
            )
        })
        .collect()
}

/// Names the cluster column in the model's complaints about the clusters.
fn explain(error: crate::Error, column: &str) -> crate::Error {
    match error.kind() {
        ErrorKind::InvalidSetting(message) if message.contains("cluster") => {
            ErrorKind::InvalidSetting(format!("{} {column}: {message}", Setting::Cluster)).into()
        }
        _ => error,
    }
}

/// Clusters named in the note before it says how many more there are.
const LISTED_CLUSTERS: usize = 12;

/// The note that says how the effects were grouped.
pub(crate) fn cluster_note(multilevel: &Multilevel) -> String {
    let clusters = &multilevel.clusters;
    let several: Vec<String> = clusters
        .sizes()
        .into_iter()
        .enumerate()
        .filter(|(_, n)| *n > 1)
        .take(LISTED_CLUSTERS + 1)
        .map(|(c, n)| format!("{} ({n})", clusters.label(c)))
        .collect();
    let more = clusters.sizes().iter().filter(|n| **n > 1).count();
    let listed = match several.len() {
        0 => "none".to_string(),
        n if n <= LISTED_CLUSTERS => several.join(", "),
        _ => format!(
            "{}, and {} more",
            several[..LISTED_CLUSTERS].join(", "),
            more - LISTED_CLUSTERS
        ),
    };
    format!(
        "{} effects in {} clusters of `{}`, modelled as dependent (three-level model); \
         clusters with several effects: {listed}",
        multilevel.fit.k, multilevel.fit.clusters, multilevel.cluster_column,
    )
}
