//! Axes: nice tick values, their labels, and the mapping from values to pixels.
//! Ratio measures are analysed on the log scale; their axis is linear in the log
//! value but its ticks sit at round natural values (0.1, 0.5, 1, 2, …); so do
//! those of proportions, correlations and rates analysed on other scales.

use crate::effect::BackTransform;
use crate::report::number::trimmed;

/// A horizontal or vertical axis over `[lo, hi]` (analysis scale), drawn from
/// pixel `from` to pixel `to`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    /// Ticks labelled in natural units, exp of the analysis scale.
    pub log: bool,
    /// Ticks at round natural values of another transformation, with the
    /// size (harmonic mean n or person-time) some transformations need.
    pub natural: Option<(BackTransform, f64)>,
    pub ticks: Vec<f64>,
    from: f64,
    to: f64,
}

impl Axis {
    /// An axis covering `lo..hi`, widened to the nearest ticks.
    pub fn covering(lo: f64, hi: f64, log: bool) -> Self {
        // Finite, and narrow enough that hi - lo stays finite.
        let (lo, hi) = (
            lo.clamp(-AXIS_LIMIT, AXIS_LIMIT),
            hi.clamp(-AXIS_LIMIT, AXIS_LIMIT),
        );
        let (lo, hi) = if hi - lo > 1e-9 {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        };
        let ticks = if log {
            log_ticks(lo, hi)
        } else {
            linear_ticks(lo, hi)
        };
        let first = ticks.first().copied().unwrap_or(lo).min(lo);
        let last = ticks.last().copied().unwrap_or(hi).max(hi);
        Axis {
            lo: first,
            hi: last,
            log,
            natural: None,
            ticks,
            from: 0.0,
            to: 1.0,
        }
    }

    /// An axis on the analysis scale covering `lo..hi`, with ticks at round
    /// values of the natural scale that `back` leads to (proportions,
    /// correlations, rates). Ticks the transformation cannot reach (a
    /// proportion of 0 on the logit scale) are left out.
    pub fn natural(lo: f64, hi: f64, back: BackTransform, size: f64) -> Self {
        let mut axis = Axis::covering(lo, hi, false);
        let (natural_lo, natural_hi) = (back.apply(lo, size), back.apply(hi, size));
        let mut ticks: Vec<f64> = linear_ticks(natural_lo, natural_hi)
            .into_iter()
            .map(|t| back.forward(t, size))
            .filter(|t| t.is_finite())
            .collect();
        ticks.dedup();
        if ticks.len() >= 2 {
            axis.lo = lo.min(ticks[0]);
            axis.hi = hi.max(ticks[ticks.len() - 1]);
            axis.ticks = ticks;
            axis.natural = Some((back, size));
        }
        axis
    }

    /// An axis over exactly `lo..hi`, ticks inside it.
    pub fn exact(lo: f64, hi: f64, log: bool) -> Self {
        let mut axis = Axis::covering(lo, hi, log);
        axis.lo = lo;
        axis.hi = hi;
        axis.ticks.retain(|t| (lo - 1e-9..=hi + 1e-9).contains(t));
        axis
    }

    /// Places the axis between two pixel positions (`to` may be smaller than `from`).
    pub fn placed(mut self, from: f64, to: f64) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// The pixel position of a value.
    pub fn px(&self, v: f64) -> f64 {
        self.from + (v - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }

    /// True when `v` lies on the axis.
    pub fn contains(&self, v: f64) -> bool {
        v >= self.lo - 1e-12 && v <= self.hi + 1e-12
    }

    /// `v` pulled inside the axis.
    pub fn clamp(&self, v: f64) -> f64 {
        v.clamp(self.lo, self.hi)
    }

    /// The ticks of a horizontal axis whose labels, `size` pixels high and
    /// centred on their ticks, do not touch; those nearest no effect win.
    pub fn ticks_that_fit(&self, size: f64) -> Vec<f64> {
        let extent = |t: f64| {
            let half = super::fonts::text_width(&self.label(t), size, false) / 2.0 + size * 0.3;
            (self.px(t) - half, self.px(t) + half)
        };
        let mut by_closeness = self.ticks.clone();
        by_closeness.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
        let mut kept: Vec<(f64, (f64, f64))> = Vec::new();
        for t in by_closeness {
            let (l, r) = extent(t);
            if kept.iter().all(|(_, (kl, kr))| r <= *kl || l >= *kr) {
                kept.push((t, (l, r)));
            }
        }
        let mut ticks: Vec<f64> = kept.into_iter().map(|(t, _)| t).collect();
        ticks.sort_by(f64::total_cmp);
        ticks
    }

    /// A tick's label in the units a reader knows.
    pub fn label(&self, tick: f64) -> String {
        if let Some((back, size)) = self.natural {
            return trimmed(back.apply(tick, size), 4);
        }
        let value = if self.log { tick.exp() } else { tick };
        // Beyond a million (or below 1e-4 on a log axis) decimals stop helping.
        let tiny = self.log && value < 1e-4;
        if value.abs() >= 1e6 || tiny || !value.is_finite() {
            let decade = if self.log {
                tick / std::f64::consts::LN_10
            } else {
                value.abs().log10()
            };
            return if self.log {
                format!("1e{}", decade.round())
            } else {
                format!("{value:.1e}")
            };
        }
        trimmed(value, 4)
    }
}

/// Axis ends beyond ±1e300 are pulled in: the span must stay a finite number.
const AXIS_LIMIT: f64 = 1e300;
/// Beyond this many decades a log axis has ticks at powers of ten only, spaced
/// like linear ticks: tens of millions of decades (a study with 1e-15 events)
/// must not become tens of millions of ticks.
const MAX_DECADES: f64 = 12.0;

/// Ticks at 1, 2 or 2.5, 5 × 10ⁿ, about five of them.
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    nice_ticks(lo, hi, &[1.0, 2.0, 2.5, 5.0, 10.0])
}

/// About five ticks at multiples of a step m × 10ⁿ, m from `mantissas`.
fn nice_ticks(lo: f64, hi: f64, mantissas: &[f64]) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = mantissas
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Powers of ten a whole number of decades apart, for very wide log axes.
fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let ln10 = std::f64::consts::LN_10;
    nice_ticks(lo / ln10, hi / ln10, &[1.0, 2.0, 5.0, 10.0])
        .into_iter()
        .map(|decade| decade.round() * ln10)
        .collect()
}

/// Ticks at round natural values, from the coarsest set of mantissas that gives
/// at least three ticks without widening the axis much.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    const SETS: [&[f64]; 4] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0],
        &[1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0],
    ];
    let span = hi - lo;
    if span > MAX_DECADES * std::f64::consts::LN_10 {
        return decade_ticks(lo, hi);
    }
    let mut best = Vec::new();
    for set in SETS {
        let candidates = log_candidates(lo, hi, set);
        let below = candidates.iter().rev().find(|c| **c <= lo + 1e-12);
        let above = candidates.iter().find(|c| **c >= hi - 1e-12);
        let (Some(&a), Some(&b)) = (below, above) else {
            continue;
        };
        best = candidates
            .into_iter()
            .filter(|c| *c >= a && *c <= b)
            .collect();
        if best.len() >= 3 && b - a <= 1.35 * span {
            break;
        }
    }
    best
}

fn log_candidates(lo: f64, hi: f64, mantissas: &[f64]) -> Vec<f64> {
    let first = (lo / std::f64::consts::LN_10).floor() as i32 - 1;
    let last = (hi / std::f64::consts::LN_10).ceil() as i32 + 1;
    (first..=last)
        .flat_map(|e| mantissas.iter().map(move |m| (m * 10f64.powi(e)).ln()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round() {
        let axis = Axis::covering(-1.07, 0.36, false);
        let labels: Vec<_> = axis.ticks.iter().map(|t| axis.label(*t)).collect();
        assert_eq!(labels, ["-1.5", "-1", "-0.5", "0", "0.5"]);
    }

    #[test]
    fn log_ticks_are_natural() {
        let axis = Axis::covering(0.1f64.ln(), 1.5f64.ln(), true);
        let labels: Vec<_> = axis.ticks.iter().map(|t| axis.label(*t)).collect();
        assert_eq!(labels, ["0.1", "0.2", "0.5", "1", "2"]);
        let wide = Axis::covering(0.01f64.ln(), 30f64.ln(), true);
        let labels: Vec<_> = wide.ticks.iter().map(|t| wide.label(*t)).collect();
        assert_eq!(labels, ["0.01", "0.1", "1", "10", "100"]);
    }

    #[test]
    fn tens_of_millions_of_decades_give_a_handful_of_ticks() {
        // log odds ratio ± 1.96·sqrt(1e15): a study with 1e-15 events.
        let axis = Axis::covering(-6.2e7, 6.2e7, true);
        assert!(axis.ticks.len() <= 12, "{}", axis.ticks.len());
        let labels: Vec<_> = axis.ticks.iter().map(|t| axis.label(*t)).collect();
        assert!(labels.contains(&"1".to_string()), "{labels:?}");
        assert!(labels.iter().any(|l| l.starts_with("1e")), "{labels:?}");
        let huge = Axis::covering(-1e308, f64::INFINITY, false);
        assert!(huge.ticks.len() <= 12 && huge.ticks.iter().all(|t| t.is_finite()));
    }

    #[test]
    fn crowded_labels_are_thinned_keeping_zero() {
        crate::plot::fonts::ensure_loaded().unwrap();
        let wide = Axis::covering(-3.0, 3.0, false).placed(0.0, 600.0);
        assert_eq!(wide.ticks_that_fit(12.0), wide.ticks);
        let narrow = Axis::covering(-3.0, 3.0, false).placed(0.0, 20.0);
        assert_eq!(narrow.ticks_that_fit(12.0), [0.0]);
    }

    #[test]
    fn maps_to_pixels() {
        let axis = Axis::exact(0.0, 2.0, false).placed(100.0, 300.0);
        assert_eq!(axis.px(1.0), 200.0);
        let down = Axis::exact(0.0, 2.0, false).placed(10.0, 0.0);
        assert_eq!(down.px(2.0), 0.0);
    }
}
