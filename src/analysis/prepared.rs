//! The first half of an analysis: what needs the table (selection, effects,
//! instruments, clusters, moderators, follow-up, correlation sensitivity),
//! kept so that the table can go before the model is fitted.

use super::{
    Analysis, AnalysisOptions, RSensitivity, bayes, clinical, common_follow_up, dependence,
    harmonise, moderators, r_sensitivity, select_outcome, selection,
};
use crate::data::Table;
use crate::effect::EffectSet;
use crate::error::Result;
use crate::model::{Clusters, Design};

/// An analysis with everything read from its table, ready to be fitted.
pub(super) struct Prepared {
    effects: EffectSet,
    design: Option<Design>,
    clusters: Option<Clusters>,
    notes: Vec<String>,
    group_column: Option<String>,
    follow_up: Option<f64>,
    r_sensitivity: Option<Vec<RSensitivity>>,
}

impl Prepared {
    pub(super) fn from_table(table: &Table, options: &AnalysisOptions) -> Result<Prepared> {
        options.check()?;
        // A table read without the grouping (EffectSet::table_spec) kept the
        // column as text: group it here.
        let regrouped;
        let table = match &options.group_by {
            Some(column) if table.group_column() != Some(column.trim().to_lowercase().as_str()) => {
                regrouped = table.grouped_by(column)?;
                &regrouped
            }
            _ => table,
        };
        let selected;
        let table = match &options.outcome {
            Some(name) => {
                selected = select_outcome(table, name, options.registry())?;
                &selected
            }
            None => table,
        };
        let chosen;
        let mut said = (Vec::new(), Vec::new());
        let table = if options.uses_person_time() {
            table
        } else {
            let selection = selection::select(table, options.time, options.registry())?;
            said = (selection.notes, selection.warnings);
            chosen = selection.table;
            chosen.as_ref()
        };
        let mut effects = EffectSet::from_table(table, options.measure, &options.effects)?;
        effects.warnings.extend(said.1);
        said.0.extend(selection::prefer(
            &mut effects,
            table,
            &options.prefer,
            options.registry(),
        )?);
        harmonise(
            &mut effects,
            table,
            options.registry(),
            &options.harmonisation,
        )?;
        let labels = match &options.cluster {
            Some(column) => Some(dependence::cluster_labels(table, &mut effects, column)?),
            None => None,
        };
        // The studies' rows before moderators exclude any, for the clusters.
        let before: Vec<usize> = match labels {
            Some(_) => effects.studies.iter().map(|s| s.table_row()).collect(),
            None => Vec::new(),
        };
        let design =
            moderators::design(table, &mut effects, &options.moderators, options.intercept)?;
        // Studies without a moderator value were excluded: their cluster labels go too.
        let clusters = labels
            .map(|labels| {
                let mut kept = effects.studies.iter().map(|s| s.table_row()).peekable();
                let labels: Vec<&str> = labels
                    .into_iter()
                    .zip(before)
                    .filter(|(_, row)| kept.next_if_eq(row).is_some())
                    .map(|(label, _)| label)
                    .collect();
                let column = options.cluster.as_deref().unwrap_or_default();
                Clusters::new(&labels).map_err(|e| e.in_column(column))
            })
            .transpose()?;
        Ok(Prepared {
            follow_up: common_follow_up(table, &effects),
            r_sensitivity: r_sensitivity(table, options)?,
            group_column: table.group_column().map(str::to_string),
            effects,
            design,
            clusters,
            notes: said.0,
        })
    }

    /// Fits the model and completes the analysis.
    pub(super) fn finish(self, options: &AnalysisOptions) -> Result<Analysis> {
        let mut analysis =
            Analysis::with_design(self.effects, options, self.design, self.clusters)?;
        analysis.notes.extend(self.notes);
        analysis.group_column = self.group_column.filter(|_| analysis.subgroups.is_some());
        analysis.outcome = options.outcome.clone();
        analysis.follow_up = self.follow_up;
        analysis.clinical = clinical::summarise(
            &analysis.effects,
            analysis.pooled(),
            &options.harmonisation,
            options.registry(),
        );
        if let (Some(bayes), Some(clinical)) = (&mut analysis.bayesian, &analysis.clinical) {
            bayes::mic_probabilities(bayes, clinical);
        }
        analysis.r_sensitivity = self.r_sensitivity;
        Ok(analysis)
    }
}
