//! A fuzz harness for ingest and the command line: mutations of the shipped
//! datasets (truncated rows, extra fields, NA/NaN/Inf/1e400/-0/hex, huge and
//! tiny values, zero variances, invalid UTF-8, NUL bytes, very wide files, very
//! long labels, duplicate headers) run through `cochran analyze` with random
//! measures, methods, tests, options and plot outputs.
//!
//! Every run must end in bounded time and memory with exit code 0 or 2 (1 only
//! for an output that cannot be written), never a panic, and a success must
//! report finite numbers only. `cargo test` runs a few hundred cases;
//! `COCHRAN_FUZZ_CASES=50000 cargo test --release -- fuzz` runs more; `COCHRAN_FUZZ_SEED` picks another sequence;
//! `COCHRAN_FUZZ_SHOW=1` prints the refusals' messages.

use crate::common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Cases in every `cargo test`: enough to catch a new panic on the common
/// paths in seconds; the long loop is `COCHRAN_FUZZ_CASES`.
const DEFAULT_CASES: usize = 300;
/// Wall-clock limit of one run (debug build, slowest plots included).
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Address-space limit of one run, in KiB.
const MEMORY_LIMIT_KB: u64 = 4 * 1024 * 1024;

/// Valid files and the measures that fit them.
const SEEDS: &[(&str, &[&str])] = &[
    ("datasets/bcg.csv", &["OR", "RR", "RD"]),
    ("datasets/normand1999.csv", &["MD", "SMD", "ROM"]),
    ("datasets/morris2008.csv", &["MC", "SMCC", "SMCR"]),
    ("datasets/morris2008_controlled.csv", &["SMCRD", "MCD"]),
    ("datasets/hip_oa_msc.csv", &["MC", "SMCR", "SMCC"]),
    ("datasets/bangertdrowns2004.csv", &["GEN"]),
    ("tests/reference/data/hackshaw1998.csv", &["GEN"]),
    ("tests/reference/data/hackshaw1998_sei.csv", &["GEN"]),
    (
        "tests/reference/data/nielweise2007.csv",
        &["OR", "RR", "RD"],
    ),
    (
        "datasets/pritz1997.csv",
        &["PR", "PLN", "PLO", "PAS", "PFT"],
    ),
    ("tests/reference/data/normand1999_arm1.csv", &["MN", "MNLN"]),
    ("datasets/molloy2014.csv", &["COR", "ZCOR"]),
    (
        "tests/reference/data/rates_zero_arm1.csv",
        &["IR", "IRLN", "IRS", "IRFT"],
    ),
    ("datasets/nielweise2008.csv", &["IRR", "IRD"]),
];

const MEASURES: &[&str] = &[
    "GEN", "MD", "SMD", "ROM", "MC", "SMCC", "SMCR", "SMCRD", "MCD", "OR", "RR", "RD", "PR", "PLO",
    "PFT", "MNLN", "ZCOR", "IRFT", "IRR", "XYZ",
];
const METHODS: &[&str] = &[
    "REML", "DL", "HE", "HS", "SJ", "ML", "EB", "PM", "FE", "MH", "PETO", "GLMM", "GLMM",
    "nonsense",
];
const CELLS: &[&str] = &[
    "NA",
    "NaN",
    "nan",
    "Inf",
    "-inf",
    "1e400",
    "-1e400",
    "-0",
    "0",
    "0x1A",
    "1e-400",
    "1e300",
    "-1e300",
    "1e-300",
    "1e-320",
    "1e150",
    "1e-150",
    "abc",
    "3.5",
    "\u{2212}1",
    " 1 ",
    "1,5",
    "",
    "-1",
    "1e15",
    "1e-15",
    "2",
    "100",
    "0.5",
];

/// xorshift64*: a fixed, dependency-free sequence.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One mutation of a CSV file's bytes.
fn mutate(rng: &mut Rng, text: &str) -> Vec<u8> {
    let mut lines: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let rows = lines.len();
    let cell = |rng: &mut Rng, lines: &Vec<Vec<String>>| {
        let r = 1 + rng.below(rows.max(2) - 1).min(rows.saturating_sub(2));
        let c = rng.below(lines[r.min(rows - 1)].len().max(1));
        (r.min(rows - 1), c)
    };
    match rng.below(20) {
        0 => {
            let (r, _) = cell(rng, &lines);
            let keep = rng.below(lines[r].len().max(1));
            lines[r].truncate(keep);
        }
        1 => {
            let (r, _) = cell(rng, &lines);
            lines[r].push("extra".into());
        }
        2..=6 => {
            for _ in 0..=rng.below(3) {
                let (r, c) = cell(rng, &lines);
                if c < lines[r].len() {
                    lines[r][c] = rng.pick(CELLS).to_string();
                }
            }
        }
        7 => {
            let (r, _) = cell(rng, &lines);
            lines[r][0] = "L".repeat(65_536 + rng.below(10_000));
        }
        8 => {
            let c = rng.below(lines[0].len());
            let other = rng.below(lines[0].len());
            lines[0][c] = lines[0][other].clone();
        }
        9 => {
            // Very wide: 100,000 columns.
            for line in &mut lines {
                line.extend(std::iter::repeat_n("1".to_string(), 100_000));
            }
        }
        10 => {
            // Many studies: past the size a forest plot can hold.
            let body: Vec<Vec<String>> = lines[1..].to_vec();
            for i in 0..(1600 / body.len().max(1)) {
                lines.extend(body.iter().map(|row| {
                    let mut row = row.clone();
                    row[0] = format!("{}-{i}", row[0]);
                    row
                }));
            }
        }
        11 => lines.truncate(1 + rng.below(2)),
        12 => lines.clear(),
        13 => {
            let (r, c) = cell(rng, &lines);
            if c < lines[r].len() {
                lines[r][c] = "0".into();
            }
        }
        _ => {}
    }
    let mut bytes = lines
        .iter()
        .map(|l| l.join(","))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes();
    bytes.push(b'\n');
    if rng.chance(8) && !bytes.is_empty() {
        let at = rng.below(bytes.len());
        bytes[at] = rng.pick(&[0xff, 0xfe, 0x00, 0xc3, b'"', b'\r']);
    }
    bytes
}

fn arguments(rng: &mut Rng, file: &Path, fits: &[&str], scratch: &Path) -> Vec<String> {
    let measure = if rng.chance(85) {
        rng.pick(fits)
    } else {
        rng.pick(MEASURES)
    };
    let mut args: Vec<String> = vec![
        "analyze".into(),
        file.display().to_string(),
        "--measure".into(),
        measure.to_string(),
        "--method".into(),
        rng.pick(METHODS).to_string(),
        "--format".into(),
        rng.pick(&["json", "json", "text", "csv"]).to_string(),
    ];
    let mut add = |flag: &str, value: &str| {
        args.push(flag.into());
        if !value.is_empty() {
            args.push(value.into());
        }
    };
    if rng.chance(40) {
        add("--test", rng.pick(&["knha", "knha", "adhoc"]));
    }
    if rng.chance(15) {
        add(
            "--model",
            rng.pick(&["CM.AL", "CM.AL", "CM.EL", "UM.FS", "um.xx"]),
        );
    }
    if rng.chance(8) {
        add("--pi", "t");
    }
    if rng.chance(12) {
        add("--bayes", "");
        if rng.chance(50) {
            add(
                "--tau-prior",
                rng.pick(&[
                    "half-normal(0.5)",
                    "half-cauchy(1)",
                    "uniform",
                    "jeffreys",
                    "turner",
                    "rhodes",
                    "half-t(0, 1)",
                    "uniform(1e-300)",
                    "half-normal(1e300)",
                ]),
            );
        }
        if rng.chance(20) {
            add(
                "--mu-prior",
                rng.pick(&["normal(0, 1)", "normal(0, 1e-300)", "uniform"]),
            );
        }
    }
    if rng.chance(10) {
        add(
            "--level",
            rng.pick(&["90", "99.99999999999999", "0", "100", "NaN", "99"]),
        );
    }
    if rng.chance(if ["MC", "SMCC", "SMCR"].contains(&measure) {
        70
    } else {
        10
    }) {
        add(
            "--r",
            rng.pick(&["0.5", "impute", "1", "-1", "2", "NaN", "0"]),
        );
    }
    if rng.chance(10) {
        add("--rescale", rng.pick(&["100", "0", "NaN", "inf", "-5"]));
    }
    if rng.chance(10) {
        add("--impute-sd", rng.pick(&["mean", "max"]));
    }
    if rng.chance(10) {
        add("--improvement-positive", "");
    }
    if rng.chance(15) {
        add(
            "--by",
            rng.pick(&["outcome", "subgroup", "alloc", "nothing"]),
        );
    }
    if rng.chance(5) {
        add("--r-sensitivity", "0.2,0.5,0.8");
    }
    if rng.chance(12) {
        add(
            "--cluster",
            rng.pick(&["study", "alloc", "subgroup", "outcome", "nothing", "year"]),
        );
        if rng.chance(40) {
            add("--robust", "");
        }
        if rng.chance(25) {
            add("--rve", "");
            if rng.chance(50) {
                add("--rho", rng.pick(&["0.8", "0", "1", "1.5", "NaN", "-0.2"]));
            }
        }
    } else if rng.chance(3) {
        add(rng.pick(&["--robust", "--rve"]), "");
    }
    if rng.chance(8) {
        add(
            "--time",
            rng.pick(&["6", "latest", "all", "soon", "NaN", "-1"]),
        );
    }
    if rng.chance(6) {
        add(
            "--prefer",
            rng.pick(&["HHS,WOMAC", "WOMAC", "XYZ", "mHHS,HHS"]),
        );
    }
    if rng.chance(5) {
        add("--strict", "");
    }
    if rng.chance(15) {
        let mods = rng.pick(&[
            "ablat",
            "alloc",
            "ablat,year",
            "grade",
            "subgroup",
            "yi",
            "nothing",
            "r",
        ]);
        add("--mods", mods);
        if rng.chance(20) {
            add("--no-intercept", "");
        }
        if rng.chance(20) {
            add(
                "--predict",
                rng.pick(&["ablat=40", "alloc=random", "grade=2", "x=1", "ablat=NaN"]),
            );
        }
        if rng.chance(10) {
            add("--permutations", rng.pick(&["50", "0", "2"]));
        }
        if rng.chance(10) {
            let path = scratch.join("bubble.svg").display().to_string();
            add("--bubble", &path);
        }
    }
    if rng.chance(5) {
        add(
            "--subgroup-tau2",
            rng.pick(&["common", "separate", "shared"]),
        );
    }
    if rng.chance(12) {
        let ext = if rng.chance(10) { "png" } else { "svg" };
        add(
            "--forest",
            &scratch.join(format!("forest.{ext}")).display().to_string(),
        );
        forest_settings(rng, &mut add);
    }
    if rng.chance(8) {
        add(
            "--columns",
            rng.pick(&["study=author", "yi=effect,vi=var", "study", "n1=n1", "=x"]),
        );
    }
    if rng.chance(5) {
        add("--delimiter", rng.pick(&["semicolon", "tab", ";", "xx"]));
    }
    if rng.chance(5) {
        add("--decimal", rng.pick(&["comma", "point", "both"]));
    }
    if rng.chance(3) {
        add("--sheet", "Data");
    }
    if rng.chance(12) {
        let ext = if rng.chance(10) { "png" } else { "svg" };
        add(
            "--funnel",
            &scratch.join(format!("funnel.{ext}")).display().to_string(),
        );
        if rng.chance(50) {
            add("--contours", "");
        }
    }
    if rng.chance(30) {
        sensitivity_command(rng, &mut args, scratch);
    }
    args
}

/// The forest plot's settings, valid and not.
fn forest_settings(rng: &mut Rng, add: &mut impl FnMut(&str, &str)) {
    if rng.chance(30) {
        add(
            "--sort",
            rng.pick(&["estimate", "weight", "year", "study", "nothing", "file"]),
        );
    }
    if rng.chance(20) {
        add(
            "--xlim",
            rng.pick(&["0.1,10", "-1,1", "5,1", "NaN,1", "0,0", "1"]),
        );
    }
    if rng.chance(20) {
        add("--decimals", rng.pick(&["0", "3", "40"]));
    }
    if rng.chance(20) {
        add("--both", "");
    }
    if rng.chance(15) {
        add(
            "--labels",
            rng.pick(&["treatment=A,control=B", "A,B", "x", "control=,treatment="]),
        );
    }
    if rng.chance(15) {
        add("--favours", rng.pick(&["Left,Right", "no comma", ","]));
    }
}

/// Turns the `analyze` call into one of the sensitivity or bias subcommands,
/// with their own options (GOSH always on a bounded number of subsets: the
/// debug build fits them slowly).
fn sensitivity_command(rng: &mut Rng, args: &mut Vec<String>, scratch: &Path) {
    let command = rng.pick(&["leave-one-out", "cumulative", "influence", "bias", "gosh"]);
    args[0] = command.to_string();
    let plot = |name: &str| scratch.join(name).display().to_string();
    let mut add = |flag: &str, value: &str| {
        args.push(flag.into());
        if !value.is_empty() {
            args.push(value.into());
        }
    };
    match command {
        "cumulative" => add("--order", rng.pick(&["year", "ablat", "study", "nothing"])),
        "influence" if rng.chance(30) => {
            add("--plot", &plot("influence.svg"));
            add("--baujat", &plot("baujat.svg"));
        }
        "bias" => {
            if rng.chance(30) {
                add("--estimator", rng.pick(&["R0", "L0", "Q9"]));
            }
            if rng.chance(20) {
                add("--side", rng.pick(&["left", "right", "up"]));
            }
            if rng.chance(20) {
                add("--fsn-target", rng.pick(&["0", "0.1", "-0.2", "NaN"]));
            }
        }
        "gosh" => {
            add("--subsets", rng.pick(&["200", "1", "0"]));
            add("--seed", "3");
            if rng.chance(30) {
                add("--plot", &plot("gosh.svg"));
            }
            if rng.chance(30) {
                add("--out", &plot("gosh.csv"));
            }
        }
        _ => {}
    }
}

/// Runs the binary under the time and memory limits; `None` when it was killed.
fn run(args: &[String]) -> Option<(i32, String, String, Duration)> {
    run_within(args, MEMORY_LIMIT_KB)
}

/// An exit code, standard output and error, and the time taken.
pub type Outcome = (i32, String, String, Duration);

/// Runs the binary with an address space of `memory_kb` KiB at most;
/// `None` when it was killed for taking longer than the time limit.
pub fn run_within(args: &[String], memory_kb: u64) -> Option<Outcome> {
    run_limited(args, memory_kb, TIME_LIMIT)
}

/// [`run_within`] with a time limit of its own.
pub fn run_limited(args: &[String], memory_kb: u64, time: Duration) -> Option<Outcome> {
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {memory_kb} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_cochran"))
        .args(args)
        .current_dir(common::ROOT)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        err.read_to_end(&mut s).ok();
        s
    });
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let stdout = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
            let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
            return Some((status.code().unwrap_or(-1), stdout, stderr, start.elapsed()));
        }
        if start.elapsed() > time {
            child.kill().ok();
            child.wait().ok();
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Keys whose values must be numbers wherever they appear in a successful result.
const NUMBER_KEYS: &[&str] = &[
    "estimate", "se", "ci_lower", "ci_upper", "tau2", "yi", "vi", "weight",
];

fn non_finite(value: &Value, path: &str, problems: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            // An outcome that could not be analysed carries an error, not numbers.
            for (key, v) in map {
                let here = format!("{path}.{key}");
                if NUMBER_KEYS.contains(&key.as_str())
                    && v.is_null()
                    && !map.contains_key("coefficients")
                {
                    problems.push(format!("{here} is null"));
                }
                non_finite(v, &here, problems);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                non_finite(v, &format!("{path}[{i}]"), problems);
            }
        }
        Value::Number(n) if !n.as_f64().is_some_and(f64::is_finite) => {
            problems.push(format!("{path} = {n}"));
        }
        _ => {}
    }
}

/// What is wrong with one run, if anything.
pub fn verdict(
    args: &[String],
    outcome: Option<(i32, String, String, Duration)>,
) -> Option<String> {
    let Some((code, stdout, stderr, _)) = outcome else {
        return Some(format!("hang (over {TIME_LIMIT:?}): {args:?}"));
    };
    let shown = |s: &str| s.chars().take(300).collect::<String>();
    if stderr.contains("panicked") || stderr.contains("memory allocation") {
        return Some(format!("panic: {args:?}: {}", shown(&stderr)));
    }
    let io_failure = stderr.contains("cannot write");
    match code {
        0 => {}
        2 if stderr.starts_with("error: ") => return None,
        1 if io_failure => return None,
        _ => return Some(format!("exit {code}: {args:?}: {}", shown(&stderr))),
    }
    let format = args
        .iter()
        .skip_while(|a| *a != "--format")
        .nth(1)
        .map(String::as_str);
    if format == Some("json") {
        match serde_json::from_str::<Value>(&stdout) {
            Ok(json) => {
                let mut problems = Vec::new();
                non_finite(&json, "", &mut problems);
                if !problems.is_empty() {
                    return Some(format!("non-finite: {args:?}: {}", problems.join("; ")));
                }
            }
            Err(e) => return Some(format!("bad JSON ({e}): {args:?}")),
        }
    } else if format == Some("csv") {
        // Every field of a numeric column is a finite number.
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(stdout.as_bytes());
        let numeric: Vec<usize> = match reader.headers() {
            Ok(h) => h
                .iter()
                .enumerate()
                .filter(|(_, name)| NUMBER_KEYS.contains(name) || *name == "se")
                .map(|(i, _)| i)
                .collect(),
            Err(_) => return Some(format!("bad CSV: {args:?}")),
        };
        for record in reader.records() {
            let Ok(record) = record else {
                return Some(format!("bad CSV: {args:?}"));
            };
            let bad = numeric
                .iter()
                .filter_map(|&i| record.get(i))
                .find(|f| !f.parse::<f64>().is_ok_and(f64::is_finite));
            if let Some(field) = bad {
                return Some(format!("non-finite in CSV ({field}): {args:?}"));
            }
        }
    }
    None
}

/// `COCHRAN_FUZZ_SHOW=1` prints every refusal's message, to read them.
fn show_refusals() -> bool {
    std::env::var_os("COCHRAN_FUZZ_SHOW").is_some()
}

#[derive(Default)]
struct Tally {
    runs: usize,
    successes: usize,
    refusals: usize,
    failures: Vec<String>,
}

fn fuzz_range(seed: u64, cases: std::ops::Range<usize>, scratch: &Path) -> Tally {
    let seeds: Vec<(String, &[&str])> = SEEDS
        .iter()
        .map(|(p, fits)| {
            (
                std::fs::read_to_string(common::repo_path(p)).unwrap(),
                *fits,
            )
        })
        .collect();
    let mut tally = Tally::default();
    for case in cases {
        let mut rng = Rng(seed ^ (case as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (base, fits) = &seeds[rng.below(seeds.len())];
        let bytes = mutate(&mut rng, base);
        let file = scratch.join(format!("case{case}.csv"));
        std::fs::write(&file, &bytes).unwrap();
        let args = arguments(&mut rng, &file, fits, scratch);
        let outcome = run(&args);
        tally.runs += 1;
        if let (Some((2, _, stderr, _)), true) = (&outcome, show_refusals()) {
            eprintln!(
                "refused: {}",
                stderr.trim_end().chars().take(300).collect::<String>()
            );
        }
        match &outcome {
            Some((0, ..)) => tally.successes += 1,
            Some(_) => tally.refusals += 1,
            None => {}
        }
        if let Some(failure) = verdict(&args, outcome) {
            std::fs::copy(&file, scratch.join(format!("failed{case}.csv"))).ok();
            tally.failures.push(failure);
        } else {
            std::fs::remove_file(&file).ok();
        }
    }
    tally
}

#[test]
fn the_command_line_survives_mutated_input() {
    let cases: usize = std::env::var("COCHRAN_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let seed: u64 = std::env::var("COCHRAN_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261130);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    let started = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        (0..threads)
            .map(|t| {
                let scratch = root.join(format!("t{t}"));
                std::fs::create_dir_all(&scratch).unwrap();
                let range = (t * cases / threads)..((t + 1) * cases / threads);
                scope.spawn(move || fuzz_range(seed, range, &scratch))
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect()
    });
    let total = tallies.iter().fold(Tally::default(), |mut acc, t| {
        acc.runs += t.runs;
        acc.successes += t.successes;
        acc.refusals += t.refusals;
        acc.failures.extend(t.failures.iter().cloned());
        acc
    });
    eprintln!(
        "fuzz: {} runs in {:.1?} (seed {seed}): {} succeeded, {} refused, {} failed",
        total.runs,
        started.elapsed(),
        total.successes,
        total.refusals,
        total.failures.len()
    );
    assert_eq!(total.runs, cases);
    assert!(
        total.failures.is_empty(),
        "{} failures (files kept in {}):\n{}",
        total.failures.len(),
        root.display(),
        total.failures.join("\n")
    );
    if total.failures.is_empty() {
        std::fs::remove_dir_all(&root).ok();
    }
}

/// Spreadsheets with damaged bytes or cut short: errors, never panics or
/// hangs (calamine unzips and parses XML the file controls).
#[test]
fn damaged_spreadsheets_are_errors_not_panics() {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz_sheets");
    std::fs::create_dir_all(&scratch).unwrap();
    let fixtures = ["xlsx", "ods"].map(|ext| {
        let path = common::repo_path(&format!("tests/data/bangertdrowns2004.{ext}"));
        (ext, std::fs::read(path).unwrap())
    });
    let mut rng = Rng(20261130);
    let mut failures = Vec::new();
    for case in 0..200 {
        let (ext, original) = &fixtures[case % fixtures.len()];
        let mut bytes = original.clone();
        if rng.chance(30) {
            bytes.truncate(rng.below(bytes.len()));
        } else {
            for _ in 0..=rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] = (rng.next() & 0xff) as u8;
            }
        }
        let file = scratch.join(format!("case{case}.{ext}"));
        std::fs::write(&file, &bytes).unwrap();
        let args: Vec<String> = [
            "analyze",
            file.to_str().unwrap(),
            "--measure",
            "GEN",
            "--format",
            "json",
        ]
        .map(String::from)
        .into();
        if let Some(failure) = verdict(&args, run(&args)) {
            failures.push(failure);
        } else {
            std::fs::remove_file(&file).ok();
        }
    }
    assert!(
        failures.is_empty(),
        "files kept in {}:\n{}",
        scratch.display(),
        failures.join("\n")
    );
    std::fs::remove_dir_all(&scratch).ok();
}
