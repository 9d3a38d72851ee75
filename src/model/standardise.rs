//! Effects on a standard scale, so that every estimator is scale-free.
//!
//! The effects are centred at their inverse-variance mean and divided by a power
//! of two near the typical standard error. Multiplying by a power of two is
//! exact in binary floating point, so data that differ only in their unit of
//! measurement by a power of two give bit-identical standardised data, and every
//! tolerance, threshold and starting bracket of the estimators can be fixed
//! numbers in these units.

use std::sync::Arc;

use super::design::Design;
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};

/// Largest standardised distance of an effect from the centre, 2^150 (≈ 1.4e45
/// standard errors): beyond it the squares in Q could leave double precision.
const MAX_STANDARDISED_DEVIATION: f64 = 1.427_247_692_705_96e45;
/// Smallest standardised distance of the farthest effect from the centre,
/// 2^-300 (≈ 4.9e-91 standard errors), unless all coincide: below it the
/// squares in Q, weighted, could fall below double precision's smallest
/// numbers and Knapp–Hartung's spread would round to zero.
const MIN_STANDARDISED_SPREAD: f64 = 4.909_093_465_297_727e-91;
/// Largest ratio of the largest to the smallest sampling variance, 2^600
/// (≈ 4e180): beyond it squared weights could leave double precision.
const MAX_VARIANCE_RATIO_LOG2: i32 = 600;

/// The effects of one fit on the standard scale, with the scale to return.
#[derive(Debug, Clone)]
pub(crate) struct Standardised {
    effects: Vec<Effect>,
    centre: f64,
    /// A power of two; standardised y = (y − centre) / scale, v = v / scale².
    scale: f64,
    /// The study with the smallest variance: it has the largest weight at every τ².
    dominant: usize,
    /// Smallest and largest standardised variance.
    v_min: f64,
    v_max: f64,
    /// The model matrix; `None` for the intercept-only model.
    design: Option<Arc<Design>>,
}

/// Effects that differ, but by a vanishing share of their standard errors:
/// the variances say nothing about such differences in double precision.
fn check_spread((index, farthest): (usize, f64), effects: &[Effect], v_large: f64) -> Result<()> {
    if farthest == 0.0 || farthest >= MIN_STANDARDISED_SPREAD {
        return Ok(());
    }
    Err(ErrorKind::Unpoolable {
        index,
        column: "vi",
        message: format!(
            "the sampling variances (up to {v_large:e}) dwarf the differences between the \
             effects (this one, {:e}, lies {farthest:.1e} standard errors from the others): \
             ratios of a variance to a squared difference above 1e180 cannot be pooled in \
             double precision",
            effects[index].yi
        ),
    }
    .into())
}

impl Standardised {
    /// Standardises the effects; an effect that would take any sum of the
    /// estimators out of double precision is refused, naming its position.
    #[cfg(test)]
    pub fn new(effects: &[Effect]) -> Result<Self> {
        Standardised::with_design(effects, None)
    }

    /// Standardises the effects of a meta-regression. Without an intercept the
    /// effects are not centred (a shift would change the model).
    pub fn with_design(effects: &[Effect], design: Option<&Arc<Design>>) -> Result<Self> {
        Standardised::build(effects, design, None)
    }

    /// Standardises the effects of an intercept-only model about a given
    /// centre (a refit's, about that of the data it varies): any centre near
    /// the effects serves, and this one costs no pass.
    pub fn centred_at(effects: &[Effect], centre: f64) -> Result<Self> {
        Standardised::build(effects, None, Some(centre))
    }

    fn build(
        effects: &[Effect],
        design: Option<&Arc<Design>>,
        centre: Option<f64>,
    ) -> Result<Self> {
        let design = design.filter(|d| !d.is_intercept_only()).cloned();
        let (dominant, largest) = extremes(effects);
        let (v_small, v_large) = (effects[dominant].vi, effects[largest].vi);
        let (e_small, e_large) = (binary_exponent(v_small), binary_exponent(v_large));
        if e_large - e_small > MAX_VARIANCE_RATIO_LOG2 {
            return Err(ErrorKind::Unpoolable {
                index: dominant,
                column: "vi",
                message: format!(
                    "the sampling variance {v_small:e} is {:.1e} times smaller than the largest \
                     ({v_large:e}); ratios above 1e180 cannot be pooled in double precision",
                    v_large / v_small
                ),
            }
            .into());
        }
        // scale² = 2^(2h) near the geometric mean of the extreme variances.
        let half = (e_small + e_large).div_euclid(4);
        let scale = power_of_two(half);
        let variance_scale = power_of_two(2 * half);
        let centre = match (&design, centre) {
            (Some(d), _) if !d.has_intercept() => 0.0,
            (_, Some(centre)) => centre,
            _ => weighted_centre(effects, v_small),
        };
        let (inverse_scale, inverse_variance_scale) = (1.0 / scale, 1.0 / variance_scale);
        let mut scaled = Vec::with_capacity(effects.len());
        // The effect farthest from the centre, for `check_spread`.
        let mut farthest = (0, 0.0);
        for (index, e) in effects.iter().enumerate() {
            let yi = (e.yi - centre) * inverse_scale;
            if yi.abs() > farthest.1 {
                farthest = (index, yi.abs());
            }
            if yi.is_nan() || yi.abs() > MAX_STANDARDISED_DEVIATION {
                return Err(ErrorKind::Unpoolable {
                    index,
                    column: "yi",
                    message: format!(
                        "the effect size {:e} lies {:.1e} standard errors from the others; \
                         results would leave double precision (change the unit of measurement)",
                        e.yi, yi
                    ),
                }
                .into());
            }
            scaled.push(Effect {
                yi,
                // Multiplying by the inverse of a power of two is exact.
                vi: e.vi * inverse_variance_scale,
            });
        }
        check_spread(farthest, effects, v_large)?;
        Ok(Standardised {
            v_min: effects[dominant].vi / variance_scale,
            v_max: effects[largest].vi / variance_scale,
            effects: scaled,
            centre,
            scale,
            dominant,
            design,
        })
    }

    /// The model matrix; `None` for the intercept-only model.
    pub fn design(&self) -> Option<&Design> {
        self.design.as_deref()
    }

    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.design.as_deref().map_or(1, Design::p)
    }

    /// Coefficient `j` back on the data's scale: the intercept moves with the
    /// centre, slopes only scale.
    pub fn coefficient(&self, j: usize, standardised: f64) -> f64 {
        let intercept = self.design.as_deref().is_none_or(Design::has_intercept);
        if j == 0 && intercept {
            self.location(standardised)
        } else {
            self.spread(standardised)
        }
    }

    /// The standardised effects.
    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }

    /// The studies before the dominant one, the dominant one, and those after it.
    pub fn split_dominant(&self) -> (&[Effect], &Effect, &[Effect]) {
        let (before, rest) = self.effects.split_at(self.dominant);
        (before, &rest[0], &rest[1..])
    }

    /// Smallest standardised sampling variance.
    pub fn v_min(&self) -> f64 {
        self.v_min
    }

    /// Largest over smallest sampling variance.
    pub fn variance_ratio(&self) -> f64 {
        self.v_max / self.v_min
    }

    /// The centre the effects were standardised about.
    pub fn centre(&self) -> f64 {
        self.centre
    }

    /// A location (estimate, interval limit) back on the data's scale.
    pub fn location(&self, standardised: f64) -> f64 {
        self.centre + standardised * self.scale
    }

    /// A standard error or other spread back on the data's scale.
    pub fn spread(&self, standardised: f64) -> f64 {
        standardised * self.scale
    }

    /// A variance on the data's scale in standardised units.
    pub fn standard_variance(&self, variance: f64) -> f64 {
        variance / (self.scale * self.scale)
    }

    /// A variance (τ², its standard error) back on the data's scale.
    pub fn variance(&self, standardised: f64) -> f64 {
        standardised * self.scale * self.scale
    }
}

/// Indices of the smallest and the largest sampling variance (first of ties).
fn extremes(effects: &[Effect]) -> (usize, usize) {
    let (mut small, mut large) = (0, 0);
    for (i, e) in effects.iter().enumerate() {
        if e.vi < effects[small].vi {
            small = i;
        }
        if e.vi > effects[large].vi {
            large = i;
        }
    }
    (small, large)
}

/// The inverse-variance mean, computed with weights relative to the largest so
/// that no weight overflows; exact under scaling by powers of two.
fn weighted_centre(effects: &[Effect], v_min: f64) -> f64 {
    let (mut sw, mut swy) = (0.0, 0.0);
    for e in effects {
        let w = v_min / e.vi;
        sw += w;
        swy += w * e.yi;
    }
    let centre = swy / sw;
    if centre.is_finite() {
        centre
    } else {
        // Σwy overflowed (effects near the largest double): centre at the dominant study.
        effects
            .iter()
            .min_by(|a, b| a.vi.total_cmp(&b.vi))
            .map_or(0.0, |e| e.yi)
    }
}

/// The binary exponent e of a positive normal double, 2^e ≤ x < 2^(e+1).
fn binary_exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// 2^e for exponents of normal doubles.
fn power_of_two(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effects(scale: f64) -> Vec<Effect> {
        [(0.9, 1e-8), (-9.1, 17.1), (3.2, 5.0), (91.4, 1e4)]
            .iter()
            .map(|&(y, v)| Effect::new(y * scale, v * scale * scale).unwrap())
            .collect()
    }

    #[test]
    fn rescaling_by_a_power_of_two_gives_identical_standardised_data() {
        let base = Standardised::new(&effects(1.0)).unwrap();
        for c in [2f64.powi(20), 2f64.powi(-20), 0.5, 8.0] {
            let other = Standardised::new(&effects(c)).unwrap();
            assert_eq!(base.effects(), other.effects(), "c = {c}");
            assert_eq!(
                other.location(1.0) - other.centre,
                c * base.location(1.0) - c * base.centre
            );
        }
    }

    #[test]
    fn powers_of_two_are_exact() {
        for e in [-1000, -1, 0, 1, 1000] {
            assert_eq!(power_of_two(e), 2f64.powi(e));
            assert_eq!(binary_exponent(power_of_two(e) * 1.5), e);
        }
    }

    #[test]
    fn extreme_effects_are_refused_with_their_position() {
        let effects = [
            Effect::new(1e300, 1.0).unwrap(),
            Effect::new(-1e300, 1.0).unwrap(),
            Effect::new(0.0, 1.0).unwrap(),
        ];
        let error = Standardised::new(&effects).unwrap_err();
        assert!(matches!(
            error.kind(),
            ErrorKind::Unpoolable { column: "yi", .. }
        ));
    }
}
