//! Sensitivity analyses against metafor (tests/reference/sensitivity/*.json,
//! written by tests/reference/generate.R).

mod common;

use cochran::{Analysis, AnalysisOptions, Measure, Method, Test};
use common::{compare, golden, repo_path};

const KEYS: &[&str] = &[
    "estimate",
    "se",
    "statistic",
    "p_value",
    "ci_lower",
    "ci_upper",
    "q",
    "q_p_value",
    "tau2",
    "i2",
    "h2",
];

#[test]
fn leave_one_out_agrees_with_metafors_leave1out() {
    let golden = golden("sensitivity/leave_one_out");
    let mut failures = Vec::new();
    for case in golden["cases"].as_array().unwrap() {
        let text = |k: &str| case[k].as_str().unwrap();
        let label = format!(
            "{} {} {} {}",
            text("csv"),
            text("measure"),
            text("method"),
            text("test")
        );
        let options = AnalysisOptions::new(text("measure").parse::<Measure>().unwrap())
            .method(text("method").parse::<Method>().unwrap())
            .test(text("test").parse::<Test>().unwrap());
        let analysis = Analysis::from_csv(repo_path(text("csv")), &options).unwrap();
        let ours = serde_json::to_value(analysis.leave_one_out().unwrap()).unwrap();
        let rows = case["rows"].as_array().unwrap();
        let studies = ours["studies"].as_array().unwrap();
        assert_eq!(rows.len(), studies.len(), "{label}");
        for (i, (ours, theirs)) in studies.iter().zip(rows).enumerate() {
            assert_eq!(ours["study"], analysis.studies[i].study.as_str(), "{label}");
            for &key in KEYS {
                failures.extend(compare(
                    &format!("{label}: without {i}: {key}"),
                    ours.get(key),
                    &theirs[key],
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn leave_one_out_does_not_depend_on_the_number_of_threads() {
    let options = AnalysisOptions::new(Measure::Smd);
    let analysis = Analysis::from_csv(repo_path("datasets/normand1999.csv"), &options).unwrap();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| analysis.leave_one_out().unwrap())
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn the_command_line_prints_leave_one_out_as_json_and_text() {
    let bcg = repo_path("datasets/bcg.csv");
    let json = common::json(&["leave-one-out", &bcg, "--measure", "RR", "--format", "json"]);
    let studies = json["studies"].as_array().unwrap();
    assert_eq!(studies.len(), 13);
    assert_eq!(studies[3]["study"], "Hart & Sutherland 1977");
    let out = common::cochran(&["leave-one-out", &bcg, "--measure", "RR"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("Leave-one-out") && text.contains("Hart & Sutherland 1977"),
        "{text}"
    );
    common::rejects(
        &["leave-one-out", &bcg, "--measure", "RR", "--mods", "ablat"],
        &["meta-regression"],
    );
}
