//! Forest and funnel plots, checked through the SVG they produce: labels and
//! numbers present, one diamond per pooled result, squares sized by weight, the
//! line of no effect where the axis puts it, and a log axis for ratios.

use crate::common::{self, repo_path};

use std::path::PathBuf;

use cochran::effect::{StudyData, TwoByTwo};
use cochran::{Analysis, AnalysisOptions, EffectSet, Measure, Method, Test};

/// Colour of study squares in the SVG.
const SQUARE: &str = "#2F5597";

/// A text: its anchor and content (cochran writes each text as a group of
/// glyph outlines labelled with its words, translated to its anchor).
#[derive(Debug)]
struct SvgText {
    x: f64,
    y: f64,
    text: String,
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].to_string())
}

fn number(tag: &str, name: &str) -> f64 {
    attribute(tag, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Every element `<name …>` as its opening tag.
fn tags<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name} ");
    svg.match_indices(&open)
        .map(|(i, _)| &svg[i..i + svg[i..].find('>').unwrap()])
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn texts(svg: &str) -> Vec<SvgText> {
    tags(svg, "g")
        .into_iter()
        .filter_map(|tag| {
            let text = attribute(tag, "aria-label")?;
            let translate = attribute(tag, "transform")?;
            let (x, y) = translate
                .strip_prefix("translate(")?
                .strip_suffix(')')?
                .split_once(' ')?;
            Some(SvgText {
                x: x.parse().ok()?,
                y: y.parse().ok()?,
                text: unescape(&text),
            })
        })
        .collect()
}

fn has_text(svg: &str, wanted: &str) -> bool {
    texts(svg).iter().any(|t| t.text == wanted)
}

fn points(tag: &str) -> Vec<(f64, f64)> {
    attribute(tag, "points")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| {
            let (x, y) = p.split_once(',')?;
            Some((x.parse().ok()?, y.parse().ok()?))
        })
        .collect()
}

/// Four-cornered filled polygons: the diamonds (arrowheads have three corners).
fn diamonds(svg: &str) -> usize {
    tags(svg, "polygon")
        .iter()
        .filter(|t| points(t).len() == 4)
        .count()
}

/// Side lengths of the study squares, in document (row) order.
fn squares(svg: &str) -> Vec<f64> {
    tags(svg, "rect")
        .iter()
        .filter(|t| attribute(t, "fill").as_deref() == Some(SQUARE))
        .map(|t| number(t, "width"))
        .collect()
}

/// The longest vertical line: the line of no effect. Returns its x and lowest y.
fn null_line(svg: &str) -> (f64, f64) {
    tags(svg, "polyline")
        .iter()
        .map(|t| points(t))
        .filter(|p| p.len() == 2 && p[0].0 == p[1].0)
        .max_by(|a, b| (a[1].1 - a[0].1).abs().total_cmp(&(b[1].1 - b[0].1).abs()))
        .map(|p| (p[0].0, p[0].1.max(p[1].1)))
        .expect("a vertical line")
}

/// Numeric labels below the line of no effect: the tick labels, as (value, x).
fn tick_labels(svg: &str) -> Vec<(f64, f64)> {
    let (_, bottom) = null_line(svg);
    texts(svg)
        .iter()
        .filter(|t| t.y > bottom)
        .filter_map(|t| Some((t.text.parse::<f64>().ok()?, t.x)))
        .collect()
}

fn bcg(options: AnalysisOptions) -> Analysis {
    Analysis::from_csv(repo_path("datasets/bcg.csv"), &options).unwrap()
}

fn fmt2(x: f64) -> String {
    format!("{x:.2}")
}

#[test]
fn every_label_and_right_hand_number_is_printed() {
    let analysis = bcg(AnalysisOptions::new(Measure::Rr).group_by("alloc"));
    let svg = analysis.forest_plot().to_svg().unwrap();
    // Text is drawn as glyph outlines: nothing is left to a viewer's fonts.
    assert!(!svg.contains("<text") && !svg.contains("font-family"));
    for s in &analysis.studies {
        assert!(has_text(&svg, s.study), "label {}", s.study);
        let effect = format!(
            "{} [{}, {}]",
            fmt2(s.yi.exp()),
            fmt2(s.ci_lower.exp()),
            fmt2(s.ci_upper.exp())
        );
        assert!(has_text(&svg, &effect), "effect {effect}");
        assert!(
            has_text(&svg, &format!("{:.1}%", s.weight)),
            "weight of {}",
            s.study
        );
    }
    assert!(has_text(&svg, "0.49 [0.34, 0.70]"));
    assert!(has_text(&svg, "100.0%"));
    for group in analysis.subgroups.as_ref().unwrap() {
        assert!(has_text(&svg, &group.name));
    }
}

#[test]
fn revman_statistics_lines() {
    let analysis = bcg(AnalysisOptions::new(Measure::Rr).group_by("alloc"));
    let svg = analysis.forest_plot().to_svg().unwrap();
    assert!(has_text(
        &svg,
        "Heterogeneity: τ² = 0.31; χ² = 152.23, df = 12 (P < 0.00001); I² = 92%"
    ));
    assert!(svg.contains("Test for overall effect: Z = 3.97 (P"));
    assert!(svg.contains("Test for subgroup differences: χ² = "));
    assert!(has_text(&svg, "Random-effects model (REML) (95% CI)"));

    let knha = bcg(AnalysisOptions::new(Measure::Rr).test(Test::Knha));
    let svg = knha.forest_plot().to_svg().unwrap();
    assert!(
        svg.contains("Test for overall effect: t = "),
        "t under Knapp–Hartung"
    );

    let common_effect = bcg(AnalysisOptions::new(Measure::Or).method(Method::Common));
    let svg = common_effect.forest_plot().to_svg().unwrap();
    assert!(
        svg.contains("Heterogeneity: χ² = "),
        "no τ² for a common effect"
    );
    assert!(has_text(&svg, "Common-effect model (95% CI)"));
    assert!(!svg.contains("Prediction interval"));
}

#[test]
fn one_diamond_per_pooled_result() {
    let grouped = bcg(AnalysisOptions::new(Measure::Rr).group_by("alloc"));
    let svg = grouped.forest_plot().to_svg().unwrap();
    assert_eq!(diamonds(&svg), 3 + 1);
    let plain = bcg(AnalysisOptions::new(Measure::Rr));
    assert_eq!(diamonds(&plain.forest_plot().to_svg().unwrap()), 1);
}

#[test]
fn intervals_past_the_axis_end_in_arrows() {
    let analysis = bcg(AnalysisOptions::new(Measure::Rr));
    let arrows = |svg: &str| {
        tags(svg, "polygon")
            .iter()
            .filter(|t| points(t).len() == 3)
            .count()
    };
    assert_eq!(arrows(&analysis.forest_plot().to_svg().unwrap()), 0);
    let clipped = analysis.forest_plot().x_limits(0.2, 2.0).to_svg().unwrap();
    let fit = analysis.fit().unwrap();
    let prediction = (fit.pi_lower.unwrap(), fit.pi_upper.unwrap());
    let past = analysis
        .studies
        .iter()
        .map(|s| (s.ci_lower, s.ci_upper))
        .chain([prediction])
        .map(|(lo, hi)| usize::from(lo < 0.2f64.ln()) + usize::from(hi > 2f64.ln()))
        .sum::<usize>();
    assert!(past > 0);
    assert_eq!(arrows(&clipped), past);
}

#[test]
fn square_sizes_follow_the_weights() {
    let analysis = bcg(AnalysisOptions::new(Measure::Or));
    let sides = squares(&analysis.forest_plot().to_svg().unwrap());
    assert_eq!(sides.len(), analysis.studies.len());
    let mut pairs: Vec<(f64, f64)> = analysis
        .studies
        .iter()
        .map(|s| s.weight)
        .zip(sides)
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1), "{pairs:?}");
    assert!(pairs.last().unwrap().1 > pairs.first().unwrap().1);
}

#[test]
fn null_line_sits_at_no_effect() {
    let smd = Analysis::from_csv(
        repo_path("datasets/normand1999.csv"),
        &AnalysisOptions::new(Measure::Smd),
    )
    .unwrap();
    let svg = smd.forest_plot().to_svg().unwrap();
    let (x, _) = null_line(&svg);
    let zero = tick_labels(&svg)
        .into_iter()
        .find(|(v, _)| *v == 0.0)
        .expect("a 0 tick");
    assert!(
        (zero.1 - x).abs() <= 1.0,
        "null line {x}, tick 0 at {}",
        zero.1
    );
    assert!(
        !texts(&svg)
            .iter()
            .any(|t| t.text.starts_with("-0") && t.text.parse::<f64>() == Ok(0.0))
    );

    let rr = bcg(AnalysisOptions::new(Measure::Rr));
    let svg = rr.forest_plot().to_svg().unwrap();
    let (x, _) = null_line(&svg);
    let one = tick_labels(&svg)
        .into_iter()
        .find(|(v, _)| *v == 1.0)
        .expect("a 1 tick");
    assert!(
        (one.1 - x).abs() <= 1.0,
        "null line {x}, tick 1 at {}",
        one.1
    );
}

/// Pixels per unit between consecutive ticks, after `transform`.
fn spacing(ticks: &[(f64, f64)], transform: fn(f64) -> f64) -> Vec<f64> {
    ticks
        .windows(2)
        .map(|w| (w[1].1 - w[0].1) / (transform(w[1].0) - transform(w[0].0)))
        .collect()
}

fn all_close(values: &[f64], tolerance: f64) -> bool {
    values
        .iter()
        .all(|v| (v - values[0]).abs() <= tolerance * values[0].abs())
}

#[test]
fn ratio_measures_get_a_log_axis() {
    let rr = bcg(AnalysisOptions::new(Measure::Rr));
    let ticks = tick_labels(&rr.forest_plot().to_svg().unwrap());
    assert!(ticks.len() >= 3, "{ticks:?}");
    assert!(all_close(&spacing(&ticks, f64::ln), 0.03), "{ticks:?}");
    assert!(!all_close(&spacing(&ticks, |v| v), 0.03), "{ticks:?}");

    let smd = Analysis::from_csv(
        repo_path("datasets/normand1999.csv"),
        &AnalysisOptions::new(Measure::Smd),
    )
    .unwrap();
    let ticks = tick_labels(&smd.forest_plot().to_svg().unwrap());
    assert!(all_close(&spacing(&ticks, |v| v), 0.03), "{ticks:?}");
}

#[test]
fn png_has_the_expected_size_and_is_not_blank() {
    let analysis = bcg(AnalysisOptions::new(Measure::Rr).group_by("alloc"));
    let plot = analysis.forest_plot().scale(2.0);
    let (width, height) = plot.dimensions().unwrap();
    let bytes = plot.to_png().unwrap();
    let (info, pixels) = decode(&bytes);
    assert_eq!((info.width, info.height), (width, height));
    assert!(height > 600, "grows with the rows: {height}");
    let dark = pixels
        .chunks(3)
        .filter(|p| p.iter().all(|&c| c < 100))
        .count();
    let blue = pixels.chunks(3).filter(|p| p == &[47, 85, 151]).count();
    assert!(dark > 2000, "text and lines drawn: {dark}");
    assert!(blue > 100, "squares drawn: {blue}");

    let funnel = analysis.funnel_plot().contours(true);
    let (info, pixels) = decode(&funnel.to_png().unwrap());
    assert_eq!((info.width, info.height), funnel.dimensions().unwrap());
    assert!(
        pixels.chunks(3).any(|p| p == [160, 160, 160]),
        "p < 0.01 shading"
    );
}

fn decode(bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
    let mut reader = png::Decoder::new(bytes).read_info().expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (info, buf)
}

/// `n` two-group binary studies with the given labels.
fn binary_studies(labels: &[String]) -> Analysis {
    let studies = labels.iter().enumerate().map(|(i, label)| {
        let e1 = 5.0 + (i % 7) as f64 * 3.0;
        let table = TwoByTwo::new(e1, 100.0 + i as f64 * 10.0, 12.0, 110.0).unwrap();
        (label.clone(), StudyData::TwoByTwo(Box::new(table)))
    });
    let set = EffectSet::from_studies(Measure::Or, studies).unwrap();
    Analysis::from_effects(set, &AnalysisOptions::new(Measure::Or)).unwrap()
}

#[test]
fn one_two_and_sixty_studies_render() {
    for n in [1, 2, 60] {
        let labels: Vec<String> = (1..=n).map(|i| format!("Study {i}")).collect();
        let analysis = binary_studies(&labels);
        let plot = analysis.forest_plot();
        let svg = plot.to_svg().unwrap();
        assert_eq!(squares(&svg).len(), n);
        assert!(labels.iter().all(|l| has_text(&svg, l)));
        assert!(!plot.to_png().unwrap().is_empty());
        assert!(analysis.funnel_plot().contours(true).to_svg().is_ok());
        assert!(analysis.funnel_plot().to_png().is_ok());
    }
    let short = binary_studies(&["A".into(), "B".into()])
        .forest_plot()
        .dimensions()
        .unwrap();
    let labels: Vec<String> = (1..=60).map(|i| format!("Study {i}")).collect();
    let tall = binary_studies(&labels).forest_plot().dimensions().unwrap();
    assert!(
        tall.1 > short.1 + 58 * 15,
        "height grows with rows: {short:?} {tall:?}"
    );
}

#[test]
fn long_labels_are_cut_with_an_ellipsis() {
    let long = "A multicentre randomised controlled trial of something with a very long name indeed (the full acronym-laden title)".to_string();
    let analysis = binary_studies(&[long.clone(), "Short".into()]);
    let svg = analysis.forest_plot().to_svg().unwrap();
    assert!(!svg.contains(&long));
    let cut = texts(&svg)
        .into_iter()
        .find(|t| t.text.ends_with('…'))
        .expect("an ellipsis");
    assert!(long.starts_with(cut.text.trim_end_matches('…')));
    assert!(has_text(&svg, "Short"));
    assert!(analysis.forest_plot().to_png().is_ok());
}

#[test]
fn a_set_width_narrows_the_plot_column_but_never_the_text() {
    let analysis = bcg(AnalysisOptions::new(Measure::Rr).group_by("alloc"));
    let natural = analysis.forest_plot().dimensions().unwrap().0;
    let narrower = analysis.forest_plot().width(f64::from(natural) - 150.0);
    assert_eq!(narrower.dimensions().unwrap().0, natural - 150);
    let svg = narrower.to_svg().unwrap();
    assert!(!texts(&svg).iter().any(|t| t.text.ends_with('…')));
    let too_narrow = analysis.forest_plot().width(300.0).dimensions().unwrap().0;
    assert!(too_narrow > 300 && too_narrow < natural);
}

#[test]
fn unicode_labels_render() {
    let labels: Vec<String> = ["Dall'Oca 2003", "Müller 2010", "Øvrebø 2015"]
        .map(String::from)
        .to_vec();
    let analysis = binary_studies(&labels);
    let svg = analysis.forest_plot().to_svg().unwrap();
    assert!(labels.iter().all(|l| has_text(&svg, l)));
    assert!(svg.contains("Dall&apos;Oca"), "escaped in XML");
    assert!(analysis.forest_plot().to_png().is_ok());
}

#[test]
fn every_design_has_its_data_columns() {
    let cases = [
        (
            "datasets/normand1999.csv",
            Measure::Md,
            &["Mean", "SD", "Total"][..],
        ),
        (
            "datasets/morris2008.csv",
            Measure::Mc,
            &["N", "Pre mean", "Post mean"][..],
        ),
        ("datasets/bcg.csv", Measure::Or, &["Events", "Total"][..]),
        (
            "datasets/bangertdrowns2004.csv",
            Measure::Gen,
            &["Estimate", "SE"][..],
        ),
    ];
    for (file, measure, headings) in cases {
        let analysis = Analysis::from_csv(repo_path(file), &AnalysisOptions::new(measure)).unwrap();
        let svg = analysis.forest_plot().to_svg().unwrap();
        for heading in headings {
            assert!(has_text(&svg, heading), "{file}: {heading}");
        }
    }
}

#[test]
fn funnel_axis_is_inverted() {
    let analysis = bcg(AnalysisOptions::new(Measure::Or));
    let svg = analysis.funnel_plot().to_svg().unwrap();
    let circles: Vec<(f64, f64)> = tags(&svg, "circle")
        .iter()
        .filter(|t| attribute(t, "fill").as_deref() == Some(SQUARE))
        .map(|t| (number(t, "cx"), number(t, "cy")))
        .collect();
    assert_eq!(circles.len(), analysis.studies.len());
    let se: Vec<f64> = analysis.studies.iter().map(|s| s.vi.sqrt()).collect();
    let most_precise = (0..se.len())
        .min_by(|&a, &b| se[a].total_cmp(&se[b]))
        .unwrap();
    let least_precise = (0..se.len())
        .max_by(|&a, &b| se[a].total_cmp(&se[b]))
        .unwrap();
    assert!(
        circles[most_precise].1 < circles[least_precise].1,
        "small SE on top"
    );
    assert_eq!(tags(&svg, "polygon").len(), 0, "no contours unless asked");
    let shaded = analysis.funnel_plot().contours(true).to_svg().unwrap();
    assert!(tags(&shaded, "polygon").len() >= 4);
}

#[test]
fn bad_settings_are_errors_not_panics() {
    let analysis = bcg(AnalysisOptions::new(Measure::Rr));
    let dir = scratch("bad");
    assert!(analysis.forest_plot().save(dir.join("plot.pdf")).is_err());
    assert!(
        analysis
            .forest_plot()
            .save(dir.join("no-extension"))
            .is_err()
    );
    assert!(
        analysis
            .forest_plot()
            .save(dir.join("missing/dir/plot.svg"))
            .is_err()
    );
    assert!(analysis.forest_plot().font_size(0.0).to_svg().is_err());
    assert!(analysis.forest_plot().x_limits(2.0, 1.0).to_svg().is_err());
    assert!(analysis.funnel_plot().size(-1.0, 10.0).to_png().is_err());
    assert!(
        analysis.forest_plot().width(50.0).to_png().is_ok(),
        "too narrow still draws"
    );
}

/// A scratch folder, removed with what it holds when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("cochran-plot-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

#[test]
fn cli_writes_both_plots_in_both_formats_for_every_design() {
    let dir = scratch("cli");
    let cases = [
        ("datasets/normand1999.csv", "MD"),
        ("datasets/normand1999.csv", "SMD"),
        ("datasets/morris2008.csv", "SMCR"),
        ("datasets/morris2008_controlled.csv", "SMCRD"),
        ("datasets/morris2008_controlled.csv", "MCD"),
        ("datasets/bcg.csv", "RR"),
        ("datasets/bangertdrowns2004.csv", "GEN"),
    ];
    for (file, measure) in cases {
        for ext in ["png", "svg"] {
            let forest = dir.join(format!("forest-{measure}.{ext}"));
            let funnel = dir.join(format!("funnel-{measure}.{ext}"));
            let status = common::command()
                .args(["analyze", file, "--measure", measure, "--contours"])
                .arg("--forest")
                .arg(&forest)
                .arg("--funnel")
                .arg(&funnel)
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "{file} {ext}: {}",
                String::from_utf8_lossy(&status.stderr)
            );
            for path in [&forest, &funnel] {
                let bytes = std::fs::read(path).unwrap();
                match ext {
                    "png" => assert!(bytes.starts_with(b"\x89PNG")),
                    _ => assert!(bytes.starts_with(b"<svg")),
                }
            }
        }
    }
    let bad = common::command()
        .args([
            "analyze",
            "datasets/bcg.csv",
            "-m",
            "RR",
            "--forest",
            "plot.jpg",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains(".svg"));
}

#[test]
fn clustered_effects_are_grouped_under_their_cluster_with_the_three_level_diamond() {
    let options = AnalysisOptions::new(cochran::Measure::Gen)
        .cluster("district")
        .robust(true);
    let analysis = Analysis::from_csv(
        repo_path("tests/reference/data/konstantopoulos2011.csv"),
        &options,
    )
    .unwrap();
    let svg = analysis.forest_plot().to_svg().unwrap();
    let m = analysis.model.three_level().unwrap();
    // One heading per district, its schools beneath it, in the file's order.
    let labels: Vec<String> = texts(&svg).into_iter().map(|t| t.text).collect();
    let heading = labels.iter().position(|t| t == "district 11").unwrap();
    assert_eq!(labels[heading + 1].trim(), "District 11 school 1");
    for c in 0..m.clusters.count() {
        assert!(has_text(&svg, &format!("district {}", m.clusters.label(c))));
    }
    // Two diamonds: the three-level model's, with its interval on the right,
    // and the cluster-robust interval asked for.
    assert_eq!(diamonds(&svg), 2);
    assert!(has_text(&svg, "Three-level model (REML) (95% CI)"));
    assert!(has_text(
        &svg,
        &format!(
            "{} [{}, {}]",
            fmt2(m.fit.estimate),
            fmt2(m.fit.ci_lower),
            fmt2(m.fit.ci_upper)
        )
    ));
    assert!(svg.contains("Cluster-robust (CR2)"));
    assert!(svg.contains("56 effects in 11 clusters of `district`"));
    assert_eq!(squares(&svg).len(), 56);
}

/// The pooled ratio and its interval as the plot prints them.
fn ratio_interval(analysis: &Analysis, decimals: usize) -> String {
    let fit = analysis.fit().unwrap();
    let ratio = |x: f64| format!("{:.*}", decimals, x.exp());
    format!(
        "{} [{}, {}]",
        ratio(fit.estimate),
        ratio(fit.ci_lower),
        ratio(fit.ci_upper)
    )
}

/// Runs the command line and returns its standard error; it must succeed.
fn cli(args: &[&str]) -> String {
    let out = common::command().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

/// The labels of the study rows, top to bottom.
fn row_labels(svg: &str, studies: &[&str]) -> Vec<String> {
    let mut found: Vec<(f64, String)> = texts(svg)
        .into_iter()
        .filter(|t| studies.iter().any(|s| t.text.starts_with(s)))
        .map(|t| (t.y, t.text))
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found.into_iter().map(|(_, t)| t).collect()
}

#[test]
fn forest_settings_from_the_command_line() {
    let dir = scratch("settings");
    let path = dir.join("bcg.svg");
    let path = path.to_str().unwrap();
    let stderr = cli(&[
        "analyze",
        "datasets/bcg.csv",
        "--measure",
        "RR",
        "--forest",
        path,
        "--labels",
        "control=Unvaccinated,treatment=BCG",
        "--favours",
        "Favours BCG,Favours control",
        "--xlim",
        "0.05,5",
        "--decimals",
        "3",
        "--sort",
        "estimate",
    ]);
    assert!(stderr.contains(&format!("wrote {path}")), "{stderr}");
    let svg = std::fs::read_to_string(path).unwrap();
    for text in ["BCG", "Unvaccinated", "Favours BCG", "Favours control"] {
        assert!(has_text(&svg, text), "{text}");
    }
    let analysis = bcg(AnalysisOptions::new(Measure::Rr));
    let pooled = ratio_interval(&analysis, 3);
    assert!(has_text(&svg, &pooled), "{pooled}");
    assert!(
        tick_labels(&svg).iter().any(|(v, _)| *v == 0.05),
        "the axis starts at 0.05"
    );
    // Sorted by estimate: the labels run in the order of the risk ratios.
    let names: Vec<&str> = analysis.studies.iter().map(|s| s.study).collect();
    let mut by_estimate: Vec<_> = analysis
        .studies
        .iter()
        .map(|s| (s.yi, s.study.to_string()))
        .collect();
    by_estimate.sort_by(|a, b| a.0.total_cmp(&b.0));
    let expected: Vec<String> = by_estimate.into_iter().map(|(_, s)| s).collect();
    assert_eq!(row_labels(&svg, &names), expected);
    // By a column of the file: the year.
    cli(&[
        "analyze",
        "datasets/bcg.csv",
        "--measure",
        "RR",
        "--forest",
        path,
        "--sort",
        "year",
    ]);
    let svg = std::fs::read_to_string(path).unwrap();
    let spec = cochran::data::TableSpec::numeric(&[]).with_text(&["year"]);
    let years = cochran::data::Table::read(repo_path("datasets/bcg.csv"), &spec).unwrap();
    let order = analysis.order_by(&years, "year").unwrap();
    let expected: Vec<String> = order.iter().map(|&i| names[i].to_string()).collect();
    assert_eq!(row_labels(&svg, &names), expected);
    // Bad settings are errors that say what is expected.
    for (flag, value, says) in [
        ("--labels", "MSC", "--labels takes"),
        ("--favours", "Only one", "--favours takes"),
        ("--xlim", "1", "--xlim takes two numbers"),
        ("--sort", "colour", "`colour`"),
    ] {
        let bcg = "datasets/bcg.csv";
        common::rejects(
            &["analyze", bcg, "-m", "RR", "--forest", path, flag, value],
            &[says],
        );
    }
}

#[test]
fn both_diamonds_are_drawn_on_request() {
    // The plot draws the other model; the analysis fits it.
    let refused = bcg(AnalysisOptions::new(Measure::Rr))
        .forest_plot()
        .both(true)
        .to_svg();
    assert!(refused.unwrap_err().to_string().contains("companion"));
    let analysis = bcg(AnalysisOptions::new(Measure::Rr)
        .group_by("alloc")
        .companion(true));
    let common_effect = bcg(AnalysisOptions::new(Measure::Rr)
        .group_by("alloc")
        .method(Method::Common));
    let svg = analysis.forest_plot().both(true).to_svg().unwrap();
    // Three subgroups and the overall result, each with both models.
    assert_eq!(
        diamonds(&svg),
        2 * diamonds(&analysis.forest_plot().to_svg().unwrap())
    );
    let pooled = ratio_interval(&common_effect, 2);
    assert!(has_text(&svg, &pooled), "{pooled}");
    assert!(has_text(&svg, "Common-effect model (95% CI)"));
    assert!(has_text(&svg, "Subtotal, common effect (95% CI)"));
    assert!(has_text(&svg, "Subtotal, random effects (95% CI)"));
    // Not for the three-level model, whose plot has one diamond.
    let data = "tests/reference/data/konstantopoulos2011.csv";
    let cluster = ["--cluster", "district", "--forest", "x.svg", "--both"];
    common::rejects(
        &[&["analyze", data, "-m", "GEN"][..], &cluster].concat(),
        &["--both"],
    );
}

#[test]
fn excluded_studies_are_not_estimable_rows_and_imputed_values_have_footnotes() {
    // Excluded for a missing value: a "Not estimable" row, in its place.
    let dir = scratch("footnotes");
    let csv = dir.join("one_missing.csv");
    std::fs::write(&csv, "study,yi,vi\nA,0.1,0.01\nB,0.3,\nC,0.2,0.02\n").unwrap();
    let analysis = Analysis::from_csv(&csv, &AnalysisOptions::new(Measure::Gen)).unwrap();
    let svg = analysis.forest_plot().to_svg().unwrap();
    assert_eq!(row_labels(&svg, &["A", "B ", "C"]), ["A", "B ᵃ", "C"]);
    assert!(has_text(&svg, "Not estimable"));
    assert!(has_text(&svg, "ᵃ not estimable: no value for vi"));
    // Clustered by study, an excluded row names its instrument: the study has others.
    let options = AnalysisOptions::new(Measure::Smcr)
        .outcome("HHS,mHHS,WOMAC")
        .r(0.5)
        .impute_sd(cochran::SdImputation::Max)
        .improvement_positive(true)
        .cluster("study");
    let hip = Analysis::from_csv(repo_path("datasets/hip_oa_msc.csv"), &options).unwrap();
    let svg = hip.forest_plot().to_svg().unwrap();
    for x in &hip.excluded {
        let label = format!("{} ({})", x.study, x.outcome.as_deref().unwrap());
        assert!(
            texts(&svg).iter().any(|t| t.text.starts_with(&label)),
            "{label}"
        );
    }
    assert!(!hip.excluded.is_empty());
    // Borrowed SDs: a mark on the study, the source under the plot.
    let options = AnalysisOptions::new(Measure::Mc)
        .outcome("HHS")
        .r(0.5)
        .impute_sd(cochran::SdImputation::Max);
    let hip = Analysis::from_csv(repo_path("datasets/hip_oa_msc.csv"), &options).unwrap();
    let svg = hip.forest_plot().to_svg().unwrap();
    // Named after its instrument and the follow-up its studies share.
    assert_eq!(hip.follow_up, Some(6.0));
    assert!(has_text(&svg, "Harris Hip Score (HHS), 6 months"));
    let borrowed: Vec<cochran::analysis::StudyResult> = hip
        .studies
        .iter()
        .filter(|s| !s.imputed.is_empty())
        .collect();
    assert!(!borrowed.is_empty());
    for study in borrowed {
        let label = texts(&svg)
            .into_iter()
            .find(|t| t.text.starts_with(study.study))
            .unwrap();
        assert!(
            label.text.len() > study.study.len(),
            "{} has its marks",
            study.study
        );
        for imputed in study.imputed {
            let note = format!("{} {}", imputed.column, imputed.method);
            assert!(
                texts(&svg).iter().any(|t| t.text.ends_with(&note)),
                "{note}"
            );
        }
    }
}

/// The Bayesian model's plots: the shrinkage plot places each study's
/// shrunken mean between its own estimate and μ, labels every study and the
/// predictive interval; the posterior plot names the prior for τ; both are
/// refused for an analysis without the Bayesian model.
#[test]
fn bayesian_plots_show_shrinkage_and_the_prior() {
    let plain = AnalysisOptions::new(Measure::Rr);
    let options = plain.clone().bayes(cochran::BayesOptions::new());
    let analysis = Analysis::from_csv(repo_path("datasets/bcg.csv"), &options).unwrap();
    let svg = analysis.shrinkage_plot().to_svg().unwrap();
    for study in &analysis.studies {
        assert!(has_text(&svg, study.study), "{}", study.study);
    }
    assert!(has_text(&svg, "New study (predictive)"));
    let bayes = analysis.bayesian.as_ref().unwrap();
    let mu = bayes.posterior.mu.median;
    for (study, shrunk) in analysis.studies.iter().zip(&bayes.posterior.studies) {
        let (low, high) = if study.yi < mu {
            (study.yi, mu)
        } else {
            (mu, study.yi)
        };
        assert!(low <= shrunk.mean && shrunk.mean <= high, "{}", study.study);
    }
    let svg = analysis.posterior_plot().to_svg().unwrap();
    assert!(has_text(&svg, "prior half-normal(0.5)"));
    let png = analysis.posterior_plot().to_png().unwrap();
    let (info, _) = decode(&png);
    assert_eq!((info.width, info.height), (900, 420));
    let without = Analysis::from_csv(repo_path("datasets/bcg.csv"), &plain).unwrap();
    let error = without.posterior_plot().to_svg().unwrap_err().to_string();
    assert!(error.contains("no Bayesian model"), "{error}");
}

/// --posterior-plot and --shrinkage-plot write one file per instrument with
/// --by outcome, and imply --bayes.
#[test]
fn bayesian_plots_from_the_command_line() {
    let posterior = common::output_path("posterior.png");
    let shrinkage = common::output_path("shrinkage.svg");
    let out = common::cochran(&[
        "analyze",
        "datasets/hip_oa_msc.csv",
        "--measure",
        "MC",
        "--by",
        "outcome",
        "--r",
        "0.5",
        "--impute-sd",
        "max",
        "--posterior-plot",
        &posterior,
        "--shrinkage-plot",
        &shrinkage,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Bayesian random-effects model"));
    for outcome in ["HHS", "WOMAC"] {
        let png = with_outcome(std::path::Path::new(&*posterior), outcome);
        let svg = with_outcome(std::path::Path::new(&*shrinkage), outcome);
        assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
        assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
        let _ = std::fs::remove_file(png);
        let _ = std::fs::remove_file(svg);
    }
}

fn with_outcome(path: &std::path::Path, outcome: &str) -> PathBuf {
    let stem = path.file_stem().unwrap().to_string_lossy();
    let extension = path.extension().unwrap().to_string_lossy();
    path.with_file_name(format!("{stem}_{outcome}.{extension}"))
}

fn has_text_starting(svg: &str, wanted: &str) -> bool {
    texts(svg).iter().any(|t| t.text.contains(wanted))
}

fn forest_of(csv: &str, options: &AnalysisOptions) -> (Analysis, String) {
    let file = common::csv_file("forest.csv", csv);
    let table = cochran::data::Table::read(&*file, &options.table_spec()).unwrap();
    let analysis = Analysis::from_table(&table, options).unwrap();
    let svg = analysis.forest_plot().to_svg().unwrap();
    (analysis, svg)
}

/// One study pools nothing: no diamond, a row that says so, and an axis that
/// holds the study's whole interval.
#[test]
fn a_single_study_is_drawn_without_a_diamond() {
    let (analysis, svg) = forest_of(
        "study,yi,vi\nA,0.3,0.04\n",
        &AnalysisOptions::new(Measure::Gen),
    );
    assert_eq!(diamonds(&svg), 0);
    assert!(has_text(
        &svg,
        "Pooled result: none (a single study is shown as it is, not pooled)"
    ));
    assert!(has_text_starting(&svg, "Only 1 study: nothing is pooled"));
    let study = analysis.studies.get(0);
    let labels: Vec<f64> = texts(&svg)
        .iter()
        .filter_map(|t| t.text.parse::<f64>().ok())
        .collect();
    let top = labels.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(
        top >= study.ci_upper,
        "axis up to {top}, interval to {}",
        study.ci_upper
    );
}

/// What a study's row rests on without being reported is footnoted: the
/// assumed pre/post r, a borrowed SD, the instrument's assumed range.
#[test]
fn assumed_correlation_and_range_are_footnoted() {
    let options = AnalysisOptions::new(Measure::Mc).r(0.5);
    let csv = "study,outcome,time,n,mean_pre,sd_pre,mean_post,sd_post\n\
               A,WOMAC,6,20,50,12,35,12\nB,WOMAC,6,30,48,11,30,10\n";
    let (analysis, svg) = forest_of(csv, &options);
    assert!(
        has_text_starting(&svg, "pre/post correlation r = 0.5 assumed"),
        "{svg}"
    );
    assert!(has_text_starting(&svg, "WOMAC range 0-96 assumed"), "{svg}");
    assert!(
        analysis
            .notes
            .iter()
            .any(|n| n.starts_with("WOMAC range 0-96 assumed (WOMAC total (Likert 3.x)"))
    );
    // A study that gives its range has nothing assumed.
    let csv = "study,outcome,time,n,mean_pre,sd_pre,mean_post,sd_post,scale_max\n\
               A,WOMAC,6,20,50,12,35,12,96\nB,WOMAC,6,30,48,11,30,10,96\n";
    let (_, svg) = forest_of(csv, &options);
    assert!(!has_text_starting(&svg, "range 0-96 assumed"));
}

/// With cluster-robust inference the robust interval is a second, labelled
/// diamond under the model's.
#[test]
fn the_robust_interval_is_drawn_as_its_own_diamond() {
    let csv = "study,district,yi,vi\nA1,a,0.2,0.02\nA2,a,0.3,0.03\nB1,b,0.5,0.02\nB2,b,0.1,0.04\n\
               C1,c,0.7,0.03\nC2,c,0.6,0.02\nD1,d,0.1,0.02\nD2,d,0.0,0.03\n";
    let plain = AnalysisOptions::new(Measure::Gen).cluster("district");
    let (_, svg) = forest_of(csv, &plain);
    assert_eq!(diamonds(&svg), 1);
    let (analysis, svg) = forest_of(csv, &plain.clone().robust(true));
    assert_eq!(diamonds(&svg), 2);
    assert!(has_text(&svg, "Cluster-robust CR2 (95% CI)"));
    let cochran::analysis::PooledModel::ThreeLevel(m) = &analysis.model else {
        panic!("three-level")
    };
    let robust = &m.robust.as_ref().unwrap()[0];
    let shown = format!(
        "{:.2} [{:.2}, {:.2}]",
        robust.estimate, robust.ci_lower, robust.ci_upper
    );
    assert!(has_text(&svg, &shown), "{shown}");
}
