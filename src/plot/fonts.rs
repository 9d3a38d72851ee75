//! The embedded fonts and text measurement: the only place fonts are registered.
//!
//! plotters' `ab_glyph` engine knows no fonts until one is registered, and it
//! never looks at the system, so rendering works on machines without fonts or
//! fontconfig. DejaVu Sans ships with the crate (licence in `assets/fonts/LICENSE`).

use std::sync::OnceLock;

use plotters::style::{FontDesc, FontFamily, FontStyle, register_font};

use crate::error::{ErrorKind, Result};

/// The family name plotters looks the fonts up by. The SVG backend writes it
/// verbatim into `font-family`, so it doubles as a fallback list for viewers
/// that lack DejaVu Sans.
pub(crate) const FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the embedded fonts once per process; later calls return the first outcome.
pub(crate) fn ensure_registered() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, REGULAR).is_ok()
            && register_font(FAMILY, FontStyle::Bold, BOLD).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ErrorKind::Plot("the embedded DejaVu Sans font could not be loaded".into()).into())
    }
}

/// The font for text of `size` pixels.
pub(crate) fn font(size: f64, bold: bool) -> FontDesc<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    FontDesc::new(FontFamily::Name(FAMILY), size, style)
}

/// The width in pixels of `text` set in the embedded font. Zero when the font is
/// unavailable, which [`ensure_registered`] reports before any layout runs.
pub(crate) fn text_width(text: &str, size: f64, bold: bool) -> f64 {
    font(size, bold)
        .box_size(text)
        .map(|(w, _)| f64::from(w))
        .unwrap_or(0.0)
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
        ensure_registered().unwrap();
        let w = text_width("Müller Øvrebø", 14.0, false);
        assert!(w > 50.0, "width {w}");
        assert!(text_width("Study", 14.0, true) > text_width("Study", 14.0, false));
        let cut = truncate(&"A very long study name ".repeat(10), 120.0, 14.0, false);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, 14.0, false) <= 120.0);
        assert_eq!(truncate("Short", 120.0, 14.0, false), "Short");
    }
}
