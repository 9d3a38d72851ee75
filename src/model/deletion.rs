//! What the full data's sums tell of the data without one study: leave-one-out
//! refits start close to their root, skip the pass for Q, and often skip the
//! likelihood's grid search, each only where the shortcut's rounding error is
//! provably negligible; anything less clear is left to the refit itself.

use super::Method;
use super::moments::Moments;
use super::standardise::Standardised;
use super::tau2::{GRID_RATIO, MAX_GRID_POINTS, Tau2, grid_top};
use crate::effect::Effect;
use crate::error::Result;

/// The full data's sums, for refits of the intercept-only model without one
/// study. At τ² = 0 they give each refit's Q and tr P. For ML and REML, the
/// sums at each point of the likelihood's grid give the score without any one
/// study in O(1): where every such score is clear of zero by more than its
/// rounding error, the sign changes, and so the local maxima, are known
/// without a pass over the data; and the sums at the full estimate give a
/// refit a start one step from its root.
pub(crate) struct Deletions {
    data: Standardised,
    zero: GridSums,
    likelihood: Option<Likelihood>,
}

/// The ML or REML grid and estimate of the full data.
struct Likelihood {
    estimator: Tau2,
    points: Vec<GridSums>,
    /// The sums and the expected information at the full data's estimate.
    estimate: GridSums,
    information: f64,
}

/// What a refit may know from the fit it varies: where Fisher scoring is likely
/// to end, a cheaper proof that its root is the likelihood's only maximum, and
/// its heterogeneity statistics at τ² = 0.
#[derive(Clone, Copy, Default)]
pub(crate) struct Hints<'a> {
    /// Start Fisher scoring here (the data's variance units) instead of at Hedges' estimate.
    pub start: Option<f64>,
    /// A point (τ², score) of this data's score known without a pass over it
    /// (variance units and their inverse): the first secant step needs no
    /// scoring step then.
    pub known_score: Option<(f64, f64)>,
    /// Given Fisher scoring's root (the data's variance units), true when it is
    /// known to be the only local maximum; otherwise the grid is searched.
    pub only_maximum: Option<&'a (dyn Fn(f64) -> bool + Sync)>,
    /// Q and tr P at τ² = 0, known without a pass over the data.
    pub at_zero: Option<AtZero>,
    /// A centre for standardising the effects (intercept-only model).
    pub centre: Option<f64>,
}

/// Q and tr P at τ² = 0 of the data without one study (tr P in the data's
/// inverse variance units).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AtZero {
    pub q: f64,
    pub trace_p: f64,
}

/// A downdated sum is used where its terms are at most this many times its
/// value: cancellation then costs at most two bits beyond the rounding a sum
/// afresh carries.
const MAX_CANCELLATION: f64 = 4.0;

/// Sums of the full (standardised) data at one value of τ².
struct GridSums {
    tau2: f64,
    s1: f64,
    s2: f64,
    swy: f64,
    sw2y: f64,
    sw2y_abs: f64,
    sw2y2: f64,
    swy2: f64,
}

impl GridSums {
    fn at(data: &Standardised, tau2: f64) -> Self {
        let mut p = GridSums {
            tau2,
            s1: 0.0,
            s2: 0.0,
            swy: 0.0,
            sw2y: 0.0,
            sw2y_abs: 0.0,
            sw2y2: 0.0,
            swy2: 0.0,
        };
        for e in data.effects() {
            let w = 1.0 / (e.vi + tau2);
            let (w2, y) = (w * w, e.yi);
            p.s1 += w;
            p.s2 += w2;
            p.swy += w * y;
            p.sw2y += w2 * y;
            p.sw2y_abs += w2 * y.abs();
            p.sw2y2 += w2 * y * y;
            p.swy2 += w * y * y;
        }
        p
    }
}

impl Deletions {
    /// The sums of `effects` under `method`, τ² estimated at `estimate` (the
    /// data's variance units); `None` with fewer than 3 studies.
    pub fn new(method: Method, effects: &[Effect], estimate: f64) -> Result<Option<Self>> {
        if effects.len() < 3 {
            return Ok(None);
        }
        let data = Standardised::with_design(effects, None)?;
        let likelihood = match method {
            Method::Random(estimator @ (Tau2::Ml | Tau2::Reml)) => {
                Some(Likelihood::new(estimator, &data, estimate))
            }
            _ => None,
        };
        Ok(Some(Deletions {
            zero: GridSums::at(&data, 0.0),
            data,
            likelihood,
        }))
    }

    /// The centre of the full data: a centre for every refit.
    pub fn centre(&self) -> f64 {
        self.data.centre()
    }

    /// Q and tr P at τ² = 0 without study `left_out`, when downdating loses
    /// nothing that matters (no single study carries Q or the weights).
    pub fn at_zero(&self, left_out: usize) -> Option<AtZero> {
        let e = self.data.effects()[left_out];
        let z = &self.zero;
        let w = 1.0 / e.vi;
        let (s1, s2) = (z.s1 - w, z.s2 - w * w);
        let (swy, swy2) = (z.swy - w * e.yi, z.swy2 - w * e.yi * e.yi);
        let q = swy2 - swy * swy / s1;
        let trace_p = s1 - s2 / s1;
        let q_terms = z.swy2 + (z.swy.abs() + (w * e.yi).abs()).powi(2) / s1;
        let trace_terms = z.s1 + z.s2 / s1;
        let clear = |value: f64, terms: f64| terms <= MAX_CANCELLATION * value;
        (clear(q, q_terms) && clear(trace_p, trace_terms)).then(|| AtZero {
            q,
            trace_p: trace_p / self.data.variance(1.0),
        })
    }

    /// A start for the refit without study `left_out`: one scoring step from
    /// the full estimate, with the score of the data without the study and
    /// the full data's information; and that score at the full estimate (the
    /// data's variance units and their inverse).
    pub fn start(&self, left_out: usize) -> Option<(f64, (f64, f64))> {
        let l = self.likelihood.as_ref()?;
        let e = self.data.effects()[left_out];
        let k = self.data.effects().len() as f64;
        let (score, _) = l.deleted_score(&l.estimate, e, k);
        let start = l.estimate.tau2 + score / l.information;
        let start = if start > 0.0 { start } else { l.estimate.tau2 };
        let unit = self.data.variance(1.0);
        Some((
            self.data.variance(start),
            (self.data.variance(l.estimate.tau2), score / unit),
        ))
    }

    /// Whether `fisher` (the data's variance units), Fisher scoring's root
    /// for the data without study `left_out`, is its likelihood's only local
    /// maximum on the grid, as the refit's own search would find.
    pub fn only_maximum(&self, left_out: usize, fisher: f64) -> bool {
        let Some(l) = &self.likelihood else {
            return false;
        };
        l.only_maximum(
            self.data.effects()[left_out],
            self.data.effects().len() as f64,
            self.data.standard_variance(fisher),
        )
    }
}

impl Likelihood {
    fn new(estimator: Tau2, data: &Standardised, estimate: f64) -> Self {
        let mut taus = vec![0.0];
        let (mut point, top) = (0.25 * data.v_min(), grid_top(data));
        // As far as the full data's grid reaches: a refit's reaches no further.
        while taus.len() < MAX_GRID_POINTS && point <= top * GRID_RATIO {
            taus.push(point);
            point *= GRID_RATIO;
        }
        let points = taus.into_iter().map(|t| GridSums::at(data, t)).collect();
        let tau2 = data.standard_variance(estimate);
        let moments = Moments::at(data, tau2);
        let information = match estimator {
            Tau2::Ml => moments.s2,
            _ => moments.trace_pp,
        };
        Likelihood {
            estimator,
            points,
            estimate: GridSums::at(data, tau2),
            information,
        }
    }

    /// The score at `p.tau2` of the data without study `e`, and a bound on
    /// its rounding error (every term's, summed over k studies).
    fn deleted_score(&self, p: &GridSums, e: Effect, k: f64) -> (f64, f64) {
        let w = 1.0 / (e.vi + p.tau2);
        let (w2, y) = (w * w, e.yi);
        let s1 = p.s1 - w;
        let s2 = p.s2 - w2;
        let mean = (p.swy - w * y) / s1;
        let q2 = (p.sw2y2 - w2 * y * y) - 2.0 * mean * (p.sw2y - w2 * y) + mean * mean * s2;
        let (score, subtracted) = match self.estimator {
            Tau2::Ml => (q2 - s1, s1),
            _ => (q2 - (s1 - s2 / s1), s1 + s2 / s1),
        };
        let magnitude = p.sw2y2 + 2.0 * mean.abs() * p.sw2y_abs + mean * mean * p.s2 + subtracted;
        (score, 4.0 * (k + 16.0) * f64::EPSILON * magnitude)
    }

    /// The sign changes of the score without study `e` on the grid: whether
    /// `fisher` (standardised) is the only local maximum.
    fn only_maximum(&self, e: Effect, k: f64, fisher: f64) -> bool {
        let mut signs = Vec::with_capacity(self.points.len());
        for p in &self.points {
            let (score, error) = self.deleted_score(p, e, k);
            // NaN is not clear either.
            if score.abs().partial_cmp(&error) != Some(std::cmp::Ordering::Greater) {
                return false;
            }
            signs.push(score > 0.0);
        }
        // The refit's search goes on while the score stays positive.
        if signs.last() != Some(&false) {
            return false;
        }
        let falls: Vec<usize> = (1..signs.len())
            .filter(|&j| signs[j - 1] && !signs[j])
            .collect();
        match (signs[0], falls.as_slice()) {
            (false, []) => fisher == 0.0,
            (true, [j]) => self.points[j - 1].tau2 < fisher && fisher <= self.points[*j].tau2,
            _ => false,
        }
    }
}
