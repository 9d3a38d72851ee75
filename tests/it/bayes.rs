//! The Bayesian random-effects model against an mpmath evaluation of the same
//! integrals at 30 digits (tests/reference/bayes/reference.json, written by
//! tests/reference/bayes/generate.py): every prior for τ, uniform and normal
//! priors for μ, k = 2 to 13, τ near 0 and large.

use crate::common::{POSTERIOR, golden};

use cochran::Effect;
use cochran::model::{BayesianMetaAnalysis, Marginal, MuPrior, Posterior, TauPrior};
use serde_json::Value;

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn prior_text(spec: &Value) -> String {
    let name = spec["name"].as_str().unwrap();
    match spec.get("args") {
        Some(args) => format!(
            "{name}({})",
            numbers(args)
                .iter()
                .map(f64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => name.to_string(),
    }
}

fn fit_case(case: &Value) -> Posterior {
    let effects: Vec<Effect> = numbers(&case["yi"])
        .into_iter()
        .zip(numbers(&case["vi"]))
        .map(|(y, v)| Effect::new(y, v).unwrap())
        .collect();
    let tau: TauPrior = prior_text(&case["tau_prior"]).parse().unwrap();
    let mut model = BayesianMetaAnalysis::new(tau);
    if let Some(spec) = case.get("mu_prior").filter(|s| !s.is_null()) {
        let mu: MuPrior = prior_text(spec).parse().unwrap();
        model = model.mu_prior(mu);
    }
    if let Some(level) = case.get("level").and_then(Value::as_f64) {
        model = model.level(level);
    }
    model.fit(&effects).unwrap()
}

struct Checker<'a> {
    case: &'a str,
    failures: Vec<String>,
}

impl Checker<'_> {
    fn near(&mut self, what: &str, actual: f64, expected: &Value, scale: f64) {
        let Some(expected) = expected.as_f64() else {
            self.failures
                .push(format!("{}: {what}: no reference", self.case));
            return;
        };
        let agrees = (actual - expected).abs() <= POSTERIOR * (expected.abs() + scale);
        if !agrees {
            self.failures.push(format!(
                "{}: {what}: cochran {actual}, mpmath {expected} (relative {:.1e})",
                self.case,
                (actual - expected).abs() / (expected.abs() + scale)
            ));
        }
    }

    fn pair(&mut self, what: &str, actual: [f64; 2], expected: &Value, scale: f64) {
        self.near(&format!("{what} lower"), actual[0], &expected[0], scale);
        self.near(&format!("{what} upper"), actual[1], &expected[1], scale);
    }

    fn marginal(&mut self, what: &str, actual: &Marginal, expected: &Value) {
        // Where the SD is infinite, the interval's width sets the scale.
        let scale = actual.sd.unwrap_or(actual.central[1] - actual.central[0]);
        for (name, value) in [("mean", actual.mean), ("sd", actual.sd)] {
            self.optional_near(&format!("{what} {name}"), value, &expected[name], scale);
        }
        for (name, value) in [("median", actual.median), ("mode", actual.mode)] {
            self.near(&format!("{what} {name}"), value, &expected[name], scale);
        }
        self.pair(
            &format!("{what} central"),
            actual.central,
            &expected["central"],
            scale,
        );
        self.pair(
            &format!("{what} shortest"),
            actual.shortest,
            &expected["shortest"],
            scale,
        );
    }

    fn optional(&mut self, what: &str, actual: Option<f64>, expected: &Value) {
        self.optional_near(what, actual, expected, 0.0)
    }

    fn optional_near(&mut self, what: &str, actual: Option<f64>, expected: &Value, scale: f64) {
        match (actual, expected.is_null()) {
            (None, true) => {}
            (Some(a), false) => self.near(what, a, expected, scale),
            _ => self.failures.push(format!(
                "{}: {what}: cochran {actual:?}, mpmath {expected}",
                self.case
            )),
        }
    }
}

#[test]
fn posteriors_agree_with_mpmath() {
    let reference = golden("bayes/reference");
    let cases = reference["cases"].as_array().unwrap();
    assert!(cases.len() >= 15, "{} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let posterior = fit_case(case);
        let mut check = Checker {
            case: case["name"].as_str().unwrap(),
            failures: Vec::new(),
        };
        check.marginal("tau", &posterior.tau, &case["tau"]);
        check.marginal("mu", &posterior.mu, &case["mu"]);
        check.marginal("predictive", &posterior.predictive, &case["predictive"]);
        for (i, (actual, expected)) in posterior
            .studies
            .iter()
            .zip(numbers_of(&case["studies"]))
            .enumerate()
        {
            check.near(
                &format!("study {i} mean"),
                actual.mean,
                &expected["mean"],
                actual.sd,
            );
            check.near(
                &format!("study {i} sd"),
                actual.sd,
                &expected["sd"],
                actual.sd,
            );
            if !expected["median"].is_null() {
                check.near(
                    &format!("study {i} median"),
                    actual.median,
                    &expected["median"],
                    actual.sd,
                );
                check.pair(
                    &format!("study {i} central"),
                    actual.central,
                    &expected["central"],
                    actual.sd,
                );
            }
        }
        check.optional(
            "log marginal likelihood",
            posterior.log_marginal_likelihood,
            &case["log_marginal_likelihood"],
        );
        check.optional(
            "BF tau = 0",
            posterior.bayes_factor_tau_zero,
            &case["bayes_factor_tau_zero"],
        );
        check.optional(
            "BF mu = 0",
            posterior.bayes_factor_mu_zero,
            &case["bayes_factor_mu_zero"],
        );
        for p in case["probabilities"].as_array().unwrap() {
            let x = p["above"].as_f64().unwrap();
            check.near(
                &format!("P(mu > {x})"),
                posterior.probability_mu_above(x),
                &p["mu"],
                0.0,
            );
            check.near(
                &format!("P(new > {x})"),
                posterior.probability_new_study_above(x),
                &p["new_study"],
                0.0,
            );
        }
        let at = &case["tau_at"];
        let t = at["tau"].as_f64().unwrap();
        check.near("tau cdf", posterior.tau_cdf(t), &at["cdf"], 0.0);
        check.near("tau density", posterior.tau_density(t), &at["density"], 0.0);
        failures.extend(check.failures);
    }
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn numbers_of(value: &Value) -> Vec<Value> {
    value.as_array().unwrap().clone()
}

/// bayesmeta's vignette (Röver, "bayesmeta" package, the eight-schools example
/// of Rubin 1981: half-Cauchy(25) for τ, normal(0, 50) for μ) prints its
/// posterior summaries to 7 digits. bayesmeta integrates τ's marginal
/// posterior numerically, as cochran does: those agree to the printed digits.
/// Its μ comes from the DIRECT approximation, a discrete mixture bounded in
/// Kullback–Leibler divergence, not in digits: its μ summaries are off by up
/// to 6e-4 posterior SDs, and the mpmath reference (case "eight schools")
/// confirms cochran's values there.
#[test]
fn eight_schools_agree_with_bayesmeta_published_summary() {
    let effects: Vec<Effect> = [
        (28.39, 14.9),
        (7.94, 10.2),
        (-2.75, 16.3),
        (6.82, 11.0),
        (-0.64, 9.4),
        (0.63, 11.4),
        (18.01, 10.4),
        (12.16, 17.6),
    ]
    .iter()
    .map(|&(y, se): &(f64, f64)| Effect::new(y, se * se).unwrap())
    .collect();
    let posterior = BayesianMetaAnalysis::new(TauPrior::HalfCauchy { scale: 25.0 })
        .mu_prior(MuPrior::Normal {
            mean: 0.0,
            sd: 50.0,
        })
        .fit(&effects)
        .unwrap();
    // bayesmeta's printed "marginal posterior summary" (shortest intervals).
    let tau = [
        ("tau median", posterior.tau.median, 4.758539),
        ("tau mean", posterior.tau.mean.unwrap(), 5.884511),
        ("tau sd", posterior.tau.sd.unwrap(), 4.869904),
        ("tau upper", posterior.tau.shortest[1], 15.165894),
    ];
    for (what, actual, expected) in tau {
        assert!(
            (actual - expected).abs() <= PRINTED * expected.abs(),
            "{what}: cochran {actual}, bayesmeta {expected}"
        );
    }
    assert_eq!(posterior.tau.mode, 0.0);
    assert_eq!(posterior.tau.shortest[0], 0.0);
    let sd = posterior.mu.sd.unwrap();
    let mu = [
        ("mu mode", posterior.mu.mode, 7.929503),
        ("mu median", posterior.mu.median, 7.962961),
        ("mu mean", posterior.mu.mean.unwrap(), 7.985729),
        ("mu sd", sd, 4.995762),
        ("mu lower", posterior.mu.shortest[0], -1.823353),
        ("mu upper", posterior.mu.shortest[1], 17.824562),
    ];
    for (what, actual, expected) in mu {
        assert!(
            (actual - expected).abs() <= BAYESMETA_DIRECT * sd,
            "{what}: cochran {actual}, bayesmeta {expected}"
        );
    }
}

/// Seven printed digits.
const PRINTED: f64 = 1e-6;
/// bayesmeta's DIRECT approximation of μ, in posterior SDs (see above).
const BAYESMETA_DIRECT: f64 = 1e-3;

fn reference_case(name: &str) -> Value {
    golden("bayes/reference")["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("case {name}"))
        .clone()
}

const HIP: [&str; 9] = [
    "analyze",
    "datasets/hip_oa_msc.csv",
    "--measure",
    "MC",
    "--by",
    "outcome",
    "--r",
    "0.5",
    "--impute-sd",
];

fn hip(extra: &[&str]) -> Value {
    let mut args = HIP.to_vec();
    args.extend(["max", "--format", "json"]);
    args.extend(extra);
    let document = crate::common::json(&args);
    document["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["outcome"] == "HHS")
        .unwrap()["analysis"]
        .clone()
}

/// The command line's --bayes on the hip example: the posterior in the JSON
/// is the one mpmath computes for the same studies and prior, and the
/// probability of exceeding the MIC is P(μ > MIC).
#[test]
fn hip_example_posterior_and_mic_probability_agree_with_mpmath() {
    let analysis = hip(&["--bayes", "--tau-prior", "half-normal(10)"]);
    let reference = reference_case("hip HHS half-normal");
    let bayes = &analysis["bayesian"];
    let posterior = &bayes["posterior"];
    assert_eq!(posterior["model"]["tau_prior"], "half-normal(10)");
    assert_eq!(bayes["tau_prior_source"], "given");
    let close = |actual: &Value, expected: &Value, scale: f64| {
        let (a, e) = (actual.as_f64().unwrap(), expected.as_f64().unwrap());
        assert!((a - e).abs() <= POSTERIOR * (e.abs() + scale), "{a} vs {e}");
    };
    let sd = reference["mu"]["sd"].as_f64().unwrap();
    close(&posterior["mu"]["median"], &reference["mu"]["median"], sd);
    close(
        &posterior["mu"]["central"][0],
        &reference["mu"]["central"][0],
        sd,
    );
    close(
        &posterior["tau"]["median"],
        &reference["tau"]["median"],
        0.0,
    );
    // HHS: higher is better, the MIC 15.9 points (Singh et al. 2016).
    let mic = &bayes["mic"][0];
    assert_eq!(mic["mic"].as_f64(), Some(15.9));
    let p = &reference["probabilities"][0];
    assert_eq!(p["above"].as_f64(), Some(15.9));
    close(&mic["pooled"], &p["mu"], 0.0);
    close(&mic["new_study"], &p["new_study"], 0.0);
}

/// Without a prior for τ, a raw mean change gets half-normal with half the
/// unit-information SD √(Σ n / Σ 1/vᵢ), named as the default in text and JSON.
#[test]
fn the_default_prior_on_a_raw_scale_is_half_the_unit_information_sd() {
    let analysis = hip(&["--bayes"]);
    let bayes = &analysis["bayesian"];
    let n: f64 = [6.0, 42.0].iter().sum(); // Dall'Oca 2019, Onoi 2023 (datasets/hip_oa_msc.csv)
    let precision: f64 = analysis["studies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| 1.0 / s["vi"].as_f64().unwrap())
        .sum();
    let unit = (n / precision).sqrt();
    let prior: TauPrior = bayes["posterior"]["model"]["tau_prior"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let TauPrior::HalfNormal { scale } = prior else {
        panic!("{prior}")
    };
    assert!(
        (scale - unit / 2.0).abs() <= 5e-4 * scale,
        "{scale} vs {unit}"
    );
    let source = bayes["tau_prior_source"].as_str().unwrap();
    assert!(
        source.contains("the default for MC: half the unit-information SD"),
        "{source}"
    );
    let mut args = HIP.to_vec();
    args.extend(["max", "--bayes"]);
    let text = String::from_utf8(crate::common::cochran(&args).stdout).unwrap();
    assert!(text.contains("Bayesian random-effects model (exact numerical integration)"));
    assert!(
        text.contains(&format!("tau ~ {prior} (the default for MC")),
        "{text}"
    );
    assert!(
        text.contains("P(improvement > MIC 15.90 | data) = "),
        "{text}"
    );
}

#[test]
fn priors_and_models_the_bayesian_analysis_cannot_take_are_refused() {
    crate::common::rejects(
        &[
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
            "--tau-prior",
            "uniform",
        ],
        &["the posterior is improper", "needs more than 2 studies"],
    );
    let mut args = HIP.to_vec();
    args.extend(["max", "--tau-prior", "half-normal"]);
    crate::common::rejects(&args, &["`half-normal` takes 1 number(s) in parentheses"]);
    let mut args = HIP.to_vec();
    args.extend(["max", "--tau-prior", "gamma(1, 2)"]);
    crate::common::rejects(
        &args,
        &["unknown prior for τ `gamma(1, 2)`", "half-cauchy(scale)"],
    );
    let mut args = HIP.to_vec();
    args.extend(["max", "--mu-prior", "normal(0, -1)"]);
    crate::common::rejects(
        &args,
        &["the SD of the prior for μ must be a positive number"],
    );
    crate::common::rejects(
        &[
            "analyze",
            "tests/reference/data/konstantopoulos2011.csv",
            "--measure",
            "GEN",
            "--cluster",
            "district",
            "--bayes",
            "--tau-prior",
            "half-normal(0.5)",
        ],
        &["the Bayesian random-effects model is not available for the three-level model"],
    );
    crate::common::rejects(
        &[
            "analyze",
            "datasets/bcg.csv",
            "--measure",
            "RR",
            "--mods",
            "ablat",
            "--bayes",
        ],
        &["with moderators it is not available"],
    );
}

/// Heavy-tailed priors with few studies leave moments of the posterior
/// infinite: they are reported as missing, not as the quadrature's finite sums.
#[test]
fn infinite_posterior_moments_are_missing() {
    let effects = [
        Effect::new(0.1, 0.04).unwrap(),
        Effect::new(0.6, 0.02).unwrap(),
    ];
    // k = 2, uniform μ: L(τ) ~ τ^−1; half-Cauchy ~ τ^−2: the density of τ
    // falls as τ^−3, so E τ is finite and E τ² is not.
    let cauchy = BayesianMetaAnalysis::new(TauPrior::HalfCauchy { scale: 1.0 })
        .fit(&effects)
        .unwrap();
    assert!(cauchy.tau.mean.is_some());
    assert_eq!(cauchy.tau.sd, None);
    assert_eq!(cauchy.mu.sd, None);
    assert_eq!(cauchy.predictive.sd, None);
    // A proper prior for μ bounds Var(μ | τ): its SD is finite.
    let normal = BayesianMetaAnalysis::new(TauPrior::HalfCauchy { scale: 1.0 })
        .mu_prior(MuPrior::Normal { mean: 0.0, sd: 1.0 })
        .fit(&effects)
        .unwrap();
    assert!(normal.mu.sd.is_some());
    // Jeffreys with k = 2: density ~ τ^−2, no finite mean.
    let jeffreys = BayesianMetaAnalysis::new(TauPrior::Jeffreys)
        .fit(&effects)
        .unwrap();
    assert_eq!(jeffreys.tau.mean, None);
    assert!(jeffreys.tau.median.is_finite());
}

/// A loose cross-check by MCMC (Stan through brms, tests/reference/bayes/brms.R:
/// 72,000 draws): the exact quantiles lie within four Monte Carlo standard
/// errors of the sampled ones.
#[test]
fn exact_quantiles_agree_with_stan_within_monte_carlo_error() {
    let reference = golden("bayes/brms");
    let effects: Vec<Effect> = numbers(&reference["yi"])
        .into_iter()
        .zip(numbers(&reference["vi"]))
        .map(|(y, v)| Effect::new(y, v).unwrap())
        .collect();
    let prior: TauPrior = reference["tau_prior"].as_str().unwrap().parse().unwrap();
    let posterior = BayesianMetaAnalysis::new(prior).fit(&effects).unwrap();
    for (what, m, sampled) in [
        ("mu", &posterior.mu, &reference["mu"]),
        ("tau", &posterior.tau, &reference["tau"]),
    ] {
        for (name, exact) in [
            ("lower", m.central[0]),
            ("median", m.median),
            ("upper", m.central[1]),
        ] {
            let draw = sampled[name].as_f64().unwrap();
            let mcse = sampled[format!("mcse_{name}")].as_f64().unwrap();
            assert!(
                (exact - draw).abs() <= 4.0 * mcse,
                "{what} {name}: exact {exact}, Stan {draw} (MCSE {mcse})"
            );
        }
    }
}

/// `--above` reports P(μ > x) and P(a new study > x) as mpmath computes them
/// (bcg, the default half-normal(0.5) of a log risk ratio).
#[test]
fn probabilities_above_thresholds_agree_with_mpmath() {
    let document = crate::common::json(&[
        "analyze",
        "datasets/bcg.csv",
        "--measure",
        "RR",
        "--above",
        "0,-0.5",
        "--format",
        "json",
    ]);
    let reference = reference_case("bcg half-normal");
    assert_eq!(reference["tau_prior"]["args"][0].as_f64(), Some(0.5));
    let shown = document["bayesian"]["thresholds"].as_array().unwrap();
    for (actual, expected) in shown
        .iter()
        .zip(reference["probabilities"].as_array().unwrap())
    {
        assert_eq!(actual["above"], expected["above"]);
        for key in ["mu", "new_study"] {
            let (a, e) = (
                actual[key].as_f64().unwrap(),
                expected[key].as_f64().unwrap(),
            );
            assert!(
                (a - e).abs() <= POSTERIOR * e,
                "{key} above {}: {a} vs {e}",
                actual["above"]
            );
        }
    }
}

#[test]
fn a_prior_for_mu_too_narrow_for_its_precision_is_refused() {
    // Fuzzing found normal(0, 1e-300): 1/sd² overflowed and the posterior of τ
    // vanished, reported as the machine's failure rather than the input's.
    let narrow = |sd: f64| MuPrior::Normal { mean: 0.0, sd }.check();
    assert!(narrow(1e-150).is_ok());
    for sd in [1e-155, 1e-300, 5e-324] {
        let error = narrow(sd).unwrap_err();
        assert!(error.to_string().contains("at least 1e-150"), "{error}");
    }
    crate::common::rejects(
        &[
            "analyze",
            "datasets/bcg.csv",
            "--measure",
            "RR",
            "--bayes",
            "--mu-prior",
            "normal(0, 1e-300)",
        ],
        &["the SD of the prior for μ"],
    );
}

#[test]
fn effects_too_far_apart_for_any_tau_are_the_inputs_fault() {
    // Fuzzing found an effect of 1e15 beside effects of 0.1: the posterior of
    // τ underflowed everywhere, reported as the machine's failure (exit 1).
    let file = crate::common::csv_file(
        "bayes_far_apart.csv",
        "study,yi,vi\nA,0.1,0.02\nB,-0.2,0.03\nC,1e15,0.05\nD,0.3,0.04\n",
    );
    crate::common::rejects(
        &[
            "analyze",
            &file,
            "--measure",
            "GEN",
            "--bayes",
            "--tau-prior",
            "half-normal(0.5)",
        ],
        &["the posterior density of τ is zero", "too far apart"],
    );
}
