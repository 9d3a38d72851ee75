//! The distributions of a count given its linear predictor η: binomial with
//! the logit link, Poisson with the log link (both canonical, so the
//! observed and expected information agree, as lme4's and glm()'s iterations assume).

use statrs::function::gamma::ln_gamma;

/// The count's distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `events` of `trials`, logit link.
    Binomial,
    /// `events` over an exposure carried in the offset, log link.
    Poisson,
}

/// One study's (or arm's) count and the offset added to its linear predictor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Count {
    pub family: Family,
    pub events: f64,
    /// The binomial's trials; unused for the Poisson.
    pub trials: f64,
    pub offset: f64,
}

impl Family {
    /// The log-likelihood at η without its constant, and its first two
    /// derivatives in η.
    #[inline]
    pub fn terms(self, c: &Count, eta: f64) -> (f64, f64, f64) {
        match self {
            Family::Binomial => {
                let mu = logistic(eta);
                let ll = c.events * eta - c.trials * softplus(eta);
                (ll, c.events - c.trials * mu, -c.trials * mu * (1.0 - mu))
            }
            Family::Poisson => {
                let mu = eta.exp();
                (c.events * eta - mu, c.events - mu, -mu)
            }
        }
    }

    /// The third derivative of the log-likelihood in η.
    #[inline]
    pub fn third(self, c: &Count, eta: f64) -> f64 {
        match self {
            Family::Binomial => {
                let mu = logistic(eta);
                -c.trials * mu * (1.0 - mu) * (1.0 - 2.0 * mu)
            }
            Family::Poisson => -eta.exp(),
        }
    }

    /// The log-likelihood at η without its constant.
    #[inline]
    pub fn log_likelihood(self, c: &Count, eta: f64) -> f64 {
        match self {
            Family::Binomial => c.events * eta - c.trials * softplus(eta),
            Family::Poisson => c.events * eta - eta.exp(),
        }
    }

    /// The constant of the log-likelihood: log C(trials, events), or −log events!.
    pub fn constant(self, c: &Count) -> f64 {
        match self {
            Family::Binomial => {
                ln_gamma(c.trials + 1.0)
                    - ln_gamma(c.events + 1.0)
                    - ln_gamma(c.trials - c.events + 1.0)
            }
            Family::Poisson => -ln_gamma(c.events + 1.0),
        }
    }

    /// The count's own maximum-likelihood η (offset included) and its
    /// information, or `None` at the boundary (no events, or only events),
    /// where η̂ is infinite and the information zero.
    pub fn saturated(self, c: &Count) -> Option<(f64, f64)> {
        match self {
            Family::Binomial if c.events > 0.0 && c.events < c.trials => {
                let p = c.events / c.trials;
                Some(((p / (1.0 - p)).ln(), c.trials * p * (1.0 - p)))
            }
            Family::Poisson if c.events > 0.0 => Some((c.events.ln(), c.events)),
            _ => None,
        }
    }

    /// The largest log-likelihood the count allows (its constant excluded):
    /// at η̂, or its limit at the boundary.
    pub fn saturated_log_likelihood(self, c: &Count) -> f64 {
        match (self, self.saturated(c)) {
            (_, Some((eta, _))) => self.log_likelihood(c, eta),
            // ℓ → 0 as η → ±∞ for 0 or n binomial events; the Poisson's
            // limit as η → −∞ with no events.
            _ => 0.0,
        }
    }
}

/// 1 / (1 + e^−η), accurate in both tails.
#[inline]
pub(crate) fn logistic(eta: f64) -> f64 {
    if eta >= 0.0 {
        1.0 / (1.0 + (-eta).exp())
    } else {
        let e = eta.exp();
        e / (1.0 + e)
    }
}

/// log(1 + e^η) without overflow.
#[inline]
fn softplus(eta: f64) -> f64 {
    eta.max(0.0) + (-eta.abs()).exp().ln_1p()
}

/// Which way a study's own estimate runs off when its count sits at a bound
/// of what its margins allow (no events, or only events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Lower,
    Upper,
}

/// What a model with one linear predictor per study needs of the study's
/// outcome: its log-likelihood in η = offset + β + u and its saturated fit.
pub(crate) trait Outcome: Sync {
    /// Added to the linear predictor.
    fn offset(&self) -> f64;
    /// The log-likelihood at η without its constant, and its first two
    /// derivatives in η.
    fn terms(&self, eta: f64) -> (f64, f64, f64);
    /// The log-likelihood at η without its constant.
    fn log_likelihood(&self, eta: f64) -> f64 {
        self.terms(eta).0
    }
    /// The third derivative of the log-likelihood in η.
    fn third(&self, eta: f64) -> f64;
    /// The log-likelihood's constant.
    fn constant(&self) -> f64;
    /// The study's own maximum-likelihood η (offset included) and its
    /// information, or `None` at a bound, where η̂ is infinite.
    fn saturated(&self) -> Option<(f64, f64)>;
    /// The largest log-likelihood the study allows (constant excluded): at
    /// η̂, or its limit at a bound (0: the count's probability tends to 1).
    fn saturated_log_likelihood(&self) -> f64 {
        self.saturated()
            .map_or(0.0, |(eta, _)| self.log_likelihood(eta))
    }
    /// The bound the count sits at, if any.
    fn bound(&self) -> Option<Bound>;
    /// What it means that every study sits at `bound`, for messages.
    fn all_at(bound: Bound) -> &'static str;
}

impl Outcome for Count {
    fn offset(&self) -> f64 {
        self.offset
    }

    #[inline]
    fn terms(&self, eta: f64) -> (f64, f64, f64) {
        self.family.terms(self, eta)
    }

    #[inline]
    fn log_likelihood(&self, eta: f64) -> f64 {
        self.family.log_likelihood(self, eta)
    }

    fn third(&self, eta: f64) -> f64 {
        self.family.third(self, eta)
    }

    fn constant(&self) -> f64 {
        self.family.constant(self)
    }

    fn saturated(&self) -> Option<(f64, f64)> {
        self.family.saturated(self)
    }

    fn saturated_log_likelihood(&self) -> f64 {
        self.family.saturated_log_likelihood(self)
    }

    fn bound(&self) -> Option<Bound> {
        if self.events == 0.0 {
            Some(Bound::Lower)
        } else if self.family == Family::Binomial && self.events == self.trials {
            Some(Bound::Upper)
        } else {
            None
        }
    }

    fn all_at(bound: Bound) -> &'static str {
        match bound {
            Bound::Lower => "no study has an event",
            Bound::Upper => "every participant has the event",
        }
    }
}
