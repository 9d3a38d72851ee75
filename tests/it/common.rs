//! Shared test helpers: the one definition of "agrees with metafor".

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// Relative tolerance between two ways cochran computes the same model (a
/// refit with shortcuts against one from scratch): both converge to 1e-12.
pub const SAME_MODEL: f64 = 1e-9;

/// Relative tolerance for agreement with metafor's reference values.
pub const RELATIVE: f64 = 1e-6;
/// Absolute floor, for quantities whose reference value is zero or within
/// rounding of it (τ² on the boundary, where metafor's step-halving stops a
/// hair above 0): far below any printed digit.
pub const ABSOLUTE: f64 = 1e-10;

/// Agreement with the high-precision (mpmath) reference, relative to the data's
/// scale: the bar for ill-conditioned data.
pub const HIGH_PRECISION: f64 = 1e-8;

/// Agreement of posterior summaries with the mpmath evaluation of the same
/// integrals (tests/reference/bayes), relative to the value's size plus its
/// distribution's SD (so that a quantile near 0 is held to its scale): the
/// issue's bar, "posterior quantiles to 1e-6 relative".
pub const POSTERIOR: f64 = 1e-6;

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

/// The repository's root folder (the tests belong to the command-line crate in
/// `cli/`; data, datasets and references are at the root).
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// Reads a reference file from tests/reference.
pub fn golden(name: &str) -> Value {
    let path = format!("{ROOT}/tests/reference/{name}.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The path of a repository file.
pub fn repo_path(relative: &str) -> String {
    format!("{ROOT}/{relative}")
}

/// The `cochran` binary built for the tests, started in the repository's
/// root so that relative paths name its files.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cochran"));
    command.current_dir(ROOT);
    command
}

/// Runs the `cochran` binary built for the tests.
pub fn cochran(args: &[&str]) -> Output {
    command().args(args).output().expect("the binary runs")
}

/// Writes a CSV into the tests' scratch folder; the file is removed when the
/// returned path is dropped.
pub fn csv_file(name: &str, text: &str) -> TempFile {
    scratch_file(name, text.as_bytes())
}

/// Writes bytes into the tests' scratch folder; removed when dropped.
pub fn scratch_file(name: &str, bytes: &[u8]) -> TempFile {
    let path = output_path(name);
    std::fs::write(&*path, bytes).unwrap();
    path
}

/// A path in the tests' scratch folder for a program to write; the file is
/// removed when the path is dropped.
pub fn output_path(name: &str) -> TempFile {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    TempFile(path.to_string_lossy().into_owned())
}

/// A scratch file's path, removed with the file when dropped.
#[derive(Debug)]
pub struct TempFile(String);

impl std::ops::Deref for TempFile {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for TempFile {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

impl std::fmt::Display for TempFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs an analysis that must fail as bad input: exit code 2, an `error:` line
/// containing every expected fragment, and no panic.
pub fn rejects(args: &[&str], fragments: &[&str]) {
    let out = cochran(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "{args:?}: `{fragment}` not in: {stderr}"
        );
    }
}

/// Runs an analysis that must succeed with JSON output, and parses it.
pub fn json(args: &[&str]) -> Value {
    let out = cochran(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// Fails listing every disagreement with a reference, or passes when there are none.
pub fn assert_agrees(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Runs `work` on a pool of exactly `threads` threads.
pub fn with_threads<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(work)
}

/// The analysis a golden case describes (csv, measure, method, test), and its label.
pub fn golden_analysis(case: &serde_json::Value) -> (String, cochran::Analysis) {
    let text = |k: &str| case[k].as_str().unwrap_or("z"); // test: z unless given
    let label = format!(
        "{} {} {} {}",
        text("csv"),
        text("measure"),
        text("method"),
        text("test")
    );
    let options =
        cochran::AnalysisOptions::new(text("measure").parse::<cochran::Measure>().unwrap())
            .method(text("method").parse::<cochran::Method>().unwrap())
            .test(text("test").parse::<cochran::Test>().unwrap());
    let analysis = cochran::Analysis::from_csv(repo_path(text("csv")), &options).unwrap();
    (label, analysis)
}
