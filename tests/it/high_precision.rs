//! Every τ² estimator on ill-conditioned data against a 60-digit evaluation of
//! the same estimating equations (tests/reference/high_precision/reference.json, written by
//! tests/reference/high_precision/generate.py): variance ratios up to 1e12, effect scales
//! from 1e-12 to 1e12, τ² far above the variances and τ² near 0, k = 2, 3, 5.

use crate::common;

use cochran::{Effect, MetaAnalysis, Method, Tau2, Test};
use common::{HIGH_PRECISION, golden};
use serde_json::Value;

fn number(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} in {value}"))
}

fn effects(case: &Value) -> Vec<Effect> {
    let values = |key: &str| -> Vec<f64> {
        case[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    values("yi")
        .into_iter()
        .zip(values("vi"))
        .map(|(y, v)| Effect::new(y, v).unwrap())
        .collect()
}

/// Agreement within [`HIGH_PRECISION`] of the data's own scale: a location
/// relative to its size plus its standard error, a variance relative to its
/// size plus the smallest sampling variance (below which τ² moves no weight).
struct Scales {
    se: f64,
    v_min: f64,
}

impl Scales {
    fn location(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= HIGH_PRECISION * (expected.abs() + self.se)
    }
    fn spread(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= HIGH_PRECISION * expected.abs()
    }
    fn variance(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= HIGH_PRECISION * (expected.abs() + self.v_min)
    }
    fn percent(&self, actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= HIGH_PRECISION * 100.0
    }
}

fn check(case: &Value, estimator: Tau2, failures: &mut Vec<String>) {
    let effects = effects(case);
    let expected = &case["fits"][estimator.name()];
    let scales = Scales {
        se: number(expected, "se"),
        v_min: effects.iter().map(|e| e.vi).fold(f64::INFINITY, f64::min),
    };
    let label = format!("{} {}", case["name"].as_str().unwrap(), estimator);
    let fit = MetaAnalysis::random(estimator).fit(&effects);
    let knha = MetaAnalysis::random(estimator)
        .test(Test::Knha)
        .fit(&effects);
    let (fit, knha) = match (fit, knha) {
        (Ok(fit), Ok(knha)) => (fit, knha),
        (fit, knha) => {
            failures.push(format!("{label}: {:?} / {:?}", fit.err(), knha.err()));
            return;
        }
    };
    assert_eq!(fit.method, Method::Random(estimator));
    let interval = fit.tau2_interval().unwrap().expect("k >= 2");
    type Compare = fn(&Scales, f64, f64) -> bool;
    let comparisons: [(&str, f64, Compare); 12] = [
        ("tau2", fit.tau2, Scales::variance),
        ("se_tau2", fit.se_tau2.unwrap(), Scales::variance),
        ("estimate", fit.estimate, Scales::location),
        ("se", fit.se, Scales::spread),
        ("ci_lower", fit.ci_lower, Scales::location),
        ("ci_upper", fit.ci_upper, Scales::location),
        ("se_knha", knha.se, Scales::spread),
        ("q", fit.q.unwrap(), Scales::spread),
        ("i2", fit.i2.unwrap(), Scales::percent),
        ("h2", fit.h2.unwrap(), Scales::spread),
        ("tau2_ci_lower", interval.tau2_ci_lower, Scales::variance),
        ("tau2_ci_upper", interval.tau2_ci_upper, Scales::variance),
    ];
    for (key, actual, agrees) in comparisons {
        let reference = number(expected, key);
        if !agrees(&scales, actual, reference) {
            failures.push(format!(
                "{label}: {key}: cochran {actual:e}, reference {reference:e}"
            ));
        }
    }
}

#[test]
fn every_estimator_agrees_with_the_high_precision_reference() {
    let golden = golden("high_precision/reference");
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        for estimator in Tau2::ALL {
            check(case, estimator, &mut failures);
        }
    }
    common::assert_agrees(&failures);
}

#[test]
fn the_issues_examples_give_the_reference_values() {
    let golden = golden("high_precision/reference");
    let case = |name: &str| {
        golden["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    let first = case("issue_example_1");
    let reml = MetaAnalysis::random(Tau2::Reml)
        .fit(&effects(&first))
        .unwrap();
    let expected = number(&first["fits"]["REML"], "tau2");
    assert!(
        (reml.tau2 - expected).abs() <= 1e-8 * expected,
        "{}",
        reml.tau2
    );
    assert_eq!(format!("{:.2}", reml.tau2), "22.92");
    let second = case("issue_example_2");
    let eb = MetaAnalysis::random(Tau2::Eb)
        .fit(&effects(&second))
        .unwrap();
    let expected = number(&second["fits"]["EB"], "tau2");
    assert!((eb.tau2 - expected).abs() <= 1e-8 * expected, "{}", eb.tau2);
    assert_eq!(format!("{:.3e}", eb.tau2), "2.730e-5");
}
