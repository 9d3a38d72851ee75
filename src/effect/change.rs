//! One group measured before and after: MC, SMCC, SMCR. The change is post − pre.

use serde::Serialize;

use super::Effect;
use super::continuous::{check_finite, check_n, check_sd, hedges_correction};
use crate::error::{Error, Result};

/// One group's outcome before and after, with the pre/post correlation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PrePost {
    /// Number of participants measured at both times.
    pub n: f64,
    /// Mean before.
    pub mean_pre: f64,
    /// Standard deviation before.
    pub sd_pre: f64,
    /// Mean after.
    pub mean_post: f64,
    /// Standard deviation after; SMCR does not need it.
    pub sd_post: Option<f64>,
    /// Correlation between the pre and post measurements.
    pub r: f64,
    /// The column suffix of the arm (`""`, `"1"` or `"2"`), for error messages.
    #[serde(skip)]
    suffix: &'static str,
}

impl PrePost {
    /// Validates a before/after summary.
    ///
    /// ```
    /// use cochran::effect::PrePost;
    /// let s = PrePost::new(20.0, 30.6, 15.0, 38.5, Some(11.6), 0.47)?;
    /// assert!(PrePost::new(20.0, 30.6, 15.0, 38.5, Some(11.6), 1.3).is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn new(
        n: f64,
        mean_pre: f64,
        sd_pre: f64,
        mean_post: f64,
        sd_post: Option<f64>,
        r: f64,
    ) -> Result<Self> {
        PrePost::for_arm(n, mean_pre, sd_pre, mean_post, sd_post, r, "")
    }

    /// The same for one arm of a controlled design, whose columns carry the
    /// suffix `"1"` (treatment) or `"2"` (control), e.g. `sd_pre1`.
    ///
    /// ```
    /// use cochran::effect::PrePost;
    /// let err = PrePost::for_arm(20.0, 30.6, -1.0, 38.5, None, 0.47, "2").unwrap_err();
    /// assert!(err.to_string().contains("`sd_pre2`"));
    /// ```
    pub fn for_arm(
        n: f64,
        mean_pre: f64,
        sd_pre: f64,
        mean_post: f64,
        sd_post: Option<f64>,
        r: f64,
        suffix: &'static str,
    ) -> Result<Self> {
        PrePost {
            n,
            mean_pre,
            sd_pre,
            mean_post,
            sd_post,
            r,
            suffix,
        }
        .validated()
    }

    fn validated(self) -> Result<Self> {
        check_n(self.n, 2.0, &self.column("n"), "a before/after variance")?;
        check_finite(self.mean_pre, &self.column("mean_pre"))?;
        check_finite(self.mean_post, &self.column("mean_post"))?;
        check_sd(self.sd_pre, &self.column("sd_pre"))?;
        if let Some(sd) = self.sd_post {
            check_sd(sd, &self.column("sd_post"))?;
        }
        if !(-1.0..=1.0).contains(&self.r) {
            return Err(Error::invalid(
                &self.column("r"),
                format!("a correlation must lie in [-1, 1], found {}", self.r),
            ));
        }
        Ok(self)
    }

    /// The column a value of this arm comes from.
    fn column(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }

    fn change(&self) -> f64 {
        self.mean_post - self.mean_pre
    }

    fn sd_post_required(&self) -> Result<f64> {
        self.sd_post.ok_or_else(|| {
            Error::invalid(
                &self.column("sd_post"),
                "this measure needs the standard deviation after",
            )
        })
    }

    /// Standard deviation of the change scores implied by the two SDs and r.
    fn sd_change(&self) -> Result<f64> {
        let sd_post = self.sd_post_required()?;
        let variance = self.sd_pre.powi(2) + sd_post.powi(2) - 2.0 * self.r * self.sd_pre * sd_post;
        if variance <= 0.0 {
            return Err(Error::invalid(
                &self.column("r"),
                format!(
                    "r = {} with these SDs leaves the change scores no variance; \
                     a mean change needs r < 1 or unequal SDs",
                    self.r
                ),
            ));
        }
        Ok(variance.sqrt())
    }

    fn check_standardisable(&self) -> Result<()> {
        check_n(self.n, 3.0, &self.column("n"), "a standardised mean change")
    }
}

/// Raw mean change.
pub(crate) fn mean_change(s: &PrePost) -> Result<Effect> {
    let sd = s.sd_change()?;
    Effect::new(s.change(), sd * sd / s.n)
}

/// Standardised mean change, standardised by the SD of the change scores.
pub(crate) fn smc_change_scores(s: &PrePost) -> Result<Effect> {
    s.check_standardisable()?;
    let g = hedges_correction(s.n - 1.0) * s.change() / s.sd_change()?;
    Effect::new(g, 1.0 / s.n + g * g / (2.0 * s.n))
}

/// Standardised mean change, standardised by the pre-treatment SD (Becker's variance).
pub(crate) fn smc_raw_scores(s: &PrePost) -> Result<Effect> {
    s.check_standardisable()?;
    if s.sd_pre == 0.0 {
        return Err(Error::invalid(
            &s.column("sd_pre"),
            "a change standardised by the SD before needs that SD to be positive",
        ));
    }
    let g = hedges_correction(s.n - 1.0) * s.change() / s.sd_pre;
    Effect::new(g, 2.0 * (1.0 - s.r) / s.n + g * g / (2.0 * s.n))
}

/// Two arms, each measured before and after: treatment (columns with suffix 1)
/// and control (suffix 2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ControlledPrePost {
    /// The treatment arm.
    pub treatment: PrePost,
    /// The control arm.
    pub control: PrePost,
}

/// Difference of the arms' effects, treatment − control; independent arms, so
/// the variances add (Morris 2008).
pub(crate) fn arm_difference(
    s: &ControlledPrePost,
    per_arm: fn(&PrePost) -> Result<Effect>,
) -> Result<Effect> {
    let (t, c) = (per_arm(&s.treatment)?, per_arm(&s.control)?);
    Effect::new(t.yi - c.yi, t.vi + c.vi)
}

/// One group whose change from before to after is reported directly. It takes
/// precedence over pre/post values and needs no correlation for MC and SMCC;
/// SMCR still standardises by the SD before and needs r for its variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReportedChange {
    /// Number of participants.
    pub n: f64,
    /// Mean change, post − pre.
    pub mean_change: f64,
    /// SD of the change scores (MC, SMCC).
    pub sd_change: Option<f64>,
    /// SD before (SMCR).
    pub sd_pre: Option<f64>,
    /// Pre/post correlation (SMCR).
    pub r: Option<f64>,
}

impl ReportedChange {
    /// Validates a reported change.
    ///
    /// ```
    /// use cochran::effect::ReportedChange;
    /// assert!(ReportedChange::new(20.0, 6.4, Some(5.0), None, None).is_ok());
    /// assert!(ReportedChange::new(20.0, 6.4, Some(-5.0), None, None).is_err());
    /// ```
    pub fn new(
        n: f64,
        mean_change: f64,
        sd_change: Option<f64>,
        sd_pre: Option<f64>,
        r: Option<f64>,
    ) -> Result<Self> {
        check_n(n, 2.0, "n", "a change-score variance")?;
        check_finite(mean_change, "mean_change")?;
        for (sd, column) in [(sd_change, "sd_change"), (sd_pre, "sd_pre")] {
            if let Some(sd) = sd {
                check_sd(sd, column)?;
            }
        }
        if let Some(r) = r.filter(|r| !(-1.0..=1.0).contains(r)) {
            return Err(Error::invalid(
                "r",
                format!("a correlation must lie in [-1, 1], found {r}"),
            ));
        }
        Ok(ReportedChange {
            n,
            mean_change,
            sd_change,
            sd_pre,
            r,
        })
    }

    fn required(value: Option<f64>, column: &str) -> Result<f64> {
        value.ok_or_else(|| {
            Error::invalid(
                column,
                "this measure needs this value when the change is reported",
            )
        })
    }

    fn sd_change(&self) -> Result<f64> {
        let sd = Self::required(self.sd_change, "sd_change")?;
        if sd == 0.0 {
            return Err(Error::invalid(
                "sd_change",
                "the change scores have no variance (SD 0)",
            ));
        }
        Ok(sd)
    }
}

/// MC from a reported change.
pub(crate) fn mean_change_reported(s: &ReportedChange) -> Result<Effect> {
    let sd = s.sd_change()?;
    Effect::new(s.mean_change, sd * sd / s.n)
}

/// SMCC from a reported change.
pub(crate) fn smc_change_scores_reported(s: &ReportedChange) -> Result<Effect> {
    check_n(s.n, 3.0, "n", "a standardised mean change")?;
    let g = hedges_correction(s.n - 1.0) * s.mean_change / s.sd_change()?;
    Effect::new(g, 1.0 / s.n + g * g / (2.0 * s.n))
}

/// SMCR from a reported change, the SD before and r.
pub(crate) fn smc_raw_scores_reported(s: &ReportedChange) -> Result<Effect> {
    check_n(s.n, 3.0, "n", "a standardised mean change")?;
    let sd_pre = ReportedChange::required(s.sd_pre, "sd_pre")?;
    let r = ReportedChange::required(s.r, "r")?;
    if sd_pre == 0.0 {
        return Err(Error::invalid(
            "sd_pre",
            "a change standardised by the SD before needs that SD to be positive",
        ));
    }
    let g = hedges_correction(s.n - 1.0) * s.mean_change / sd_pre;
    Effect::new(g, 2.0 * (1.0 - r) / s.n + g * g / (2.0 * s.n))
}
