//! The probability distributions the crate needs, in one place. statrs does the
//! work, except for the t quantile at large degrees of freedom.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

/// The standard normal distribution.
pub(crate) fn standard_normal() -> Normal {
    Normal::standard()
}

/// The `p` quantile of the standard normal distribution.
pub(crate) fn standard_normal_quantile(p: f64) -> f64 {
    standard_normal().inverse_cdf(p)
}

/// The χ² distribution with `df` > 0 degrees of freedom.
pub(crate) fn chi_squared(df: f64) -> ChiSquared {
    ChiSquared::new(df).expect("df > 0 is checked by the caller")
}

/// The upper tail P(T > t) of Student's t with `df` > 0 degrees of freedom.
pub(crate) fn t_upper_tail(t: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0 is checked by the caller")
        .sf(t)
}

/// Above this many degrees of freedom statrs 0.19's t quantile loses accuracy
/// (relative error 3e-7 at 30,000, 6e-5 at 10⁶ against R's `qt`) and can hang,
/// while the expansion in [`t_quantile_expansion`] is exact to 1e-13 from here on.
const T_EXPANSION_DF: f64 = 1000.0;

/// The `p` quantile of Student's t with `df` > 0 degrees of freedom.
pub(crate) fn t_quantile(p: f64, df: f64) -> f64 {
    if df > T_EXPANSION_DF {
        return t_quantile_expansion(p, df);
    }
    StudentsT::new(0.0, 1.0, df)
        .expect("df > 0 is checked by the caller")
        .inverse_cdf(p)
}

/// Abramowitz & Stegun 26.7.5: the t quantile as the normal one plus four
/// correction terms in 1/df.
fn t_quantile_expansion(p: f64, df: f64) -> f64 {
    let x = standard_normal().inverse_cdf(p);
    let g1 = (x.powi(3) + x) / 4.0;
    let g2 = (5.0 * x.powi(5) + 16.0 * x.powi(3) + 3.0 * x) / 96.0;
    let g3 = (3.0 * x.powi(7) + 19.0 * x.powi(5) + 17.0 * x.powi(3) - 15.0 * x) / 384.0;
    let g4 = (79.0 * x.powi(9) + 776.0 * x.powi(7) + 1482.0 * x.powi(5)
        - 1920.0 * x.powi(3)
        - 945.0 * x)
        / 92160.0;
    x + g1 / df + g2 / df.powi(2) + g3 / df.powi(3) + g4 / df.powi(4)
}

/// SplitMix64: a small, fast generator whose stream for draw `index` depends
/// only on the seed and the index, so that parallel draws are the same
/// whatever the number of threads.
pub(crate) struct SplitMix {
    state: u64,
}

impl SplitMix {
    /// The generator of draw `index` under `seed`.
    pub(crate) fn for_index(seed: u64, index: u64) -> Self {
        SplitMix {
            state: seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expansion_meets_statrs_where_both_are_accurate() {
        for p in [0.95, 0.975, 0.995] {
            let (exact, expanded) = (t_quantile(p, 1000.0), t_quantile_expansion(p, 1000.0));
            assert!(
                (exact - expanded).abs() < 1e-9,
                "{p}: {exact} vs {expanded}"
            );
        }
    }

    #[test]
    fn huge_degrees_of_freedom_approach_the_normal_quickly() {
        let z = standard_normal().inverse_cdf(0.975);
        let t = t_quantile(0.975, 1e8);
        assert!(t > z && t - z < 1e-7, "{t} vs {z}");
    }
}
