//! Generalised linear mixed models against metafor's rma.glmm with lme4
//! (tests/reference/glmm): common-effect fits and heterogeneity tests as
//! metafor computes them, random-effects fits against the polished maximum of
//! lme4's own objective (see generate.R).

use crate::common;

use cochran::effect::{Proportion, Rate, TwoByTwo, TwoRates};
use cochran::model::{Glmm, GlmmData, GlmmFit, GlmmModel};
use common::{compare, golden, repo_path};
use serde_json::Value;

/// A reference CSV's numeric columns by name.
fn column(path: &str, name: &str) -> Vec<f64> {
    let mut reader = csv::Reader::from_path(repo_path(path)).unwrap();
    let j = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap()[j].parse().unwrap())
        .collect()
}

fn model(name: &str) -> GlmmModel {
    match name {
        "UM.FS" => GlmmModel::FixedStudy,
        "UM.RS" => GlmmModel::RandomStudy,
        "CM.EL" => GlmmModel::ConditionalExact,
        _ => GlmmModel::ConditionalApproximate,
    }
}

/// Fits the case's data with `glmm`.
fn fit(case: &Value, glmm: Glmm) -> GlmmFit {
    let csv = case["csv"].as_str().unwrap();
    let col = |name| column(csv, name);
    let result = match case["measure"].as_str().unwrap() {
        "PLO" => {
            let arms: Vec<_> = (col("events").iter().zip(col("n")))
                .map(|(&x, n)| Proportion::new(x, n).unwrap())
                .collect();
            glmm.fit(GlmmData::Proportions(&arms))
        }
        "IRLN" => {
            let rates: Vec<_> = (col("events1").iter().zip(col("time1")))
                .map(|(&x, t)| Rate::new(x, t, "1").unwrap())
                .collect();
            glmm.fit(GlmmData::Rates(&rates))
        }
        "IRR" => {
            let (x1, t1, x2, t2) = (col("events1"), col("time1"), col("events2"), col("time2"));
            let pairs: Vec<_> = (0..x1.len())
                .map(|i| TwoRates {
                    treatment: Rate::new(x1[i], t1[i], "1").unwrap(),
                    control: Rate::new(x2[i], t2[i], "2").unwrap(),
                })
                .collect();
            glmm.fit(GlmmData::RatePairs(&pairs))
        }
        _ => {
            let (a, n1, c, n2) = (col("events1"), col("n1"), col("events2"), col("n2"));
            let tables: Vec<_> = (0..a.len())
                .map(|i| TwoByTwo::new(a[i], n1[i], c[i], n2[i]).unwrap())
                .collect();
            glmm.fit(GlmmData::Tables(&tables))
        }
    };
    result.unwrap_or_else(|e| panic!("{}: {e}", case["dataset"]))
}

/// Every mismatch between a fit and its reference.
fn mismatches(name: &str, fit: &GlmmFit, reference: &Value) -> Vec<String> {
    let test = |t: Option<cochran::model::ChiSquareTest>| {
        t.map(|t| (Value::from(t.statistic), Value::from(t.p_value)))
            .unwrap_or((Value::Null, Value::Null))
    };
    let (wald, wald_p) = test(fit.wald);
    let (lrt, lrt_p) = test(fit.likelihood_ratio);
    let pairs = [
        ("beta", Value::from(fit.estimate)),
        ("se", Value::from(fit.se)),
        ("zval", Value::from(fit.z)),
        ("pval", Value::from(fit.p_value)),
        ("ci_lb", Value::from(fit.ci_lower)),
        ("ci_ub", Value::from(fit.ci_upper)),
        ("tau2", Value::from(fit.tau2)),
        ("qe_wald", wald),
        ("qe_wald_p", wald_p),
        ("qe_lrt", lrt),
        ("qe_lrt_p", lrt_p),
        ("i2", Value::from(fit.i2)),
        ("h2", Value::from(fit.h2)),
        ("loglik", Value::from(fit.log_likelihood)),
        ("k", Value::from(fit.k)),
    ];
    pairs
        .iter()
        .filter_map(|(field, actual)| {
            compare(&format!("{name} {field}"), Some(actual), &reference[field])
        })
        .collect()
}

/// The cases the engine fits so far.
fn implemented(case: &Value) -> bool {
    case["measure"] != "OR" || case["model"] == "CM.AL"
}

#[test]
fn agrees_with_metafor() {
    let reference = golden("glmm/glmm");
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| implemented(c))
    {
        let name = format!("{} {} {}", case["dataset"], case["measure"], case["model"]);
        let glmm_model = model(case["model"].as_str().unwrap());
        let common = fit(case, Glmm::common().model(glmm_model));
        failures.extend(mismatches(
            &format!("{name} common"),
            &common,
            &case["common"],
        ));
        let random = fit(case, Glmm::random().model(glmm_model));
        failures.extend(mismatches(
            &format!("{name} random"),
            &random,
            &case["random"],
        ));
        assert!(random.converged, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 7);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
