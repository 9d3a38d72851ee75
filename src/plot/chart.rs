//! What the x–y charts (funnel, bubble, Baujat, GOSH, influence) share: the
//! title, size, text size and scale, and the ways out (SVG, PNG, a file).

use super::axis::Axis;
use super::fonts;
use super::frame::Frame;
use super::positive;
use super::scene::{Scene, Text};
use crate::error::Result;

/// A chart's common settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Canvas {
    pub title: Option<String>,
    pub size: (f64, f64),
    pub font_size: f64,
    pub scale: f64,
}

impl Canvas {
    /// No title, 13-pixel text, scale 1.
    pub fn new(width: f64, height: f64) -> Self {
        Canvas {
            title: None,
            size: (width, height),
            font_size: 13.0,
            scale: 1.0,
        }
    }

    /// An empty scene with the title drawn, and the checked text size.
    pub fn start(&self) -> Result<(Scene, f64)> {
        fonts::ensure_loaded()?;
        let font = positive(self.font_size, "the font size")?;
        let (width, height) = (
            positive(self.size.0, "the width")?,
            positive(self.size.1, "the height")?,
        );
        let mut scene = Scene::new(width, height);
        if let Some(title) = &self.title {
            let t = fonts::truncate(title, width - 2.0 * font, font * 1.25, true);
            scene.text(Text::new(font, font * 1.4, t, font * 1.25).bold(true));
        }
        Ok((scene, font))
    }

    /// Where the plot area starts: below the title, if any.
    pub fn top(&self, font: f64) -> f64 {
        font * if self.title.is_some() { 3.2 } else { 1.5 }
    }

    /// The plot area for the two axes: below the title, room for tick labels
    /// and axis titles on the left and below, `right_margin` on the right.
    /// The y axis runs upwards, or downwards when `y_down` (the funnel's SE).
    pub fn frame(&self, font: f64, x: Axis, y: Axis, y_down: bool, right_margin: f64) -> Frame {
        let top = self.top(font);
        let (width, height) = self.size;
        let (left, right, bottom) = (font * 5.5, width - right_margin, height - font * 4.0);
        let right = right.max(left + font * 4.0);
        let bottom = bottom.max(top + font * 4.0);
        let y = if y_down {
            y.placed(top, bottom)
        } else {
            y.placed(bottom, top)
        };
        Frame {
            x: x.placed(left, right),
            y,
            left,
            right,
            top,
            bottom,
        }
    }
}

/// The shared builder methods and outputs of a chart with a `canvas: Canvas`
/// field and a `scene(&self) -> Result<Scene>` method. `$setup` is the hidden
/// doc-test line that makes `analysis`, `$plot` the expression of a chart.
macro_rules! chart_settings {
    ($setup:literal, $plot:literal) => {
        /// A title above the plot.
        ///
        #[doc = concat!("```\n", $setup, "\nlet svg = ", $plot, ".title(\"A title\").to_svg()?;\nassert!(svg.contains(\"A title\"));\n# Ok::<(), cochran::Error>(())\n```")]
        pub fn title(mut self, title: impl Into<String>) -> Self {
            self.canvas.title = Some(title.into());
            self
        }

        /// The image size in pixels before [`scale`](Self::scale).
        ///
        #[doc = concat!("```\n", $setup, "\nassert_eq!(", $plot, ".size(800.0, 600.0).dimensions()?, (800, 600));\n# Ok::<(), cochran::Error>(())\n```")]
        pub fn size(mut self, width: f64, height: f64) -> Self {
            self.canvas.size = (width, height);
            self
        }

        /// The text size in pixels (default 13).
        ///
        #[doc = concat!("```\n", $setup, "\nassert!(", $plot, ".font_size(16.0).to_svg().is_ok());\n# Ok::<(), cochran::Error>(())\n```")]
        pub fn font_size(mut self, pixels: f64) -> Self {
            self.canvas.font_size = pixels;
            self
        }

        /// Multiplies every dimension of the output, e.g. 2 for a sharp PNG (default 1).
        ///
        #[doc = concat!("```\n", $setup, "\nlet (w, h) = ", $plot, ".dimensions()?;\nassert_eq!(", $plot, ".scale(2.0).dimensions()?, (2 * w, 2 * h));\n# Ok::<(), cochran::Error>(())\n```")]
        pub fn scale(mut self, factor: f64) -> Self {
            self.canvas.scale = factor;
            self
        }

        /// The image size in pixels, scale included.
        pub fn dimensions(&self) -> $crate::error::Result<(u32, u32)> {
            self.scene()?.pixels(self.canvas.scale)
        }

        /// The plot as an SVG document.
        pub fn to_svg(&self) -> $crate::error::Result<String> {
            self.scene()?.to_svg(self.canvas.scale)
        }

        /// The plot as PNG file contents.
        pub fn to_png(&self) -> $crate::error::Result<Vec<u8>> {
            self.scene()?.to_png(self.canvas.scale)
        }

        /// Writes the plot to `path`; the extension (`.png` or `.svg`) picks the format.
        pub fn save(&self, path: impl AsRef<std::path::Path>) -> $crate::error::Result<()> {
            let path = path.as_ref();
            let format = $crate::plot::ImageFormat::from_path(path)?;
            $crate::plot::Output::new(self.scene()?, self.canvas.scale).save(path, format)
        }
    };
}

pub(crate) use chart_settings;
