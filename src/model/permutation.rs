//! Permutation tests of a meta-regression, as metafor's `permutest()` runs them:
//! the rows of the model matrix are permuted against the effects, the model is
//! refitted, and each p-value is the share of permutations whose statistic is
//! at least as extreme as the observed one.
//!
//! When the requested number of permutations reaches the number of distinct
//! ones (k! over the factorials of the multiplicities of identical rows), every
//! distinct permutation is enumerated (an exact test). Otherwise permutation i
//! is drawn from a generator seeded by the seed and i alone, so results are the
//! same whatever the number of threads; the first is the observed order.

use crate::setting::Setting;
use serde::Serialize;

use super::design::Design;
use super::{MetaAnalysis, Regression};
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};
use crate::stats::SplitMix;

/// Permutations fitted at a time: the memory a test holds, whatever the
/// number of permutations asked for.
const CHUNK: usize = 4096;

/// Counts, as the permutations are fitted, of those at least as extreme as
/// the observed statistics.
struct Tally {
    permutations: usize,
    fitted: u64,
    beyond: Vec<u64>,
    qm_beyond: u64,
}

impl Tally {
    fn new(p: usize) -> Tally {
        Tally {
            permutations: 0,
            fitted: 0,
            beyond: vec![0; p],
            qm_beyond: 0,
        }
    }

    /// Counts a chunk's fits; a permutation whose model failed counts in
    /// neither the shares' numerators nor their denominators.
    fn add(&mut self, observed: &Statistics, fits: &[Option<Statistics>]) {
        self.permutations += fits.len();
        for s in fits.iter().flatten() {
            self.fitted += 1;
            for (j, count) in self.beyond.iter_mut().enumerate() {
                let bar = observed.0[j].abs() - COMPARISON_TOLERANCE;
                *count += u64::from(s.0[j].abs() >= bar);
            }
            self.qm_beyond += u64::from(s.1 >= observed.1 - COMPARISON_TOLERANCE);
        }
    }

    fn share(&self, count: u64) -> f64 {
        count as f64 / self.fitted as f64
    }
}

/// metafor's comparison tolerance: √ε.
const COMPARISON_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// The outcome of a permutation test.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PermutationTest {
    /// The number of permutations fitted (all distinct ones when exact).
    pub permutations: usize,
    /// True when every distinct permutation was enumerated.
    pub exact: bool,
    /// The seed of the random permutations (`None` when exact).
    pub seed: Option<u64>,
    /// Permutation p-values of the coefficients, in model order.
    pub p_values: Vec<f64>,
    /// Permutation p-value of the omnibus test QM.
    pub qm_p_value: f64,
}

/// The statistics of one refit: each coefficient's z (or t), and QM.
type Statistics = (Vec<f64>, f64);

impl MetaAnalysis {
    /// Runs a permutation test of this meta-regression with `permutations`
    /// permutations (exact when that reaches the number of distinct ones).
    ///
    /// ```
    /// use cochran::{Design, Effect, MetaAnalysis, Tau2};
    /// let effects: Vec<Effect> = [(-0.9, 0.03), (-1.6, 0.02), (-0.2, 0.05), (-1.4, 0.01), (-0.3, 0.04)]
    ///     .iter().map(|&(y, v)| Effect::new(y, v)).collect::<Result<_, _>>()?;
    /// let design = Design::builder(5).numeric("latitude", &[44.0, 55.0, 13.0, 52.0, 19.0])?.build()?;
    /// let model = MetaAnalysis::random(Tau2::Reml).moderators(design);
    /// let test = model.permutation_test(&effects, 1000, 1)?;
    /// assert!(test.exact && test.permutations == 120); // 5! orders
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn permutation_test(
        &self,
        effects: &[Effect],
        permutations: usize,
        seed: u64,
    ) -> Result<PermutationTest> {
        let design = self.design.as_ref().ok_or_else(|| {
            ErrorKind::InvalidSetting(format!(
                "a permutation test needs moderators ({})",
                Setting::Moderators
            ))
        })?;
        if permutations < 2 {
            return Err(ErrorKind::InvalidSetting(format!(
                "a permutation test needs at least 2 permutations, found {permutations}"
            ))
            .into());
        }
        let observed = self.statistics(effects, Design::clone(design))?;
        let groups = row_groups(design);
        let distinct = distinct_permutations(&groups);
        let exact = distinct <= permutations as f64;
        let representative = representatives(&groups);
        let fit = |rows: Vec<usize>| self.statistics(effects, design.select(&rows)).ok();
        let mut tally = Tally::new(design.p());
        if exact {
            let mut arrangement = groups.clone();
            arrangement.sort_unstable();
            let mut more = true;
            while more {
                let mut chunk = Vec::with_capacity(CHUNK);
                while more && chunk.len() < CHUNK {
                    chunk.push(arrangement.clone());
                    more = next_permutation(&mut arrangement);
                }
                tally.add(
                    &observed,
                    &crate::parallel::map(0..chunk.len(), |i| {
                        fit(chunk[i].iter().map(|&g| representative[g]).collect())
                    }),
                );
            }
        } else {
            // The first permutation is the observed order.
            tally.add(&observed, &[Some(observed.clone())]);
            for start in (1..permutations).step_by(CHUNK) {
                let end = (start + CHUNK).min(permutations);
                tally.add(
                    &observed,
                    &crate::parallel::map(start..end, |i| fit(random_order(design.k(), seed, i))),
                );
            }
        }
        Ok(PermutationTest {
            permutations: tally.permutations,
            exact,
            seed: (!exact).then_some(seed),
            p_values: tally
                .beyond
                .iter()
                .map(|&n| tally.share(n).min(1.0))
                .collect(),
            qm_p_value: tally.share(tally.qm_beyond),
        })
    }

    /// The coefficients' statistics and QM of the model on this design.
    fn statistics(&self, effects: &[Effect], design: Design) -> Result<Statistics> {
        let model = MetaAnalysis {
            design: Some(std::sync::Arc::new(design)),
            fixed_tau2: self.fixed_tau2,
            ..MetaAnalysis::new(self.method)
                .test(self.test)
                .level(self.level)
        };
        let regression: Regression = model.fit_regression(effects)?;
        let z = regression
            .coefficients
            .iter()
            .map(|c| c.statistic)
            .collect();
        Ok((z, regression.qm))
    }
}

/// For each study, the index of its group of identical model-matrix rows,
/// groups numbered in sorted row order.
fn row_groups(design: &Design) -> Vec<usize> {
    let rows: Vec<Vec<f64>> = (0..design.k()).map(|i| design.row(i)).collect();
    let mut distinct: Vec<&Vec<f64>> = rows.iter().collect();
    distinct.sort_by(|a, b| {
        a.iter()
            .zip(b.iter())
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    distinct.dedup();
    rows.iter()
        .map(|r| {
            distinct
                .iter()
                .position(|d| *d == r)
                .expect("every row is listed")
        })
        .collect()
}

/// One study of each group.
fn representatives(groups: &[usize]) -> Vec<usize> {
    let count = groups.iter().max().map_or(0, |m| m + 1);
    (0..count)
        .map(|g| {
            groups
                .iter()
                .position(|&x| x == g)
                .expect("groups are dense")
        })
        .collect()
}

/// k! / Π mᵍ!, as a float (infinite when it is beyond counting).
fn distinct_permutations(groups: &[usize]) -> f64 {
    let count = groups.iter().max().map_or(0, |m| m + 1);
    let mut multiplicities = vec![0usize; count];
    for &g in groups {
        multiplicities[g] += 1;
    }
    let mut value = 1.0f64;
    let mut n = 0usize;
    for m in multiplicities {
        // Multiply in the binomial coefficients C(n + m, m), one factor at a time.
        for j in 1..=m {
            n += 1;
            value = value * n as f64 / j as f64;
        }
    }
    value.round()
}

/// Every distinct arrangement of the group labels, in lexicographic order.
#[cfg(test)]
fn multiset_permutations(groups: &[usize]) -> Vec<Vec<usize>> {
    let mut current: Vec<usize> = groups.to_vec();
    current.sort_unstable();
    let mut all = vec![current.clone()];
    while next_permutation(&mut current) {
        all.push(current.clone());
    }
    all
}

/// The next lexicographic arrangement, false after the last.
fn next_permutation(items: &mut [usize]) -> bool {
    let Some(pivot) = (1..items.len()).rev().find(|&i| items[i - 1] < items[i]) else {
        return false;
    };
    let swap = (pivot..items.len())
        .rev()
        .find(|&j| items[j] > items[pivot - 1])
        .expect("a larger item exists after the pivot");
    items.swap(pivot - 1, swap);
    items[pivot..].reverse();
    true
}

/// Permutation `index` of 0..k, from a generator seeded by the seed and the index.
fn random_order(k: usize, seed: u64, index: usize) -> Vec<usize> {
    let mut random = SplitMix::for_index(seed, index as u64);
    let mut order: Vec<usize> = (0..k).collect();
    for i in (1..k).rev() {
        let j = (random.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_arrangements_of_a_multiset_are_counted_and_enumerated() {
        let groups = [0, 1, 1, 2];
        assert_eq!(distinct_permutations(&groups), 12.0);
        let all = multiset_permutations(&groups);
        assert_eq!(all.len(), 12);
        let mut unique = all.clone();
        unique.dedup();
        assert_eq!(unique.len(), 12);
        assert_eq!(distinct_permutations(&[0; 30]), 1.0);
        assert!(distinct_permutations(&(0..200).collect::<Vec<_>>()).is_infinite());
    }

    #[test]
    fn random_orders_are_permutations_fixed_by_seed_and_index() {
        let a = random_order(13, 7, 42);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..13).collect::<Vec<_>>());
        assert_eq!(a, random_order(13, 7, 42));
        assert_ne!(a, random_order(13, 7, 43));
    }
}
