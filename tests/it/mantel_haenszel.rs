//! Mantel–Haenszel and Peto pooling against metafor's rma.mh and rma.peto
//! (tests/reference/binary/mh_peto.json, written by tests/reference/generate.R).

use crate::common;

use cochran::{Analysis, AnalysisOptions, Measure, Method};
use common::{compare, golden, repo_path};

#[test]
fn mantel_haenszel_and_peto_agree_with_rma_mh_and_rma_peto() {
    let golden = golden("binary/mh_peto");
    let mut failures = Vec::new();
    let mut with_tests = 0;
    for case in golden["cases"].as_array().unwrap() {
        let text = |k: &str| case[k].as_str().unwrap();
        let label = format!("{} {} {}", text("csv"), text("method"), text("measure"));
        let options = AnalysisOptions::new(text("measure").parse::<Measure>().unwrap())
            .method(text("method").parse::<Method>().unwrap());
        let analysis = Analysis::from_csv(repo_path(text("csv")), &options).unwrap();
        let ours = serde_json::to_value(&analysis).unwrap();
        for key in [
            "estimate",
            "se",
            "statistic",
            "p_value",
            "ci_lower",
            "ci_upper",
            "q",
            "q_p_value",
            "i2",
            "h2",
            "k",
            "q_df",
        ] {
            failures.extend(compare(
                &format!("{label}: {key}"),
                ours.get(key),
                &case["fit"][key],
            ));
        }
        for test in ["cmh", "tarone"] {
            if case[test].is_object() {
                with_tests += 1;
                for key in ["statistic", "p_value"] {
                    failures.extend(compare(
                        &format!("{label}: {test} {key}"),
                        ours[test].get(key),
                        &case[test][key],
                    ));
                }
            } else {
                assert!(ours.get(test).is_none(), "{label}: {test}");
            }
        }
    }
    assert_eq!(with_tests, 4);
    common::assert_agrees(&failures);
}

#[test]
fn tables_methods_refuse_what_they_cannot_pool() {
    let normand = repo_path("datasets/normand1999.csv");
    let bcg = repo_path("datasets/bcg.csv");
    common::rejects(
        &["analyze", &normand, "--measure", "SMD", "--method", "MH"],
        &["OR, RR or RD"],
    );
    common::rejects(
        &["analyze", &bcg, "--measure", "RR", "--method", "PETO"],
        &["PETO pools OR"],
    );
    common::rejects(
        &[
            "analyze",
            &bcg,
            "--measure",
            "OR",
            "--method",
            "MH",
            "--mods",
            "ablat",
        ],
        &["meta-regression"],
    );
}

#[test]
fn the_forest_plot_says_how_the_tables_were_pooled() {
    let bcg = repo_path("datasets/bcg.csv");
    for (method, heading) in [
        ("MH", "M-H, Fixed, 95% CI"),
        ("PETO", "Peto, Fixed, 95% CI"),
    ] {
        let options = AnalysisOptions::new(Measure::Or).method(method.parse::<Method>().unwrap());
        let analysis = Analysis::from_csv(&bcg, &options).unwrap();
        let svg = analysis.forest_plot().to_svg().unwrap();
        assert!(svg.contains(heading), "{method}");
        // The study weights are the method's, summing to 100%.
        let total: f64 = analysis.studies.iter().map(|s| s.weight).sum();
        assert!((total - 100.0).abs() < 1e-9);
    }
}
