//! Root finding for decreasing functions of τ² on [0, ∞).

use crate::error::{ErrorKind, Result};

/// How close to the root τ² must be: relative to its size, with an absolute floor.
const RELATIVE_TOLERANCE: f64 = 1e-13;
const ABSOLUTE_TOLERANCE: f64 = 1e-15;
const MAX_ITERATIONS: usize = 500;

/// Finds τ² ≥ `lower` with f(τ²) = 0 for a function that is positive at `lower`
/// and negative somewhere above it. The upper end of the bracket is grown
/// geometrically until the sign changes, so no upper limit has to be guessed.
pub(crate) fn decreasing_root(f: impl Fn(f64) -> f64, lower: f64) -> Result<f64> {
    let f_lower = f(lower);
    let mut upper = (lower.abs() * 2.0).max(1.0);
    let mut f_upper = f(upper);
    let mut grown = 0;
    while f_upper > 0.0 {
        grown += 1;
        if grown > 2000 || !upper.is_finite() {
            return Err(ErrorKind::Numerical(
                "could not bracket the root for tau^2: the function stays positive".into(),
            )
            .into());
        }
        upper *= 4.0;
        f_upper = f(upper);
    }
    brent(&f, (lower, f_lower), (upper, f_upper))
}

/// Brent's method (inverse quadratic interpolation, secant and bisection) on a
/// bracket whose ends have opposite signs.
pub(crate) fn brent(
    f: &impl Fn(f64) -> f64,
    (a0, fa0): (f64, f64),
    (b0, fb0): (f64, f64),
) -> Result<f64> {
    let (mut a, mut fa, mut b, mut fb) = (a0, fa0, b0, fb0);
    if fa == 0.0 {
        return Ok(a);
    }
    if fb == 0.0 {
        return Ok(b);
    }
    let (mut c, mut fc) = (a, fa);
    let mut d = b - a;
    let mut e = d;
    for _ in 0..MAX_ITERATIONS {
        if fb.signum() == fc.signum() {
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, b, c) = (b, c, b);
            (fa, fb, fc) = (fb, fc, fb);
        }
        let tolerance = 2.0 * f64::EPSILON * b.abs()
            + 0.5 * (RELATIVE_TOLERANCE * b.abs()).max(ABSOLUTE_TOLERANCE);
        let half = 0.5 * (c - b);
        if half.abs() <= tolerance || fb == 0.0 {
            return Ok(b);
        }
        if e.abs() >= tolerance && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q) = if a == c {
                (2.0 * half * s, 1.0 - s)
            } else {
                let q = fa / fc;
                let r = fb / fc;
                (
                    s * (2.0 * half * q * (q - r) - (b - a) * (r - 1.0)),
                    (q - 1.0) * (r - 1.0) * (s - 1.0),
                )
            };
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if 2.0 * p < (3.0 * half * q - (tolerance * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                d = half;
                e = d;
            }
        } else {
            d = half;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tolerance {
            d
        } else {
            tolerance.copysign(half)
        };
        fb = f(b);
    }
    Err(ErrorKind::Numerical("the root finder for tau^2 did not converge".into()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_root_of_a_decreasing_function() {
        let root = decreasing_root(|x| 10.0 / (1.0 + x) - 2.0, 0.0).unwrap();
        assert!((root - 4.0).abs() < 1e-12, "{root}");
    }

    #[test]
    fn grows_the_bracket_far_beyond_one() {
        let root = decreasing_root(|x| 1e6 - x, 0.0).unwrap();
        assert!((root - 1e6).abs() < 1e-6, "{root}");
    }
}
