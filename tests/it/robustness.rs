//! One test per finding of the robustness review: each failed before the fix.
//! (Estimator accuracy on ill-conditioned data is in tests/high_precision.rs,
//! invariants in tests/properties.rs, mutated input in tests/fuzz.rs.)

use crate::common;

use std::time::{Duration, Instant};

use common::{cochran, csv_file, golden, json, rejects};

const EXAMPLE_1: &str = "study,yi,vi\nS1,0.9,1e-8\nS2,-9.1,17.1\nS3,3.2,5\nS4,91.4,10000\n";
const EXAMPLE_2: &str =
    "study,yi,vi\nS1,0.0009,1e-14\nS2,-0.0091,1.71e-5\nS3,0.0032,5e-6\nS4,0.0914,0.01\n";

fn reference(case: &str, method: &str, key: &str) -> f64 {
    let golden = golden("high_precision/reference");
    let case = golden["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap()
        .clone();
    case["fits"][method][key].as_f64().unwrap()
}

fn agrees(actual: &serde_json::Value, expected: f64) -> bool {
    actual
        .as_f64()
        .is_some_and(|a| (a - expected).abs() <= 1e-8 * expected.abs())
}

// 1. REML on a registry beside tiny case series: tr(PP) must not cancel.
#[test]
fn finding_1_reml_and_the_dl_standard_error_hold_on_variances_twelve_decades_apart() {
    let file = csv_file("finding1.csv", EXAMPLE_1);
    let reml = json(&["analyze", &file, "--measure", "GEN", "--format", "json"]);
    assert!(
        agrees(&reml["tau2"], reference("issue_example_1", "REML", "tau2")),
        "{}",
        reml["tau2"]
    );
    assert_eq!(format!("{:.2}", reml["tau2"].as_f64().unwrap()), "22.92");
    let dl = json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--method",
        "DL",
        "--format",
        "json",
    ]);
    assert!(
        agrees(
            &dl["se_tau2"],
            reference("issue_example_1", "DL", "se_tau2")
        ),
        "{}",
        dl["se_tau2"]
    );
    assert_eq!(format!("{:.2}", dl["se_tau2"].as_f64().unwrap()), "14.70");
}

// 2. EB on data of small absolute size stopped after one step.
#[test]
fn finding_2_eb_converges_on_data_of_small_absolute_size() {
    let file = csv_file("finding2.csv", EXAMPLE_2);
    let eb = json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--method",
        "EB",
        "--format",
        "json",
    ]);
    assert!(
        agrees(&eb["tau2"], reference("issue_example_2", "EB", "tau2")),
        "{}",
        eb["tau2"]
    );
    // The pooled estimate no longer flips sign.
    assert!(eb["estimate"].as_f64().unwrap() < 0.0);
}

// 3. Extreme magnitudes: an error naming row and column, never a null with exit 0.
#[test]
fn finding_3_extreme_magnitudes_are_refused_with_row_and_column() {
    let cases = [
        (
            "f3a.csv",
            "study,yi,vi\nA,1e300,1\nB,-1e300,1\nC,0,1\n",
            vec!["line 2", "column `yi`", "double precision"],
        ),
        (
            "f3b.csv",
            "study,yi,vi\nA,0.1,1e-320\nB,0.2,0.1\n",
            vec!["line 2", "column `vi`", "smallest normal double"],
        ),
        (
            "f3c.csv",
            "study,yi,vi\nA,1,1e-300\nB,2,1e-300\nC,0,1\n",
            vec!["line 2", "1e180"],
        ),
    ];
    for (name, text, fragments) in cases {
        let file = csv_file(name, text);
        rejects(
            &["analyze", &file, "--measure", "GEN", "--method", "DL"],
            &fragments,
        );
    }
}

#[test]
fn finding_3_the_knapp_hartung_subgroup_test_is_explained_not_nan() {
    let file = csv_file(
        "f3d.csv",
        "study,yi,vi,subgroup\nA,0.5,0.1,X\nB,0.5,0.2,X\nC,0.1,0.1,Y\nD,0.3,0.1,Y\n",
    );
    let out = json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--test",
        "knha",
        "--format",
        "json",
    ]);
    assert!(
        out.get("subgroup_test").is_none(),
        "{}",
        out["subgroup_test"]
    );
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains("no test for subgroup differences"),
        "{warnings}"
    );
    assert!(warnings.contains("standard error of 0"), "{warnings}");
}

#[test]
fn finding_3_numeric_options_must_be_finite_and_in_range() {
    let bcg = common::repo_path("datasets/bcg.csv");
    for level in ["99.99999999999999", "NaN", "100", "inf"] {
        rejects(
            &["analyze", &bcg, "--measure", "RR", "--level", level],
            &["confidence level"],
        );
    }
    let hip = common::repo_path("datasets/hip_oa_msc.csv");
    for target in ["nan", "0", "inf", "-100"] {
        rejects(
            &[
                "analyze",
                &hip,
                "--measure",
                "MC",
                "--r",
                "0.5",
                "--by",
                "outcome",
                "--rescale",
                target,
            ],
            &["--rescale", "positive number"],
        );
    }
}

// 4. A label of 65,536 characters panicked in the text output.
#[test]
fn finding_4_very_long_labels_are_cut_in_the_text_table_only() {
    let long = "L".repeat(70_000);
    let file = csv_file(
        "f4.csv",
        &format!("study,yi,vi\n{long},0.1,0.01\nB,0.3,0.02\n"),
    );
    let out = cochran(&["analyze", &file, "--measure", "GEN"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{}…", "L".repeat(39))),
        "no cut label"
    );
    let full = json(&["analyze", &file, "--measure", "GEN", "--format", "json"]);
    assert_eq!(full["studies"][0]["study"].as_str().unwrap().len(), 70_000);
}

// 5. Log-axis ticks over millions of decades hung with unbounded memory.
#[test]
fn finding_5_a_funnel_plot_of_an_extreme_odds_ratio_finishes_quickly() {
    let file = csv_file(
        "f5.csv",
        // A mean of 1e-6 with SD 1: a log ratio of means whose interval spans
        // hundreds of thousands of decades (fractional event counts, the
        // original trigger, are now refused).
        "study,n1,mean1,sd1,n2,mean2,sd2\nA,10,5,1,10,6,1\nB,10,0.000001,1,10,6,1\n",
    );
    let plot = common::output_path("f5.svg");
    let started = Instant::now();
    let out = cochran(&["analyze", &file, "--measure", "ROM", "--funnel", &plot]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.matches("<text").count() < 60, "too many labels");
}

// 6. Forest plots past the image size were cropped; duplicate columns were ignored.
#[test]
fn finding_6_a_forest_plot_too_tall_for_one_image_is_refused_not_cropped() {
    let rows: String = (0..800)
        .map(|i| format!("S{i},{},0.01\n", (i % 7) as f64 / 10.0))
        .collect();
    let file = csv_file("f6.csv", &format!("study,yi,vi\n{rows}"));
    let plot = common::output_path("f6.png");
    rejects(
        &["analyze", &file, "--measure", "GEN", "--forest", &plot],
        &["pixels", "would be cropped"],
    );
    assert!(
        !std::path::Path::new(&*plot).exists(),
        "no cropped image is written"
    );
}

#[test]
fn finding_6_duplicate_column_names_are_an_error() {
    let file = csv_file(
        "f6b.csv",
        "study,yi,vi,vi\nA,0.1,0.01,0.02\nB,0.2,0.02,0.03\n",
    );
    rejects(
        &["analyze", &file, "--measure", "GEN"],
        &["`vi` twice", "columns 3 and 4"],
    );
}

// 7. A change beyond the instrument's range was pooled.
#[test]
fn finding_7_changes_and_sds_beyond_the_instruments_range_are_refused() {
    let head = "study,outcome,n,mean_pre,sd_pre,mean_post,sd_post,mean_change,sd_change\n";
    let file = csv_file(
        "f7.csv",
        &format!("{head}A,WOMAC,20,50,10,40,10,-500,12\nB,WOMAC,30,55,11,35,12,-20,10\n"),
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["line 2", "mean_change", "-500", "0-96"],
    );
    let file = csv_file(
        "f7b.csv",
        &format!("{head}A,WOMAC,20,50,130,40,10,,\nB,WOMAC,30,55,11,35,12,,\n"),
    );
    rejects(
        &["analyze", &file, "--measure", "MC", "--r", "0.5"],
        &["line 2", "sd_pre", "130"],
    );
}

// 8. Messages: sentences, file names, capped lists, the right verb and columns.
#[test]
fn finding_8_a_ragged_row_is_described_in_a_sentence() {
    let file = csv_file("f8a.csv", "study,yi,vi\nA,0.1,0.01\nB,0.2\n");
    rejects(
        &["analyze", &file, "--measure", "GEN"],
        &["line 3: malformed CSV: the row has 2 fields; the header has 3"],
    );
    let out = cochran(&["analyze", &file, "--measure", "GEN"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("UnequalLengths") && !stderr.contains("Position"),
        "{stderr}"
    );
}

#[test]
fn finding_8_no_studies_left_names_the_file_and_caps_the_list() {
    let rows: String = (1..=50).map(|i| format!("S{i},,\n")).collect();
    let file = csv_file("f8b.csv", &format!("study,yi,vi\n{rows}"));
    rejects(
        &["analyze", &file, "--measure", "GEN"],
        &[
            "f8b.csv",
            "all 50 studies were excluded",
            "`S10`",
            "and 40 more",
        ],
    );
    let out = cochran(&["analyze", &file, "--measure", "GEN"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("`S11`"));
}

#[test]
fn finding_8_exclusion_warnings_are_capped_and_json_lists_all() {
    let rows: String = (1..=30).map(|i| format!("X{i},,\n")).collect();
    let file = csv_file(
        "f8c.csv",
        &format!("study,yi,vi\nA,0.1,0.01\nB,0.2,0.02\n{rows}"),
    );
    let out = json(&["analyze", &file, "--measure", "GEN", "--format", "json"]);
    let warnings: Vec<&str> = out["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .filter(|w| !w.starts_with("k = 2:"))
        .collect();
    assert_eq!(warnings.len(), 11, "{warnings:?}");
    assert!(warnings[10].contains("and 20 more"));
    assert_eq!(out["excluded"].as_array().unwrap().len(), 30);
}

#[test]
fn finding_8_an_unwritable_output_says_cannot_write() {
    let bcg = common::repo_path("datasets/bcg.csv");
    let out = cochran(&[
        "analyze",
        &bcg,
        "--measure",
        "RR",
        "--forest",
        "/nonexistent/dir/f.svg",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A folder that does not exist is the user's setting: exit code 2.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write") && !stderr.contains("cannot read"),
        "{stderr}"
    );
}

#[test]
fn finding_8_messages_name_only_columns_the_file_has() {
    // A standard error whose square underflows: the file has `sei`, not `vi`.
    let file = csv_file("f8d.csv", "study,yi,sei\nA,0.1,1e-160\nB,0.2,0.1\n");
    rejects(&["analyze", &file, "--measure", "GEN"], &["column `sei`"]);
    let out = cochran(&["analyze", &file, "--measure", "GEN"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("`vi`"));
    // A variance computed from SDs: no `vi` column to name.
    let file = csv_file(
        "f8e.csv",
        "study,n1,mean1,sd1,n2,mean2,sd2\nA,10,1,1e200,10,2,1\nB,12,1,2,12,3,2\n",
    );
    let out = cochran(&["analyze", &file, "--measure", "MD"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains("`vi`") && stderr.contains("computed from this row"),
        "{stderr}"
    );
}

// 9. Where metafor warns, cochran warns.
#[test]
fn finding_9_extreme_variance_ratios_are_warned_about() {
    let file = csv_file("f9a.csv", EXAMPLE_1);
    let out = json(&["analyze", &file, "--measure", "GEN", "--format", "json"]);
    assert!(
        out["warnings"].to_string().contains("times the smallest"),
        "{}",
        out["warnings"]
    );
    let bcg = json(&[
        "analyze",
        &common::repo_path("datasets/bcg.csv"),
        "--measure",
        "RR",
        "--format",
        "json",
    ]);
    assert!(!bcg["warnings"].to_string().contains("times the smallest"));
}

#[test]
fn finding_9_a_reset_to_the_boundary_is_warned_about() {
    // Fisher scoring for ML stops at a local maximum; the likelihood is higher at 0.
    let file = csv_file(
        "f9b.csv",
        "study,yi,vi\nA,-1425.82,1000000\nB,0.658803,1\nC,615.451,54314.8\n",
    );
    let out = json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--method",
        "ML",
        "--format",
        "json",
    ]);
    assert_eq!(out["tau2"].as_f64(), Some(0.0));
    assert!(
        out["warnings"].to_string().contains("local maximum"),
        "{}",
        out["warnings"]
    );
}

/// Several effects of one study in one analysis are dependent: said, with the
/// rows, and an error under --strict (issue 11, item 1).
#[test]
fn dependent_effects_of_one_study_are_named() {
    let morris = common::repo_path("datasets/morris2008.csv");
    let json = common::json(&["analyze", &morris, "--measure", "SMCR", "--format", "json"]);
    let warnings: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.contains("not independent"))
        .collect();
    assert_eq!(warnings.len(), 5, "{warnings:?}");
    assert!(warnings[0].contains("`Study 1` contributes 2 effects (rows 2, 7)"));
    common::rejects(
        &["analyze", &morris, "--measure", "SMCR", "--strict"],
        &["not independent", "Study 1"],
    );
}
