//! metafor's unconditional model with fixed study effects (UM.FS) for
//! two-group tables: in study i, logit p₁ = αᵢ + β + u/2 for the treated group
//! and logit p₂ = αᵢ − u/2 for the controls, u ~ N(0, τ²) (metafor's coding ½).
//!
//! The common-effect model is logistic regression with a parameter per study.
//! The random-effects likelihood integrates u out of each study by adaptive
//! quadrature and is maximised over the k study effects, β and τ. Given (β, τ)
//! each αᵢ is a one-dimensional search within its own study, so the outer
//! search profiles them out and has two parameters whatever k is: O(k) work
//! per evaluation, and the profile's curvature in β is the full model's.

use super::family::{Count, Family};
use super::likelihood::{CommonFit, Likelihood, RandomFit, SaturatedTests, random_fit};
use super::newton::{maximise_concave, maximise_with_gradient};
use super::quadrature::{HermiteRule, Node, Record, Slope};
use crate::error::{ErrorKind, Result};

/// One table's two groups as binomial counts (no offsets).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Arms {
    pub treated: Count,
    pub control: Count,
}

/// The tables of a UM.FS model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FixedStudy<'a> {
    pub arms: &'a [Arms],
}

const FAMILY: Family = Family::Binomial;
/// Newton steps allowed for one study's α given (β, τ).
const MAX_STUDY_ITERATIONS: usize = 100;

/// One study's integrated log-likelihood at (αᵢ, β, log τ), its exact
/// gradient in those three, and an approximate second derivative in αᵢ (for
/// Newton's steps only).
#[derive(Debug, Clone, Copy)]
struct StudyTerms {
    value: f64,
    gradient: [f64; 3],
    curvature: f64,
}

/// Where a study's search stands: its α and the mode of its integrand.
#[derive(Debug, Clone, Copy)]
struct StudyState {
    alpha: f64,
    mode: f64,
}

impl FixedStudy<'_> {
    fn constant(&self) -> f64 {
        self.arms
            .iter()
            .map(|a| FAMILY.constant(&a.treated) + FAMILY.constant(&a.control))
            .sum()
    }

    /// The common-effect model's profile at β: each study's α maximised
    /// (starting from `alphas`, left there), the log-likelihood without
    /// constants and its first two derivatives in β (the envelope and the
    /// Schur complement of the studies' curvatures).
    fn common_profile(&self, beta: f64, alphas: &mut [f64]) -> (f64, f64, f64) {
        let (mut ll, mut d1, mut d2) = (0.0, 0.0, 0.0);
        for (arms, alpha) in self.arms.iter().zip(alphas) {
            let terms = |a: f64| {
                let (t, c) = (
                    FAMILY.terms(&arms.treated, a + beta),
                    FAMILY.terms(&arms.control, a),
                );
                (t.0 + c.0, t.1 + c.1, t.2 + c.2)
            };
            (*alpha, _) = maximise_concave(terms, *alpha);
            let (lt, gt, ht) = FAMILY.terms(&arms.treated, *alpha + beta);
            let (lc, _, hc) = FAMILY.terms(&arms.control, *alpha);
            ll += lt + lc;
            d1 += gt;
            d2 += ht - ht * ht / (ht + hc);
        }
        (ll, d1, d2)
    }

    /// Whether the odds ratio's estimate is finite: some table must not push
    /// it towards 0 (events in the treated group, non-events among the
    /// controls) and some not towards ∞.
    fn check_finite(&self) -> Result<()> {
        let towards_zero =
            |a: &Arms| a.treated.events == 0.0 || a.control.events == a.control.trials;
        let towards_infinity =
            |a: &Arms| a.treated.events == a.treated.trials || a.control.events == 0.0;
        let bound = if self.arms.iter().all(towards_zero) {
            "0"
        } else if self.arms.iter().all(towards_infinity) {
            "infinite"
        } else {
            return Ok(());
        };
        Err(ErrorKind::InvalidValue(format!(
            "every table has no events in one group or only events in the other, on the same \
             side: the pooled odds ratio is {bound} and cannot be estimated"
        ))
        .into())
    }

    /// One study's terms: u integrated out by adaptive quadrature, and the
    /// exact derivatives of that quadrature, whose nodes move with the
    /// parameters through the mode and the curvature there (the latter needs
    /// third derivatives). With g(u) the log of the integrand and c = −g''(û),
    /// for each parameter θ: û' = g_uθ / c, c' = −(g_uuu û' + g_uuθ), and
    /// dF/dθ = ∂θ(normal constant) − c'/2c + Σⱼ pⱼ [g_θ + g_u (û' + s' zⱼ)].
    fn study(
        &self,
        arms: &Arms,
        state: &mut StudyState,
        beta: f64,
        tau: f64,
        rule: &HermiteRule,
        nodes: &mut [Node],
    ) -> StudyTerms {
        let p = 1.0 / (tau * tau);
        let (treated, control) = (&arms.treated, &arms.control);
        let eta = |u: f64| (state.alpha + beta + 0.5 * u, state.alpha - 0.5 * u);
        let data = |u: f64| {
            let (e1, e2) = eta(u);
            let (l1, g1, h1) = FAMILY.terms(treated, e1);
            let (l2, g2, h2) = FAMILY.terms(control, e2);
            (l1 + l2, 0.5 * (g1 - g2), 0.25 * (h1 + h2))
        };
        let value = |u: f64| {
            let (e1, e2) = eta(u);
            FAMILY.log_likelihood(treated, e1) + FAMILY.log_likelihood(control, e2)
        };
        let integral = rule.adaptive(data, value, p, state.mode, Record::Shares(nodes));
        state.mode = integral.mode;
        let mode = integral.mode;
        let (e1, e2) = eta(mode);
        let (_, _, h1) = FAMILY.terms(treated, e1);
        let (_, _, h2) = FAMILY.terms(control, e2);
        let (t1, t2) = (FAMILY.third(treated, e1), FAMILY.third(control, e2));
        // Per parameter (α, β, log τ); the normal density's constant is
        // ½ log p − ½ log 2π with p = e^(−2 log τ).
        let slopes = [
            Slope {
                g_u: 0.5 * (h1 - h2),
                g_uu: 0.25 * (t1 + t2),
                constant: 0.0,
            },
            Slope {
                g_u: 0.5 * h1,
                g_uu: 0.25 * t1,
                constant: 0.0,
            },
            Slope {
                g_u: 2.0 * p * mode,
                g_uu: 2.0 * p,
                constant: -1.0,
            },
        ];
        let (mut mean, mut square, mut second) = (0.0, 0.0, 0.0);
        let gradient = rule.gradient(&integral, nodes, 0.125 * (t1 - t2), slopes, |u, node| {
            let share = node.share;
            let (e1, e2) = eta(u);
            let (_, g1, h1) = FAMILY.terms(treated, e1);
            let (_, g2, h2) = FAMILY.terms(control, e2);
            mean += share * (g1 + g2);
            square += share * (g1 + g2) * (g1 + g2);
            second += share * (h1 + h2);
            (0.5 * (g1 - g2) - p * u, [g1 + g2, g1, p * u * u])
        });
        StudyTerms {
            value: integral.log_integral,
            gradient,
            curvature: second + square - mean * mean,
        }
    }

    /// One study's terms at its α maximised given (β, τ), by Newton's method
    /// from `state`'s α.
    fn maximised_study(
        &self,
        arms: &Arms,
        state: &mut StudyState,
        beta: f64,
        tau: f64,
        rule: &HermiteRule,
        nodes: &mut [Node],
    ) -> StudyTerms {
        let mut at = self.study(arms, state, beta, tau, rule, nodes);
        for _ in 0..MAX_STUDY_ITERATIONS {
            let step = if at.curvature < 0.0 {
                -at.gradient[0] / at.curvature
            } else {
                at.gradient[0].signum()
            };
            if step.abs() <= 1e-10 * state.alpha.abs().max(1.0) {
                break;
            }
            let start = *state;
            let mut t = 1.0;
            loop {
                state.alpha = start.alpha + t * step;
                let next = self.study(arms, state, beta, tau, rule, nodes);
                if next.value >= at.value - 1e-14 * at.value.abs() || t < 1e-8 {
                    at = next;
                    break;
                }
                *state = start;
                t *= 0.5;
            }
        }
        at
    }

    /// The log-likelihood at (β, log τ) with each α maximised (constants
    /// excluded), starting from and updating `states`, and its gradient: at
    /// the maximum in α, the partial derivatives in β and log τ.
    fn profile(
        &self,
        beta: f64,
        tau: f64,
        rule: &HermiteRule,
        states: &mut [StudyState],
    ) -> (f64, Vec<f64>) {
        let nodes = || vec![Node::default(); rule.nodes.len()];
        let terms = crate::parallel::map_mut_with(states, nodes, |nodes, i, state| {
            self.maximised_study(&self.arms[i], state, beta, tau, rule, nodes)
        });
        let mut total = (0.0, vec![0.0, 0.0]);
        for t in terms {
            total.0 += t.value;
            total.1[0] += t.gradient[1];
            total.1[1] += t.gradient[2];
        }
        total
    }

    /// The score of τ² at τ² = 0 given the common fit: ½ Σ (g'' + g'²) with
    /// g the study's log-likelihood as a function of u.
    fn score_at_zero(&self, common: &CommonFit) -> f64 {
        (self.arms.iter().zip(&common.study_effects))
            .map(|(arms, alpha)| {
                let (_, g1, h1) = FAMILY.terms(&arms.treated, alpha + common.beta);
                let (_, g2, h2) = FAMILY.terms(&arms.control, *alpha);
                let (d1, d2) = (0.5 * (g1 - g2), 0.25 * (h1 + h2));
                0.5 * (d2 + d1 * d1)
            })
            .sum()
    }
}

impl Likelihood for FixedStudy<'_> {
    /// Logistic regression with a parameter per study, by Newton's method on
    /// β's profile (concave).
    fn common(&self) -> Result<CommonFit> {
        self.check_finite()?;
        let mut alphas: Vec<f64> = (self.arms.iter())
            .map(|a| {
                let p = (a.control.events + 0.5) / (a.control.trials + 1.0);
                (p / (1.0 - p)).ln()
            })
            .collect();
        let (beta, (ll, _, d2)) = maximise_concave(|b| self.common_profile(b, &mut alphas), 0.0);
        Ok(CommonFit {
            beta,
            variance: -1.0 / d2,
            log_likelihood: ll + self.constant(),
            study_effects: alphas,
        })
    }

    /// The saturated model has a log odds ratio per study: its own table's,
    /// with Woolf's variance (none for a table with a zero cell, whose own
    /// estimate is infinite).
    fn saturated_tests(&self, common: &CommonFit) -> SaturatedTests {
        let saturated: f64 = (self.arms.iter())
            .map(|a| {
                FAMILY.saturated_log_likelihood(&a.treated)
                    + FAMILY.saturated_log_likelihood(&a.control)
            })
            .sum::<f64>()
            + self.constant();
        let estimates = self.arms.iter().map(|a| {
            let (e1, i1) = FAMILY.saturated(&a.treated)?;
            let (e2, i2) = FAMILY.saturated(&a.control)?;
            Some((e1 - e2, 1.0 / (1.0 / i1 + 1.0 / i2)))
        });
        SaturatedTests::new(self.arms.len(), saturated, common, estimates)
    }

    fn random(&self, common: &CommonFit, points: usize) -> Result<RandomFit> {
        if self.score_at_zero(common) <= 0.0 {
            return Ok(common.into());
        }
        let rule = HermiteRule::new(points);
        let states: Vec<StudyState> = (common.study_effects.iter())
            .map(|&alpha| StudyState { alpha, mode: 0.0 })
            .collect();
        let states = std::cell::RefCell::new(states);
        let objective = |p: &[f64]| self.profile(p[0], p[1].exp(), &rule, &mut states.borrow_mut());
        let max = maximise_with_gradient(&objective, vec![common.beta, 0.5f64.ln()]);
        random_fit(&max, self.constant())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arms(a: f64, n1: f64, c: f64, n2: f64) -> Arms {
        let count = |events, trials| Count {
            family: Family::Binomial,
            events,
            trials,
            offset: 0.0,
        };
        Arms {
            treated: count(a, n1),
            control: count(c, n2),
        }
    }

    /// The derivatives are those of the quadrature itself (nodes moving with
    /// the parameters), which central differences of the value confirm.
    #[test]
    fn the_study_gradient_is_the_quadratures_own() {
        let rule = HermiteRule::new(7);
        let tables = [arms(0.0, 12.0, 5.0, 14.0), arms(9.0, 30.0, 2.0, 31.0)];
        let model = FixedStudy { arms: &tables };
        let mut nodes = vec![Node::default(); 7];
        for a in &tables {
            for at in [[-1.0, 0.3, 0.8], [0.4, -1.2, 2.5], [-2.0, 0.0, 0.2]] {
                let mut terms_at = |p: [f64; 3]| {
                    let mut state = StudyState {
                        alpha: p[0],
                        mode: 0.0,
                    };
                    model.study(a, &mut state, p[1], p[2].exp(), &rule, &mut nodes)
                };
                let exact = terms_at(at).gradient;
                for (t, exact) in exact.iter().enumerate() {
                    let h = 1e-5;
                    let (mut up, mut down) = (at, at);
                    up[t] += h;
                    down[t] -= h;
                    let numeric = (terms_at(up).value - terms_at(down).value) / (2.0 * h);
                    assert!(
                        (numeric - exact).abs() < 1e-8 * exact.abs().max(1.0),
                        "parameter {t} at {at:?}: {numeric} vs {exact}"
                    );
                }
            }
        }
    }
}
