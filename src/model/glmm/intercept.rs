//! One count per study with a normal random intercept: the binomial-normal
//! model of proportions (PLO), the Poisson-normal model of rates (IRLN), and
//! the conditional binomial models of odds ratios (CM.AL: events of group 1
//! among all events, offset log(n₁/n₂)) and rate ratios (offset log(t₁/t₂)).
//!
//! η = offset + β + u, u ~ N(0, τ²). The common-effect model is the GLM
//! (u = 0); the random-effects likelihood integrates u out per study by
//! adaptive Gauss–Hermite quadrature centred at the mode of the integrand and
//! scaled by its curvature there, as lme4's `glmer(nAGQ = n)` does.

use super::family::{Bound, Outcome};
use super::likelihood::{CommonFit, Likelihood, RandomFit, SaturatedTests, random_fit};
use super::newton::{maximise_concave, maximise_with_gradient};
use super::quadrature::{HermiteRule, Node, Record, Slope};
use crate::error::{ErrorKind, Result};

/// The studies' outcomes of a random-intercept model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RandomIntercept<'a, O> {
    pub counts: &'a [O],
}

impl<O: Outcome> RandomIntercept<'_, O> {
    fn eta(&self, c: &O, beta: f64) -> f64 {
        c.offset() + beta
    }

    fn constant(&self) -> f64 {
        self.counts.iter().map(|c| c.constant()).sum()
    }

    /// The GLM's log-likelihood at β without constants, with its first two derivatives.
    fn common_terms(&self, beta: f64) -> (f64, f64, f64) {
        self.counts.iter().fold((0.0, 0.0, 0.0), |(l, d1, d2), c| {
            let (a, b, h) = c.terms(self.eta(c, beta));
            (l + a, d1 + b, d2 + h)
        })
    }

    /// One study's log-likelihood with u integrated out (constant excluded)
    /// and its exact gradient in (β, log τ), starting the search for the mode
    /// at `mode` and leaving it there.
    fn integrated(
        &self,
        c: &O,
        beta: f64,
        tau: f64,
        rule: &HermiteRule,
        mode: &mut f64,
        nodes: &mut [Node],
    ) -> (f64, [f64; 2]) {
        let base = self.eta(c, beta);
        let p = 1.0 / (tau * tau);
        let data = |u: f64| c.terms(base + u);
        let value = |u: f64| c.log_likelihood(base + u);
        let integral = rule.adaptive(data, value, p, *mode, Record::SharesAndSlopes(nodes));
        *mode = integral.mode;
        // The curvature is p − ℓ'' at the mode.
        let (h, t) = (p - integral.curvature, c.third(base + integral.mode));
        let slopes = [
            Slope {
                g_u: h,
                g_uu: t,
                constant: 0.0,
            },
            Slope {
                g_u: 2.0 * p * integral.mode,
                g_uu: 2.0 * p,
                constant: -1.0,
            },
        ];
        let gradient = rule.gradient(&integral, nodes, t, slopes, |u, node| {
            (node.slope - p * u, [node.slope, p * u * u])
        });
        (integral.log_integral, gradient)
    }

    /// The quadrature log-likelihood at (β, τ), constants excluded, and its
    /// gradient in (β, log τ). `modes` holds each study's mode from the last
    /// call: the next search starts there (it converges to the same point
    /// from anywhere, in fewer steps).
    fn marginal(
        &self,
        beta: f64,
        tau: f64,
        rule: &HermiteRule,
        modes: &mut [f64],
    ) -> (f64, Vec<f64>) {
        let nodes = || vec![Node::default(); rule.nodes.len()];
        let studies = crate::parallel::map_mut_with(modes, nodes, |nodes, i, mode| {
            self.integrated(&self.counts[i], beta, tau, rule, mode, nodes)
        });
        let mut total = (0.0, vec![0.0, 0.0]);
        for (value, gradient) in studies {
            total.0 += value;
            total.1[0] += gradient[0];
            total.1[1] += gradient[1];
        }
        total
    }

    /// The score of τ² at τ² = 0 given β: ½ Σ (ℓ'' + ℓ'²). At most 0 at the
    /// common-effect estimate, the likelihood falls as τ² leaves 0.
    fn score_at_zero(&self, beta: f64) -> f64 {
        self.counts
            .iter()
            .map(|c| {
                let (_, d1, d2) = c.terms(self.eta(c, beta));
                0.5 * (d2 + d1 * d1)
            })
            .sum()
    }
}

impl<O: Outcome> Likelihood for RandomIntercept<'_, O> {
    /// The common-effect fit by Newton's method (the log-likelihood is concave);
    /// an error when every study's count sits at the same bound (no events,
    /// or only events): then the estimate is infinite.
    fn common(&self) -> Result<CommonFit> {
        for bound in [Bound::Lower, Bound::Upper] {
            if self.counts.iter().all(|c| c.bound() == Some(bound)) {
                return Err(ErrorKind::InvalidValue(format!(
                    "{}: the pooled estimate is infinite and cannot be estimated",
                    O::all_at(bound)
                ))
                .into());
            }
        }
        let (beta, (ll, _, d2)) = maximise_concave(|b| self.common_terms(b), 0.0);
        Ok(CommonFit {
            beta,
            variance: -1.0 / d2,
            log_likelihood: ll + self.constant(),
            study_effects: Vec::new(),
        })
    }

    /// The Wald and likelihood-ratio tests of the saturated model. A study with
    /// no events (or only events) has an infinite estimate of its own: it adds
    /// nothing to the likelihood ratio and carries no weight in the Wald test,
    /// the limits glm() approaches as its iterations go on.
    fn saturated_tests(&self, common: &CommonFit) -> SaturatedTests {
        let saturated: f64 = self
            .counts
            .iter()
            .map(|c| c.saturated_log_likelihood())
            .sum::<f64>()
            + self.constant();
        let estimates = self.counts.iter().map(|c| {
            c.saturated()
                .map(|(eta, weight)| (eta - c.offset(), weight))
        });
        SaturatedTests::new(self.counts.len(), saturated, common, estimates)
    }

    /// The maximum-likelihood random-effects fit with `points` quadrature
    /// nodes (1: the Laplace approximation).
    fn random(&self, common: &CommonFit, points: usize) -> Result<RandomFit> {
        if self.score_at_zero(common.beta) <= 0.0 {
            return Ok(common.into());
        }
        let rule = HermiteRule::new(points);
        // Parameters β and log τ: unbounded, and near-quadratic in both.
        let modes = std::cell::RefCell::new(vec![0.0; self.counts.len()]);
        let objective = |p: &[f64]| self.marginal(p[0], p[1].exp(), &rule, &mut modes.borrow_mut());
        let max = maximise_with_gradient(&objective, vec![common.beta, 0.5f64.ln()]);
        random_fit(&max, self.constant())
    }
}
