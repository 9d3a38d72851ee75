//! Charts of how single studies shape the result: the Baujat plot and the
//! panels of influence diagnostics (as metafor's `baujat()` and `plot()` of
//! `influence()`).

use statrs::distribution::ContinuousCDF;

use super::axis::Axis;
use super::chart::{Canvas, chart_settings};
use super::fonts;
use super::frame::Frame;
use super::scene::{Align, GREY, Rgb, Scene, Text};
use crate::analysis::Analysis;
use crate::error::Result;
use crate::model::{Capability, Method, ModelKind};
use crate::sensitivity::{Baujat, Influence, InfluenceRow};

const POINT: Rgb = (47, 85, 151);
const INFLUENTIAL: Rgb = (192, 40, 40);
/// Points named in the Baujat plot; the others carry their number.
const NAMED_POINTS: usize = 3;

/// A Baujat plot: each study's contribution to the heterogeneity against its
/// influence on the pooled result.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// let baujat = analysis.baujat()?;
/// let svg = analysis.baujat_plot(&baujat).to_svg()?;
/// assert!(svg.contains("Influence on the overall result") && svg.contains("TPT Madras 1980"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BaujatPlot<'a> {
    analysis: &'a Analysis,
    baujat: &'a Baujat,
    canvas: Canvas,
}

impl<'a> BaujatPlot<'a> {
    /// A 640 × 520 Baujat plot.
    pub fn new(analysis: &'a Analysis, baujat: &'a Baujat) -> Self {
        BaujatPlot {
            analysis,
            baujat,
            canvas: Canvas::new(640.0, 520.0),
        }
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/bcg.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;\n# let baujat = analysis.baujat()?;",
        "analysis.baujat_plot(&baujat)"
    );

    fn scene(&self) -> Result<Scene> {
        let fit = self.analysis.fit_for(Capability::BaujatPlot)?;
        let (mut scene, font) = self.canvas.start()?;
        let points = &self.baujat.studies;
        let most = |f: fn(&crate::sensitivity::BaujatPoint) -> f64| {
            points.iter().map(f).fold(0.0, f64::max)
        };
        let (x_max, y_max) = (most(|p| p.heterogeneity), most(|p| p.influence));
        let x = Axis::covering(0.0, x_max * 1.08, false);
        let y = Axis::covering(0.0, y_max * 1.08, false);
        let frame = self.canvas.frame(font, x, y, false, font * 1.5);
        // The studies furthest out, relative to the axes, are named.
        let mut by_reach: Vec<usize> = (0..points.len()).collect();
        let reach = |p: &crate::sensitivity::BaujatPoint| {
            (p.heterogeneity / x_max.max(f64::MIN_POSITIVE))
                .max(p.influence / y_max.max(f64::MIN_POSITIVE))
        };
        by_reach.sort_by(|&a, &b| reach(&points[b]).total_cmp(&reach(&points[a])));
        let named = &by_reach[..NAMED_POINTS.min(points.len())];
        for (i, p) in points.iter().enumerate() {
            let at = (frame.x.px(p.heterogeneity), frame.y.px(p.influence));
            scene.circle(at, 4.0, POINT);
            let label = if named.contains(&i) {
                fonts::truncate(&p.study, font * 14.0, font * 0.85, false)
            } else {
                (i + 1).to_string()
            };
            // Labels left of points near the right edge, so they stay inside.
            let (dx, align) = if at.0 > frame.right - font * 10.0 {
                (-7.0, Align::Right)
            } else {
                (7.0, Align::Left)
            };
            scene.text(Text::new(at.0 + dx, at.1 - 6.0, label, font * 0.85).align(align));
        }
        let x_title = match fit.method {
            Method::Random(_) => "Squared Pearson residual",
            _ => "Contribution to the overall heterogeneity (Q)",
        };
        frame.draw_axes(&mut scene, font, x_title, "Influence on the overall result");
        Ok(scene)
    }
}

/// Panels of the influence diagnostics against the study number, influential
/// studies in red, with metafor's reference lines.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// let influence = analysis.influence()?;
/// let svg = analysis.influence_plot(&influence).to_svg()?;
/// assert!(svg.contains("Covariance ratio") && svg.contains("DFFITS"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct InfluencePlot<'a> {
    influence: &'a Influence,
    model: ModelKind,
    canvas: Canvas,
}

/// One panel: its title, the statistic and its reference lines.
struct Panel {
    title: &'static str,
    value: fn(&InfluenceRow) -> f64,
    references: Vec<f64>,
}

impl<'a> InfluencePlot<'a> {
    /// An 800 × 960 grid of eight panels.
    pub fn new(influence: &'a Influence) -> Self {
        InfluencePlot {
            influence,
            model: ModelKind::Univariate,
            canvas: Canvas::new(800.0, 960.0),
        }
    }

    /// The diagnostics are of an analysis with this kind of model.
    pub(crate) fn of_model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/bcg.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;\n# let influence = analysis.influence()?;",
        "analysis.influence_plot(&influence)"
    );

    fn panels(&self) -> [Panel; 8] {
        let k = self.influence.studies.len() as f64;
        let median_chi2 = crate::stats::chi_squared(1.0).inverse_cdf(0.5);
        let dffits = 3.0 * (1.0 / (k - 1.0)).sqrt();
        let panel = |title, value, references| Panel {
            title,
            value,
            references,
        };
        [
            panel("Studentised residual", |r| r.rstudent, vec![-1.96, 1.96]),
            panel("DFFITS", |r| r.dffits, vec![-dffits, dffits]),
            panel("Cook's distance", |r| r.cooks_distance, vec![median_chi2]),
            panel("Covariance ratio", |r| r.cov_ratio, vec![1.0]),
            panel("τ² without the study", |r| r.tau2_deleted, vec![]),
            panel("Q without the study", |r| r.q_deleted, vec![]),
            panel("Hat value", |r| r.hat, vec![3.0 / k]),
            panel("Weight (%)", |r| r.weight, vec![100.0 / k]),
        ]
    }

    fn scene(&self) -> Result<Scene> {
        self.model.check(Capability::InfluencePlot)?;
        let (mut scene, font) = self.canvas.start()?;
        let small = font * 0.85;
        let (width, height) = self.canvas.size;
        let top = self.canvas.top(font);
        let (columns, rows) = (2.0, 4.0);
        let cell = ((width - font) / columns, (height - top - font * 2.0) / rows);
        let studies = &self.influence.studies;
        let k = studies.len();
        for (n, panel) in self.panels().iter().enumerate() {
            let (column, row) = ((n % 2) as f64, (n / 2) as f64);
            let (x0, y0) = (font * 0.5 + column * cell.0, top + row * cell.1);
            let values: Vec<f64> = studies.iter().map(panel.value).collect();
            let (lo, hi) = values
                .iter()
                .chain(&panel.references)
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                });
            let (left, right) = (x0 + font * 4.5, x0 + cell.0 - font);
            let (panel_top, bottom) = (y0 + font * 1.8, y0 + cell.1 - font * 3.8);
            let frame = Frame {
                x: Axis::covering(0.5, k as f64 + 0.5, false).placed(left, right),
                y: Axis::covering(lo, hi, false).placed(bottom, panel_top),
                left,
                right,
                top: panel_top,
                bottom,
            };
            scene.text(
                Text::new((left + right) / 2.0, y0 + font * 0.8, panel.title, font)
                    .bold(true)
                    .align(Align::Center),
            );
            for &reference in &panel.references {
                let y = frame.y.px(reference);
                scene.dashed(vec![(left, y), (right, y)], GREY, 1.0);
            }
            let line: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite())
                .map(|(i, &v)| (frame.x.px(i as f64 + 1.0), frame.y.px(v)))
                .collect();
            scene.line(line, GREY, 1.0);
            for (i, (&v, study)) in values.iter().zip(studies).enumerate() {
                if v.is_finite() {
                    let color = if study.influential {
                        INFLUENTIAL
                    } else {
                        POINT
                    };
                    scene.circle((frame.x.px(i as f64 + 1.0), frame.y.px(v)), 3.5, color);
                }
            }
            frame.draw_axes(&mut scene, small, "Study", "");
        }
        let note = "Red: influential by metafor's rule";
        scene.text(Text::new(width - font, height - font * 0.6, note, small).align(Align::Right));
        Ok(scene)
    }
}
