//! The O(k) kernel every estimator shares: weighted sums at a given τ².
//!
//! For the intercept-only model with weights wᵢ = 1/(vᵢ + τ²), the projection
//! matrix P = W − w wᵀ/Σw never has to be formed: every quantity the estimators
//! need (yᵀPy, yᵀPPy, tr P, tr PP) is a short sum over the studies.
//!
//! The traces are sums of non-negative terms, never differences of large ones:
//! with πᵢ = wᵢ/Σw,
//!
//! ```text
//! tr P  = Σ wᵢ (1 − πᵢ)
//! tr PP = Σ wᵢ² [(1 − πᵢ)² + Σ_{j≠i} πⱼ²]
//! ```
//!
//! and 1 − πᵢ, Σ_{j≠i} πⱼ² are sums over the other studies. For every study but
//! the one with the largest weight they are computed as a difference that can
//! lose at most one bit (the largest weight is among the others); for the
//! dominant study they are summed directly. A study with variance 1e-8 beside
//! studies with variance 10⁴ thus leaves tr PP accurate, where the textbook
//! form Σw² − 2Σw³/Σw + (Σw²/Σw)² cancels to zero.

use super::design::Design;
use super::regression::{Projection, Sums, Weights};
use super::standardise::Standardised;
use crate::effect::Effect;

/// Weighted sums of the studies at one value of τ².
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    /// Number of studies.
    pub k: f64,
    /// Σw.
    pub s1: f64,
    /// Σw².
    pub s2: f64,
    /// The weighted mean Σwy / Σw.
    pub mean: f64,
    /// yᵀPy = Σw (y − mean)²: Cochran's Q at τ² = 0, the generalised Q otherwise.
    pub q: f64,
    /// yᵀPPy = Σw² (y − mean)².
    pub q2: f64,
    /// tr P.
    pub trace_p: f64,
    /// tr PP.
    pub trace_pp: f64,
}

impl Moments {
    /// Two passes over the standardised data: weights and the mean first, then
    /// residuals and traces.
    pub fn at(data: &Standardised, tau2: f64) -> Self {
        match data.design() {
            None => Moments::intercept_only::<true>(data, tau2),
            Some(design) => Moments::regression(data, design, tau2, true),
        }
    }

    /// What the score of an estimator, Q and tr P need: tr PP is NaN (it
    /// costs a third of the pass).
    pub fn for_score(data: &Standardised, tau2: f64) -> Self {
        match data.design() {
            None => Moments::intercept_only::<false>(data, tau2),
            Some(design) => Moments::regression(data, design, tau2, false),
        }
    }

    fn from_sums(data: &Standardised, sums: Sums, trace_pp: f64) -> Self {
        Moments {
            k: data.effects().len() as f64,
            s1: sums.s1,
            s2: sums.s2,
            mean: f64::NAN,
            q: sums.q,
            q2: sums.q2,
            trace_p: sums.trace_p,
            trace_pp,
        }
    }

    fn undefined(data: &Standardised) -> Self {
        Moments {
            k: data.effects().len() as f64,
            s1: f64::NAN,
            s2: f64::NAN,
            mean: f64::NAN,
            q: f64::NAN,
            q2: f64::NAN,
            trace_p: f64::NAN,
            trace_pp: f64::NAN,
        }
    }

    /// The moments of a meta-regression, through its weighted least-squares fit
    /// (tr PP only with `traces`); NaN where the weighted model matrix is
    /// numerically singular.
    fn regression(data: &Standardised, design: &Design, tau2: f64, traces: bool) -> Self {
        match Projection::new(design, data.effects(), Weights::Inverse(tau2)) {
            Ok(projection) if traces => {
                let (sums, trace_pp) = projection.moments();
                Moments::from_sums(data, sums, trace_pp)
            }
            Ok(projection) => Moments::from_sums(data, projection.score_sums(), f64::NAN),
            Err(_) => Moments::undefined(data),
        }
    }

    /// Both passes of the intercept-only model; tr PP only with `TRACES`
    /// (a constant: each version compiled on its own).
    fn intercept_only<const TRACES: bool>(data: &Standardised, tau2: f64) -> Self {
        let (before, dominant, after) = data.split_dominant();
        let first = |e: &Effect| {
            let w = 1.0 / (e.vi + tau2);
            [w, w * w, w * e.yi]
        };
        let [s1_others, s2_others, swy_others] = add(sum(before, first), sum(after, first));
        let [w_dominant, w2_dominant, wy_dominant] = first(dominant);
        let s1 = s1_others + w_dominant;
        let s2 = s2_others + w2_dominant;
        let mean = (swy_others + wy_dominant) / s1;
        let inv_s1 = 1.0 / s1;
        let score_terms = |others: f64, w: f64, r: f64| {
            let wr2 = w * r * r;
            [wr2, w * wr2, w * (others * inv_s1)]
        };
        // For every study but the dominant one, the others' sums lose at most a bit.
        let (q, q2, trace_p, trace_pp) = if TRACES {
            let inv_s1_sq = inv_s1 * inv_s1;
            let second = |others: f64, others_sq: f64, w: f64, r: f64| {
                let [wr2, w2r2, wc] = score_terms(others, w, r);
                let complement = others * inv_s1;
                [
                    wr2,
                    w2r2,
                    wc,
                    w * w * (complement * complement + others_sq * inv_s1_sq),
                ]
            };
            let ordinary = |e: &Effect| {
                let w = 1.0 / (e.vi + tau2);
                second(s1 - w, s2 - w * w, w, e.yi - mean)
            };
            let [q, q2, trace_p, trace_pp] = add(
                add(sum(before, ordinary), sum(after, ordinary)),
                second(s1_others, s2_others, w_dominant, dominant.yi - mean),
            );
            (q, q2, trace_p, trace_pp)
        } else {
            let ordinary = |e: &Effect| {
                let w = 1.0 / (e.vi + tau2);
                score_terms(s1 - w, w, e.yi - mean)
            };
            let [q, q2, trace_p] = add(
                add(sum(before, ordinary), sum(after, ordinary)),
                score_terms(s1_others, w_dominant, dominant.yi - mean),
            );
            (q, q2, trace_p, f64::NAN)
        };
        Moments {
            k: data.effects().len() as f64,
            s1,
            s2,
            mean,
            q,
            q2,
            trace_p,
            trace_pp,
        }
    }
}

/// Σ f(e) over the effects, in four interleaved partial sums: independent
/// additions keep the processor busy. Beyond [`CHUNK`] studies, chunks are
/// summed in parallel and added in chunk order; the order is fixed either way,
/// so results are the same on every run and any number of threads.
fn sum<const M: usize>(effects: &[Effect], f: impl Fn(&Effect) -> [f64; M] + Sync) -> [f64; M] {
    if effects.len() <= CHUNK {
        return sum_chunk(effects, &f);
    }
    crate::parallel::chunks(effects, CHUNK, |_, chunk| sum_chunk(chunk, &f))
        .into_iter()
        .fold([0.0; M], add)
}

/// Studies per chunk of a parallel sum.
const CHUNK: usize = 16_384;

fn sum_chunk<const M: usize>(effects: &[Effect], f: &impl Fn(&Effect) -> [f64; M]) -> [f64; M] {
    let mut lanes = [[0.0; M]; 4];
    let chunks = effects.chunks_exact(4);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, e) in lanes.iter_mut().zip(chunk) {
            *lane = add(*lane, f(e));
        }
    }
    for (lane, e) in lanes.iter_mut().zip(rest) {
        *lane = add(*lane, f(e));
    }
    add(add(lanes[0], lanes[1]), add(lanes[2], lanes[3]))
}

/// Element-wise sum of two arrays of partial sums.
pub(crate) fn add<const M: usize>(a: [f64; M], b: [f64; M]) -> [f64; M] {
    std::array::from_fn(|i| a[i] + b[i])
}

/// The generalised Q statistic Σ (y − μ̂(τ²))² / (v + τ²), decreasing in τ².
pub(crate) fn generalised_q(data: &Standardised, tau2: f64) -> f64 {
    if data.design().is_some() {
        return Moments::for_score(data, tau2).q;
    }
    let effects = data.effects();
    let [s1, swy] = sum(effects, |e| {
        let w = 1.0 / (e.vi + tau2);
        [w, w * e.yi]
    });
    let mean = swy / s1;
    let [q] = sum(effects, |e| {
        let r = e.yi - mean;
        [r * r / (e.vi + tau2)]
    });
    q
}

/// The "typical" within-study variance of Higgins & Thompson, (k − p) / tr(P) at τ²
/// = 0, in standardised units.
pub(crate) fn typical_variance(data: &Standardised) -> f64 {
    Moments::for_score(data, 0.0).typical_variance(data.p())
}

impl Moments {
    /// (k − p) / tr P: the typical within-study variance when these are the
    /// moments at τ² = 0.
    pub fn typical_variance(&self, p: usize) -> f64 {
        (self.k - p as f64) / self.trace_p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The score's pass is the full pass without tr PP: the same sums,
        /// bit for bit, so a fit does not depend on which one it used.
        #[test]
        fn the_score_pass_sums_as_the_full_pass(
            studies in prop::collection::vec((-5.0..5.0f64, 1e-6..10.0f64), 2..40),
            tau2 in prop_oneof![Just(0.0), 1e-6..10.0f64],
        ) {
            let effects: Vec<Effect> =
                studies.iter().map(|&(y, v)| Effect::new(y, v).unwrap()).collect();
            let data = Standardised::new(&effects).unwrap();
            let (full, score) = (Moments::at(&data, tau2), Moments::for_score(&data, tau2));
            let bits = |m: &Moments| [m.s1, m.s2, m.mean, m.q, m.q2, m.trace_p].map(f64::to_bits);
            prop_assert_eq!(bits(&full), bits(&score));
            prop_assert!(score.trace_pp.is_nan() && full.trace_pp > 0.0);
        }
    }
}
