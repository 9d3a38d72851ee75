//! The funnel plot (placeholder while the forest plot is built).

use crate::analysis::Analysis;

/// A funnel plot of an [`Analysis`].
#[derive(Debug, Clone)]
pub struct FunnelPlot<'a> {
    analysis: &'a Analysis,
}

impl<'a> FunnelPlot<'a> {
    /// A funnel plot.
    pub fn new(analysis: &'a Analysis) -> Self {
        FunnelPlot { analysis }
    }
}
