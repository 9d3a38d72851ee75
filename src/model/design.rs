//! The model matrix of a meta-regression: an intercept (or not) and moderators.
//!
//! Build it from numbers in code or from table columns; numeric moderators
//! enter as one coefficient, categorical ones as dummies against their first
//! level in sorted byte order (as R's `factor()` orders them):
//!
//! ```
//! use cochran::Design;
//! let design = Design::builder(6)
//!     .numeric("latitude", &[44.0, 55.0, 42.0, 13.0, 33.0, 19.0])?
//!     .categorical("alloc", &["random", "alternate", "random", "systematic", "random", "alternate"])?
//!     .build()?;
//! assert_eq!(design.names(), ["intrcpt", "latitude", "allocrandom", "allocsystematic"]);
//! assert_eq!(design.reference_levels(), [("alloc".to_string(), "alternate".to_string())]);
//! # Ok::<(), cochran::Error>(())
//! ```

use crate::setting::Setting;
use serde::Serialize;

use super::linalg::Cholesky;
use crate::error::{ErrorKind, Result, quoted};

/// The name metafor gives the intercept.
pub const INTERCEPT: &str = "intrcpt";

/// A validated k × p model matrix, stored by column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    k: usize,
    names: Vec<String>,
    #[serde(skip)]
    columns: Vec<Vec<f64>>,
    intercept: bool,
    /// Each categorical moderator with its reference level.
    reference_levels: Vec<(String, String)>,
    /// For each coefficient, the moderator (column) it comes from.
    sources: Vec<String>,
}

/// Collects moderators for a [`Design`]; [`build`](Self::build) checks them.
#[derive(Debug, Clone)]
pub struct DesignBuilder {
    k: usize,
    intercept: bool,
    columns: Vec<(String, String, Vec<f64>)>,
    reference_levels: Vec<(String, String)>,
}

impl Design {
    /// Starts a design for `k` studies, with an intercept.
    ///
    /// ```
    /// use cochran::Design;
    /// let design = Design::builder(3).numeric("dose", &[1.0, 2.0, 4.0])?.build()?;
    /// assert_eq!(design.p(), 2);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn builder(k: usize) -> DesignBuilder {
        DesignBuilder {
            k,
            intercept: true,
            columns: Vec::new(),
            reference_levels: Vec::new(),
        }
    }

    /// Number of studies.
    ///
    /// ```
    /// # use cochran::Design;
    /// let design = Design::builder(4).numeric("dose", &[1.0, 2.0, 3.0, 5.0])?.build()?;
    /// assert_eq!((design.k(), design.p()), (4, 2));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of coefficients.
    pub fn p(&self) -> usize {
        self.columns.len()
    }

    /// Coefficient names in model-matrix order (`intrcpt` first when present).
    ///
    /// ```
    /// # use cochran::Design;
    /// let design = Design::builder(4).categorical("arm", &["b", "a", "c", "a"])?.build()?;
    /// assert_eq!(design.names(), ["intrcpt", "armb", "armc"]);
    /// assert_eq!(design.sources(), ["intrcpt", "arm", "arm"]);
    /// assert!(design.has_intercept() && !design.is_intercept_only());
    /// assert_eq!(design.tested(), 1..3);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// True when the first coefficient is an intercept.
    pub fn has_intercept(&self) -> bool {
        self.intercept
    }

    /// The categorical moderators and their reference (omitted) levels.
    pub fn reference_levels(&self) -> &[(String, String)] {
        &self.reference_levels
    }

    /// The moderator each coefficient comes from (`intrcpt` for the intercept).
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// The value of coefficient `j`'s column for study `i`.
    ///
    /// ```
    /// # use cochran::Design;
    /// let design = Design::builder(3).numeric("dose", &[1.0, 2.0, 4.0])?.build()?;
    /// assert_eq!(design.x(2, 1), 4.0);
    /// assert_eq!(design.row(2), [1.0, 4.0]);
    /// assert_eq!(design.select(&[2, 0]).row(0), [1.0, 4.0]);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn x(&self, i: usize, j: usize) -> f64 {
        self.columns[j][i]
    }

    /// Study `i`'s row of the model matrix.
    pub fn row(&self, i: usize) -> Vec<f64> {
        self.columns.iter().map(|c| c[i]).collect()
    }

    /// The same design restricted to the studies at `rows`, in that order.
    pub fn select(&self, rows: &[usize]) -> Design {
        Design {
            k: rows.len(),
            columns: self
                .columns
                .iter()
                .map(|c| rows.iter().map(|&i| c[i]).collect())
                .collect(),
            ..self.clone()
        }
    }

    /// The coefficients the omnibus test QM covers: all but the intercept.
    pub fn tested(&self) -> std::ops::Range<usize> {
        usize::from(self.intercept)..self.p()
    }

    /// The model-matrix row for named moderator values: a number for a numeric
    /// moderator, a level for a categorical one. Every moderator needs a value.
    ///
    /// ```
    /// use cochran::Design;
    /// let design = Design::builder(5)
    ///     .numeric("dose", &[1.0, 2.0, 4.0, 8.0, 3.0])?
    ///     .categorical("arm", &["a", "b", "a", "c", "b"])?
    ///     .build()?;
    /// assert_eq!(design.row_for(&[("dose", "2.5"), ("arm", "c")])?, [1.0, 2.5, 0.0, 1.0]);
    /// assert!(design.row_for(&[("dose", "2.5"), ("arm", "z")]).is_err());
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn row_for(&self, values: &[(&str, &str)]) -> Result<Vec<f64>> {
        let moderators = self.moderators();
        if let Some((name, _)) = values
            .iter()
            .find(|(n, _)| !moderators.iter().any(|m| m.eq_ignore_ascii_case(n)))
        {
            return Err(ErrorKind::InvalidSetting(format!(
                "{predict} names `{name}`, which is not a moderator of the model; its moderators are: {}",
                moderators.join(", "),
                predict = Setting::Predict
            ))
            .into());
        }
        let value_of = |moderator: &str| -> Result<&str> {
            values
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(moderator))
                .map(|(_, v)| v.trim())
                .ok_or_else(|| {
                    ErrorKind::InvalidSetting(format!(
                        "{} needs a value for every moderator; `{moderator}` has none",
                        Setting::Predict
                    ))
                    .into()
                })
        };
        let mut row = Vec::with_capacity(self.p());
        for (j, (name, source)) in self.names.iter().zip(&self.sources).enumerate() {
            if j == 0 && self.intercept {
                row.push(1.0);
            } else if name == source {
                let text = value_of(source)?;
                let x = text
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        ErrorKind::InvalidSetting(format!(
                            "{}: moderator `{source}` is numeric, found `{text}`",
                            Setting::Predict
                        ))
                    })?;
                row.push(x);
            } else {
                let level = value_of(source)?;
                self.check_level(source, level)?;
                row.push(f64::from(u8::from(name[source.len()..] == *level)));
            }
        }
        Ok(row)
    }

    /// The moderators (columns) in model order, each once.
    fn moderators(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        let skip = usize::from(self.intercept);
        for source in &self.sources[skip..] {
            if !seen.contains(&source.as_str()) {
                seen.push(source);
            }
        }
        seen
    }

    fn check_level(&self, moderator: &str, level: &str) -> Result<()> {
        let mut levels: Vec<&str> = self
            .reference_levels
            .iter()
            .filter(|(m, _)| m == moderator)
            .map(|(_, l)| l.as_str())
            .collect();
        levels.extend(
            self.names
                .iter()
                .zip(&self.sources)
                .filter(|(n, s)| *s == moderator && n != s)
                .map(|(n, _)| &n[moderator.len()..]),
        );
        if levels.contains(&level) {
            Ok(())
        } else {
            Err(ErrorKind::InvalidSetting(format!(
                "{}: `{level}` is not a level of `{moderator}`; its levels are: {}",
                Setting::Predict,
                levels.join(", ")
            ))
            .into())
        }
    }

    /// True for the intercept-only model.
    pub fn is_intercept_only(&self) -> bool {
        self.intercept && self.p() == 1
    }
}

impl DesignBuilder {
    /// Fits without an intercept (the omnibus test then covers every
    /// coefficient). Call it before adding moderators: a first categorical
    /// moderator then keeps all its levels.
    ///
    /// ```
    /// use cochran::Design;
    /// let design = Design::builder(3)
    ///     .without_intercept()
    ///     .categorical("arm", &["a", "b", "a"])?
    ///     .build()?;
    /// assert_eq!(design.names(), ["arma", "armb"]);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn without_intercept(mut self) -> Self {
        self.intercept = false;
        self
    }

    /// Adds a numeric moderator: one coefficient.
    ///
    /// ```
    /// use cochran::Design;
    /// assert!(Design::builder(2).numeric("x", &[1.0]).is_err()); // one value per study
    /// ```
    pub fn numeric(mut self, name: &str, values: &[f64]) -> Result<Self> {
        self.check_length(name, values.len())?;
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(ErrorKind::InvalidValue(format!(
                "moderator `{name}`: study {} has the value {}, not a finite number",
                i + 1,
                values[i]
            ))
            .into());
        }
        self.columns
            .push((name.to_string(), name.to_string(), values.to_vec()));
        Ok(self)
    }

    /// Adds a categorical moderator: one dummy per level but the first in sorted
    /// byte order (all levels without an intercept, when it is the first moderator).
    ///
    /// ```
    /// use cochran::Design;
    /// let design = Design::builder(4).categorical("grade", &["II", "I", "III", "I"])?.build()?;
    /// assert_eq!(design.names(), ["intrcpt", "gradeII", "gradeIII"]);
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn categorical(mut self, name: &str, labels: &[impl AsRef<str>]) -> Result<Self> {
        self.check_length(name, labels.len())?;
        let mut levels: Vec<&str> = labels.iter().map(AsRef::as_ref).collect();
        levels.sort_unstable();
        levels.dedup();
        if levels.len() < 2 {
            return Err(ErrorKind::InvalidSetting(format!(
                "moderator `{name}` has a single level (`{}`) and cannot explain differences",
                levels.first().unwrap_or(&"")
            ))
            .into());
        }
        // Without an intercept the first factor keeps all its levels, as in R.
        let keep_all = !self.intercept && self.columns.is_empty();
        let dummies = if keep_all { &levels[..] } else { &levels[1..] };
        for level in dummies {
            let column = labels
                .iter()
                .map(|l| f64::from(u8::from(l.as_ref() == *level)))
                .collect();
            self.columns
                .push((format!("{name}{level}"), name.to_string(), column));
        }
        if !keep_all {
            self.reference_levels
                .push((name.to_string(), levels[0].to_string()));
        }
        Ok(self)
    }

    fn check_length(&self, name: &str, n: usize) -> Result<()> {
        if n == self.k {
            Ok(())
        } else {
            Err(ErrorKind::InvalidSetting(format!(
                "moderator `{name}` has {n} values for {} studies",
                self.k
            ))
            .into())
        }
    }

    /// Checks the design: more studies than coefficients, no constant or
    /// collinear moderators.
    ///
    /// ```
    /// use cochran::Design;
    /// let collinear = Design::builder(4)
    ///     .numeric("a", &[1.0, 2.0, 3.0, 4.0])?
    ///     .numeric("b", &[2.0, 4.0, 6.0, 8.0])?
    ///     .build();
    /// assert!(collinear.unwrap_err().to_string().contains("`b`"));
    /// # Ok::<(), cochran::Error>(())
    /// ```
    pub fn build(self) -> Result<Design> {
        let mut names = Vec::new();
        let mut sources = Vec::new();
        let mut columns = Vec::new();
        if self.intercept {
            names.push(INTERCEPT.to_string());
            sources.push(INTERCEPT.to_string());
            columns.push(vec![1.0; self.k]);
        }
        for (name, source, column) in self.columns {
            names.push(name);
            sources.push(source);
            columns.push(column);
        }
        if columns.is_empty() {
            return Err(ErrorKind::InvalidSetting(
                "a model without an intercept needs at least one moderator".into(),
            )
            .into());
        }
        if columns.len() > super::regression::MAX_COEFFICIENTS {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} coefficients: at most {} are supported",
                columns.len(),
                super::regression::MAX_COEFFICIENTS
            ))
            .into());
        }
        if columns.len() >= self.k {
            return Err(ErrorKind::InvalidSetting(format!(
                "{} coefficients ({}) need more than {} studies",
                columns.len(),
                names.join(", "),
                self.k
            ))
            .into());
        }
        let design = Design {
            k: self.k,
            names,
            columns,
            intercept: self.intercept,
            reference_levels: self.reference_levels,
            sources,
        };
        design.check_rank()?;
        Ok(design)
    }
}

impl Design {
    /// Each column must add something the earlier ones do not span: checked on
    /// the Cholesky factor of the equilibrated cross-product matrix.
    fn check_rank(&self) -> Result<()> {
        let p = self.p();
        let norms: Vec<f64> = self
            .columns
            .iter()
            .map(|c| c.iter().map(|x| x * x).sum::<f64>().sqrt())
            .collect();
        for (j, norm) in norms.iter().enumerate() {
            if *norm == 0.0 {
                return Err(self.collinear(j));
            }
        }
        let mut xtx = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..=a {
                let dot: f64 = (0..self.k)
                    .map(|i| self.columns[a][i] * self.columns[b][i])
                    .sum();
                xtx[a * p + b] = dot / (norms[a] * norms[b]);
                xtx[b * p + a] = xtx[a * p + b];
            }
        }
        match Cholesky::new(&xtx, p, RANK_TOLERANCE) {
            Ok(_) => Ok(()),
            Err(j) => Err(self.collinear(j)),
        }
    }

    fn collinear(&self, j: usize) -> crate::Error {
        let earlier = &self.names[..j];
        let what = if earlier.is_empty() {
            "is zero for every study".to_string()
        } else if self.intercept && self.columns[j].windows(2).all(|w| w[0] == w[1]) {
            "is constant: it cannot be told apart from the intercept".to_string()
        } else {
            format!("is a linear combination of {}", quoted(earlier))
        };
        ErrorKind::InvalidSetting(format!(
            "moderator `{}` {what}; remove it or the columns it repeats",
            self.sources[j]
        ))
        .into()
    }
}

/// A pivot below this fraction of its column's norm means a collinear column.
const RANK_TOLERANCE: f64 = 1e-10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_moderators_and_too_few_studies_are_refused() {
        let constant = Design::builder(3)
            .numeric("c", &[2.0, 2.0, 2.0])
            .unwrap()
            .build();
        assert!(constant.unwrap_err().to_string().contains("constant"));
        let crowded = Design::builder(2)
            .numeric("x", &[1.0, 2.0])
            .unwrap()
            .build();
        assert!(
            crowded
                .unwrap_err()
                .to_string()
                .contains("more than 2 studies")
        );
        let one_level = Design::builder(3).categorical("g", &["a", "a", "a"]);
        assert!(one_level.unwrap_err().to_string().contains("single level"));
    }
}
