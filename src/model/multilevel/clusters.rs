//! Which effects belong together: a validated assignment of effects to clusters.

use serde::Serialize;

use crate::error::{ErrorKind, Result};
use crate::hash::LabelMap;

/// The cluster (usually the study) of every effect, in the effects' order.
///
/// ```
/// use cochran::Clusters;
///
/// let clusters = Clusters::new(&["Smith 2001", "Smith 2001", "Jones 2004"])?;
/// assert_eq!(clusters.count(), 2);
/// assert_eq!(clusters.sizes(), vec![2, 1]);
/// assert_eq!(clusters.label(1), "Jones 2004");
/// # Ok::<(), cochran::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clusters {
    /// For each effect, the position of its cluster in `labels`.
    index: Vec<usize>,
    /// The clusters' labels in order of first appearance.
    labels: Vec<String>,
}

impl Clusters {
    /// Groups effects by label; labels are compared exactly, after trimming
    /// surrounding spaces. An empty label is an error: its cluster is unknown.
    pub fn new(labels: &[impl AsRef<str>]) -> Result<Self> {
        let mut seen: LabelMap<&str, usize> =
            LabelMap::with_capacity_and_hasher(labels.len(), Default::default());
        let mut index = Vec::with_capacity(labels.len());
        let mut names = Vec::new();
        for (row, label) in labels.iter().enumerate() {
            let label = label.as_ref().trim();
            if label.is_empty() {
                return Err(ErrorKind::InvalidSetting(format!(
                    "effect {} has no cluster label",
                    row + 1
                ))
                .into());
            }
            let next = seen.len();
            let position = *seen.entry(label).or_insert(next);
            if position == names.len() {
                names.push(label.to_string());
            }
            index.push(position);
        }
        Ok(Clusters {
            index,
            labels: names,
        })
    }

    /// The number of effects.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when there are no effects.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The number of clusters.
    pub fn count(&self) -> usize {
        self.labels.len()
    }

    /// The label of cluster `c` (in order of first appearance).
    pub fn label(&self, c: usize) -> &str {
        &self.labels[c]
    }

    /// The cluster of effect `i`.
    pub fn of(&self, i: usize) -> usize {
        self.index[i]
    }

    /// The number of effects in each cluster.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.count()];
        self.index.iter().for_each(|&c| sizes[c] += 1);
        sizes
    }

    /// The effects of each cluster, in their original order: one list per cluster.
    pub(crate) fn members(&self) -> Vec<Vec<usize>> {
        let mut members: Vec<Vec<usize>> =
            self.sizes().into_iter().map(Vec::with_capacity).collect();
        self.index
            .iter()
            .enumerate()
            .for_each(|(i, &c)| members[c].push(i));
        members
    }
}
