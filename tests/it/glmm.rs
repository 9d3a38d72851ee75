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
        ("i2", fit.i2.map_or(Value::Null, Value::from)),
        ("h2", fit.h2.map_or(Value::Null, Value::from)),
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
    case["measure"] != "OR"
        || ["CM.AL", "UM.FS", "CM.EL"].contains(&case["model"].as_str().unwrap())
}

/// The reference cases the engine fits so far.
fn implemented_cases(reference: &Value) -> impl Iterator<Item = &Value> {
    reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| implemented(c))
}

#[test]
fn agrees_with_metafor() {
    let reference = golden("glmm/glmm");
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in implemented_cases(&reference) {
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
    assert_eq!(checked, 13);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn arms(counts: &[(f64, f64)]) -> Vec<Proportion> {
    counts
        .iter()
        .map(|&(x, n)| Proportion::new(x, n).unwrap())
        .collect()
}

#[test]
fn no_events_or_only_events_anywhere_is_an_error_not_an_infinite_estimate() {
    for counts in [
        [(0.0, 10.0), (0.0, 25.0), (0.0, 7.0)],
        [(10.0, 10.0), (25.0, 25.0), (7.0, 7.0)],
    ] {
        for glmm in [Glmm::common(), Glmm::random()] {
            let error = glmm.fit(GlmmData::Proportions(&arms(&counts))).unwrap_err();
            assert!(error.to_string().contains("infinite"), "{error}");
        }
    }
}

#[test]
fn one_study_has_no_between_study_variance_to_estimate() {
    let one = arms(&[(3.0, 20.0)]);
    let common = Glmm::common().fit(GlmmData::Proportions(&one)).unwrap();
    assert!((common.estimate - (3.0f64 / 17.0).ln()).abs() < 1e-12);
    assert_eq!(
        (common.wald, common.likelihood_ratio, common.i2),
        (None, None, None)
    );
    let error = Glmm::random().fit(GlmmData::Proportions(&one)).unwrap_err();
    assert!(error.to_string().contains("one study"), "{error}");
}

#[test]
fn studies_only_at_the_boundaries_have_no_finite_tau2() {
    // Two studies with no events, two with only events: the likelihood grows
    // without bound as τ² does.
    let counts = arms(&[(0.0, 10.0), (0.0, 12.0), (10.0, 10.0), (8.0, 8.0)]);
    let error = Glmm::random()
        .fit(GlmmData::Proportions(&counts))
        .unwrap_err();
    assert!(error.to_string().contains("τ²"), "{error}");
}

#[test]
fn tables_without_information_are_left_out_and_named() {
    let tables = [
        TwoByTwo::new(0.0, 10.0, 0.0, 12.0).unwrap(),
        TwoByTwo::new(3.0, 30.0, 7.0, 31.0).unwrap(),
        TwoByTwo::new(5.0, 5.0, 9.0, 9.0).unwrap(),
        TwoByTwo::new(2.0, 25.0, 6.0, 24.0).unwrap(),
    ];
    for model in [GlmmModel::ConditionalApproximate, GlmmModel::FixedStudy] {
        let fit = Glmm::common()
            .model(model)
            .fit(GlmmData::Tables(&tables))
            .unwrap();
        assert_eq!((fit.k, fit.excluded.clone()), (2, vec![0, 2]));
        let error = Glmm::common()
            .model(model)
            .fit(GlmmData::Tables(&[tables[0], tables[2]]))
            .unwrap_err();
        assert!(
            error.to_string().contains("no events in either group"),
            "{error}"
        );
    }
}

#[test]
fn one_table_under_um_fs_gives_its_own_odds_ratio() {
    let table = TwoByTwo::new(3.0, 20.0, 9.0, 22.0).unwrap();
    let fixed_study = Glmm::common().model(GlmmModel::FixedStudy);
    let fit = fixed_study.fit(GlmmData::Tables(&[table])).unwrap();
    // The table's own log odds ratio and Woolf's variance (cells 3, 17, 9, 13).
    let own = (3.0f64 * 13.0 / (17.0 * 9.0)).ln();
    let woolf = 1.0 / 3.0 + 1.0 / 17.0 + 1.0 / 9.0 + 1.0 / 13.0;
    assert!((fit.estimate - own).abs() < 1e-12, "{}", fit.estimate);
    assert!((fit.se * fit.se - woolf).abs() < 1e-12);
    let error = Glmm::random()
        .model(GlmmModel::FixedStudy)
        .fit(GlmmData::Tables(&[table]))
        .unwrap_err();
    assert!(error.to_string().contains("one study"), "{error}");
}

#[test]
fn cm_el_refuses_tables_too_large_to_tabulate_and_says_what_fits_them() {
    let tables = [
        TwoByTwo::new(3e7, 9e7, 2.9e7, 9e7).unwrap(),
        TwoByTwo::new(3.0, 10.0, 4.0, 12.0).unwrap(),
    ];
    let error = Glmm::random()
        .model(GlmmModel::ConditionalExact)
        .fit(GlmmData::Tables(&tables))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("UM.FS and CM.AL fit tables of any size"),
        "{error}"
    );
    let fit = Glmm::random()
        .model(GlmmModel::FixedStudy)
        .fit(GlmmData::Tables(&tables))
        .unwrap();
    assert!(fit.estimate.is_finite());
}

#[test]
fn tables_that_all_separate_the_groups_give_an_error_not_an_infinite_odds_ratio() {
    // No events among the treated anywhere (or the controls' only events):
    // the likelihood rises without end as the odds ratio falls to 0.
    let tables = [
        TwoByTwo::new(0.0, 20.0, 9.0, 22.0).unwrap(),
        TwoByTwo::new(0.0, 15.0, 4.0, 18.0).unwrap(),
        TwoByTwo::new(6.0, 15.0, 18.0, 18.0).unwrap(),
    ];
    for glmm in [Glmm::common(), Glmm::random()] {
        let error = glmm
            .model(GlmmModel::FixedStudy)
            .fit(GlmmData::Tables(&tables))
            .unwrap_err();
        assert!(error.to_string().contains("odds ratio is 0"), "{error}");
        // Conditionally, each table has the fewest events in group 1 its
        // margins allow.
        let error = glmm
            .model(GlmmModel::ConditionalExact)
            .fit(GlmmData::Tables(&tables))
            .unwrap_err();
        assert!(
            error.to_string().contains("fewest events in group 1"),
            "{error}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// UM.FS (coding ½) and CM.EL are symmetric in the groups: swapping them
    /// negates the estimate and keeps τ², as does swapping events and
    /// non-events; any tables give a valid fit or the same error both ways.
    #[test]
    fn um_fs_and_cm_el_are_symmetric_in_the_groups(
        cells in proptest::collection::vec((0u32..=30, 1u32..=30, 0u32..=30, 1u32..=30), 2..12)
    ) {
        let table = |a: u32, n1: u32, c: u32, n2: u32| {
            TwoByTwo::new(a.min(n1) as f64, n1 as f64, c.min(n2) as f64, n2 as f64).unwrap()
        };
        let tables: Vec<_> = cells.iter().map(|&(a, n1, c, n2)| table(a, n1, c, n2)).collect();
        let swapped: Vec<_> = cells.iter().map(|&(a, n1, c, n2)| table(c, n2, a, n1)).collect();
        let flipped: Vec<_> = (cells.iter())
            .map(|&(a, n1, c, n2)| table(n1 - a.min(n1), n1, n2 - c.min(n2), n2))
            .collect();
        for model in [GlmmModel::FixedStudy, GlmmModel::ConditionalExact] {
        let glmm = Glmm::random().model(model);
        let fit = glmm.fit(GlmmData::Tables(&tables));
        for other in [&swapped, &flipped] {
            match (&fit, glmm.fit(GlmmData::Tables(other))) {
                (Ok(f), Ok(o)) => {
                    proptest::prop_assert!(f.estimate.is_finite() && f.se > 0.0 && f.se.is_finite());
                    proptest::prop_assert!(f.tau2 >= 0.0 && f.tau2.is_finite());
                    proptest::prop_assert!(f.ci_lower < f.estimate && f.estimate < f.ci_upper);
                    proptest::prop_assert!((f.estimate + o.estimate).abs() <= 1e-7 * (1.0 + f.estimate.abs()),
                        "{} vs {}", f.estimate, o.estimate);
                    // The standard error comes from differenced gradients: on
                    // nearly flat likelihoods (a table of 0/1 against 15/15 gives
                    // se ≈ 6) the two orders' differences agree to a few 1e-6.
                    proptest::prop_assert!((f.se - o.se).abs() <= 1e-5 * f.se, "{} vs {}", f.se, o.se);
                    proptest::prop_assert!((f.tau2 - o.tau2).abs() <= 1e-6 * (1.0 + f.tau2));
                }
                (Err(f), Err(o)) => {
                    let (f, o) = (f.to_string(), o.to_string());
                    proptest::prop_assert_eq!(f.contains("τ²"), o.contains("τ²"));
                }
                (f, o) => proptest::prop_assert!(false, "swap changed the outcome: {f:?} / {o:?}"),
            }
        }
        }
    }

    /// Any counts give a valid fit or an error, never a non-finite estimate; the
    /// fit does not depend on the order of the studies; τ², I² and the interval
    /// lie where they must.
    #[test]
    fn random_effects_fits_are_valid_and_order_free(
        counts in proptest::collection::vec((0u32..=40, 1u32..=40), 2..25)
    ) {
        let counts: Vec<(f64, f64)> = counts
            .iter()
            .map(|&(x, n)| (x.min(n) as f64, n as f64))
            .collect();
        let forward = Glmm::random().fit(GlmmData::Proportions(&arms(&counts)));
        let reversed: Vec<_> = counts.iter().rev().copied().collect();
        let backward = Glmm::random().fit(GlmmData::Proportions(&arms(&reversed)));
        match (forward, backward) {
            (Ok(f), Ok(b)) => {
                proptest::prop_assert!(f.estimate.is_finite() && f.se > 0.0 && f.se.is_finite());
                proptest::prop_assert!(f.tau2 >= 0.0 && f.tau2.is_finite());
                proptest::prop_assert!(f.ci_lower < f.estimate && f.estimate < f.ci_upper);
                let i2 = f.i2.unwrap();
                proptest::prop_assert!((0.0..100.0).contains(&i2));
                proptest::prop_assert!((f.estimate - b.estimate).abs() <= 1e-7 * (1.0 + f.estimate.abs()));
                proptest::prop_assert!((f.tau2 - b.tau2).abs() <= 1e-6 * (1.0 + f.tau2));
            }
            (Err(f), Err(b)) => {
                // With every count inside (0, n) the likelihood vanishes as τ² grows:
                // a maximum exists, and an error would be the engine's failure.
                let interior = counts.iter().all(|&(x, n)| x > 0.0 && x < n);
                proptest::prop_assert!(!interior, "no fit of interior counts: {f}");
                proptest::prop_assert_eq!(f.to_string(), b.to_string());
            }
            (f, b) => proptest::prop_assert!(false, "order changed the outcome: {f:?} / {b:?}"),
        }
    }
}

#[test]
fn inverse_variance_pooling_of_extreme_proportions_suggests_the_glmm() {
    for measure in ["PLO", "PFT", "PR"] {
        let output = common::cochran(&[
            "analyze",
            "tests/reference/glmm/data/pritz1997.csv",
            "--measure",
            measure,
        ]);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{measure}");
        let note = text
            .lines()
            .find(|l| l.contains("binomial-normal GLMM"))
            .unwrap_or_else(|| panic!("{measure}: {text}"));
        assert!(
            note.contains("(2 studies: 5 Tanabe et al., 8 Hadeishi et al.)"),
            "{note}"
        );
    }
    let interior = common::csv_file(
        "glmm_interior.csv",
        "study,events,n\nA,3,20\nB,5,31\nC,9,12\n",
    );
    let output = common::cochran(&["analyze", &interior, "--measure", "PLO"]);
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stdout).contains("GLMM"));
}

#[test]
fn exact_intervals_of_proportions_agree_with_binom_test() {
    let reference = golden("glmm/clopper_pearson");
    let cases = reference["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 66);
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|case| {
            let number = |k: &str| case[k].as_f64().unwrap();
            let [lower, upper] = Proportion::new(number("events"), number("n"))
                .unwrap()
                .clopper_pearson(number("level"))
                .unwrap();
            let name = format!("{}/{} at {}%", case["events"], case["n"], case["level"]);
            [
                compare(
                    &format!("{name} lower"),
                    Some(&Value::from(lower)),
                    &case["lower"],
                ),
                compare(
                    &format!("{name} upper"),
                    Some(&Value::from(upper)),
                    &case["upper"],
                ),
            ]
        })
        .flatten()
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The command-line arguments that fit a reference case with `--method GLMM`.
fn cli_args(case: &Value) -> Vec<String> {
    let measure = case["measure"].as_str().unwrap();
    let mut args: Vec<String> = [
        "analyze",
        case["csv"].as_str().unwrap(),
        "--measure",
        measure,
        "--method",
        "GLMM",
        "--format",
        "json",
    ]
    .map(String::from)
    .to_vec();
    match measure {
        "OR" | "IRR" => args.extend(["--model".into(), case["model"].as_str().unwrap().into()]),
        "IRLN" => args.extend(["--columns".into(), "events=events1,time=time1".into()]),
        _ => {}
    }
    args
}

#[test]
fn the_analysis_and_its_json_carry_the_glmm_metafor_fits() {
    let reference = golden("glmm/glmm");
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in implemented_cases(&reference) {
        let args = cli_args(case);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let json = common::json(&args);
        let name = format!("{} {} {}", case["dataset"], case["measure"], case["model"]);
        assert_eq!(json["method"], "GLMM", "{name}");
        assert_eq!(json["measure"], case["measure"], "{name}");
        let random = &case["random"];
        for (key, field) in [
            ("estimate", "beta"),
            ("se", "se"),
            ("ci_lower", "ci_lb"),
            ("ci_upper", "ci_ub"),
            ("tau2", "tau2"),
            ("i2", "i2"),
            ("log_likelihood", "loglik"),
        ] {
            failures.extend(compare(
                &format!("{name} {key}"),
                json.get(key),
                &random[field],
            ));
        }
        failures.extend(compare(
            &format!("{name} likelihood ratio"),
            json["likelihood_ratio"].get("statistic"),
            &random["qe_lrt"],
        ));
        // The studies are listed without weights: a GLMM has none.
        assert!(json["studies"][0].get("weight").is_none(), "{name}");
        let notes = json["notes"].to_string();
        assert!(!notes.contains("continuity correction:"), "{name}: {notes}");
        assert!(
            notes.contains("no continuity correction"),
            "{name}: {notes}"
        );
        checked += 1;
    }
    assert_eq!(checked, 13);
    common::assert_agrees(&failures);
}

#[test]
fn glmm_proportions_are_listed_with_exact_intervals() {
    let json = common::json(&[
        "analyze",
        "tests/reference/glmm/data/pritz1997.csv",
        "--measure",
        "PLO",
        "--method",
        "GLMM",
        "--format",
        "json",
    ]);
    let events = column("tests/reference/glmm/data/pritz1997.csv", "events");
    let n = column("tests/reference/glmm/data/pritz1997.csv", "n");
    for study in json["studies"].as_array().unwrap() {
        let i = study["row"].as_u64().unwrap() as usize - 2;
        let p = Proportion::new(events[i], n[i]).unwrap();
        let [lower, upper] = p.clopper_pearson(95.0).unwrap();
        let exact = &study["exact"];
        let close =
            |key: &str, expected: f64| (exact[key].as_f64().unwrap() - expected).abs() < 1e-12;
        assert!(close("proportion", events[i] / n[i]), "{study}");
        assert!(
            close("ci_lower", lower) && close("ci_upper", upper),
            "{study}"
        );
        // The effect size stays metafor's escalc value, finite at 0 and n events.
        assert!(study["yi"].as_f64().is_some_and(f64::is_finite), "{study}");
        assert!(study.get("weight").is_none(), "{study}");
    }
}

#[test]
fn tables_the_glmm_leaves_out_are_named_in_the_warnings() {
    let json = common::json(&[
        "analyze",
        "tests/reference/glmm/data/hahn2001.csv",
        "--measure",
        "OR",
        "--method",
        "GLMM",
        "--model",
        "CM.AL",
        "--format",
        "json",
    ]);
    assert_eq!(json["left_out"], serde_json::json!([1, 6, 9]));
    assert_eq!(json["excluded"], serde_json::json!([]));
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("3 studies with no events in either group (or only events) left out")
            && warnings.contains("Banhladesh 1996a, India 1984a, Panama 1982"),
        "{warnings}"
    );
}

#[test]
fn what_the_glmm_cannot_do_is_refused_in_the_command_lines_words() {
    let pritz = "tests/reference/glmm/data/pritz1997.csv";
    let bcg = "tests/reference/glmm/data/bcg.csv";
    let base = ["analyze", pritz, "--measure", "PLO", "--method", "GLMM"];
    let with = |extra: &[&'static str]| [&base[..], extra].concat();
    common::rejects(
        &with(&["--by", "study"]),
        &["--by is not available with --method GLMM"],
    );
    common::rejects(
        &with(&["--mods", "n"]),
        &["--mods is not available with --method GLMM"],
    );
    common::rejects(
        &with(&["--bayes"]),
        &["--bayes is not available with --method GLMM"],
    );
    common::rejects(
        &with(&["--both", "--forest", "never.png"]),
        &["--both is not available with --method GLMM"],
    );
    common::rejects(&with(&["--test", "knha"]), &["counts with the z test only"]);
    common::rejects(
        &with(&["--funnel", "never.png"]),
        &["does not draw --funnel"],
    );
    common::rejects(
        &with(&["--model", "CM.AL"]),
        &["--model CM.AL is a model of two-group tables"],
    );
    common::rejects(
        &["analyze", pritz, "--measure", "PLO", "--model", "CM.AL"],
        &["--model CM.AL is a model of the GLMM (--method GLMM)"],
    );
    common::rejects(
        &["analyze", bcg, "--measure", "RR", "--method", "GLMM"],
        &["the GLMM pools counts: the measure must be PLO"],
    );
    common::rejects(
        &[
            "analyze",
            bcg,
            "--measure",
            "OR",
            "--method",
            "GLMM",
            "--model",
            "UM.XX",
        ],
        &["unknown GLMM model `UM.XX`", "CM.AL"],
    );
    common::rejects(
        &[
            "analyze",
            bcg,
            "--measure",
            "OR",
            "--method",
            "GLMM",
            "--model",
            "UM.RS",
        ],
        &["UM.RS of odds ratios is not implemented yet; --model UM.FS, CM.EL and CM.AL are"],
    );
    common::rejects(
        &[
            "leave-one-out",
            pritz,
            "--measure",
            "PLO",
            "--method",
            "GLMM",
        ],
        &["--method GLMM"],
    );
}

#[test]
fn the_forest_plot_of_a_glmm_of_proportions_is_drawn() {
    let path = common::output_path("glmm_forest.svg");
    let output = common::cochran(&[
        "analyze",
        "tests/reference/glmm/data/pagliaro1992.csv",
        "--measure",
        "PLO",
        "--method",
        "GLMM",
        "--forest",
        &path,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let svg = std::fs::read_to_string(&*path).unwrap();
    for text in [
        "GLMM, Random, 95% CI",
        "Random-effects GLMM (95% CI)",
        "Study intervals: exact (Clopper-Pearson)",
        "0.00 [0.00, 0.18]",
    ] {
        assert!(svg.contains(text), "{text}");
    }
    assert!(!svg.contains("Weight"));
}

#[test]
fn the_csv_of_a_glmm_has_exact_intervals_and_no_weights() {
    let output = common::cochran(&[
        "analyze",
        "tests/reference/glmm/data/pritz1997.csv",
        "--measure",
        "PLO",
        "--method",
        "GLMM",
        "--format",
        "csv",
    ]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let n = column("tests/reference/glmm/data/pritz1997.csv", "n");
    let events = column("tests/reference/glmm/data/pritz1997.csv", "events");
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        assert_eq!(&record[at("weight")], "", "{record:?}");
        let [lower, _] = Proportion::new(events[i], n[i])
            .unwrap()
            .clopper_pearson(95.0)
            .unwrap();
        assert_eq!(record[at("exact_lower")].parse::<f64>().unwrap(), lower);
        let proportion: f64 = record[at("proportion")].parse().unwrap();
        assert_eq!(proportion, events[i] / n[i]);
    }
}
