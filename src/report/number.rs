//! Numbers as reports and plots print them: fixed decimals, p-values in
//! metafor's and RevMan's styles.

/// A p-value as metafor prints it: four decimals, or `< .0001`.
///
/// ```
/// assert_eq!(cochran::report::p_value(0.00001), "< .0001");
/// assert_eq!(cochran::report::p_value(0.0312), "= 0.0312");
/// ```
pub fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "< .0001".into()
    } else {
        format!("= {p:.4}")
    }
}

/// A p-value for a table cell: four decimals, or `<.0001`.
///
/// ```
/// assert_eq!(cochran::report::p_cell(0.00001), "<.0001");
/// assert_eq!(cochran::report::p_cell(0.0312), "0.0312");
/// ```
pub fn p_cell(p: f64) -> String {
    if p < 1e-4 {
        "<.0001".into()
    } else {
        format!("{p:.4}")
    }
}

/// A p-value as RevMan prints it: `= 0.04`, `= 0.003`, `< 0.00001`.
///
/// ```
/// use cochran::report::number::p_revman;
/// assert_eq!(p_revman(0.456), "= 0.46");
/// assert_eq!(p_revman(0.0031), "= 0.003");
/// assert_eq!(p_revman(0.000_000_1), "< 0.00001");
/// ```
pub fn p_revman(p: f64) -> String {
    if !p.is_finite() {
        return "= NA".to_string();
    }
    if p < 0.00001 {
        return "< 0.00001".to_string();
    }
    let decimals = match p {
        p if p >= 0.01 => 2,
        p if p >= 0.001 => 3,
        p if p >= 0.0001 => 4,
        _ => 5,
    };
    format!("= {}", fixed(p, decimals))
}

/// `x` with `decimals` decimals, never printing `-0.00`.
///
/// ```
/// use cochran::report::number::fixed;
/// assert_eq!(fixed(-0.0001, 2), "0.00");
/// assert_eq!(fixed(1.0 / 3.0, 3), "0.333");
/// ```
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// `x` with at most `decimals` decimals and no trailing zeros (`0.5`, `2`, `0`).
///
/// ```
/// use cochran::report::number::trimmed;
/// assert_eq!(trimmed(-1e-17, 4), "0");
/// assert_eq!(trimmed(-0.5, 4), "-0.5");
/// assert_eq!(trimmed(2.0, 2), "2");
/// ```
pub fn trimmed(x: f64, decimals: usize) -> String {
    let s = fixed(x, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Enough decimals to show a small τ² as more than zeros: two, or more
/// below 0.01.
///
/// ```
/// use cochran::report::number::small_decimals;
/// assert_eq!(small_decimals(0.5), 2);
/// assert_eq!(small_decimals(0.0042), 4);
/// ```
pub fn small_decimals(x: f64) -> usize {
    // Below 1e-8, a tau^2 is where an iterative estimator stopped on the
    // boundary, not a variance anyone would report: it prints as 0.00.
    if x > 1e-8 && x < 0.01 {
        (-x.log10().floor()) as usize + 1
    } else {
        2
    }
}
