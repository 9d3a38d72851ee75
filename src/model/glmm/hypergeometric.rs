//! Fisher's non-central hypergeometric distribution: given a 2×2 table's
//! margins, the probability of its events in group 1 as a function of the log
//! odds ratio θ. It is the exact conditional likelihood of CM.EL, free of the
//! groups' baseline risks.
//!
//! With x the events in group 1 and m₁ all events, P(x) ∝ C(n₁, x) C(n₂, m₁ − x) e^(xθ)
//! on max(0, m₁ − n₂) ≤ x ≤ min(n₁, m₁): an exponential family in θ, so the
//! log-likelihood's derivatives are the cumulants of x.

use super::family::{Bound, Outcome};

/// Terms below this (on the log scale, against the largest) add less than
/// 1e-19 each to the normalising sum.
const NEGLIGIBLE: f64 = -44.0;

/// The possible counts of all tables together that CM.EL tabulates (8 bytes
/// each): beyond them, tables of millions of events would take gigabytes.
pub(crate) const MAX_SUPPORT: f64 = 2e7;

/// How many counts of group 1 a table's margins allow.
pub(crate) fn support(a: f64, n1: f64, c: f64, n2: f64) -> f64 {
    let m1 = a + c;
    n1.min(m1) - (m1 - n2).max(0.0) + 1.0
}

/// One table's events in group 1 given its margins.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hypergeometric {
    /// The events in group 1, counted from the smallest possible number.
    events: usize,
    /// log C(n₁, x) C(n₂, m₁ − x) relative to its value at the smallest x,
    /// for every possible x.
    log_weights: Vec<f64>,
}

impl Hypergeometric {
    /// The table of `a` events of `n1` in group 1 and `c` of `n2` in group 2
    /// (whole numbers).
    pub fn new(a: f64, n1: f64, c: f64, n2: f64) -> Self {
        let m1 = a + c;
        let lowest = (m1 - n2).max(0.0);
        let highest = n1.min(m1);
        let mut log_weights = vec![0.0];
        let mut x = lowest;
        while x < highest {
            // C(n₁, x+1) C(n₂, m₁−x−1) / C(n₁, x) C(n₂, m₁−x)
            let ratio = (n1 - x) * (m1 - x) / ((x + 1.0) * (n2 - m1 + x + 1.0));
            log_weights.push(log_weights.last().unwrap() + ratio.ln());
            x += 1.0;
        }
        Hypergeometric {
            events: (a - lowest) as usize,
            log_weights,
        }
    }

    /// log Σₓ w(x) e^((x − a)θ), and the mean (relative to a), variance and
    /// third central moment of x.
    fn cumulants(&self, theta: f64) -> (f64, f64, f64, f64) {
        let w = &self.log_weights;
        let term = |j: usize| w[j] + (j as f64 - self.events as f64) * theta;
        // The terms are log-concave in x: the largest is where the ratio of
        // neighbours falls below 1.
        let (mut lo, mut hi) = (0, w.len() - 1);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if w[mid + 1] - w[mid] + theta > 0.0 {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let mode = lo;
        let peak = term(mode);
        let (mut s0, mut s1, mut s2, mut s3) = (1.0, 0.0, 0.0, 0.0);
        let mut add = |j: usize| {
            let t = term(j) - peak;
            if t < NEGLIGIBLE {
                return false;
            }
            let (e, d) = (t.exp(), j as f64 - mode as f64);
            s0 += e;
            s1 += e * d;
            s2 += e * d * d;
            s3 += e * d * d * d;
            true
        };
        for j in (0..mode).rev() {
            if !add(j) {
                break;
            }
        }
        for j in mode + 1..w.len() {
            if !add(j) {
                break;
            }
        }
        let (m1, m2, m3) = (s1 / s0, s2 / s0, s3 / s0);
        (
            peak + s0.ln(),
            mode as f64 - self.events as f64 + m1,
            (m2 - m1 * m1).max(0.0),
            m3 - 3.0 * m1 * m2 + 2.0 * m1 * m1 * m1,
        )
    }
}

impl Outcome for Hypergeometric {
    fn offset(&self) -> f64 {
        0.0
    }

    fn terms(&self, theta: f64) -> (f64, f64, f64) {
        let (log_sum, mean, variance, _) = self.cumulants(theta);
        (self.log_weights[self.events] - log_sum, -mean, -variance)
    }

    fn third(&self, theta: f64) -> f64 {
        -self.cumulants(theta).3
    }

    /// The distribution is normalised: no constant.
    fn constant(&self) -> f64 {
        0.0
    }

    /// The conditional maximum-likelihood log odds ratio, where the mean of x
    /// is the table's count, by Newton's method (the log-likelihood is concave).
    fn saturated(&self) -> Option<(f64, f64)> {
        if self.bound().is_some() {
            return None;
        }
        let mut theta = 0.0;
        for _ in 0..200 {
            let (_, d1, d2) = self.terms(theta);
            // Steps of at most 2: far out the curvature is tiny.
            let step = (-d1 / d2).clamp(-2.0, 2.0);
            theta += step;
            if step.abs() <= 1e-14 * theta.abs().max(1.0) {
                break;
            }
        }
        Some((theta, -self.terms(theta).2))
    }

    fn bound(&self) -> Option<Bound> {
        if self.events == 0 {
            Some(Bound::Lower)
        } else if self.events == self.log_weights.len() - 1 {
            Some(Bound::Upper)
        } else {
            None
        }
    }

    fn all_at(bound: Bound) -> &'static str {
        match bound {
            Bound::Lower => "every table has the fewest events in group 1 its margins allow",
            Bound::Upper => "every table has the most events in group 1 its margins allow",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::function::gamma::ln_gamma;

    fn ln_choose(n: f64, k: f64) -> f64 {
        ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
    }

    /// The log-likelihood and its derivatives against the sums written out
    /// (every term, from the binomial coefficients).
    #[test]
    fn agrees_with_the_distribution_written_out() {
        for (a, n1, c, n2) in [
            (3.0, 20.0, 9.0, 22.0),
            (0.0, 5.0, 4.0, 6.0),
            (29.0, 300.0, 45.0, 310.0),
        ] {
            let table = Hypergeometric::new(a, n1, c, n2);
            let m1 = a + c;
            for theta in [-3.0, -0.4, 0.0, 1.7] {
                let xs: Vec<f64> = (0..=m1 as usize)
                    .map(|x| x as f64)
                    .filter(|&x| x <= n1 && m1 - x <= n2)
                    .collect();
                let log_terms: Vec<f64> = (xs.iter())
                    .map(|&x| ln_choose(n1, x) + ln_choose(n2, m1 - x) + x * theta)
                    .collect();
                let top = log_terms.iter().cloned().fold(f64::MIN, f64::max);
                let sum: f64 = log_terms.iter().map(|t| (t - top).exp()).sum();
                let p: Vec<f64> = log_terms.iter().map(|t| (t - top).exp() / sum).collect();
                let mean: f64 = xs.iter().zip(&p).map(|(x, p)| x * p).sum();
                let var: f64 = xs.iter().zip(&p).map(|(x, p)| (x - mean).powi(2) * p).sum();
                let skew: f64 = xs.iter().zip(&p).map(|(x, p)| (x - mean).powi(3) * p).sum();
                let ll = ln_choose(n1, a) + ln_choose(n2, c) + a * theta - top - sum.ln();
                let (l, d1, d2) = table.terms(theta);
                assert!((l - ll).abs() < 1e-10 * ll.abs().max(1.0), "{l} vs {ll}");
                assert!((d1 - (a - mean)).abs() < 1e-10 * mean.max(1.0));
                assert!((d2 + var).abs() < 1e-10 * var.max(1.0));
                let third = table.third(theta);
                assert!(
                    (third + skew).abs() < 1e-9 * var.max(1.0),
                    "{third} vs {skew}"
                );
            }
        }
    }
}
