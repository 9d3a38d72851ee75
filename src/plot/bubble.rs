//! The bubble plot of a meta-regression on one continuous moderator: each
//! study's effect against the moderator, its area proportional to its weight,
//! with the fitted line, its confidence band and, on request, the prediction band.

use super::axis::Axis;
use super::chart::{Canvas, chart_settings};
use super::frame::Frame;
use super::measure_title;
use super::scene::{BLACK, Rgb, Scene};
use crate::analysis::Analysis;
use crate::error::{ErrorKind, Result};
use crate::model::{Design, Regression};

const POINT: Rgb = (47, 85, 151);
const CONFIDENCE_BAND: Rgb = (196, 212, 236);
const PREDICTION_BAND: Rgb = (230, 236, 246);
/// Points on the fitted line and its bands.
const CURVE_POINTS: usize = 120;

/// A bubble plot of an [`Analysis`] with one continuous moderator.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let options = AnalysisOptions::new(Measure::Rr).moderators(&["ablat"]);
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
/// let svg = analysis.bubble_plot().prediction_band(true).to_svg()?;
/// assert!(svg.contains("ablat"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BubblePlot<'a> {
    analysis: &'a Analysis,
    canvas: Canvas,
    prediction_band: bool,
}

/// The fitted line at one moderator value: prediction, CI and PI limits.
struct Point {
    x: f64,
    fitted: f64,
    ci: (f64, f64),
    pi: (f64, f64),
}

impl<'a> BubblePlot<'a> {
    /// A 640 × 520 bubble plot with the confidence band.
    pub fn new(analysis: &'a Analysis) -> Self {
        BubblePlot {
            analysis,
            canvas: Canvas::new(640.0, 520.0),
            prediction_band: false,
        }
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/bcg.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Rr).moderators(&[\"ablat\"]))?;",
        "analysis.bubble_plot()"
    );

    /// Also shades the 95% prediction band (where a new study's true effect
    /// would lie), wider than the confidence band by τ².
    ///
    /// ```
    /// # let options = cochran::AnalysisOptions::new(cochran::Measure::Rr).moderators(&["ablat"]);
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let with = analysis.bubble_plot().prediction_band(true).to_svg()?;
    /// assert!(with.len() > analysis.bubble_plot().to_svg()?.len());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn prediction_band(mut self, on: bool) -> Self {
        self.prediction_band = on;
        self
    }

    /// The meta-regression and its one continuous moderator's column.
    fn model(&self) -> Result<(&'a Regression, &'a Design)> {
        let fit = self
            .analysis
            .fit_for(crate::model::Capability::BubblePlot)?;
        let refuse = |what: String| {
            ErrorKind::InvalidSetting(format!(
                "a bubble plot needs a meta-regression on exactly one continuous moderator \
                 with an intercept; {what}"
            ))
        };
        let (Some(regression), Some(design)) = (&fit.regression, fit.design()) else {
            return Err(refuse("this analysis has no moderators".into()).into());
        };
        let one_numeric =
            design.has_intercept() && design.p() == 2 && design.names()[1] == design.sources()[1];
        if !one_numeric {
            return Err(refuse(format!("this model has {}", design.names().join(", "))).into());
        }
        Ok((regression, design))
    }

    fn scene(&self) -> Result<Scene> {
        let (regression, design) = self.model()?;
        let (mut scene, font) = self.canvas.start()?;
        let studies = &self.analysis.studies;
        let xs: Vec<f64> = (0..design.k()).map(|i| design.x(i, 1)).collect();
        let (x_lo, x_hi) = xs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        let curve = self.curve(regression, x_lo, x_hi);
        let frame = self.frame(font, &curve, (x_lo, x_hi));
        if self.prediction_band {
            band(&mut scene, &frame, &curve, |p| p.pi, PREDICTION_BAND);
        }
        band(&mut scene, &frame, &curve, |p| p.ci, CONFIDENCE_BAND);
        let line = curve
            .iter()
            .map(|p| (frame.x.px(p.x), frame.y.px(p.fitted)))
            .collect();
        scene.line(line, BLACK, 1.5);
        let weights: Vec<f64> = studies.iter().map(|s| s.weight).collect();
        let heaviest = weights.iter().copied().fold(0.0, f64::max);
        // Largest weight first, so that small studies stay visible on top.
        let mut order: Vec<usize> = (0..studies.len()).collect();
        order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]));
        for i in order {
            let radius = 3.0 + 11.0 * (weights[i] / heaviest).sqrt();
            let center = (
                frame.x.px(xs[i]),
                frame.y.px(frame.y.clamp(studies.get(i).yi)),
            );
            scene.circle(center, radius + 1.2, (255, 255, 255));
            scene.circle(center, radius, POINT);
        }
        let measure = measure_title(self.analysis.measure);
        let y_title = if self.analysis.measure.is_ratio() {
            format!("{measure} (log scale)")
        } else {
            measure.to_string()
        };
        frame.draw_axes(&mut scene, font, &design.names()[1], &y_title);
        Ok(scene)
    }

    /// The fitted line with its bands at evenly spaced moderator values.
    fn curve(&self, r: &Regression, lo: f64, hi: f64) -> Vec<Point> {
        let (b0, b1) = (r.coefficients[0].estimate, r.coefficients[1].estimate);
        let v = &r.covariance;
        let tau2 = self.analysis.fit().map_or(0.0, |f| f.tau2);
        (0..=CURVE_POINTS)
            .map(|n| {
                let x = lo + (hi - lo) * n as f64 / CURVE_POINTS as f64;
                let fitted = b0 + b1 * x;
                let variance = v[0] + 2.0 * x * v[1] + x * x * v[3];
                let ci = r.critical * variance.sqrt();
                let pi = r.critical * (variance + tau2).sqrt();
                Point {
                    x,
                    fitted,
                    ci: (fitted - ci, fitted + ci),
                    pi: (fitted - pi, fitted + pi),
                }
            })
            .collect()
    }

    fn frame(&self, font: f64, curve: &[Point], x: (f64, f64)) -> Frame {
        let mut lo = f64::INFINITY;
        let mut hi = f64::NEG_INFINITY;
        for s in &self.analysis.studies {
            (lo, hi) = (lo.min(s.yi), hi.max(s.yi));
        }
        for p in curve {
            let (l, h) = if self.prediction_band { p.pi } else { p.ci };
            (lo, hi) = (lo.min(l), hi.max(h));
        }
        let margin = 0.04 * (x.1 - x.0).max(f64::MIN_POSITIVE);
        let x_axis = Axis::covering(x.0 - margin, x.1 + margin, false);
        let y_axis = Axis::covering(lo, hi, self.analysis.measure.is_ratio());
        self.canvas.frame(font, x_axis, y_axis, false, font * 1.5)
    }
}

/// The area between a band's lower and upper limits along the curve.
fn band(
    scene: &mut Scene,
    frame: &Frame,
    curve: &[Point],
    limits: impl Fn(&Point) -> (f64, f64),
    color: Rgb,
) {
    let upper = curve
        .iter()
        .map(|p| (frame.x.px(p.x), frame.y.px(limits(p).1)));
    let lower = curve
        .iter()
        .rev()
        .map(|p| (frame.x.px(p.x), frame.y.px(limits(p).0)));
    scene.polygon(upper.chain(lower).collect(), color);
}
