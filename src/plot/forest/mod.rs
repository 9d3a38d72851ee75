//! The forest plot: one row per study with its data, a square and whisker, and
//! diamonds for the pooled results, laid out as RevMan prints it.

mod columns;
mod layout;
mod rows;

use std::path::Path;

use crate::analysis::Analysis;
use crate::effect::Design;
use crate::effect::scales::Direction;
use crate::error::{ErrorKind, Result};
use crate::model::Capability;
use crate::sensitivity::{Cumulative, LeaveOneOut};
use rows::Refits;
pub use rows::StudyOrder;

use super::{ImageFormat, Output};

/// Which optional columns a forest plot shows. The study label and the plot are always there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// The per-arm data on the left (means, SDs, events, totals).
    pub data: bool,
    /// The effect with its confidence interval as text.
    pub effect: bool,
    /// The weight in percent.
    pub weight: bool,
}

impl Default for Columns {
    /// Every column.
    fn default() -> Self {
        Columns {
            data: true,
            effect: true,
            weight: true,
        }
    }
}

/// A forest plot of an [`Analysis`], built with chained settings and written
/// with [`save`](Self::save), [`to_svg`](Self::to_svg) or [`to_png`](Self::to_png).
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let options = AnalysisOptions::new(Measure::Rr).group_by("alloc");
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &options)?;
/// let svg = analysis.forest_plot().title("BCG vaccine and tuberculosis").to_svg()?;
/// assert!(svg.contains("Aronson 1948"));
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ForestPlot<'a> {
    analysis: &'a Analysis,
    title: Option<String>,
    width: Option<f64>,
    plot_width: f64,
    font_size: f64,
    scale: f64,
    label_width: f64,
    favours: Option<(String, String)>,
    arms: (String, String),
    columns: Columns,
    decimals: usize,
    x_limits: Option<(f64, f64)>,
    refits: Option<Refits<'a>>,
    order: StudyOrder,
    both: bool,
}

impl<'a> ForestPlot<'a> {
    /// A forest plot with every column, two decimals, 13-pixel text.
    pub fn new(analysis: &'a Analysis) -> Self {
        ForestPlot {
            analysis,
            title: analysis
                .outcome
                .as_deref()
                .map(|o| match analysis.follow_up {
                    Some(months) => format!("{}, {months} months", instrument_title(o)),
                    None => instrument_title(o),
                }),
            width: None,
            plot_width: 320.0,
            font_size: 13.0,
            scale: 1.0,
            label_width: 240.0,
            favours: None,
            arms: ("Treatment".into(), "Control".into()),
            columns: Columns::default(),
            decimals: 2,
            x_limits: None,
            refits: None,
            order: StudyOrder::File,
            both: false,
        }
    }

    /// A title above the plot. By default, the plot of one instrument's
    /// analysis ([`Analysis::per_outcome`], `--outcome`) is titled with its
    /// name, and the follow-up when its studies share one ("Harris Hip
    /// Score (HHS), 6 months"); others have none.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Or))?;
    /// let svg = analysis.forest_plot().title("BCG trials").to_svg()?;
    /// assert!(svg.contains("BCG trials"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The image width in pixels (before [`scale`](Self::scale)); the plot column
    /// takes what the text columns leave. Text is never squeezed: when the plot
    /// column would be narrower than eight characters, the image is wider than
    /// asked (shorten labels with [`label_width`](Self::label_width)). The
    /// height always follows the number of rows.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let plot = analysis.forest_plot().width(1400.0);
    /// assert_eq!(plot.dimensions()?.0, 1400);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn width(mut self, pixels: f64) -> Self {
        self.width = Some(pixels);
        self
    }

    /// The width of the plot column when no overall [`width`](Self::width) is set (default 320).
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let narrow = analysis.forest_plot().plot_width(200.0).dimensions()?;
    /// let wide = analysis.forest_plot().plot_width(400.0).dimensions()?;
    /// assert_eq!(wide.0 - narrow.0, 200);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn plot_width(mut self, pixels: f64) -> Self {
        self.plot_width = pixels;
        self
    }

    /// The text size in pixels (default 13); rows and columns follow it.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let small = analysis.forest_plot().font_size(11.0).dimensions()?;
    /// let large = analysis.forest_plot().font_size(16.0).dimensions()?;
    /// assert!(large.1 > small.1);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn font_size(mut self, pixels: f64) -> Self {
        self.font_size = pixels;
        self
    }

    /// Multiplies every dimension of the output, e.g. 2 for a sharp PNG (default 1).
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let one = analysis.forest_plot().dimensions()?;
    /// let two = analysis.forest_plot().scale(2.0).dimensions()?;
    /// assert!(two.0.abs_diff(2 * one.0) <= 1);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn scale(mut self, factor: f64) -> Self {
        self.scale = factor;
        self
    }

    /// The widest the study-label column may grow before labels get an ellipsis
    /// (default 240). The column is never narrower than the pooled rows' labels.
    ///
    /// ```
    /// use cochran::{Analysis, AnalysisOptions, EffectSet, Measure, effect::{StudyData, TwoByTwo}};
    /// let long = "A trial whose name goes on and on, well past any sensible column width";
    /// let set = EffectSet::from_studies(Measure::Or, [
    ///     (long, StudyData::TwoByTwo(Box::new(TwoByTwo::new(4.0, 123.0, 11.0, 139.0)?))),
    ///     ("Short", StudyData::TwoByTwo(Box::new(TwoByTwo::new(6.0, 306.0, 29.0, 303.0)?))),
    /// ])?;
    /// let analysis = Analysis::from_effects(set, &AnalysisOptions::new(Measure::Or))?;
    /// let svg = analysis.forest_plot().label_width(150.0).to_svg()?;
    /// assert!(svg.contains("A trial whose name") && !svg.contains(long) && svg.contains('…'));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn label_width(mut self, pixels: f64) -> Self {
        self.label_width = pixels;
        self
    }

    /// The words under the axis, left and right of the line of no effect
    /// (default "Favours treatment" / "Favours control"; for before/after
    /// designs "Decrease" / "Increase"; for controlled before/after designs
    /// "Control changed more" / "Treatment changed more").
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let svg = analysis.forest_plot().favours("Favours BCG", "Favours no vaccine").to_svg()?;
    /// assert!(svg.contains("Favours BCG"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn favours(mut self, left: impl Into<String>, right: impl Into<String>) -> Self {
        self.favours = Some((left.into(), right.into()));
        self
    }

    /// The headings of the two groups' data columns (default "Treatment", "Control").
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let svg = analysis.forest_plot().arms("Vaccinated", "Not vaccinated").to_svg()?;
    /// assert!(svg.contains("Not vaccinated"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn arms(mut self, treatment: impl Into<String>, control: impl Into<String>) -> Self {
        self.arms = (treatment.into(), control.into());
        self
    }

    /// Which optional columns to show.
    ///
    /// ```
    /// use cochran::plot::Columns;
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let svg = analysis.forest_plot().columns(Columns { data: false, ..Columns::default() }).to_svg()?;
    /// assert!(!svg.contains(">Events<"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn columns(mut self, columns: Columns) -> Self {
        self.columns = columns;
        self
    }

    /// Decimals of the effects and intervals printed on the right (default 2).
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let svg = analysis.forest_plot().decimals(3).to_svg()?;
    /// assert!(svg.contains("0.489 [0.344, 0.696]"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn decimals(mut self, decimals: usize) -> Self {
        self.decimals = decimals.min(10);
        self
    }

    /// The axis limits in natural units (ratios for OR, RR and ROM); CIs beyond
    /// them end in arrows. By default the axis covers the estimates and the line
    /// of no effect.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// assert!(analysis.forest_plot().x_limits(0.1, 10.0).to_svg().is_ok());
    /// assert!(analysis.forest_plot().x_limits(-1.0, 10.0).to_svg().is_err()); // no log of -1
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn x_limits(mut self, lower: f64, upper: f64) -> Self {
        self.x_limits = Some((lower, upper));
        self
    }

    /// The order of the studies within each subgroup (default: as in the file).
    ///
    /// ```
    /// use cochran::plot::StudyOrder;
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let svg = analysis.forest_plot().sort(StudyOrder::Estimate).to_svg()?;
    /// // Vandiviere (RR 0.20) now comes before Aronson (0.41).
    /// assert!(svg.find("Vandiviere") < svg.find("Aronson"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn sort(mut self, order: StudyOrder) -> Self {
        self.order = order;
        self
    }

    /// Draws the other model's diamond too, as R's meta does: the
    /// common-effect model's above a random-effects one (or a random-effects
    /// REML model's below a common-effect one). Not for clustered effects.
    ///
    /// ```
    /// # let options = cochran::AnalysisOptions::new(cochran::Measure::Rr).companion(true);
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &options)?;
    /// let svg = analysis.forest_plot().both(true).to_svg()?;
    /// assert!(svg.contains("Common-effect model") && svg.contains("Random-effects model (REML)"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn both(mut self, both: bool) -> Self {
        self.both = both;
        self
    }

    /// Draws the leave-one-out refits instead of the studies: one row per
    /// study left out, then the pooled result of all studies; I² in the last column.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let loo = analysis.leave_one_out()?;
    /// let svg = analysis.forest_plot().leave_one_out(&loo).to_svg()?;
    /// assert!(svg.contains("Study omitted") && svg.contains("All studies"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn leave_one_out(mut self, refits: &'a LeaveOneOut) -> Self {
        self.refits = Some(Refits::LeaveOneOut(&refits.studies));
        self
    }

    /// Draws a cumulative meta-analysis instead of the studies: one row per
    /// study added, with the pooled result up to it; I² in the last column.
    ///
    /// ```
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// let steps = analysis.cumulative(&(0..13).collect::<Vec<_>>())?;
    /// let svg = analysis.forest_plot().cumulative(&steps).to_svg()?;
    /// assert!(svg.contains("Study added"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn cumulative(mut self, refits: &'a Cumulative) -> Self {
        self.refits = Some(Refits::Cumulative(&refits.studies));
        self
    }

    /// The image size in pixels, scale included.
    pub fn dimensions(&self) -> Result<(u32, u32)> {
        self.scene()?.pixels(self.scale)
    }

    /// The plot as an SVG document.
    pub fn to_svg(&self) -> Result<String> {
        self.scene()?.to_svg(self.scale)
    }

    /// The plot as PNG file contents.
    pub fn to_png(&self) -> Result<Vec<u8>> {
        self.scene()?.to_png(self.scale)
    }

    /// Writes the plot to `path`; the extension (`.png` or `.svg`) picks the format.
    ///
    /// ```no_run
    /// # let analysis = cochran::Analysis::from_csv("datasets/bcg.csv", &cochran::AnalysisOptions::new(cochran::Measure::Rr))?;
    /// analysis.forest_plot().scale(2.0).save("forest.png")?;
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let format = ImageFormat::from_path(path)?;
        Output::new(self.scene()?, self.scale).save(path, format)
    }

    fn scene(&self) -> Result<super::scene::Scene> {
        super::single_pooled_effect(self.analysis, Capability::ForestPlot)?;
        if let Some(refits) = self.refits {
            self.analysis.model.check(refits.capability())?;
        }
        if self.both {
            self.analysis.model.check(Capability::BothModels)?;
            let companion = self
                .analysis
                .model
                .univariate()
                .and_then(|p| p.companion.as_ref());
            if companion.is_none() {
                return Err(ErrorKind::InvalidSetting(
                    "both diamonds need the other model, which the analysis fits when asked \
                     (AnalysisOptions::companion)"
                        .into(),
                )
                .into());
            }
        }
        super::fonts::ensure_loaded()?;
        layout::scene(self)
    }

    fn default_favours(&self) -> (String, String) {
        if let Some(better) = self.improvement_direction() {
            let (worse, improved) = ("Deterioration".to_string(), "Improvement".to_string());
            return match better {
                Direction::Higher => (worse, improved),
                Direction::Lower => (improved, worse),
            };
        }
        match self.analysis.measure.design() {
            Design::BeforeAfter => ("Decrease".into(), "Increase".into()),
            Design::Correlation => ("Negative".into(), "Positive".into()),
            // Which way is better depends on the instrument, so say what happened.
            Design::ControlledBeforeAfter => (
                "Control changed more".into(),
                "Treatment changed more".into(),
            ),
            _ => ("Favours treatment".into(), "Favours control".into()),
        }
    }

    /// Which way of the axis is better, when the clinical instruments say so:
    /// after `--improvement-positive` higher is always better, otherwise when
    /// every instrument points the same way.
    fn improvement_direction(&self) -> Option<Direction> {
        let clinical = self.analysis.clinical.as_ref()?;
        if clinical.harmonisation.improvement_positive {
            return Some(Direction::Higher);
        }
        let first = clinical.instruments.first()?.better;
        clinical
            .instruments
            .iter()
            .all(|i| i.better == first)
            .then_some(first)
    }
}

/// "Harris Hip Score (HHS)" for one instrument, "HHS, mHHS, WOMAC" for several
/// pooled together.
fn instrument_title(outcome: &str) -> String {
    let registry = crate::effect::scales::ScaleRegistry::shared();
    match outcome.split(',').map(str::trim).collect::<Vec<_>>()[..] {
        [one] => match registry.find(one) {
            Ok(scale) if scale.full_name.contains(&scale.name) => scale.full_name.clone(),
            Ok(scale) => format!("{} ({})", scale.full_name, scale.name),
            _ => one.to_string(),
        },
        ref several => several.join(", "),
    }
}
