//! Before/after clinical scores: instruments, harmonisation, recovered
//! statistics, per-outcome analyses, and the properties harmonisation must keep.

use crate::common;

use cochran::data::Table;
use cochran::effect::harmonise::{Harmonisation, harmonise};
use cochran::effect::scales::ScaleRegistry;
use cochran::{Analysis, AnalysisOptions, EffectOptions, EffectSet, Measure, MetaAnalysis, Tau2};
use common::{cochran, csv_file, json, rejects, repo_path};
use serde_json::Value;

const HEADER: &str = "study,outcome,time,n,mean_pre,sd_pre,mean_post,sd_post,r\n";

#[test]
fn an_unknown_instrument_lists_the_registered_ones() {
    let file = csv_file(
        "unknown_instrument.csv",
        &format!("{HEADER}A,Lequesne,6,20,12,3,8,3,0.5\n"),
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &[
            "line 2",
            "`outcome`",
            "`Lequesne`",
            "HHS",
            "WOMAC",
            "OHS",
            "--scales FILE",
        ],
    );
}

const LEQUESNE: &str =
    "A,Lequesne,6,20,12,3,8,3,0.5\nB,Lequesne,6,30,14,4,9,3.5,0.5\nC,Lequesne,6,25,13,3,10,3,0.5\n";

#[test]
fn an_unregistered_instrument_blocks_only_raw_changes() {
    let file = csv_file("lequesne_smcr.csv", &format!("{HEADER}{LEQUESNE}"));
    let out = json(&["analyze", &file, "--measure", "SMCR", "--format", "json"]);
    assert_eq!(out["k"], 3);
    let warnings = out["warnings"].to_string();
    assert!(
        warnings.contains("instrument `Lequesne` is not registered"),
        "{warnings}"
    );
    assert!(warnings.contains("--scales FILE"), "{warnings}");
    // The same effects as without an instrument: nothing was changed.
    let bare = csv_file(
        "lequesne_bare.csv",
        &format!("{HEADER}{LEQUESNE}").replace(",Lequesne,", ",,"),
    );
    let plain = json(&["analyze", &bare, "--measure", "SMCR", "--format", "json"]);
    assert_eq!(out["estimate"], plain["estimate"]);
    // Per outcome and by name, it is analysed under the name it has.
    let by = json(&[
        "analyze",
        &file,
        "--measure",
        "SMCR",
        "--by",
        "outcome",
        "--format",
        "json",
    ]);
    assert_eq!(by["outcomes"][0]["outcome"], "Lequesne");
    assert_eq!(by["outcomes"][0]["analysis"]["estimate"], plain["estimate"]);
    let named = json(&[
        "analyze",
        &file,
        "--measure",
        "SMCR",
        "--outcome",
        "lequesne",
        "--format",
        "json",
    ]);
    assert_eq!(named["k"], 3);
    // A misspelt registered name is still an error listing the known ones.
    rejects(
        &["analyze", &file, "--measure", "SMCR", "--outcome", "HSS"],
        &["`HSS`", "HHS"],
    );
}

#[test]
fn scales_adds_instruments_from_a_file() {
    let scales = csv_file(
        "lequesne_scales.csv",
        "name,aliases,full_name,min,max,better,subscales,note\nLequesne,LI,Lequesne index,0,24,lower,,\n",
    );
    let file = csv_file("lequesne_mc.csv", &format!("{HEADER}{LEQUESNE}"));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "analyze",
            &file,
            "--measure",
            "MC",
            "--scales",
            &scales,
            "--format",
            "json",
        ];
        args.extend(extra);
        json(&args)
    };
    let raw = run(&[]);
    assert_eq!(raw["k"], 3);
    assert!(
        raw["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.to_string().contains("not registered"))
    );
    // Lower is better on the file's instrument: --improvement-positive flips the sign.
    let flipped = run(&["--improvement-positive"]);
    let (a, b) = (
        raw["estimate"].as_f64().unwrap(),
        flipped["estimate"].as_f64().unwrap(),
    );
    assert!((a + b).abs() <= 1e-12 * a.abs(), "{a} vs {b}");
    // Its range is checked: 30 points exceed 0-24.
    let outside = csv_file(
        "lequesne_30.csv",
        &format!("{HEADER}{LEQUESNE}D,Lequesne,6,20,30,3,8,3,0.5\n"),
    );
    rejects(
        &["analyze", &outside, "--measure", "MC", "--scales", &scales],
        &["line 5", "`mean_pre`", "30", "0-24"],
    );
    // A file that registers a known instrument again is refused with its line.
    let twice = csv_file(
        "hhs_again.csv",
        "name,aliases,full_name,min,max,better,subscales,note\nHarris,HHS,Harris,0,100,higher,,\n",
    );
    rejects(
        &["analyze", &file, "--measure", "MC", "--scales", &twice],
        &["hhs_again.csv", "line 2", "registered already"],
    );
}

#[test]
fn a_value_outside_the_instruments_range_names_study_row_and_column() {
    let file = csv_file(
        "womac_130.csv",
        &format!("{HEADER}A,WOMAC,6,20,40,8,30,8,0.5\nB,WOMAC,6,20,130,8,30,8,0.5\n"),
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["line 3", "`mean_pre`", "study `B`", "130", "0-96"],
    );
}

#[test]
fn raw_changes_of_different_instruments_are_refused_with_a_way_out() {
    let file = csv_file(
        "mixed.csv",
        &format!("{HEADER}A,HHS,6,20,50,8,70,8,0.5\nB,WOMAC,6,20,40,8,30,8,0.5\n"),
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["HHS", "WOMAC", "SMCR", "--rescale 100"],
    );
    rejects(
        &["analyze", &file, "--measure", "SMCR"],
        &["opposite directions", "--improvement-positive"],
    );
    let v = json(&[
        "analyze",
        &file,
        "--measure",
        "SMCR",
        "--improvement-positive",
        "--format",
        "json",
    ]);
    assert_eq!(v["k"], 2);
    let (hhs, womac) = (
        v["studies"][0]["yi"].as_f64().unwrap(),
        v["studies"][1]["yi"].as_f64().unwrap(),
    );
    assert!(
        hhs > 0.0 && womac > 0.0,
        "both improved, both positive: {hhs}, {womac}"
    );
    assert!(
        v["studies"][1]["notes"]
            .to_string()
            .contains("sign flipped")
    );
}

#[test]
fn rescaling_pools_vas_in_centimetres_and_millimetres() {
    let header = "study,outcome,scale_max,time,n,mean_pre,sd_pre,mean_post,sd_post,r\n";
    let file = csv_file(
        "vas.csv",
        &format!(
            "{header}A,VAS pain,10,6,20,6.1,1.5,3.0,1.8,0.5\nB,VAS pain,,6,30,62,14,35,17,0.5\n"
        ),
    );
    rejects(
        &["analyze", &file, "--measure", "MC"],
        &["VAS pain 0-10", "VAS pain 0-100"],
    );
    let v = json(&[
        "analyze",
        &file,
        "--measure",
        "MC",
        "--rescale",
        "100",
        "--format",
        "json",
    ]);
    let a = v["studies"][0]["yi"].as_f64().unwrap();
    assert!((a - 10.0 * (3.0 - 6.1)).abs() < 1e-9, "{a}");
    assert_eq!(v["clinical"]["harmonisation"]["rescale"], 100.0);
}

#[test]
fn sds_from_standard_errors_are_flagged_per_study() {
    let header = "study,outcome,time,n,mean_pre,se_pre,mean_post,se_post,r\n";
    let file = csv_file(
        "se.csv",
        &format!("{header}A,HHS,6,25,50,1,70,2,0.5\nB,HHS,6,16,55,1,72,1,0.5\n"),
    );
    let v = json(&["analyze", &file, "--measure", "MC", "--format", "json"]);
    let imputed = &v["studies"][0]["imputed"];
    assert_eq!(imputed[0]["column"], "sd_pre");
    assert_eq!(imputed[0]["value"], 5.0);
    assert!(
        imputed[0]["method"]
            .as_str()
            .unwrap()
            .contains("standard error")
    );
    let out = cochran(&["analyze", &file, "--measure", "MC"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Imputed values") && text.contains("A: sd_pre = 5.0000"),
        "{text}"
    );
}

#[test]
fn a_reported_change_needs_no_correlation_and_wins_over_pre_post() {
    let header = "study,outcome,n,mean_pre,mean_post,mean_change,sd_change\n";
    let file = csv_file(
        "change.csv",
        &format!("{header}A,OHS,40,20.1,26.2,6.4,5\nB,OHS,30,,,5.0,6\n"),
    );
    let v = json(&["analyze", &file, "--measure", "MC", "--format", "json"]);
    assert_eq!(v["k"], 2);
    assert_eq!(v["studies"][0]["yi"], 6.4);
    assert_eq!(v["studies"][0]["vi"], 25.0 / 40.0);
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains("`A`") && warnings.contains("disagrees"),
        "{warnings}"
    );
}

#[test]
fn a_reported_change_within_rounding_is_not_a_contradiction() {
    let header = "study,outcome,n,mean_pre,mean_post,mean_change,sd_change\n";
    let file = csv_file(
        "change_rounded.csv",
        &format!("{header}A,OHS,40,20.14,26.18,6.1,5\nB,OHS,30,,,5.0,6\n"),
    );
    let v = json(&["analyze", &file, "--measure", "MC", "--format", "json"]);
    // The one warning of two studies is that they are few.
    let other = |w: &&Value| !w.as_str().unwrap().starts_with("k = 2:");
    assert_eq!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(other)
            .count(),
        0,
        "{}",
        v["warnings"]
    );
}

#[test]
fn r_impute_derives_r_from_studies_with_all_three_sds() {
    let header = "study,outcome,n,mean_pre,sd_pre,mean_post,sd_post,mean_change,sd_change\n";
    // Study A: sd_change^2 = 9 + 16 - 2*0.5*3*4 = 13, so r = 0.5 exactly.
    let rows = format!(
        "A,HHS,20,50,3,60,4,10,{}\nB,HHS,20,40,3,55,4,,\n",
        13f64.sqrt()
    );
    let file = csv_file("impute_r.csv", &format!("{header}{rows}"));
    let v = json(&[
        "analyze",
        &file,
        "--measure",
        "MC",
        "--r",
        "impute",
        "--format",
        "json",
    ]);
    let imputed = &v["studies"][1]["imputed"][0];
    assert_eq!(imputed["column"], "r");
    assert!((imputed["value"].as_f64().unwrap() - 0.5).abs() < 1e-12);
    let none = csv_file(
        "impute_r_none.csv",
        &format!("{HEADER}A,HHS,6,20,50,8,70,8,\n"),
    );
    rejects(
        &["analyze", &none, "--measure", "MC", "--r", "impute"],
        &["--r impute", "sd_change"],
    );
    rejects(
        &["analyze", &none, "--measure", "MC", "--r", "often"],
        &["--r", "impute"],
    );
}

#[test]
fn r_sensitivity_reports_one_row_per_r() {
    let file = csv_file(
        "sensitivity.csv",
        &format!(
            "{HEADER}A,HHS,6,20,50,8,70,9,\nB,HHS,6,30,45,7,60,8,\nC,HHS,6,25,52,9,61,9,0.6\n"
        ),
    );
    let v = json(&[
        "analyze",
        &file,
        "--measure",
        "MC",
        "--r",
        "0.5",
        "--r-sensitivity",
        "0.2,0.5,0.8",
        "--format",
        "json",
    ]);
    let rows = v["r_sensitivity"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[1]["estimate"], v["estimate"],
        "r = 0.5 is the main analysis"
    );
    let widths: Vec<f64> = rows
        .iter()
        .map(|r| r["ci_upper"].as_f64().unwrap() - r["ci_lower"].as_f64().unwrap())
        .collect();
    assert!(
        widths[0] > widths[2],
        "a higher r gives more precise changes: {widths:?}"
    );
}

#[test]
fn by_outcome_analyses_each_instrument_and_explains_the_ones_it_cannot() {
    let data = repo_path("datasets/hip_oa_msc.csv");
    let v = json(&[
        "analyze",
        &data,
        "--measure",
        "MC",
        "--by",
        "outcome",
        "--r",
        "0.5",
        "--impute-sd",
        "max",
        "--format",
        "json",
    ]);
    let outcomes = v["outcomes"].as_array().unwrap();
    let hhs = outcomes
        .iter()
        .find(|o| o["outcome"] == "HHS")
        .expect("HHS analysed");
    assert_eq!(hhs["analysis"]["k"], 2);
    // The MIC is judged by the interval of the improvement, not its point.
    let mut verdicts = Vec::new();
    for outcome in outcomes {
        let Some(mics) = outcome["analysis"]["clinical"]["mic"].as_array() else {
            continue;
        };
        for m in mics {
            let number = |k: &str| m[k].as_f64().unwrap();
            let (lo, hi) = (
                number("improvement_ci_lower"),
                number("improvement_ci_upper"),
            );
            let (low, high) = (number("low"), m["high"].as_f64().unwrap_or(number("low")));
            let expected = if hi < low {
                "below"
            } else if lo > high {
                "above"
            } else {
                "includes"
            };
            assert_eq!(m["verdict"], expected, "{m}");
            assert!(lo <= number("improvement") && number("improvement") <= hi);
            verdicts.push(expected);
        }
    }
    assert!(!verdicts.is_empty());
    let ohs = outcomes
        .iter()
        .find(|o| o["outcome"] == "OHS")
        .expect("OHS listed");
    assert!(ohs["error"].as_str().unwrap().contains("sd_change"));
}

#[test]
fn scales_lists_the_registry() {
    let out = cochran(&["scales"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for fragment in [
        "HHS",
        "mHHS",
        "WOMAC VAS",
        "OHS",
        "Singh",
        "Tubach",
        "lower is better",
    ] {
        assert!(text.contains(fragment), "{fragment}");
    }
    let out = cochran(&["scales", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["scales"].as_array().unwrap().len() >= 11);
}

/// Deterministic before/after data on WOMAC (0-96) for the property tests.
fn womac_table(seed: u64, k: usize) -> Table {
    let mut state = seed;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut csv = String::from(HEADER);
    for i in 0..k {
        let pre = 40.0 + 20.0 * uniform();
        let post = pre - 5.0 - 15.0 * uniform();
        let n = 10 + (40.0 * uniform()) as usize;
        csv.push_str(&format!(
            "S{i},WOMAC,6,{n},{pre},{},{post},{},0.5\n",
            5.0 + 5.0 * uniform(),
            5.0 + 5.0 * uniform()
        ));
    }
    Table::from_reader(csv.as_bytes(), None, &EffectSet::table_spec(Measure::Mc)).unwrap()
}

fn relative_gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn flipping_direction_twice_is_the_identity() {
    let table = womac_table(7, 8);
    let original = EffectSet::from_table(&table, Measure::Mc, &EffectOptions::default()).unwrap();
    let mut twice = original.clone();
    let flip = Harmonisation::new().improvement_positive(true);
    harmonise(&mut twice, &table, ScaleRegistry::shared(), &flip).unwrap();
    assert!(
        twice
            .effects()
            .iter()
            .zip(original.effects())
            .all(|(a, b)| a.yi == -b.yi)
    );
    harmonise(&mut twice, &table, ScaleRegistry::shared(), &flip).unwrap();
    assert_eq!(twice.effects(), original.effects());
}

#[test]
fn rescaling_then_pooling_equals_pooling_then_rescaling() {
    let factor = 100.0 / 96.0;
    for seed in 1..=5 {
        let table = womac_table(seed, 6 + seed as usize);
        let raw = EffectSet::from_table(&table, Measure::Mc, &EffectOptions::default()).unwrap();
        let mut rescaled = raw.clone();
        let to_100 = Harmonisation::new().rescale(100.0);
        harmonise(&mut rescaled, &table, ScaleRegistry::shared(), &to_100).unwrap();
        for estimator in Tau2::ALL {
            let model = MetaAnalysis::random(estimator);
            let (a, b) = (
                model.fit(&raw.effects()).unwrap(),
                model.fit(&rescaled.effects()).unwrap(),
            );
            let pairs = [
                (b.estimate, a.estimate * factor),
                (b.ci_lower, a.ci_lower * factor),
                (b.ci_upper, a.ci_upper * factor),
                (b.tau2 + 1.0, a.tau2 * factor * factor + 1.0),
                (b.p_value.unwrap(), a.p_value.unwrap()),
            ];
            for (i, (x, y)) in pairs.into_iter().enumerate() {
                assert!(
                    relative_gap(x, y) < 1e-8,
                    "seed {seed}, {estimator}, quantity {i}: {x} vs {y}"
                );
            }
        }
    }
}

#[test]
fn the_library_selects_an_outcome_by_alias() {
    let options = AnalysisOptions::new(Measure::Mc)
        .outcome("Harris Hip Score")
        .r(0.5)
        .impute_sd(cochran::SdImputation::Mean);
    let analysis = Analysis::from_csv(repo_path("datasets/hip_oa_msc.csv"), &options).unwrap();
    assert_eq!(analysis.fit().unwrap().k, 2);
    assert!(analysis.studies.iter().all(|s| s.instrument == Some("HHS")));
}

const MEDIAN_HEADER: &str = "study,outcome,n,median_pre,q1_pre,q3_pre,min_pre,max_pre,median_post,q1_post,q3_post,min_post,max_post,r\n";

#[test]
fn medians_with_quartiles_and_range_become_flagged_means_and_sds() {
    let rows = "A,HHS,30,55,48,62,30,80,75,68,84,50,95,0.5\nB,HHS,25,50,44,58,,,72,66,80,,,0.5\n";
    let file = csv_file("medians.csv", &format!("{MEDIAN_HEADER}{rows}"));
    let v = json(&["analyze", &file, "--measure", "MC", "--format", "json"]);
    assert_eq!(v["k"], 2);
    let methods = |study: usize| v["studies"][study]["imputed"].to_string();
    assert!(
        methods(0).contains("Luo et al. 2018") && methods(0).contains("Shi et al. 2020"),
        "{}",
        methods(0)
    );
    assert!(methods(1).contains("Wan et al. 2014"), "{}", methods(1));
    let columns: Vec<&str> = v["studies"][0]["imputed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["column"].as_str().unwrap())
        .collect();
    assert_eq!(columns, ["mean_pre", "sd_pre", "mean_post", "sd_post"]);
}

#[test]
fn quartiles_out_of_order_and_too_small_samples_are_refused() {
    let disordered = csv_file(
        "quartiles_disordered.csv",
        &format!("{MEDIAN_HEADER}A,HHS,30,55,60,50,,,75,68,84,,,0.5\n"),
    );
    rejects(
        &["analyze", &disordered, "--measure", "MC"],
        &["line 2", "q3_pre"],
    );
    let small = csv_file(
        "quartiles_small.csv",
        &format!("{MEDIAN_HEADER}A,HHS,4,55,48,62,,,75,68,84,,,0.5\n"),
    );
    rejects(&["analyze", &small, "--measure", "MC"], &["line 2", "5"]);
    let outside = csv_file(
        "median_outside.csv",
        &format!("{MEDIAN_HEADER}A,WOMAC,30,55,48,62,30,120,75,68,84,50,95,0.5\n"),
    );
    rejects(
        &["analyze", &outside, "--measure", "MC"],
        &["`max_pre`", "120", "0-96"],
    );
}

/// The x position of the SVG text that holds `word` (a group of glyphs
/// labelled with its words and translated to its anchor).
fn text_x(svg: &str, word: &str) -> f64 {
    let label = format!("aria-label=\"{word}");
    let start = svg
        .find(&label)
        .unwrap_or_else(|| panic!("`{word}` not in the plot"));
    let x = &svg[start + svg[start..].find("translate(").unwrap() + 10..];
    x[..x.find(' ').unwrap()].parse().unwrap()
}

#[test]
fn forest_axis_words_follow_the_instruments_direction() {
    let data = repo_path("datasets/hip_oa_msc.csv");
    for (instrument, flip, improvement_left) in [
        ("WOMAC", false, true),
        ("HHS", false, false),
        ("WOMAC", true, false),
    ] {
        let options = AnalysisOptions::new(Measure::Mc)
            .outcome(instrument)
            .r(0.5)
            .impute_sd(cochran::SdImputation::Max)
            .improvement_positive(flip);
        let svg = Analysis::from_csv(&data, &options)
            .unwrap()
            .forest_plot()
            .to_svg()
            .unwrap();
        let left = text_x(&svg, "Improvement") < text_x(&svg, "Deterioration");
        assert_eq!(
            left, improvement_left,
            "{instrument}, improvement positive: {flip}"
        );
    }
}
