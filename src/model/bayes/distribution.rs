//! One-dimensional posterior distributions and what is read off them:
//! quantiles, modes, central and shortest intervals. The heterogeneity's
//! posterior is a density known on a quadrature; the effect's, the predictive's
//! and each study's shrunken effect are mixtures of normals over the same
//! quadrature nodes.

use serde::Serialize;
use statrs::function::erf::erfc;

use crate::error::{ErrorKind, Result};
use crate::model::root::brent;

/// What a posterior (or predictive) distribution is summarised by.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Marginal {
    /// The posterior mode (the maximum of the marginal density).
    pub mode: f64,
    /// The posterior median.
    pub median: f64,
    /// The posterior mean; `None` where it is infinite (heavy-tailed priors
    /// with few studies).
    pub mean: Option<f64>,
    /// The posterior standard deviation; `None` where it is infinite.
    pub sd: Option<f64>,
    /// The equal-tailed interval at the analysis's level.
    pub central: [f64; 2],
    /// The shortest interval at the analysis's level.
    pub shortest: [f64; 2],
}

/// A continuous distribution on [`lower`](Self::lower), ∞) or the real line.
pub(crate) trait Continuous {
    fn cdf(&self, x: f64) -> f64;
    /// P(X > x), accurate in the upper tail.
    fn upper_tail(&self, x: f64) -> f64 {
        1.0 - self.cdf(x)
    }
    fn density(&self, x: f64) -> f64;
    fn mean(&self) -> f64;
    fn sd(&self) -> f64;
    /// The lower end of the support (−∞ for the real line).
    fn lower(&self) -> f64 {
        f64::NEG_INFINITY
    }
    fn mode(&self) -> f64;

    /// The CDF and the density at `x` together (one pass for a mixture).
    fn cdf_density(&self, x: f64) -> (f64, f64) {
        (self.cdf(x), self.density(x))
    }

    /// The derivative of the density (for the shortest interval).
    fn density_slope(&self, x: f64) -> f64;

    /// The `p` quantile: Newton's method from the normal approximation,
    /// within a bracket that bisection takes over when a step leaves it.
    fn quantile(&self, p: f64) -> Result<f64> {
        let scale = self.sd();
        let z = crate::stats::standard_normal_quantile(p);
        let mut x = (self.mean() + z * scale).max(self.lower());
        let (mut lo, mut hi) = (self.lower(), f64::INFINITY);
        let mut reach = scale;
        for _ in 0..300 {
            let (cdf, density) = self.cdf_density(x);
            let gap = cdf - p;
            if gap < 0.0 {
                lo = x;
            } else {
                hi = x;
            }
            let newton = x - gap / density;
            // Until the root is bracketed, a step (from a density near 0, say)
            // goes no further than the current reach.
            let bracketed = lo.is_finite() && hi.is_finite();
            let next = if density > 0.0
                && newton > lo
                && newton < hi
                && (bracketed || (newton - x).abs() <= reach)
            {
                newton
            } else if hi.is_finite() && lo.is_finite() {
                0.5 * (lo + hi)
            } else if hi.is_finite() {
                reach *= 2.0;
                (x - reach).max(self.lower())
            } else {
                reach *= 2.0;
                x + reach
            };
            if !next.is_finite() {
                return Err(no_quantile(p));
            }
            let tolerance = 1e-11 * (next.abs() + scale);
            if (next - x).abs() <= tolerance || hi - lo <= tolerance {
                return Ok(next);
            }
            x = next;
        }
        Ok(x)
    }

    /// The shortest interval holding `level` of the probability: for a
    /// unimodal density the ends of equal density, by Newton's method on
    /// F(b) − F(a) = level, p(a) = p(b) from the central interval, or the
    /// interval from the lower end of the support when the density is highest there.
    fn shortest(&self, level: f64, central: [f64; 2]) -> Result<[f64; 2]> {
        if !self.lower().is_finite() {
            return self.equal_density(level, central);
        }
        // On [lower, ∞) the interval from the lower end competes (a density
        // highest there, or a second mode at it). With two modes (a spike at
        // τ = 0 beside a broad bump) neither need be shorter than the central
        // interval, which holds the same probability: the shortest of the three.
        let from_lower = [self.lower(), self.quantile(level)?];
        let inner = self.equal_density(level, central)?;
        let width = |i: &[f64; 2]| i[1] - i[0];
        Ok([from_lower, inner, central]
            .into_iter()
            .min_by(|x, y| width(x).total_cmp(&width(y)))
            .expect("three candidates"))
    }

    /// The interval whose ends have equal density, by Newton's method on
    /// F(b) − F(a) = level, p(a) = p(b) from the central interval.
    fn equal_density(&self, level: f64, central: [f64; 2]) -> Result<[f64; 2]> {
        let scale = self.sd();
        let [mut a, mut b] = central;
        for _ in 0..50 {
            let (fa, pa) = self.cdf_density(a);
            let (fb, pb) = self.cdf_density(b);
            let (sa, sb) = (self.density_slope(a), self.density_slope(b));
            let (r1, r2) = (fb - fa - level, pa - pb);
            // Jacobian [[−p(a), p(b)], [p'(a), −p'(b)]].
            let det = pa * sb - pb * sa;
            if !(det.is_finite() && det != 0.0) {
                break;
            }
            // Cramer's rule for J (da, db) = (r1, r2).
            let (mut da, mut db) = ((-sb * r1 - pb * r2) / det, (-pa * r2 - sa * r1) / det);
            // Damped: a step that leaves the support or crosses the ends is halved.
            let mut halvings = 0;
            while (a - da < self.lower() || a - da >= b - db) && halvings < 40 {
                da /= 2.0;
                db /= 2.0;
                halvings += 1;
            }
            if halvings == 40 || da.is_nan() || db.is_nan() {
                break;
            }
            (a, b) = (a - da, b - db);
            // Only a full Newton step is evidence of convergence: a damped
            // one can stall against the lower end of the support.
            if halvings == 0 && da.abs().max(db.abs()) <= 1e-11 * (a.abs() + b.abs() + scale) {
                return Ok([a, b]);
            }
        }
        self.shortest_by_bisection(level)
    }

    /// The shortest interval by Brent's method on the probability below it.
    fn shortest_by_bisection(&self, level: f64) -> Result<[f64; 2]> {
        let ends =
            |p: f64| -> Result<(f64, f64)> { Ok((self.quantile(p)?, self.quantile(p + level)?)) };
        let gap = |p: f64| -> f64 {
            match ends(p) {
                Ok((a, b)) => self.density(a) - self.density(b),
                Err(_) => f64::NAN,
            }
        };
        let rest = 1.0 - level;
        let lo = rest * 1e-9;
        let hi = rest * (1.0 - 1e-9);
        let (g_lo, g_hi) = (gap(lo), gap(hi));
        let p = if g_lo < 0.0 && g_hi > 0.0 {
            brent(&gap, (lo, g_lo), (hi, g_hi))?
        } else if g_lo >= 0.0 {
            lo
        } else {
            hi
        };
        let (a, b) = ends(p)?;
        Ok([a, b])
    }

    fn summary(&self, level: f64) -> Result<Marginal> {
        let tail = (1.0 - level) / 2.0;
        let central = [self.quantile(tail)?, self.quantile(1.0 - tail)?];
        Ok(Marginal {
            mode: self.mode(),
            median: self.quantile(0.5)?,
            mean: Some(self.mean()),
            sd: Some(self.sd()),
            central,
            shortest: self.shortest(level, central)?,
        })
    }
}

fn no_quantile(p: f64) -> crate::Error {
    ErrorKind::Numerical(format!("the posterior's {p} quantile is not finite")).into()
}

/// Φ(z), accurate in the lower tail.
pub(crate) fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// φ(z).
pub(crate) fn normal_density(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Σ wⱼ N(mⱼ, sⱼ²) with Σ wⱼ = 1.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mixture {
    pub(crate) weights: Vec<f64>,
    pub(crate) means: Vec<f64>,
    pub(crate) sds: Vec<f64>,
}

impl Mixture {
    fn components(&self) -> impl Iterator<Item = (f64, f64, f64)> + '_ {
        self.weights
            .iter()
            .zip(&self.means)
            .zip(&self.sds)
            .map(|((&w, &m), &s)| (w, m, s))
    }

    /// The derivative of the density, for the mode.
    fn slope(&self, x: f64) -> (f64, f64) {
        self.components().fold((0.0, 0.0), |(d1, d2), (w, m, s)| {
            let z = (x - m) / s;
            let phi = w * normal_density(z) / s;
            (d1 - phi * z / s, d2 + phi * (z * z - 1.0) / (s * s))
        })
    }
}

impl Continuous for Mixture {
    fn cdf(&self, x: f64) -> f64 {
        self.components()
            .map(|(w, m, s)| w * normal_cdf((x - m) / s))
            .sum()
    }

    fn upper_tail(&self, x: f64) -> f64 {
        self.components()
            .map(|(w, m, s)| w * normal_cdf((m - x) / s))
            .sum()
    }

    fn density(&self, x: f64) -> f64 {
        self.components()
            .map(|(w, m, s)| w * normal_density((x - m) / s) / s)
            .sum()
    }

    fn cdf_density(&self, x: f64) -> (f64, f64) {
        self.components()
            .fold((0.0, 0.0), |(cdf, density), (w, m, s)| {
                let z = (x - m) / s;
                (cdf + w * normal_cdf(z), density + w * normal_density(z) / s)
            })
    }

    fn density_slope(&self, x: f64) -> f64 {
        self.slope(x).0
    }

    fn mean(&self) -> f64 {
        self.components().map(|(w, m, _)| w * m).sum()
    }

    fn sd(&self) -> f64 {
        let mean = self.mean();
        let second: f64 = self
            .components()
            .map(|(w, m, s)| w * (s * s + (m - mean).powi(2)))
            .sum();
        second.sqrt()
    }

    /// Newton's method on the density's slope from the mean, kept within
    /// three SDs of it (golden-section search where the density is not concave).
    fn mode(&self) -> f64 {
        let (mean, sd) = (self.mean(), self.sd());
        let (lo, hi) = (mean - 3.0 * sd, mean + 3.0 * sd);
        let mut x = mean;
        for _ in 0..100 {
            let (d1, d2) = self.slope(x);
            let step = if d2 < 0.0 { d1 / d2 } else { f64::NAN };
            let next = if (x - step) > lo && (x - step) < hi {
                x - step
            } else {
                return golden_peak(|t| self.density(t), lo, hi);
            };
            if (next - x).abs() <= 1e-14 * (x.abs() + sd) {
                return next;
            }
            x = next;
        }
        x
    }
}

/// The maximum of a unimodal function on [lo, hi] by golden-section search.
pub(crate) fn golden_peak(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..200 {
        if hi - lo <= 1e-15 * (hi.abs() + lo.abs()) {
            break;
        }
        if fa < fb {
            lo = a;
            a = b;
            fa = fb;
            b = lo + ratio * (hi - lo);
            fb = f(b);
        } else {
            hi = b;
            b = a;
            fb = fa;
            a = hi - ratio * (hi - lo);
            fa = f(a);
        }
    }
    0.5 * (lo + hi)
}
