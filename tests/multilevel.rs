//! Dependent effects against metafor's rma.mv, clubSandwich's CR2 tests and
//! robumeta's correlated-effects RVE (tests/reference/multilevel).

mod common;

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
    let reference = golden("multilevel/multilevel");
    let mut failures = Vec::new();
    let mut fits = 0;
    for case in reference["cases"].as_array().unwrap() {
        let table = Table::read(case["csv"].as_str().unwrap());
        let clusters = Clusters::new(&table.column(case["cluster"].as_str().unwrap())).unwrap();
        let effects = table.effects();
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
    assert_eq!(fits, 24);
    assert_agrees(&failures);
}

#[test]
fn robust_variance_estimation_agrees_with_robumeta() {
    let reference = golden("multilevel/multilevel");
    let mut failures = Vec::new();
    let mut fits = 0;
    for case in reference["cases"].as_array().unwrap() {
        let table = Table::read(case["csv"].as_str().unwrap());
        let clusters = Clusters::new(&table.column(case["cluster"].as_str().unwrap())).unwrap();
        let effects = table.effects();
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
    assert_eq!(fits, 15);
    assert_agrees(&failures);
}
