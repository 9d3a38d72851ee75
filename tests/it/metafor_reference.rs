//! Every measure × τ² estimator × test against metafor's results
//! (tests/reference/*.json, written by tests/reference/generate.R).

use crate::common;

use cochran::{Analysis, AnalysisOptions, Measure, Method, Test};
use common::{compare, golden, repo_path};
use serde_json::Value;

/// The keys of a fit that must match metafor's, as named in cochran's JSON.
const FIT_KEYS: &[&str] = &[
    "k",
    "estimate",
    "se",
    "statistic",
    "p_value",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "se_tau2",
    "q",
    "q_df",
    "q_p_value",
    "i2",
    "h2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2_ci_lower",
    "i2_ci_upper",
    "h2_ci_lower",
    "h2_ci_upper",
];

fn options(case: &Value) -> AnalysisOptions {
    let text = |key: &str| {
        case[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {case}"))
    };
    AnalysisOptions::new(text("measure").parse::<Measure>().unwrap())
        .method(text("method").parse::<Method>().unwrap())
        .test(text("test").parse::<Test>().unwrap())
        .level(case["level"].as_f64().unwrap_or(95.0))
}

fn run(golden: &Value, options: &AnalysisOptions) -> Value {
    let csv = repo_path(golden["csv"].as_str().unwrap());
    let analysis = Analysis::from_csv(&csv, options).unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(&analysis).unwrap()
}

fn check_fit(golden: &Value, case: &Value, failures: &mut Vec<String>) {
    let label = format!(
        "{} {} {} level {}",
        case["measure"], case["method"], case["test"], case["level"]
    );
    let ours = run(golden, &options(case));
    for &key in FIT_KEYS {
        if let Some(expected) = case.get(key) {
            failures.extend(compare(&format!("{label}: {key}"), ours.get(key), expected));
        }
    }
    let weights = case["weights"].as_array().unwrap();
    let studies = ours["studies"].as_array().unwrap();
    assert_eq!(weights.len(), studies.len(), "{label}: number of studies");
    for (i, (study, expected)) in studies.iter().zip(weights).enumerate() {
        failures.extend(compare(
            &format!("{label}: weight of study {}", i + 1),
            study.get("weight"),
            expected,
        ));
    }
}

fn check_effects(golden: &Value, failures: &mut Vec<String>) {
    for (measure, expected) in golden["effects"].as_object().unwrap() {
        let options = AnalysisOptions::new(measure.parse().unwrap());
        let ours = run(golden, &options);
        let studies = ours["studies"].as_array().unwrap();
        for key in ["yi", "vi", "ci_lower", "ci_upper"] {
            let values = expected[key].as_array().unwrap();
            assert_eq!(
                values.len(),
                studies.len(),
                "{measure} {key}: number of studies"
            );
            for (i, (study, value)) in studies.iter().zip(values).enumerate() {
                failures.extend(compare(
                    &format!("{measure} {key} of study {}", i + 1),
                    study.get(key),
                    value,
                ));
            }
        }
    }
}

fn check_subgroups(golden: &Value, case: &Value, failures: &mut Vec<String>) {
    let label = format!(
        "{} {} {} by {}",
        case["measure"], case["method"], case["test"], case["by"]
    );
    let ours = run(
        golden,
        &options(case).group_by(case["by"].as_str().unwrap()),
    );
    let groups = ours["subgroups"]
        .as_array()
        .expect("subgroups in the output");
    let expected_groups = case["groups"].as_array().unwrap();
    assert_eq!(
        groups.len(),
        expected_groups.len(),
        "{label}: number of subgroups"
    );
    for (group, expected) in groups.iter().zip(expected_groups) {
        assert_eq!(group["name"], expected["name"], "{label}: subgroup order");
        for key in ["k", "estimate", "se", "ci_lower", "ci_upper", "tau2", "q"] {
            failures.extend(compare(
                &format!("{label} [{}]: {key}", expected["name"]),
                group.get(key),
                &expected[key],
            ));
        }
    }
    let test = &ours["subgroup_test"];
    failures.extend(compare(
        &format!("{label}: Q between"),
        test.get("q"),
        &case["q_between"],
    ));
    failures.extend(compare(
        &format!("{label}: df between"),
        test.get("df"),
        &case["df_between"],
    ));
    failures.extend(compare(
        &format!("{label}: p between"),
        test.get("p_value"),
        &case["p_between"],
    ));
}

fn check_dataset(name: &str) {
    let golden = golden(name);
    let mut failures = Vec::new();
    check_effects(&golden, &mut failures);
    let fits = golden["fits"].as_array().unwrap();
    assert!(!fits.is_empty());
    for case in fits {
        check_fit(&golden, case, &mut failures);
    }
    for case in golden["subgroups"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        check_subgroups(&golden, case, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{name}: {} disagreements with metafor:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

macro_rules! datasets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_dataset(stringify!($name));
            }
        )*
        const LISTED: &[&str] = &[$(stringify!($name)),*];
    };
}

#[test]
fn every_reference_file_is_checked() {
    let folder = repo_path("tests/reference");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".json") {
            assert!(
                LISTED.contains(&stem),
                "tests/reference/{name} is not checked by any test"
            );
        }
    }
}

datasets!(
    bcg,
    normand1999,
    morris2008,
    morris2008_controlled,
    bangertdrowns2004,
    nielweise2007,
    lau1992,
    curtis1998,
    hackshaw1998,
    hackshaw1998_sei,
    bcg_k2,
    normand1999_k2,
    alike,
    raudenbush1985,
);
