//! The `cochran` binary end to end: output formats, exit codes, and a clear
//! message (never a panic) for every kind of bad input.

use crate::common;

use common::{cochran, csv_file, json, rejects, repo_path};

#[test]
fn text_summary_has_the_metafor_headlines() {
    let out = cochran(&["analyze", &repo_path("datasets/bcg.csv"), "--measure", "RR"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for fragment in [
        "tau^2 estimator: REML",
        "k = 13",
        "tau^2 =",
        "I^2",
        "H^2",
        "Q(df = 12)",
        "Prediction interval",
        "Back-transformed RR",
    ] {
        assert!(
            text.contains(fragment),
            "`{fragment}` missing from:\n{text}"
        );
    }
}

#[test]
fn json_has_every_documented_key() {
    let v = json(&[
        "analyze",
        &repo_path("datasets/bcg.csv"),
        "--measure",
        "OR",
        "--by",
        "alloc",
        "--format",
        "json",
    ]);
    for key in [
        "k",
        "measure",
        "method",
        "test",
        "level",
        "estimate",
        "se",
        "statistic",
        "p_value",
        "ci_lower",
        "ci_upper",
        "pi_lower",
        "pi_upper",
        "tau2",
        "tau2_ci_lower",
        "tau2_ci_upper",
        "i2",
        "h2",
        "q",
        "q_df",
        "q_p_value",
        "warnings",
        "studies",
        "subgroups",
        "subgroup_test",
        "back_transformed",
    ] {
        assert!(v.get(key).is_some(), "key `{key}` missing");
    }
    let first = &v["studies"][0];
    for key in ["study", "yi", "vi", "weight", "ci_lower", "ci_upper"] {
        assert!(first.get(key).is_some(), "studies[0].{key} missing");
    }
    assert_eq!(v["studies"].as_array().unwrap().len(), 13);
    assert_eq!(v["subgroups"].as_array().unwrap().len(), 3);
    assert_eq!(v["measure"], "OR");
}

#[test]
fn common_effect_json_keeps_the_interval_keys_as_null() {
    let v = json(&[
        "analyze",
        &repo_path("datasets/bcg.csv"),
        "--measure",
        "RR",
        "--method",
        "EE",
        "--format",
        "json",
    ]);
    assert_eq!(v["method"], "FE");
    for key in ["tau2_ci_lower", "tau2_ci_upper", "pi_lower", "pi_upper"] {
        assert!(v[key].is_null(), "{key} should be null");
    }
}

#[test]
fn csv_output_is_the_study_table() {
    let out = cochran(&[
        "analyze",
        &repo_path("datasets/normand1999.csv"),
        "--measure",
        "SMD",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("study,yi,vi,se,ci_lower,ci_upper,weight")
    );
    assert_eq!(lines.count(), 9);
}

#[test]
fn before_after_takes_r_from_the_command_line_and_says_so() {
    let file = csv_file(
        "prepost_no_r.csv",
        "study,n,mean_pre,sd_pre,mean_post,sd_post\nA,20,30.6,15,38.5,11.6\nB,50,23.5,3.1,26.8,4.1\n",
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["`r`", "--r VALUE"],
    );
    let v = json(&[
        "analyze",
        &file,
        "--measure",
        "MC",
        "--r",
        "0.5",
        "--format",
        "json",
    ]);
    assert_eq!(v["k"], 2);
    let notes = v["notes"].to_string();
    assert!(notes.contains("r = 0.5 assumed"), "{notes}");
}

#[test]
fn a_missing_value_excludes_the_study_with_a_warning_and_strict_refuses() {
    let file = csv_file(
        "missing_value.csv",
        "study,yi,vi\nA,0.1,0.01\nB,,0.02\nC,0.3,0.03\n",
    );
    let v = json(&["analyze", &file, "--measure", "GEN", "--format", "json"]);
    assert_eq!(v["k"], 2);
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("`B`") && warnings.contains("yi"),
        "{warnings}"
    );
    assert_eq!(v["excluded"][0]["study"], "B");
    rejects(
        &["analyze", &file, "--measure", "GEN", "--strict"],
        &["line 3", "`yi`", "strict"],
    );
}

#[test]
fn a_single_study_is_reported_with_a_warning() {
    let file = csv_file("single.csv", "study,yi,vi\nA,0.3,0.1\n");
    let v = json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--test",
        "knha",
        "--format",
        "json",
    ]);
    assert_eq!(v["k"], 1);
    assert_eq!(v["estimate"], 0.3);
    assert!(v["i2"].is_null() && v["q"].is_null() && v["pi_lower"].is_null());
    assert!(v["warnings"].to_string().contains("k = 1"));
}

#[test]
fn missing_file() {
    rejects(
        &["analyze", "no/such/file.csv", "--measure", "RR"],
        &["no/such/file.csv", "cannot read"],
    );
}

#[test]
fn empty_file_and_header_only() {
    for (name, text) in [("empty.csv", ""), ("header_only.csv", "study,yi,vi\n")] {
        rejects(
            &["analyze", &csv_file(name, text), "--measure", "GEN"],
            &[name, "no data rows"],
        );
    }
}

#[test]
fn absent_column_is_named_with_what_the_measure_needs() {
    let file = csv_file("absent.csv", "study,n1,mean1,sd1,n2,mean2\nA,10,5,1,10,4\n");
    rejects(
        &["analyze", &file, "--measure", "MD"],
        &["`sd2`", "n1, mean1, sd1, n2, mean2, sd2"],
    );
}

#[test]
fn text_in_a_numeric_column() {
    let file = csv_file("text.csv", "study,yi,vi\nA,0.3,0.1\nB,abc,0.2\n");
    rejects(
        &["analyze", &file, "--measure", "GEN"],
        &["text.csv", "line 3", "`yi`", "`abc`"],
    );
}

#[test]
fn negative_sd_and_variance() {
    let sd = csv_file(
        "neg_sd.csv",
        "study,n1,mean1,sd1,n2,mean2,sd2\nA,10,5,1,10,4,1\nB,10,5,-1,10,4,1\n",
    );
    rejects(
        &["analyze", &sd, "--measure", "MD"],
        &["line 3", "`sd1`", "negative"],
    );
    let vi = csv_file("neg_vi.csv", "study,yi,vi\nA,0.1,-0.2\n");
    rejects(
        &["analyze", &vi, "--measure", "GEN"],
        &["line 2", "`vi`", "positive"],
    );
    let sei = csv_file("neg_sei.csv", "study,yi,sei\nA,0.1,-0.2\n");
    rejects(
        &["analyze", &sei, "--measure", "GEN"],
        &["line 2", "`sei`", "positive"],
    );
}

#[test]
fn sample_too_small_for_a_variance() {
    let file = csv_file(
        "n1.csv",
        "study,n1,mean1,sd1,n2,mean2,sd2\nA,1,5,1,10,4,1\n",
    );
    rejects(
        &["analyze", &file, "--measure", "SMD"],
        &["line 2", "`n1`", "at least 2"],
    );
    let prepost = csv_file(
        "n_prepost.csv",
        "study,n,mean_pre,sd_pre,mean_post,sd_post,r\nA,2,5,1,6,1,0.5\n",
    );
    rejects(
        &["analyze", &prepost, "--measure", "SMCR"],
        &["`n`", "at least 3"],
    );
}

#[test]
fn more_events_than_participants() {
    let file = csv_file("events.csv", "study,events1,n1,events2,n2\nA,5,4,1,10\n");
    rejects(
        &["analyze", &file, "--measure", "OR"],
        &["line 2", "`events1`", "exceed"],
    );
}

#[test]
fn correlation_outside_minus_one_one() {
    let file = csv_file(
        "r.csv",
        "study,n,mean_pre,sd_pre,mean_post,sd_post,r\nA,10,5,1,6,1,1.2\n",
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["line 2", "`r`", "[-1, 1]"],
    );
    let no_r = csv_file(
        "no_r.csv",
        "study,n,mean_pre,sd_pre,mean_post,sd_post\nA,10,5,1,6,1\n",
    );
    rejects(
        &["analyze", &no_r, "--measure", "MC", "--r", "-1.5"],
        &["--r", "[-1, 1]"],
    );
}

#[test]
fn zero_change_variance_is_refused() {
    let file = csv_file(
        "r_one.csv",
        "study,n,mean_pre,sd_pre,mean_post,sd_post,r\nA,10,5,1,6,1,1\n",
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["`r`", "no variance"],
    );
}

#[test]
fn no_studies_left_after_exclusions() {
    let file = csv_file("all_missing.csv", "study,yi,vi\nA,,0.1\nB,0.2,NA\n");
    rejects(
        &["analyze", &file, "--measure", "GEN"],
        &["no studies left", "`A`", "`B`"],
    );
}

#[test]
fn unknown_measure_method_test_and_level_list_the_valid_ones() {
    let bcg = repo_path("datasets/bcg.csv");
    rejects(
        &["analyze", &bcg, "--measure", "HR"],
        &[
            "`HR`",
            "MD, SMD, ROM, MC, SMCC, SMCR, SMCRD, MCD, OR, RR, RD, GEN",
        ],
    );
    rejects(
        &["analyze", &bcg, "--measure", "RR", "--method", "XX"],
        &["`XX`", "FE, EE, CE, DL, HE, HS, SJ, ML, REML, EB, PM"],
    );
    rejects(
        &["analyze", &bcg, "--measure", "RR", "--test", "t"],
        &["`t`", "z, knha"],
    );
    rejects(
        &["analyze", &bcg, "--measure", "RR", "--level", "0.95"],
        &["percent"],
    );
    rejects(
        &["analyze", &bcg, "--measure", "RR", "--by", "region"],
        &["`region`", "alloc"],
    );
}

#[test]
fn usage_errors_exit_with_two() {
    let out = cochran(&["analyze"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ratio_of_means_needs_positive_means() {
    let file = csv_file(
        "rom.csv",
        "study,n1,mean1,sd1,n2,mean2,sd2\nA,10,-5,1,10,4,1\n",
    );
    rejects(
        &["analyze", &file, "--measure", "ROM"],
        &["`mean1`", "positive"],
    );
}

#[test]
fn controlled_designs_name_the_arm_column() {
    let header = "study,n1,mean_pre1,sd_pre1,mean_post1,sd_post1,r1,n2,mean_pre2,sd_pre2,mean_post2,sd_post2,r2\n";
    let file = csv_file(
        "controlled_bad.csv",
        &format!("{header}A,20,30,15,38,11,0.5,20,23,-1,19,14,0.5\n"),
    );
    rejects(
        &["analyze", &file, "--measure", "SMCRD"],
        &["line 2", "`sd_pre2`", "negative"],
    );
    let no_r = csv_file(
        "controlled_no_r.csv",
        &format!("{header}A,20,30,15,38,11,,20,23,13,19,14,\n")
            .replace(",r1,", ",x1,")
            .replace(",r2\n", ",x2\n"),
    );
    rejects(
        &["analyze", &no_r, "--measure", "MCD"],
        &["`r1`", "`r2`", "--r VALUE"],
    );
    let v = json(&[
        "analyze",
        &no_r,
        "--measure",
        "MCD",
        "--r",
        "0.5",
        "--format",
        "json",
    ]);
    assert_eq!(v["k"], 1);
    assert!(v["notes"].to_string().contains("r = 0.5 assumed"));
}
