//! The funnel plot: effect against standard error, most precise studies at the
//! top, with the pooled estimate, pseudo confidence limits and, on request,
//! significance contours (Peters et al. 2008).

use super::axis::Axis;
use super::chart::{Canvas, chart_settings};
use super::frame::Frame;
use super::measure_title;
use super::scene::{BLACK, GREY, Rgb, Scene, Text};
use crate::analysis::Analysis;
use crate::bias::TrimAndFill;
use crate::error::Result;
use crate::model::Capability;

/// Study points.
const POINT: Rgb = (47, 85, 151);
/// Contour shades, from p < 0.10 to p < 0.01, with their z limits.
const CONTOURS: [(f64, f64, Rgb, &str); 3] = [
    (1.644_854, 1.959_964, (228, 228, 228), "0.05 ≤ p < 0.10"),
    (1.959_964, 2.575_829, (196, 196, 196), "0.01 ≤ p < 0.05"),
    (2.575_829, f64::INFINITY, (160, 160, 160), "p < 0.01"),
];
const Z95: f64 = 1.959_964;

/// A funnel plot of an [`Analysis`], built with chained settings.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Or))?;
/// let svg = analysis.funnel_plot().contours(true).to_svg()?;
/// assert!(svg.contains("Standard error"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FunnelPlot<'a> {
    analysis: &'a Analysis,
    canvas: Canvas,
    contours: bool,
    filled: Option<&'a TrimAndFill>,
}

impl<'a> FunnelPlot<'a> {
    /// A 640 × 520 funnel plot without contours.
    pub fn new(analysis: &'a Analysis) -> Self {
        FunnelPlot {
            analysis,
            canvas: Canvas::new(640.0, 520.0),
            contours: false,
            filled: None,
        }
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/bcg.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Or))?;",
        "analysis.funnel_plot()"
    );

    /// Shades the regions where a study would be significant at p < 0.10, 0.05
    /// and 0.01 (contour-enhanced funnel plot), centred on no effect.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Or))?;
    /// assert!(analysis.funnel_plot().contours(true).to_svg()?.contains("p &lt; 0.01"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn contours(mut self, contours: bool) -> Self {
        self.contours = contours;
        self
    }

    /// Adds trim-and-fill's filled studies as open circles and centres the
    /// funnel on the estimate with them filled in (as metafor's `funnel()` of
    /// a `trimfill()` result).
    ///
    /// ```
    /// use cochran::bias::BiasOptions;
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let bias = analysis.small_study_effects(&BiasOptions::new())?;
    /// let svg = analysis.funnel_plot().trim_and_fill(&bias.trim_and_fill).to_svg()?;
    /// assert!(svg.contains("Filled by trim-and-fill"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn trim_and_fill(mut self, filled: &'a TrimAndFill) -> Self {
        self.filled = Some(filled);
        self
    }

    fn scene(&self) -> Result<Scene> {
        super::single_pooled_effect(self.analysis, Capability::FunnelPlot)?;
        let (mut scene, font) = self.canvas.start()?;
        let frame = self.frame(font);
        if self.contours {
            self.shade(&mut scene, &frame);
        }
        self.funnel(&mut scene, &frame);
        self.axes(&mut scene, &frame, font);
        if self.contours {
            legend(&mut scene, &frame, font);
        }
        Ok(scene)
    }

    /// The funnel's centre: the pooled estimate, with filled studies if any.
    fn centre(&self) -> f64 {
        self.filled
            .map_or(self.analysis.pooled()[0], |f| f.estimate)
    }

    /// Every point: the studies (false) and the filled ones (true), as (yi, se).
    fn points(&self) -> impl Iterator<Item = (f64, f64, bool)> + '_ {
        let studies = self.analysis.studies.iter().map(|s| (s.yi, s.vi, false));
        let filled = self.filled.into_iter().flat_map(|f| &f.filled);
        studies
            .chain(filled.map(|f| (f.yi, f.vi, true)))
            .map(|(yi, vi, filled)| (yi, vi.sqrt(), filled))
    }

    /// Axes that hold every study and the pseudo 95% limits at the widest SE.
    fn frame(&self, font: f64) -> Frame {
        let centre = self.centre();
        let se_max = self.points().map(|p| p.1).fold(0.0, f64::max);
        let y = Axis::covering(0.0, se_max * 1.05, false);
        let bottom_se = y.hi;
        let (mut lo, mut hi) = (centre - Z95 * bottom_se, centre + Z95 * bottom_se);
        for (yi, _, _) in self.points() {
            (lo, hi) = (lo.min(yi), hi.max(yi));
        }
        if self.contours {
            (lo, hi) = (lo.min(0.0), hi.max(0.0));
        }
        let x = Axis::covering(lo, hi, self.analysis.measure.is_ratio());
        let legend = if self.contours {
            font * 11.0
        } else {
            font * 1.5
        };
        self.canvas.frame(font, x, y, true, legend)
    }

    /// The shaded significance regions, mirrored about no effect.
    fn shade(&self, scene: &mut Scene, f: &Frame) {
        let s = f.y.hi;
        for (z_in, z_out, color, _) in CONTOURS {
            for side in [1.0, -1.0] {
                let outer = if z_out.is_finite() {
                    vec![(side * z_out * s, s)]
                } else {
                    let edge = if side > 0.0 { f.x.hi } else { f.x.lo };
                    let far = side * (edge.abs() + z_in * s);
                    vec![(far, s), (far, 0.0)]
                };
                let mut points = vec![(0.0, 0.0), (side * z_in * s, s)];
                points.extend(outer);
                let clipped = clip_to(&points, f.x.lo, f.x.hi);
                if clipped.len() >= 3 {
                    scene.polygon(
                        clipped
                            .into_iter()
                            .map(|(x, y)| (f.x.px(x), f.y.px(y)))
                            .collect(),
                        color,
                    );
                }
            }
        }
    }

    /// Pseudo confidence limits, the pooled line and the studies.
    fn funnel(&self, scene: &mut Scene, f: &Frame) {
        let est = self.centre();
        let s = f.y.hi;
        let apex = (f.x.px(est), f.y.px(0.0));
        for side in [-1.0, 1.0] {
            let foot = (f.x.px(est + side * Z95 * s), f.y.px(s));
            scene.dashed(vec![apex, foot], BLACK, 1.0);
        }
        scene.line(vec![apex, (apex.0, f.y.px(s))], BLACK, 1.5);
        for (yi, se, filled) in self.points() {
            let center = (f.x.px(yi), f.y.px(se));
            // A white ring keeps points visible on the darkest shading.
            scene.circle(center, 5.5, (255, 255, 255));
            scene.circle(center, 4.0, POINT);
            if filled {
                scene.circle(center, 2.6, (255, 255, 255));
            }
        }
        if let Some(filled) = self.filled {
            filled_key(scene, f, filled);
        }
    }

    fn axes(&self, scene: &mut Scene, f: &Frame, font: f64) {
        let measure = measure_title(self.analysis.measure);
        let x_title = if self.analysis.measure.is_ratio() {
            format!("{measure} (log scale)")
        } else {
            measure.to_string()
        };
        f.draw_axes(scene, font, &x_title, "Standard error");
    }
}

/// What the open circles are, in the top left corner of the plot area.
fn filled_key(scene: &mut Scene, f: &Frame, filled: &TrimAndFill) {
    let font = 11.0;
    let (x, y) = (f.left + font, f.top + font);
    scene.circle((x, y), 4.0, POINT);
    scene.circle((x, y), 2.6, (255, 255, 255));
    let text = format!(
        "Filled by trim-and-fill ({} on the {}, {})",
        filled.k0, filled.side, filled.estimator
    );
    scene.text(Text::new(x + font, y, text, font));
}

/// The contour key, to the right of the plot area.
fn legend(scene: &mut Scene, f: &Frame, font: f64) {
    let x = f.right + font * 1.2;
    let box_side = font;
    for (i, (_, _, color, label)) in CONTOURS.iter().rev().enumerate() {
        let y = f.top + font * 0.5 + i as f64 * font * 1.8;
        scene.rect(
            (x, y - box_side / 2.0),
            (x + box_side, y + box_side / 2.0),
            *color,
        );
        scene.text(Text::new(x + box_side * 1.5, y, *label, font * 0.88));
    }
    let y = f.top + font * 0.5 + 3.0 * font * 1.8;
    scene.rect(
        (x, y - box_side / 2.0),
        (x + box_side, y + box_side / 2.0),
        (255, 255, 255),
    );
    scene.line(
        vec![
            (x, y - box_side / 2.0),
            (x + box_side, y - box_side / 2.0),
            (x + box_side, y + box_side / 2.0),
            (x, y + box_side / 2.0),
            (x, y - box_side / 2.0),
        ],
        GREY,
        1.0,
    );
    scene.text(Text::new(x + box_side * 1.5, y, "p ≥ 0.10", font * 0.88));
}

/// A convex polygon cut to the band `lo ≤ x ≤ hi` (Sutherland–Hodgman).
fn clip_to(points: &[(f64, f64)], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let keep_right_of = |pts: &[(f64, f64)], edge: f64, sign: f64| -> Vec<(f64, f64)> {
        let inside = |p: (f64, f64)| sign * (p.0 - edge) >= 0.0;
        let mut out = Vec::new();
        for (i, &p) in pts.iter().enumerate() {
            let q = pts[(i + 1) % pts.len()];
            if inside(p) {
                out.push(p);
            }
            if inside(p) != inside(q) {
                let t = (edge - p.0) / (q.0 - p.0);
                out.push((edge, p.1 + t * (q.1 - p.1)));
            }
        }
        out
    };
    let once = keep_right_of(points, lo, 1.0);
    keep_right_of(&once, hi, -1.0)
}

#[cfg(test)]
mod tests {
    use super::clip_to;

    #[test]
    fn clipping_keeps_the_band() {
        let square = [(-2.0, 0.0), (2.0, 0.0), (2.0, 1.0), (-2.0, 1.0)];
        let clipped = clip_to(&square, -1.0, 1.0);
        assert!(clipped.iter().all(|p| (-1.0..=1.0).contains(&p.0)));
        assert_eq!(clipped.len(), 4);
        assert!(clip_to(&square, 3.0, 4.0).is_empty());
    }
}
