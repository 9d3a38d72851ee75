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

/// A quadrature node's share of the integral and the data's slope ℓ'(u) there.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Node {
    pub share: f64,
    pub slope: f64,
}

/// What [`HermiteRule::adaptive`] keeps of its nodes.
#[derive(Debug)]
pub(crate) enum Record<'a> {
    /// Each node's share of the integral.
    Shares(&'a mut [Node]),
    /// Each node's share and the data's slope there.
    SharesAndSlopes(&'a mut [Node]),
}

/// One study's integral over its random effect u ~ N(0, 1/precision) by
/// adaptive Gauss–Hermite quadrature: the rule centred at the mode of the
/// integrand and scaled by its curvature there, as lme4's `glmer(nAGQ = n)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Adaptive {
    /// The log of the integral, the normal density's constant included.
    pub log_integral: f64,
    /// The mode of the integrand.
    pub mode: f64,
    /// The nodes are at mode + scale · z.
    pub scale: f64,
    /// The integrand's curvature at the mode (−d² log/du²).
    pub curvature: f64,
}

impl HermiteRule {
    /// Integrates exp(ℓ(u)) N(u; 0, 1/precision) du, where `data(u)` gives ℓ
    /// and its first two derivatives, `value(u)` ℓ alone (cheaper, at the
    /// nodes), and ℓ is concave. The search for the mode starts at `start`.
    /// `record` says what to keep of the nodes for the gradient.
    pub fn adaptive(
        &self,
        data: impl Fn(f64) -> (f64, f64, f64),
        value: impl Fn(f64) -> f64,
        precision: f64,
        start: f64,
        record: Record<'_>,
    ) -> Adaptive {
        let h = |u: f64| value(u) - 0.5 * precision * u * u;
        let mut u = start;
        let mut curvature;
        let mut iterations = 0;
        loop {
            let (_, d1, d2) = data(u);
            curvature = precision - d2;
            let step = (d1 - precision * u) / curvature;
            // The integrand is log-concave; far from the mode a Newton step
            // can overshoot, so a long one is halved until it climbs.
            let mut t = 1.0;
            if step.abs() > 0.5 {
                let at = h(u);
                while h(u + t * step) < at && t > 1e-8 {
                    t *= 0.5;
                }
            }
            u += t * step;
            iterations += 1;
            if (t * step).abs() <= 1e-13 * u.abs().max(1.0) || iterations == 100 {
                break;
            }
        }
        let scale = std::f64::consts::SQRT_2 / curvature.sqrt();
        let peak = h(u);
        let mut sum = 0.0;
        let (nodes, slopes) = match record {
            Record::Shares(nodes) => (nodes, false),
            Record::SharesAndSlopes(nodes) => (nodes, true),
        };
        for ((z, w), node) in self.nodes.iter().zip(&self.weights).zip(nodes.iter_mut()) {
            let at = u + scale * z;
            let l = if slopes {
                let (l, slope, _) = data(at);
                node.slope = slope;
                l
            } else {
                value(at)
            };
            node.share = w * (z * z + l - 0.5 * precision * at * at - peak).exp();
            sum += node.share;
        }
        for node in nodes.iter_mut() {
            node.share /= sum;
        }
        Adaptive {
            log_integral: peak + (scale * sum).ln()
                - 0.5 * (2.0 * std::f64::consts::PI / precision).ln(),
            mode: u,
            scale,
            curvature,
        }
    }
}

/// How the log of an adaptive quadrature moves with a parameter θ, through
/// the data and through its nodes, which follow the mode û and the curvature
/// c = −g''(û) of the integrand's log g (prior included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slope {
    /// ∂g_u/∂θ at the mode.
    pub g_u: f64,
    /// ∂g_uu/∂θ at the mode.
    pub g_uu: f64,
    /// The derivative of the normal density's constant (½ log p − ½ log 2π).
    pub constant: f64,
}

impl HermiteRule {
    /// The exact derivatives of `integral`'s log in N parameters, given
    /// g_uuu at the mode, each parameter's [`Slope`], and at each node u
    /// (given the node) g_u(u) and each ∂g/∂θ(u). For θ:
    /// û' = g_uθ / c, c' = −(g_uuu û' + g_uuθ), s' = −s c' / 2c, and
    /// d log I/dθ = constant' − c'/2c + Σⱼ pⱼ [g_θ(uⱼ) + g_u(uⱼ) (û' + s' zⱼ)].
    pub fn gradient<const N: usize>(
        &self,
        integral: &Adaptive,
        nodes: &[Node],
        g_uuu: f64,
        slopes: [Slope; N],
        mut at_node: impl FnMut(f64, &Node) -> (f64, [f64; N]),
    ) -> [f64; N] {
        let c = integral.curvature;
        let mut gradient = [0.0; N];
        let mut mode_slope = [0.0; N];
        let mut scale_slope = [0.0; N];
        for t in 0..N {
            mode_slope[t] = slopes[t].g_u / c;
            let curvature_slope = -(g_uuu * mode_slope[t] + slopes[t].g_uu);
            gradient[t] = slopes[t].constant - 0.5 * curvature_slope / c;
            scale_slope[t] = -0.5 * curvature_slope / c * integral.scale;
        }
        for (z, node) in self.nodes.iter().zip(nodes) {
            let u = integral.mode + integral.scale * z;
            let (g_u, g_theta) = at_node(u, node);
            for t in 0..N {
                gradient[t] +=
                    node.share * (g_theta[t] + g_u * (mode_slope[t] + scale_slope[t] * z));
            }
        }
        gradient
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
