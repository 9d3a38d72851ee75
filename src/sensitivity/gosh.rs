//! GOSH (graphical display of study heterogeneity; Olkin, Dahabreh and
//! Trikalinos 2012), as metafor's `gosh()`: the model fitted to every subset
//! of the studies, or to random subsets when there are too many.
//!
//! Subsets are fitted in parallel blocks and consumed in order, so the
//! summary, the streamed rows and the density are the same whatever the
//! number of threads, and memory does not grow with the number of subsets.

use crate::setting::Setting;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};
use crate::model::{Fit, MetaAnalysis, Method};
use crate::stats::SplitMix;

/// Up to this many studies every subset is fitted by default (2²⁰ − 1 = 1,048,575).
pub const EXHAUSTIVE_MAX_K: usize = 20;
/// Above this many studies the number of random subsets must be given.
pub const DEFAULT_RANDOM_MAX_K: usize = 30;
/// Random subsets drawn by default for 20 < k ≤ 30 (metafor's default).
pub const DEFAULT_SUBSETS: u64 = 1_000_000;

/// The most subsets fitted in one analysis (about an hour on two cores).
pub const MAX_SUBSETS: u64 = 1_000_000_000;
/// Up to this many subsets the fits are kept as points for the plot; beyond,
/// only their density.
pub const MAX_POINTS: u64 = 20_000;
/// Subsets fitted in parallel before their results are consumed in order.
const BLOCK: u64 = 1 << 15;

/// Which subsets to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subsets {
    /// metafor's choice: every subset for k ≤ 20, 1,000,000 random ones for
    /// k ≤ 30; more studies need an explicit number.
    Default,
    /// This many random subsets (every subset when that is no more), drawn
    /// reproducibly from the seed.
    Random {
        /// How many.
        count: u64,
        /// The seed.
        seed: u64,
    },
}

/// The model fitted to one subset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GoshFit {
    /// The studies in the subset (indices into the analysis' studies).
    pub members: Vec<usize>,
    /// Pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// τ² (0 for one study and for the common-effect model).
    pub tau2: f64,
    /// I² in percent (0 for one study).
    pub i2: f64,
    /// Cochran's Q (0 for one study).
    pub q: f64,
}

/// Smallest, largest and mean value over the subsets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Spread {
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// The spread of each statistic over the subsets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct GoshSummary {
    /// Pooled estimates.
    pub estimate: Spread,
    /// I² in percent.
    pub i2: Spread,
    /// τ².
    pub tau2: Spread,
    /// Cochran's Q.
    pub q: Spread,
}

/// The result of a GOSH analysis: what was fitted and the spread of the results.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Gosh {
    /// The number of studies.
    pub k: usize,
    /// The number of subsets fitted.
    pub subsets: u64,
    /// Whether every subset was fitted (else random ones).
    pub exhaustive: bool,
    /// The seed of the random subsets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The spread of the statistics.
    pub summary: GoshSummary,
    /// The estimates and I² values, for the plot.
    #[serde(skip)]
    pub scatter: Scatter,
}

/// The (estimate, I²) pairs of the subsets: every pair when there are few,
/// else their counts on a fine grid.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Scatter {
    /// Every pair, when there are at most [`MAX_POINTS`].
    pub points: Vec<(f64, f64)>,
    /// Counts on [`GRID_ESTIMATES`] × [`GRID_I2`] cells: estimates from the
    /// smallest to the largest effect (a pooled estimate lies between them),
    /// I² from 0 to 100; row-major by I².
    pub counts: Vec<u32>,
    /// The range of the estimate axis of `counts`.
    pub estimate_range: (f64, f64),
}

/// Cells of the density grid along the estimate axis.
pub const GRID_ESTIMATES: usize = 2048;
/// Cells of the density grid along the I² axis.
pub const GRID_I2: usize = 400;

impl Scatter {
    fn new(effects: &[Effect], keep_points: bool) -> Self {
        let (lo, hi) = effects
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| {
                (lo.min(e.yi), hi.max(e.yi))
            });
        Scatter {
            points: Vec::new(),
            counts: if keep_points {
                Vec::new()
            } else {
                vec![0; GRID_ESTIMATES * GRID_I2]
            },
            estimate_range: (lo, hi),
        }
    }

    fn add(&mut self, estimate: f64, i2: f64) {
        if self.counts.is_empty() {
            self.points.push((estimate, i2));
            return;
        }
        let (lo, hi) = self.estimate_range;
        let cell = |x: f64, n: usize| ((x * n as f64) as usize).min(n - 1);
        let column = if hi > lo {
            cell(
                ((estimate - lo) / (hi - lo)).clamp(0.0, 1.0),
                GRID_ESTIMATES,
            )
        } else {
            0
        };
        let row = cell((i2 / 100.0).clamp(0.0, 1.0), GRID_I2);
        self.counts[row * GRID_ESTIMATES + column] += 1;
    }
}

/// Running minimum, maximum and sum, in the order the values arrive.
#[derive(Debug, Clone, Copy)]
struct Running {
    min: f64,
    max: f64,
    sum: f64,
}

impl Running {
    fn new() -> Self {
        Running {
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }

    fn add(&mut self, x: f64) {
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        self.sum += x;
    }

    fn spread(self, n: u64) -> Spread {
        Spread {
            min: self.min,
            max: self.max,
            mean: self.sum / n as f64,
        }
    }
}

/// How the subsets are enumerated or drawn.
#[derive(Debug, Clone, Copy)]
struct Plan {
    k: usize,
    count: u64,
    random: Option<u64>,
}

impl Plan {
    fn new(k: usize, subsets: Subsets) -> Result<Self> {
        // 2^k − 1 subsets; from k = 64 on more than a u64 counts, and never
        // enumerated (a 64-bit mask would wrap).
        let all = if k < 64 { Some((1u64 << k) - 1) } else { None };
        let all_text = all.map_or(format!("2^{k} - 1"), |a| a.to_string());
        let (count, seed) = match subsets {
            Subsets::Default if k <= EXHAUSTIVE_MAX_K => (all.unwrap_or(u64::MAX), None),
            Subsets::Default if k <= DEFAULT_RANDOM_MAX_K => (DEFAULT_SUBSETS, Some(1)),
            Subsets::Default => {
                return Err(ErrorKind::InvalidSetting(format!(
                    "GOSH on k = {k} studies ({all_text} subsets) needs a number of random \
                     subsets ({} N) above {DEFAULT_RANDOM_MAX_K} studies",
                    Setting::Subsets
                ))
                .into());
            }
            Subsets::Random { count: 0, .. } => {
                return Err(
                    ErrorKind::InvalidSetting("GOSH needs at least one subset".into()).into(),
                );
            }
            Subsets::Random { count, .. } if count > MAX_SUBSETS => {
                return Err(ErrorKind::InvalidSetting(format!(
                    "GOSH fits at most {MAX_SUBSETS} subsets; {} asks for {count}",
                    Setting::Subsets
                ))
                .into());
            }
            Subsets::Random { count, .. } if all.is_some_and(|all| count >= all) => {
                (all.unwrap_or(u64::MAX), None)
            }
            Subsets::Random { count, seed } => (count, Some(seed)),
        };
        Ok(Plan {
            k,
            count,
            random: seed,
        })
    }

    /// The members of subset `index`: the bits of index + 1, or a draw that
    /// takes each study with probability ½, repeated until it is not empty
    /// (metafor draws the size from the binomial distribution, then the
    /// studies: the same distribution).
    fn members(&self, index: u64, members: &mut Vec<usize>) {
        members.clear();
        match self.random {
            None => {
                let mask = index + 1;
                members.extend((0..self.k).filter(|&i| mask >> i & 1 == 1));
            }
            Some(seed) => {
                let mut random = SplitMix::for_index(seed, index);
                while members.is_empty() {
                    let mut bits = 0;
                    let mut word = 0;
                    for i in 0..self.k {
                        if bits == 0 {
                            word = random.next_u64();
                            bits = 64;
                        }
                        if word & 1 == 1 {
                            members.push(i);
                        }
                        word >>= 1;
                        bits -= 1;
                    }
                }
            }
        }
    }
}

impl Analysis {
    /// GOSH: the model fitted to subsets of the studies, summarised.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, Measure};
    /// use cochran::sensitivity::Subsets;
    /// let analysis = Analysis::from_csv("datasets/normand1999.csv", &AnalysisOptions::new(Measure::Smd))?;
    /// let gosh = analysis.gosh(Subsets::Default)?;
    /// assert_eq!(gosh.subsets, 511); // 2^9 - 1
    /// assert!(gosh.summary.i2.min == 0.0 && gosh.summary.i2.max > 90.0);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn gosh(&self, subsets: Subsets) -> Result<Gosh> {
        self.gosh_each(subsets, |_| Ok(()))
    }

    /// GOSH, handing every fit to `each` in subset order (to stream them to a file).
    pub fn gosh_each(
        &self,
        subsets: Subsets,
        mut each: impl FnMut(&GoshFit) -> Result<()>,
    ) -> Result<Gosh> {
        let fit = self.fit_for(crate::model::Capability::Gosh)?;
        fit.check_pooled("GOSH", 2)?;
        let plan = Plan::new(fit.k, subsets)?;
        let model = fit.same_model();
        let effects = fit.effects();
        let mut scatter = Scatter::new(effects, plan.count <= MAX_POINTS);
        let mut running = [Running::new(); 4];
        let mut start = 0;
        while start < plan.count {
            let end = (start + BLOCK).min(plan.count);
            let fits = crate::parallel::map_with(
                0..(end - start) as usize,
                || (Vec::new(), Vec::new()),
                |(members, subset), offset| {
                    plan.members(start + offset as u64, members);
                    subset_fit(&model, effects, members, subset)
                },
            )
            .into_iter()
            .collect::<Result<Vec<GoshFit>>>()?;
            for fit in &fits {
                for (r, x) in running
                    .iter_mut()
                    .zip([fit.estimate, fit.i2, fit.tau2, fit.q])
                {
                    r.add(x);
                }
                scatter.add(fit.estimate, fit.i2);
                each(fit)?;
            }
            start = end;
        }
        let [estimate, i2, tau2, q] = running.map(|r| r.spread(plan.count));
        Ok(Gosh {
            k: fit.k,
            subsets: plan.count,
            exhaustive: plan.random.is_none(),
            seed: plan.random,
            summary: GoshSummary {
                estimate,
                i2,
                tau2,
                q,
            },
            scatter,
        })
    }
}

/// The model fitted to the members; one study has no heterogeneity (0, as metafor reports).
fn subset_fit(
    model: &MetaAnalysis,
    effects: &[Effect],
    members: &[usize],
    subset: &mut Vec<Effect>,
) -> Result<GoshFit> {
    subset.clear();
    subset.extend(members.iter().map(|&i| effects[i]));
    let fit: Fit = model.fit(subset)?;
    Ok(GoshFit {
        members: members.to_vec(),
        estimate: fit.estimate,
        se: fit.se,
        tau2: match fit.method {
            Method::Random(_) => fit.tau2,
            _ => 0.0,
        },
        i2: fit.i2.unwrap_or(0.0),
        q: fit.q.unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_of_64_or_more_studies_are_drawn_not_enumerated() {
        // Issue 19, item 12: with k >= 64 a 64-bit mask wrapped.
        for k in [64, 70] {
            let plan = Plan::new(
                k,
                Subsets::Random {
                    count: MAX_SUBSETS,
                    seed: 3,
                },
            )
            .unwrap();
            assert!(plan.random.is_some(), "k = {k}");
            let mut members = Vec::new();
            plan.members(0, &mut members);
            assert!(!members.is_empty() && members.iter().all(|&i| i < k));
        }
        let too_many = Plan::new(
            70,
            Subsets::Random {
                count: u64::MAX,
                seed: 3,
            },
        );
        assert!(too_many.is_err());
        let enumerated = Plan::new(
            10,
            Subsets::Random {
                count: 5000,
                seed: 3,
            },
        )
        .unwrap();
        assert_eq!((enumerated.count, enumerated.random), (1023, None));
    }

    #[test]
    fn random_subsets_are_reproducible_and_never_empty() {
        let plan = Plan::new(40, Subsets::Random { count: 10, seed: 3 }).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for index in 0..10 {
            plan.members(index, &mut a);
            plan.members(index, &mut b);
            assert_eq!(a, b);
            assert!(!a.is_empty() && a.iter().all(|&i| i < 40));
        }
    }

    #[test]
    fn as_many_subsets_as_there_are_means_all_of_them() {
        let plan = Plan::new(
            4,
            Subsets::Random {
                count: 100,
                seed: 3,
            },
        )
        .unwrap();
        assert_eq!((plan.count, plan.random), (15, None));
        assert!(Plan::new(31, Subsets::Default).is_err());
        assert_eq!(
            Plan::new(25, Subsets::Default).unwrap().count,
            DEFAULT_SUBSETS
        );
    }
}
