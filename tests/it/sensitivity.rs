//! Sensitivity analyses against metafor (tests/reference/sensitivity/*.json,
//! written by tests/reference/generate.R).

use crate::common;

use cochran::{Analysis, AnalysisOptions, Measure, Method, Test};
use common::{compare, golden, golden_analysis, repo_path};

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
        let (label, analysis) = golden_analysis(case);
        let ours = serde_json::to_value(analysis.leave_one_out().unwrap()).unwrap();
        let rows = case["rows"].as_array().unwrap();
        let studies = ours["studies"].as_array().unwrap();
        assert_eq!(rows.len(), studies.len(), "{label}");
        for (i, (ours, theirs)) in studies.iter().zip(rows).enumerate() {
            assert_eq!(ours["study"], analysis.studies.get(i).study, "{label}");
            for &key in KEYS {
                failures.extend(compare(
                    &format!("{label}: without {i}: {key}"),
                    ours.get(key),
                    &theirs[key],
                ));
            }
        }
    }
    common::assert_agrees(&failures);
}

#[test]
fn leave_one_out_does_not_depend_on_the_number_of_threads() {
    let options = AnalysisOptions::new(Measure::Smd);
    let analysis = Analysis::from_csv(repo_path("datasets/normand1999.csv"), &options).unwrap();
    let run = |threads| common::with_threads(threads, || analysis.leave_one_out().unwrap());
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

/// metafor's `cumul(res, order = ...)`. At the first step (one study) metafor
/// prints Q = 0, I² = 0; cochran reports no heterogeneity there, as the issue asks.
#[test]
fn cumulative_meta_analysis_agrees_with_metafors_cumul() {
    let golden = golden("sensitivity/cumulative");
    let mut failures = Vec::new();
    for case in golden["cases"].as_array().unwrap() {
        let text = |k: &str| case[k].as_str().unwrap();
        let label = format!("by {} {} {}", text("order"), text("method"), text("test"));
        let options = AnalysisOptions::new(Measure::Rr)
            .method(text("method").parse::<Method>().unwrap())
            .test(text("test").parse::<Test>().unwrap());
        let csv = repo_path(text("csv"));
        let analysis = Analysis::from_csv(&csv, &options).unwrap();
        let column = cochran::data::Table::read(
            &csv,
            &cochran::data::TableSpec::numeric(&[]).with_text(&[text("order")]),
        )
        .unwrap();
        let order = analysis.order_by(&column, text("order")).unwrap();
        let added: Vec<usize> = case["added"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize - 1)
            .collect();
        assert_eq!(order, added, "{label}: order");
        let ours = serde_json::to_value(analysis.cumulative(&order).unwrap()).unwrap();
        let studies = ours["studies"].as_array().unwrap();
        for (step, (ours, theirs)) in studies
            .iter()
            .zip(case["rows"].as_array().unwrap())
            .enumerate()
        {
            for &key in KEYS {
                if step == 0 && ["q", "q_p_value", "i2", "h2"].contains(&key) {
                    assert!(ours[key].is_null(), "{label}: {key} of one study");
                    continue;
                }
                failures.extend(compare(
                    &format!("{label}: step {}: {key}", step + 1),
                    ours.get(key),
                    &theirs[key],
                ));
            }
        }
    }
    common::assert_agrees(&failures);
}

#[test]
fn the_command_line_runs_a_cumulative_analysis_by_a_column() {
    let bcg = repo_path("datasets/bcg.csv");
    let json = common::json(&[
        "cumulative",
        &bcg,
        "--measure",
        "RR",
        "--order",
        "year",
        "--format",
        "json",
    ]);
    let studies = json["studies"].as_array().unwrap();
    assert_eq!(studies.len(), 13);
    assert_eq!(studies[0]["study"], "Aronson 1948");
    assert!(studies[0]["q"].is_null() && studies[1]["q"].is_number());
    common::rejects(
        &["cumulative", &bcg, "--measure", "RR", "--order", "decade"],
        &["bcg.csv", "`decade`", "`year`, `ablat`"],
    );
    let gaps = common::csv_file(
        "gaps.csv",
        "study,yi,vi,year\nA,0.1,0.01,2001\nB,0.3,0.02,\nC,0.2,0.01,1999\n",
    );
    common::rejects(
        &["cumulative", &gaps, "--measure", "GEN", "--order", "year"],
        &["`B`", "no value"],
    );
}

#[test]
fn influence_diagnostics_agree_with_metafors_influence() {
    let golden = golden("sensitivity/influence");
    let keys = [
        "rstudent",
        "dffits",
        "cooks_distance",
        "cov_ratio",
        "tau2_deleted",
        "q_deleted",
        "hat",
        "weight",
        "dfbetas",
    ];
    let mut failures = Vec::new();
    for case in golden["cases"].as_array().unwrap() {
        let (label, analysis) = golden_analysis(case);
        let (influence, baujat) = analysis.influence_and_baujat().unwrap();
        for (i, point) in baujat.studies.iter().enumerate() {
            for (key, value) in [("x", point.heterogeneity), ("y", point.influence)] {
                failures.extend(compare(
                    &format!("{label}: study {i}: baujat {key}"),
                    Some(&serde_json::json!(value)),
                    &case["baujat"][key][i],
                ));
            }
        }
        let ours = serde_json::to_value(influence).unwrap();
        for (i, (ours, theirs)) in ours["studies"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["rows"].as_array().unwrap())
            .enumerate()
        {
            for key in keys {
                failures.extend(compare(
                    &format!("{label}: study {i}: {key}"),
                    ours.get(key),
                    &theirs[key],
                ));
            }
            if ours["influential"] != theirs["influential"] {
                failures.push(format!(
                    "{label}: study {i}: influential {} vs {}",
                    ours["influential"], theirs["influential"]
                ));
            }
        }
    }
    common::assert_agrees(&failures);
}

#[test]
fn the_command_line_prints_influence_diagnostics() {
    let bcg = repo_path("datasets/bcg.csv");
    let json = common::json(&["influence", &bcg, "--measure", "RR", "--format", "json"]);
    assert_eq!(json["studies"].as_array().unwrap().len(), 13);
    let out = common::cochran(&["influence", &bcg, "--measure", "RR"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("cook.d"), "{text}");
    let two = common::csv_file("two.csv", "study,yi,vi\nA,0.1,0.01\nB,0.3,0.02\n");
    common::rejects(
        &["influence", &two, "--measure", "GEN"],
        &["at least 3 studies"],
    );
}

#[test]
fn gosh_agrees_with_metafors_gosh_on_every_subset() {
    let golden = golden("sensitivity/gosh");
    let mut failures = Vec::new();
    for case in golden["cases"].as_array().unwrap() {
        let (label, analysis) = golden_analysis(case);
        let mut ours = std::collections::HashMap::new();
        let gosh = analysis
            .gosh_each(cochran::sensitivity::Subsets::Default, |fit| {
                let members: Vec<u64> = fit.members.iter().map(|&i| i as u64 + 1).collect();
                ours.insert(members, serde_json::to_value(fit).unwrap());
                Ok(())
            })
            .unwrap();
        let rows = case["rows"].as_array().unwrap();
        assert_eq!(gosh.subsets as usize, rows.len(), "{label}");
        for row in rows {
            // jsonlite writes a subset of one as a bare number.
            let members: Vec<u64> = match &row["members"] {
                serde_json::Value::Array(m) => m.iter().map(|v| v.as_u64().unwrap()).collect(),
                one => vec![one.as_u64().unwrap()],
            };
            let fit = &ours[&members];
            for key in ["estimate", "q", "i2", "tau2"] {
                failures.extend(compare(
                    &format!("{label}: {members:?}: {key}"),
                    fit.get(key),
                    &row[key],
                ));
            }
        }
    }
    common::assert_agrees(&failures);
}

#[test]
fn gosh_does_not_depend_on_the_number_of_threads() {
    let options = AnalysisOptions::new(Measure::Rr);
    let analysis = Analysis::from_csv(repo_path("datasets/bcg.csv"), &options).unwrap();
    let subsets = cochran::sensitivity::Subsets::Random {
        count: 3000,
        seed: 9,
    };
    let run = |threads| {
        common::with_threads(threads, || {
            let mut rows = Vec::new();
            let gosh = analysis
                .gosh_each(subsets, |fit| {
                    rows.push(fit.clone());
                    Ok(())
                })
                .unwrap();
            (serde_json::to_string(&gosh).unwrap(), rows)
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn the_command_line_streams_gosh_fits_and_draws_the_plot() {
    let normand = repo_path("datasets/normand1999.csv");
    let (out, plot) = (
        common::output_path("gosh.csv"),
        common::output_path("gosh.svg"),
    );
    let json = common::json(&[
        "gosh",
        &normand,
        "--measure",
        "SMD",
        "--format",
        "json",
        "--out",
        &out,
        "--plot",
        &plot,
    ]);
    assert_eq!(json["subsets"], 511);
    assert_eq!(json["summary"]["i2"]["min"], 0.0);
    let rows = std::fs::read_to_string(&out).unwrap();
    assert_eq!(rows.lines().count(), 512);
    assert!(rows.starts_with("members,k,estimate,se,tau2,i2,q\n1,1,"));
    assert!(
        std::fs::read_to_string(&plot)
            .unwrap()
            .contains("511 subsets")
    );
    let big = common::csv_file(
        "gosh_k31.csv",
        &std::iter::once("study,yi,vi".to_string())
            .chain((0..31).map(|i| format!("S{i},{},0.05", f64::from(i) / 40.0)))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    common::rejects(&["gosh", &big, "--measure", "GEN"], &["--subsets"]);
    let json = common::json(&[
        "gosh",
        &big,
        "--measure",
        "GEN",
        "--subsets",
        "500",
        "--seed",
        "4",
        "--format",
        "json",
    ]);
    assert_eq!(
        (json["subsets"].as_u64(), json["seed"].as_u64()),
        (Some(500), Some(4))
    );
    common::rejects(
        &[
            "gosh",
            &normand,
            "--measure",
            "SMD",
            "--out",
            "/nonexistent/dir/g.csv",
        ],
        &["/nonexistent/dir/g.csv"],
    );
}

#[test]
fn the_command_line_draws_the_sensitivity_plots() {
    let bcg = repo_path("datasets/bcg.csv");
    let path = common::output_path;
    let (loo, cumulative, panels, baujat) = (
        path("loo.svg"),
        path("cumulative.svg"),
        path("influence.svg"),
        path("baujat.svg"),
    );
    let ok = |args: &[&str]| {
        let out = common::cochran(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&["leave-one-out", &bcg, "--measure", "RR", "--forest", &loo]);
    ok(&[
        "cumulative",
        &bcg,
        "--measure",
        "RR",
        "--order",
        "year",
        "--forest",
        &cumulative,
    ]);
    ok(&[
        "influence",
        &bcg,
        "--measure",
        "RR",
        "--plot",
        &panels,
        "--baujat",
        &baujat,
    ]);
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    let loo = read(&loo);
    assert!(loo.contains("Study omitted") && loo.contains("All studies"));
    // The plot shows the refits the library computes (checked against metafor above).
    let analysis = Analysis::from_csv(&bcg, &AnalysisOptions::new(Measure::Rr)).unwrap();
    let first = &analysis.leave_one_out().unwrap().studies[0];
    let shown = format!(
        "{:.2} [{:.2}, {:.2}]",
        first.estimate.exp(),
        first.ci_lower.exp(),
        first.ci_upper.exp()
    );
    assert!(
        loo.contains(&first.study) && loo.contains(&shown),
        "{shown}"
    );
    let cumulative = read(&cumulative);
    assert!(cumulative.contains("Study added") && cumulative.contains("TPT Madras 1980"));
    assert!(read(&panels).contains("DFFITS"));
    assert!(read(&baujat).contains("Squared Pearson residual"));
    common::rejects(
        &[
            "influence",
            &bcg,
            "--measure",
            "RR",
            "--forest",
            &path("f.svg"),
        ],
        &["does not draw --forest"],
    );
}

/// Leave-one-out refits take shortcuts from the full fit (a start next to the
/// root, Q downdated, one grid for all): they must give what a refit from
/// scratch gives, on data where the shortcuts hold and where they do not (a
/// study that carries most of the weight, estimates on the boundary).
#[test]
fn leave_one_out_shortcuts_agree_with_refits_from_scratch() {
    let cases: [(&str, Vec<(f64, f64)>); 3] = [
        (
            "spread",
            (0..40)
                .map(|i| {
                    let i = f64::from(i);
                    ((i * 0.37).sin() * 0.8, 0.01 + 0.05 * (i * 0.11).cos().abs())
                })
                .collect(),
        ),
        (
            "dominant",
            (0..12)
                .map(|i| {
                    let v = if i == 3 {
                        1e-7
                    } else {
                        0.05 + 0.01 * f64::from(i)
                    };
                    (0.1 * f64::from(i % 5), v)
                })
                .collect(),
        ),
        (
            "homogeneous",
            (0..15)
                .map(|i| (0.2 + 0.001 * f64::from(i % 3), 0.04 + 0.001 * f64::from(i)))
                .collect(),
        ),
    ];
    for (name, data) in cases {
        let csv = std::iter::once("study,yi,vi".to_string())
            .chain(
                data.iter()
                    .enumerate()
                    .map(|(i, (y, v))| format!("S{i},{y},{v}")),
            )
            .collect::<Vec<_>>()
            .join("\n");
        let path = common::csv_file(&format!("shortcut_{name}.csv"), &csv);
        for method in ["REML", "ML", "DL", "EB", "FE"] {
            let options =
                AnalysisOptions::new(Measure::Gen).method(method.parse::<Method>().unwrap());
            let analysis = Analysis::from_csv(&path, &options).unwrap();
            let loo = analysis.leave_one_out().unwrap();
            let model = analysis.fit().unwrap().same_model();
            let effects = analysis.fit().unwrap().effects();
            for (i, refit) in loo.studies.iter().enumerate() {
                let rest: Vec<cochran::Effect> = effects
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, e)| *e)
                    .collect();
                let scratch = model.fit(&rest).unwrap();
                let pairs = [
                    ("estimate", refit.estimate, scratch.estimate),
                    ("se", refit.se, scratch.se),
                    ("tau2", refit.tau2, scratch.tau2),
                    ("q", refit.q.unwrap(), scratch.q.unwrap()),
                    ("i2", refit.i2.unwrap(), scratch.i2.unwrap()),
                ];
                for (key, ours, theirs) in pairs {
                    assert!(
                        (ours - theirs).abs()
                            <= common::SAME_MODEL * theirs.abs() + common::ABSOLUTE,
                        "{name} {method} without {i}: {key} {ours} vs {theirs}"
                    );
                }
            }
        }
    }
}
