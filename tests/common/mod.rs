//! Shared test helpers: the one definition of "agrees with metafor".

#![allow(dead_code)]

use serde_json::Value;

/// Relative tolerance for agreement with metafor's reference values.
pub const RELATIVE: f64 = 1e-6;
/// Absolute floor, for quantities whose reference value is zero or within
/// rounding of it (τ² on the boundary, where metafor's step-halving stops a
/// hair above 0): far below any printed digit.
pub const ABSOLUTE: f64 = 1e-10;

/// True when `actual` agrees with `expected` within the tolerances.
pub fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= RELATIVE * expected.abs() + ABSOLUTE
}

/// Compares two JSON numbers (or nulls); returns a description of a mismatch.
pub fn compare(what: &str, actual: Option<&Value>, expected: &Value) -> Option<String> {
    let actual = actual.cloned().unwrap_or(Value::Null);
    match (actual.as_f64(), expected.as_f64()) {
        (Some(a), Some(e)) if close(a, e) => None,
        (None, None) if actual.is_null() && expected.is_null() => None,
        _ => Some(format!("{what}: cochran {actual}, metafor {expected}")),
    }
}

/// Reads a reference file from tests/reference.
pub fn golden(name: &str) -> Value {
    let path = format!("{}/tests/reference/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The path of a repository file.
pub fn repo_path(relative: &str) -> String {
    format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"))
}
