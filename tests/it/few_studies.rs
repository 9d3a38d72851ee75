//! Few studies, told honestly (issue 20): warnings that say what the
//! intervals of 1 to 4 studies do and do not mean, in the text, the JSON and
//! the forest plot; metafor's ad hoc Knapp-Hartung test is checked against
//! the goldens with every other test (tests/reference/*.json, test "adhoc").

use crate::common::{cochran, csv_file, output_path};

/// The JSON of an analysis of `csv` by `measure`, which must succeed.
fn analysed(csv: &str, measure: &str, args: &[&str]) -> serde_json::Value {
    // One file per content: the tests run in parallel.
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (csv, measure, args).hash(&mut hasher);
    let file = csv_file(&format!("few_{:x}.csv", hasher.finish()), csv);
    let mut all = vec!["analyze", &file, "--measure", measure, "--format", "json"];
    all.extend(args);
    let out = cochran(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn texts(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

fn warnings(csv: &str, args: &[&str]) -> Vec<String> {
    texts(&analysed(csv, "GEN", args), "warnings")
}

fn studies(k: usize) -> String {
    let rows: String = (0..k)
        .map(|i| format!("S{i},0.{},0.0{}\n", 2 + i % 5, 1 + i % 4))
        .collect();
    format!("study,yi,vi\n{rows}")
}

#[test]
fn fewer_than_five_studies_are_said_with_what_to_do() {
    let two = warnings(&studies(2), &[]);
    assert!(
        two.iter().any(|w| w.starts_with("k = 2: with two studies")
            && w.contains("--test adhoc (Knapp-Hartung, never narrower than z)")),
        "{two:?}"
    );
    let four = warnings(&studies(4), &["--test", "adhoc"]);
    assert!(
        four.iter()
            .any(|w| w.starts_with("k = 4: with fewer than 5 studies") && !w.contains("adhoc")),
        "{four:?}"
    );
    let common = warnings(&studies(3), &["--method", "FE"]);
    assert!(
        common
            .iter()
            .any(|w| w.contains("one true effect cannot be checked")),
        "{common:?}"
    );
    let five = warnings(&studies(5), &[]);
    assert!(!five.iter().any(|w| w.starts_with("k = ")), "{five:?}");
}

#[test]
fn the_forest_plot_of_few_studies_says_so() {
    let file = csv_file("few_forest.csv", &studies(2));
    let svg = output_path("few_forest.svg");
    let out = cochran(&["analyze", &file, "--measure", "GEN", "--forest", &svg]);
    assert!(out.status.success());
    let text = std::fs::read_to_string(&*svg).unwrap();
    assert!(text.contains("Only 2 studies"), "no footnote");
    let five = csv_file("five_forest.csv", &studies(5));
    let svg5 = output_path("five_forest.svg");
    assert!(
        cochran(&["analyze", &five, "--measure", "GEN", "--forest", &svg5])
            .status
            .success()
    );
    assert!(!std::fs::read_to_string(&*svg5).unwrap().contains("Only 5"));
}

/// A borrowed SD names the study it came from (issue 20): with one donor,
/// it is that study's SD whatever the rule.
#[test]
fn borrowed_sds_name_their_donors() {
    let out = cochran(&[
        "analyze",
        "datasets/hip_oa_msc.csv",
        "--measure",
        "MC",
        "--outcome",
        "HHS",
        "--r",
        "0.5",
        "--impute-sd",
        "max",
        "--format",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.contains(
            "borrowed from `Dall'Oca 2019`, the only study of HHS at 6 months reporting sd_pre"
        ),
        "{json}"
    );
    let csv = "study,outcome,time,n,mean_pre,sd_pre,mean_post,sd_post\n\
               A,HHS,6,10,50,8,70,9\nB,HHS,6,12,52,12,71,11\nC,HHS,6,15,49,,69,\n";
    let file = csv_file("donors.csv", csv);
    for (rule, says) in [
        (
            "max",
            "the largest sd_pre of the 2 studies of HHS at 6 months reporting it, `B`'s",
        ),
        (
            "mean",
            "the mean sd_pre of the 2 studies of HHS at 6 months reporting it (`A`, `B`)",
        ),
    ] {
        let out = cochran(&[
            "analyze",
            &file,
            "--measure",
            "MC",
            "--r",
            "0.5",
            "--impute-sd",
            rule,
            "--format",
            "json",
        ]);
        let json = String::from_utf8_lossy(&out.stdout);
        assert!(json.contains(says), "{rule}: {json}");
    }
}

fn few_studies_cases() -> Vec<serde_json::Value> {
    crate::common::golden("few_studies/reference")["cases"]
        .as_array()
        .unwrap()
        .clone()
}

fn case_effects(case: &serde_json::Value) -> Vec<cochran::Effect> {
    let column = |key: &str| -> Vec<f64> {
        case[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    column("yi")
        .into_iter()
        .zip(column("vi"))
        .map(|(y, v)| cochran::Effect::new(y, v).unwrap())
        .collect()
}

/// Prediction intervals on t(k − p) as metafor's `predict(pi.type = "t")`,
/// and its default beside them (tests/reference/few_studies/reference.json).
#[test]
fn prediction_intervals_on_t_agree_with_metafor() {
    use cochran::model::PredictionInterval;
    for case in few_studies_cases() {
        let test: cochran::Test = case["test"].as_str().unwrap().parse().unwrap();
        for (kind, key) in [
            (PredictionInterval::Metafor, "pi_default"),
            (PredictionInterval::T, "pi_t"),
        ] {
            let fit = cochran::MetaAnalysis::random(cochran::Tau2::Reml)
                .test(test)
                .prediction_interval(kind)
                .fit(&case_effects(&case))
                .unwrap();
            for (actual, name) in [(fit.pi_lower, "pi_lower"), (fit.pi_upper, "pi_upper")] {
                let expected = case[key][name].as_f64().unwrap();
                assert!(
                    crate::common::close(actual.unwrap(), expected),
                    "{} {key} {name}: {actual:?} vs {expected}",
                    case["name"]
                );
            }
        }
    }
}

/// A τ² bound beyond metafor's search range (max(100, 10 τ̂²)) is flagged,
/// with I² and H² at the limit as metafor prints them (">209.64" for the hip
/// example's HHS); bounds within it are metafor's.
#[test]
fn tau2_bounds_beyond_metafors_search_range_are_flagged() {
    let close = crate::common::close;
    for case in few_studies_cases() {
        let test: cochran::Test = case["test"].as_str().unwrap().parse().unwrap();
        let fit = cochran::MetaAnalysis::random(cochran::Tau2::Reml)
            .test(test)
            .fit(&case_effects(&case))
            .unwrap();
        let interval = fit.tau2_interval().unwrap().unwrap();
        let expected = &case["tau2_interval"];
        let value = |key: &str, row: usize| expected[key][row].as_f64().unwrap();
        let upper_beyond = expected["upper_sign"] == ">";
        assert_eq!(
            interval.upper_beyond_limit, upper_beyond,
            "{}",
            case["name"]
        );
        assert_eq!(interval.lower_beyond_limit, expected["lower_sign"] == ">");
        assert!(
            close(interval.tau2_ci_lower, value("lower", 0)),
            "{}",
            case["name"]
        );
        if upper_beyond {
            assert!(close(interval.search_limit, value("upper", 0)));
            assert!(close(interval.i2_at_limit, value("upper", 2)));
            assert!(close(interval.h2_at_limit, value("upper", 3)));
            assert!(interval.tau2_ci_upper > interval.search_limit);
        } else {
            assert!(
                close(interval.tau2_ci_upper, value("upper", 0)),
                "{}",
                case["name"]
            );
            assert!(close(interval.i2_ci_upper, value("upper", 2)));
        }
    }
    let text = String::from_utf8(
        crate::common::cochran(&[
            "analyze",
            "datasets/hip_oa_msc.csv",
            "--measure",
            "MC",
            "--outcome",
            "HHS",
            "--r",
            "0.5",
            "--impute-sd",
            "max",
        ])
        .stdout,
    )
    .unwrap();
    assert!(
        text.contains("tau^2 = 20.9640 [1.8974, >209.6405]"),
        "{text}"
    );
    assert!(text.contains("I^2   = 88.07% [40.04%, >98.66%]"), "{text}");
}

/// A before/after change of more than 3 baseline SDs is flagged (an SE
/// entered as an SD gives such values); one of 2 SDs is not.
#[test]
fn implausibly_large_changes_are_flagged() {
    let csv = "study,n,mean_pre,sd_pre,mean_post,sd_post\nA,20,50,5,70,6\nB,30,50,10,70,11\n";
    let warnings = texts(&analysed(csv, "MC", &["--r", "0.5"]), "warnings");
    // A: (70 - 50) / 5 = 4 SDs; B: 2 SDs.
    let flagged = |study: &str, warnings: &[String]| {
        warnings
            .iter()
            .any(|w| w.starts_with(&format!("study `{study}`: a change of")))
    };
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("study `A`: a change of 4.0 SDs")),
        "{warnings:?}"
    );
    assert!(!flagged("B", &warnings), "{warnings:?}");
    // A standardised measure is judged by its own value.
    let warnings = texts(&analysed(csv, "SMCR", &["--r", "0.5"]), "warnings");
    assert!(flagged("A", &warnings), "{warnings:?}");
}

/// Headers as clinicians type them are read as cochran's columns, each said
/// in the notes; the result is the one of cochran's own names.
#[test]
fn clinician_headers_are_recognised_and_said() {
    let typed = "Study,Outcome,Follow-up,N,Pre mean,Pre SD,Post mean,Post SD\n\
                 A,HHS,6,20,50,12,70,12\nB,HHS,6,30,48,11,72,10\n";
    let own = "study,outcome,time,n,mean_pre,sd_pre,mean_post,sd_post\n\
               A,HHS,6,20,50,12,70,12\nB,HHS,6,30,48,11,72,10\n";
    let run = |csv: &str| analysed(csv, "MC", &["--r", "0.5"]);
    let (typed, own) = (run(typed), run(own));
    assert_eq!(typed["studies"], own["studies"]);
    assert_eq!(typed["estimate"], own["estimate"]);
    let notes = texts(&typed, "notes");
    for (header, column) in [
        ("Pre mean", "mean_pre"),
        ("Pre SD", "sd_pre"),
        ("Post mean", "mean_post"),
        ("Post SD", "sd_post"),
        ("Follow-up", "time"),
    ] {
        let said = format!("the column `{header}` is read as `{column}`");
        assert!(notes.contains(&said), "{said} not in {notes:?}");
    }
}

/// A header that is a guess at a missing column is named with the mapping
/// that would use it.
#[test]
fn a_missing_column_error_suggests_the_mapping() {
    let file = csv_file(
        "guess.csv",
        "Study,Pre_Avg,Pre SD,Post mean,Post SD,N\nA,50,12,70,12,20\n",
    );
    let out = cochran(&["analyze", &file, "--measure", "MC", "--r", "0.5"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the file has `pre_avg` (meant as `mean_pre`?)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("map them with --columns mean_pre=pre_avg"),
        "{stderr}"
    );
}
