//! Back to the natural scale: the inverse of each measure's transformation,
//! as metafor's `transf.*` functions compute it.

use serde::Serialize;

use super::one_group::freeman_tukey;

/// How a measure's estimates return to their natural scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BackTransform {
    /// exp: ratios, log proportions, log means, log rates.
    Exp,
    /// The inverse logit: logit proportions.
    InverseLogit,
    /// sin², within [0, 1]: arcsine-transformed proportions.
    InverseArcsine,
    /// Miller's (1978) inverse of the Freeman–Tukey transform at the
    /// harmonic mean of the studies' sample sizes (metafor's `transf.ipft.hm`).
    InverseFreemanTukey,
    /// tanh: Fisher's z back to a correlation.
    Tanh,
    /// The square, 0 below 0: square-root transformed rates.
    Square,
    /// The inverse of the Freeman–Tukey transform of a rate (metafor's
    /// `transf.iirft`) at the harmonic mean of the studies' person-time.
    InverseRateFreemanTukey,
}

impl BackTransform {
    /// Whether [`apply`](Self::apply) needs the studies' harmonic mean size.
    pub fn needs_size(self) -> bool {
        matches!(
            self,
            BackTransform::InverseFreemanTukey | BackTransform::InverseRateFreemanTukey
        )
    }

    /// A natural value on the analysis scale: the transformation itself (for
    /// axis ticks at round natural values); `size` as for [`apply`](Self::apply).
    ///
    /// ```
    /// use cochran::effect::BackTransform;
    /// let x = BackTransform::Tanh.forward(0.5, f64::NAN);
    /// assert!((BackTransform::Tanh.apply(x, f64::NAN) - 0.5).abs() < 1e-15);
    /// ```
    pub fn forward(self, natural: f64, size: f64) -> f64 {
        match self {
            BackTransform::Exp => natural.ln(),
            BackTransform::InverseLogit => (natural / (1.0 - natural)).ln(),
            BackTransform::InverseArcsine => natural.sqrt().asin(),
            BackTransform::InverseFreemanTukey => freeman_tukey(natural, size),
            BackTransform::Tanh => natural.atanh(),
            BackTransform::Square => natural.sqrt(),
            BackTransform::InverseRateFreemanTukey => {
                0.5 * (natural.sqrt() + (natural + 1.0 / size).sqrt())
            }
        }
    }

    /// `x` on the natural scale; `size` is the harmonic mean of the studies'
    /// sample sizes (PFT) or person-times (IRFT), ignored otherwise.
    ///
    /// ```
    /// use cochran::effect::BackTransform;
    /// assert_eq!(BackTransform::InverseLogit.apply(0.0, f64::NAN), 0.5);
    /// assert_eq!(BackTransform::Square.apply(-0.1, f64::NAN), 0.0);
    /// ```
    pub fn apply(self, x: f64, size: f64) -> f64 {
        match self {
            BackTransform::Exp => x.exp(),
            BackTransform::InverseLogit => 1.0 / (1.0 + (-x).exp()),
            BackTransform::InverseArcsine => {
                if x < 0.0 {
                    0.0
                } else if x > std::f64::consts::FRAC_PI_2 {
                    1.0
                } else {
                    x.sin().powi(2)
                }
            }
            BackTransform::InverseFreemanTukey => inverse_freeman_tukey(x, size),
            BackTransform::Tanh => x.tanh(),
            BackTransform::Square => {
                if x < 0.0 {
                    0.0
                } else {
                    x * x
                }
            }
            BackTransform::InverseRateFreemanTukey => inverse_rate_freeman_tukey(x, size),
        }
    }
}

/// Miller's inverse; 0 and 1 beyond the transforms of 0 and 1.
fn inverse_freeman_tukey(x: f64, n: f64) -> f64 {
    if x > freeman_tukey(1.0, n) {
        return 1.0;
    }
    if x < freeman_tukey(0.0, n) {
        return 0.0;
    }
    let (s, c) = ((2.0 * x).sin(), (2.0 * x).cos());
    let inner = 1.0 - (s + (s - 1.0 / s) / n).powi(2);
    // R's sign(): 0 at 0.
    let sign = if c > 0.0 {
        1.0
    } else if c < 0.0 {
        -1.0
    } else {
        0.0
    };
    0.5 * (1.0 - sign * inner.sqrt())
}

/// The inverse of ½(√r + √(r + 1/t)); 0 below the transform of 0, and where
/// rounding leaves it within machine epsilon of 0.
fn inverse_rate_freeman_tukey(x: f64, t: f64) -> f64 {
    if x < 0.5 * (1.0 / t).sqrt() {
        return 0.0;
    }
    let r = (1.0 / t - 8.0 * x * x + 16.0 * t * x.powi(4)) / (16.0 * x * x * t);
    if r <= f64::EPSILON { 0.0 } else { r }
}
