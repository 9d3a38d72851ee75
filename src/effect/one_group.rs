//! Single-group outcomes: proportions (PR, PLN, PLO, PAS, PFT), means (MN,
//! MNLN) and correlations (COR, ZCOR), as metafor's `escalc` computes them
//! with its defaults (½ added to the events and non-events of a proportion
//! with none of either, for PR, PLN and PLO only).

use serde::Serialize;

use super::Effect;
use super::binary::CONTINUITY_CORRECTION;
use super::continuous::{check_count, check_finite};
use crate::error::{Error, Result};

/// Events among the participants of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    /// Participants with the event.
    pub events: f64,
    /// Participants.
    pub n: f64,
}

impl Proportion {
    /// Validates the counts: 0 ≤ events ≤ n, n > 0.
    ///
    /// ```
    /// use cochran::effect::Proportion;
    /// assert!(Proportion::new(3.0, 20.0).is_ok());
    /// assert!(Proportion::new(21.0, 20.0).is_err()); // more events than participants
    /// ```
    pub fn new(events: f64, n: f64) -> Result<Self> {
        check_count(events, "events")?;
        check_count(n, "n")?;
        if n <= 0.0 {
            return Err(Error::invalid(
                "n",
                format!("a group needs at least one participant, found {n}"),
            ));
        }
        if events < 0.0 || events > n {
            return Err(Error::invalid(
                "events",
                format!("events must lie between 0 and n = {n}, found {events}"),
            ));
        }
        Ok(Proportion { events, n })
    }

    /// The exact (Clopper–Pearson) confidence interval of the proportion at
    /// `level` percent, from the beta quantiles: [0, …] with no events,
    /// […, 1] with only events, no continuity correction. What the forest
    /// plot of a GLMM of proportions shows for each study.
    ///
    /// ```
    /// use cochran::effect::Proportion;
    /// let [lower, upper] = Proportion::new(0.0, 17.0)?.clopper_pearson(95.0)?;
    /// assert_eq!(lower, 0.0);
    /// assert!((upper - (1.0 - 0.025f64.powf(1.0 / 17.0))).abs() < 1e-12);
    /// assert!(Proportion::new(3.0, 17.0)?.clopper_pearson(100.0).is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn clopper_pearson(&self, level: f64) -> Result<[f64; 2]> {
        use statrs::distribution::{Beta, ContinuousCDF};
        crate::model::check_level(level)?;
        let tail = (1.0 - level / 100.0) / 2.0;
        let (x, n) = (self.events, self.n);
        let quantile =
            |a: f64, b: f64, p: f64| Beta::new(a, b).map_or(f64::NAN, |beta| beta.inverse_cdf(p));
        let lower = if x == 0.0 {
            0.0
        } else {
            quantile(x, n - x + 1.0, tail)
        };
        let upper = if x == n {
            1.0
        } else {
            quantile(x + 1.0, n - x, 1.0 - tail)
        };
        Ok([lower, upper])
    }

    /// True when there are no events or no non-events.
    pub fn is_extreme(&self) -> bool {
        self.events == 0.0 || self.events == self.n
    }

    /// Events and non-events, ½ added to both when either is 0.
    fn corrected(&self) -> (f64, f64) {
        let add = if self.is_extreme() {
            CONTINUITY_CORRECTION
        } else {
            0.0
        };
        (self.events + add, self.n - self.events + add)
    }
}

/// The raw proportion, with the large-sample variance p(1 − p)/n.
pub(crate) fn proportion(p: &Proportion) -> Result<Effect> {
    let (x, m) = p.corrected();
    let pr = x / (x + m);
    Effect::new(pr, pr * (1.0 - pr) / (x + m))
}

/// The log proportion.
pub(crate) fn log_proportion(p: &Proportion) -> Result<Effect> {
    let (x, m) = p.corrected();
    Effect::new((x / (x + m)).ln(), 1.0 / x - 1.0 / (x + m))
}

/// The logit of the proportion.
pub(crate) fn logit_proportion(p: &Proportion) -> Result<Effect> {
    let (x, m) = p.corrected();
    Effect::new((x / m).ln(), 1.0 / x + 1.0 / m)
}

/// The arcsine square-root transformed proportion.
pub(crate) fn arcsine_proportion(p: &Proportion) -> Result<Effect> {
    Effect::new((p.events / p.n).sqrt().asin(), 1.0 / (4.0 * p.n))
}

/// The Freeman–Tukey double-arcsine transformed proportion.
pub(crate) fn freeman_tukey_proportion(p: &Proportion) -> Result<Effect> {
    Effect::new(freeman_tukey(p.events / p.n, p.n), 1.0 / (4.0 * p.n + 2.0))
}

/// The Freeman–Tukey transform of a proportion `pr` out of `n` (metafor's `transf.pft`).
pub(crate) fn freeman_tukey(pr: f64, n: f64) -> f64 {
    let x = pr * n;
    0.5 * ((x / (n + 1.0)).sqrt().asin() + ((x + 1.0) / (n + 1.0)).sqrt().asin())
}

/// The mean of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SingleMean {
    /// Participants.
    pub n: f64,
    /// Mean.
    pub mean: f64,
    /// Standard deviation.
    pub sd: f64,
}

impl SingleMean {
    /// Validates the summary: n > 0, SD ≥ 0.
    ///
    /// ```
    /// use cochran::effect::SingleMean;
    /// assert!(SingleMean::new(12.0, 45.3, 9.8).is_ok());
    /// assert!(SingleMean::new(12.0, 45.3, -1.0).is_err());
    /// ```
    pub fn new(n: f64, mean: f64, sd: f64) -> Result<Self> {
        check_count(n, "n")?;
        check_finite(mean, "mean")?;
        check_finite(sd, "sd")?;
        if n <= 0.0 {
            return Err(Error::invalid(
                "n",
                format!("a group needs at least one participant, found {n}"),
            ));
        }
        if sd < 0.0 {
            return Err(Error::invalid(
                "sd",
                format!("a standard deviation cannot be negative, found {sd}"),
            ));
        }
        Ok(SingleMean { n, mean, sd })
    }
}

/// The raw mean.
pub(crate) fn mean(m: &SingleMean) -> Result<Effect> {
    Effect::new(m.mean, m.sd * m.sd / m.n)
}

/// The log mean, for a positive outcome.
pub(crate) fn log_mean(m: &SingleMean) -> Result<Effect> {
    if m.mean <= 0.0 {
        return Err(Error::invalid(
            "mean",
            format!(
                "the log mean (MNLN) needs a positive mean, found {}",
                m.mean
            ),
        ));
    }
    Effect::new(m.mean.ln(), m.sd * m.sd / (m.n * m.mean * m.mean))
}

/// A correlation coefficient with its sample size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Correlation {
    /// The correlation.
    pub cor: f64,
    /// The sample size.
    pub n: f64,
}

impl Correlation {
    /// Validates the correlation: −1 ≤ r ≤ 1, n > 0.
    ///
    /// ```
    /// use cochran::effect::Correlation;
    /// assert!(Correlation::new(0.35, 80.0).is_ok());
    /// assert!(Correlation::new(1.2, 80.0).is_err());
    /// ```
    pub fn new(cor: f64, n: f64) -> Result<Self> {
        check_finite(cor, "cor")?;
        check_count(n, "n")?;
        if !(-1.0..=1.0).contains(&cor) {
            return Err(Error::invalid(
                "cor",
                format!("a correlation lies in [-1, 1], found {cor}"),
            ));
        }
        if n <= 0.0 {
            return Err(Error::invalid(
                "n",
                format!("a sample needs at least one participant, found {n}"),
            ));
        }
        Ok(Correlation { cor, n })
    }
}

/// The raw correlation, with the large-sample variance (1 − r²)²/(n − 1).
pub(crate) fn correlation(c: &Correlation) -> Result<Effect> {
    if c.n <= 1.0 {
        return Err(Error::invalid(
            "n",
            format!("COR needs n > 1 for its variance, found {}", c.n),
        ));
    }
    let spread = 1.0 - c.cor * c.cor;
    Effect::new(c.cor, spread * spread / (c.n - 1.0))
}

/// Fisher's r-to-z transformed correlation, with variance 1/(n − 3).
pub(crate) fn fisher_z(c: &Correlation) -> Result<Effect> {
    if c.n <= 3.0 {
        return Err(Error::invalid(
            "n",
            format!("ZCOR needs n > 3 for its variance 1/(n - 3), found {}", c.n),
        ));
    }
    if c.cor.abs() >= 1.0 {
        return Err(Error::invalid(
            "cor",
            format!("Fisher's z of a correlation of {} is infinite", c.cor),
        ));
    }
    Effect::new(c.cor.atanh(), 1.0 / (c.n - 3.0))
}
