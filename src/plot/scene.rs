//! A backend-neutral drawing: layouts produce a [`Scene`] in pixel coordinates,
//! and one painter turns it into SVG or PNG, so both formats show the same picture.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::fonts;
use super::glyphs::{self, Pixels, SvgText};
use crate::error::{ErrorKind, Result};

/// A colour as red, green, blue.
pub(crate) type Rgb = (u8, u8, u8);

pub(crate) const BLACK: Rgb = (0, 0, 0);
/// The longest side an image may have, in pixels (what PNG viewers and the
/// rasteriser handle; a forest plot of about 745 studies at twice the size).
pub const MAX_SIDE: f64 = 32_000.0;
pub(crate) const GREY: Rgb = (110, 110, 110);

/// Where a text's `x` sits: at its start, middle or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// A line of text, vertically centred on `y`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text {
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub size: f64,
    pub bold: bool,
    pub align: Align,
    /// Turned a quarter anticlockwise (for a vertical axis title).
    pub vertical: bool,
}

impl Text {
    pub fn new(x: f64, y: f64, text: impl Into<String>, size: f64) -> Self {
        Text {
            x,
            y,
            text: text.into(),
            size,
            bold: false,
            align: Align::Left,
            vertical: false,
        }
    }

    pub fn bold(mut self, bold: bool) -> Self {
        self.bold = bold;
        self
    }

    pub fn align(mut self, align: Align) -> Self {
        self.align = align;
        self
    }

    pub fn vertical(mut self) -> Self {
        self.vertical = true;
        self
    }
}

/// One thing to draw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Text(Text),
    /// An open polyline; `dashed` draws it as 6-pixel dashes.
    Line {
        points: Vec<(f64, f64)>,
        color: Rgb,
        width: f64,
        dashed: bool,
    },
    /// A filled axis-aligned rectangle between two corners.
    Rect {
        from: (f64, f64),
        to: (f64, f64),
        color: Rgb,
    },
    /// A filled polygon.
    Polygon {
        points: Vec<(f64, f64)>,
        color: Rgb,
    },
    /// A filled circle.
    Circle {
        center: (f64, f64),
        radius: f64,
        color: Rgb,
    },
}

/// A whole picture: its size in pixels and what to draw, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scene {
    pub width: f64,
    pub height: f64,
    pub items: Vec<Item>,
}

impl Scene {
    pub fn new(width: f64, height: f64) -> Self {
        Scene {
            width,
            height,
            items: Vec::new(),
        }
    }

    pub fn text(&mut self, text: Text) {
        self.items.push(Item::Text(text));
    }

    pub fn line(&mut self, points: Vec<(f64, f64)>, color: Rgb, width: f64) {
        self.items.push(Item::Line {
            points,
            color,
            width,
            dashed: false,
        });
    }

    pub fn dashed(&mut self, points: Vec<(f64, f64)>, color: Rgb, width: f64) {
        self.items.push(Item::Line {
            points,
            color,
            width,
            dashed: true,
        });
    }

    pub fn rect(&mut self, from: (f64, f64), to: (f64, f64), color: Rgb) {
        self.items.push(Item::Rect { from, to, color });
    }

    pub fn polygon(&mut self, points: Vec<(f64, f64)>, color: Rgb) {
        self.items.push(Item::Polygon { points, color });
    }

    pub fn circle(&mut self, center: (f64, f64), radius: f64, color: Rgb) {
        self.items.push(Item::Circle {
            center,
            radius,
            color,
        });
    }

    /// The pixel size at `scale`, at least 1×1; a side longer than
    /// [`MAX_SIDE`] pixels is refused rather than cropped.
    pub fn pixels(&self, scale: f64) -> Result<(u32, u32)> {
        let (width, height) = ((self.width * scale).round(), (self.height * scale).round());
        if !(width <= MAX_SIDE && height <= MAX_SIDE) {
            return Err(ErrorKind::InvalidSetting(format!(
                "the plot would be {width} x {height} pixels, more than the {MAX_SIDE} an image \
                 side may have, and would be cropped; plot fewer studies at a time (one \
                 subgroup or outcome per plot) or draw it smaller"
            ))
            .into());
        }
        Ok((width.max(1.0) as u32, height.max(1.0) as u32))
    }

    /// The scene as an SVG document: shapes, then the texts on top as glyph
    /// outlines.
    pub fn to_svg(&self, scale: f64) -> Result<String> {
        fonts::ensure_loaded()?;
        let mut svg = String::new();
        {
            let area = SVGBackend::with_string(&mut svg, self.pixels(scale)?).into_drawing_area();
            self.paint(&area, scale).map_err(plot_error)?;
            area.present().map_err(plot_error)?;
        }
        let mut texts = SvgText::default();
        for t in self.texts() {
            texts.add(t, scale);
        }
        Ok(texts.into_document(svg))
    }

    /// The scene as PNG file contents (8-bit RGB): shapes, then the texts on top.
    pub fn to_png(&self, scale: f64) -> Result<Vec<u8>> {
        fonts::ensure_loaded()?;
        let (w, h) = self.pixels(scale)?;
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.paint(&area, scale).map_err(plot_error)?;
            area.present().map_err(plot_error)?;
        }
        let mut pixels = Pixels {
            rgb: &mut rgb,
            width: w,
            height: h,
        };
        for t in self.texts() {
            glyphs::rasterise(t, scale, &mut pixels);
        }
        encode_png(&rgb, w, h)
    }

    fn texts(&self) -> impl Iterator<Item = &Text> {
        self.items.iter().filter_map(|item| match item {
            Item::Text(t) => Some(t),
            _ => None,
        })
    }

    /// Draws every shape (texts are drawn after, by `glyphs`).
    fn paint<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        scale: f64,
    ) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        area.fill(&WHITE)?;
        let at = |(x, y): (f64, f64)| ((x * scale).round() as i32, (y * scale).round() as i32);
        for item in &self.items {
            match item {
                Item::Text(_) => {}
                Item::Line {
                    points,
                    color,
                    width,
                    dashed,
                } => {
                    let style = ShapeStyle::from(&rgb(*color))
                        .stroke_width((width * scale).round().max(1.0) as u32);
                    let pieces = if *dashed {
                        dashes(points, 6.0, 4.0)
                    } else {
                        vec![points.clone()]
                    };
                    for piece in pieces {
                        let path: Vec<_> = piece.into_iter().map(at).collect();
                        area.draw(&PathElement::new(path, style))?;
                    }
                }
                Item::Rect { from, to, color } => {
                    // The corner is rounded once and the sides added, so that
                    // equal rectangles are drawn equal wherever they sit.
                    let corner = at(*from);
                    let side = |a: f64, b: f64| ((b - a) * scale).round() as i32;
                    let far = (corner.0 + side(from.0, to.0), corner.1 + side(from.1, to.1));
                    area.draw(&Rectangle::new([corner, far], rgb(*color).filled()))?;
                }
                Item::Polygon { points, color } => {
                    let path: Vec<_> = points.iter().copied().map(at).collect();
                    area.draw(&Polygon::new(path, rgb(*color).filled()))?;
                }
                Item::Circle {
                    center,
                    radius,
                    color,
                } => {
                    let r = (radius * scale).round().max(1.0) as i32;
                    area.draw(&Circle::new(at(*center), r, rgb(*color).filled()))?;
                }
            }
        }
        Ok(())
    }
}

fn rgb((r, g, b): Rgb) -> RGBColor {
    RGBColor(r, g, b)
}

/// Splits a polyline into dashes of `on` pixels separated by gaps of `off`.
fn dashes(points: &[(f64, f64)], on: f64, off: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let length = (x1 - x0).hypot(y1 - y0);
        let mut s = 0.0;
        while s < length {
            let e = (s + on).min(length);
            let lerp = |d: f64| (x0 + (x1 - x0) * d / length, y0 + (y1 - y0) * d / length);
            out.push(vec![lerp(s), lerp(e)]);
            s += on + off;
        }
    }
    out
}

fn plot_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> crate::Error {
    ErrorKind::Plot(e.to_string()).into()
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    // Plots are mostly flat colour: adaptive filters shrink them several-fold.
    // The default level, not the best: with anti-aliased glyphs the best costs
    // six times the time (280 ms instead of 44 ms for a 13-study forest plot
    // at twice the size) to save a fifth of the bytes.
    encoder.set_compression(png::Compression::Default);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let png_error = |e: png::EncodingError| crate::Error::from(ErrorKind::Plot(e.to_string()));
    let mut writer = encoder.write_header().map_err(png_error)?;
    writer.write_image_data(rgb).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(bytes)
}
