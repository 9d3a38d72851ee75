//! Forest and funnel plots, as PNG or SVG, drawn with fonts embedded in the
//! crate so that no system font or fontconfig is needed.
//!
//! Start from an [`Analysis`]: [`Analysis::forest_plot`] and
//! [`Analysis::funnel_plot`] return builders whose settings chain, and
//! `save(path)` writes the file, its extension picking the format.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure};
//!
//! let analysis = Analysis::from_csv("datasets/normand1999.csv", &AnalysisOptions::new(Measure::Smd))?;
//! let forest = analysis.forest_plot().title("Specialist stroke care").to_svg()?;
//! assert!(forest.contains("Edinburgh"));
//! let funnel = analysis.funnel_plot().contours(true).to_png()?;
//! assert!(funnel.starts_with(b"\x89PNG"));
//! # Ok::<(), cochran::Error>(())
//! ```

mod axis;
mod bubble;
mod chart;
mod fonts;
mod forest;
mod frame;
mod funnel;
mod glyphs;
mod gosh;
mod influence;
mod posterior;
mod scene;

use std::path::Path;

pub use bubble::BubblePlot;
pub use forest::{Columns, ForestPlot, StudyOrder};
pub use funnel::FunnelPlot;
pub use gosh::GoshPlot;
pub use influence::{BaujatPlot, InfluencePlot};
pub use posterior::{PosteriorPlot, ShrinkagePlot};

use crate::analysis::{Analysis, PooledModel};
use crate::effect::{Design, Measure};
use crate::error::{Error, ErrorKind, Result};
use crate::model::Capability;
use scene::Scene;

/// An image file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageFormat {
    /// Portable Network Graphics, a bitmap.
    Png,
    /// Scalable Vector Graphics.
    Svg,
}

impl ImageFormat {
    /// The format a file name asks for, from its extension (case-insensitive).
    ///
    /// ```
    /// use cochran::plot::ImageFormat;
    /// assert_eq!(ImageFormat::from_path("out/forest.SVG")?, ImageFormat::Svg);
    /// assert!(ImageFormat::from_path("forest.pdf").is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match extension.as_str() {
            "png" => Ok(ImageFormat::Png),
            "svg" => Ok(ImageFormat::Svg),
            _ => Err(Error::from(ErrorKind::UnknownName {
                what: "image format (file extension)",
                given: path.display().to_string(),
                valid: vec![".png".into(), ".svg".into()],
            })),
        }
    }
}

impl Analysis {
    /// A forest plot of this analysis; see [`ForestPlot`] for its settings.
    pub fn forest_plot(&self) -> ForestPlot<'_> {
        ForestPlot::new(self)
    }

    /// A funnel plot of this analysis; see [`FunnelPlot`] for its settings.
    pub fn funnel_plot(&self) -> FunnelPlot<'_> {
        FunnelPlot::new(self)
    }

    /// A bubble plot of a meta-regression on one continuous moderator; see
    /// [`BubblePlot`] for its settings.
    pub fn bubble_plot(&self) -> BubblePlot<'_> {
        BubblePlot::new(self)
    }

    /// A Baujat plot of this analysis' studies; see [`BaujatPlot`].
    pub fn baujat_plot<'a>(&'a self, baujat: &'a crate::sensitivity::Baujat) -> BaujatPlot<'a> {
        BaujatPlot::new(self, baujat)
    }

    /// Panels of this analysis' influence diagnostics; see [`InfluencePlot`].
    pub fn influence_plot<'a>(
        &'a self,
        influence: &'a crate::sensitivity::Influence,
    ) -> InfluencePlot<'a> {
        InfluencePlot::new(influence).of_model(self.model.kind())
    }

    /// The posterior densities of the Bayesian model's μ and τ; see [`PosteriorPlot`].
    pub fn posterior_plot(&self) -> PosteriorPlot<'_> {
        PosteriorPlot::new(self)
    }

    /// The Bayesian model's shrunken study estimates; see [`ShrinkagePlot`].
    pub fn shrinkage_plot(&self) -> ShrinkagePlot<'_> {
        ShrinkagePlot::new(self)
    }

    /// A GOSH plot of this analysis' subsets; see [`GoshPlot`] for its settings.
    pub fn gosh_plot<'a>(&'a self, gosh: &'a crate::sensitivity::Gosh) -> GoshPlot<'a> {
        GoshPlot::new(self, gosh)
    }
}

/// Forest and funnel plots draw one pooled effect, which a meta-regression
/// does not have; and only of the models that support them.
fn single_pooled_effect(analysis: &Analysis, what: Capability) -> Result<()> {
    analysis.model.check(what)?;
    let moderated = match &analysis.model {
        PooledModel::Univariate(p) => p.fit.regression.is_some(),
        PooledModel::ThreeLevel(m) => m.fit.regression.is_some(),
        PooledModel::Glmm(_) => false,
    };
    if moderated {
        return Err(ErrorKind::NoPooledEffect { what }.into());
    }
    Ok(())
}

/// A laid-out scene on its way to a file.
struct Output {
    scene: Scene,
    scale: f64,
}

impl Output {
    fn new(scene: Scene, scale: f64) -> Self {
        Output { scene, scale }
    }

    fn save(&self, path: &Path, format: ImageFormat) -> Result<()> {
        let bytes = match format {
            ImageFormat::Png => self.scene.to_png(self.scale)?,
            ImageFormat::Svg => self.scene.to_svg(self.scale)?.into_bytes(),
        };
        crate::output::write_atomically(path, |out| {
            out.write_all(&bytes)
                .map_err(|e| ErrorKind::Write(e).into())
        })
    }
}

/// The measure's name as a column heading.
fn measure_title(measure: Measure) -> &'static str {
    match measure {
        Measure::Md => "Mean Difference",
        Measure::Smd => "Std. Mean Difference",
        Measure::Rom => "Ratio of Means",
        Measure::Mc => "Mean Change",
        Measure::Smcc | Measure::Smcr => "Std. Mean Change",
        Measure::Smcrd => "Diff. in Std. Mean Change",
        Measure::Mcd => "Diff. in Mean Change",
        Measure::Or => "Odds Ratio",
        Measure::Rr => "Risk Ratio",
        Measure::Rd => "Risk Difference",
        Measure::Gen => "Effect Size",
        Measure::Pr => "Proportion",
        Measure::Pln => "Log Proportion",
        Measure::Plo => "Logit Proportion",
        Measure::Pas => "Arcsine Proportion",
        Measure::Pft => "Freeman-Tukey Proportion",
        Measure::Mn => "Mean",
        Measure::Mnln => "Log Mean",
        Measure::Cor => "Correlation",
        Measure::Zcor => "Fisher's z",
        Measure::Ir => "Incidence Rate",
        Measure::Irln => "Log Incidence Rate",
        Measure::Irs => "Sqrt Incidence Rate",
        Measure::Irft => "Freeman-Tukey Rate",
        Measure::Irr => "Rate Ratio",
        Measure::Ird => "Rate Difference",
    }
}

/// The heading of values shown back on the natural scale: the quantity a
/// transformed measure estimates ("Proportion" for PFT), else the measure's title.
fn natural_title(measure: Measure) -> &'static str {
    match measure.design() {
        _ if measure.is_ratio() => measure_title(measure),
        Design::Proportion => "Proportion",
        Design::SingleMean => "Mean",
        Design::Correlation => "Correlation",
        Design::IncidenceRate => "Incidence Rate",
        _ => measure_title(measure),
    }
}

/// Checks a setting that must be a finite positive number.
fn positive(value: f64, what: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(
            ErrorKind::InvalidSetting(format!("{what} must be a positive number, found {value}"))
                .into(),
        )
    }
}
