//! Gauss–Hermite rules: nodes and weights for ∫ f(z) e^(−z²) dz.

use std::f64::consts::PI;

/// A Gauss–Hermite rule of `n` points.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HermiteRule {
    pub nodes: Vec<f64>,
    pub weights: Vec<f64>,
}

impl HermiteRule {
    /// The rule of `points` nodes (1 is the Laplace approximation's single node).
    ///
    /// The roots of the orthonormal Hermite polynomial are bracketed on a grid
    /// finer than their smallest spacing and refined by Newton's method; the
    /// weights follow from the derivative at each root.
    pub fn new(points: usize) -> Self {
        assert!((1..=100).contains(&points), "1 to 100 quadrature points");
        let n = points;
        let reach = (2.0 * n as f64 + 1.0).sqrt() + 1.0;
        // Adjacent roots are at least ~π/√(2n+1) apart.
        let step = PI / (2.0 * n as f64 + 1.0).sqrt() / 16.0;
        let mut nodes = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        let mut x = -reach;
        let mut previous = hermite(n, x).0;
        while x < reach && nodes.len() < n {
            let next = x + step;
            let value = hermite(n, next).0;
            if value == 0.0 || previous.signum() != value.signum() {
                let root = refine(n, x, next);
                let derivative = hermite(n, root).1;
                nodes.push(root);
                weights.push(2.0 / (derivative * derivative));
            }
            previous = value;
            x = next;
        }
        debug_assert_eq!(nodes.len(), n);
        HermiteRule { nodes, weights }
    }
}

/// The orthonormal Hermite polynomial of degree `n` at `x` and its derivative.
fn hermite(n: usize, x: f64) -> (f64, f64) {
    let mut p_prev = 0.0;
    let mut p = PI.powf(-0.25);
    for j in 1..=n {
        let jf = j as f64;
        let next = x * (2.0 / jf).sqrt() * p - ((jf - 1.0) / jf).sqrt() * p_prev;
        p_prev = p;
        p = next;
    }
    (p, (2.0 * n as f64).sqrt() * p_prev)
}

/// The root of the degree-`n` polynomial in [lo, hi]: Newton's method kept
/// inside the bracket, bisection when a step would leave it.
fn refine(n: usize, mut lo: f64, mut hi: f64) -> f64 {
    let sign_lo = hermite(n, lo).0.signum();
    let mut x = 0.5 * (lo + hi);
    for _ in 0..100 {
        let (value, derivative) = hermite(n, x);
        if value == 0.0 {
            return x;
        }
        if value.signum() == sign_lo {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - value / derivative;
        let next = if newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 4.0 * f64::EPSILON * x.abs().max(1.0) {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule integrates z^(2j) e^(−z²) exactly for 2j < 2n: Γ(j + ½).
    #[test]
    fn moments_are_exact() {
        for n in [1, 2, 7, 20, 40] {
            let rule = HermiteRule::new(n);
            assert_eq!(rule.nodes.len(), n);
            let mut expected = PI.sqrt(); // Γ(½)
            for j in 0..n {
                let moment: f64 = (rule.nodes.iter().zip(&rule.weights))
                    .map(|(z, w)| w * z.powi(2 * j as i32))
                    .sum();
                assert!(
                    (moment - expected).abs() <= 1e-12 * expected,
                    "n = {n}, moment {}: {moment} vs {expected}",
                    2 * j
                );
                expected *= j as f64 + 0.5;
            }
            let odd: f64 = (rule.nodes.iter().zip(&rule.weights))
                .map(|(z, w)| w * z)
                .sum();
            assert!(odd.abs() < 1e-13);
        }
    }
}
