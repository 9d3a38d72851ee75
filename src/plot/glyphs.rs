//! Text drawn from the embedded font's glyphs: rasterised with coverage
//! (anti-aliased, at fractional positions) into PNG pixels, and written as
//! outlines into SVG, so that both show the layout `fonts::set` measured.

use std::collections::BTreeMap;
use std::fmt::Write;

use ab_glyph::{Font, GlyphId, OutlineCurve, PxScale, ScaleFont, point};

use super::fonts::{self, SetLine};
use super::scene::{Align, Text};

/// Where a text's line starts and where its baseline runs, in pixels of the
/// output, relative to its anchor (`x`, `y` scaled), before any rotation.
struct Placement {
    anchor: (f64, f64),
    start: f64,
    baseline: f64,
    size: f64,
    line: SetLine,
}

fn place(t: &Text, scale: f64) -> Placement {
    let size = t.size * scale;
    let line = fonts::set(&t.text, size, t.bold);
    let start = match t.align {
        Align::Left => 0.0,
        Align::Center => -line.width / 2.0,
        Align::Right => -line.width,
    };
    // Vertically centred on `y`: the middle of ascender to descender.
    let baseline = (line.ascent + line.descent) / 2.0;
    Placement {
        anchor: (t.x * scale, t.y * scale),
        start,
        baseline,
        size,
        line,
    }
}

impl Placement {
    /// A point given along the line (`along`) and down from it (`down`),
    /// both relative to the anchor, on the output: a vertical text turns a
    /// quarter anticlockwise, reading upwards.
    fn to_output(&self, along: f64, down: f64, vertical: bool) -> (f64, f64) {
        if vertical {
            (self.anchor.0 + down, self.anchor.1 - along)
        } else {
            (self.anchor.0 + along, self.anchor.1 + down)
        }
    }
}

/// An RGB image being drawn on.
pub(crate) struct Pixels<'a> {
    pub rgb: &'a mut [u8],
    pub width: u32,
    pub height: u32,
}

impl Pixels<'_> {
    /// Darkens a pixel towards black by `coverage`.
    fn ink(&mut self, x: i64, y: i64, coverage: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        let keep = 1.0 - coverage.clamp(0.0, 1.0);
        for channel in &mut self.rgb[i..i + 3] {
            *channel = (f32::from(*channel) * keep).round() as u8;
        }
    }
}

/// Draws a text in black onto `pixels`.
pub(crate) fn rasterise(t: &Text, scale: f64, pixels: &mut Pixels<'_>) {
    let Some(font) = fonts::face(t.bold) else {
        return;
    };
    let p = place(t, scale);
    // A vertical text is drawn about a whole-pixel anchor so that turning it
    // maps pixels onto pixels; a horizontal one keeps its fractions.
    let origin = if t.vertical {
        (p.anchor.0.round(), p.anchor.1.round())
    } else {
        (0.0, 0.0)
    };
    for &(id, pen) in &p.line.glyphs {
        let (along, down) = (p.start + f64::from(pen), p.baseline);
        let (x, y) = if t.vertical {
            (along, down)
        } else {
            p.to_output(along, down, false)
        };
        let glyph =
            id.with_scale_and_position(PxScale::from(p.size as f32), point(x as f32, y as f32));
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let bounds = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (bx, by) = (
                i64::from(bounds.min.x as i32) + i64::from(gx),
                i64::from(bounds.min.y as i32) + i64::from(gy),
            );
            if t.vertical {
                pixels.ink(origin.0 as i64 + by, origin.1 as i64 - bx - 1, coverage);
            } else {
                pixels.ink(bx, by, coverage);
            }
        });
    }
}

/// Texts as SVG: each glyph outline once in `<defs>`, each text a group of
/// uses labelled with its words, so viewers need no font.
#[derive(Default)]
pub(crate) struct SvgText {
    /// Path data in font units, by (bold, glyph).
    defs: BTreeMap<(bool, u16), String>,
    body: String,
}

impl SvgText {
    pub(crate) fn add(&mut self, t: &Text, scale: f64) {
        let Some(font) = fonts::face(t.bold) else {
            return;
        };
        let p = place(t, scale);
        let s = f64::from(
            font.as_scaled(PxScale::from(p.size as f32))
                .h_scale_factor(),
        );
        // The outer group carries the anchor; the inner one the line's start
        // and baseline and the scale from font units (y up) to the page (y
        // down), so that each glyph is placed by its pen position alone.
        let (x, y) = p.to_output(p.start, p.baseline, t.vertical);
        let (x, y) = (num(x - p.anchor.0), num(y - p.anchor.1));
        let k = fine(s);
        let matrix = if t.vertical {
            format!("0 -{k} -{k} 0 {x} {y}")
        } else {
            format!("{k} 0 0 -{k} {x} {y}")
        };
        let _ = write!(
            self.body,
            "<g aria-label=\"{}\" transform=\"translate({} {})\"><g transform=\"matrix({matrix})\">",
            escape(&t.text),
            num(p.anchor.0),
            num(p.anchor.1)
        );
        for &(id, pen) in &p.line.glyphs {
            if let Some(outline) = self.glyph(t.bold, id) {
                let units = f64::from(pen) / s;
                let _ = write!(
                    self.body,
                    "<use xlink:href=\"#{outline}\" x=\"{}\"/>",
                    tenth(units)
                );
            }
        }
        self.body.push_str("</g></g>\n");
    }

    /// The id of a glyph's outline, added to the definitions on first use;
    /// `None` for glyphs without ink (a space).
    fn glyph(&mut self, bold: bool, id: GlyphId) -> Option<String> {
        let name = format!("{}{}", if bold { 'b' } else { 'g' }, id.0);
        let path = self.defs.entry((bold, id.0)).or_insert_with(|| {
            fonts::face(bold)
                .and_then(|f| f.outline(id))
                .map(|o| path_data(&o.curves))
                .unwrap_or_default()
        });
        (!path.is_empty()).then_some(name)
    }

    /// Puts the texts into an SVG document, on top of what it draws.
    pub(crate) fn into_document(self, mut svg: String) -> String {
        if self.body.is_empty() {
            return svg;
        }
        let mut out = String::from("<defs>\n");
        for ((bold, id), path) in &self.defs {
            if !path.is_empty() {
                let prefix = if *bold { 'b' } else { 'g' };
                let _ = writeln!(out, "<path id=\"{prefix}{id}\" d=\"{path}\"/>");
            }
        }
        out.push_str("</defs>\n<g fill=\"#000000\">\n");
        out.push_str(&self.body);
        out.push_str("</g>\n");
        let end = svg.rfind("</svg>").unwrap_or(svg.len());
        svg.insert_str(end, &out);
        svg.replacen(
            "<svg ",
            "<svg xmlns:xlink=\"http://www.w3.org/1999/xlink\" ",
            1,
        )
    }
}

/// An outline as SVG path data, in font units.
fn path_data(curves: &[OutlineCurve]) -> String {
    let mut d = String::new();
    let mut last = None;
    for curve in curves {
        let (start, rest): (_, Vec<_>) = match curve {
            OutlineCurve::Line(a, b) => (*a, vec![('L', *b)]),
            OutlineCurve::Quad(a, b, c) => (*a, vec![('Q', *b), (' ', *c)]),
            OutlineCurve::Cubic(a, b, c, e) => (*a, vec![('C', *b), (' ', *c), (' ', *e)]),
        };
        if last != Some(start) {
            if last.is_some() {
                d.push('Z');
            }
            let _ = write!(d, "M{} {}", num(start.x.into()), num(start.y.into()));
        }
        for (command, p) in &rest {
            if *command != ' ' {
                d.push(*command);
            } else {
                d.push(' ');
            }
            let _ = write!(d, "{} {}", num(p.x.into()), num(p.y.into()));
        }
        last = rest.last().map(|(_, p)| *p);
    }
    if !d.is_empty() {
        d.push('Z');
    }
    d
}

/// A glyph's scale (font units to pixels, about 0.006 at 14 pixels): eight
/// decimals, so that a glyph is as wide in the SVG as in the layout.
fn fine(x: f64) -> String {
    let s = format!("{x:.8}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A position in font units (2048 to the em): a tenth is far below a pixel.
fn tenth(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").unwrap_or(&s).to_string()
}

/// A position with at most three decimals and no trailing zeros.
fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

/// Text as XML attribute content.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inked pixels' bounding box: (left, top, right, bottom), inclusive.
    fn ink(t: &Text, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let mut rgb = vec![255u8; (width * height * 3) as usize];
        rasterise(
            t,
            1.0,
            &mut Pixels {
                rgb: &mut rgb,
                width,
                height,
            },
        );
        let mut bounds = (width, height, 0, 0);
        for y in 0..height {
            for x in 0..width {
                if rgb[((y * width + x) * 3) as usize] < 128 {
                    bounds = (
                        bounds.0.min(x),
                        bounds.1.min(y),
                        bounds.2.max(x),
                        bounds.3.max(y),
                    );
                }
            }
        }
        bounds
    }

    #[test]
    fn rasterised_text_fills_the_measured_width() {
        fonts::ensure_loaded().unwrap();
        for align in [Align::Left, Align::Center, Align::Right] {
            let t = Text::new(200.0, 50.0, "WOMAC interval 4.23", 20.0).align(align);
            let width = fonts::text_width(&t.text, 20.0, false);
            let start = match align {
                Align::Left => 200.0,
                Align::Center => 200.0 - width / 2.0,
                Align::Right => 200.0 - width,
            };
            let (left, top, right, bottom) = ink(&t, 400, 100);
            assert!(
                (f64::from(left) - start).abs() < 3.0,
                "{align:?}: {left} vs {start}"
            );
            let end = start + width;
            assert!(
                (f64::from(right) - end).abs() < 3.0,
                "{align:?}: {right} vs {end}"
            );
            // Centred on y: capitals above, the comma-free line's descenders below.
            assert!(
                top < 50 && bottom > 50 && bottom - top < 22,
                "{top}..{bottom}"
            );
        }
    }

    #[test]
    fn a_comma_is_not_a_period_at_the_default_size() {
        fonts::ensure_loaded().unwrap();
        // 13 pixels at scale 1, the forest plot's default: the comma's tail
        // reaches below the period's dot.
        let period = ink(&Text::new(10.0, 20.0, ".", 13.0), 40, 40);
        let comma = ink(&Text::new(10.0, 20.0, ",", 13.0), 40, 40);
        assert!(comma.3 > period.3, "comma {comma:?}, period {period:?}");
        assert!(
            comma.3 - comma.1 > period.3 - period.1,
            "taller than the dot"
        );
    }

    #[test]
    fn vertical_text_reads_upwards_about_its_anchor() {
        fonts::ensure_loaded().unwrap();
        let t = Text::new(50.0, 200.0, "Standard error", 20.0)
            .align(Align::Center)
            .vertical();
        let length = fonts::text_width(&t.text, 20.0, false);
        let (left, top, right, bottom) = ink(&t, 100, 400);
        assert!(
            right - left < 22 && left < 50 && right > 40,
            "{left}..{right}"
        );
        assert!(
            (f64::from(bottom - top) - length).abs() < 4.0,
            "{top}..{bottom} vs {length}"
        );
        assert!((f64::from(top + bottom) / 2.0 - 200.0).abs() < 3.0);
    }

    #[test]
    fn svg_glyphs_are_scaled_as_the_layout_measures() {
        fonts::ensure_loaded().unwrap();
        let mut svg = SvgText::default();
        svg.add(&Text::new(10.0, 10.0, "Dall'Oca & <Co>", 14.0), 1.0);
        let document = svg.into_document("<svg width=\"1\">\n</svg>\n".into());
        assert!(document.contains("aria-label=\"Dall&apos;Oca &amp; &lt;Co&gt;\""));
        assert!(document.contains("xmlns:xlink"));
        let font = fonts::face(false).unwrap().as_scaled(PxScale::from(14.0));
        let matrix = document.split("matrix(").nth(1).unwrap();
        let k: f64 = matrix.split(' ').next().unwrap().parse().unwrap();
        let expected = f64::from(font.h_scale_factor());
        assert!((k / expected - 1.0).abs() < 1e-6, "{k} vs {expected}");
        // Each glyph outline is defined once however often it is used (`l`
        // twice), a space not at all: D a l ' O c & < C o >.
        assert_eq!(document.matches("<path id=\"g").count(), 11);
        assert_eq!(document.matches("<use ").count(), 13);
    }
}
