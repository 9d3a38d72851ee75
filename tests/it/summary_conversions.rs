//! Missing-statistics conversions (src/effect/summary.rs) against published
//! values and an independent evaluation of the published formulas.
//!
//! Sources of the expected values:
//! * Cochrane Handbook for Systematic Reviews of Interventions, section 6.5.2.2
//!   (worked t value for n = 25 and the large-sample divisors 3.92, 3.29, 5.15);
//! * Wan et al. (2014), BMC Med Res Methodol 14:135, Table 1 (ξ(n)) and Table 2
//!   (η(Q));
//! * tests/reference/conversions/summary_conversions.json, written by
//!   tests/reference/conversions/summary_conversions.R (R 4.2.2, qnorm/qt), which follows
//!   R `meta`'s algorithm (an independent transcription of the published formulas).

use crate::common;

use cochran::ErrorKind;
use cochran::effect::summary::{
    Columns, MeanSd, Summary, mean_sd_from_summary, sd_from_ci, sd_from_se,
};
use common::{close, golden};

fn default() -> Columns<'static> {
    Columns::default()
}

fn estimate(summary: Summary, n: f64) -> MeanSd {
    mean_sd_from_summary(summary, n, default()).expect("valid summary")
}

fn column_of(err: &cochran::Error) -> String {
    err.location().column.clone().unwrap_or_default()
}

/// Cochrane Handbook 6.5.2.2: SD = SE × √N.
#[test]
fn sd_from_se_multiplies_by_root_n() {
    assert_eq!(sd_from_se(2.0, 25.0, default()).unwrap(), 10.0);
    assert_eq!(sd_from_se(0.5, 100.0, default()).unwrap(), 5.0);
}

/// Cochrane Handbook 6.5.2.2: "the t value for a 95% confidence interval from a
/// sample size of 25 … (the result is 2.0639). The divisor, 3.92, … would be
/// replaced by 2 × 2.0639 = 4.128." Compared to the printed precision.
#[test]
fn sd_from_ci_uses_the_handbook_t_value() {
    let sd = sd_from_ci(0.0, 1.0, 25.0, 95.0, default()).unwrap();
    let divisor = 25f64.sqrt() / sd;
    assert!((divisor - 4.128).abs() < 5e-4, "divisor {divisor}");
    assert!((divisor / 2.0 - 2.0639).abs() < 5e-5, "t {}", divisor / 2.0);
}

/// Cochrane Handbook 6.5.2.2: for large samples the interval is 3.92, 3.29 and
/// 5.15 standard errors wide at 95, 90 and 99 %; t tends to z. Printed
/// precision: two decimals.
#[test]
fn sd_from_ci_tends_to_the_normal_divisors() {
    let n: f64 = 1e8;
    for (level, divisor) in [(95.0, 3.92), (90.0, 3.29), (99.0, 5.15)] {
        let sd = sd_from_ci(10.0, 11.0, n, level, default()).unwrap();
        assert!((n.sqrt() / sd - divisor).abs() < 5e-3, "level {level}");
    }
}

/// R's qt() on the same inputs (tests/reference/conversions/summary_conversions.json).
#[test]
fn sd_from_ci_agrees_with_r() {
    let reference = golden("conversions/summary_conversions");
    for case in reference["ci"].as_array().unwrap() {
        let get = |key: &str| case[key].as_f64().unwrap();
        let sd = sd_from_ci(
            get("lower"),
            get("upper"),
            get("n"),
            get("level"),
            default(),
        )
        .unwrap();
        assert!(close(sd, get("sd")), "{case}: cochran {sd}");
    }
}

fn summary_of(case: &serde_json::Value) -> Summary {
    let get = |key: &str| case[key].as_f64().unwrap();
    match case["summary"].as_str().unwrap() {
        "range" => Summary::Range {
            min: get("min"),
            median: get("median"),
            max: get("max"),
        },
        "quartiles" => Summary::Quartiles {
            q1: get("q1"),
            median: get("median"),
            q3: get("q3"),
        },
        "five" => Summary::Five {
            min: get("min"),
            q1: get("q1"),
            median: get("median"),
            q3: get("q3"),
            max: get("max"),
        },
        other => panic!("unknown summary {other}"),
    }
}

/// Luo means, Wan SDs (tables and Blom forms, on both sides of n = 50 and 201)
/// and Shi SDs, evaluated independently in R; the R script uses Shi's shortcut
/// form (eq. 11), cochran the weighted form (eq. 10).
#[test]
fn summaries_agree_with_the_r_evaluation_of_the_papers() {
    let reference = golden("conversions/summary_conversions");
    let cases = reference["summaries"].as_array().unwrap();
    assert_eq!(cases.len(), 39);
    for case in cases {
        let n = case["n"].as_f64().unwrap();
        let e = estimate(summary_of(case), n);
        assert!(
            close(e.mean, case["mean"].as_f64().unwrap()),
            "{case}: mean {}",
            e.mean
        );
        assert!(
            close(e.sd, case["sd"].as_f64().unwrap()),
            "{case}: sd {}",
            e.sd
        );
    }
}

/// Wan et al. (2014), Table 1: ξ(10) = 3.078, ξ(42) = 4.361; Table 2:
/// η(Q = 1, n = 5) = 0.990, η(Q = 50, n = 201) = 1.340. A spread equal to the
/// tabulated divisor gives an SD of 1.
#[test]
fn small_samples_use_wan_tables() {
    for (n, xi) in [(10.0, 3.078), (42.0, 4.361)] {
        let e = estimate(
            Summary::Range {
                min: 0.0,
                median: xi / 2.0,
                max: xi,
            },
            n,
        );
        assert!((e.sd - 1.0).abs() < 1e-12, "n = {n}: {}", e.sd);
    }
    for (n, eta) in [(5.0, 0.990), (201.0, 1.340)] {
        let e = estimate(
            Summary::Quartiles {
                q1: 0.0,
                median: eta / 2.0,
                q3: eta,
            },
            n,
        );
        assert!((e.sd - 1.0).abs() < 1e-12, "n = {n}: {}", e.sd);
    }
}

/// Wan et al. (2014) and the Cochrane Handbook (6.5.2.5): for large normal
/// samples the IQR is about 1.35 SD (η(n) → 2Φ⁻¹(0.75)). Printed precision.
#[test]
fn iqr_rule_of_thumb_is_the_large_sample_limit() {
    let e = estimate(
        Summary::Quartiles {
            q1: 10.0,
            median: 10.675,
            q3: 11.35,
        },
        1e7,
    );
    assert!((e.sd - 1.0).abs() < 0.005 / 1.35, "{}", e.sd);
}

/// Luo et al.'s weights evaluated by hand where the powers of n are whole:
/// S1 at n = 16 (n^0.75 = 8, weight 4/12); S2 at n = 39 (0.39/n = 0.01,
/// weight 0.71); S3 at n = 2^20 (n^0.75 = 2^15, n^0.55 = 2^11).
#[test]
fn luo_weights_by_hand() {
    let s1 = estimate(
        Summary::Range {
            min: 0.0,
            median: 3.0,
            max: 12.0,
        },
        16.0,
    );
    assert!((s1.mean - (6.0 / 3.0 + 3.0 * 2.0 / 3.0)).abs() < 1e-12);
    let s2 = estimate(
        Summary::Quartiles {
            q1: 0.0,
            median: 0.0,
            q3: 2.0,
        },
        39.0,
    );
    assert!((s2.mean - 0.71).abs() < 1e-12);
    let w1 = 2.2 / (2.2 + 32768.0);
    let w2 = 0.7 - 0.72 / 2048.0;
    let s3 = estimate(
        Summary::Five {
            min: 0.0,
            q1: 1.0,
            median: 1.0,
            q3: 3.0,
            max: 10.0,
        },
        1_048_576.0,
    );
    let by_hand = w1 * 5.0 + w2 * 2.0 + (1.0 - w1 - w2) * 1.0;
    assert!((s3.mean - by_hand).abs() < 1e-12);
}

/// Every estimator is a weighted average of symmetric statistics, so a
/// symmetric summary returns its median as the mean.
#[test]
fn symmetric_summaries_return_the_median() {
    for n in [5.0, 12.0, 80.0, 500.0] {
        for s in [
            Summary::Range {
                min: 1.0,
                median: 5.0,
                max: 9.0,
            },
            Summary::Quartiles {
                q1: 4.0,
                median: 5.0,
                q3: 6.0,
            },
            Summary::Five {
                min: 1.0,
                q1: 4.0,
                median: 5.0,
                q3: 6.0,
                max: 9.0,
            },
        ] {
            assert!((estimate(s, n).mean - 5.0).abs() < 1e-12);
        }
    }
}

#[test]
fn method_names_the_estimators() {
    let five = Summary::Five {
        min: 1.0,
        q1: 4.0,
        median: 5.0,
        q3: 6.0,
        max: 9.0,
    };
    assert_eq!(
        estimate(five, 10.0).method,
        "mean from median, quartiles and range (Luo et al. 2018); SD from range and IQR (Shi et al. 2020)"
    );
    let iqr = Summary::Quartiles {
        q1: 4.0,
        median: 5.0,
        q3: 6.0,
    };
    assert_eq!(
        estimate(iqr, 10.0).method,
        "mean from median and quartiles (Luo et al. 2018); SD from IQR (Wan et al. 2014)"
    );
}

#[test]
fn out_of_order_values_name_the_offending_column() {
    let pre = Columns::new("_pre", "n");
    let s = Summary::Five {
        min: 1.0,
        q1: 6.0,
        median: 5.0,
        q3: 7.0,
        max: 9.0,
    };
    let err = mean_sd_from_summary(s, 20.0, pre).unwrap_err();
    assert_eq!(column_of(&err), "median_pre");
    assert!(err.is_input_error());
    let text = err.to_string();
    assert!(
        text.contains("median_pre (5) is smaller than q1_pre (6)"),
        "{text}"
    );
    assert!(
        text.contains("min_pre ≤ q1_pre ≤ median_pre ≤ q3_pre ≤ max_pre"),
        "{text}"
    );
}

#[test]
fn zero_spread_is_rejected() {
    let post = Columns::new("_post", "n");
    let flat_iqr = Summary::Five {
        min: 1.0,
        q1: 5.0,
        median: 5.0,
        q3: 5.0,
        max: 9.0,
    };
    let err = mean_sd_from_summary(flat_iqr, 20.0, post).unwrap_err();
    assert_eq!(column_of(&err), "q3_post");
    assert!(err.to_string().contains("spread of zero"));
}

#[test]
fn too_small_or_fractional_n_says_what_is_needed() {
    let arm = Columns::new("_pre1", "n1");
    let iqr = Summary::Quartiles {
        q1: 4.0,
        median: 5.0,
        q3: 6.0,
    };
    let err = mean_sd_from_summary(iqr, 4.0, arm).unwrap_err();
    assert_eq!(column_of(&err), "n1");
    assert!(err.to_string().contains("at least 5"), "{err}");
    let range = Summary::Range {
        min: 4.0,
        median: 5.0,
        max: 6.0,
    };
    assert!(mean_sd_from_summary(range, 2.0, arm).is_ok());
    let err = mean_sd_from_summary(range, 1.0, arm).unwrap_err();
    assert!(err.to_string().contains("at least 2"), "{err}");
    let err = mean_sd_from_summary(range, 10.5, arm).unwrap_err();
    assert!(err.to_string().contains("whole number"), "{err}");
}

#[test]
fn non_finite_values_are_rejected() {
    let s = Summary::Range {
        min: f64::NAN,
        median: 5.0,
        max: 6.0,
    };
    let err = mean_sd_from_summary(s, 10.0, Columns::new("_post", "n")).unwrap_err();
    assert_eq!(column_of(&err), "min_post");
    assert!(matches!(err.kind(), ErrorKind::InvalidValue(_)));
    assert!(mean_sd_from_summary(s, f64::INFINITY, default()).is_err());
}

#[test]
fn bad_se_and_ci_inputs_are_rejected() {
    let pre = Columns::new("_pre", "n");
    assert_eq!(
        column_of(&sd_from_se(-1.0, 10.0, pre).unwrap_err()),
        "se_pre"
    );
    assert_eq!(column_of(&sd_from_se(1.0, 1.0, pre).unwrap_err()), "n");
    assert_eq!(
        column_of(&sd_from_se(f64::NAN, 10.0, pre).unwrap_err()),
        "se_pre"
    );
    let reversed = sd_from_ci(5.0, 4.0, 10.0, 95.0, pre).unwrap_err();
    assert_eq!(column_of(&reversed), "ci_upper_pre");
    assert_eq!(
        column_of(&sd_from_ci(4.0, 5.0, 1.0, 95.0, pre).unwrap_err()),
        "n"
    );
    for level in [0.0, 100.0, 120.0, f64::NAN] {
        assert!(
            sd_from_ci(4.0, 5.0, 10.0, level, pre).is_err(),
            "level {level}"
        );
    }
    let lower_nan = sd_from_ci(f64::NAN, 5.0, 10.0, 95.0, pre).unwrap_err();
    assert_eq!(column_of(&lower_nan), "ci_lower_pre");
}

/// The documented example of R's metaBLUE 1.0.0 (CRAN, `?Luo.mean`): minimum 1,
/// median 4, maximum 10, n = 30, scenario S1, prints `$muhat [1] 4.356748`.
/// Compared to the printed precision.
#[test]
fn luo_mean_matches_the_metablue_documented_example() {
    let summary = Summary::Range {
        min: 1.0,
        median: 4.0,
        max: 10.0,
    };
    let mean = estimate(summary, 30.0).mean;
    assert!((mean - 4.356748).abs() < 5e-7, "{mean}");
}
