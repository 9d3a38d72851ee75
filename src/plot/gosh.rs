//! The GOSH plot: each subset's pooled estimate against its I², as points
//! when there are few subsets and as a density when there are many.

use super::axis::Axis;
use super::chart::{Canvas, chart_settings};
use super::frame::Frame;
use super::measure_title;
use super::scene::{Align, GREY, Rgb, Scene, Text};
use crate::analysis::Analysis;
use crate::error::Result;
use crate::sensitivity::{GRID_ESTIMATES, GRID_I2, Gosh};

const POINT: Rgb = (47, 85, 151);
/// The lightest and darkest shades of the density.
const SPARSE: Rgb = (214, 224, 242);
const DENSE: Rgb = (12, 30, 84);
/// Side of a density cell in pixels.
const CELL: f64 = 4.0;

/// A GOSH plot of an [`Analysis`]' subsets.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// use cochran::sensitivity::Subsets;
/// let analysis = Analysis::from_csv("datasets/normand1999.csv", &AnalysisOptions::new(Measure::Smd))?;
/// let gosh = analysis.gosh(Subsets::Default)?;
/// let svg = analysis.gosh_plot(&gosh).to_svg()?;
/// assert!(svg.contains("511 subsets"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GoshPlot<'a> {
    analysis: &'a Analysis,
    gosh: &'a Gosh,
    canvas: Canvas,
}

impl<'a> GoshPlot<'a> {
    /// A 640 × 520 GOSH plot.
    pub fn new(analysis: &'a Analysis, gosh: &'a Gosh) -> Self {
        GoshPlot {
            analysis,
            gosh,
            canvas: Canvas::new(640.0, 520.0),
        }
    }

    chart_settings!(
        "# let analysis = cochran::Analysis::from_csv(\"datasets/normand1999.csv\", &cochran::AnalysisOptions::new(cochran::Measure::Smd))?;\n# let gosh = analysis.gosh(cochran::sensitivity::Subsets::Default)?;",
        "analysis.gosh_plot(&gosh)"
    );

    fn scene(&self) -> Result<Scene> {
        let fit = self.analysis.fit_for(crate::model::Capability::GoshPlot)?;
        let (mut scene, font) = self.canvas.start()?;
        let scatter = &self.gosh.scatter;
        let (lo, hi) = self.estimate_range();
        let ratio = self.analysis.measure.is_ratio();
        let x = Axis::covering(lo, hi, ratio);
        let frame = self
            .canvas
            .frame(font, x, Axis::exact(0.0, 100.0, false), false, font * 1.5);
        if scatter.points.is_empty() {
            self.density(&mut scene, &frame);
        } else {
            for &(estimate, i2) in &scatter.points {
                scene.circle((frame.x.px(estimate), frame.y.px(i2)), 2.2, POINT);
            }
        }
        let overall = fit.estimate;
        let at = frame.x.px(frame.x.clamp(overall));
        scene.dashed(vec![(at, frame.top), (at, frame.bottom)], GREY, 1.0);
        let what = if self.gosh.exhaustive {
            "all"
        } else {
            "random"
        };
        let note = format!(
            "k = {}, {} subsets ({what}); dashed: all studies",
            self.gosh.k,
            thousands(self.gosh.subsets)
        );
        scene.text(
            Text::new(frame.right, frame.top + font * 0.2, note, font * 0.88).align(Align::Right),
        );
        let measure = measure_title(self.analysis.measure);
        let x_title = if ratio {
            format!("{measure} (log scale)")
        } else {
            measure.to_string()
        };
        frame.draw_axes(&mut scene, font, &x_title, "I² (%)");
        Ok(scene)
    }

    /// The estimates' range: of the points, or of the occupied density cells.
    fn estimate_range(&self) -> (f64, f64) {
        let scatter = &self.gosh.scatter;
        if !scatter.points.is_empty() {
            return scatter
                .points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p.0), hi.max(p.0))
                });
        }
        let occupied =
            |column: &usize| (0..GRID_I2).any(|r| scatter.counts[r * GRID_ESTIMATES + column] > 0);
        let first = (0..GRID_ESTIMATES).find(occupied).unwrap_or(0);
        let last = (0..GRID_ESTIMATES)
            .rev()
            .find(occupied)
            .unwrap_or(GRID_ESTIMATES - 1);
        (
            fine_estimate(self.gosh, first as f64),
            fine_estimate(self.gosh, last as f64 + 1.0),
        )
    }

    /// The fine counts gathered into blocks of whole fine cells about
    /// [`CELL`] pixels wide and high (whole cells, so that no block gets more
    /// of the grid than its neighbours), shaded by log count.
    fn density(&self, scene: &mut Scene, frame: &Frame) {
        let counts = &self.gosh.scatter.counts;
        let fine_x = |c: usize| {
            frame
                .x
                .px(frame.x.clamp(fine_estimate(self.gosh, c as f64)))
        };
        let fine_y = |r: usize| frame.y.px(r as f64 * 100.0 / GRID_I2 as f64);
        let fine_width = (fine_x(GRID_ESTIMATES) - fine_x(0)) / GRID_ESTIMATES as f64;
        let fine_height = (fine_y(0) - fine_y(GRID_I2)) / GRID_I2 as f64;
        let per_column = ((CELL / fine_width).round() as usize).max(1);
        let per_row = ((CELL / fine_height).round() as usize).max(1);
        let (columns, rows) = (
            GRID_ESTIMATES.div_ceil(per_column),
            GRID_I2.div_ceil(per_row),
        );
        let mut blocks = vec![0u64; columns * rows];
        for (i, &count) in counts.iter().enumerate() {
            let (r, c) = (i / GRID_ESTIMATES, i % GRID_ESTIMATES);
            blocks[(r / per_row) * columns + c / per_column] += u64::from(count);
        }
        let most = blocks.iter().copied().max().unwrap_or(0).max(2) as f64;
        for (i, &count) in blocks.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let t = (count as f64).ln_1p() / most.ln_1p();
            let shade = |a: u8, b: u8| (a as f64 + t * (b as f64 - a as f64)).round() as u8;
            let color = (
                shade(SPARSE.0, DENSE.0),
                shade(SPARSE.1, DENSE.1),
                shade(SPARSE.2, DENSE.2),
            );
            let (row, column) = (i / columns, i % columns);
            let x = (
                fine_x(column * per_column),
                fine_x(((column + 1) * per_column).min(GRID_ESTIMATES)),
            );
            let y = (
                fine_y(((row + 1) * per_row).min(GRID_I2)),
                fine_y(row * per_row),
            );
            scene.rect((x.0, y.0), (x.1, y.1), color);
        }
    }
}

/// The estimate at a position (in cells) along the fine grid.
fn fine_estimate(gosh: &Gosh, cells: f64) -> f64 {
    let (lo, hi) = gosh.scatter.estimate_range;
    lo + (hi - lo) * cells / GRID_ESTIMATES as f64
}

/// 1048575 as "1,048,575".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}
