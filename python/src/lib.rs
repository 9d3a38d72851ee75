//! The Python extension `cochran._cochran`: an analysis from a file, a data
//! frame or effect sizes, with the library's settings by name, and its
//! reports, refits, bias tests and figures. The Python package
//! (`python/cochran/__init__.py`) gives it Python's idiom.

mod frame;

use std::path::Path;

use cochran::analysis::Settings;
use cochran::bias::{BiasOptions, K0Estimator, Side};
use cochran::data::{Column, Table};
use cochran::report::{BiasReport, RefitsReport, Report};
use cochran::sensitivity::Subsets;
use cochran::{Effect, EffectSet, Measure, OutcomeAnalysis};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

create_exception!(
    _cochran,
    CochranError,
    PyValueError,
    "An error in the data or the settings, with its position."
);

fn raise(error: cochran::Error) -> PyErr {
    Python::with_gil(|py| {
        let err = CochranError::new_err(error.to_string());
        let value = err.value(py);
        let at = error.location();
        let _ = value.setattr("row", at.row);
        let _ = value.setattr("column", at.column.clone());
        let _ = value.setattr("file", at.file.as_ref().map(|f| f.display().to_string()));
        let _ = value.setattr("sheet", at.sheet.as_ref().map(|s| s.sheet.clone()));
        err
    })
}

fn settings(json: &str) -> PyResult<Settings> {
    serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("settings: {e}")))
}

fn written(write: impl FnOnce(&mut Vec<u8>) -> cochran::Result<()>) -> PyResult<String> {
    let mut out = Vec::new();
    write(&mut out).map_err(raise)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A report as Python receives it: its text, its JSON, and figures by name.
fn report<'py>(
    py: Python<'py>,
    result: &dyn Report,
    figures: &[(&str, cochran::Result<String>)],
) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("text", result.text())?;
    out.set_item("json", written(|w| result.write_json(w))?)?;
    let svgs = PyDict::new(py);
    for (name, svg) in figures {
        if let Ok(svg) = svg {
            svgs.set_item(*name, svg)?;
        }
    }
    out.set_item("figures", svgs)?;
    Ok(out)
}

/// A fitted analysis, with the table it was read from (for orders by a column).
#[pyclass(module = "cochran._cochran", frozen)]
struct Analysis {
    inner: cochran::Analysis,
    table: Option<Table>,
}

#[pymethods]
impl Analysis {
    /// The analysis as the command line's JSON.
    fn json(&self) -> PyResult<String> {
        written(|w| self.inner.write_json(w))
    }

    /// The pooled model's numbers alone (no per-study rows): what the
    /// result's attributes read, cheap at a million studies.
    fn pooled_json(&self) -> PyResult<String> {
        match self.inner.fit() {
            Some(fit) => {
                serde_json::to_string(fit).map_err(|e| PyValueError::new_err(e.to_string()))
            }
            None => self.json(),
        }
    }

    /// The command line's text report.
    fn text(&self) -> String {
        self.inner.text()
    }

    /// The per-study table as CSV.
    fn csv(&self) -> PyResult<String> {
        written(|w| self.inner.write_csv(w))
    }

    /// A figure as SVG: `forest`, `funnel`, `posterior` or `shrinkage`.
    fn svg(&self, name: &str) -> PyResult<String> {
        let a = &self.inner;
        match name {
            "forest" => a.forest_plot().to_svg(),
            "funnel" => a.funnel_plot().to_svg(),
            "posterior" if a.bayesian.is_some() => a.posterior_plot().to_svg(),
            "shrinkage" if a.bayesian.is_some() => a.shrinkage_plot().to_svg(),
            "posterior" | "shrinkage" => {
                return Err(PyValueError::new_err(format!(
                    "the {name} plot shows the Bayesian model: analyse with bayes=True"
                )));
            }
            _ => return Err(PyValueError::new_err(format!("no figure `{name}`"))),
        }
        .map_err(raise)
    }

    /// The model without each study in turn, with its forest plot.
    fn leave_one_out<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.inner;
        let loo = py.allow_threads(|| a.leave_one_out()).map_err(raise)?;
        let heading = "Leave-one-out: the model without each study in turn";
        let shown = RefitsReport::new(a, heading, "omitted", &loo.studies);
        report(
            py,
            &shown,
            &[("forest", a.forest_plot().leave_one_out(&loo).to_svg())],
        )
    }

    /// The model as the studies are added in the order of a column (the
    /// data's order without one), with its forest plot.
    #[pyo3(signature = (order=None))]
    fn cumulative<'py>(
        &self,
        py: Python<'py>,
        order: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.inner;
        let (rows, heading) = match (order, &self.table) {
            (Some(column), Some(table)) => (
                a.order_by(table, column).map_err(raise)?,
                format!("Cumulative meta-analysis in the order of `{column}`"),
            ),
            (Some(_), None) => {
                return Err(PyValueError::new_err(
                    "an order by a column needs data with columns (a file or a data frame)",
                ));
            }
            (None, _) => (
                (0..a.studies.len()).collect(),
                "Cumulative meta-analysis in the data's order".to_string(),
            ),
        };
        let steps = py.allow_threads(|| a.cumulative(&rows)).map_err(raise)?;
        let shown = RefitsReport::new(a, &heading, "added", &steps.studies);
        report(
            py,
            &shown,
            &[("forest", a.forest_plot().cumulative(&steps).to_svg())],
        )
    }

    /// Influence diagnostics, with the influence and Baujat plots.
    fn influence<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.inner;
        let (influence, baujat) = py
            .allow_threads(|| a.influence_and_baujat())
            .map_err(raise)?;
        let figures = [
            ("influence", a.influence_plot(&influence).to_svg()),
            ("baujat", a.baujat_plot(&baujat).to_svg()),
        ];
        report(py, &influence, &figures)
    }

    /// Small-study effects: Egger's and the rank test, trim-and-fill and
    /// fail-safe N, with the funnel plot the trim-and-fill filled.
    #[pyo3(signature = (estimator="L0", side=None, target=None))]
    fn bias<'py>(
        &self,
        py: Python<'py>,
        estimator: &str,
        side: Option<&str>,
        target: Option<f64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.inner;
        let mut options =
            BiasOptions::new().estimator(estimator.parse::<K0Estimator>().map_err(raise)?);
        if let Some(side) = side {
            options = options.side(side.parse::<Side>().map_err(raise)?);
        }
        if let Some(target) = target {
            options = options.orwin_target(target);
        }
        let found = py
            .allow_threads(|| a.small_study_effects(&options))
            .map_err(raise)?;
        let funnel = a.funnel_plot().trim_and_fill(&found.trim_and_fill).to_svg();
        report(py, &BiasReport::new(a, &found), &[("funnel", funnel)])
    }

    /// GOSH: the model fitted to every subset of the studies (or `subsets`
    /// random ones), with its plot.
    #[pyo3(signature = (subsets=None, seed=1))]
    fn gosh<'py>(
        &self,
        py: Python<'py>,
        subsets: Option<u64>,
        seed: u64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.inner;
        let subsets = match subsets {
            Some(count) => Subsets::Random { count, seed },
            None => Subsets::Default,
        };
        let gosh = py.allow_threads(|| a.gosh(subsets)).map_err(raise)?;
        report(py, &gosh, &[("gosh", a.gosh_plot(&gosh).to_svg())])
    }
}

/// One analysis per instrument, or why an instrument has none.
#[pyclass(module = "cochran._cochran", frozen)]
struct Outcomes(Vec<OutcomeAnalysis>);

#[pymethods]
impl Outcomes {
    /// The command line's text report of every instrument.
    fn text(&self) -> String {
        self.0.text()
    }

    /// The analyses as the command line's JSON.
    fn json(&self) -> PyResult<String> {
        written(|w| self.0.write_json(w))
    }

    /// (instrument, analysis or None, error message or None) per instrument.
    fn items(&self) -> Vec<(String, Option<Analysis>, Option<String>)> {
        self.0
            .iter()
            .map(|o| {
                let analysis = o.analysis.as_ref().map(|a| Analysis {
                    inner: a.as_ref().clone(),
                    table: None,
                });
                (
                    o.outcome.clone(),
                    analysis,
                    o.error.as_ref().map(|e| e.to_string()),
                )
            })
            .collect()
    }
}

/// One analysis of a table, or one per instrument as the settings ask.
fn analyze_table(py: Python<'_>, table: Table, settings: &Settings) -> PyResult<PyObject> {
    let options = settings.options().map_err(raise)?;
    if settings.per_outcome() {
        let outcomes = py
            .allow_threads(|| cochran::Analysis::per_outcome(&table, &options))
            .map_err(raise)?;
        return Ok(Outcomes(outcomes).into_pyobject(py)?.into_any().unbind());
    }
    let inner = py
        .allow_threads(|| cochran::Analysis::from_table(&table, &options))
        .map_err(raise)?;
    let table = Some(table);
    Ok(Analysis { inner, table }
        .into_pyobject(py)?
        .into_any()
        .unbind())
}

/// Analyses the file at `path` (CSV or a spreadsheet) with the settings
/// (JSON of the library's names).
#[pyfunction]
fn analyze_file(py: Python<'_>, path: &str, settings: &str) -> PyResult<PyObject> {
    let settings = self::settings(settings)?;
    let spec = settings.options().map_err(raise)?.table_spec();
    let table = py
        .allow_threads(|| Table::read(Path::new(path), &spec))
        .map_err(raise)?;
    analyze_table(py, table, &settings)
}

/// Analyses a data frame: any object with `__arrow_c_stream__` (pandas,
/// polars, pyarrow, …).
#[pyfunction]
fn analyze_arrow(py: Python<'_>, frame: &Bound<'_, PyAny>, settings: &str) -> PyResult<PyObject> {
    let settings = self::settings(settings)?;
    let spec = settings.options().map_err(raise)?.table_spec();
    let columns = frame::columns(frame)?;
    let table = py
        .allow_threads(|| Table::from_columns(&columns, &spec))
        .map_err(raise)?;
    analyze_table(py, table, &settings)
}

/// Analyses named columns of numbers (None or NaN missing) or text.
#[pyfunction]
fn analyze_columns(
    py: Python<'_>,
    columns: Vec<(String, Bound<'_, PyAny>)>,
    settings: &str,
) -> PyResult<PyObject> {
    let settings = self::settings(settings)?;
    let spec = settings.options().map_err(raise)?.table_spec();
    let columns = columns
        .into_iter()
        .map(|(name, values)| {
            let column = match values.extract::<Vec<Option<f64>>>() {
                Ok(numbers) => Column::Numbers(numbers),
                Err(_) => Column::Text(values.extract::<Vec<Option<String>>>().map_err(|_| {
                    CochranError::new_err(format!(
                        "the column `{name}` holds values that are neither numbers nor text"
                    ))
                })?),
            };
            Ok((name, column))
        })
        .collect::<PyResult<Vec<_>>>()?;
    let table = Table::from_columns(&columns, &spec).map_err(raise)?;
    analyze_table(py, table, &settings)
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
) -> PyResult<PyObject> {
    let mut settings = self::settings(settings)?;
    settings.measure = "GEN".into();
    let options = settings.options().map_err(raise)?;
    if yi.len() != vi.len() {
        return Err(CochranError::new_err(format!(
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
        .map_err(raise)?;
    let labels =
        labels.unwrap_or_else(|| (1..=effects.len()).map(|i| format!("Study {i}")).collect());
    let studies = labels
        .into_iter()
        .zip(effects)
        .map(|(label, effect)| (label, cochran::effect::StudyData::Precomputed(effect)));
    let set = EffectSet::from_studies(Measure::Gen, studies).map_err(raise)?;
    let inner = cochran::Analysis::from_effects(set, &options).map_err(raise)?;
    Ok(Analysis { inner, table: None }
        .into_pyobject(py)?
        .into_any()
        .unbind())
}

/// The extension module.
#[pymodule]
fn _cochran(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Analysis>()?;
    m.add_class::<Outcomes>()?;
    m.add_function(wrap_pyfunction!(analyze_file, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_columns, m)?)?;
    m.add_function(wrap_pyfunction!(analyze_effects, m)?)?;
    m.add("CochranError", m.py().get_type::<CochranError>())?;
    Ok(())
}
