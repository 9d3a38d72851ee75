//! Every JSON document the command line prints carries the schema version,
//! beside the fields it had; results without a table refuse CSV.

use serde_json::Value;

use crate::common::cochran;
use cochran::report::{BiasReport, Report, SCHEMA_VERSION};
use cochran::{Analysis, AnalysisOptions, ErrorKind, Measure, bias::BiasOptions};

fn json(args: &[&str]) -> Value {
    let out = cochran(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[test]
fn every_json_document_has_the_schema_version() {
    let bcg = ["datasets/bcg.csv", "--measure", "RR", "--format", "json"];
    let hip = [
        "datasets/hip_oa_msc.csv",
        "--measure",
        "MC",
        "--by",
        "outcome",
        "--r",
        "0.5",
        "--impute-sd",
        "max",
        "--format",
        "json",
    ];
    let cases: [(&str, &[&str], &str); 7] = [
        ("analyze", &bcg, "tau2"),
        ("analyze", &hip, "outcomes"),
        ("leave-one-out", &bcg, "studies"),
        ("influence", &bcg, "studies"),
        ("bias", &bcg, "egger"),
        ("gosh", &bcg, "summary"),
        ("scales", &["--format", "json"], "scales"),
    ];
    for (command, args, field) in cases {
        let mut all = vec![command];
        all.extend(args);
        let document = json(&all);
        assert_eq!(document["schema_version"], SCHEMA_VERSION, "{command}");
        assert!(!document[field].is_null(), "{command}: no `{field}`");
    }
}

#[test]
fn results_without_a_table_refuse_csv() {
    let options = AnalysisOptions::new(Measure::Rr);
    let analysis =
        Analysis::from_csv(crate::common::repo_path("datasets/bcg.csv"), &options).expect("bcg");
    let bias = analysis
        .small_study_effects(&BiasOptions::new())
        .expect("tests");
    let error = BiasReport::new(&analysis, &bias)
        .write_csv(&mut Vec::new())
        .expect_err("no table");
    assert!(matches!(error.kind(), ErrorKind::NoTable { .. }), "{error}");
    let out = cochran(&["scales", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
}
