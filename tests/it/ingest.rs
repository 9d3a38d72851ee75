//! Files as spreadsheets and other tools export them (issue 12, first part):
//! every variant of a real dataset gives the result and labels of the clean CSV.

use crate::common;

use serde_json::Value;

/// bangertdrowns2004.csv (effects with decimals) rewritten with another delimiter, decimal commas, a byte-order
/// mark and CRLF, an `Author` column, or trailing empty rows.
fn variant(
    name: &str,
    delimiter: &str,
    decimal_comma: bool,
    author: bool,
    tail: bool,
) -> common::TempFile {
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
    common::scratch_file(&format!("ingest_{name}"), &bytes)
}

const CLEAN: &str = "datasets/bangertdrowns2004.csv";

fn analyse(path: &str) -> Value {
    analyse_with(path, &[])
}

fn analyse_with(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["analyze", path, "--measure", "GEN", "--format", "json"];
    args.extend(extra);
    common::json(&args)
}

fn labels(v: &Value) -> Vec<Value> {
    v["studies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["study"].clone())
        .collect()
}

/// The same pooled result, the same labels and rows, nothing excluded, and the note
/// saying what was detected.
fn assert_same(name: &str, ours: &Value, reference: &Value, note: Option<&str>) {
    for key in [
        "k", "estimate", "se", "tau2", "q", "i2", "ci_lower", "ci_upper",
    ] {
        assert_eq!(ours[key], reference[key], "{name}: {key}");
    }
    assert_eq!(labels(ours), labels(reference), "{name}");
    // Each study's row as the file shows it: lines of text, rows of a sheet.
    let rows = |v: &Value| -> Vec<Value> {
        let studies = v["studies"].as_array().unwrap();
        studies.iter().map(|s| s["row"].clone()).collect()
    };
    assert_eq!(rows(ours), rows(reference), "{name}");
    assert!(ours["excluded"].as_array().unwrap().is_empty(), "{name}");
    if let Some(note) = note {
        let notes = ours["notes"].to_string();
        assert!(notes.contains(note), "{name}: {notes}");
    }
}

#[test]
fn encodings_give_the_labels_of_utf8() {
    // Labels outside ASCII; the en dash is in Windows-1252 but not in Latin-1.
    let text = std::fs::read_to_string(common::repo_path(CLEAN))
        .unwrap()
        .replace("Ashworth", "Äshwörth–Séverine");
    let utf8 = common::scratch_file("accented_utf8.csv", text.as_bytes());
    let reference = analyse(&utf8);
    assert!(labels(&reference).contains(&Value::from("Äshwörth–Séverine 1992")));
    let clean = analyse(&common::repo_path(CLEAN));
    assert_eq!(reference["estimate"], clean["estimate"]);
    let utf16 = |little: bool| -> Vec<u8> {
        let bom: &[u8] = if little { b"\xff\xfe" } else { b"\xfe\xff" };
        let units = text.encode_utf16();
        let bytes = units.flat_map(|u| {
            if little {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            }
        });
        bom.iter().copied().chain(bytes).collect()
    };
    let (cp1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    let variants = [
        ("utf16le.csv", utf16(true), "UTF-16 (little-endian)"),
        ("utf16be.csv", utf16(false), "UTF-16 (big-endian)"),
        ("cp1252.csv", cp1252.into_owned(), "decoded as Windows-1252"),
    ];
    for (name, bytes, note) in variants {
        let file = common::scratch_file(name, &bytes);
        assert_same(name, &analyse(&file), &reference, Some(note));
    }
}

#[test]
fn spreadsheets_give_the_clean_result() {
    let clean = analyse(&common::repo_path(CLEAN));
    let xlsx = common::repo_path("tests/data/bangertdrowns2004.xlsx");
    let note = "read the sheet `Data` (the workbook's sheets: Data, Notes";
    assert_same("xlsx", &analyse(&xlsx), &clean, Some(note));
    let ods = common::repo_path("tests/data/bangertdrowns2004.ods");
    let ours = analyse_with(&ods, &["--sheet", "data"]);
    assert_same("ods", &ours, &clean, Some("read the sheet `Data`"));
    // The first sheet holds a note, not studies: the error says which sheets there are.
    common::rejects(
        &["analyze", &ods, "--measure", "GEN"],
        &[
            "sheet `Read me` has no data rows",
            "`Read me`, `Data`",
            "--sheet",
        ],
    );
}

#[test]
fn renamed_columns_are_mapped_with_columns() {
    let clean_path = common::repo_path(CLEAN);
    let clean = analyse(&clean_path);
    let text = std::fs::read_to_string(&clean_path).unwrap();
    let renamed = text.replacen(
        "\"study\",\"yi\",\"vi\"",
        "\"Trial name\",\"SMD\",\"Var SMD\"",
        1,
    );
    assert_ne!(renamed, text);
    let file = common::scratch_file("renamed.csv", renamed.as_bytes());
    let mapping = "study=Trial name,yi=SMD,vi=Var SMD";
    let ours = analyse_with(&file, &["--columns", mapping]);
    assert_same(
        "renamed",
        &ours,
        &clean,
        Some("the column `Var SMD` is read as `vi`"),
    );
    // Without the mapping the file's names are suggested.
    common::rejects(
        &["analyze", &file, "--measure", "GEN"],
        &[
            "no column `yi`, `vi`",
            "the file's columns are `trial name`, `smd`, `var smd`",
        ],
    );
    for (mapping, says) in [
        ("yi=Effect", "no column `effect`"),
        ("yi=SMD,yi=Var SMD", "two columns to `yi`"),
        ("yi", "NAME=HEADER"),
        // Issue 19, item 21: one column under two names, and the file's own
        // headers (not the names mapped so far) in the list.
        (
            "yi=SMD,vi=SMD",
            "maps the column `SMD` to both `yi` and `vi`",
        ),
        (
            "yi=SMD,vi=Variance",
            "its columns are `Trial name`, `SMD`, `Var SMD`",
        ),
    ] {
        common::rejects(
            &["analyze", &file, "--measure", "GEN", "--columns", mapping],
            &[says],
        );
    }
}

#[test]
fn files_that_cannot_be_read_are_clear_errors() {
    let xlsx_bytes = std::fs::read(common::repo_path("tests/data/bangertdrowns2004.xlsx")).unwrap();
    let bad_cell = common::repo_path("tests/data/bad_cell.xlsx");
    let utf16_bad: Vec<u8> = [&b"\xff\xfe"[..], b"s\x00t\x00\x00\xd8"].concat();
    let cases: Vec<(&str, Vec<u8>, Vec<&str>)> = vec![
        ("excel.csv", xlsx_bytes, vec!["is a spreadsheet", ".xlsx"]),
        ("empty.csv", Vec::new(), vec!["no data rows"]),
        (
            "header_only.csv",
            b"study,yi,vi\n".to_vec(),
            vec!["no data rows"],
        ),
        (
            "binary.csv",
            vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0],
            vec!["binary file"],
        ),
        ("broken_utf16.csv", utf16_bad, vec!["not valid UTF-16"]),
        (
            "twice.csv",
            b"study,yi,vi,YI\nA,1,1,1\n".to_vec(),
            vec!["`yi` twice (columns 2 and 4)"],
        ),
    ];
    for (name, bytes, says) in cases {
        let file = common::scratch_file(name, &bytes);
        let mut fragments = vec![name];
        fragments.extend(says);
        common::rejects(&["analyze", &file, "--measure", "GEN"], &fragments);
    }
    let csv = common::repo_path(CLEAN);
    let xlsx = common::repo_path("tests/data/bangertdrowns2004.xlsx");
    let settings: [(&str, &[&str], &[&str]); 4] = [
        (
            &bad_cell,
            &[],
            &["bad_cell.xlsx, Data!C5, column `yi`: expected a number, found `abc`"],
        ),
        (
            &xlsx,
            &["--sheet", "Results"],
            &["no sheet `Results`", "`Data`, `Notes`"],
        ),
        (
            &xlsx,
            &["--delimiter", ";"],
            &["--delimiter applies to text files"],
        ),
        (
            &csv,
            &["--sheet", "Data"],
            &["--sheet applies to spreadsheets"],
        ),
    ];
    for (path, extra, says) in settings {
        let mut args = vec!["analyze", path, "--measure", "GEN"];
        args.extend(extra);
        common::rejects(&args, says);
        let stderr = String::from_utf8_lossy(&common::cochran(&args).stderr).into_owned();
        assert!(
            !stderr.contains("Error {") && !stderr.contains("kind:"),
            "{stderr}"
        );
    }
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
        assert_same(name, &ours, &clean, note);
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
}
