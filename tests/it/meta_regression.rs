//! Meta-regression against metafor's `rma(yi, vi, mods = ...)`
//! (tests/reference/regression/*.json, written by tests/reference/generate.R):
//! FE and every τ² estimator × z and Knapp–Hartung, on numeric, categorical and
//! two-moderator models, with and without an intercept.

use crate::common;

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
        let regression = analysis.fit().unwrap().regression.as_ref().unwrap();
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
        common::with_threads(threads, || {
            Analysis::from_csv(repo_path("datasets/bcg.csv"), &options).unwrap()
        })
        .fit()
        .unwrap()
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
    common::assert_agrees(&failures);
}

#[test]
fn bad_moderators_are_clear_errors() {
    let bcg = repo_path("datasets/bcg.csv");
    let run = |extra: &[&str], fragments: &[&str]| {
        let mut args = vec!["analyze", bcg.as_str(), "--measure", "RR"];
        args.extend_from_slice(extra);
        common::rejects(&args, fragments);
    };
    run(
        &["--mods", "latitude"],
        &["`latitude`", "not in the file", "ablat"],
    );
    run(
        &["--mods", "ablat,ablat"],
        &["`ablat`", "linear combination"],
    );
    run(
        &["--mods", "ablat", "--predict", "dose=3"],
        &["--predict names `dose`", "not a moderator"],
    );
    run(
        &["--mods", "alloc", "--predict", "alloc=sometimes"],
        &["`sometimes`", "alternate, random, systematic"],
    );
    run(
        &["--mods", "ablat", "--predict", "ablat=north"],
        &["numeric", "`north`"],
    );
    run(
        &["--mods", "ablat", "--permutations", "0"],
        &["at least 2 permutations"],
    );
    run(
        &["--mods", "alloc", "--bubble", "b.svg"],
        &["one continuous moderator", "allocrandom"],
    );
    run(
        &["--mods", "ablat", "--forest", "f.svg"],
        &["one pooled effect", "--bubble"],
    );
    let constant = common::csv_file(
        "constant.csv",
        "study,yi,vi,x\nA,0.1,0.01,1\nB,0.3,0.02,1\nC,0.2,0.01,1\n",
    );
    common::rejects(
        &["analyze", &constant, "--measure", "GEN", "--mods", "x"],
        &["`x`", "constant"],
    );
    let one_level = common::csv_file(
        "one_level.csv",
        "study,yi,vi,g\nA,0.1,0.01,a\nB,0.3,0.02,a\nC,0.2,0.01,a\n",
    );
    common::rejects(
        &["analyze", &one_level, "--measure", "GEN", "--mods", "g"],
        &["`g`", "single level"],
    );
    let crowded = common::csv_file(
        "crowded.csv",
        "study,yi,vi,x,z\nA,0.1,0.01,1,3\nB,0.3,0.02,2,1\nC,0.2,0.01,3,7\n",
    );
    common::rejects(
        &["analyze", &crowded, "--measure", "GEN", "--mods", "x,z"],
        &["3 coefficients", "more than 3 studies"],
    );
}

#[test]
fn a_study_without_a_moderator_value_is_excluded_with_a_warning() {
    let file = common::csv_file(
        "missing_mod.csv",
        "study,yi,vi,x\nA,0.1,0.01,1\nB,0.3,0.02,\nC,0.2,0.01,3\nD,0.5,0.03,4\nE,0.4,0.02,NA\n",
    );
    let out = common::json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--mods",
        "x",
        "--format",
        "json",
    ]);
    assert_eq!(out["k"], 3);
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains("study `B` (row 3) excluded: no value for x"),
        "{warnings}"
    );
    assert!(warnings.contains("study `E` (row 6)"), "{warnings}");
    assert_eq!(out["excluded"].as_array().unwrap().len(), 2);
}

#[test]
fn the_bubble_plot_is_written_for_one_continuous_moderator() {
    let bcg = repo_path("datasets/bcg.csv");
    let path = common::output_path("bubble.svg");
    let out = common::cochran(&[
        "analyze",
        &bcg,
        "--measure",
        "RR",
        "--mods",
        "ablat",
        "--bubble",
        &path,
        "--prediction-band",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        svg.matches("<circle").count(),
        2 * 13,
        "a ringed point per study"
    );
    assert!(svg.contains("ablat") && svg.contains("Risk Ratio (log scale)"));
}

#[test]
fn the_text_summary_reads_like_metafors_print() {
    let bcg = repo_path("datasets/bcg.csv");
    let args = [
        "analyze",
        bcg.as_str(),
        "--measure",
        "RR",
        "--mods",
        "ablat",
    ];
    let text = String::from_utf8_lossy(&common::cochran(&args).stdout).into_owned();
    let json = common::json(&[&args[..], &["--format", "json"]].concat());
    let number = |key: &str| json[key].as_f64().unwrap();
    let mut lines = vec![
        "Mixed-effects model (tau^2 estimator: REML)".to_string(),
        format!("R^2   = {:.2}%", number("r2")),
        format!("QE(df = 11) = {:.4}", number("q")),
        format!("QM(df = 1) = {:.4}, p < .0001", number("qm")),
    ];
    for c in json["coefficients"].as_array().unwrap() {
        let v = |key: &str| c[key].as_f64().unwrap();
        lines.push(format!(
            "{:<8} {:>10.4} {:>9.4} {:>9.4}",
            c["name"].as_str().unwrap(),
            v("estimate"),
            v("se"),
            v("statistic")
        ));
    }
    for line in lines {
        assert!(text.contains(&line), "`{line}` not in:\n{text}");
    }
}
