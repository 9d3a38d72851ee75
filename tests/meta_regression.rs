//! Meta-regression against metafor's `rma(yi, vi, mods = ...)`
//! (tests/reference/regression/*.json, written by tests/reference/generate.R):
//! FE and every τ² estimator × z and Knapp–Hartung, on numeric, categorical and
//! two-moderator models, with and without an intercept.

mod common;

use cochran::{Analysis, AnalysisOptions, Measure, Method, Test};
use common::{compare, golden, repo_path};
use serde_json::Value;

/// Keys compared at the top level of cochran's JSON, named as metafor's are in the golden.
const MODEL_KEYS: &[&str] = &[
    "k",
    "qm",
    "qm_df",
    "qm_df_residual",
    "qm_p_value",
    "q",
    "q_df",
    "q_p_value",
    "tau2",
    "se_tau2",
    "i2",
    "h2",
    "r2",
    "tau2_ci_lower",
    "tau2_ci_upper",
];

/// Keys of each coefficient.
const COEFFICIENT_KEYS: &[&str] = &[
    "estimate",
    "se",
    "statistic",
    "p_value",
    "ci_lower",
    "ci_upper",
];

fn options(golden: &Value, case: &Value) -> AnalysisOptions {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    let mods: Vec<String> = case["mods"]
        .as_array()
        .map(|m| m.iter().map(text).collect())
        .unwrap_or_else(|| vec![text(&case["mods"])]);
    let mods: Vec<&str> = mods.iter().map(String::as_str).collect();
    let mut options = AnalysisOptions::new(text(&golden["measure"]).parse::<Measure>().unwrap())
        .method(text(&case["method"]).parse::<Method>().unwrap())
        .test(text(&case["test"]).parse::<Test>().unwrap())
        .moderators(&mods);
    if case["intercept"] == Value::Bool(false) {
        options = options.no_intercept();
    }
    for point in case["predictions"].as_array().into_iter().flatten() {
        let values: Vec<(String, String)> = point["values"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        let pairs: Vec<(&str, &str)> = values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        options = options.predict(&pairs);
    }
    options
}

fn check(name: &str) {
    let golden = golden(&format!("regression/{name}"));
    let csv = repo_path(golden["csv"].as_str().unwrap());
    let mut failures = Vec::new();
    let fits = golden["fits"].as_array().unwrap();
    assert!(!fits.is_empty());
    for case in fits {
        let label = format!(
            "{} {} {} {}",
            case["mods"], case["intercept"], case["method"], case["test"]
        );
        let analysis = Analysis::from_csv(&csv, &options(&golden, case))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let ours = serde_json::to_value(&analysis).unwrap();
        for &key in MODEL_KEYS {
            // metafor reports the adjusted R² of a weighted least-squares fit for
            // the common-effect model; cochran's R² is the share of τ², so none.
            if key == "r2" && case["method"] == "FE" {
                assert!(ours[key].is_null(), "{label}: r2 of FE");
                continue;
            }
            if let Some(expected) = case.get(key) {
                failures.extend(compare(&format!("{label}: {key}"), ours.get(key), expected));
            }
        }
        let coefficients = ours["coefficients"].as_array().expect("coefficients");
        let names = case["names"].as_array().unwrap();
        assert_eq!(
            coefficients.len(),
            names.len(),
            "{label}: number of coefficients"
        );
        for (j, (ours, name)) in coefficients.iter().zip(names).enumerate() {
            assert_eq!(&ours["name"], name, "{label}: coefficient {j}");
            for &key in COEFFICIENT_KEYS {
                failures.extend(compare(
                    &format!("{label}: {name} {key}"),
                    ours.get(key),
                    &case[key][j],
                ));
            }
        }
        assert!(
            ours["estimate"].is_null(),
            "{label}: no single pooled estimate"
        );
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

#[test]
fn bcg_latitude_allocation_and_year() {
    check("bcg");
}

#[test]
fn bangertdrowns2004_two_continuous_moderators_with_missing_values() {
    check("bangertdrowns2004");
}

#[test]
fn raudenbush1985_weeks_and_setting() {
    check("raudenbush1985");
}

#[test]
fn curtis1998_a_categorical_moderator_on_the_log_ratio_of_means() {
    check("curtis1998");
}

#[test]
fn every_regression_reference_is_checked() {
    let listed = [
        "bcg",
        "bangertdrowns2004",
        "raudenbush1985",
        "curtis1998",
        "permutation",
        "subgroups_common",
    ];
    for entry in std::fs::read_dir(repo_path("tests/reference/regression")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = name.strip_suffix(".json").unwrap_or(&name).to_string();
        assert!(listed.contains(&stem.as_str()), "{name} is not checked");
    }
}

/// metafor's permutest: exact enumerations agree to the last digit; random
/// permutations within Monte Carlo error.
#[test]
fn permutation_tests_agree_with_metafors_permutest() {
    let golden = golden("regression/permutation");
    let bcg = std::fs::read_to_string(repo_path(golden["csv"].as_str().unwrap())).unwrap();
    let lines: Vec<&str> = bcg.lines().collect();
    for case in golden["cases"].as_array().unwrap() {
        let label = format!(
            "{} {} {} exact {}",
            case["mods"], case["method"], case["test"], case["exact"]
        );
        let rows = case["rows"].as_array().unwrap().len();
        let file = common::csv_file(
            &format!("perm{rows}.csv"),
            &(lines[..=rows].join("\n") + "\n"),
        );
        let mods = case["mods"].as_str().unwrap();
        let options = AnalysisOptions::new(Measure::Rr)
            .method(case["method"].as_str().unwrap().parse::<Method>().unwrap())
            .test(case["test"].as_str().unwrap().parse::<Test>().unwrap())
            .moderators(&[mods])
            .permutations(case["iter"].as_f64().unwrap() as usize, 20261130);
        let analysis = Analysis::from_csv(&file, &options).unwrap();
        let regression = analysis.fit().regression.as_ref().unwrap();
        let test = regression.permutation_test.as_ref().unwrap();
        assert_eq!(test.exact, case["exact"].as_bool().unwrap(), "{label}");
        assert_eq!(
            case["fitted"], case["permutations"],
            "{label}: metafor refits failed"
        );
        let n = case["permutations"].as_f64().unwrap();
        let mut expected: Vec<f64> = case["p_values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_f64().unwrap())
            .collect();
        expected.push(case["qm_p_value"].as_f64().unwrap());
        let mut ours = test.p_values.clone();
        ours.push(test.qm_p_value);
        for (i, (a, e)) in ours.iter().zip(&expected).enumerate() {
            let tolerance = if test.exact {
                assert_eq!(test.permutations as f64, n, "{label}");
                1e-12
            } else {
                // Two independent estimates of p from n permutations each.
                4.0 * (2.0 * e * (1.0 - e) / n).sqrt() + 2.0 / n
            };
            assert!(
                (a - e).abs() <= tolerance,
                "{label}: p-value {i}: cochran {a}, metafor {e}"
            );
        }
    }
}

#[test]
fn permutation_results_do_not_depend_on_the_number_of_threads() {
    let options = AnalysisOptions::new(Measure::Rr)
        .moderators(&["ablat", "year"])
        .permutations(500, 3);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| Analysis::from_csv(repo_path("datasets/bcg.csv"), &options).unwrap())
            .fit()
            .regression
            .as_ref()
            .unwrap()
            .permutation_test
            .clone()
            .unwrap()
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(4));
    assert!(!one.exact && one.permutations == 500 && one.seed == Some(3));
}

/// `--by alloc --subgroup-tau2 common`: the mixed-effects model's τ² and QM,
/// and each subgroup fitted with that τ² (metafor's `rma(..., tau2 = value)`).
#[test]
fn subgroups_sharing_one_tau2_agree_with_metafor() {
    let golden = golden("regression/subgroups_common");
    let csv = repo_path(golden["csv"].as_str().unwrap());
    let mut failures = Vec::new();
    for case in golden["cases"].as_array().unwrap() {
        let label = format!("{} {}", case["method"], case["test"]);
        let options = AnalysisOptions::new(Measure::Rr)
            .method(case["method"].as_str().unwrap().parse::<Method>().unwrap())
            .test(case["test"].as_str().unwrap().parse::<Test>().unwrap())
            .group_by(case["by"].as_str().unwrap())
            .subgroup_tau2(cochran::SubgroupTau2::Common);
        let ours = serde_json::to_value(Analysis::from_csv(&csv, &options).unwrap()).unwrap();
        let test = &ours["subgroup_test"];
        for (key, theirs) in [
            ("q", "qm"),
            ("df", "qm_df"),
            ("df_residual", "qm_df_residual"),
            ("p_value", "qm_p_value"),
        ] {
            failures.extend(compare(
                &format!("{label}: test {key}"),
                test.get(key),
                &case[theirs],
            ));
        }
        for expected in case["groups"].as_array().unwrap() {
            let group = ours["subgroups"]
                .as_array()
                .unwrap()
                .iter()
                .find(|g| g["name"] == expected["name"])
                .unwrap();
            for key in ["estimate", "se", "ci_lower", "ci_upper", "tau2"] {
                failures.extend(compare(
                    &format!("{label}: {} {key}", expected["name"]),
                    group.get(key),
                    &expected[key],
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
