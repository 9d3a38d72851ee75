//! The plots of the Bayesian random-effects model: the posterior densities
//! of μ (with a new study's predictive density) and τ (with its prior), and a
//! forest plot of the studies' shrunken estimates beside their own.

use super::axis::Axis;
use super::chart::{Canvas, chart_settings};
use super::frame::Frame;
use super::measure_title;
use super::scene::{Align, BLACK, GREY, Rgb, Scene, Text};
use crate::analysis::{Analysis, BayesianSummary};
use crate::error::{ErrorKind, Result};
use crate::model::Posterior;

const POSTERIOR: Rgb = (47, 85, 151);
const PREDICTIVE: Rgb = (196, 98, 16);
const OBSERVED: Rgb = (150, 150, 150);
/// Points along each density curve.
const CURVE_POINTS: usize = 240;

fn bayesian(analysis: &Analysis) -> Result<&BayesianSummary> {
    analysis.bayesian.as_ref().ok_or_else(|| {
        ErrorKind::InvalidSetting(
            "the analysis has no Bayesian model: ask for it with `bayes` first".into(),
        )
        .into()
    })
}

/// The posterior densities of μ and τ, side by side: μ with the predictive
/// density of a new study's effect, τ with its prior.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, BayesOptions, Measure};
/// let options = AnalysisOptions::new(Measure::Rr).bayes(BayesOptions::new());
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
/// let svg = analysis.posterior_plot().to_svg()?;
/// assert!(svg.contains("prior half-normal(0.5)"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PosteriorPlot<'a> {
    analysis: &'a Analysis,
    canvas: Canvas,
}

impl<'a> PosteriorPlot<'a> {
    /// A 900 × 420 plot.
    pub fn new(analysis: &'a Analysis) -> Self {
        PosteriorPlot {
            analysis,
            canvas: Canvas::new(900.0, 420.0),
        }
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/bcg.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Rr).bayes(cochran::BayesOptions::new()))?;",
        "analysis.posterior_plot()"
    );

    fn scene(&self) -> Result<Scene> {
        let bayes = bayesian(self.analysis)?;
        let p = &bayes.posterior;
        let (mut scene, font) = self.canvas.start()?;
        let whole = self.canvas.frame(
            font,
            Axis::exact(0.0, 1.0, false),
            Axis::exact(0.0, 1.0, false),
            false,
            font * 1.5,
        );
        let middle = (whole.left + whole.right) / 2.0;
        let gap = font * 3.0;
        // μ: from the predictive interval, widened by a third of its width.
        let [lo, hi] = p.predictive.central;
        let pad = (hi - lo) / 3.0;
        let ratio = self.analysis.measure.is_ratio();
        let mu = curve(lo - pad, hi + pad, |x| p.mu_density(x));
        let new = curve(lo - pad, hi + pad, |x| p.predictive_density(x));
        let frame = panel(&whole, (whole.left, middle - gap), &[&mu, &new], ratio);
        scene.line(pixels(&frame, &new), PREDICTIVE, 1.5);
        scene.line(pixels(&frame, &mu), POSTERIOR, 2.0);
        let measure = measure_title(self.analysis.measure);
        let x_title = if ratio {
            format!("{measure} (log scale)")
        } else {
            measure.to_string()
        };
        frame.draw_axes(&mut scene, font, &x_title, "posterior density");
        legend(
            &mut scene,
            &frame,
            font,
            &[
                ("μ (mean effect)", POSTERIOR),
                ("a new study's effect", PREDICTIVE),
            ],
        );
        self.tau_panel(&mut scene, &whole, (middle + gap, whole.right), font, p);
        Ok(scene)
    }

    fn tau_panel(
        &self,
        scene: &mut Scene,
        whole: &Frame,
        span: (f64, f64),
        font: f64,
        p: &Posterior,
    ) {
        let upper = p.tau.central[1] * 1.6;
        let tau = curve(0.0, upper, |t| p.tau_density(t));
        let prior = curve(0.0, upper, |t| p.tau_prior_density(t));
        let proper = p.model.tau_prior.is_proper();
        let curves: Vec<&Vec<(f64, f64)>> = if proper {
            vec![&tau, &prior]
        } else {
            vec![&tau]
        };
        let mut frame = panel(whole, span, &curves, false);
        frame.x = Axis::exact(0.0, upper, false).placed(span.0, span.1);
        if proper {
            scene.dashed(pixels(&frame, &prior), GREY, 1.5);
        }
        scene.line(pixels(&frame, &tau), POSTERIOR, 2.0);
        frame.draw_axes(scene, font, "τ (between-study SD)", "");
        let prior_label = format!("prior {}", p.model.tau_prior);
        let mut entries = vec![("posterior of τ", POSTERIOR)];
        if proper {
            entries.push((prior_label.as_str(), GREY));
        }
        legend(scene, &frame, font, &entries);
    }
}

/// `f` at evenly spaced points of [lo, hi].
fn curve(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
    (0..=CURVE_POINTS)
        .map(|i| {
            let x = lo + (hi - lo) * i as f64 / CURVE_POINTS as f64;
            (x, f(x))
        })
        .filter(|(_, y)| y.is_finite())
        .collect()
}

/// A panel of `whole`'s height over `span`, its y axis from 0 to the
/// highest density of the curves.
fn panel(whole: &Frame, span: (f64, f64), curves: &[&Vec<(f64, f64)>], log: bool) -> Frame {
    let (lo, hi) = curves
        .iter()
        .flat_map(|c| c.iter())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    let top = curves
        .iter()
        .flat_map(|c| c.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    Frame {
        x: Axis::exact(lo, hi, log).placed(span.0, span.1),
        y: Axis::covering(0.0, top * 1.08, false).placed(whole.bottom, whole.top),
        left: span.0,
        right: span.1,
        top: whole.top,
        bottom: whole.bottom,
    }
}

fn pixels(frame: &Frame, curve: &[(f64, f64)]) -> Vec<(f64, f64)> {
    curve
        .iter()
        .map(|&(x, y)| (frame.x.px(x), frame.y.px(y)))
        .collect()
}

fn legend(scene: &mut Scene, frame: &Frame, font: f64, entries: &[(&str, Rgb)]) {
    let small = font * 0.88;
    for (i, (label, color)) in entries.iter().enumerate() {
        let y = frame.top + small * (0.8 + 1.4 * i as f64);
        let x = frame.right - font * 0.5;
        scene.line(vec![(x - font * 2.0, y), (x - font * 0.4, y)], *color, 2.0);
        scene.text(Text::new(x - font * 2.6, y, *label, small).align(Align::Right));
    }
}

/// The studies' own estimates and intervals (grey) with their shrunken
/// posterior means and intervals (blue), then μ's posterior as a diamond and
/// a new study's predictive interval.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, BayesOptions, Measure};
/// let options = AnalysisOptions::new(Measure::Rr).bayes(BayesOptions::new());
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
/// let svg = analysis.shrinkage_plot().to_svg()?;
/// assert!(svg.contains("Aronson"));
/// assert!(svg.contains("New study (predictive)"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShrinkagePlot<'a> {
    analysis: &'a Analysis,
    canvas: Canvas,
}

impl<'a> ShrinkagePlot<'a> {
    /// A plot 760 pixels wide, 26 pixels per row.
    pub fn new(analysis: &'a Analysis) -> Self {
        let rows = analysis.studies.len() as f64 + 4.0;
        ShrinkagePlot {
            analysis,
            canvas: Canvas::new(760.0, 160.0 + 26.0 * rows),
        }
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/bcg.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Rr).bayes(cochran::BayesOptions::new()))?;",
        "analysis.shrinkage_plot()"
    );

    fn scene(&self) -> Result<Scene> {
        let bayes = bayesian(self.analysis)?;
        let p = &bayes.posterior;
        let (mut scene, font) = self.canvas.start()?;
        let studies = &self.analysis.studies;
        let (mut lo, mut hi) = (p.predictive.central[0], p.predictive.central[1]);
        for s in studies {
            lo = lo.min(s.ci_lower);
            hi = hi.max(s.ci_upper);
        }
        let ratio = self.analysis.measure.is_ratio();
        let label_width = font * 14.0;
        let x = Axis::covering(lo, hi, ratio);
        let rows = studies.len() as f64 + 3.0;
        let mut frame = self
            .canvas
            .frame(font, x, Axis::exact(0.0, rows, false), true, font * 1.5);
        // Room for the two lines of the footnote below the axis title.
        frame.bottom -= font * 2.4;
        frame.y = Axis::exact(0.0, rows, false).placed(frame.top, frame.bottom);
        frame.left += label_width - font * 5.5;
        frame.x = frame.x.clone().placed(frame.left, frame.right);
        let row_y = |row: f64| frame.y.px(row + 0.5);
        let tick = font * 0.3;
        for (i, (study, shrunk)) in studies.iter().zip(&p.studies).enumerate() {
            let y = row_y(i as f64);
            let label =
                super::fonts::truncate(study.study, label_width - font * 1.5, font * 0.9, false);
            scene.text(Text::new(font * 0.8, y, label, font * 0.9));
            let (a, b) = (
                frame.x.px(frame.x.clamp(study.ci_lower)),
                frame.x.px(frame.x.clamp(study.ci_upper)),
            );
            scene.line(vec![(a, y - tick), (b, y - tick)], OBSERVED, 1.5);
            scene.rect(
                (frame.x.px(frame.x.clamp(study.yi)) - 3.0, y - tick - 3.0),
                (frame.x.px(frame.x.clamp(study.yi)) + 3.0, y - tick + 3.0),
                OBSERVED,
            );
            let (a, b) = (
                frame.x.px(frame.x.clamp(shrunk.central[0])),
                frame.x.px(frame.x.clamp(shrunk.central[1])),
            );
            scene.line(vec![(a, y + tick), (b, y + tick)], POSTERIOR, 1.5);
            scene.circle(
                (frame.x.px(frame.x.clamp(shrunk.mean)), y + tick),
                3.2,
                POSTERIOR,
            );
        }
        let y = row_y(studies.len() as f64 + 0.5);
        let [a, b] = p.mu.central;
        let (a, m, b) = (frame.x.px(a), frame.x.px(p.mu.median), frame.x.px(b));
        scene.polygon(
            vec![(a, y), (m, y - font * 0.5), (b, y), (m, y + font * 0.5)],
            POSTERIOR,
        );
        scene.text(Text::new(font * 0.8, y, "Mean effect μ", font * 0.9).bold(true));
        let y = row_y(studies.len() as f64 + 1.7);
        let [a, b] = p.predictive.central;
        scene.line(
            vec![(frame.x.px(a), y), (frame.x.px(b), y)],
            PREDICTIVE,
            2.5,
        );
        scene.text(Text::new(
            font * 0.8,
            y,
            "New study (predictive)",
            font * 0.9,
        ));
        let level = p.model.level;
        let notes = [
            format!(
                "grey: each study's own estimate and {level}% CI; blue: its shrunken (posterior) mean and {level}% interval"
            ),
            format!(
                "diamond: posterior median and {level}% interval of μ; orange: a new study's {level}% predictive interval; τ ~ {}",
                p.model.tau_prior
            ),
        ];
        for (i, note) in notes.into_iter().enumerate() {
            let y = frame.bottom + font * (4.6 + 1.2 * i as f64);
            scene.text(Text::new(font * 0.8, y, note, font * 0.8).align(Align::Left));
        }
        let line_at = |v: f64| frame.x.px(v);
        if frame.x.contains(0.0) {
            let at = line_at(0.0);
            scene.line(vec![(at, frame.top), (at, frame.bottom)], BLACK, 0.8);
        }
        let measure = measure_title(self.analysis.measure);
        let x_title = if ratio {
            format!("{measure} (log scale)")
        } else {
            measure.to_string()
        };
        frame.draw_x_axis(&mut scene, font, &x_title);
        Ok(scene)
    }
}
