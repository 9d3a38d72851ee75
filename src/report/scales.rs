//! The instrument registry as a readable list.

use std::fmt::Write as _;

use crate::effect::scales::ScaleRegistry;

/// The instrument registry as a readable list.
///
/// ```
/// let text = cochran::report::scales_text(cochran::effect::scales::ScaleRegistry::shared());
/// assert!(text.contains("HHS") && text.contains("higher is better"));
/// ```
pub fn scales_text(registry: &ScaleRegistry) -> String {
    let mut out = String::new();
    for s in registry.scales() {
        let _ = writeln!(
            out,
            "{} ({}): {}-{}, {}",
            s.name, s.full_name, s.min, s.max, s.better
        );
        if !s.aliases.is_empty() {
            let _ = writeln!(out, "  also: {}", s.aliases.join(", "));
        }
        if !s.subscales.is_empty() {
            let _ = writeln!(out, "  subscales: {}", s.subscales);
        }
        for m in &s.mic {
            let _ = writeln!(out, "  MIC: {} - {} ({})", m.published, m.context, m.source);
        }
        if !s.note.is_empty() {
            let _ = writeln!(out, "  note: {}", s.note);
        }
    }
    out
}
