//! Choosing follow-ups (`--time`) and one instrument per study (`--prefer`).

use crate::common;

use common::{csv_file, json, rejects};

/// Three studies; A reports HHS at 3, 6 and 12 months and WOMAC at 6; B HHS at
/// 6 and 12; C WOMAC at 6 only.
const TABLE: &str = "study,outcome,time,n,mean_pre,sd_pre,mean_post,sd_post
A,HHS,3,20,50,8,60,9
A,HHS,6,20,50,8,66,10
A,HHS,12,20,50,8,70,11
A,WOMAC,6,20,50,12,35,13
B,HHS,6,30,55,9,65,9
B,HHS,12,30,55,9,71,10
C,WOMAC,6,25,48,11,30,12
";

/// `cochran analyze` with r = 0.5, MC unless `extra` names a measure.
fn analyse(file: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["analyze", file, "--r", "0.5", "--format", "json"];
    if !extra.contains(&"--measure") {
        args.extend(["--measure", "MC"]);
    }
    args.extend(extra);
    json(&args)
}

/// The analysis of only some of the table's rows, as its own file.
fn rows_only(name: &str, keep: &[usize], extra: &[&str]) -> serde_json::Value {
    let lines: Vec<&str> = TABLE.lines().collect();
    let mut text = format!("{}\n", lines[0]);
    for &r in keep {
        text.push_str(lines[r]);
        text.push('\n');
    }
    analyse(&csv_file(name, &text), extra)
}

#[test]
fn several_follow_ups_are_named_when_none_is_chosen() {
    let file = csv_file("follow_ups_unchosen.csv", TABLE);
    let out = analyse(&file, &["--outcome", "HHS"]);
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains("A HHS is reported at several follow-ups (time: 3, 6, 12)"),
        "{warnings}"
    );
    assert!(
        warnings.contains("B HHS is reported at several follow-ups (time: 6, 12)"),
        "{warnings}"
    );
    assert!(warnings.contains("--time"), "{warnings}");
}

#[test]
fn a_chosen_follow_up_gives_the_analysis_of_those_rows() {
    let file = csv_file("follow_ups_value.csv", TABLE);
    let at_6 = analyse(&file, &["--outcome", "HHS", "--time", "6"]);
    let latest = analyse(&file, &["--outcome", "HHS", "--time", "latest"]);
    let expected_6 = rows_only("follow_ups_6.csv", &[2, 5], &[]);
    let expected_latest = rows_only("follow_ups_12.csv", &[3, 6], &[]);
    for (got, expected) in [(&at_6, &expected_6), (&latest, &expected_latest)] {
        for key in ["k", "estimate", "se", "ci_lower", "ci_upper", "tau2"] {
            assert_eq!(got[key], expected[key], "{key}");
        }
        assert!(!got["warnings"].to_string().contains("several follow-ups"));
    }
    let notes = at_6["notes"].to_string();
    assert!(
        notes.contains("--time 6: 3 rows left out: A HHS at 3; A HHS at 12; B HHS at 12"),
        "{notes}"
    );
}

#[test]
fn all_follow_ups_with_clusters_give_the_three_level_model() {
    let file = csv_file("follow_ups_all.csv", TABLE);
    let out = analyse(
        &file,
        &["--outcome", "HHS", "--time", "all", "--cluster", "study"],
    );
    let unclustered = analyse(&file, &["--outcome", "HHS", "--time", "all"]);
    assert_eq!(out["model"], "three-level");
    assert_eq!(
        (out["k"].as_u64(), out["clusters"].as_u64()),
        (Some(5), Some(2))
    );
    assert!(!out["warnings"].to_string().contains("several follow-ups"));
    // Without clusters the repeated studies are a warning.
    let warnings = unclustered["warnings"].to_string();
    assert!(warnings.contains("--cluster study"), "{warnings}");
}

#[test]
fn prefer_keeps_one_instrument_per_study() {
    let file = csv_file("follow_ups_prefer.csv", TABLE);
    let out = analyse(
        &file,
        &[
            "--time",
            "6",
            "--prefer",
            "HHS,WOMAC",
            "--measure",
            "SMCR",
            "--improvement-positive",
        ],
    );
    // A keeps HHS at 6, B HHS at 6, C its only instrument, WOMAC.
    let expected = rows_only(
        "follow_ups_prefer_expected.csv",
        &[2, 5, 7],
        &["--measure", "SMCR", "--improvement-positive"],
    );
    for key in ["k", "estimate", "se", "ci_lower", "ci_upper"] {
        assert_eq!(out[key], expected[key], "{key}");
    }
    let notes = out["notes"].to_string();
    assert!(
        notes.contains("--prefer HHS,WOMAC: one instrument per study; left out: A WOMAC"),
        "{notes}"
    );
}

#[test]
fn bad_follow_up_settings_are_clear_errors() {
    let file = csv_file("follow_ups_bad.csv", TABLE);
    rejects(
        &[
            "analyze",
            &file,
            "--measure",
            "MC",
            "--r",
            "0.5",
            "--time",
            "soon",
        ],
        &["--time takes", "soon"],
    );
    rejects(
        &[
            "analyze",
            &file,
            "--measure",
            "MC",
            "--r",
            "0.5",
            "--by",
            "outcome",
            "--prefer",
            "HHS",
        ],
        &["--prefer", "--by outcome"],
    );
    rejects(
        &[
            "analyze",
            &file,
            "--measure",
            "MC",
            "--r",
            "0.5",
            "--prefer",
            "XYZ",
        ],
        &["XYZ"],
    );
    let rates = common::repo_path("datasets/nielweise2008.csv");
    rejects(
        &["analyze", &rates, "--measure", "IRR", "--time", "6"],
        &["person-time"],
    );
    let no_time = common::repo_path("datasets/morris2008.csv");
    rejects(
        &["analyze", &no_time, "--measure", "MC", "--time", "6"],
        &["needs a `time` column"],
    );
}

#[test]
fn prefer_passes_over_an_instrument_the_study_cannot_be_analysed_with() {
    // Whitney 2020 reports mHHS without its SD (no other study to borrow one
    // from) and WOMAC: it keeps WOMAC rather than dropping out.
    let hip = common::repo_path("datasets/hip_oa_msc.csv");
    let out = json(&[
        "analyze",
        &hip,
        "--measure",
        "SMCR",
        "--outcome",
        "HHS,mHHS,WOMAC",
        "--r",
        "0.5",
        "--impute-sd",
        "max",
        "--improvement-positive",
        "--prefer",
        "HHS,mHHS,WOMAC",
        "--format",
        "json",
    ]);
    let studies: Vec<(String, String)> = out["studies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["study"].as_str().unwrap().into(),
                s["instrument"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pairs = [
        ("Dall'Oca 2019", "HHS"),
        ("Onoi 2023", "HHS"),
        ("Whitney 2020", "WOMAC"),
    ];
    assert_eq!(
        studies,
        pairs.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    assert!(out["warnings"].to_string().contains("Whitney 2020"));
    assert!(
        !out["warnings"]
            .to_string()
            .contains("contributes 2 effects")
    );
}
