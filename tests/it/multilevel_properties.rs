//! Invariants of the three-level model, CR2 and RVE over generated clustered
//! data: scale equivariance (c = 2^±20), location equivariance, order
//! invariance (of clusters and of effects within them), independence from the
//! number of threads, and the ranges of σ², I², df and intervals.
//!
//! `PROPTEST_CASES=2000 cargo test --release --test multilevel_properties` runs more cases.

use crate::common;

use cochran::{Clusters, Effect, Rve, Tau2, Test, ThreeLevel, ThreeLevelFit};
use proptest::prelude::*;

/// 2–8 clusters of 1–4 effects (at least one cluster with two), variances
/// over up to six decades, cluster and effect spreads from none to large.
fn clustered() -> impl Strategy<Value = (Vec<Effect>, Vec<String>)> {
    (
        proptest::collection::vec(1usize..=4, 2..=8),
        0.0f64..6.0,
        prop_oneof![Just(0.0), 0.0f64..4.0],
        prop_oneof![Just(0.0), 0.0f64..4.0],
        any::<u64>(),
    )
        .prop_map(|(mut sizes, decades, between, within, seed)| {
            sizes[0] = sizes[0].max(2);
            let mut state = seed | 1;
            let mut uniform = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let mut effects = Vec::new();
            let mut labels = Vec::new();
            for (c, &n) in sizes.iter().enumerate() {
                let shift = (uniform() - 0.5) * between.sqrt() * 3.0;
                for _ in 0..n {
                    let vi = 10f64.powf(uniform() * decades - decades / 2.0);
                    let yi = 0.3
                        + shift
                        + (uniform() - 0.5) * within.sqrt() * 3.0
                        + (uniform() - 0.5) * vi.sqrt() * 3.0;
                    effects.push(Effect::new(yi, vi).unwrap());
                    labels.push(format!("c{c}"));
                }
            }
            (effects, labels)
        })
}

fn models() -> Vec<ThreeLevel> {
    [Tau2::Reml, Tau2::Ml]
        .into_iter()
        .flat_map(|m| [Test::Z, Test::Knha].map(move |t| ThreeLevel::reml().estimator(m).test(t)))
        .collect()
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-6 * (a.abs().max(b.abs()) + scale)
}

/// The fits agree after mapping locations through `location` and standard
/// deviations through `factor`.
fn equivalent(
    a: &ThreeLevelFit,
    b: &ThreeLevelFit,
    location: impl Fn(f64) -> f64,
    factor: f64,
    v: f64,
) -> Result<(), String> {
    let se = b.se;
    let checks = [
        ("estimate", location(a.estimate), b.estimate, se),
        ("ci_lower", location(a.ci_lower), b.ci_lower, se),
        ("ci_upper", location(a.ci_upper), b.ci_upper, se),
        ("se", a.se * factor, b.se, 0.0),
        (
            "sigma2_cluster",
            a.sigma2_cluster * factor * factor,
            b.sigma2_cluster,
            v,
        ),
        (
            "sigma2_within",
            a.sigma2_within * factor * factor,
            b.sigma2_within,
            v,
        ),
        ("i2", a.i2, b.i2, 1.0),
        ("q", a.q, b.q, 1e-9),
    ];
    for (name, x, y, scale) in checks {
        if !close(x, y, scale) {
            return Err(format!("{} {}: {name} {x:e} vs {y:e}", a.method, a.test));
        }
    }
    Ok(())
}

fn smallest_variance(effects: &[Effect]) -> f64 {
    effects.iter().map(|e| e.vi).fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scale_and_location_equivariance((effects, labels) in clustered(), power in -20i32..=20, shift in -1e3f64..1e3) {
        let clusters = Clusters::new(&labels).unwrap();
        let c = 2f64.powi(power);
        let scaled: Vec<Effect> = effects.iter().map(|e| Effect::new(e.yi * c, e.vi * c * c).unwrap()).collect();
        let shifted: Vec<Effect> = effects.iter().map(|e| Effect::new(e.yi + shift, e.vi).unwrap()).collect();
        let v = smallest_variance(&effects);
        for model in models() {
            let fit = model.fit(&effects, &clusters).unwrap();
            let s = model.fit(&scaled, &clusters).unwrap();
            equivalent(&fit, &s, |x| x * c, c, v * c * c).map_err(TestCaseError::fail)?;
            let m = model.fit(&shifted, &clusters).unwrap();
            equivalent(&fit, &m, |x| x + shift, 1.0, v).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn order_invariance((effects, labels) in clustered(), rotate in 0usize..100) {
        // Clusters in another order, and the effects within them reversed.
        let k = effects.len();
        let order: Vec<usize> = (0..k).map(|i| (i + rotate) % k).rev().collect();
        let permuted: Vec<Effect> = order.iter().map(|&i| effects[i]).collect();
        let permuted_labels: Vec<String> = order.iter().map(|&i| labels[i].clone()).collect();
        let (a, b) = (Clusters::new(&labels).unwrap(), Clusters::new(&permuted_labels).unwrap());
        let v = smallest_variance(&effects);
        for model in models() {
            let fit = model.fit(&effects, &a).unwrap();
            let other = model.fit(&permuted, &b).unwrap();
            equivalent(&fit, &other, |x| x, 1.0, v).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn ranges((effects, labels) in clustered()) {
        let clusters = Clusters::new(&labels).unwrap();
        for model in models() {
            let fit = model.fit(&effects, &clusters).unwrap();
            prop_assert!(fit.sigma2_cluster >= 0.0 && fit.sigma2_within >= 0.0);
            prop_assert!((0.0..=100.0).contains(&fit.i2));
            prop_assert!((fit.i2_cluster + fit.i2_within - fit.i2).abs() < 1e-9);
            prop_assert!(fit.ci_lower <= fit.estimate && fit.estimate <= fit.ci_upper);
            prop_assert!(fit.pi_lower <= fit.ci_lower && fit.ci_upper <= fit.pi_upper);
            let weights: f64 = fit.weights().iter().sum();
            prop_assert!((weights - 100.0).abs() < 1e-9);
            for r in fit.robust().unwrap() {
                prop_assert!(!r.is_estimable() || (r.df > 0.0 && r.se > 0.0 && r.ci_lower <= r.ci_upper));
            }
        }
        let rve = Rve::new(0.8).unwrap().fit(&effects, &clusters).unwrap();
        prop_assert!(rve.tau2 >= 0.0);
        prop_assert!(rve.coefficients.iter().all(|c| !c.is_estimable() || c.df > 0.0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// No point of a grid over both components (and the two boundaries) has a
    /// higher likelihood than the fit: the maximum found is the global one.
    #[test]
    fn the_maximum_is_global((effects, labels) in clustered()) {
        let clusters = Clusters::new(&labels).unwrap();
        let spread = effects.iter().map(|e| e.yi).fold(f64::NEG_INFINITY, f64::max)
            - effects.iter().map(|e| e.yi).fold(f64::INFINITY, f64::min);
        let low = smallest_variance(&effects) / 16.0;
        let high = spread * spread + effects.iter().map(|e| e.vi).fold(0.0, f64::max);
        let steps = 24;
        let grid: Vec<f64> = std::iter::once(0.0)
            .chain((0..=steps).map(|i| low * (high / low).powf(i as f64 / steps as f64)))
            .collect();
        for model in models().into_iter().step_by(2) {
            let fit = model.fit(&effects, &clusters).unwrap();
            let tolerance = 1e-9 * fit.log_likelihood.abs().max(1.0);
            for &a in &grid {
                for &b in &grid {
                    let Some(ll) = fit.log_likelihood_at(a, b) else { continue };
                    prop_assert!(
                        ll <= fit.log_likelihood + tolerance,
                        "{}: ll {} at ({a:e}, {b:e}) above the fit's {} at ({:e}, {:e})",
                        fit.method, ll, fit.log_likelihood, fit.sigma2_cluster, fit.sigma2_within
                    );
                }
            }
        }
    }
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    // More clusters than one parallel chunk holds.
    let labels: Vec<String> = (0..20_000).map(|i| format!("c{}", i / 4)).collect();
    let effects: Vec<Effect> = (0..20_000)
        .map(|i| {
            let x = i as f64;
            let vi = 0.01 + 0.05 * (x * 0.37).sin().abs();
            Effect::new(
                0.2 + 0.3 * ((i / 4) as f64 * 0.71).sin() + 0.2 * (x * 1.3).cos(),
                vi,
            )
            .unwrap()
        })
        .collect();
    let clusters = Clusters::new(&labels).unwrap();
    let fit = |threads| {
        common::with_threads(threads, || {
            ThreeLevel::reml().fit(&effects, &clusters).unwrap()
        })
    };
    let (one, two) = (fit(1), fit(2));
    assert_eq!(one.estimate.to_bits(), two.estimate.to_bits());
    assert_eq!(one.sigma2_cluster.to_bits(), two.sigma2_cluster.to_bits());
    assert_eq!(one.sigma2_within.to_bits(), two.sigma2_within.to_bits());
}

#[test]
fn a_flat_likelihood_converges() {
    // Found by the properties above: σ²_cluster sits where the likelihood is
    // nearly flat, and rounding in the score moved it by more than the step
    // tolerance at every iteration (2,000 iterations, then an error).
    let data = [
        (2.066146677834057, 6.901391197350235),
        (20.195370371261358, 161.3718001267495),
        (4.54586159398253, 0.3103841534134822),
        (4.203520173821604, 0.2594225268451226),
        (1.324653438510626, 53.03134329321897),
        (-1.9559936839564913, 0.005522556728009533),
        (4.130988770248036, 324.14827531651383),
    ];
    let effects: Vec<Effect> = data
        .iter()
        .map(|&(y, v)| Effect::new(y, v).unwrap())
        .collect();
    let clusters = Clusters::new(&["c0", "c0", "c0", "c0", "c1", "c1", "c1"]).unwrap();
    for model in models() {
        let fit = model.fit(&effects, &clusters).unwrap();
        assert!(fit.iterations < 100, "{} iterations", fit.iterations);
        assert!(fit.sigma2_cluster > 0.0 && fit.sigma2_within == 0.0);
    }
}
