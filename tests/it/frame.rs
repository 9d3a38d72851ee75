//! A data frame handed over in memory reads as the same file does.

use cochran::data::{Column, Table, TableSpec};
use cochran::report::Report;
use cochran::{Analysis, AnalysisOptions, Measure, SdImputation};

use crate::common::repo_path;

/// The file's columns as a data frame holds them: numbers where every cell
/// parses, text otherwise.
fn frame_of(path: &str) -> Vec<(String, Column)> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    headers
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let cells: Vec<Option<String>> = rows
                .iter()
                .map(|r| Some(r[j].to_string()).filter(|c| !c.is_empty()))
                .collect();
            let numbers: Option<Vec<Option<f64>>> = cells
                .iter()
                .map(|c| match c {
                    None => Some(None),
                    Some(text) => text.parse::<f64>().ok().map(Some),
                })
                .collect();
            let column = match numbers {
                Some(numbers) => Column::Numbers(numbers),
                None => Column::Text(cells),
            };
            (name.clone(), column)
        })
        .collect()
}

fn json(analysis: &Analysis) -> serde_json::Value {
    let mut out = Vec::new();
    analysis.write_json(&mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn a_frame_gives_the_files_analysis() {
    for (path, options) in [
        (
            "datasets/bcg.csv",
            AnalysisOptions::new(Measure::Rr).moderators(&["ablat"]),
        ),
        (
            "datasets/hip_oa_msc.csv",
            AnalysisOptions::new(Measure::Mc)
                .r(0.5)
                .impute_sd(SdImputation::Max)
                .outcome("HHS"),
        ),
    ] {
        let path = repo_path(path);
        let from_file = Analysis::from_csv(&path, &options).unwrap();
        let table = Table::from_columns(&frame_of(&path), &options.table_spec()).unwrap();
        let from_frame = Analysis::from_table(&table, &options).unwrap();
        // Rows are the file's lines (the header is line 1) and the frame's
        // positions (from 0); all else is the same.
        let (mut file, mut frame) = (json(&from_file), json(&from_frame));
        for (a, b) in file["studies"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .zip(frame["studies"].as_array_mut().unwrap())
        {
            let line = a["row"].take().as_u64().unwrap();
            assert_eq!(b["row"].take().as_u64(), Some(line - 2), "{path}");
        }
        assert_eq!(file, frame, "{path}");
    }
}

#[test]
fn a_frames_errors_name_the_row_from_zero() {
    let columns = vec![
        (
            "study".to_string(),
            Column::Text(vec![Some("A".into()), Some("B".into())]),
        ),
        (
            "yi".to_string(),
            Column::Numbers(vec![Some(0.1), Some(0.2)]),
        ),
        (
            "vi".to_string(),
            Column::Numbers(vec![Some(0.01), Some(-1.0)]),
        ),
    ];
    let options = AnalysisOptions::new(Measure::Gen);
    let table = Table::from_columns(&columns, &options.table_spec()).unwrap();
    let error = Analysis::from_table(&table, &options).unwrap_err();
    assert_eq!(error.location().row, Some(1));
    assert!(error.location().frame);
    assert!(
        error
            .to_string()
            .starts_with("data frame row 1 (from 0), column `vi`"),
        "{error}"
    );

    let ragged = vec![
        (
            "yi".to_string(),
            Column::Numbers(vec![Some(0.1), Some(0.2)]),
        ),
        ("vi".to_string(), Column::Numbers(vec![Some(0.01)])),
    ];
    let error = Table::from_columns(&ragged, &TableSpec::numeric(&["yi", "vi"])).unwrap_err();
    assert!(error.to_string().contains("`vi` has 1 values"), "{error}");

    let infinite = vec![("yi".to_string(), Column::Numbers(vec![Some(f64::INFINITY)]))];
    let error = Table::from_columns(&infinite, &TableSpec::numeric(&["yi"])).unwrap_err();
    assert!(
        error.to_string().contains("expected a number, found `inf`"),
        "{error}"
    );
}
