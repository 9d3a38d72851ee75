//! Two groups with a binary outcome: OR and RR (log scale) and RD.

use serde::Serialize;

use super::Effect;
use super::continuous::check_count;
use crate::error::{Error, Result};

/// The amount added to every cell of a table that has a zero cell (metafor's default).
pub const CONTINUITY_CORRECTION: f64 = 0.5;

/// Events and totals of two groups; group 1 is the treatment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TwoByTwo {
    /// Events in group 1.
    pub events1: f64,
    /// Size of group 1.
    pub n1: f64,
    /// Events in group 2.
    pub events2: f64,
    /// Size of group 2.
    pub n2: f64,
}

impl TwoByTwo {
    /// Validates the counts: non-negative, events ≤ n, n > 0.
    ///
    /// ```
    /// use cochran::effect::TwoByTwo;
    /// let t = TwoByTwo::new(4.0, 123.0, 11.0, 139.0)?;
    /// assert!(TwoByTwo::new(5.0, 4.0, 1.0, 10.0).is_err()); // more events than patients
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn new(events1: f64, n1: f64, events2: f64, n2: f64) -> Result<Self> {
        for (events, n, e_col, n_col) in [
            (events1, n1, "events1", "n1"),
            (events2, n2, "events2", "n2"),
        ] {
            check_count(events, e_col)?;
            check_count(n, n_col)?;
            if n <= 0.0 {
                return Err(Error::invalid(
                    n_col,
                    format!("a group needs at least one participant, found {n}"),
                ));
            }
            if events < 0.0 {
                return Err(Error::invalid(
                    e_col,
                    format!("events cannot be negative, found {events}"),
                ));
            }
            if events > n {
                return Err(Error::invalid(
                    e_col,
                    format!("{events} events exceed the group size {n_col} = {n}"),
                ));
            }
        }
        Ok(TwoByTwo {
            events1,
            n1,
            events2,
            n2,
        })
    }

    /// True when a cell (events or non-events of either group) is zero.
    pub fn has_zero_cell(&self) -> bool {
        [
            self.events1,
            self.n1 - self.events1,
            self.events2,
            self.n2 - self.events2,
        ]
        .contains(&0.0)
    }

    /// The four cells (a, b, c, d), with the continuity correction added when a cell is zero.
    fn cells(&self) -> [f64; 4] {
        let add = if self.has_zero_cell() {
            CONTINUITY_CORRECTION
        } else {
            0.0
        };
        [
            self.events1 + add,
            self.n1 - self.events1 + add,
            self.events2 + add,
            self.n2 - self.events2 + add,
        ]
    }
}

/// Log odds ratio.
pub(crate) fn log_odds_ratio(t: &TwoByTwo) -> Result<Effect> {
    let [a, b, c, d] = t.cells();
    Effect::new(
        (a * d / (b * c)).ln(),
        1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d,
    )
}

/// Log risk ratio.
pub(crate) fn log_risk_ratio(t: &TwoByTwo) -> Result<Effect> {
    let [a, b, c, d] = t.cells();
    let (n1, n2) = (a + b, c + d);
    Effect::new(
        ((a / n1) / (c / n2)).ln(),
        1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n2,
    )
}

/// Risk difference.
pub(crate) fn risk_difference(t: &TwoByTwo) -> Result<Effect> {
    let [a, b, c, d] = t.cells();
    let (n1, n2) = (a + b, c + d);
    let (p1, p2) = (a / n1, c / n2);
    Effect::new(p1 - p2, p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
}
