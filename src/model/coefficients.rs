//! Inference for the coefficients of a meta-regression, as metafor's `rma.uni`
//! reports it: the coefficient table, the omnibus test of the moderators (QM)
//! and the pseudo-R².

use crate::setting::Setting;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

use super::PermutationTest;
use super::design::Design;
use super::linalg::{Cholesky, quadratic_form};
use super::regression::{Projection, Weights};
use super::standardise::Standardised;
use super::{Test, chi_squared, standard_normal};
use crate::error::{ErrorKind, Result};
use crate::stats::{t_quantile, t_upper_tail};

/// One coefficient of a meta-regression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Coefficient {
    /// `intrcpt`, a numeric moderator's name, or a categorical moderator's name
    /// followed by the level (`allocrandom`).
    pub name: String,
    /// The estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z, or t under Knapp–Hartung.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Permutation p-value, when a permutation test was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value_permutation: Option<f64>,
}

/// The moderators' part of a fitted meta-regression.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Regression {
    /// In model-matrix order: the intercept, then the moderators as given.
    pub coefficients: Vec<Coefficient>,
    /// The omnibus test of the moderators (every coefficient but the intercept):
    /// a Wald χ² under z, an F statistic under Knapp–Hartung.
    pub qm: f64,
    /// Its (numerator) degrees of freedom.
    pub qm_df: f64,
    /// The denominator degrees of freedom k − p under Knapp–Hartung.
    pub qm_df_residual: Option<f64>,
    /// Its p-value.
    pub qm_p_value: f64,
    /// QM's permutation p-value, when a permutation test was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qm_p_value_permutation: Option<f64>,
    /// The permutation test, when one was run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permutation_test: Option<PermutationTest>,
    /// Pseudo-R² in percent: the share of τ² the moderators account for,
    /// max(0, (τ²₀ − τ²)/τ²₀); `None` for the common-effect model.
    pub r2: Option<f64>,
    /// The categorical moderators and their reference levels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_levels: Vec<(String, String)>,
    /// The covariance matrix of the coefficients (row-major, p × p).
    #[serde(skip)]
    pub covariance: Vec<f64>,
    /// The critical value of the intervals.
    #[serde(skip)]
    pub critical: f64,
}

/// The coefficient table and QM at τ² (standardised), on the data's scale.
pub(crate) fn regression(
    data: &Standardised,
    design: &Design,
    tau2: f64,
    test: Test,
    level: f64,
) -> Result<Regression> {
    let fit = Projection::new(design, data.effects(), Weights::Inverse(tau2))?;
    let (p, k) = (design.p(), design.k());
    let df = (k - p) as f64;
    // Knapp–Hartung scales the covariance by the residual heterogeneity.
    let s2w = test.scale_factor(fit.sums().q, df);
    if s2w == 0.0 {
        return Err(ErrorKind::InvalidSetting(format!(
            "the moderators fit the effects exactly (no residual variation), so under \
             Knapp-Hartung every standard error would be 0; use the z test ({} z)",
            Setting::Test
        ))
        .into());
    }
    let variance_scale = data.spread(1.0).powi(2);
    let covariance: Vec<f64> = fit
        .covariance()
        .into_iter()
        .map(|c| c * s2w * variance_scale)
        .collect();
    let estimates: Vec<f64> = (0..p).map(|j| data.coefficient(j, fit.beta[j])).collect();
    let reference = match test {
        Test::Z => Reference::Normal,
        Test::Knha | Test::Adhoc => Reference::T(df),
    };
    coefficient_table(design, estimates, covariance, reference, level)
}

/// The distribution the coefficients are referred to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Reference {
    /// Wald z tests and intervals, QM a χ² test.
    Normal,
    /// t tests with these degrees of freedom, QM an F test.
    T(f64),
}

/// The coefficient table and the omnibus test of the moderators for estimates
/// and their covariance matrix (row-major, p × p) on the data's scale.
pub(crate) fn coefficient_table(
    design: &Design,
    estimates: Vec<f64>,
    covariance: Vec<f64>,
    reference: Reference,
    level: f64,
) -> Result<Regression> {
    let p = design.p();
    let upper_tail = 1.0 - (1.0 - level / 100.0) / 2.0;
    let critical = match reference {
        Reference::Normal => standard_normal().inverse_cdf(upper_tail),
        Reference::T(df) => t_quantile(upper_tail, df),
    };
    let coefficients = estimates
        .into_iter()
        .enumerate()
        .map(|(j, estimate)| {
            let se = covariance[j * p + j].sqrt();
            let statistic = estimate / se;
            let tail = match reference {
                Reference::Normal => standard_normal().sf(statistic.abs()),
                Reference::T(df) => t_upper_tail(statistic.abs(), df),
            };
            Coefficient {
                name: design.names()[j].clone(),
                estimate,
                se,
                statistic,
                p_value: 2.0 * tail,
                ci_lower: estimate - critical * se,
                ci_upper: estimate + critical * se,
                p_value_permutation: None,
            }
        })
        .collect::<Vec<_>>();
    let (qm, qm_df, qm_p_value) = omnibus(&coefficients, &covariance, design, reference)?;
    Ok(Regression {
        coefficients,
        qm,
        qm_df,
        qm_df_residual: match reference {
            Reference::Normal => None,
            Reference::T(df) => Some(df),
        },
        qm_p_value,
        qm_p_value_permutation: None,
        permutation_test: None,
        r2: None,
        reference_levels: design.reference_levels().to_vec(),
        covariance,
        critical,
    })
}

/// The Wald test that the tested coefficients are all 0.
fn omnibus(
    coefficients: &[Coefficient],
    covariance: &[f64],
    design: &Design,
    reference: Reference,
) -> Result<(f64, f64, f64)> {
    let p = design.p();
    let tested: Vec<usize> = design.tested().collect();
    let m = tested.len();
    if m == 0 {
        // The intercept-only model has nothing to test.
        return Ok((f64::NAN, 0.0, f64::NAN));
    }
    let block: Vec<f64> = tested
        .iter()
        .flat_map(|&a| tested.iter().map(move |&b| covariance[a * p + b]))
        .collect();
    let beta: Vec<f64> = tested.iter().map(|&j| coefficients[j].estimate).collect();
    let factor = Cholesky::new(&block, m, 0.0).map_err(|_| {
        ErrorKind::Numerical(
            "the covariance of the moderators' coefficients is singular (no residual \
             heterogeneity under Knapp-Hartung?)"
                .into(),
        )
    })?;
    let wald = quadratic_form(&factor.inverse(), &beta);
    let m = m as f64;
    Ok(match reference {
        Reference::Normal => (wald, m, chi_squared(m).sf(wald)),
        Reference::T(df) => {
            let f = wald / m;
            let p_value = FisherSnedecor::new(m, df).map_or(f64::NAN, |d| d.sf(f));
            (f, m, p_value)
        }
    })
}

/// The fitted value of a meta-regression at one point of the moderators, as
/// metafor's `predict(fit, newmods = ...)` gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Prediction {
    /// The model-matrix row predicted at (intercept first).
    pub x: Vec<f64>,
    /// The predicted average effect.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Lower prediction limit (where a new study's true effect would lie).
    pub pi_lower: f64,
    /// Upper prediction limit.
    pub pi_upper: f64,
}

impl Regression {
    /// Records a permutation test's p-values beside the model-based ones.
    ///
    /// ```
    /// use cochran::{Design, Effect, MetaAnalysis, Tau2};
    /// let effects: Vec<Effect> = [(-0.9, 0.03), (-1.6, 0.02), (-0.2, 0.05), (-1.4, 0.01), (-0.3, 0.04)]
    ///     .iter().map(|&(y, v)| Effect::new(y, v)).collect::<Result<_, _>>()?;
    /// let design = Design::builder(5).numeric("latitude", &[44.0, 55.0, 13.0, 52.0, 19.0])?.build()?;
    /// let model = MetaAnalysis::random(Tau2::Reml).moderators(design);
    /// let test = model.permutation_test(&effects, 1000, 1)?;
    /// let regression = model.fit(&effects)?.regression.unwrap().with_permutation_test(test);
    /// assert!(regression.coefficients[1].p_value_permutation.is_some());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn with_permutation_test(mut self, test: PermutationTest) -> Self {
        for (c, &p) in self.coefficients.iter_mut().zip(&test.p_values) {
            c.p_value_permutation = Some(p);
        }
        self.qm_p_value_permutation = Some(test.qm_p_value);
        self.permutation_test = Some(test);
        self
    }

    /// The prediction at a model-matrix row `x` (with its intercept entry),
    /// given the model's τ² on the data's scale.
    ///
    /// ```
    /// use cochran::{Design, Effect, MetaAnalysis, Tau2};
    /// let effects: Vec<Effect> = [(-0.9, 0.03), (-1.6, 0.02), (-0.2, 0.05), (-1.4, 0.01), (-0.3, 0.04)]
    ///     .iter().map(|&(y, v)| Effect::new(y, v)).collect::<Result<_, _>>()?;
    /// let design = Design::builder(5).numeric("latitude", &[44.0, 55.0, 13.0, 52.0, 19.0])?.build()?;
    /// let x = design.row_for(&[("latitude", "30")])?;
    /// let fit = MetaAnalysis::random(Tau2::Reml).moderators(design).fit(&effects)?;
    /// let at_30 = fit.regression.as_ref().unwrap().predict(&x, fit.tau2);
    /// assert!(at_30.ci_lower < at_30.estimate && at_30.pi_lower <= at_30.ci_lower);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn predict(&self, x: &[f64], tau2: f64) -> Prediction {
        let estimate: f64 = x
            .iter()
            .zip(&self.coefficients)
            .map(|(x, c)| x * c.estimate)
            .sum();
        let variance = quadratic_form(&self.covariance, x);
        let (se, spread) = (variance.sqrt(), (variance + tau2).sqrt());
        Prediction {
            x: x.to_vec(),
            estimate,
            se,
            ci_lower: estimate - self.critical * se,
            ci_upper: estimate + self.critical * se,
            pi_lower: estimate - self.critical * spread,
            pi_upper: estimate + self.critical * spread,
        }
    }
}
