//! Sensitivity analyses: the model refitted on subsets of the studies.
//!
//! [`Analysis::leave_one_out`] refits the model without each study in turn, as
//! metafor's `leave1out()`; the refits are independent and run in parallel,
//! their order (and every number) the same whatever the number of threads.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure};
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
//! let loo = analysis.leave_one_out()?;
//! assert_eq!(loo.studies.len(), 13);
//! assert_eq!(loo.studies[0].study, "Aronson 1948"); // the study left out
//! # Ok::<(), cochran::Error>(())
//! ```

mod gosh;

pub use gosh::{
    DEFAULT_RANDOM_MAX_K, DEFAULT_SUBSETS, EXHAUSTIVE_MAX_K, GRID_ESTIMATES, GRID_I2, Gosh,
    GoshFit, GoshSummary, MAX_POINTS, Scatter, Spread, Subsets,
};

use serde::Serialize;
use statrs::distribution::ContinuousCDF;

use crate::analysis::Analysis;
use crate::effect::Effect;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Capability, Deletions, Fit, Hints};

/// The pooled result of one refit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Refit {
    /// The study the refit concerns (the one left out).
    pub study: String,
    /// Pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Cochran's Q of the remaining studies.
    pub q: Option<f64>,
    /// Its p-value.
    pub q_p_value: Option<f64>,
    /// τ² (0 for the common-effect model).
    pub tau2: f64,
    /// I² in percent.
    pub i2: Option<f64>,
    /// H².
    pub h2: Option<f64>,
}

impl Refit {
    fn of(study: &str, fit: &Fit) -> Self {
        Refit {
            study: study.to_string(),
            estimate: fit.estimate,
            se: fit.se,
            statistic: fit.statistic,
            p_value: fit.p_value,
            ci_lower: fit.ci_lower,
            ci_upper: fit.ci_upper,
            q: fit.q,
            q_p_value: fit.q_p_value,
            tau2: fit.tau2,
            i2: fit.i2,
            h2: fit.h2,
        }
    }
}

/// The model refitted without each study in turn, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LeaveOneOut {
    /// One refit per study; `study` names the one left out.
    pub studies: Vec<Refit>,
}

impl Analysis {
    /// The model refitted without each study in turn (metafor's `leave1out()`),
    /// with the same method, test and level.
    pub fn leave_one_out(&self) -> Result<LeaveOneOut> {
        let fit = self.fit_for(Capability::LeaveOneOut)?;
        fit.check_pooled("leave-one-out", 2)?;
        let studies = self.without_each(fit, |left_out, refit| {
            Refit::of(self.studies.get(left_out).study, refit)
        })?;
        Ok(LeaveOneOut { studies })
    }
}

/// The model refitted as the studies are added one at a time, in a chosen order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Cumulative {
    /// One refit per step; `study` names the one added at that step. The first
    /// step, one study, has no heterogeneity values.
    pub studies: Vec<Refit>,
}

impl Analysis {
    /// The cumulative meta-analysis (metafor's `cumul()`): the model refitted
    /// on the first 1, 2, …, k studies of `order` (indices into the studies).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
    /// let steps = analysis.cumulative(&(0..13).rev().collect::<Vec<_>>())?;
    /// assert_eq!(steps.studies[0].study, "Comstock et al 1976");
    /// assert!(steps.studies[0].q.is_none()); // one study: no heterogeneity
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn cumulative(&self, order: &[usize]) -> Result<Cumulative> {
        let fit = self.fit_for(Capability::Cumulative)?;
        fit.check_pooled("a cumulative meta-analysis", 1)?;
        let k = self.studies.len();
        let mut seen = vec![false; k];
        if order.len() != k
            || !order
                .iter()
                .all(|&i| i < k && !std::mem::replace(&mut seen[i], true))
        {
            return Err(ErrorKind::InvalidSetting(format!(
                "a cumulative order must list each of the {k} studies once"
            ))
            .into());
        }
        let model = fit.same_model();
        let effects = fit.effects();
        let studies = crate::parallel::map(1..k + 1, |n| {
            let first: Vec<Effect> = order[..n].iter().map(|&i| effects[i]).collect();
            let refit = model.fit(&first)?;
            Ok(Refit::of(self.studies.get(order[n - 1]).study, &refit))
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        Ok(Cumulative { studies })
    }

    /// The studies' order by a column of `table` (the file the analysis
    /// was read from, with the column read as text): numerically when every
    /// value is a number, else by text; ties keep the input order.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// use cochran::data::{Table, TableSpec};
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
    /// let years = Table::read("datasets/bcg.csv", &TableSpec::numeric(&[]).with_text(&["year"]))?;
    /// assert_eq!(analysis.order_by(&years, "year")?[..3], [0, 1, 5]);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn order_by(&self, table: &crate::data::Table, column: &str) -> Result<Vec<usize>> {
        let name = column.trim().to_lowercase();
        let values = table.text_column(&name).ok_or_else(|| {
            Error::new(ErrorKind::InvalidSetting(format!(
                "the order column `{column}` is not in the file; its columns are {}",
                crate::error::quoted(table.headers())
            )))
        })?;
        let by_row: crate::hash::LabelMap<usize, &str> = (0..table.len())
            .filter_map(|i| Some((table.file_row(i), values[i].as_deref()?)))
            .collect();
        let keys: Vec<&str> = self
            .studies
            .iter()
            .map(|s| {
                let row = s.row.unwrap_or(0);
                by_row
                    .get(&row)
                    .copied()
                    .map(str::trim)
                    .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("na"))
                    .ok_or_else(|| {
                        ErrorKind::InvalidValue(format!(
                            "study `{}` (row {row}) has no value in the order column `{column}`",
                            s.study
                        ))
                        .into()
                    })
            })
            .collect::<Result<_>>()?;
        let numbers: Option<Vec<f64>> = keys.iter().map(|k| k.parse::<f64>().ok()).collect();
        let mut order: Vec<usize> = (0..keys.len()).collect();
        match numbers {
            Some(numbers) => order.sort_by(|&a, &b| numbers[a].total_cmp(&numbers[b])),
            None => order.sort_by(|&a, &b| keys[a].cmp(keys[b])),
        }
        Ok(order)
    }
}

/// How much one study shapes the result: metafor's `influence()` diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InfluenceRow {
    /// The study.
    pub study: String,
    /// Externally studentised residual: its distance from the pooled effect of
    /// the other studies, in standard errors.
    pub rstudent: f64,
    /// DFFITS: the change of the fitted value when the study is left out, scaled.
    pub dffits: f64,
    /// Cook's distance.
    pub cooks_distance: f64,
    /// Covariance ratio: the variance of the estimate without the study over
    /// that with it (below 1: the study makes the estimate less precise).
    pub cov_ratio: f64,
    /// τ² without the study (0 for the common-effect model).
    pub tau2_deleted: f64,
    /// Cochran's Q without the study.
    pub q_deleted: f64,
    /// Hat value (leverage), a proportion.
    pub hat: f64,
    /// Weight in percent.
    pub weight: f64,
    /// DFBETAS of the pooled estimate.
    pub dfbetas: f64,
    /// Influential by metafor's rule: |DFFITS| > 3√(1/(k − 1)), Cook's distance
    /// above the median of χ²(1), hat > 3/k, or |DFBETAS| > 1.
    pub influential: bool,
}

/// Influence diagnostics of every study, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Influence {
    /// One row per study.
    pub studies: Vec<InfluenceRow>,
}

impl Analysis {
    /// Influence diagnostics (metafor's `influence()`) from the leave-one-out
    /// refits, for a pooled effect (no moderators).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
    /// let influence = analysis.influence()?;
    /// let hats: f64 = influence.studies.iter().map(|s| s.hat).sum();
    /// assert!((hats - 1.0).abs() < 1e-12); // the hat values of one coefficient sum to 1
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn influence(&self) -> Result<Influence> {
        Ok(self.influence_and_baujat()?.0)
    }

    /// The Baujat plot's coordinates of every study (metafor's `baujat()`).
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
    /// let baujat = analysis.baujat()?;
    /// let most = baujat.studies.iter().max_by(|a, b| a.influence.total_cmp(&b.influence)).unwrap();
    /// assert_eq!(most.study, "Hart & Sutherland 1977");
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn baujat(&self) -> Result<Baujat> {
        self.model.check(Capability::Baujat)?;
        Ok(self.influence_and_baujat()?.1)
    }

    /// Influence diagnostics and the Baujat plot from one set of leave-one-out refits.
    pub fn influence_and_baujat(&self) -> Result<(Influence, Baujat)> {
        let fit = self.fit_for(Capability::Influence)?;
        fit.check_pooled("influence diagnostics", 3)?;
        let effects = fit.effects();
        let refits = self.without_each(fit, |left_out, refit| {
            // The refit's weights, for Knapp–Hartung's scale factor.
            let sum_w: f64 = refit
                .effects()
                .iter()
                .map(|e| 1.0 / (e.vi + refit.tau2))
                .sum();
            Deleted {
                estimate: refit.estimate,
                se: refit.se,
                tau2: refit.tau2,
                q: refit.q.unwrap_or(f64::NAN),
                sum_w,
                sum_w_all: sum_w + 1.0 / (effects[left_out].vi + refit.tau2),
                knha: refit.test.uses_t(),
            }
        })?;
        let influence = self.influence_from(fit, &refits);
        check_finite(&influence, fit)?;
        let studies = refits
            .iter()
            .zip(effects)
            .zip(&self.studies)
            .map(|((without, e), study)| BaujatPoint {
                study: study.study.to_string(),
                heterogeneity: (e.yi - fit.estimate).powi(2) / (fit.tau2 + e.vi),
                influence: (without.estimate - fit.estimate).powi(2) / without.se.powi(2),
            })
            .collect();
        Ok((influence, Baujat { studies }))
    }

    fn influence_from(&self, fit: &Fit, refits: &[Deleted]) -> Influence {
        let effects = fit.effects();
        let k = effects.len();
        let weights = fit.weights();
        let variance = fit.se * fit.se;
        let studies = refits
            .iter()
            .enumerate()
            .map(|(i, without)| {
                let e = &effects[i];
                let tau2 = without.tau2;
                let v_without = without.se * without.se;
                // Knapp–Hartung's scale factor of the refit (1 under z).
                let s2w = if without.knha {
                    v_without * without.sum_w
                } else {
                    1.0
                };
                let hat = weights[i] / 100.0;
                let change = fit.estimate - without.estimate;
                let v_all = 1.0 / without.sum_w_all;
                let residual = e.yi - without.estimate;
                let residual = if residual.abs() < 100.0 * f64::EPSILON {
                    0.0
                } else {
                    residual
                };
                let dffits = change / (s2w * hat * (tau2 + e.vi)).sqrt();
                let cooks_distance = change * change / variance;
                let dfbetas = change / (s2w * v_all).sqrt();
                let influential = dffits.abs() > 3.0 * (1.0 / (k as f64 - 1.0)).sqrt()
                    || crate::stats::chi_squared(1.0).cdf(cooks_distance) > 0.5
                    || hat > 3.0 / k as f64
                    || dfbetas.abs() > 1.0;
                InfluenceRow {
                    study: self.studies.get(i).study.to_string(),
                    rstudent: residual / (e.vi * s2w + v_without + tau2 * s2w).sqrt(),
                    dffits,
                    cooks_distance,
                    cov_ratio: v_without / variance,
                    tau2_deleted: tau2,
                    q_deleted: without.q,
                    hat,
                    weight: weights[i],
                    dfbetas,
                    influential,
                }
            })
            .collect();
        Influence { studies }
    }
}

/// What influence diagnostics need of a refit without one study.
struct Deleted {
    estimate: f64,
    se: f64,
    tau2: f64,
    q: f64,
    /// Σ 1/(vⱼ + τ²₍₋ᵢ₎) over the other studies, and over all.
    sum_w: f64,
    sum_w_all: f64,
    knha: bool,
}

impl Analysis {
    /// The model refitted without each study in turn, each refit handed to
    /// `keep` and dropped, in parallel and in input order. Refits start from
    /// the full fit's τ², and one grid of the full data's sums stands in for
    /// each refit's search for other maxima of the likelihood where it can.
    fn without_each<T: Send>(
        &self,
        fit: &Fit,
        keep: impl Fn(usize, &Fit) -> T + Sync + Send,
    ) -> Result<Vec<T>> {
        let model = fit.same_model();
        let effects = fit.effects();
        let deletions = Deletions::new(fit.method, effects, fit.tau2)?;
        crate::parallel::map(0..effects.len(), |left_out| {
            let mut rest = Vec::with_capacity(effects.len() - 1);
            rest.extend_from_slice(&effects[..left_out]);
            rest.extend_from_slice(&effects[left_out + 1..]);
            let only = |fisher: f64| {
                deletions
                    .as_ref()
                    .is_some_and(|d| d.only_maximum(left_out, fisher))
            };
            let (start, known_score) = match deletions.as_ref().and_then(|d| d.start(left_out)) {
                Some((start, known)) => (start, Some(known)),
                None => (fit.tau2, None),
            };
            let hints = Hints {
                start: Some(start),
                known_score,
                at_zero: deletions.as_ref().and_then(|d| d.at_zero(left_out)),
                centre: deletions.as_ref().map(Deletions::centre),
                only_maximum: Some(&only),
            };
            Ok(keep(left_out, &model.fit_with(rest, hints)?))
        })
        .into_iter()
        .collect()
    }
}

/// One study in the Baujat plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BaujatPoint {
    /// The study.
    pub study: String,
    /// Its contribution to the heterogeneity: the squared Pearson residual
    /// (yᵢ − μ̂)² / (τ² + vᵢ), its share of Q under the common-effect model.
    pub heterogeneity: f64,
    /// Its influence on the pooled result: the squared change of the estimate
    /// when it is left out, over the variance of the estimate without it.
    pub influence: f64,
}

/// The Baujat plot's coordinates (Baujat et al. 2002), in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Baujat {
    /// One point per study.
    pub studies: Vec<BaujatPoint>,
}

/// Diagnostics that are not numbers (effects that agree exactly leave
/// Knapp–Hartung's spread at 0) are refused, as metafor stops on them.
fn check_finite(influence: &Influence, fit: &Fit) -> Result<()> {
    let undefined = influence.studies.iter().find(|s| {
        ![
            s.rstudent,
            s.dffits,
            s.cooks_distance,
            s.cov_ratio,
            s.dfbetas,
        ]
        .iter()
        .all(|x| x.is_finite())
    });
    let Some(study) = undefined else {
        return Ok(());
    };
    let why = match fit.test {
        crate::model::Test::Knha => format!(
            ": under Knapp-Hartung the model's residual spread is 0 with or without it (the \
             effects agree exactly); use the {} z",
            crate::Setting::Test
        ),
        _ => String::new(),
    };
    Err(crate::ErrorKind::InvalidValue(format!(
        "influence diagnostics are undefined for these studies (those of `{}` are not numbers){why}",
        study.study
    ))
    .into())
}
