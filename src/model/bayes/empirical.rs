//! The empirical heterogeneity priors by setting: Turner et al. (2015,
//! Statistics in Medicine 34:984–998, Table IV; binary outcomes, log odds
//! ratios) give log τ² ~ N(μ, σ²) by outcome type and comparison type;
//! Rhodes et al. (2015, Journal of Clinical Epidemiology 68:52–60, Table 3;
//! standardised mean differences, medical areas other than respiratory and
//! cancer) give log τ² ~ t₅(location, scale).
//!
//! ```
//! use cochran::model::TauPrior;
//! let pain: TauPrior = "turner:pain:pharma-placebo".parse()?;
//! assert_eq!(pain, TauPrior::LogNormal { mu: -1.83, sigma: 1.52 });
//! let smd: TauPrior = "rhodes:mental-health:nonpharma".parse()?;
//! assert_eq!(smd, TauPrior::LogStudentT { location: -3.85, scale: 1.93, df: 5.0 });
//! # Ok::<(), cochran::Error>(())
//! ```

use super::prior::TauPrior;
use crate::error::{ErrorKind, Result};

const TURNER_OUTCOMES: [&str; 16] = [
    "all-cause-mortality",
    "obstetric",
    "cause-specific-mortality",
    "resource-use",
    "surgical",
    "withdrawals",
    "internal",
    "general-health",
    "adverse-events",
    "infection",
    "signs-symptoms",
    "pain",
    "quality-of-life",
    "mental-health",
    "biological-markers",
    "subjective",
];
const TURNER_COMPARISONS: [&str; 5] = [
    "pharma-placebo",
    "pharma-pharma",
    "nonpharma-placebo",
    "nonpharma-pharma",
    "nonpharma-nonpharma",
];
/// −mean of log τ², by comparison (rows) and outcome (columns).
const TURNER_MEAN: [[f64; 16]; 5] = [
    [
        3.95, 3.52, 3.71, 2.34, 2.14, 2.99, 2.71, 2.29, 1.87, 2.49, 2.06, 1.83, 2.54, 2.12, 1.77,
        2.70,
    ],
    [
        4.18, 3.75, 3.95, 2.58, 2.37, 3.23, 2.94, 2.53, 2.10, 2.73, 2.29, 2.06, 2.78, 2.35, 2.00,
        2.93,
    ],
    [
        4.17, 3.74, 3.93, 2.56, 2.36, 3.21, 2.93, 2.51, 2.10, 2.71, 2.28, 2.05, 2.77, 2.34, 1.99,
        2.92,
    ],
    [
        2.92, 2.49, 2.68, 1.31, 1.11, 1.96, 1.67, 1.26, 0.84, 1.46, 1.03, 0.80, 1.51, 1.09, 0.74,
        1.67,
    ],
    [
        3.50, 3.08, 3.27, 1.90, 1.69, 2.55, 2.26, 1.85, 1.43, 2.05, 1.61, 1.38, 2.10, 1.67, 1.33,
        2.26,
    ],
];
/// SD of log τ², by comparison and outcome.
const TURNER_SD: [[f64; 16]; 5] = [
    [
        1.34, 1.74, 1.74, 1.74, 1.74, 1.74, 1.74, 1.53, 1.52, 1.52, 1.51, 1.52, 1.54, 1.53, 1.52,
        1.52,
    ],
    [
        1.41, 1.79, 1.79, 1.79, 1.79, 1.79, 1.79, 1.58, 1.58, 1.58, 1.58, 1.58, 1.60, 1.60, 1.58,
        1.58,
    ],
    [
        1.55, 1.91, 1.91, 1.91, 1.91, 1.91, 1.92, 1.72, 1.71, 1.71, 1.71, 1.71, 1.73, 1.72, 1.71,
        1.71,
    ],
    [
        1.02, 1.50, 1.51, 1.50, 1.50, 1.51, 1.51, 1.25, 1.24, 1.24, 1.24, 1.25, 1.27, 1.27, 1.24,
        1.25,
    ],
    [
        1.26, 1.68, 1.68, 1.68, 1.68, 1.68, 1.68, 1.46, 1.45, 1.45, 1.45, 1.45, 1.47, 1.47, 1.45,
        1.45,
    ],
];

const RHODES_OUTCOMES: [&str; 8] = [
    "obstetric",
    "resource-use",
    "structure",
    "general-health",
    "signs-symptoms",
    "mental-health",
    "biological-marker",
    "subjective",
];
const RHODES_COMPARISONS: [&str; 3] = ["pharma-placebo", "pharma-pharma", "nonpharma"];
/// −location of log τ², by comparison and outcome.
const RHODES_LOCATION: [[f64; 8]; 3] = [
    [4.13, 2.55, 2.43, 3.16, 3.00, 2.99, 3.41, 2.76],
    [4.40, 2.83, 2.70, 3.44, 3.27, 3.27, 3.68, 3.03],
    [3.99, 2.41, 2.29, 3.02, 2.86, 3.85, 3.27, 2.62],
];
const RHODES_SCALE: [[f64; 8]; 3] = [
    [2.34, 2.73, 2.50, 2.50, 2.50, 2.16, 2.83, 2.58],
    [2.31, 2.70, 2.46, 2.44, 2.47, 2.14, 2.78, 2.59],
    [2.11, 2.57, 2.32, 2.27, 2.33, 1.93, 2.66, 2.41],
];

fn position(list: &[&str], given: &str, what: &'static str) -> Result<usize> {
    let given = given.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    list.iter().position(|n| *n == given).ok_or_else(|| {
        ErrorKind::UnknownName {
            what,
            given,
            valid: list.iter().map(|s| s.to_string()).collect(),
        }
        .into()
    })
}

/// `turner:OUTCOME:COMPARISON` or `rhodes:OUTCOME:COMPARISON`, if `text` is one.
pub(super) fn by_setting(text: &str) -> Option<Result<TauPrior>> {
    let mut parts = text.trim().split(':');
    let source = parts.next()?.trim().to_ascii_lowercase();
    let (outcome, comparison) = (parts.next()?, parts.next().unwrap_or("pharma-placebo"));
    Some(match source.as_str() {
        "turner" => (|| {
            let o = position(
                &TURNER_OUTCOMES,
                outcome,
                "outcome type (Turner et al. 2015)",
            )?;
            let c = position(
                &TURNER_COMPARISONS,
                comparison,
                "comparison (Turner et al. 2015)",
            )?;
            Ok(TauPrior::LogNormal {
                mu: -TURNER_MEAN[c][o],
                sigma: TURNER_SD[c][o],
            })
        })(),
        "rhodes" => (|| {
            let o = position(
                &RHODES_OUTCOMES,
                outcome,
                "outcome type (Rhodes et al. 2015)",
            )?;
            let c = position(
                &RHODES_COMPARISONS,
                comparison,
                "comparison (Rhodes et al. 2015)",
            )?;
            Ok(TauPrior::LogStudentT {
                location: -RHODES_LOCATION[c][o],
                scale: RHODES_SCALE[c][o],
                df: 5.0,
            })
        })(),
        _ => return None,
    })
}
