//! Files as spreadsheets and other tools export them (issue 12, first part):
//! every variant of a real dataset gives the result and labels of the clean CSV.

mod common;

use serde_json::Value;

/// bangertdrowns2004.csv (effects with decimals) rewritten with another delimiter, decimal commas, a byte-order
/// mark and CRLF, an `Author` column, or trailing empty rows.
fn variant(name: &str, delimiter: &str, decimal_comma: bool, author: bool, tail: bool) -> String {
    let clean = std::fs::read_to_string(common::repo_path(CLEAN)).unwrap();
    let mut lines: Vec<String> = clean
        .lines()
        .map(|line| {
            // The clean file quotes every text field, so splitting on `","`-free commas is safe
            // for its numeric cells; quoted labels keep their commas.
            let mut cells = Vec::new();
            let mut current = String::new();
            let mut quoted = false;
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => cells.push(std::mem::take(&mut current)),
                    _ => current.push(c),
                }
            }
            cells.push(current);
            cells
                .into_iter()
                .map(|cell| {
                    let cell = if decimal_comma && cell.contains('.') && cell.parse::<f64>().is_ok()
                    {
                        cell.replace('.', ",")
                    } else {
                        cell
                    };
                    if cell.contains(delimiter) {
                        format!("\"{cell}\"")
                    } else {
                        cell
                    }
                })
                .collect::<Vec<_>>()
                .join(delimiter)
        })
        .collect();
    if author {
        lines[0] = lines[0].replacen("study", "Author", 1);
    }
    if tail {
        let empty = delimiter.repeat(lines[0].matches(delimiter).count());
        lines.extend([empty.clone(), empty]);
    }
    let text = lines.join("\n") + "\n";
    if decimal_comma {
        assert!(text.contains("0,65"), "the variant has decimal commas");
    }
    let bytes = match name {
        "bom_crlf.csv" => [&b"\xef\xbb\xbf"[..], text.replace('\n', "\r\n").as_bytes()].concat(),
        _ => text.into_bytes(),
    };
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ingest_{name}"));
    std::fs::write(&path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

const CLEAN: &str = "datasets/bangertdrowns2004.csv";

fn analyse(path: &str) -> Value {
    common::json(&["analyze", path, "--measure", "GEN", "--format", "json"])
}

#[test]
fn every_variant_of_a_file_gives_the_clean_result() {
    let clean = analyse(&common::repo_path(CLEAN));
    let variants = [
        ("comma.csv", ",", false, false, false, None),
        ("bom_crlf.csv", ",", false, false, false, None),
        (
            "semicolon.csv",
            ";",
            true,
            false,
            false,
            Some("semicolon-separated"),
        ),
        ("tab.tsv", "\t", true, false, false, Some("tab-separated")),
        ("pipe.txt", "|", false, false, false, Some("pipe-separated")),
        (
            "author.csv",
            ",",
            false,
            true,
            false,
            Some("labelled by the `author` column"),
        ),
        ("trailing.csv", ",", false, false, true, None),
    ];
    for (name, delimiter, decimal_comma, author, tail, note) in variants {
        let ours = analyse(&variant(name, delimiter, decimal_comma, author, tail));
        for key in ["k", "estimate", "se", "tau2", "q"] {
            assert_eq!(ours[key], clean[key], "{name}: {key}");
        }
        let labels = |v: &Value| -> Vec<Value> {
            v["studies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["study"].clone())
                .collect()
        };
        assert_eq!(labels(&ours), labels(&clean), "{name}");
        assert!(ours["excluded"].as_array().unwrap().is_empty(), "{name}");
        if let Some(note) = note {
            let notes = ours["notes"].to_string();
            assert!(notes.contains(note), "{name}: {notes}");
        }
    }
}

#[test]
fn fractional_counts_are_refused_with_their_column() {
    let cases = [
        (
            "RR",
            "study,events1,n1,events2,n2\nA,3.5,20,4,20\n",
            "events1",
        ),
        ("PR", "study,events,n\nA,3,20.5\n", "n"),
        (
            "SMD",
            "study,n1,mean1,sd1,n2,mean2,sd2\nA,10.2,5,1,10,4,1\n",
            "n1",
        ),
        ("IR", "study,events,time\nA,2.5,100\n", "events"),
    ];
    for (i, (measure, csv, column)) in cases.iter().enumerate() {
        let path = common::csv_file(&format!("fractional_{i}.csv"), csv);
        common::rejects(
            &["analyze", &path, "--measure", measure],
            &[column, "whole number", &path],
        );
    }
    // Person-time need not be whole.
    let path = common::csv_file(
        "fractional_time.csv",
        "study,events,time\nA,2,100.5\nB,3,80.25\n",
    );
    let json = common::json(&["analyze", &path, "--measure", "IR", "--format", "json"]);
    assert_eq!(json["k"], 2);
}

#[test]
fn near_miss_headers_are_suggested() {
    let path = common::csv_file(
        "near_miss.csv",
        "study,Events_1,n1,events2,n2s\nA,1,10,2,10\n",
    );
    common::rejects(
        &["analyze", &path, "--measure", "RR"],
        &["`events_1` (meant as `events1`?)", "`n2s` (meant as `n2`?)"],
    );
    let out = common::cochran(&["analyze", &path, "--measure", "RR"]);
    // A correct header is not offered as a misspelling of another.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("`n1` (meant"));
}

#[test]
fn delimiter_and_decimal_mark_can_be_set() {
    let semicolons = common::csv_file(
        "set_delimiter.csv",
        "study;yi;vi\nA;1,25;0,04\nB;0,5;0,05\nC;0,9;0,03\n",
    );
    let points = common::csv_file(
        "set_delimiter_points.csv",
        "study,yi,vi\nA,1.25,0.04\nB,0.5,0.05\nC,0.9,0.03\n",
    );
    let run = |file: &str, extra: &[&str]| {
        let mut args = vec!["analyze", file, "--measure", "GEN", "--format", "json"];
        args.extend(extra);
        common::json(&args)
    };
    let clean = run(&points, &[]);
    let set = run(
        &semicolons,
        &["--delimiter", "semicolon", "--decimal", "comma"],
    );
    for key in ["estimate", "se", "tau2", "ci_lower", "ci_upper"] {
        assert_eq!(set[key], clean[key], "{key}");
    }
    assert!(
        set["notes"]
            .to_string()
            .contains("semicolon-separated values (as set)")
    );
    // Decimal points only: `1,25` is not a number, and the error says where.
    common::rejects(
        &[
            "analyze",
            &semicolons,
            "--measure",
            "GEN",
            "--decimal",
            "point",
        ],
        &["column `yi`", "1,25"],
    );
    // The wrong delimiter leaves one column: no `yi`.
    common::rejects(
        &[
            "analyze",
            &semicolons,
            "--measure",
            "GEN",
            "--delimiter",
            "tab",
        ],
        &["no column `yi`"],
    );
    common::rejects(
        &["analyze", &points, "--measure", "GEN", "--delimiter", "xx"],
        &["--delimiter takes", "xx"],
    );
    common::rejects(
        &[
            "analyze",
            &points,
            "--measure",
            "GEN",
            "--decimal",
            "dot-ish",
        ],
        &["--decimal takes", "dot-ish"],
    );
    std::fs::remove_file(&semicolons).unwrap();
    std::fs::remove_file(&points).unwrap();
}
