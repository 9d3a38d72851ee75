//! Incidence rates: events over person-time in one group (IR, IRLN, IRS,
//! IRFT) or two (IRR, IRD), as metafor's `escalc` computes them with its
//! defaults (½ added to zero event counts for IR, IRLN, IRR and IRD only).

use serde::Serialize;

use super::Effect;
use super::binary::CONTINUITY_CORRECTION;
use super::continuous::{check_count, check_finite};
use crate::error::{Error, Result};

/// Events over the person-time of one group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rate {
    /// Events.
    pub events: f64,
    /// Person-time at risk.
    pub time: f64,
}

impl Rate {
    /// Validates the rate: events ≥ 0, person-time > 0. `suffix` names the
    /// group's columns (`""`, `"1"`, `"2"`).
    ///
    /// ```
    /// use cochran::effect::Rate;
    /// assert!(Rate::new(4.0, 1250.0, "").is_ok());
    /// assert!(Rate::new(4.0, 0.0, "").is_err()); // no person-time
    /// ```
    pub fn new(events: f64, time: f64, suffix: &str) -> Result<Self> {
        let (events_column, time_column) = (format!("events{suffix}"), format!("time{suffix}"));
        check_count(events, &events_column)?;
        check_finite(time, &time_column)?;
        if events < 0.0 {
            return Err(Error::invalid(
                &events_column,
                format!("events cannot be negative, found {events}"),
            ));
        }
        if time <= 0.0 {
            return Err(Error::invalid(
                &time_column,
                format!("person-time must be positive, found {time}"),
            ));
        }
        Ok(Rate { events, time })
    }
}

/// Two groups' rates; group 1 is the treatment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoRates {
    /// Group 1.
    pub treatment: Rate,
    /// Group 2.
    pub control: Rate,
}

impl TwoRates {
    /// True when either group has no events.
    pub fn has_zero(&self) -> bool {
        self.treatment.events == 0.0 || self.control.events == 0.0
    }

    /// Both event counts, ½ added to each when either is 0.
    fn corrected(&self) -> (f64, f64) {
        let add = if self.has_zero() {
            CONTINUITY_CORRECTION
        } else {
            0.0
        };
        (self.treatment.events + add, self.control.events + add)
    }
}

/// The event count, ½ added when it is 0.
fn corrected(r: &Rate) -> f64 {
    if r.events == 0.0 {
        r.events + CONTINUITY_CORRECTION
    } else {
        r.events
    }
}

/// The raw incidence rate.
pub(crate) fn rate(r: &Rate) -> Result<Effect> {
    let ir = corrected(r) / r.time;
    Effect::new(ir, ir / r.time)
}

/// The log incidence rate.
pub(crate) fn log_rate(r: &Rate) -> Result<Effect> {
    let x = corrected(r);
    Effect::new((x / r.time).ln(), 1.0 / x)
}

/// The square-root transformed incidence rate.
pub(crate) fn sqrt_rate(r: &Rate) -> Result<Effect> {
    Effect::new((r.events / r.time).sqrt(), 1.0 / (4.0 * r.time))
}

/// The Freeman–Tukey transformed incidence rate.
pub(crate) fn freeman_tukey_rate(r: &Rate) -> Result<Effect> {
    let ir = r.events / r.time;
    Effect::new(
        0.5 * (ir.sqrt() + (ir + 1.0 / r.time).sqrt()),
        1.0 / (4.0 * r.time),
    )
}

/// The log incidence rate ratio.
pub(crate) fn log_rate_ratio(t: &TwoRates) -> Result<Effect> {
    let (x1, x2) = t.corrected();
    Effect::new(
        (x1 / t.treatment.time).ln() - (x2 / t.control.time).ln(),
        1.0 / x1 + 1.0 / x2,
    )
}

/// The incidence rate difference.
pub(crate) fn rate_difference(t: &TwoRates) -> Result<Effect> {
    let (x1, x2) = t.corrected();
    let (ir1, ir2) = (x1 / t.treatment.time, x2 / t.control.time);
    Effect::new(ir1 - ir2, ir1 / t.treatment.time + ir2 / t.control.time)
}
