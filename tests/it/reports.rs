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

/// The document as serde writes it in one piece, after the schema version.
fn in_one_piece(analysis: &Analysis) -> String {
    let body = serde_json::to_string(analysis).unwrap();
    format!("{{\"schema_version\":{SCHEMA_VERSION},{}", &body[1..])
}

#[test]
fn a_large_table_written_in_blocks_is_the_document_serde_writes() {
    use cochran::effect::{Effect, StudyData};
    // 70,000 studies: several blocks, the last one partial; one label spells
    // the placeholder the rows are written around, so the document is
    // written in one piece, and must read the same.
    for odd_label in [None, Some("\u{0}cochran:studies\u{0}")] {
        let studies = (0..70_000).map(|i| {
            let label = match (i, odd_label) {
                (5, Some(label)) => label.to_string(),
                _ => format!("S{i} \"quoted\" \u{e9}"),
            };
            let effect = Effect::new((i % 97) as f64 / 50.0 - 1.0, 0.01 + (i % 13) as f64 / 100.0);
            (label, StudyData::Precomputed(effect.unwrap()))
        });
        let set = cochran::EffectSet::from_studies(Measure::Gen, studies).unwrap();
        let analysis = Analysis::from_effects(set, &AnalysisOptions::new(Measure::Gen)).unwrap();
        let mut written = Vec::new();
        analysis.write_json(&mut written).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), in_one_piece(&analysis));
    }
}
