//! Invariants of every τ² estimator × test, as properties over generated data:
//! scale equivariance (c = 2^±20), location equivariance, order invariance, the
//! ranges of τ², I² and intervals, and a finite subgroup test.
//!
//! `PROPTEST_CASES=10000 cargo test --test properties` runs more cases.

use cochran::{Effect, Fit, MetaAnalysis, Method, Tau2, Test, subgroup_difference};
use proptest::prelude::*;

/// Every model: the common effect and each τ² estimator, under z and Knapp–Hartung.
fn models() -> Vec<MetaAnalysis> {
    let methods = std::iter::once(Method::Common).chain(Tau2::ALL.map(Method::Random));
    methods
        .flat_map(|m| [Test::Z, Test::Knha].map(|t| MetaAnalysis::new(m).test(t)))
        .collect()
}

/// k effects with variances log-uniform over up to twelve decades, sometimes
/// with between-study spread far above the variances.
fn datasets() -> impl Strategy<Value = Vec<Effect>> {
    (
        2usize..=12,
        0.0f64..12.0,
        prop_oneof![Just(0.0), 0.0f64..1e3],
    )
        .prop_flat_map(|(k, decades, spread)| {
            proptest::collection::vec((-1.0f64..1.0, 0.0f64..1.0, -3.0f64..3.0), k).prop_map(
                move |draws| {
                    draws
                        .into_iter()
                        .map(|(u, e, z)| {
                            let vi = 10f64.powf(e * decades - decades / 2.0);
                            let yi = 0.3 + u * spread.sqrt() + z * vi.sqrt();
                            Effect::new(yi, vi).unwrap()
                        })
                        .collect()
                },
            )
        })
}

fn close(a: f64, b: f64, scale: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * (a.abs().max(b.abs()) + scale)
}

/// The statistics of two fits agree, with locations compared after mapping the
/// first through `location` and variances through `variance`.
fn equivalent(
    a: &Fit,
    b: &Fit,
    location: impl Fn(f64) -> f64,
    factor: f64,
    tolerance: f64,
) -> std::result::Result<(), String> {
    let se = b.se;
    let v = b
        .effects()
        .iter()
        .map(|e| e.vi)
        .fold(f64::INFINITY, f64::min);
    let checks = [
        ("estimate", location(a.estimate), b.estimate, se),
        ("ci_lower", location(a.ci_lower), b.ci_lower, se),
        ("ci_upper", location(a.ci_upper), b.ci_upper, se),
        ("se", a.se * factor, b.se, 0.0),
        ("tau2", a.tau2 * factor * factor, b.tau2, v),
        ("i2", a.i2.unwrap_or(0.0), b.i2.unwrap_or(0.0), 1.0),
        ("q", a.q.unwrap_or(0.0), b.q.unwrap_or(0.0), 1e-12),
    ];
    for (name, x, y, scale) in checks {
        if !close(x, y, scale, tolerance) {
            return Err(format!("{} {}: {name} {x:e} vs {y:e}", a.method, a.test));
        }
    }
    Ok(())
}

fn ranges(fit: &Fit) -> std::result::Result<(), String> {
    let label = format!("{} {}", fit.method, fit.test);
    let mut problems = Vec::new();
    if !(fit.tau2 >= 0.0 && fit.tau2.is_finite()) {
        problems.push(format!("tau2 = {}", fit.tau2));
    }
    if let Some(i2) = fit.i2
        && !(0.0..=100.0).contains(&i2)
    {
        problems.push(format!("I2 = {i2}"));
    }
    if !(fit.ci_lower <= fit.estimate && fit.estimate <= fit.ci_upper) {
        problems.push(format!(
            "CI [{}, {}] misses {}",
            fit.ci_lower, fit.ci_upper, fit.estimate
        ));
    }
    if let (Some(lo), Some(hi)) = (fit.pi_lower, fit.pi_upper)
        && !(lo <= fit.ci_lower && fit.ci_upper <= hi)
    {
        problems.push(format!("PI [{lo}, {hi}] inside the CI"));
    }
    if let Some(interval) = fit.tau2_interval().map_err(|e| e.to_string())? {
        let (lo, hi) = (interval.tau2_ci_lower, interval.tau2_ci_upper);
        if !(0.0 <= lo && lo <= hi && hi.is_finite()) {
            problems.push(format!("tau2 CI [{lo}, {hi}]"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{label}: {}", problems.join("; ")))
    }
}

proptest! {
    #[test]
    fn results_scale_with_the_unit_of_measurement(effects in datasets(), up in any::<bool>()) {
        let c = if up { 2f64.powi(20) } else { 2f64.powi(-20) };
        let scaled: Vec<Effect> =
            effects.iter().map(|e| Effect::new(e.yi * c, e.vi * c * c).unwrap()).collect();
        for model in models() {
            let (a, b) = (model.fit(&effects).unwrap(), model.fit(&scaled).unwrap());
            prop_assert!(equivalent(&a, &b, |x| x * c, c, 1e-12).is_ok(),
                "{}", equivalent(&a, &b, |x| x * c, c, 1e-12).unwrap_err());
            prop_assert_eq!(a.p_value, b.p_value);
        }
    }

    #[test]
    fn results_shift_with_the_origin(effects in datasets(), shift in -100.0f64..100.0) {
        let shifted: Vec<Effect> =
            effects.iter().map(|e| Effect::new(e.yi + shift, e.vi).unwrap()).collect();
        for model in models() {
            let (a, b) = (model.fit(&effects).unwrap(), model.fit(&shifted).unwrap());
            // The shift itself is rounded: agreement to the precision of the shifted data.
            let result = equivalent(&a, &b, |x| x + shift, 1.0, 1e-7);
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
        }
    }

    #[test]
    fn results_do_not_depend_on_the_order_of_the_studies(effects in datasets(), seed in any::<u64>()) {
        let mut shuffled = effects.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for model in models() {
            let (a, b) = (model.fit(&effects).unwrap(), model.fit(&shuffled).unwrap());
            let result = equivalent(&a, &b, |x| x, 1.0, 1e-9);
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
        }
    }

    #[test]
    fn estimates_and_intervals_stay_in_range(effects in datasets()) {
        for model in models() {
            let fit = model.fit(&effects).unwrap();
            let result = ranges(&fit);
            prop_assert!(result.is_ok(), "{}", result.unwrap_err());
        }
    }

    #[test]
    fn the_subgroup_test_is_finite_or_explained(effects in datasets(), split in 1usize..11) {
        let split = split.min(effects.len() - 1);
        for model in models() {
            let fits = [model.fit(&effects[..split]).unwrap(), model.fit(&effects[split..]).unwrap()];
            match subgroup_difference(&fits) {
                Ok(Some(test)) => prop_assert!(test.q.is_finite() && test.p_value.is_finite()),
                Ok(None) => prop_assert!(false, "two subgroups give a test"),
                Err(reason) => prop_assert!(reason.to_string().contains("standard error of 0")),
            }
        }
    }
}

/// k ≥ 4 effects with one numeric moderator.
fn regression_datasets() -> impl Strategy<Value = (Vec<Effect>, Vec<f64>)> {
    datasets()
        .prop_filter("at least four studies", |e| e.len() >= 4)
        .prop_flat_map(|effects| {
            let k = effects.len();
            (Just(effects), proptest::collection::vec(-50.0f64..50.0, k))
        })
}

proptest! {
    #[test]
    fn meta_regression_scales_with_the_unit_of_measurement(
        (effects, x) in regression_datasets(),
        up in any::<bool>(),
    ) {
        let c = if up { 2f64.powi(20) } else { 2f64.powi(-20) };
        let scaled: Vec<Effect> =
            effects.iter().map(|e| Effect::new(e.yi * c, e.vi * c * c).unwrap()).collect();
        let Ok(design) = cochran::Design::builder(x.len()).numeric("x", &x).and_then(|b| b.build())
        else {
            return Ok(()); // a degenerate moderator (collinear with the intercept)
        };
        for method in [Method::Common, Method::Random(Tau2::Dl), Method::Random(Tau2::Reml)] {
            for test in [Test::Z, Test::Knha] {
                let model = MetaAnalysis::new(method).test(test).moderators(design.clone());
                let (Ok(a), Ok(b)) = (model.fit(&effects), model.fit(&scaled)) else {
                    continue; // a perfect fit under Knapp-Hartung is refused on both scales
                };
                let (ra, rb) = (a.regression.as_ref().unwrap(), b.regression.as_ref().unwrap());
                prop_assert!(close(ra.qm, rb.qm, 1e-12, 1e-9), "{method} {test}: QM {} vs {}", ra.qm, rb.qm);
                prop_assert!(close(a.tau2 * c * c, b.tau2, b.effects()[0].vi * 1e-12, 1e-9));
                for (ca, cb) in ra.coefficients.iter().zip(&rb.coefficients) {
                    prop_assert!(close(ca.estimate * c, cb.estimate, cb.se, 1e-9),
                        "{method} {test} {}: {} vs {}", ca.name, ca.estimate * c, cb.estimate);
                    prop_assert!(close(ca.se * c, cb.se, 0.0, 1e-9));
                }
            }
        }
    }
}

/// Effects without ties, as the exact rank test and a clear trim-and-fill side need.
fn distinct_datasets() -> impl Strategy<Value = Vec<Effect>> {
    datasets().prop_filter("k >= 4 and distinct values", |effects| {
        let mut yi: Vec<f64> = effects.iter().map(|e| e.yi).collect();
        let mut vi: Vec<f64> = effects.iter().map(|e| e.vi).collect();
        yi.sort_by(f64::total_cmp);
        vi.sort_by(f64::total_cmp);
        effects.len() >= 4
            && yi.windows(2).all(|w| w[0] != w[1])
            && vi.windows(2).all(|w| w[0] != w[1])
    })
}

proptest! {
    /// Mirroring every effect mirrors the tests of small-study effects: Egger's
    /// statistic, Kendall's τ and the filled estimate change sign, trim-and-fill
    /// fills as many studies on the other side, fail-safe N stays the same.
    #[test]
    fn small_study_tests_mirror_with_the_effects(effects in distinct_datasets()) {
        use cochran::bias::{self, BiasOptions};
        let model = MetaAnalysis::random(Tau2::Dl);
        let mirrored: Vec<Effect> = effects.iter().map(|e| Effect::new(-e.yi, e.vi).unwrap()).collect();
        let (Ok(a), Ok(b)) = (model.fit(&effects), model.fit(&mirrored)) else {
            return Ok(());
        };
        let (Ok(x), Ok(y)) = (
            bias::small_study_effects(&a, &BiasOptions::new()),
            bias::small_study_effects(&b, &BiasOptions::new()),
        ) else {
            return Ok(());
        };
        let scale = effects.iter().map(|e| e.vi.sqrt()).fold(0.0, f64::max);
        prop_assert!(close(x.egger.statistic, -y.egger.statistic, 1e-9, 1e-9));
        prop_assert!(close(x.rank_test.tau, -y.rank_test.tau, 0.0, 1e-12));
        prop_assert!(close(x.rank_test.p_value, y.rank_test.p_value, 0.0, 1e-12));
        // Egger's slope decides the side; where it is (numerically) zero the
        // choice may go either way.
        if x.egger.statistic.abs() > 1e-6 {
            prop_assert_ne!(x.trim_and_fill.side, y.trim_and_fill.side);
            prop_assert_eq!(x.trim_and_fill.k0, y.trim_and_fill.k0);
            prop_assert!(close(x.trim_and_fill.estimate, -y.trim_and_fill.estimate, scale, 1e-8));
        }
        prop_assert_eq!(x.fail_safe_n.rosenthal, y.fail_safe_n.rosenthal);
        prop_assert_eq!(x.fail_safe_n.rosenberg, y.fail_safe_n.rosenberg);
    }
}

mod bayesian {
    use super::*;
    use cochran::model::{BayesianMetaAnalysis, Marginal, Posterior, TauPrior};

    fn fit(effects: &[Effect], scale: f64) -> Posterior {
        BayesianMetaAnalysis::new(TauPrior::HalfNormal { scale })
            .fit(effects)
            .unwrap()
    }

    /// A summary's numbers mapped by `f`, for comparisons.
    fn numbers(m: &Marginal, f: impl Fn(f64) -> f64) -> Vec<(&'static str, f64)> {
        vec![
            ("median", f(m.median)),
            ("mode", f(m.mode)),
            ("central lower", f(m.central[0])),
            ("central upper", f(m.central[1])),
            ("shortest lower", f(m.shortest[0])),
            ("shortest upper", f(m.shortest[1])),
        ]
    }

    fn agree(
        what: &str,
        a: &Marginal,
        b: &Marginal,
        f: impl Fn(f64) -> f64,
        scale: f64,
    ) -> std::result::Result<(), String> {
        for ((name, x), (_, y)) in numbers(a, &f).into_iter().zip(numbers(b, |v| v)) {
            if (x - y).abs() > 1e-8 * (x.abs() + scale) {
                return Err(format!("{what} {name}: {x:e} vs {y:e}"));
            }
        }
        Ok(())
    }

    fn spread(effects: &[Effect]) -> f64 {
        let mut v: Vec<f64> = effects.iter().map(|e| e.vi).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2].sqrt()
    }

    proptest! {
        /// Changing the unit (effects × c, variances × c², the prior's scale × c)
        /// scales every summary by c.
        #[test]
        fn bayesian_summaries_scale_with_the_unit(effects in datasets(), up in any::<bool>()) {
            let c = if up { 2f64.powi(20) } else { 2f64.powi(-20) };
            let s = spread(&effects);
            let scaled: Vec<Effect> = effects
                .iter()
                .map(|e| Effect::new(e.yi * c, e.vi * c * c).unwrap())
                .collect();
            let (a, b) = (fit(&effects, s), fit(&scaled, s * c));
            let tau_scale = b.tau.central[1];
            agree("tau", &a.tau, &b.tau, |x| x * c, tau_scale).map_err(TestCaseError::fail)?;
            let mu_scale = b.mu.central[1] - b.mu.central[0];
            agree("mu", &a.mu, &b.mu, |x| x * c, mu_scale).map_err(TestCaseError::fail)?;
        }

        /// Shifting every effect shifts μ, a new study and the shrunken
        /// estimates, and leaves τ alone; the order of the studies does not matter.
        #[test]
        fn bayesian_summaries_shift_and_ignore_order(effects in datasets(), shift in -1e3f64..1e3) {
            let s = spread(&effects);
            let shifted: Vec<Effect> = effects
                .iter()
                .rev()
                .map(|e| Effect::new(e.yi + shift, e.vi).unwrap())
                .collect();
            let (a, b) = (fit(&effects, s), fit(&shifted, s));
            agree("tau", &a.tau, &b.tau, |x| x, b.tau.central[1]).map_err(TestCaseError::fail)?;
            let width = b.predictive.central[1] - b.predictive.central[0];
            agree("mu", &a.mu, &b.mu, |x| x + shift, width).map_err(TestCaseError::fail)?;
            agree("new study", &a.predictive, &b.predictive, |x| x + shift, width)
                .map_err(TestCaseError::fail)?;
            let last = a.studies.len() - 1;
            let (x, y) = (a.studies[0].mean + shift, b.studies[last].mean);
            prop_assert!((x - y).abs() <= 1e-8 * (x.abs() + width), "study 0: {x} vs {y}");
        }

        /// Ranges: τ ≥ 0; the median inside both intervals; the shortest no
        /// longer than the central; a new study as μ's mean, spread wider;
        /// shrunken means between the study's own estimate and μ's range.
        #[test]
        fn bayesian_summaries_lie_in_their_ranges(effects in datasets()) {
            let p = fit(&effects, spread(&effects));
            prop_assert!(p.tau.central[0] >= 0.0 && p.tau.shortest[0] >= 0.0);
            for m in [&p.tau, &p.mu, &p.predictive] {
                let width = m.central[1] - m.central[0];
                prop_assert!(m.central[0] <= m.median && m.median <= m.central[1]);
                prop_assert!(m.shortest[1] - m.shortest[0] <= width * (1.0 + 1e-9));
                // τ's density can peak at 0 beside a broad bump (precise studies
                // that agree exactly, others far apart): then the shortest single
                // interval may be the bump's, and the mode at 0 outside it.
                let spike_at_zero = std::ptr::eq(m, &p.tau) && m.mode == 0.0;
                let holds_mode = m.shortest[0] <= m.mode + 1e-9 * width && m.mode <= m.shortest[1] + 1e-9 * width;
                prop_assert!(holds_mode || spike_at_zero, "{m:?}");
            }
            // A new study is μ + τz: the same mean, a variance larger by E[τ²].
            // (Its central interval need not contain μ's: the posterior of μ
            // is a mixture over τ whose components' means differ, and a
            // wider spread of a component far from the quantile pulls the
            // quantile in; the regression file keeps such a case.)
            // (A half-normal prior: every moment exists.)
            let moments = |m: &Marginal| m.mean.zip(m.sd).ok_or_else(|| TestCaseError::fail("no moments"));
            let ((mu_mean, mu_sd), (new_mean, new_sd)) = (moments(&p.mu)?, moments(&p.predictive)?);
            prop_assert!(new_sd >= mu_sd * (1.0 - 1e-9), "sd {new_sd} < {mu_sd}");
            prop_assert!((mu_mean - new_mean).abs() <= 1e-9 * new_sd, "mean {new_mean} vs {mu_mean}");
            let p_mu = p.probability_mu_above(p.mu.median);
            prop_assert!((p_mu - 0.5).abs() < 1e-8, "P(mu > median) = {p_mu}");
        }
    }
}
