//! Proportions, single means, correlations and incidence rates against
//! metafor's escalc, rma and transf functions (tests/reference/outcomes/measures.json,
//! written by tests/reference/generate.R).

use crate::common;

use cochran::{Analysis, AnalysisOptions, Measure, Method};
use common::{compare, golden, repo_path};
use serde_json::{Value, json};

#[test]
fn every_outcome_type_agrees_with_escalc_rma_and_its_back_transformation() {
    let golden = golden("outcomes/measures");
    let mut failures = Vec::new();
    let mut measures = std::collections::BTreeSet::new();
    for case in golden["cases"].as_array().unwrap() {
        let text = |k: &str| case[k].as_str().unwrap();
        let label = format!("{} {} {}", text("csv"), text("measure"), text("method"));
        let measure: Measure = text("measure").parse().unwrap();
        measures.insert(measure.name());
        let options =
            AnalysisOptions::new(measure).method(text("method").parse::<Method>().unwrap());
        let analysis = Analysis::from_csv(repo_path(text("csv")), &options)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        // Studies metafor could not compute (a missing value) are excluded here.
        let included: Vec<(f64, f64)> = case["yi"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["vi"].as_array().unwrap())
            .filter(|(y, v)| !y.is_null() && !v.is_null())
            .map(|(y, v)| (y.as_f64().unwrap(), v.as_f64().unwrap()))
            .collect();
        assert_eq!(analysis.studies.len(), included.len(), "{label}");
        for (i, (study, (yi, vi))) in analysis.studies.iter().zip(&included).enumerate() {
            failures.extend(compare(
                &format!("{label}: yi[{i}]"),
                Some(&json!(study.yi)),
                &json!(yi),
            ));
            failures.extend(compare(
                &format!("{label}: vi[{i}]"),
                Some(&json!(study.vi)),
                &json!(vi),
            ));
        }
        let ours = serde_json::to_value(&analysis).unwrap();
        for key in [
            "estimate", "se", "ci_lower", "ci_upper", "tau2", "q", "i2", "pi_lower", "pi_upper",
        ] {
            failures.extend(compare(
                &format!("{label}: {key}"),
                ours.get(key),
                &case["fit"][key],
            ));
        }
        match &case["back_transformed"] {
            Value::Null => assert!(ours.get("back_transformed").is_none(), "{label}"),
            theirs => {
                for key in ["estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper"] {
                    failures.extend(compare(
                        &format!("{label}: back-transformed {key}"),
                        ours["back_transformed"].get(key),
                        &theirs[key],
                    ));
                }
            }
        }
    }
    assert_eq!(measures.len(), 15, "{measures:?}");
    common::assert_agrees(&failures);
}

#[test]
fn bad_values_of_each_design_are_refused_with_their_column() {
    let cases = [
        ("PR", "study,events,n\nA,12,10\n", "events"),
        ("PLO", "study,events,n\nA,-1,10\n", "events"),
        ("MN", "study,n,mean,sd\nA,10,5,-2\n", "sd"),
        ("MNLN", "study,n,mean,sd\nA,10,-5,2\n", "mean"),
        ("COR", "study,cor,n\nA,1.2,50\n", "cor"),
        ("ZCOR", "study,cor,n\nA,1,50\n", "cor"),
        ("ZCOR", "study,cor,n\nA,0.3,3\n", "n"),
        ("IR", "study,events,time\nA,3,0\n", "time"),
        (
            "IRR",
            "study,events1,time1,events2,time2\nA,3,100,4,-5\n",
            "time2",
        ),
    ];
    for (i, (measure, csv, column)) in cases.iter().enumerate() {
        let path = common::csv_file(&format!("bad_outcome_{i}.csv"), csv);
        common::rejects(&["analyze", &path, "--measure", measure], &[column, &path]);
    }
    let path = common::csv_file(
        "wrong_design.csv",
        "study,events1,n1,events2,n2\nA,1,10,2,10\n",
    );
    common::rejects(&["analyze", &path, "--measure", "PR"], &["events", "n"]);
}

#[test]
fn forest_plots_show_transformed_measures_on_their_natural_scale() {
    let pritz = repo_path("datasets/pritz1997.csv");
    let analysis = Analysis::from_csv(&pritz, &AnalysisOptions::new(Measure::Pft)).unwrap();
    let svg = analysis.forest_plot().to_svg().unwrap();
    let back = *analysis.model.back_transformed().unwrap();
    let pooled = format!(
        "{:.2} [{:.2}, {:.2}]",
        back.estimate, back.ci_lower, back.ci_upper
    );
    assert!(svg.contains(&pooled), "{pooled}");
    assert!(svg.contains("Proportion") && !svg.contains("Freeman") && svg.contains("Events"));
    // A single group's proportion has no line of no effect and favours nobody.
    assert!(!svg.contains("Favours"));
    let molloy = repo_path("datasets/molloy2014.csv");
    let analysis = Analysis::from_csv(&molloy, &AnalysisOptions::new(Measure::Zcor)).unwrap();
    let svg = analysis.forest_plot().to_svg().unwrap();
    assert!(svg.contains("Correlation") && svg.contains("Positive"));
}
