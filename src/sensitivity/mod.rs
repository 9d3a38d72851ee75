//! Sensitivity analyses: the model refitted on subsets of the studies.
//!
//! [`Analysis::leave_one_out`] refits the model without each study in turn, as
//! metafor's `leave1out()`; the refits are independent and run in parallel,
//! their order (and every number) the same whatever the number of threads.
//!
//! ```
//! use cochran::{Analysis, AnalysisOptions, Measure};
//! let analysis = Analysis::from_csv("datasets/bcg.csv", &AnalysisOptions::new(Measure::Rr))?;
//! let loo = analysis.leave_one_out()?;
//! assert_eq!(loo.studies.len(), 13);
//! assert_eq!(loo.studies[0].study, "Aronson 1948"); // the study left out
//! # Ok::<(), cochran::Error>(())
//! ```

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::effect::Effect;
use crate::error::{ErrorKind, Result};
use crate::model::{Fit, MetaAnalysis};

/// The pooled result of one refit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refit {
    /// The study the refit concerns (the one left out).
    pub study: String,
    /// Pooled estimate.
    pub estimate: f64,
    /// Its standard error.
    pub se: f64,
    /// z or t statistic.
    pub statistic: Option<f64>,
    /// Two-sided p-value.
    pub p_value: Option<f64>,
    /// Lower confidence limit.
    pub ci_lower: f64,
    /// Upper confidence limit.
    pub ci_upper: f64,
    /// Cochran's Q of the remaining studies.
    pub q: Option<f64>,
    /// Its p-value.
    pub q_p_value: Option<f64>,
    /// τ² (0 for the common-effect model).
    pub tau2: f64,
    /// I² in percent.
    pub i2: Option<f64>,
    /// H².
    pub h2: Option<f64>,
}

impl Refit {
    fn of(study: &str, fit: &Fit) -> Self {
        Refit {
            study: study.to_string(),
            estimate: fit.estimate,
            se: fit.se,
            statistic: fit.statistic,
            p_value: fit.p_value,
            ci_lower: fit.ci_lower,
            ci_upper: fit.ci_upper,
            q: fit.q,
            q_p_value: fit.q_p_value,
            tau2: fit.tau2,
            i2: fit.i2,
            h2: fit.h2,
        }
    }
}

/// The model refitted without each study in turn, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaveOneOut {
    /// One refit per study; `study` names the one left out.
    pub studies: Vec<Refit>,
}

impl Analysis {
    /// The model refitted without each study in turn (metafor's `leave1out()`),
    /// with the same method, test and level.
    pub fn leave_one_out(&self) -> Result<LeaveOneOut> {
        let fit = self.fit();
        if fit.regression.is_some() {
            return Err(ErrorKind::InvalidSetting(
                "leave-one-out refits a pooled effect; a meta-regression has none".into(),
            )
            .into());
        }
        if fit.k < 2 {
            return Err(
                ErrorKind::InvalidSetting("leave-one-out needs at least 2 studies".into()).into(),
            );
        }
        let model = MetaAnalysis::new(fit.method)
            .test(fit.test)
            .level(fit.level);
        let effects = fit.effects();
        let studies = (0..effects.len())
            .into_par_iter()
            .map(|left_out| {
                let rest: Vec<Effect> = effects
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != left_out)
                    .map(|(_, e)| *e)
                    .collect();
                let refit = model.fit(&rest)?;
                Ok(Refit::of(&self.studies[left_out].study, &refit))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(LeaveOneOut { studies })
    }
}
