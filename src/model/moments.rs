//! The O(k) kernel every estimator shares: weighted sums at a given τ².
//!
//! For the intercept-only model with weights wᵢ = 1/(vᵢ + τ²), the projection
//! matrix P = W − w wᵀ/Σw never has to be formed: every quantity the estimators
//! need (yᵀPy, yᵀPPy, tr P, tr PP) is a short sum over the studies.

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
    /// Σw³.
    pub s3: f64,
    /// The weighted mean Σwy / Σw.
    pub mean: f64,
    /// yᵀPy = Σw (y − mean)²: Cochran's Q at τ² = 0, the generalised Q otherwise.
    pub q: f64,
    /// yᵀPPy = Σw² (y − mean)².
    pub q2: f64,
}

impl Moments {
    /// Two passes over the data (mean first, then residuals) for numerical stability.
    pub fn at(effects: &[Effect], tau2: f64) -> Self {
        let (mut s1, mut s2, mut s3, mut swy) = (0.0, 0.0, 0.0, 0.0);
        for e in effects {
            let w = 1.0 / (e.vi + tau2);
            s1 += w;
            s2 += w * w;
            s3 += w * w * w;
            swy += w * e.yi;
        }
        let mean = swy / s1;
        let (mut q, mut q2) = (0.0, 0.0);
        for e in effects {
            let w = 1.0 / (e.vi + tau2);
            let wr2 = w * (e.yi - mean).powi(2);
            q += wr2;
            q2 += w * wr2;
        }
        Moments {
            k: effects.len() as f64,
            s1,
            s2,
            s3,
            mean,
            q,
            q2,
        }
    }

    /// tr(P) = Σw − Σw²/Σw.
    pub fn trace_p(&self) -> f64 {
        self.s1 - self.s2 / self.s1
    }

    /// tr(PP) = Σw² − 2Σw³/Σw + (Σw²/Σw)².
    pub fn trace_pp(&self) -> f64 {
        self.s2 - 2.0 * self.s3 / self.s1 + (self.s2 / self.s1).powi(2)
    }
}

/// The generalised Q statistic Σ (y − μ̂(τ²))² / (v + τ²), decreasing in τ².
pub(crate) fn generalised_q(effects: &[Effect], tau2: f64) -> f64 {
    Moments::at(effects, tau2).q
}

/// The "typical" within-study variance of Higgins & Thompson, (k − 1) / tr(P) at τ² = 0.
pub(crate) fn typical_variance(effects: &[Effect]) -> f64 {
    let m = Moments::at(effects, 0.0);
    (m.k - 1.0) / m.trace_p()
}
