//! The cochran engine for the browser: the page hands over the bytes of a
//! file and its choices as JSON, and gets back the analysis as JSON, the
//! text report, the CSV table and the SVG figures — the library's own, so
//! the page shows what the command line prints.
//!
//! The WebAssembly interface is a small C ABI (no generated glue):
//! [`cochran_alloc`] a buffer, write the request and the file into it,
//! call [`cochran_analyze`], read the length-prefixed JSON it returns and
//! release it with [`cochran_free`].

#![deny(missing_docs)]

use cochran::analysis::Settings;
use cochran::{Analysis, Error, Measure, OutcomeAnalysis, data::Table};
use serde::{Deserialize, Serialize};

/// What the page asks for: the file's name and the analysis's settings
/// (the library's [`Settings`], named as the command line names them).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "RawRequest")]
pub struct Request {
    /// The file's name (its extension tells a spreadsheet from text).
    pub file_name: String,
    /// Only read the file's columns and say where each column the measure
    /// needs would come from.
    pub inspect: bool,
    /// The analysis's settings.
    pub settings: Settings,
}

/// A request as sent: the settings are the fields other than the file's;
/// a misspelt one is refused, not ignored.
#[derive(Deserialize)]
struct RawRequest {
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    inspect: bool,
    #[serde(flatten)]
    settings: serde_json::Map<String, serde_json::Value>,
}

impl TryFrom<RawRequest> for Request {
    type Error = serde_json::Error;

    fn try_from(raw: RawRequest) -> Result<Request, serde_json::Error> {
        Ok(Request {
            file_name: raw.file_name,
            inspect: raw.inspect,
            settings: serde_json::from_value(serde_json::Value::Object(raw.settings))?,
        })
    }
}

/// Where a column the measure needs comes from.
#[derive(Debug, Serialize)]
pub struct ColumnUse {
    /// cochran's name of the column.
    pub needed: String,
    /// The file's header it is read from, if any.
    pub header: Option<String>,
    /// `found` (the same name), `recognised` (a header such as "Pre mean"),
    /// `guessed` (a header that looks like it: to be confirmed) or `missing`.
    pub how: &'static str,
}

/// One analysis as the page shows it.
#[derive(Debug, Serialize)]
pub struct Shown {
    /// The instrument, with one analysis per outcome.
    pub outcome: Option<String>,
    /// The command line's text report.
    pub text: String,
    /// The analysis as the command line's JSON.
    pub json: serde_json::Value,
    /// The per-study CSV.
    pub csv: String,
    /// The forest plot.
    pub forest_svg: Option<String>,
    /// The funnel plot (where the analysis has one).
    pub funnel_svg: Option<String>,
    /// The Bayesian model's posterior densities, when it was fitted.
    pub posterior_svg: Option<String>,
    /// The Bayesian model's shrunken estimates, when it was fitted.
    pub shrinkage_svg: Option<String>,
    /// Why the analysis of this outcome failed.
    pub error: Option<String>,
}

/// The page's answer.
#[derive(Debug, Serialize)]
pub struct Response {
    /// Whether the file was analysed.
    pub ok: bool,
    /// The analyses (one, or one per outcome).
    pub analyses: Vec<Shown>,
    /// The error, when the file could not be analysed.
    pub error: Option<String>,
    /// Where in the file the error is: the row as the user sees it (the
    /// header is 1), the column's name, and for a spreadsheet the sheet and
    /// the column's letters.
    pub error_at: Option<ErrorAt>,
    /// The file's headers as read (lower-cased), for the column mapping.
    pub headers: Vec<String>,
    /// The command that reproduces the result.
    pub command: String,
    /// With `inspect`: the columns the measure needs and where each comes from.
    pub columns: Vec<ColumnUse>,
}

/// The position of an error in the file.
#[derive(Debug, Serialize)]
pub struct ErrorAt {
    /// The row (the header is row 1).
    pub row: Option<usize>,
    /// The column as cochran names it.
    pub column: Option<String>,
    /// The spreadsheet's sheet.
    pub sheet: Option<String>,
    /// The spreadsheet column's letters.
    pub letters: Option<String>,
}

impl ErrorAt {
    fn of(error: &Error) -> Option<ErrorAt> {
        let at = error.location();
        (at.row.is_some() || at.column.is_some()).then(|| ErrorAt {
            row: at.row,
            column: at.column.clone(),
            sheet: at.sheet.as_ref().map(|s| s.sheet.clone()),
            letters: at.sheet.as_ref().and_then(|s| s.letters.clone()),
        })
    }
}

/// Analyses `file` as `request` says.
pub fn analyze(request: &Request, file: &[u8]) -> Response {
    let command = command_line(request);
    if request.inspect {
        return match inspect(request, file) {
            Ok((columns, headers)) => Response {
                ok: true,
                analyses: Vec::new(),
                error: None,
                error_at: None,
                headers,
                command,
                columns,
            },
            Err(error) => failed(error, command),
        };
    }
    match run(request, file) {
        Ok((analyses, headers)) => Response {
            ok: true,
            analyses,
            error: None,
            error_at: None,
            headers,
            command,
            columns: Vec::new(),
        },
        Err(error) => failed(error, command),
    }
}

fn failed(error: Error, command: String) -> Response {
    Response {
        ok: false,
        analyses: Vec::new(),
        error_at: ErrorAt::of(&error),
        error: Some(error.to_string()),
        headers: Vec::new(),
        command,
        columns: Vec::new(),
    }
}

fn read(request: &Request, file: &[u8], spec: &cochran::data::TableSpec) -> Result<Table, Error> {
    let extension = request
        .file_name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ["xlsx", "xlsm", "xlsb", "xls", "ods"].contains(&extension.as_str()) {
        Table::from_spreadsheet_bytes(file, spec)
    } else {
        Table::from_reader(file, None, spec)
    }
}

/// The columns the measure needs and where each would be read from: the
/// headers as read (headers clinicians type already renamed), and a guess
/// for the others, as a missing column's error would suggest.
fn inspect(request: &Request, file: &[u8]) -> Result<(Vec<ColumnUse>, Vec<String>), Error> {
    let measure = request.settings.measure.parse::<Measure>()?;
    let spec =
        cochran::data::TableSpec::numeric(&[]).read_options(request.settings.read_options()?);
    let table = read(request, file, &spec)?;
    let headers = table.headers().to_vec();
    let recognised = |name: &str| {
        table.notes().iter().find_map(|note| {
            let rest = note.strip_prefix("the column `")?;
            let (header, after) = rest.split_once("` is read as `")?;
            (after.trim_end_matches(|c| c != '`').trim_end_matches('`') == name)
                .then(|| header.to_string())
        })
    };
    // Headers that are a needed column already are no one's misspelling.
    let candidates: Vec<String> = headers
        .iter()
        .filter(|h| !measure.required_columns().contains(&h.as_str()))
        .cloned()
        .collect();
    let columns = measure
        .required_columns()
        .iter()
        .map(|&needed| {
            let (header, how) = if headers.iter().any(|h| h == needed) {
                match recognised(needed) {
                    Some(header) => (Some(header), "recognised"),
                    None => (Some(needed.to_string()), "found"),
                }
            } else {
                match cochran::effect::guess_column(needed, &candidates) {
                    Some(header) => (Some(header.to_string()), "guessed"),
                    None => (None, "missing"),
                }
            };
            ColumnUse {
                needed: needed.to_string(),
                header,
                how,
            }
        })
        .collect();
    Ok((columns, headers))
}

fn run(request: &Request, file: &[u8]) -> Result<(Vec<Shown>, Vec<String>), Error> {
    let options = request.settings.options()?;
    let table = read(request, file, &options.table_spec())?;
    let headers = table.headers().to_vec();
    let shown = if request.settings.per_outcome() {
        Analysis::per_outcome(&table, &options)?
            .iter()
            .map(shown_outcome)
            .collect()
    } else {
        vec![shown(&Analysis::from_table(&table, &options)?, None)]
    };
    Ok((shown, headers))
}

fn shown_outcome(outcome: &OutcomeAnalysis) -> Shown {
    match (&outcome.analysis, &outcome.error) {
        (Some(analysis), _) => shown(analysis, Some(outcome.outcome.clone())),
        (None, error) => Shown {
            outcome: Some(outcome.outcome.clone()),
            text: String::new(),
            json: serde_json::Value::Null,
            csv: String::new(),
            forest_svg: None,
            funnel_svg: None,
            posterior_svg: None,
            shrinkage_svg: None,
            error: error.as_ref().map(|e| e.to_string()),
        },
    }
}

fn shown(analysis: &Analysis, outcome: Option<String>) -> Shown {
    use cochran::report::Report;
    let mut json = Vec::new();
    let mut csv = Vec::new();
    let json = analysis
        .write_json(&mut json)
        .ok()
        .and_then(|()| serde_json::from_slice(&json).ok())
        .unwrap_or(serde_json::Value::Null);
    let csv = analysis
        .write_csv(&mut csv)
        .ok()
        .map(|()| String::from_utf8_lossy(&csv).into_owned())
        .unwrap_or_default();
    Shown {
        outcome,
        text: analysis.text(),
        json,
        csv,
        forest_svg: analysis.forest_plot().to_svg().ok(),
        funnel_svg: analysis.funnel_plot().to_svg().ok(),
        posterior_svg: analysis
            .bayesian
            .as_ref()
            .and_then(|_| analysis.posterior_plot().to_svg().ok()),
        shrinkage_svg: analysis
            .bayesian
            .as_ref()
            .and_then(|_| analysis.shrinkage_plot().to_svg().ok()),
        error: None,
    }
}

/// `cochran analyze FILE …` with the page's choices.
pub fn command_line(request: &Request) -> String {
    let settings = &request.settings;
    let quoted = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/=,:".contains(c))
        {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', "'\\''"))
        }
    };
    let mut parts = vec![
        "cochran analyze".to_string(),
        quoted(&request.file_name),
        format!("--measure {}", quoted(&settings.measure)),
    ];
    let mut flag = |name: &str, value: &str| {
        if !value.trim().is_empty() {
            parts.push(format!("--{name} {}", quoted(value.trim())));
        }
    };
    // The defaults are left out, as a user would type the command.
    let unless = |value: &str, default: &str| {
        if value.trim().eq_ignore_ascii_case(default) {
            String::new()
        } else {
            value.to_string()
        }
    };
    flag("method", &unless(&settings.method, "REML"));
    flag("model", &settings.glmm_model);
    flag("test", &unless(&settings.test, "z"));
    if let Some(level) = settings.level.filter(|l| *l != 95.0) {
        flag("level", &level.to_string());
    }
    flag("r", &settings.r);
    flag("impute-sd", &settings.impute_sd);
    flag(
        "by",
        if settings.by_outcome {
            "outcome"
        } else {
            &settings.by
        },
    );
    flag("sheet", &settings.sheet);
    flag("columns", &settings.columns);
    for m in &settings.mods {
        flag("mods", m);
    }
    flag("tau-prior", &settings.tau_prior);
    flag("mu-prior", &settings.mu_prior);
    if settings.bayes && settings.tau_prior.trim().is_empty() && settings.mu_prior.trim().is_empty()
    {
        parts.push("--bayes".to_string());
    }
    parts.join(" ")
}

/// A buffer of `len` bytes for the page to write into.
#[unsafe(no_mangle)]
pub extern "C" fn cochran_alloc(len: usize) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len.max(1));
    let pointer = buffer.as_mut_ptr();
    std::mem::forget(buffer);
    pointer
}

/// Releases a buffer from [`cochran_alloc`] or [`cochran_analyze`].
///
/// # Safety
/// `pointer` and `len` must be a buffer this module handed out, released once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cochran_free(pointer: *mut u8, len: usize) {
    // SAFETY: the caller passes back a buffer of this capacity from this module.
    unsafe { drop(Vec::from_raw_parts(pointer, 0, len.max(1))) }
}

/// Analyses the file of `file_len` bytes at `file` as the JSON request of
/// `request_len` bytes at `request` says. Returns a buffer: 4 bytes of
/// little-endian length, then the response's JSON; release it with
/// [`cochran_free`] and the length + 4.
///
/// # Safety
/// Both pointers must address buffers of the given lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cochran_analyze(
    request: *const u8,
    request_len: usize,
    file: *const u8,
    file_len: usize,
) -> *mut u8 {
    // SAFETY: the caller wrote these many bytes at these addresses.
    let (request, file) = unsafe {
        (
            std::slice::from_raw_parts(request, request_len),
            std::slice::from_raw_parts(file, file_len),
        )
    };
    let response = match serde_json::from_slice::<Request>(request) {
        Ok(request) => serde_json::to_vec(&analyze(&request, file)),
        Err(error) => serde_json::to_vec(&serde_json::json!({
            "ok": false, "error": format!("the page's request is not valid: {error}"),
            "analyses": [], "headers": [], "command": "", "columns": []
        })),
    }
    .unwrap_or_else(|_| b"{\"ok\":false,\"error\":\"the result could not be written\"}".to_vec());
    let mut out = Vec::with_capacity(response.len() + 4);
    out.extend_from_slice(&(response.len() as u32).to_le_bytes());
    out.extend_from_slice(&response);
    let pointer = out.as_mut_ptr();
    let capacity = out.capacity();
    std::mem::forget(out);
    // The page frees length + 4 bytes: keep capacity equal to it.
    debug_assert_eq!(capacity, response.len() + 4);
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(measure: &str) -> Request {
        let mut settings = Settings::new(measure);
        settings.r = "0.5".into();
        settings.impute_sd = "max".into();
        settings.by_outcome = true;
        Request {
            file_name: "hip_oa_msc.csv".into(),
            inspect: false,
            settings,
        }
    }

    #[test]
    fn the_hip_example_gives_the_command_lines_analysis() {
        let file = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../datasets/hip_oa_msc.csv"
        ))
        .unwrap();
        let response = analyze(&request("MC"), &file);
        assert!(response.ok, "{:?}", response.error);
        let hhs = response
            .analyses
            .iter()
            .find(|a| a.outcome.as_deref() == Some("HHS"))
            .unwrap();
        assert!(
            hhs.text
                .contains("Random-effects model (tau^2 estimator: REML)")
        );
        assert!(hhs.forest_svg.as_deref().unwrap().contains("<svg"));
        assert_eq!(
            response.command,
            "cochran analyze hip_oa_msc.csv --measure MC --r 0.5 --impute-sd max --by outcome"
        );
    }

    #[test]
    fn an_error_in_a_cell_says_where() {
        let mut request = request("GEN");
        request.settings.by_outcome = false;
        let response = analyze(&request, b"study,yi,vi\nA,0.1,0.01\nB,abc,0.02\n");
        let at = response.error_at.expect("a position");
        assert_eq!((at.row, at.column.as_deref()), (Some(3), Some("yi")));
    }

    #[test]
    fn inspection_says_where_each_needed_column_comes_from() {
        let request = Request {
            file_name: "typed.csv".into(),
            settings: Settings::new("MC"),
            inspect: true,
        };
        let file = b"Study,Pre_Avg,Pre SD,Post mean,Post SD,N\nA,50,12,70,12,20\n";
        let response = analyze(&request, file);
        assert!(response.ok, "{:?}", response.error);
        let how = |needed: &str| {
            let c = response
                .columns
                .iter()
                .find(|c| c.needed == needed)
                .unwrap();
            (c.header.clone(), c.how)
        };
        assert_eq!(how("n"), (Some("n".into()), "found"));
        assert_eq!(how("mean_pre"), (Some("pre_avg".into()), "guessed"));
        assert_eq!(how("sd_pre"), (Some("Pre SD".into()), "recognised"));
        assert_eq!(how("r"), (None, "missing"));
    }

    #[test]
    fn a_request_reads_the_settings_beside_the_file_and_refuses_unknown_ones() {
        let request: Request = serde_json::from_str(
            r#"{"file_name": "a.csv", "inspect": true, "measure": "MC", "mods": "year"}"#,
        )
        .unwrap();
        assert!(request.inspect);
        assert_eq!(
            (request.file_name.as_str(), request.settings.mods.as_slice()),
            ("a.csv", &["year".to_string()][..])
        );
        let typo = serde_json::from_str::<Request>(r#"{"file_name": "a.csv", "metod": "DL"}"#);
        assert!(typo.unwrap_err().to_string().contains("metod"));
    }

    #[test]
    fn a_bad_measure_is_an_error_not_a_panic() {
        let response = analyze(&request("XYZ"), b"study,yi,vi\nA,1,1\n");
        assert!(!response.ok);
        assert!(response.error.unwrap().contains("unknown measure"));
    }
}
