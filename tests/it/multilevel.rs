//! Dependent effects against metafor's rma.mv, clubSandwich's CR2 tests and
//! robumeta's correlated-effects RVE (tests/reference/multilevel).

use crate::common;

use cochran::{Clusters, Design, Effect, Rve, Tau2, Test, ThreeLevel};
use common::{assert_agrees, compare, golden, repo_path};
use serde_json::{Value, json};

/// A reference CSV's columns by name.
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(path: &str) -> Table {
        let mut reader = csv::Reader::from_path(repo_path(path)).unwrap();
        let headers = reader.headers().unwrap().iter().map(String::from).collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        Table { headers, rows }
    }

    /// The rows with every moderator, as metafor fits them (`na.omit`).
    fn complete(mut self, mods: &[Value]) -> Table {
        let columns: Vec<usize> = mods
            .iter()
            .map(|m| {
                self.headers
                    .iter()
                    .position(|h| h == m.as_str().unwrap())
                    .unwrap()
            })
            .collect();
        self.rows
            .retain(|row| columns.iter().all(|&j| !row[j].is_empty()));
        self
    }

    fn column(&self, name: &str) -> Vec<String> {
        let j = self.headers.iter().position(|h| h == name).unwrap();
        self.rows.iter().map(|r| r[j].clone()).collect()
    }

    fn numbers(&self, name: &str) -> Vec<f64> {
        self.column(name)
            .iter()
            .map(|s| s.parse().unwrap())
            .collect()
    }

    fn effects(&self) -> Vec<Effect> {
        let (y, v) = (self.numbers("yi"), self.numbers("vi"));
        y.iter()
            .zip(&v)
            .map(|(&y, &v)| Effect::new(y, v).unwrap())
            .collect()
    }

    /// The moderators: numeric when every value parses, categorical otherwise.
    fn design(&self, mods: &[Value]) -> Option<Design> {
        if mods.is_empty() {
            return None;
        }
        let mut builder = Design::builder(self.rows.len());
        for name in mods.iter().map(|m| m.as_str().unwrap()) {
            let values = self.column(name);
            builder = match values
                .iter()
                .map(|s| s.parse::<f64>())
                .collect::<Result<Vec<f64>, _>>()
            {
                Ok(numbers) => builder.numeric(name, &numbers).unwrap(),
                Err(_) => builder.categorical(name, &values).unwrap(),
            };
        }
        Some(builder.build().unwrap())
    }
}

/// Each reference case with its table, clusters and effects.
fn cases() -> Vec<(Value, Table, Clusters, Vec<Effect>)> {
    let reference = golden("multilevel/multilevel");
    reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let table =
                Table::read(case["csv"].as_str().unwrap()).complete(&mods(&case["fits"][0]));
            let clusters = Clusters::new(&table.column(case["cluster"].as_str().unwrap())).unwrap();
            let effects = table.effects();
            (case.clone(), table, clusters, effects)
        })
        .collect()
}

fn mods(case: &Value) -> Vec<Value> {
    match &case["mods"] {
        Value::Array(a) => a.clone(),
        Value::String(s) => vec![json!(s)],
        _ => vec![],
    }
}

/// A number or a list of numbers as a list.
fn list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

fn compare_lists(what: &str, actual: &[f64], expected: &Value, failures: &mut Vec<String>) {
    let expected = list(expected);
    assert_eq!(actual.len(), expected.len(), "{what}");
    for (j, (a, e)) in actual.iter().zip(&expected).enumerate() {
        failures.extend(compare(&format!("{what}[{j}]"), Some(&json!(a)), e));
    }
}

#[test]
fn three_level_fits_agree_with_metafor_and_clubsandwich() {
    let mut failures = Vec::new();
    let mut fits = 0;
    for (case, table, clusters, effects) in cases() {
        for expected in case["fits"].as_array().unwrap() {
            let method = match expected["method"].as_str().unwrap() {
                "ML" => Tau2::Ml,
                _ => Tau2::Reml,
            };
            let test = match expected["test"].as_str().unwrap() {
                "t" => Test::Knha,
                _ => Test::Z,
            };
            let mut model = ThreeLevel::reml().estimator(method).test(test);
            let design = table.design(&mods(expected));
            if let Some(design) = design.clone() {
                model = model.moderators(design);
            }
            let fit = model.fit(&effects, &clusters).unwrap();
            let what = format!("{} {:?} {method} {test}", case["data"], mods(expected));
            let scalar = |name: &str, value: f64, failures: &mut Vec<String>| {
                failures.extend(compare(
                    &format!("{what} {name}"),
                    Some(&json!(value)),
                    &expected[name],
                ));
            };
            scalar("sigma2_cluster", fit.sigma2_cluster, &mut failures);
            scalar("sigma2_within", fit.sigma2_within, &mut failures);
            scalar("log_likelihood", fit.log_likelihood, &mut failures);
            scalar("q", fit.q, &mut failures);
            scalar("q_df", fit.q_df, &mut failures);
            scalar("q_p_value", fit.q_p_value, &mut failures);
            scalar("i2", fit.i2, &mut failures);
            scalar("i2_cluster", fit.i2_cluster, &mut failures);
            scalar("i2_within", fit.i2_within, &mut failures);
            assert_eq!(fit.k as u64, expected["k"].as_u64().unwrap());
            assert_eq!(fit.clusters as u64, expected["clusters"].as_u64().unwrap());
            match &fit.regression {
                Some(regression) => {
                    let column = |f: fn(&cochran::Coefficient) -> f64| -> Vec<f64> {
                        regression.coefficients.iter().map(f).collect()
                    };
                    compare_lists(
                        &format!("{what} estimate"),
                        &column(|c| c.estimate),
                        &expected["estimate"],
                        &mut failures,
                    );
                    compare_lists(
                        &format!("{what} se"),
                        &column(|c| c.se),
                        &expected["se"],
                        &mut failures,
                    );
                    compare_lists(
                        &format!("{what} statistic"),
                        &column(|c| c.statistic),
                        &expected["statistic"],
                        &mut failures,
                    );
                    compare_lists(
                        &format!("{what} p_value"),
                        &column(|c| c.p_value),
                        &expected["p_value"],
                        &mut failures,
                    );
                    compare_lists(
                        &format!("{what} ci_lower"),
                        &column(|c| c.ci_lower),
                        &expected["ci_lower"],
                        &mut failures,
                    );
                    compare_lists(
                        &format!("{what} ci_upper"),
                        &column(|c| c.ci_upper),
                        &expected["ci_upper"],
                        &mut failures,
                    );
                    scalar("qm", regression.qm, &mut failures);
                    scalar("qm_p_value", regression.qm_p_value, &mut failures);
                    let names: Vec<Value> = regression
                        .coefficients
                        .iter()
                        .map(|c| json!(c.name))
                        .collect();
                    assert_eq!(names, list(&expected["names"]), "{what}");
                }
                None => {
                    scalar("estimate", fit.estimate, &mut failures);
                    scalar("se", fit.se, &mut failures);
                    scalar("statistic", fit.statistic, &mut failures);
                    scalar("p_value", fit.p_value, &mut failures);
                    scalar("ci_lower", fit.ci_lower, &mut failures);
                    scalar("ci_upper", fit.ci_upper, &mut failures);
                    scalar("pi_lower", fit.pi_lower, &mut failures);
                    scalar("pi_upper", fit.pi_upper, &mut failures);
                }
            }
            let robust = fit.robust().unwrap();
            let r = &expected["robust"];
            let column = |f: fn(&cochran::RobustCoefficient) -> f64| -> Vec<f64> {
                robust.iter().map(f).collect()
            };
            compare_lists(
                &format!("{what} robust se"),
                &column(|c| c.se),
                &r["se"],
                &mut failures,
            );
            compare_lists(
                &format!("{what} robust statistic"),
                &column(|c| c.statistic),
                &r["statistic"],
                &mut failures,
            );
            compare_lists(
                &format!("{what} robust df"),
                &column(|c| c.df),
                &r["df"],
                &mut failures,
            );
            compare_lists(
                &format!("{what} robust p_value"),
                &column(|c| c.p_value),
                &r["p_value"],
                &mut failures,
            );
            compare_lists(
                &format!("{what} robust ci_lower"),
                &column(|c| c.ci_lower),
                &r["ci_lower"],
                &mut failures,
            );
            compare_lists(
                &format!("{what} robust ci_upper"),
                &column(|c| c.ci_upper),
                &r["ci_upper"],
                &mut failures,
            );
            fits += 1;
        }
    }
    assert_eq!(fits, 28);
    assert_agrees(&failures);
}

#[test]
fn robust_variance_estimation_agrees_with_robumeta() {
    let mut failures = Vec::new();
    let mut fits = 0;
    for (case, table, clusters, effects) in cases() {
        for expected in case["rve"].as_array().unwrap() {
            let rho = expected["rho"].as_f64().unwrap();
            let mut rve = Rve::new(rho).unwrap();
            if let Some(design) = table.design(&mods(expected)) {
                rve = rve.moderators(design);
            }
            let fit = rve.fit(&effects, &clusters).unwrap();
            let what = format!("{} {:?} rho {rho}", case["data"], mods(expected));
            failures.extend(compare(
                &format!("{what} tau2"),
                Some(&json!(fit.tau2)),
                &expected["tau2"],
            ));
            let column = |f: fn(&cochran::RobustCoefficient) -> f64| -> Vec<f64> {
                fit.coefficients.iter().map(f).collect()
            };
            for (name, values) in [
                ("estimate", column(|c| c.estimate)),
                ("se", column(|c| c.se)),
                ("statistic", column(|c| c.statistic)),
                ("df", column(|c| c.df)),
                ("p_value", column(|c| c.p_value)),
                ("ci_lower", column(|c| c.ci_lower)),
                ("ci_upper", column(|c| c.ci_upper)),
            ] {
                compare_lists(
                    &format!("{what} {name}"),
                    &values,
                    &expected[name],
                    &mut failures,
                );
            }
            fits += 1;
        }
    }
    assert_eq!(fits, 18);
    assert_agrees(&failures);
}

/// The command line for a golden fit: `--cluster`, the moderators, method and test.
fn command_line(case: &Value, expected: &Value) -> Vec<String> {
    let mut args: Vec<String> = [
        "analyze",
        &repo_path(case["csv"].as_str().unwrap()),
        "--measure",
        "GEN",
        "--cluster",
        case["cluster"].as_str().unwrap(),
        "--format",
        "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mods: Vec<String> = mods(expected)
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    if !mods.is_empty() {
        args.extend(["--mods".to_string(), mods.join(",")]);
    }
    args
}

#[test]
fn the_command_line_reports_the_three_level_model_with_cr2_and_rve() {
    let reference = golden("multilevel/multilevel");
    let mut failures = Vec::new();
    for case in reference["cases"].as_array().unwrap() {
        for expected in case["fits"].as_array().unwrap() {
            let mut args = command_line(case, expected);
            let test = match expected["test"].as_str().unwrap() {
                "t" => "knha",
                _ => "z",
            };
            let method = expected["method"].as_str().unwrap();
            args.extend(["--method", method, "--test", test, "--robust"].map(String::from));
            let rve = case["rve"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["rho"] == json!(0.8) && mods(r) == mods(expected));
            if rve.is_some() {
                args.extend(["--rve", "--rho", "0.8"].map(String::from));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = common::json(&args);
            let what = format!("{args:?}");
            assert_eq!(out["model"], "three-level", "{what}");
            for key in [
                "sigma2_cluster",
                "sigma2_within",
                "q",
                "q_df",
                "q_p_value",
                "i2",
                "i2_cluster",
                "i2_within",
                "log_likelihood",
            ] {
                failures.extend(compare(
                    &format!("{what} {key}"),
                    out.get(key),
                    &expected[key],
                ));
            }
            assert_eq!(out["k"], expected["k"], "{what}");
            assert_eq!(out["clusters"], expected["clusters"], "{what}");
            let robust = &expected["robust"];
            if mods(expected).is_empty() {
                for key in [
                    "estimate",
                    "se",
                    "statistic",
                    "p_value",
                    "ci_lower",
                    "ci_upper",
                    "pi_lower",
                    "pi_upper",
                ] {
                    failures.extend(compare(
                        &format!("{what} {key}"),
                        out.get(key),
                        &expected[key],
                    ));
                }
                for key in ["se", "statistic", "df", "p_value", "ci_lower", "ci_upper"] {
                    failures.extend(compare(
                        &format!("{what} robust {key}"),
                        out["robust"].get(key),
                        &robust[key],
                    ));
                }
            } else {
                failures.extend(compare(
                    &format!("{what} qm"),
                    out.get("qm"),
                    &expected["qm"],
                ));
                for (j, c) in out["coefficients"].as_array().unwrap().iter().enumerate() {
                    for key in [
                        "estimate",
                        "se",
                        "statistic",
                        "p_value",
                        "ci_lower",
                        "ci_upper",
                    ] {
                        failures.extend(compare(
                            &format!("{what} {key}[{j}]"),
                            c.get(key),
                            &expected[key][j],
                        ));
                    }
                    for key in ["se", "statistic", "df", "p_value", "ci_lower", "ci_upper"] {
                        let got = c.get(format!("robust_{key}"));
                        failures.extend(compare(
                            &format!("{what} robust_{key}[{j}]"),
                            got,
                            &robust[key][j],
                        ));
                    }
                }
            }
            if let Some(rve) = rve {
                for key in ["estimate", "se", "df", "p_value", "ci_lower", "ci_upper"] {
                    let expected = list(&rve[key])[0].clone();
                    failures.extend(compare(
                        &format!("{what} rve {key}"),
                        out["rve"].get(key),
                        &expected,
                    ));
                }
                failures.extend(compare(
                    &format!("{what} rve tau2"),
                    out["rve"].get("tau2"),
                    &rve["tau2"],
                ));
            }
            let table =
                Table::read(case["csv"].as_str().unwrap()).complete(&mods(&case["fits"][0]));
            let cluster_values = table.column(case["cluster"].as_str().unwrap());
            let reported: Vec<String> = out["studies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["cluster"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(reported, cluster_values, "{what}");
            // The weights are metafor's diagonal weights: they sum to 100.
            let total: f64 = out["studies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["weight"].as_f64().unwrap())
                .sum();
            assert!(
                (total - 100.0).abs() < 1e-9,
                "{what}: weights sum to {total}"
            );
        }
    }
    assert_agrees(&failures);
}

#[test]
fn bad_dependence_settings_are_clear_errors() {
    let file = repo_path("tests/reference/data/konstantopoulos2011.csv");
    let base = ["analyze", file.as_str(), "--measure", "GEN"];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        base.iter().chain(extra).copied().collect()
    }
    common::rejects(&with(&base, &["--robust"]), &["--robust needs --cluster"]);
    common::rejects(&with(&base, &["--rve"]), &["--rve needs --cluster"]);
    common::rejects(
        &with(&base, &["--cluster", "district", "--rve", "--rho", "1.5"]),
        &["rho", "between 0 and 1", "1.5"],
    );
    common::rejects(
        &with(&base, &["--cluster", "district", "--rve", "--rho", "-0.1"]),
        &["rho", "-0.1"],
    );
    common::rejects(
        &with(&base, &["--cluster", "school"]),
        &["cluster column `school` is not in the file", "district"],
    );
    common::rejects(
        &with(&base, &["--cluster", "district", "--method", "DL"]),
        &["REML or ML", "DL"],
    );
    // What still treats effects as independent refuses clusters.
    common::rejects(
        &with(&base, &["--cluster", "district", "--funnel", "funnel.svg"]),
        &["`cochran analyze --cluster` does not draw --funnel"],
    );
    let mut bias = with(&base, &["--cluster", "district"]);
    bias[0] = "bias";
    common::rejects(
        &bias,
        &["`cochran bias` does not model dependent effects yet"],
    );
    // Every effect its own cluster, and all effects in one.
    common::rejects(
        &with(&base, &["--cluster", "study"]),
        &["every cluster has a single effect"],
    );
    let one = common::csv_file(
        "one_cluster.csv",
        "study,district,yi,vi\nA,1,0.1,0.02\nB,1,0.3,0.03\nC,1,0.2,0.05\n",
    );
    common::rejects(
        &["analyze", &one, "--measure", "GEN", "--cluster", "district"],
        &["all 3 effects are in one cluster", "at least two clusters"],
    );
}

#[test]
fn effects_without_a_cluster_are_excluded_and_named() {
    let text = "study,district,yi,vi\nA,1,0.1,0.02\nB,1,0.3,0.03\nC,2,0.2,0.05\nD,,0.4,0.04\nE,2,0.6,0.03\nF,3,0.1,0.02\nG,3,0.0,0.04\n";
    let file = common::csv_file("missing_cluster.csv", text);
    let out = common::json(&[
        "analyze",
        &file,
        "--measure",
        "GEN",
        "--cluster",
        "district",
        "--format",
        "json",
    ]);
    assert_eq!(out["k"], 6);
    assert_eq!(out["excluded"][0]["study"], "D");
    assert_eq!(out["excluded"][0]["missing"][0], "district");
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains('D') && warnings.contains("district"),
        "{warnings}"
    );
}
