//! Hostile and careless input (issue 19): spreadsheets that claim far cells,
//! inflate to gigabytes, declare billions of strings, repeat a row a billion
//! times or loop in their sector tables; headers of 100,000 columns. Each is
//! built here at test time and run through the command line under a memory
//! limit: a clear error (exit 2) or a result, never an abort, a panic or a
//! hang.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::fuzz::{Outcome, run_within, verdict};

/// The address space a hostile run may use: far below what the files claim.
const MEMORY_KB: u64 = 1536 * 1024;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs `cochran analyze FILE --measure GEN ARGS --format json` under the
/// memory limit; fails the test on a panic, an abort, a hang or a non-finite
/// success.
fn analyze(file: &Path, args: &[&str]) -> Outcome {
    let mut all: Vec<String> = ["analyze", file.to_str().unwrap(), "--measure", "GEN"]
        .map(String::from)
        .into();
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend(["--format".into(), "json".into()]);
    let outcome = run_within(&all, MEMORY_KB);
    if let Some(problem) = verdict(&all, outcome.clone()) {
        panic!("{problem}");
    }
    outcome.expect("finished")
}

/// The run was refused (exit 2) with a message holding every fragment.
fn refused(outcome: &Outcome, fragments: &[&str]) {
    let (code, _, stderr, _) = outcome;
    assert_eq!(*code, 2, "{stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "`{fragment}` not in: {stderr}");
    }
}

/// Writes a part of a zip.
type Part<'a> = &'a dyn Fn(&mut dyn Write);

/// A copy of a fixture's zip with some parts replaced; `write` writes each.
fn rezip(fixture: &str, out: &Path, replaced: &[(&str, Part)]) {
    let bytes = std::fs::read(crate::common::repo_path(fixture)).unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..archive.len() {
        let mut part = archive.by_index(i).unwrap();
        let name = part.name().unwrap().into_owned();
        if replaced.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let mut content = Vec::new();
        part.read_to_end(&mut content).unwrap();
        writer.start_file(name, options).unwrap();
        writer.write_all(&content).unwrap();
    }
    for (name, write) in replaced {
        writer.start_file(*name, options).unwrap();
        write(&mut writer);
    }
    writer.finish().unwrap();
}

const SHEET_START: &str =
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>";
const SHEET_END: &str = "</sheetData></worksheet>";
const HEADER_ROW: &str = "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>study</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>yi</t></is></c><c r=\"C1\" t=\"inlineStr\"><is><t>vi</t></is></c></row>";

fn data_rows(rows: usize) -> String {
    (2..rows + 2)
        .map(|r| {
            format!(
                "<row r=\"{r}\"><c r=\"A{r}\" t=\"inlineStr\"><is><t>S{r}</t></is></c>\
                 <c r=\"B{r}\"><v>0.{r}</v></c><c r=\"C{r}\"><v>0.0{r}</v></c></row>"
            )
        })
        .collect()
}

fn xlsx_sheet(name: &str, sheet: &dyn Fn(&mut dyn Write)) -> PathBuf {
    let out = scratch(name);
    rezip(
        "tests/data/bangertdrowns2004.xlsx",
        &out,
        &[("xl/worksheets/sheet1.xml", sheet)],
    );
    out
}

#[test]
fn a_cell_in_the_far_corner_costs_no_memory() {
    // Item 1: A1 and XFD1048576 made calamine allocate ~550 GB.
    let file = xlsx_sheet("far_corner.xlsx", &|w| {
        let far = "<row r=\"1048576\"><c r=\"XFD1048576\"><v>1</v></c></row>";
        write!(
            w,
            "{SHEET_START}{HEADER_ROW}{}{far}{SHEET_END}",
            data_rows(5)
        )
        .unwrap();
    });
    let (code, stdout, stderr, _) = analyze(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"k\":5"), "{stdout}");
}

#[test]
fn a_sheet_that_inflates_beyond_the_limit_is_refused() {
    // Item 2: a few hundred KB that inflate to hundreds of MB of whitespace.
    let file = xlsx_sheet("bomb.xlsx", &|w| {
        write!(w, "{SHEET_START}{HEADER_ROW}").unwrap();
        let blanks = vec![b' '; 1 << 20];
        for _ in 0..200 {
            w.write_all(&blanks).unwrap();
        }
        write!(w, "{SHEET_END}").unwrap();
    });
    assert!(std::fs::metadata(&file).unwrap().len() < 2 << 20);
    refused(
        &analyze(&file, &[]),
        &[
            "xl/worksheets/sheet1.xml",
            "exceeds the limit of 134217728 bytes",
        ],
    );
}

#[test]
fn more_cells_than_the_limit_are_refused() {
    // Item 2: a sheet of a size Excel allows, far beyond a meta-analysis.
    let file = xlsx_sheet("many_cells.xlsx", &|w| {
        write!(w, "{SHEET_START}{HEADER_ROW}").unwrap();
        let row: String = "<c><v>1</v></c>".repeat(100);
        for _ in 0..21_000 {
            write!(w, "<row>{row}</row>").unwrap();
        }
        write!(w, "{SHEET_END}").unwrap();
    });
    refused(
        &analyze(&file, &[]),
        &["exceeds the limit of 2000000 cells"],
    );
}

#[test]
fn shared_strings_that_declare_billions_are_refused() {
    // Item 3: `uniqueCount` of 4e9 reserved 96 GB; u64::MAX panicked.
    for (name, count) in [("4e9", "4000000000"), ("max", "18446744073709551615")] {
        let shared = move |w: &mut dyn Write| {
            write!(
                w,
                "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
                 count=\"{count}\" uniqueCount=\"{count}\"><si><t>study</t></si></sst>"
            )
            .unwrap();
        };
        let file = scratch(&format!("strings_{name}.xlsx"));
        rezip(
            "tests/data/bangertdrowns2004.xlsx",
            &file,
            &[("xl/sharedStrings.xml", &shared)],
        );
        refused(&analyze(&file, &[]), &["declares", "holds 1"]);
    }
}

/// A compound file (.xls) of a header, one FAT sector and `sectors` more,
/// whose FAT is `fat` (the rest free).
fn compound_file(fat: &[u32], sectors: usize) -> Vec<u8> {
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    header[24..26].copy_from_slice(&0x3Eu16.to_le_bytes());
    header[26..28].copy_from_slice(&3u16.to_le_bytes());
    header[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
    header[30..32].copy_from_slice(&9u16.to_le_bytes());
    header[32..34].copy_from_slice(&6u16.to_le_bytes());
    header[44..48].copy_from_slice(&1u32.to_le_bytes()); // one FAT sector
    header[48..52].copy_from_slice(&1u32.to_le_bytes()); // directory at sector 1
    header[56..60].copy_from_slice(&4096u32.to_le_bytes());
    header[60..64].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // no mini FAT
    header[68..72].copy_from_slice(&0xFFFF_FFFEu32.to_le_bytes()); // no DIFAT sectors
    for slot in header[76..512].chunks_exact_mut(4) {
        slot.copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
    }
    header[76..80].copy_from_slice(&0u32.to_le_bytes()); // the FAT is sector 0
    let mut fat_sector = vec![0xFFu8; 512];
    for (slot, entry) in fat_sector.chunks_exact_mut(4).zip(fat) {
        slot.copy_from_slice(&entry.to_le_bytes());
    }
    let mut bytes = header;
    bytes.extend(fat_sector);
    bytes.extend(vec![0u8; 512 * sectors]);
    bytes
}

#[test]
fn xls_sector_tables_that_loop_or_point_away_are_refused() {
    // Item 4: a loop grew memory without end; a far pointer panicked.
    const FAT_SECTOR: u32 = 0xFFFF_FFFD;
    let cases = [
        ("loop.xls", vec![FAT_SECTOR, 2, 1], "loops"),
        (
            "far.xls",
            vec![FAT_SECTOR, 4000, 0xFFFF_FFFE],
            "past its end",
        ),
    ];
    for (name, fat, fragment) in cases {
        let file = scratch(name);
        std::fs::write(&file, compound_file(&fat, 2)).unwrap();
        refused(&analyze(&file, &[]), &["damaged", fragment]);
    }
}

/// An .ods whose content is `tables` (the fixture's other parts kept).
fn ods(name: &str, styles: &str, tables: &str) -> PathBuf {
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" \
         xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
         xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" office:version=\"1.2\">\
         <office:automatic-styles>{styles}</office:automatic-styles><office:body>\
         <office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"
    );
    let out = scratch(name);
    let write = move |w: &mut dyn Write| w.write_all(content.as_bytes()).unwrap();
    rezip(
        "tests/data/bangertdrowns2004.ods",
        &out,
        &[("content.xml", &write)],
    );
    out
}

fn ods_cell(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(_) => format!(
            "<table:table-cell office:value-type=\"float\" office:value=\"{value}\"><text:p>{value}</text:p></table:table-cell>"
        ),
        Err(_) => format!(
            "<table:table-cell office:value-type=\"string\"><text:p>{value}</text:p></table:table-cell>"
        ),
    }
}

fn ods_row(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|c| ods_cell(c)).collect();
    format!("<table:table-row>{cells}</table:table-row>")
}

fn ods_table(name: &str, style: &str, rows: &str) -> String {
    format!("<table:table table:name=\"{name}\"{style}>{rows}</table:table>")
}

fn ods_studies() -> String {
    let mut rows = ods_row(&["study", "yi", "vi"]);
    for i in 1..=4 {
        rows += &ods_row(&[&format!("S{i}"), &format!("0.{i}"), "0.04"]);
    }
    rows
}

#[test]
fn an_ods_row_repeated_a_billion_times_is_refused() {
    // Item 5: `number-rows-repeated="1000000000"` on a row of 95 cells aborted.
    let repeated = "<table:table-row table:number-rows-repeated=\"1000000000\">\
                    <table:table-cell office:value-type=\"float\" office:value=\"1\" \
                    table:number-columns-repeated=\"95\"/></table:table-row>";
    let rows = ods_studies() + repeated;
    let file = ods("repeated.ods", "", &ods_table("Data", "", &rows));
    refused(
        &analyze(&file, &[]),
        &["exceeds the limit of 2000000 cells"],
    );
}

#[test]
fn ods_values_beyond_the_last_row_are_refused_not_lost() {
    // Item 19: rows past the sheet's limit vanished without a word.
    let empty = "<table:table-row table:number-rows-repeated=\"1048570\"><table:table-cell/></table:table-row>";
    let rows = ods_studies() + empty + &ods_row(&["S9", "0.9", "0.04"]).repeat(3);
    let file = ods("beyond.ods", "", &ods_table("Data", "", &rows));
    refused(
        &analyze(&file, &[]),
        &["row 1048577", "exceeds the limit of 1048576 rows"],
    );
}

#[test]
fn a_hidden_first_sheet_is_passed_over_and_said() {
    // Item 19: a hidden first sheet was analysed without a word.
    let hidden_style = "<style:style style:name=\"ta2\" style:family=\"table\">\
                        <style:table-properties table:display=\"false\"/></style:style>";
    let decoy = ods_row(&["study", "yi", "vi"]) + &ods_row(&["Decoy", "9", "0.01"]).repeat(3);
    let tables = ods_table("Old", " table:style-name=\"ta2\"", &decoy)
        + &ods_table("Data", "", &ods_studies());
    let file = ods("hidden.ods", hidden_style, &tables);
    let (code, stdout, stderr, _) = analyze(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"k\":4"), "{stdout}");
    assert!(stdout.contains("read the sheet `Data`"), "{stdout}");
    assert!(
        stdout.contains("hidden sheets passed over: `Old`"),
        "{stdout}"
    );
    let (code, stdout, _, _) = analyze(&file, &["--sheet", "Old"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("the sheet `Old` is hidden"), "{stdout}");
}

#[test]
fn a_date_in_a_numeric_column_is_called_a_date() {
    // Item 20: a date cell was reported as its serial number.
    let date = "<table:table-row>".to_string()
        + &ods_cell("S5")
        + "<table:table-cell office:value-type=\"date\" office:date-value=\"2023-03-15\">\
           <text:p>15/03/2023</text:p></table:table-cell>"
        + &ods_cell("0.04")
        + "</table:table-row>";
    let file = ods(
        "date.ods",
        "",
        &ods_table("Data", "", &(ods_studies() + &date)),
    );
    refused(
        &analyze(&file, &[]),
        &["Data!B6", "column `yi`", "found the date 2023-03-15"],
    );
}

#[test]
fn an_empty_first_sheet_names_the_others() {
    // Item 22: "no data rows" with no hint of the other sheets.
    let tables = ods_table(
        "Empty",
        "",
        "<table:table-row><table:table-cell/></table:table-row>",
    ) + &ods_table("Data", "", &ods_studies());
    let file = ods("empty_first.ods", "", &tables);
    refused(
        &analyze(&file, &[]),
        &["`Empty` has no data rows", "`Data`", "--sheet"],
    );
}

#[test]
fn a_header_of_100000_columns_is_read_in_linear_time() {
    // Item 8: header handling was quadratic (31 s for 100,000 columns).
    let file = scratch("wide.csv");
    let header: Vec<String> = ["study", "yi", "vi"]
        .map(String::from)
        .into_iter()
        .chain((0..100_000).map(|i| format!("extra{i}")))
        .collect();
    let mut text = header.join(",") + "\n";
    for i in 1..=3 {
        text += &format!("S{i},0.{i},0.04{}\n", ",".repeat(100_000));
    }
    std::fs::write(&file, text).unwrap();
    let (code, stdout, stderr, took) = analyze(&file, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"k\":3"));
    assert!(took.as_secs() < 10, "{took:?}");
}

// Data lost or overwritten.

#[test]
fn an_output_onto_the_input_is_refused_through_links_too() {
    // Item 16: `gosh data.csv --out data.csv` replaced the data.
    let original = std::fs::read(crate::common::repo_path("datasets/bcg.csv")).unwrap();
    let data = crate::common::scratch_file("own_data.csv", &original);
    let link = crate::common::output_path("own_data_link.csv");
    std::os::unix::fs::symlink(&*data, &*link).unwrap();
    let rr = ["--measure", "RR"];
    for args in [
        vec!["gosh", &data, "--out", &data],
        vec!["analyze", &data, "--forest", &link],
        vec!["leave-one-out", &data, "--forest", &data],
        vec!["influence", &data, "--plot", &link],
        vec!["bias", &data, "--funnel", &data],
    ] {
        let mut args = args.clone();
        args.extend(rr);
        crate::common::rejects(&args, &["is the input", "choose another path"]);
        assert_eq!(std::fs::read(&*data).unwrap(), original, "{args:?}");
    }
}

#[test]
fn two_outputs_onto_one_file_are_refused_or_made_unique() {
    // Item 17: `--forest s.png --funnel s.png`, and outcomes `Pain-score`
    // and `Pain score`, wrote one file twice.
    let bcg = crate::common::repo_path("datasets/bcg.csv");
    let same = crate::common::output_path("same.svg");
    crate::common::rejects(
        &[
            "analyze",
            &bcg,
            "--measure",
            "RR",
            "--forest",
            &same,
            "--funnel",
            &same,
        ],
        &["same file", "same.svg"],
    );
    let csv = "study,outcome,n,mean_pre,sd_pre,mean_post,sd_post\n\
               A,Pain-score,10,60,10,40,12\nB,Pain-score,12,62,11,45,10\n\
               C,Pain score,20,58,9,41,11\nD,Pain score,15,61,10,44,12\n";
    let data = crate::common::scratch_file("pain.csv", csv.as_bytes());
    let forest = crate::common::output_path("pain.svg");
    let out = crate::common::cochran(&[
        "analyze",
        &data,
        "--measure",
        "SMCR",
        "--r",
        "0.5",
        "--by",
        "outcome",
        "--forest",
        &forest,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let first = crate::common::output_path("pain_Pain_score.svg");
    let second = crate::common::output_path("pain_Pain_score_2.svg");
    assert!(
        Path::new(&*first).exists() && Path::new(&*second).exists(),
        "{stderr}"
    );
    assert!(
        stderr.contains("`Pain score` end in `_Pain_score_2`"),
        "{stderr}"
    );
}

#[test]
fn a_failed_run_leaves_the_older_output_as_it_was() {
    // Item 18: a failure while writing left a truncated file in place of
    // the older one. GOSH of 48 studies without a number of subsets fails
    // after the output was opened.
    let older = crate::common::scratch_file("older_gosh.csv", b"estimate,i2\n0.1,20\n");
    let data = crate::common::repo_path("datasets/bangertdrowns2004.csv");
    crate::common::rejects(
        &["gosh", &data, "--measure", "GEN", "--out", &older],
        &["random subsets"],
    );
    assert_eq!(std::fs::read(&*older).unwrap(), b"estimate,i2\n0.1,20\n");
    let folder = Path::new(&*older).parent().unwrap();
    let leftovers = std::fs::read_dir(folder)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("older_gosh.csv.cochran")
        })
        .count();
    assert_eq!(leftovers, 0, "a temporary file was left behind");
}

// Messages.

#[test]
fn options_that_would_be_ignored_are_refused() {
    let bcg = crate::common::repo_path("datasets/bcg.csv");
    // Item 24: --r-sensitivity with a measure that has no correlation.
    crate::common::rejects(
        &[
            "analyze",
            &bcg,
            "--measure",
            "RR",
            "--r-sensitivity",
            "0.2,0.8",
        ],
        &["--r-sensitivity", "RR has none"],
    );
    // Item 27: Mantel-Haenszel ran with the z test after --test knha.
    crate::common::rejects(
        &[
            "analyze",
            &bcg,
            "--measure",
            "OR",
            "--method",
            "MH",
            "--test",
            "knha",
        ],
        &["z test only", "--test knha"],
    );
}

#[test]
fn a_group_of_no_participants_excludes_its_row_only() {
    // Item 27: a 0/0 group aborted the whole file.
    let csv = "study,events1,n1,events2,n2\nA,3,20,5,20\nB,0,0,4,18\nC,2,15,6,16\nD,4,25,8,24\n";
    let data = crate::common::scratch_file("empty_group.csv", csv.as_bytes());
    let out = crate::common::cochran(&["analyze", &data, "--measure", "OR", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["k"], 3);
    assert_eq!(json["excluded"][0]["empty_groups"][0], "n1");
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains("`B` (row 3) excluded: no participants in n1"),
        "{warnings}"
    );
}

#[test]
fn the_dependence_warning_is_capped_as_exclusions_are() {
    // Item 26: every row of every repeated study was listed (8 MB for a
    // million rows).
    let mut csv = String::from("study,yi,vi\n");
    for i in 0..2000 {
        csv += &format!("S{},0.{},0.04\n", i / 2, i % 7);
    }
    for i in 0..50 {
        csv += &format!("Big,0.{},0.05\n", i % 9);
    }
    let data = crate::common::scratch_file("dependent.csv", csv.as_bytes());
    let out = crate::common::cochran(&["analyze", &data, "--measure", "GEN", "--format", "json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(warnings.len() <= 12, "{}", warnings.len());
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("and 991 more studies contribute")),
        "{warnings:?}"
    );
    assert!(warnings.concat().len() < 10_000);
}

// Wrong numbers with exit 0.

#[test]
fn a_point_in_a_decimal_comma_file_is_not_a_decimal_point_in_silence() {
    // Item 13: `2.000` (two thousand, or two) was read as 2.
    let csv = "study;yi;vi\nA;0,5;0,04\nB;2.000;0,05\nC;0,3;0,02\n";
    let data = crate::common::scratch_file("thousands.csv", csv.as_bytes());
    crate::common::rejects(
        &["analyze", &data, "--measure", "GEN"],
        &[
            "line 3",
            "column `yi`",
            "`2.000` could be 2000",
            "--decimal point",
        ],
    );
    let points = "study;yi;vi\nA;0.5;0.04\nB;2.000;0.05\nC;0.3;0.02\n";
    let data = crate::common::scratch_file("points.csv", points.as_bytes());
    let out = crate::common::cochran(&["analyze", &data, "--measure", "GEN", "--decimal", "point"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_variance_and_a_standard_error_that_disagree_are_said() {
    // Item 25: vi and sei 25-fold apart, vi used in silence.
    let csv = "study,yi,vi,sei\nA,0.5,0.04,0.2\nB,0.25,0.05,1.118\nC,0.3,0.02,0.1414\n";
    let data = crate::common::scratch_file("vi_sei.csv", csv.as_bytes());
    let out = crate::common::cochran(&["analyze", &data, "--measure", "GEN", "--format", "json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = json["warnings"].to_string();
    assert!(
        warnings
            .contains("study `B` (row 3): the reported vi 0.05 disagrees with sei^2 = 1.249924"),
        "{warnings}"
    );
    assert!(
        !warnings.contains("`A`") && !warnings.contains("`C`"),
        "{warnings}"
    );
}

#[test]
fn thirty_million_permutations_are_counted_not_stored() {
    // Item 7: every permutation was stored before any was fitted (about 4 GB
    // for 30,000,000 of 13 studies). Counted as they go, the run stays within
    // the memory limit; it is stopped after a while, still running.
    let bcg = crate::common::repo_path("datasets/bcg.csv");
    let args: Vec<String> = [
        "analyze",
        &bcg,
        "--measure",
        "RR",
        "--mods",
        "ablat",
        "--permutations",
        "30000000",
    ]
    .map(String::from)
    .into();
    let outcome = crate::fuzz::run_limited(&args, MEMORY_KB, std::time::Duration::from_secs(20));
    if let Some((code, _, stderr, _)) = outcome {
        assert_eq!(code, 0, "{stderr}");
    }
}

#[test]
fn variances_that_dwarf_the_effects_are_refused_not_a_zero_width_interval() {
    // Item 10: with variances of 1e300 to 1e308 Knapp-Hartung reported se 0,
    // p 0 and a zero-width interval: the weighted squares left double
    // precision. A unit-free ratio (variance to squared difference) beyond
    // 1e180 is refused, as tiny variances are.
    let csv = "study,yi,vi\nA,0.1,1e300\nB,0.5,1e304\nC,-0.2,1e306\nD,0.9,1e308\nE,0.3,3e307\n";
    let data = crate::common::scratch_file("huge_variances.csv", csv.as_bytes());
    for test in ["knha", "z"] {
        crate::common::rejects(
            &["analyze", &data, "--measure", "GEN", "--test", test],
            &["dwarf the differences", "double precision"],
        );
    }
    crate::common::rejects(
        &["influence", &data, "--measure", "GEN", "--test", "knha"],
        &["dwarf the differences"],
    );
}

#[test]
fn a_mantel_haenszel_odds_ratio_without_estimate_is_bad_input_not_a_failure() {
    // Item 15: no events in any treatment arm exited 1 ("numerical failure").
    // metafor 3.8-1's rma.mh() reports the estimate as missing (NA) for these
    // tables; cochran says so and names the methods that pool them.
    let csv = "study,events1,n1,events2,n2\nA,0,20,3,20\nB,0,30,5,31\nC,0,25,2,24\n";
    let data = crate::common::scratch_file("mh_no_events.csv", csv.as_bytes());
    for measure in ["OR", "RR"] {
        crate::common::rejects(
            &["analyze", &data, "--measure", measure, "--method", "MH"],
            &[
                "not estimable",
                "metafor reports it as missing",
                "--method PETO",
            ],
        );
    }
}

#[test]
fn influence_that_is_not_a_number_is_refused() {
    // Item 11: `influence --test knha` printed NaN and exited 0 for identical
    // studies; metafor 3.8-1's influence() stops on them ("the leading minor
    // of order 1 is not positive definite").
    let csv = "study,yi,vi\nA,0.3,0.04\nB,0.3,0.04\nC,0.3,0.04\nD,0.3,0.04\n";
    let data = crate::common::scratch_file("identical.csv", csv.as_bytes());
    crate::common::rejects(
        &["influence", &data, "--measure", "GEN", "--test", "knha"],
        &["influence diagnostics are undefined", "--test z"],
    );
    let out = crate::common::cochran(&["influence", &data, "--measure", "GEN", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn text_beyond_the_limits_is_refused_with_the_limit() {
    // Item 6: a 2 GB single line, or millions of rows, aborted at 4 GB.
    let long = format!("study,yi,vi\nA,0.1,0.01\nB,0.2,{}\n", "9".repeat(17 << 20));
    let data = crate::common::scratch_file("long_line.csv", long.as_bytes());
    refused(
        &analyze(Path::new(&*data), &[]),
        &["line 3", "exceeds the limit of 16777216 bytes"],
    );
    let header: String = (0..10_000).map(|i| format!(",c{i}")).collect();
    let row: String = ",1".repeat(10_000);
    let mut wide = format!("study,yi,vi{header}\n");
    for i in 0..1100 {
        wide += &format!("S{i},0.1,0.01{row}\n");
    }
    let data = crate::common::scratch_file("many_values.csv", wide.as_bytes());
    refused(
        &analyze(Path::new(&*data), &[]),
        &["the table (", "exceeds the limit of 10000000 values"],
    );
}

// The fuzz harness of hostile structures.

/// One hostile workbook: far cells, declared counts, repeats, sector tables.
fn hostile_workbook(rng: &mut crate::fuzz::Rng, case: usize) -> PathBuf {
    let edge = |rng: &mut crate::fuzz::Rng, limit: u64| match rng.below(4) {
        0 => rng.next() % 16,
        1 => limit - 1 - rng.next() % 4,
        2 => limit + rng.next() % 4,
        _ => rng.next(),
    };
    match rng.below(4) {
        0 => {
            let cells: Vec<(u64, u64)> = (0..1 + rng.below(4))
                .map(|_| (edge(rng, 1 << 20) + 1, edge(rng, 1 << 14)))
                .collect();
            let rows = data_rows(rng.below(40));
            xlsx_sheet(&format!("fuzz{case}.xlsx"), &move |w| {
                write!(w, "{SHEET_START}{HEADER_ROW}{rows}").unwrap();
                for (row, column) in &cells {
                    let letters = column_letters(*column);
                    write!(
                        w,
                        "<row r=\"{row}\"><c r=\"{letters}{row}\"><v>1</v></c></row>"
                    )
                    .unwrap();
                }
                write!(w, "{SHEET_END}").unwrap();
            })
        }
        1 => {
            let (declared, held) = (edge(rng, 1 << 32), rng.below(5));
            let file = scratch(&format!("fuzz{case}.xlsx"));
            let shared = move |w: &mut dyn Write| {
                let items = "<si><t>x</t></si>".repeat(held);
                write!(
                    w,
                    "<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
                           count=\"{declared}\" uniqueCount=\"{declared}\">{items}</sst>"
                )
                .unwrap();
            };
            rezip(
                "tests/data/bangertdrowns2004.xlsx",
                &file,
                &[("xl/sharedStrings.xml", &shared)],
            );
            file
        }
        2 => {
            let mut rows = ods_studies();
            for _ in 0..1 + rng.below(4) {
                let (down, across) = (edge(rng, 1 << 20), edge(rng, 1 << 14));
                let value = match rng.chance(50) {
                    true => "office:value-type=\"float\" office:value=\"1\"",
                    false => "",
                };
                rows += &format!(
                    "<table:table-row table:number-rows-repeated=\"{down}\"><table:table-cell \
                     {value} table:number-columns-repeated=\"{across}\"/></table:table-row>"
                );
            }
            ods(
                &format!("fuzz{case}.ods"),
                "",
                &ods_table("Data", "", &rows),
            )
        }
        _ => {
            let fat: Vec<u32> = (0..2 + rng.below(6))
                .map(|_| match rng.below(3) {
                    0 => 0xFFFF_FFFE,
                    1 => rng.below(8) as u32,
                    _ => rng.next() as u32,
                })
                .collect();
            let file = scratch(&format!("fuzz{case}.xls"));
            std::fs::write(&file, compound_file(&fat, rng.below(6))).unwrap();
            file
        }
    }
}

fn column_letters(mut column: u64) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap()
}

/// Random hostile workbooks, each run under the memory limit: an error or a
/// result, never an abort, a panic or a hang. `COCHRAN_HOSTILE_CASES` runs more.
#[test]
fn hostile_structures_are_errors_or_results() {
    let cases: usize = std::env::var("COCHRAN_HOSTILE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(40);
    let mut rng = crate::fuzz::Rng(20261205);
    let (mut refused, mut analysed, mut failures) = (0, 0, Vec::new());
    for case in 0..cases {
        let file = hostile_workbook(&mut rng, case);
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
        let outcome = run_within(&args, MEMORY_KB);
        match verdict(&args, outcome.clone()) {
            Some(failure) => failures.push(failure),
            None => {
                match outcome.map(|o| o.0) {
                    Some(0) => analysed += 1,
                    _ => refused += 1,
                }
                std::fs::remove_file(&file).ok();
            }
        }
    }
    eprintln!(
        "hostile structures: {cases} tried, {analysed} analysed, {refused} refused, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn strict_mode_names_a_group_of_no_participants_instead_of_panicking() {
    // Fuzzing found this: strict mode indexed the missing columns, of which
    // a group of 0/0 has none.
    let file = crate::common::csv_file(
        "strict_empty_group.csv",
        "study,events1,n1,events2,n2\nA,1,20,3,21\nB,0,0,1,26\nC,2,30,4,28\n",
    );
    crate::common::rejects(
        &["analyze", &file, "--measure", "OR", "--strict"],
        &[
            "line 3",
            "column `n1`",
            "study `B` has a group of 0 participants (n1 = 0)",
        ],
    );
}
