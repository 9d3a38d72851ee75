//! The included studies' rows of the results table, built from the effects
//! and the model's weights as they are read: a million studies are neither
//! copied nor given a quantile each.

use std::cell::Cell;
use std::io::Write;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::ser::Formatter;

use crate::effect::{Effect, EffectSet, Imputation};

/// One study's row of the results table, borrowed from the analysis.
#[derive(Debug, Clone, Copy, Serialize)]
#[non_exhaustive]
pub struct StudyResult<'a> {
    /// The study's label.
    pub study: &'a str,
    /// Its subgroup, when grouped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup: Option<&'a str>,
    /// Its cluster, when effects are clustered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<&'a str>,
    /// Its row in the file (the header is row 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// Effect size.
    pub yi: f64,
    /// Sampling variance.
    pub vi: f64,
    /// Weight in the overall model, percent; NaN (and no key in JSON) for
    /// a model without weights, the GLMM.
    #[serde(skip_serializing_if = "is_nan")]
    pub weight: f64,
    /// Lower limit of the study's normal-theory confidence interval.
    pub ci_lower: f64,
    /// Upper limit.
    pub ci_upper: f64,
    /// The observed proportion with its exact interval, for a GLMM of proportions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<ExactProportion>,
    /// Adjustments made to this study.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
    /// Values the study did not report, recovered or imputed.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub imputed: &'a [Imputation],
    /// The clinical instrument.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instrument: Option<&'a str>,
}

fn is_nan(x: &f64) -> bool {
    x.is_nan()
}

/// A single group's observed proportion (events / n, without correction) and
/// its exact (Clopper–Pearson) confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ExactProportion {
    /// events / n.
    pub proportion: f64,
    /// The lower limit (0 with no events).
    pub ci_lower: f64,
    /// The upper limit (1 with only events).
    pub ci_upper: f64,
}

/// The included studies, in input order: each one's row of the results
/// table ([`StudyResult`]) is made when it is read.
///
/// ```
/// use cochran::{Analysis, AnalysisOptions, Measure};
/// let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
/// assert_eq!(analysis.studies.len(), 13);
/// assert_eq!(analysis.studies.get(0).study, "Aronson 1948");
/// let total: f64 = analysis.studies.iter().map(|s| s.weight).sum();
/// assert!((total - 100.0).abs() < 1e-9);
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct StudyResults {
    effects: Arc<EffectSet>,
    weights: Vec<f64>,
    /// The normal quantile of the studies' intervals.
    z: f64,
    /// The clusters' labels and each study's cluster, when clustered.
    clusters: Option<(Vec<Arc<str>>, Vec<usize>)>,
    /// Observed proportions with exact intervals, for a GLMM of proportions.
    exact: Option<Vec<Option<ExactProportion>>>,
}

impl StudyResults {
    pub(crate) fn new(effects: Arc<EffectSet>, weights: Vec<f64>, level: f64) -> StudyResults {
        StudyResults {
            effects,
            weights,
            z: Effect::z(level),
            clusters: None,
            exact: None,
        }
    }

    /// Each single proportion's observed value with its exact
    /// (Clopper–Pearson) interval at `level`, beside the effect size with its
    /// continuity correction and Wald interval.
    pub(crate) fn with_exact_proportions(mut self, level: f64) -> crate::Result<Self> {
        let exact = self
            .effects
            .studies
            .iter()
            .map(|s| match &s.data {
                crate::effect::StudyData::Proportion(p) => {
                    let [ci_lower, ci_upper] = p.clopper_pearson(level)?;
                    Ok(Some(ExactProportion {
                        proportion: p.events / p.n,
                        ci_lower,
                        ci_upper,
                    }))
                }
                _ => Ok(None),
            })
            .collect::<crate::Result<Vec<_>>>()?;
        self.exact = Some(exact);
        Ok(self)
    }

    pub(crate) fn with_clusters(mut self, labels: Vec<Arc<str>>, of: Vec<usize>) -> Self {
        self.clusters = Some((labels, of));
        self
    }

    /// The number of studies.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether there is no study.
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The row of study `i` (0-based, in input order).
    ///
    /// # Panics
    /// When `i` is not below [`len`](Self::len).
    pub fn get(&self, i: usize) -> StudyResult<'_> {
        let s = &self.effects.studies[i];
        let (ci_lower, ci_upper) = s.effect.interval(self.z);
        StudyResult {
            study: &s.study,
            subgroup: s.subgroup(),
            cluster: self.clusters.as_ref().map(|(labels, of)| &*labels[of[i]]),
            row: s.row(),
            yi: s.effect.yi,
            vi: s.effect.vi,
            weight: self.weights[i],
            ci_lower,
            ci_upper,
            exact: self.exact.as_ref().and_then(|e| e[i]),
            notes: s.notes(),
            imputed: s.imputed(),
            instrument: s.instrument().map(|i| i.instrument.as_str()),
        }
    }

    /// The rows, in input order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            studies: self,
            next: 0,
        }
    }

    /// The studies' weights in the model, percent.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

thread_local! {
    /// Whether the studies are being left out of a document, to be written
    /// around it ([`deferred`]).
    static DEFERRED: Cell<bool> = const { Cell::new(false) };
}

/// What the studies' array is serialised as while [`deferred`].
pub(crate) const PLACEHOLDER: &str = "\u{0}cochran:studies\u{0}";

/// Runs `write` with every study table serialised as [`PLACEHOLDER`]: a
/// document's few pooled numbers are written first, the rows after, in
/// blocks ([`StudyResults::write_json_array`]).
pub(crate) fn deferred<R>(write: impl FnOnce() -> R) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DEFERRED.set(false);
        }
    }
    DEFERRED.set(true);
    let _reset = Reset;
    write()
}

/// Rows serialised per task, and per block written (memory stays bounded).
const TASK_ROWS: usize = 4096;
const BLOCK_ROWS: usize = 16 * TASK_ROWS;

impl StudyResults {
    /// Writes the rows as the JSON array serde would, in blocks serialised
    /// on all cores and written in order.
    pub(crate) fn write_json_array(&self, writer: &mut impl Write) -> std::io::Result<()> {
        writer.write_all(b"[")?;
        // The same buffers for every block: no fresh memory to fault in.
        let mut buffers = vec![Vec::new(); BLOCK_ROWS / TASK_ROWS];
        for block in (0..self.len()).step_by(BLOCK_ROWS) {
            let end = (block + BLOCK_ROWS).min(self.len());
            let tasks = (end - block).div_ceil(TASK_ROWS);
            let written = crate::parallel::map_mut(&mut buffers[..tasks], |t, out| {
                out.clear();
                let start = block + t * TASK_ROWS;
                for i in start..(start + TASK_ROWS).min(end) {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.get(i).write_json(out)?;
                }
                Ok::<_, serde_json::Error>(())
            });
            for (done, bytes) in written.into_iter().zip(&buffers) {
                done?;
                writer.write_all(bytes)?;
            }
        }
        writer.write_all(b"]")
    }
}

impl StudyResult<'_> {
    /// Writes the row as `serde_json` serialises it, the common fields
    /// directly: a million rows spend their time on numbers, not on the
    /// serializer's calls per field.
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        if !self.notes.is_empty() || !self.imputed.is_empty() || self.exact.is_some() {
            return serde_json::to_writer(out, self);
        }
        let text = |out: &mut Vec<u8>, key: &[u8], value: &str| {
            out.extend_from_slice(key);
            serde_json::to_writer(out, value)
        };
        text(out, b"{\"study\":", self.study)?;
        if let Some(subgroup) = self.subgroup {
            text(out, b",\"subgroup\":", subgroup)?;
        }
        if let Some(cluster) = self.cluster {
            text(out, b",\"cluster\":", cluster)?;
        }
        let mut formatter = serde_json::ser::CompactFormatter;
        if let Some(row) = self.row {
            out.extend_from_slice(b",\"row\":");
            formatter
                .write_u64(out, row as u64)
                .map_err(serde_json::Error::io)?;
        }
        let weighted = !self.weight.is_nan();
        for (key, value) in [
            (&b",\"yi\":"[..], self.yi),
            (b",\"vi\":", self.vi),
            (b",\"weight\":", self.weight),
            (b",\"ci_lower\":", self.ci_lower),
            (b",\"ci_upper\":", self.ci_upper),
        ]
        .into_iter()
        .filter(|(key, _)| weighted || !key.ends_with(b"\"weight\":"))
        {
            out.extend_from_slice(key);
            // As serde_json: a number that is not finite is null.
            match value.is_finite() {
                true => formatter.write_f64(out, value),
                false => formatter.write_null(out),
            }
            .map_err(serde_json::Error::io)?;
        }
        if let Some(instrument) = self.instrument {
            text(out, b",\"instrument\":", instrument)?;
        }
        out.push(b'}');
        Ok(())
    }
}

impl Serialize for StudyResults {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match DEFERRED.get() {
            true => serializer.serialize_str(PLACEHOLDER),
            false => serializer.collect_seq(self.iter()),
        }
    }
}

/// The rows of [`StudyResults`], in input order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    studies: &'a StudyResults,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = StudyResult<'a>;

    fn next(&mut self) -> Option<StudyResult<'a>> {
        let i = self.next;
        (i < self.studies.len()).then(|| {
            self.next += 1;
            self.studies.get(i)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.studies.len() - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a StudyResults {
    type Item = StudyResult<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_written_as_serde_json_writes_them() {
        let labels = ["A", "Müller \"2001\"", "back\\slash", "tab\tand\u{1}", ""];
        let numbers = [
            0.1,
            -0.0,
            1e300,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            123456789.0,
        ];
        let notes = ["0.5 added".to_string()];
        for (i, label) in labels.iter().enumerate() {
            for (j, &x) in numbers.iter().enumerate() {
                let row = StudyResult {
                    study: label,
                    subgroup: (i % 2 == 0).then_some("group \"x\""),
                    cluster: (j % 2 == 0).then_some(*label),
                    row: (j % 3 != 0).then_some(i * 1_000_000 + j),
                    yi: x,
                    vi: numbers[(j + 1) % numbers.len()],
                    weight: numbers[(j + 2) % numbers.len()],
                    ci_lower: -x,
                    ci_upper: x * 3.0,
                    exact: None,
                    notes: if i == 3 { &notes } else { &[] },
                    imputed: &[],
                    instrument: (i % 3 == 0).then_some("HHS"),
                };
                let mut written = Vec::new();
                row.write_json(&mut written).unwrap();
                let expected = serde_json::to_vec(&row).unwrap();
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }
}
