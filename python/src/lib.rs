//! The Python extension `cochran._cochran`: an analysis from a file or from
//! effect sizes, with the settings by the command line's names (the same
//! request the web page sends), and its reports and figures. The Python
//! package (`python/cochran/__init__.py`) gives it Python's idiom.

use std::path::Path;

use cochran::data::Table;
use cochran::report::Report;
use cochran::{Effect, EffectSet, Measure};
use cochran_web::Request;
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(
    _cochran,
    CochranError,
    PyValueError,
    "An error in the data or the settings, with its position."
);

fn raise(py: Python<'_>, error: cochran::Error) -> PyErr {
    let err = CochranError::new_err(error.to_string());
    let value = err.value(py);
    let at = error.location();
    let _ = value.setattr("row", at.row);
    let _ = value.setattr("column", at.column.clone());
    let _ = value.setattr("file", at.file.as_ref().map(|f| f.display().to_string()));
    let _ = value.setattr("sheet", at.sheet.as_ref().map(|s| s.sheet.clone()));
    err
}

fn request(settings: &str) -> PyResult<Request> {
    serde_json::from_str(settings).map_err(|e| PyValueError::new_err(format!("settings: {e}")))
}

/// A fitted analysis.
#[pyclass(module = "cochran._cochran", frozen)]
struct Analysis(cochran::Analysis);

#[pymethods]
impl Analysis {
    /// The analysis as the command line's JSON.
    fn json(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = Vec::new();
        self.0.write_json(&mut out).map_err(|e| raise(py, e))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The pooled model's numbers alone (no per-study rows): what the
    /// result's attributes read, cheap at a million studies.
    fn pooled_json(&self, py: Python<'_>) -> PyResult<String> {
        match self.0.fit() {
            Some(fit) => {
                serde_json::to_string(fit).map_err(|e| PyValueError::new_err(e.to_string()))
            }
            None => self.json(py),
        }
    }

    /// The command line's text report.
    fn text(&self) -> String {
        self.0.text()
    }

    /// The per-study table as CSV.
    fn csv(&self, py: Python<'_>) -> PyResult<String> {
        let mut out = Vec::new();
        self.0.write_csv(&mut out).map_err(|e| raise(py, e))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The forest plot as SVG.
    fn forest_svg(&self, py: Python<'_>) -> PyResult<String> {
        self.0.forest_plot().to_svg().map_err(|e| raise(py, e))
    }

    /// The funnel plot as SVG.
    fn funnel_svg(&self, py: Python<'_>) -> PyResult<String> {
        self.0.funnel_plot().to_svg().map_err(|e| raise(py, e))
    }
}

/// Analyses the file at `path` (CSV or a spreadsheet) with the settings (JSON
/// of the command line's names).
#[pyfunction]
fn analyze_file(py: Python<'_>, path: &str, settings: &str) -> PyResult<Analysis> {
    let request = request(settings)?;
    let options = cochran_web::options(&request).map_err(|e| raise(py, e))?;
    py.allow_threads(|| {
        let table = Table::read(Path::new(path), &options.table_spec())?;
        cochran::Analysis::from_table(&table, &options)
    })
    .map(Analysis)
    .map_err(|e| raise(py, e))
}

/// Analyses effect sizes `yi` with variances `vi` (labels optional).
#[pyfunction]
#[pyo3(signature = (yi, vi, settings, labels=None))]
fn analyze_effects(
    py: Python<'_>,
    yi: Vec<f64>,
    vi: Vec<f64>,
    settings: &str,
    labels: Option<Vec<String>>,
) -> PyResult<Analysis> {
    let mut request = request(settings)?;
    request.measure = "GEN".into();
    let options = cochran_web::options(&request).map_err(|e| raise(py, e))?;
    if yi.len() != vi.len() {
        return Err(PyValueError::new_err(format!(
            "yi has {} values and vi {}",
            yi.len(),
            vi.len()
        )));
    }
    let effects = yi
        .iter()
        .zip(&vi)
        .enumerate()
        .map(|(i, (&y, &v))| Effect::new(y, v).map_err(|e| e.at_row(i + 1)))
        .collect::<cochran::Result<Vec<_>>>()
        .map_err(|e| raise(py, e))?;
    let labels =
        labels.unwrap_or_else(|| (1..=effects.len()).map(|i| format!("Study {i}")).collect());
    let studies = labels
        .into_iter()
        .zip(effects)
        .map(|(label, effect)| (label, cochran::effect::StudyData::Precomputed(effect)));
    let set = EffectSet::from_studies(Measure::Gen, studies).map_err(|e| raise(py, e))?;
    cochran::Analysis::from_effects(set, &options)
        .map(Analysis)
        .map_err(|e| raise(py, e))
}

/// The extension module.
#[pymodule]
fn _cochran(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Analysis>()?;
    m.add_function(wrap_pyfunction!(analyze_file, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_effects, m)?)?;
    m.add("CochranError", m.py().get_type::<CochranError>())?;
    Ok(())
}
