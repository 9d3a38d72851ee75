//! The report of small-study-effect tests.

use std::fmt::Write as _;

use super::*;
use crate::analysis::Analysis;

/// Egger's test, the rank test, trim-and-fill and fail-safe N as text.
pub fn bias_text(analysis: &Analysis, bias: &crate::bias::SmallStudyEffects) -> String {
    let mut out = String::new();
    let scale = scale_note(analysis.measure);
    let _ = writeln!(
        out,
        "Small-study effects: {} model, k = {}{scale}\n",
        method_name(analysis),
        bias.k
    );
    let e = &bias.egger;
    let statistic = match e.df {
        Some(df) => format!("t = {:.4}, df = {df}", e.statistic),
        None => format!("z = {:.4}", e.statistic),
    };
    let _ = writeln!(
        out,
        "Egger's regression test (predictor: standard error)\n  {statistic}, p {}\n  \
         limit estimate (as se -> 0): {:.4} [{:.4}, {:.4}]\n",
        p_value(e.p_value),
        e.limit_estimate,
        e.limit_ci_lower,
        e.limit_ci_upper
    );
    let r = &bias.rank_test;
    let _ = writeln!(
        out,
        "Rank correlation test (Begg and Mazumdar)\n  Kendall's tau = {:.4}, p {} ({})\n",
        r.tau,
        p_value(r.p_value),
        if r.exact {
            "exact"
        } else {
            "normal approximation"
        }
    );
    let t = &bias.trim_and_fill;
    let _ = writeln!(
        out,
        "Trim-and-fill ({} estimator)\n  estimated missing studies on the {} side: {} (se {:.4})",
        t.estimator, t.side, t.k0, t.se_k0
    );
    // Transforms that need the studies' sizes are left on the analysis scale
    // here: the filled studies have none.
    let natural = match analysis
        .measure
        .back_transform()
        .filter(|b| !b.needs_size())
    {
        Some(back) => {
            let f = |x: f64| back.apply(x, f64::NAN);
            format!(
                " ({} {:.4} [{:.4}, {:.4}])",
                analysis.measure.natural_name(),
                f(t.estimate),
                f(t.ci_lower),
                f(t.ci_upper)
            )
        }
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  {} estimate: {:.4} [{:.4}, {:.4}]{natural}, p {}, tau^2 = {:.4}\n",
        if t.k0 > 0 { "filled" } else { "unchanged" },
        t.estimate,
        t.ci_lower,
        t.ci_upper,
        t.p_value.map_or("NA".into(), p_value),
        t.tau2
    );
    let f = &bias.fail_safe_n;
    let _ = writeln!(
        out,
        "Fail-safe N\n  Rosenthal (one-tailed alpha = .05): {}\n  Orwin (target {:.4}): {}\n  \
         Rosenberg (alpha = .05): {}",
        f.rosenthal,
        f.orwin_target,
        f.orwin
            .map_or("not reachable (target 0)".into(), |n| n.to_string()),
        f.rosenberg
    );
    if !bias.warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in &bias.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out.push('\n');
    out
}
