//! Maximising a smooth function of a few parameters by Newton's method with
//! its exact gradient and the Hessian from differences of that gradient: the
//! GLMM objectives are adaptive quadratures whose nodes move with the
//! parameters, whose gradients follow the nodes (quadrature.rs) but whose
//! second derivatives would need fourth derivatives of the data.

use crate::model::linalg::Cholesky;

/// Where the maximum is, its value, and the Hessian there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Maximum {
    pub at: Vec<f64>,
    pub value: f64,
    /// Row-major, by Richardson extrapolation of central second differences.
    pub hessian: Vec<f64>,
    pub converged: bool,
}

const GRADIENT_STEP: f64 = 1e-4;
/// Richardson's steps (h and h/2) for the Hessian reported with the maximum.
const FINAL_STEP: f64 = 1e-2;
const MAX_ITERATIONS: usize = 200;
const MAX_STEP: f64 = 1.0;
const STEP_TOLERANCE: f64 = 1e-10;

/// The maximum of a concave function of one parameter by Newton's method
/// with step halving, from `start`: where it is and `f`'s value and first two
/// derivatives there.
pub(crate) fn maximise_concave(
    mut f: impl FnMut(f64) -> (f64, f64, f64),
    start: f64,
) -> (f64, (f64, f64, f64)) {
    let mut x = start;
    let mut at = f(x);
    for _ in 0..MAX_ITERATIONS {
        let step = -at.1 / at.2;
        let mut t = 1.0;
        let next = loop {
            let next = f(x + t * step);
            if next.0 >= at.0 - 1e-13 * at.0.abs() || t < 1e-10 {
                break next;
            }
            t *= 0.5;
        };
        x += t * step;
        at = next;
        if (t * step).abs() < 1e-13 * x.abs().max(1.0) {
            break;
        }
    }
    (x, at)
}

/// The maximum of `f`, which gives its value and exact gradient, from
/// `start`: Newton's method with the Hessian from differences of the
/// gradient. Each parameter should be on a scale where a change of 1e-4 is
/// small and 1e-2 still nearly quadratic.
pub(crate) fn maximise_with_gradient(
    f: &impl Fn(&[f64]) -> (f64, Vec<f64>),
    start: Vec<f64>,
) -> Maximum {
    let gradient = |x: &[f64]| f(x).1;
    search(
        start,
        f,
        |x, _, g| {
            let m = x.len();
            // Forward differences: the Hessian only guides the steps.
            let mut hessian = vec![0.0; m * m];
            for i in 0..m {
                let up = gradient(&shifted(x, &[(i, GRADIENT_STEP)]));
                for j in 0..m {
                    hessian[i * m + j] += 0.5 * (up[j] - g[j]) / GRADIENT_STEP;
                    hessian[j * m + i] += 0.5 * (up[j] - g[j]) / GRADIENT_STEP;
                }
            }
            (g.to_vec(), hessian)
        },
        |x, _| {
            let coarse = gradient_differences(&gradient, x, FINAL_STEP);
            let fine = gradient_differences(&gradient, x, FINAL_STEP / 2.0);
            (coarse.iter().zip(&fine))
                .map(|(c, f)| (4.0 * f - c) / 3.0)
                .collect()
        },
    )
}

/// Newton's method with a trust region and step halving. `evaluate(x)` gives
/// the value (and whatever gradient comes with it), `derivatives(x, value,
/// that gradient)` the gradient and Hessian for the step, `final_hessian` the
/// Hessian reported at the maximum.
fn search(
    start: Vec<f64>,
    evaluate: impl Fn(&[f64]) -> (f64, Vec<f64>),
    derivatives: impl Fn(&[f64], f64, &[f64]) -> (Vec<f64>, Vec<f64>),
    final_hessian: impl Fn(&[f64], f64) -> Vec<f64>,
) -> Maximum {
    let m = start.len();
    let mut x = start;
    let (mut value, mut carried) = evaluate(&x);
    let mut converged = false;
    for _ in 0..MAX_ITERATIONS {
        let (gradient, hessian) = derivatives(&x, value, &carried);
        let negated: Vec<f64> = hessian.iter().map(|h| -h).collect();
        let direction = Cholesky::new(&negated, m, 1e-12)
            .map(|c| c.solve(&gradient))
            .unwrap_or_else(|_| {
                // Not concave here: a gradient step scaled by the curvature's size.
                (0..m)
                    .map(|i| gradient[i] / hessian[i * m + i].abs().max(1.0))
                    .collect()
            });
        // A trust region: no parameter moves by more than MAX_STEP at once, so
        // that a step from a non-concave region cannot leap onto a plateau
        // far away (τ → ∞) and stop there.
        let longest = direction.iter().fold(0.0f64, |m, d| m.max(d.abs()));
        let mut t = if longest > MAX_STEP {
            MAX_STEP / longest
        } else {
            1.0
        };
        let mut improved = None;
        for _ in 0..60 {
            let trial: Vec<f64> = (0..m).map(|i| x[i] + t * direction[i]).collect();
            let (v, g) = evaluate(&trial);
            if v.is_finite() && v >= value - 1e-13 * value.abs() {
                improved = Some((trial, v, g));
                break;
            }
            t *= 0.5;
        }
        let Some((next, v, g)) = improved else {
            converged = true; // no ascent left at this resolution
            break;
        };
        let step = (0..m).map(|i| (next[i] - x[i]).abs()).fold(0.0, f64::max);
        // Near the maximum the differenced gradient's rounding moves x by ~1e-9
        // without changing f: stop there too.
        let flat = v - value <= 8.0 * f64::EPSILON * value.abs() && step < 1e-6;
        x = next;
        value = v;
        carried = g;
        if step < STEP_TOLERANCE || flat {
            converged = true;
            break;
        }
    }
    let hessian = final_hessian(&x, value);
    Maximum {
        at: x,
        value,
        hessian,
        converged,
    }
}

/// Central differences of the gradient with step `h`, symmetrised.
fn gradient_differences(gradient: &impl Fn(&[f64]) -> Vec<f64>, x: &[f64], h: f64) -> Vec<f64> {
    let m = x.len();
    let mut hessian = vec![0.0; m * m];
    for i in 0..m {
        let up = gradient(&shifted(x, &[(i, h)]));
        let down = gradient(&shifted(x, &[(i, -h)]));
        for j in 0..m {
            let d = 0.5 * (up[j] - down[j]) / (2.0 * h);
            hessian[i * m + j] += d;
            hessian[j * m + i] += d;
        }
    }
    hessian
}

fn shifted(x: &[f64], by: &[(usize, f64)]) -> Vec<f64> {
    let mut y = x.to_vec();
    for &(i, h) in by {
        y[i] += h;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_maximum_and_curvature_of_a_quartic() {
        // −(x−1)² − 2(y+0.5)² − (x−1)⁴ + (x−1)(y+0.5): maximum at (1, −0.5),
        // Hessian [[−2, 1], [1, −4]] there.
        let f = |p: &[f64]| {
            let (a, b) = (p[0] - 1.0, p[1] + 0.5);
            let value = -a * a - 2.0 * b * b - a.powi(4) + a * b;
            (value, vec![-2.0 * a - 4.0 * a.powi(3) + b, -4.0 * b + a])
        };
        let max = maximise_with_gradient(&f, vec![0.0, 0.0]);
        assert!(max.converged);
        assert!((max.at[0] - 1.0).abs() < 1e-9 && (max.at[1] + 0.5).abs() < 1e-9);
        for (h, e) in max.hessian.iter().zip([-2.0, 1.0, 1.0, -4.0]) {
            assert!((h - e).abs() < 1e-8, "{h} vs {e}");
        }
    }
}
