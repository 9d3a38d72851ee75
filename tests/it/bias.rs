//! Small-study effects against metafor's regtest, ranktest, trimfill and fsn
//! (tests/reference/bias/bias.json, written by tests/reference/generate.R).

use crate::common;

use cochran::bias::{self, BiasOptions, K0Estimator};
use common::{compare, golden, golden_analysis, repo_path};
use serde_json::{Value, json};

fn compare_keys(label: &str, ours: &Value, theirs: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|&key| compare(&format!("{label}: {key}"), ours.get(key), &theirs[key]))
        .collect()
}

#[test]
fn egger_and_the_rank_test_agree_with_regtest_and_ranktest() {
    let mut failures = Vec::new();
    for case in golden("bias/bias")["cases"].as_array().unwrap() {
        let (label, analysis) = golden_analysis(case);
        let ours = serde_json::to_value(analysis.small_study_effects(&BiasOptions::new()).unwrap())
            .unwrap();
        let egger_keys = [
            "statistic",
            "df",
            "p_value",
            "limit_estimate",
            "limit_ci_lower",
            "limit_ci_upper",
        ];
        failures.extend(compare_keys(
            &format!("{label} egger"),
            &ours["egger"],
            &case["egger"],
            &egger_keys,
        ));
        failures.extend(compare_keys(
            &format!("{label} rank test"),
            &ours["rank_test"],
            &case["rank_test"],
            &["tau", "p_value"],
        ));
    }
    common::assert_agrees(&failures);
}

#[test]
fn trim_and_fill_agrees_with_trimfill_for_both_estimators() {
    let mut failures = Vec::new();
    let mut sides = Vec::new();
    for case in golden("bias/bias")["cases"].as_array().unwrap() {
        let (label, analysis) = golden_analysis(case);
        for estimator in ["L0", "R0"] {
            let label = format!("{label} {estimator}");
            let theirs = &case["trim_and_fill"][estimator];
            let estimator: K0Estimator = estimator.parse().unwrap();
            let ours = bias::trim_and_fill(analysis.fit().unwrap(), estimator, None).unwrap();
            assert_eq!(
                ours.side.to_string(),
                theirs["side"].as_str().unwrap(),
                "{label}"
            );
            assert_eq!(ours.k0 as u64, theirs["k0"].as_u64().unwrap(), "{label}");
            sides.push((ours.side.to_string(), ours.k0 > 0));
            let filled_yi: Vec<f64> = ours.filled.iter().map(|f| f.yi).collect();
            let filled_vi: Vec<f64> = ours.filled.iter().map(|f| f.vi).collect();
            let ours = serde_json::to_value(&ours).unwrap();
            let keys = ["estimate", "se", "ci_lower", "ci_upper", "p_value", "tau2"];
            failures.extend(compare_keys(&label, &ours, theirs, &keys));
            for (name, values) in [("filled_yi", filled_yi), ("filled_vi", filled_vi)] {
                // jsonlite writes a vector of one as a bare number.
                let expected = match &theirs[name] {
                    Value::Array(values) => values.clone(),
                    one => vec![one.clone()],
                };
                assert_eq!(values.len(), expected.len(), "{label} {name}");
                for (i, (ours, theirs)) in values.iter().zip(&expected).enumerate() {
                    failures.extend(compare(
                        &format!("{label} {name}[{i}]"),
                        Some(&json!(ours)),
                        theirs,
                    ));
                }
            }
        }
    }
    // The goldens fill on both sides and also find nothing to fill.
    for wanted in [("left", true), ("right", true)] {
        assert!(
            sides.iter().any(|(s, f)| (s.as_str(), *f) == wanted),
            "{wanted:?}"
        );
    }
    assert!(sides.iter().any(|(_, filled)| !filled));
    common::assert_agrees(&failures);
}

#[test]
fn fail_safe_n_agrees_with_fsn() {
    for case in golden("bias/bias")["cases"].as_array().unwrap() {
        let (label, analysis) = golden_analysis(case);
        let theirs = &case["fail_safe_n"];
        let effects = analysis.fit().unwrap().effects();
        let ours = bias::fail_safe_n(effects, None);
        let whole = |key: &str| theirs[key].as_f64().unwrap();
        assert_eq!(ours.rosenthal, whole("rosenthal"), "{label}");
        assert_eq!(ours.orwin, Some(whole("orwin")), "{label}");
        assert_eq!(ours.rosenberg, whole("rosenberg"), "{label}");
        let at_target = bias::fail_safe_n(effects, Some(whole("orwin_target")));
        assert_eq!(at_target.orwin, Some(whole("orwin_at_target")), "{label}");
    }
}

#[test]
fn the_goldens_cover_knapp_hartung_and_ties() {
    let cases = golden("bias/bias");
    let cases = cases["cases"].as_array().unwrap();
    assert!(
        cases
            .iter()
            .any(|c| c["test"] == "knha" && c["method"] == "REML")
    );
    let options = BiasOptions::new();
    let exactness: Vec<bool> = cases
        .iter()
        .map(|c| {
            golden_analysis(c)
                .1
                .small_study_effects(&options)
                .unwrap()
                .rank_test
                .exact
        })
        .collect();
    assert!(exactness.contains(&true) && exactness.contains(&false));
}

#[test]
fn too_few_studies_are_refused() {
    let options = cochran::AnalysisOptions::new(cochran::Measure::Rr);
    let analysis =
        cochran::Analysis::from_csv(repo_path("tests/reference/data/bcg_k2.csv"), &options)
            .unwrap();
    let error = analysis
        .small_study_effects(&BiasOptions::new())
        .unwrap_err();
    assert!(error.to_string().contains("at least 3 studies"), "{error}");
}

#[test]
fn the_command_line_reports_every_test_and_draws_the_filled_funnel() {
    let bcg = repo_path("datasets/bcg.csv");
    let funnel = common::output_path("bias_funnel.svg");
    let json = common::json(&[
        "bias",
        &bcg,
        "--measure",
        "RR",
        "--format",
        "json",
        "--funnel",
        &funnel,
    ]);
    for key in ["egger", "rank_test", "trim_and_fill", "fail_safe_n"] {
        assert!(json[key].is_object(), "{key}");
    }
    // The command line prints what the library computes (checked against metafor above).
    let analysis =
        cochran::Analysis::from_csv(&bcg, &cochran::AnalysisOptions::new(cochran::Measure::Rr))
            .unwrap();
    let bias = analysis.small_study_effects(&BiasOptions::new()).unwrap();
    let filled = &bias.trim_and_fill;
    assert_eq!(json["trim_and_fill"]["side"], filled.side.to_string());
    let svg = std::fs::read_to_string(&funnel).unwrap();
    let key = format!(
        "Filled by trim-and-fill ({} on the {}, L0)",
        filled.k0, filled.side
    );
    assert!(svg.contains(&key), "{key}");
    let out = common::cochran(&["bias", &bcg, "--measure", "RR", "--estimator", "R0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("Trim-and-fill (R0 estimator)"), "{text}");
    let tau = format!("Kendall's tau = {:.4}", bias.rank_test.tau);
    assert!(text.contains(&tau), "{text}");
}

#[test]
fn the_command_line_refuses_what_it_cannot_do() {
    let bcg = repo_path("datasets/bcg.csv");
    let two = repo_path("tests/reference/data/bcg_k2.csv");
    common::rejects(&["bias", &two, "--measure", "RR"], &["at least 3 studies"]);
    common::rejects(
        &["bias", &bcg, "--measure", "RR", "--forest", "f.png"],
        &["does not draw --forest"],
    );
    common::rejects(
        &["bias", &bcg, "--measure", "RR", "--side", "up"],
        &["side", "left"],
    );
    common::rejects(
        &["bias", &bcg, "--measure", "RR", "--estimator", "Q9"],
        &["L0", "R0"],
    );
    common::rejects(
        &[
            "bias",
            &bcg,
            "--measure",
            "RR",
            "--funnel",
            "/nonexistent/dir/f.png",
        ],
        &["/nonexistent/dir/f.png"],
    );
}

/// Issue 19, items 9 and 23: equal variances are named as such (not as a
/// constant moderator `sei` nobody gave); effects all ±0 are not a τ of −inf;
/// an effect written `-0.00` reads as `0.00`.
#[test]
fn degenerate_data_are_named_and_negative_zero_is_zero() {
    let file = |name: &str, rows: &[(&str, &str)]| {
        let body: String = rows
            .iter()
            .enumerate()
            .map(|(i, (yi, vi))| format!("S{i},{yi},{vi}\n"))
            .collect();
        common::scratch_file(name, format!("study,yi,vi\n{body}").as_bytes())
    };
    let equal = file(
        "equal_vi.csv",
        &[
            ("0.1", "0.04"),
            ("0.3", "0.04"),
            ("0.2", "0.04"),
            ("0.5", "0.04"),
        ],
    );
    common::rejects(
        &["bias", &equal, "--measure", "GEN"],
        &["every study has the same variance"],
    );
    let zeros = file(
        "zeros.csv",
        &[
            ("-0.00", "0.04"),
            ("0.00", "0.01"),
            ("-0", "0.09"),
            ("0", "0.02"),
        ],
    );
    common::rejects(
        &["bias", &zeros, "--measure", "GEN"],
        &["every study has the same effect"],
    );
    let rows = [
        ("0.00", "0.04"),
        ("0.31", "0.01"),
        ("-0.22", "0.09"),
        ("0.45", "0.02"),
        ("0.00", "0.05"),
        ("0.12", "0.03"),
    ];
    let signed: Vec<(&str, &str)> = rows
        .iter()
        .map(|&(yi, vi)| (if yi == "0.00" { "-0.00" } else { yi }, vi))
        .collect();
    let json = |path: &str| {
        let out = common::cochran(&["bias", path, "--measure", "GEN", "--format", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let plain = json(&file("plain_zero.csv", &rows));
    let negative = json(&file("negative_zero.csv", &signed));
    assert_eq!(plain["rank_test"], negative["rank_test"]);
}
