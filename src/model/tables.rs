//! Pooling 2×2 tables without weights from their own variances: the
//! Mantel–Haenszel estimators of the odds ratio, risk ratio and risk
//! difference (with the Cochran–Mantel–Haenszel and Tarone tests for the odds
//! ratio) and Peto's one-step odds ratio, as metafor's `rma.mh()` and
//! `rma.peto()` compute them: the pooled estimate from the raw counts, Q from
//! the tables' own effects (½ added to tables with a zero cell, tables
//! without any event or without any non-event left out).

use serde::Serialize;
use statrs::distribution::ContinuousCDF;

use super::chi_squared;
use crate::effect::{Effect, Measure, TwoByTwo};
use crate::error::{ErrorKind, Result};

/// A χ² test: statistic, degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChiSquareTest {
    /// The statistic.
    pub statistic: f64,
    /// Its degrees of freedom.
    pub df: f64,
    /// Its upper-tail p-value.
    pub p_value: f64,
}

impl ChiSquareTest {
    pub(crate) fn new(statistic: f64, df: f64) -> Option<Self> {
        (statistic.is_finite() && df > 0.0).then(|| ChiSquareTest {
            statistic,
            df,
            p_value: chi_squared(df).sf(statistic),
        })
    }
}

/// The pooled log odds ratio, log risk ratio or risk difference of the tables.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PooledTables {
    pub estimate: f64,
    pub se: f64,
    pub q: f64,
    /// Tables with an effect of their own, less one.
    pub q_df: f64,
    /// The Cochran–Mantel–Haenszel test (odds ratio).
    pub cmh: Option<ChiSquareTest>,
    /// Tarone's test of homogeneous odds ratios.
    pub tarone: Option<ChiSquareTest>,
    /// Each table's weight in the pooled estimate (RevMan's M-H and Peto weights).
    pub weights: Vec<f64>,
}

/// One table's counts: a, b, c, d and the group and total sizes.
struct Cells {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
    n1: f64,
    n2: f64,
    n: f64,
}

impl Cells {
    fn of(t: &TwoByTwo) -> Self {
        Cells {
            a: t.events1,
            b: t.n1 - t.events1,
            c: t.events2,
            d: t.n2 - t.events2,
            n1: t.n1,
            n2: t.n2,
            n: t.n1 + t.n2,
        }
    }
}

/// Data from which the estimator has nothing to estimate: metafor reports
/// the estimate as missing; this is the input's limit, not a failure.
fn undefined(what: &str) -> crate::error::Error {
    ErrorKind::InvalidValue(format!(
        "the Mantel-Haenszel {what} is not estimable from these tables: in every table one \
         of the groups has no events (or no non-events), and metafor reports it as missing; \
         pool them with Peto's method ({method} PETO, odds ratio) or an inverse-variance \
         model ({method} FE or REML), which add 1/2 to the zero cells",
        method = crate::Setting::Method
    ))
    .into()
}

/// The Mantel–Haenszel estimate for OR, RR or RD.
pub(crate) fn mantel_haenszel(tables: &[TwoByTwo], measure: Measure) -> Result<PooledTables> {
    let cells: Vec<Cells> = tables.iter().map(Cells::of).collect();
    let sum = |f: &dyn Fn(&Cells) -> f64| cells.iter().map(f).sum::<f64>();
    let (estimate, se) = match measure {
        Measure::Or => {
            let r = sum(&|t| t.a * t.d / t.n);
            let s = sum(&|t| t.b * t.c / t.n);
            if r == 0.0 || s == 0.0 {
                return Err(undefined("odds ratio"));
            }
            let p = |t: &Cells| (t.a + t.d) / t.n;
            let q = |t: &Cells| (t.b + t.c) / t.n;
            let pr = sum(&|t| p(t) * t.a * t.d / t.n);
            let ps_qr = sum(&|t| p(t) * t.b * t.c / t.n + q(t) * t.a * t.d / t.n);
            let qs = sum(&|t| q(t) * t.b * t.c / t.n);
            let variance = 0.5 * (pr / (r * r) + ps_qr / (r * s) + qs / (s * s));
            ((r / s).ln(), variance.sqrt())
        }
        Measure::Rr => {
            let r = sum(&|t| t.a * t.n2 / t.n);
            let s = sum(&|t| t.c * t.n1 / t.n);
            if sum(&|t| t.a) == 0.0 || sum(&|t| t.c) == 0.0 {
                return Err(undefined("risk ratio"));
            }
            let numerator = sum(&|t| t.n1 / t.n * t.n2 / t.n * (t.a + t.c) - t.a / t.n * t.c);
            ((r / s).ln(), (numerator / (r * s)).sqrt())
        }
        Measure::Rd => {
            let weight = sum(&|t| t.n1 * t.n2 / t.n);
            let beta = sum(&|t| t.a * t.n2 / t.n - t.c * t.n1 / t.n) / weight;
            let first = sum(&|t| {
                t.c * (t.n1 / t.n).powi(2) - t.a * (t.n2 / t.n).powi(2)
                    + t.n1 / t.n * t.n2 / t.n * (t.n2 - t.n1) / 2.0
            });
            let second = sum(&|t| t.a * (t.n2 - t.c) / t.n + t.c * (t.n1 - t.a) / t.n) / 2.0;
            (beta, ((beta * first + second) / (weight * weight)).sqrt())
        }
        other => {
            return Err(ErrorKind::InvalidSetting(format!(
                "the Mantel-Haenszel method pools OR, RR or RD, not {other}"
            ))
            .into());
        }
    };
    let (q, q_df) = inverse_variance_q(tables, measure, estimate)?;
    // The weights the estimators give the tables: bc/N (OR), cn₁/N (RR), n₁n₂/N (RD).
    let weights = cells
        .iter()
        .map(|t| match measure {
            Measure::Or => t.b * t.c / t.n,
            Measure::Rr => t.c * t.n1 / t.n,
            _ => t.n1 * t.n2 / t.n,
        })
        .collect();
    let (cmh, tarone) = if measure == Measure::Or {
        (cmh_test(&cells), tarone_test(&cells, estimate.exp()))
    } else {
        (None, None)
    };
    Ok(PooledTables {
        estimate,
        se,
        q,
        q_df,
        cmh,
        tarone,
        weights,
    })
}

/// Q about the pooled estimate from the tables' own effects, leaving out
/// tables without events or without non-events in both groups.
fn inverse_variance_q(tables: &[TwoByTwo], measure: Measure, estimate: f64) -> Result<(f64, f64)> {
    let mut q = 0.0;
    let mut count = 0.0;
    for t in tables.iter().filter(|t| !is_double_zero(t)) {
        let Effect { yi, vi } =
            measure.compute(&crate::effect::StudyData::TwoByTwo(Box::new(*t)))?;
        q += (yi - estimate).powi(2) / vi;
        count += 1.0;
    }
    Ok((q.max(0.0), count - 1.0))
}

/// No events in either group, or events only.
fn is_double_zero(t: &TwoByTwo) -> bool {
    (t.events1 == 0.0 && t.events2 == 0.0) || (t.events1 == t.n1 && t.events2 == t.n2)
}

/// The Cochran–Mantel–Haenszel test of a common odds ratio of 1, with
/// continuity correction.
fn cmh_test(cells: &[Cells]) -> Option<ChiSquareTest> {
    let xt = |t: &Cells| t.a + t.c;
    let yt = |t: &Cells| t.b + t.d;
    let observed: f64 = cells.iter().map(|t| t.a - t.n1 / t.n * xt(t)).sum();
    let variance: f64 = cells
        .iter()
        .map(|t| t.n1 / t.n * (t.n2 / t.n) * (xt(t) * (yt(t) / (t.n - 1.0))))
        .sum();
    ChiSquareTest::new((observed.abs() - 0.5).powi(2) / variance, 1.0)
}

/// Tarone's test of homogeneity: the Breslow–Day statistic less its
/// correction, over the tables whose expected counts under the common odds
/// ratio are positive.
fn tarone_test(cells: &[Cells], odds_ratio: f64) -> Option<ChiSquareTest> {
    let (mut breslow_day, mut deviation, mut information, mut positive) = (0.0, 0.0, 0.0, 0.0);
    for t in cells {
        let (xt, yt) = (t.a + t.c, t.b + t.d);
        let n11 = if odds_ratio == 1.0 {
            t.n1 / t.n * xt
        } else {
            let a = odds_ratio * (t.n1 + xt) + (t.n2 - xt);
            let b = (a * a - 4.0 * t.n1 * xt * odds_ratio * (odds_ratio - 1.0)).sqrt();
            (a - b) / (2.0 * (odds_ratio - 1.0))
        };
        if !(n11 > 0.0 && xt > 0.0 && yt > 0.0) {
            continue;
        }
        let (n12, n21) = (t.n1 - n11, xt - n11);
        let n22 = n11 - t.n1 - xt + t.n;
        let inverse = 1.0 / n11 + 1.0 / n12 + 1.0 / n21 + 1.0 / n22;
        breslow_day += (t.a - n11).powi(2) * inverse;
        deviation += t.a - n11;
        information += 1.0 / inverse;
        positive += 1.0;
    }
    let breslow_day = breslow_day.max(0.0);
    let tarone = (breslow_day - deviation * deviation / information).max(0.0);
    ChiSquareTest::new(tarone, positive - 1.0)
}

/// Peto's one-step log odds ratio.
pub(crate) fn peto(tables: &[TwoByTwo]) -> Result<PooledTables> {
    let (mut observed_minus_expected, mut variance, mut q_terms, mut with_effect) =
        (0.0, 0.0, 0.0, 0.0);
    let mut weights = Vec::with_capacity(tables.len());
    for t in tables.iter().map(Cells::of) {
        let (xt, yt) = (t.a + t.c, t.b + t.d);
        let expected = xt * t.n1 / t.n;
        let v = xt * yt * (t.n1 / t.n) * (t.n2 / t.n) / (t.n - 1.0);
        observed_minus_expected += t.a - expected;
        variance += v;
        weights.push(v);
        if v > 0.0 {
            q_terms += (t.a - expected).powi(2) / v;
            with_effect += 1.0;
        }
    }
    if variance == 0.0 {
        return Err(ErrorKind::Numerical(
            "Peto's odds ratio is undefined: no table has both events and non-events".into(),
        )
        .into());
    }
    let q = (q_terms - observed_minus_expected.powi(2) / variance).max(0.0);
    Ok(PooledTables {
        estimate: observed_minus_expected / variance,
        se: (1.0 / variance).sqrt(),
        q,
        q_df: with_effect - 1.0,
        cmh: None,
        tarone: None,
        weights,
    })
}
