//! Every refit, bias test, plot and option of a three-level analysis, through
//! the library: it works on the three-level model or refuses with the typed
//! `Unsupported` error; nothing falls back to the two-level model of the same
//! effects (which pools konstantopoulos2011 at 0.128 instead of 0.185).

use crate::common::{close, golden, repo_path};

use cochran::model::{Capability, ModelKind};
use cochran::sensitivity::Subsets;
use cochran::{Analysis, AnalysisOptions, ErrorKind, Measure, bias::BiasOptions};

const DATA: &str = "tests/reference/data/konstantopoulos2011.csv";

fn analysis(options: AnalysisOptions) -> cochran::Result<Analysis> {
    Analysis::from_csv(repo_path(DATA), &options)
}

fn clustered() -> Analysis {
    analysis(AnalysisOptions::new(Measure::Gen).cluster("district")).unwrap()
}

fn independent() -> Analysis {
    analysis(AnalysisOptions::new(Measure::Gen)).unwrap()
}

/// The error must be `Unsupported { what, ThreeLevel }`.
fn assert_refused<T: std::fmt::Debug>(result: cochran::Result<T>, what: Capability) {
    let error = result.expect_err("refused");
    match error.kind() {
        ErrorKind::Unsupported { what: w, model } => {
            assert_eq!((*w, *model), (what, ModelKind::ThreeLevel), "{error}");
        }
        _ => panic!("{what:?}: expected Unsupported, got {error}"),
    }
}

#[test]
fn the_pooled_model_is_the_three_level_one() {
    let analysis = clustered();
    assert_eq!(analysis.model.kind(), ModelKind::ThreeLevel);
    assert!(analysis.fit().is_none(), "no two-level fit to fall back on");
    let reference = &golden("multilevel/multilevel")["cases"][0]["fits"][0];
    assert_eq!(reference["mods"].as_array().map(Vec::len), Some(0));
    assert_eq!(reference["method"], "REML");
    assert_eq!(reference["test"], "z");
    let [estimate, lower, upper] = analysis.pooled();
    for (ours, key) in [
        (estimate, "estimate"),
        (lower, "ci_lower"),
        (upper, "ci_upper"),
    ] {
        let expected = reference[key].as_f64().unwrap();
        assert!(close(ours, expected), "{key}: {ours} vs metafor {expected}");
    }
}

#[test]
fn refits_of_a_three_level_analysis_are_refused() {
    let analysis = clustered();
    assert_refused(analysis.leave_one_out(), Capability::LeaveOneOut);
    assert_refused(
        analysis.cumulative(&(0..56).collect::<Vec<_>>()),
        Capability::Cumulative,
    );
    assert_refused(analysis.influence(), Capability::Influence);
    assert_refused(analysis.baujat(), Capability::Baujat);
    assert_refused(analysis.influence_and_baujat(), Capability::Influence);
    assert_refused(
        analysis.gosh(Subsets::Random { count: 10, seed: 1 }),
        Capability::Gosh,
    );
    assert_refused(
        analysis.gosh_each(Subsets::Random { count: 10, seed: 1 }, |_| Ok(())),
        Capability::Gosh,
    );
}

#[test]
fn bias_tests_of_a_three_level_analysis_are_refused() {
    let analysis = clustered();
    assert_refused(
        analysis.small_study_effects(&BiasOptions::new()),
        Capability::SmallStudyEffects,
    );
}

#[test]
fn plots_of_a_three_level_analysis_draw_it_or_are_refused() {
    let analysis = clustered();
    // The forest plot draws the three-level model.
    let svg = analysis.forest_plot().to_svg().unwrap();
    assert!(svg.contains("Three-level"));
    assert_refused(
        analysis.forest_plot().both(true).to_svg(),
        Capability::BothModels,
    );
    assert_refused(analysis.funnel_plot().to_svg(), Capability::FunnelPlot);
    assert_refused(analysis.bubble_plot().to_svg(), Capability::BubblePlot);
    // Results of the independent-effects analysis of the same data cannot be
    // drawn as this analysis's.
    let other = independent();
    let refits = other.leave_one_out().unwrap();
    assert_refused(
        analysis.forest_plot().leave_one_out(&refits).to_svg(),
        Capability::LeaveOneOut,
    );
    let steps = other.cumulative(&(0..56).collect::<Vec<_>>()).unwrap();
    assert_refused(
        analysis.forest_plot().cumulative(&steps).to_svg(),
        Capability::Cumulative,
    );
    let (influence, baujat) = other.influence_and_baujat().unwrap();
    assert_refused(
        analysis.baujat_plot(&baujat).to_svg(),
        Capability::BaujatPlot,
    );
    assert_refused(
        analysis.influence_plot(&influence).to_svg(),
        Capability::InfluencePlot,
    );
    let gosh = other.gosh(Subsets::Random { count: 50, seed: 1 }).unwrap();
    assert_refused(analysis.gosh_plot(&gosh).to_svg(), Capability::GoshPlot);
}

#[test]
fn options_a_three_level_analysis_cannot_honour_are_refused() {
    let clustered = || AnalysisOptions::new(Measure::Gen).cluster("district");
    let cases = [
        (
            clustered().moderators(&["year"]).permutations(10, 1),
            Capability::PermutationTest,
        ),
        (
            clustered().moderators(&["year"]).predict(&[("year", "1")]),
            Capability::Predictions,
        ),
        (clustered().r_sensitivity(&[0.5]), Capability::RSensitivity),
        (clustered().group_by("school"), Capability::Subgroups),
        (clustered().companion(true), Capability::BothModels),
    ];
    for (options, what) in cases {
        assert_refused(analysis(options), what);
    }
}

#[test]
fn the_same_calls_work_on_independent_effects() {
    let analysis = independent();
    assert_eq!(analysis.model.kind(), ModelKind::Univariate);
    assert!(analysis.leave_one_out().is_ok());
    assert!(analysis.influence_and_baujat().is_ok());
    assert!(analysis.small_study_effects(&BiasOptions::new()).is_ok());
    assert!(analysis.funnel_plot().to_svg().is_ok());
}

/// Library messages name the setting as the library spells it; the command
/// line, which registers its flags, says `--predict` (tests/it/meta_regression.rs).
#[test]
fn library_messages_name_settings_not_flags() {
    let options = AnalysisOptions::new(Measure::Gen).predict(&[("year", "2000")]);
    let error = analysis(options).expect_err("predictions need moderators");
    let message = error.to_string();
    assert!(message.contains("`predict`"), "{message}");
    assert!(message.contains("`moderators`"), "{message}");
    assert!(!message.contains("--"), "{message}");
}
