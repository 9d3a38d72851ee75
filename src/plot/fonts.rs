//! The embedded fonts and text layout: the only place fonts are loaded.
//!
//! Text is set with ab_glyph directly: each glyph advances by its own width
//! plus the font's kerning with the one before it, at fractional positions,
//! and the same layout is measured, rasterised for PNG and written as glyph
//! outlines for SVG (see `glyphs`). Nothing is asked of the system, so
//! rendering works on machines without fonts or fontconfig and SVG files look
//! the same everywhere. DejaVu Sans ships with the crate (licence in
//! `assets/fonts/LICENSE`).

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont};

use crate::error::{ErrorKind, Result};

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

fn faces() -> Option<&'static Faces> {
    static FACES: OnceLock<Option<Faces>> = OnceLock::new();
    FACES
        .get_or_init(|| {
            Some(Faces {
                regular: FontRef::try_from_slice(REGULAR).ok()?,
                bold: FontRef::try_from_slice(BOLD).ok()?,
            })
        })
        .as_ref()
}

/// Checks once per process that the embedded fonts parse.
pub(crate) fn ensure_loaded() -> Result<()> {
    faces().map(|_| ()).ok_or_else(|| {
        ErrorKind::Plot("the embedded DejaVu Sans font could not be loaded".into()).into()
    })
}

/// The regular or bold face; `None` only if the embedded font is damaged,
/// which [`ensure_loaded`] reports before any drawing.
pub(crate) fn face(bold: bool) -> Option<&'static FontRef<'static>> {
    faces().map(|f| if bold { &f.bold } else { &f.regular })
}

/// One line of text set at a size: each glyph with its pen position along
/// the baseline, in pixels from the start.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetLine {
    pub glyphs: Vec<(GlyphId, f32)>,
    pub width: f64,
    /// Above the baseline (positive) and below it (negative), in pixels.
    pub ascent: f64,
    pub descent: f64,
}

/// Sets `text` in the embedded font, `size` pixels from the lowest descender
/// to the highest ascender (ab_glyph's `PxScale`).
pub(crate) fn set(text: &str, size: f64, bold: bool) -> SetLine {
    let Some(font) = face(bold) else {
        return SetLine {
            glyphs: Vec::new(),
            width: 0.0,
            ascent: 0.0,
            descent: 0.0,
        };
    };
    let font = font.as_scaled(PxScale::from(size as f32));
    let mut glyphs = Vec::with_capacity(text.len());
    let mut pen = 0.0f32;
    let mut previous: Option<GlyphId> = None;
    for c in text.chars() {
        let id = font.glyph_id(c);
        if let Some(previous) = previous {
            pen += font.kern(previous, id);
        }
        glyphs.push((id, pen));
        pen += font.h_advance(id);
        previous = Some(id);
    }
    SetLine {
        glyphs,
        width: f64::from(pen),
        ascent: f64::from(font.ascent()),
        descent: f64::from(font.descent()),
    }
}

/// The width in pixels of `text` set in the embedded font.
pub(crate) fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    set(text, size, bold).width
}

/// `text` cut to fit `max_width` pixels, ending in an ellipsis when cut.
pub(crate) fn truncate(text: &str, max_width: f64, size: f64, bold: bool) -> String {
    if text_width(text, size, bold) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    // Binary search on the number of characters kept: width grows with it.
    let (mut keep, mut too_many) = (0, chars.len());
    while keep + 1 < too_many {
        let mid = (keep + too_many) / 2;
        let candidate = ellipsized(&chars[..mid]);
        if text_width(&candidate, size, bold) <= max_width {
            keep = mid;
        } else {
            too_many = mid;
        }
    }
    ellipsized(&chars[..keep])
}

fn ellipsized(chars: &[char]) -> String {
    let mut s: String = chars.iter().collect();
    s.truncate(s.trim_end().len());
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_truncates() {
        ensure_loaded().unwrap();
        let w = text_width("Müller Øvrebø", 14.0, false);
        assert!(w > 50.0, "width {w}");
        assert!(text_width("Study", 14.0, true) > text_width("Study", 14.0, false));
        let cut = truncate(&"A very long study name ".repeat(10), 120.0, 14.0, false);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, 14.0, false) <= 120.0);
        assert_eq!(truncate("Short", 120.0, 14.0, false), "Short");
    }

    #[test]
    fn glyphs_advance_by_their_widths_and_kerning() {
        ensure_loaded().unwrap();
        let font = face(false).unwrap().as_scaled(PxScale::from(20.0));
        let line = set("WOMAC", 20.0, false);
        // Every glyph starts where the one before ends, give or take the font's
        // kerning of the pair: no gaps from rounding glyph boxes ("WOM AC").
        for pair in line.glyphs.windows(2) {
            let ((a, x0), (b, x1)) = (pair[0], pair[1]);
            assert_eq!(x1, x0 + font.h_advance(a) + font.kern(a, b));
        }
        // The font kerns `AV` closer than `A` and `V` set apart.
        let (av, a, v) = (
            text_width("AV", 20.0, false),
            text_width("A", 20.0, false),
            text_width("V", 20.0, false),
        );
        assert!(av < a + v, "{av} vs {a} + {v}");
    }
}
