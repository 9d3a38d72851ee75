//! Kendall's rank correlation τ_b and its test, as R's `cor.test(method =
//! "kendall", exact = TRUE)` computes them.

use crate::stats::standard_normal;
use statrs::distribution::ContinuousCDF;

/// Up to this many pairs of values the exact null distribution is computed
/// (O(n³) operations, about 0.03 s at the limit); beyond it, and with ties,
/// the normal approximation.
pub(crate) const EXACT_MAX: usize = 500;

/// Kendall's τ_b with its two-sided p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KendallTest {
    pub tau: f64,
    pub p_value: f64,
    /// Whether the p-value is exact (no ties, n ≤ [`EXACT_MAX`]).
    pub exact: bool,
    /// Whether either variable has ties.
    pub ties: bool,
}

/// τ_b in O(n log n) (Knight's algorithm): pairs sorted by x then y, the
/// discordant pairs counted as the exchanges of a merge sort by y.
pub(crate) fn kendall_test(x: &[f64], y: &[f64]) -> KendallTest {
    // −0 and 0 are one value: sorting (total_cmp) and ties (==) must agree.
    let positive_zero = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x + 0.0).collect() };
    let (x, y) = (&positive_zero(x)[..], &positive_zero(y)[..]);
    let n = x.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
    let pairs = |t: u64| t * t.saturating_sub(1) / 2;
    let (mut tied_x, mut tied_both) = (Vec::new(), 0u64);
    for run in order.chunk_by(|&a, &b| x[a] == x[b]) {
        tied_x.push(run.len() as u64);
        for both in run.chunk_by(|&a, &b| y[a] == y[b]) {
            tied_both += pairs(both.len() as u64);
        }
    }
    let mut ys: Vec<f64> = order.iter().map(|&i| y[i]).collect();
    let discordant = exchanges(&mut ys);
    let tied_y: Vec<u64> = ys.chunk_by(|a, b| a == b).map(|r| r.len() as u64).collect();
    let total = pairs(n as u64) as f64;
    let n1 = tied_x.iter().map(|&t| pairs(t)).sum::<u64>() as f64;
    let n2 = tied_y.iter().map(|&t| pairs(t)).sum::<u64>() as f64;
    let score = total - n1 - n2 + tied_both as f64 - 2.0 * discordant as f64;
    let tau = score / ((total - n1) * (total - n2)).sqrt();
    let ties = tied_x.len() < n || tied_y.len() < n;
    if !ties && n <= EXACT_MAX {
        let concordant = ((tau + 1.0) * total / 2.0).round() as u64;
        return KendallTest {
            tau,
            p_value: exact_p_value(concordant, n),
            exact: true,
            ties,
        };
    }
    KendallTest {
        tau,
        p_value: normal_p_value(tau, n, &tied_x, &tied_y),
        exact: false,
        ties,
    }
}

/// Sorts `values` (stable merge sort) and returns how many pairs were out of order.
fn exchanges(values: &mut [f64]) -> u64 {
    let n = values.len();
    if n < 2 {
        return 0;
    }
    let (left, right) = values.split_at_mut(n / 2);
    let mut count = exchanges(left) + exchanges(right);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if right[j] < left[i] {
            count += (left.len() - i) as u64;
            merged.push(right[j]);
            j += 1;
        } else {
            merged.push(left[i]);
            i += 1;
        }
    }
    merged.extend_from_slice(&left[i..]);
    merged.extend_from_slice(&right[j..]);
    values.copy_from_slice(&merged);
    count
}

/// Two-sided exact p-value of `concordant` pairs among n values without ties:
/// the number of concordant pairs of a random permutation has the Mahonian
/// distribution, symmetric about n(n − 1)/4.
fn exact_p_value(concordant: u64, n: usize) -> f64 {
    let total = (n * n.saturating_sub(1) / 2) as u64;
    let nearer_tail = concordant.min(total - concordant) as usize;
    (2.0 * lower_tail(nearer_tail, n)).min(1.0)
}

/// P(T ≤ m) for the number T of inversions of a random permutation of n,
/// built up one element at a time: adding the j-th element adds 0 … j − 1
/// inversions with equal probability.
fn lower_tail(m: usize, n: usize) -> f64 {
    let mut density = vec![0.0; m + 1];
    density[0] = 1.0;
    for j in 2..=n {
        // A running sum of the previous density over a window of width j.
        let mut window = 0.0;
        let previous = density.clone();
        for s in 0..=m {
            window += previous[s];
            if s >= j {
                window -= previous[s - j];
            }
            density[s] = window / j as f64;
        }
    }
    density.iter().sum()
}

/// The normal approximation with R's variance correction for ties.
fn normal_p_value(tau: f64, n: usize, tied_x: &[u64], tied_y: &[u64]) -> f64 {
    let n = n as f64;
    let sum =
        |ties: &[u64], f: &dyn Fn(f64) -> f64| -> f64 { ties.iter().map(|&t| f(t as f64)).sum() };
    let t0 = n * (n - 1.0) / 2.0;
    let t1 = sum(tied_x, &|t| t * (t - 1.0)) / 2.0;
    let t2 = sum(tied_y, &|t| t * (t - 1.0)) / 2.0;
    let s = tau * ((t0 - t1) * (t0 - t2)).sqrt();
    let v0 = n * (n - 1.0) * (2.0 * n + 5.0);
    let vt = sum(tied_x, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(tied_y, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let v1 = sum(tied_x, &|t| t * (t - 1.0)) * sum(tied_y, &|t| t * (t - 1.0));
    let v2 =
        sum(tied_x, &|t| t * (t - 1.0) * (t - 2.0)) * sum(tied_y, &|t| t * (t - 1.0) * (t - 2.0));
    let variance =
        (v0 - vt - vu) / 18.0 + v1 / (2.0 * n * (n - 1.0)) + v2 / (9.0 * n * (n - 1.0) * (n - 2.0));
    let z = s / variance.sqrt();
    2.0 * standard_normal().sf(z.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_zero_is_zero() {
        // Issue 19, item 9: an effect written -0.00 changed τ.
        let y = [2.0, 1.0, 3.0, 4.0];
        let signed = kendall_test(&[-0.0, 0.0, 1.0, 2.0], &y);
        assert_eq!(signed, kendall_test(&[0.0, 0.0, 1.0, 2.0], &y));
        assert_eq!(signed.tau, tau_b_by_pairs(&[0.0, 0.0, 1.0, 2.0], &y));
        let swapped = kendall_test(&y, &[-0.0, 0.0, 1.0, 2.0]);
        assert_eq!(swapped, kendall_test(&y, &[0.0, 0.0, 1.0, 2.0]));
    }

    /// The straightforward O(n²) count the fast algorithm must agree with.
    fn tau_b_by_pairs(x: &[f64], y: &[f64]) -> f64 {
        let (mut score, mut untied_x, mut untied_y) = (0.0, 0.0, 0.0);
        for i in 0..x.len() {
            for j in 0..i {
                let (dx, dy) = ((x[i] - x[j]).signum(), (y[i] - y[j]).signum());
                let (dx, dy) = (
                    if x[i] == x[j] { 0.0 } else { dx },
                    if y[i] == y[j] { 0.0 } else { dy },
                );
                score += dx * dy;
                untied_x += dx.abs();
                untied_y += dy.abs();
            }
        }
        score / (untied_x * untied_y).sqrt()
    }

    #[test]
    fn merge_sort_counting_agrees_with_counting_pairs() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        let y = [2.0, 7.0, 1.0, 8.0, 2.0, 8.0, 1.0, 8.0, 2.0, 8.0, 4.0];
        let test = kendall_test(&x, &y);
        assert!((test.tau - tau_b_by_pairs(&x, &y)).abs() < 1e-15);
        assert!(test.ties && !test.exact);
    }

    #[test]
    fn the_exact_distribution_sums_to_one_and_is_symmetric() {
        for n in 1..12 {
            let total = n * (n - 1) / 2;
            assert!((lower_tail(total, n) - 1.0).abs() < 1e-14);
            if total > 0 {
                let below = lower_tail(total / 2, n);
                let above = 1.0 - lower_tail(total - total / 2 - 1, n);
                assert!((below - above).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn a_perfect_ordering_has_probability_one_over_n_factorial() {
        let x: Vec<f64> = (0..6).map(f64::from).collect();
        let test = kendall_test(&x, &x);
        assert_eq!(test.tau, 1.0);
        assert!((test.p_value - 2.0 / 720.0).abs() < 1e-16);
    }
}
