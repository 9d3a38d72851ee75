//! Geometry: column widths from measured text, row positions, marks and axis.

use super::ForestPlot;
use super::columns::{ColumnGroup, groups_for};
use super::rows::{self, Kind, Mark, Row, RowStyle};
use crate::effect::{BackTransform, Design};
use crate::error::{ErrorKind, Result};
use crate::model::Method;
use crate::plot::axis::Axis;
use crate::plot::fonts::{text_width, truncate};
use crate::plot::scene::{Align, BLACK, GREY, Rgb, Scene, Text};
use crate::plot::{natural_title, positive};

/// Study squares; tests find them by this colour.
pub(crate) const SQUARE: Rgb = (47, 85, 151);
/// Pooled diamonds.
pub(crate) const DIAMOND: Rgb = (0, 0, 0);
/// Prediction-interval bars.
pub(crate) const PREDICTION: Rgb = (192, 40, 40);

/// Sizes that follow the text size.
struct Metrics {
    font: f64,
    note: f64,
    row: f64,
    gap: f64,
    margin: f64,
}

impl Metrics {
    fn new(font: f64) -> Self {
        Metrics {
            font,
            note: font * 0.88,
            row: font * 1.65,
            gap: font * 1.1,
            margin: font * 1.2,
        }
    }
}

/// A column's left edge and width.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    x: f64,
    w: f64,
}

impl Span {
    fn right(self) -> f64 {
        self.x + self.w
    }

    fn center(self) -> f64 {
        self.x + self.w / 2.0
    }
}

/// Where every column sits.
struct Grid {
    label: Span,
    data: Vec<Span>,
    plot: Span,
    effect: Option<Span>,
    weight: Option<Span>,
    width: f64,
}

impl Grid {
    /// The label and data columns together, where headings and notes may run.
    fn left(&self) -> Span {
        let right = self.data.last().map_or(self.label.right(), |s| s.right());
        Span {
            x: self.label.x,
            w: right - self.label.x,
        }
    }
}

pub(super) fn scene(plot: &ForestPlot) -> Result<Scene> {
    let m = Metrics::new(positive(plot.font_size, "the font size")?);
    let groups = if plot.columns.data && plot.refits.is_none() {
        groups_for(plot.analysis.measure.design(), &plot.arms)
    } else {
        Vec::new()
    };
    let style = RowStyle {
        decimals: plot.decimals,
        back: back_transform(plot),
        summed: groups
            .iter()
            .flat_map(|g| g.columns.iter().map(|c| c.summed))
            .collect(),
        order: plot.order.clone(),
        both: plot.both,
    };
    let mut rows = match plot.refits {
        None => rows::rows(plot.analysis, &style),
        Some(refits) => rows::refit_rows(plot.analysis, refits, &style),
    };
    if !plot.columns.data {
        rows.iter_mut().for_each(|r| r.data.clear());
    }
    if let Some((back, size)) = back_transform(plot).filter(|_| drawn_natural(plot)) {
        rows.iter_mut()
            .for_each(|r| r.mark = r.mark.map(|x| back.apply(x, size)));
    }
    let grid = grid(plot, &m, widths(plot, &m, &groups, &rows)?)?;
    let axis = axis(plot, &rows)?.placed(grid.plot.x, grid.plot.right());

    let title_h = if plot.title.is_some() {
        m.row * 1.6
    } else {
        0.0
    };
    let rows_top = m.margin + title_h + 2.0 * m.row + m.row * 0.3;
    let rows_bottom = rows_top + rows.len() as f64 * m.row;
    let height = rows_bottom + m.row * 2.4 + m.margin;
    let mut scene = Scene::new(grid.width, height);

    if let Some(title) = &plot.title {
        let t = truncate(title, grid.width - 2.0 * m.margin, m.font * 1.25, true);
        scene.text(Text::new(m.margin, m.margin + m.row * 0.6, t, m.font * 1.25).bold(true));
    }
    headings(&mut scene, plot, &grid, &groups, &m, m.margin + title_h);
    let rule_y = rows_top - m.row * 0.15;
    scene.line(
        vec![(m.margin, rule_y), (grid.width - m.margin, rule_y)],
        GREY,
        1.0,
    );

    let max_weight = rows.iter().fold(0.0_f64, |acc, r| match r.mark {
        Mark::Square { weight, .. } => acc.max(weight),
        _ => acc,
    });
    for (i, row) in rows.iter().enumerate() {
        let y = rows_top + (i as f64 + 0.5) * m.row;
        row_text(&mut scene, row, &grid, &m, y);
        mark(&mut scene, row.mark, &axis, &m, y, max_weight);
    }
    if has_null(plot) && axis.contains(0.0) {
        let x = axis.px(0.0);
        scene.line(vec![(x, rule_y), (x, rows_bottom)], BLACK, 1.0);
    }
    axis_below(&mut scene, plot, &axis, &m, rows_bottom);
    Ok(scene)
}

/// Column widths before placement.
struct Widths {
    label: f64,
    data: Vec<f64>,
    effect: Option<f64>,
    weight: Option<f64>,
}

/// The width of the widest of `texts` (each with its boldness).
fn widest<'t>(m: &Metrics, texts: impl Iterator<Item = (&'t str, bool)>) -> f64 {
    texts.fold(0.0_f64, |acc, (t, bold)| {
        acc.max(text_width(t, m.font, bold))
    })
}

/// Each column as wide as the widest text it holds; study labels capped.
fn widths(plot: &ForestPlot, m: &Metrics, groups: &[ColumnGroup], rows: &[Row]) -> Result<Widths> {
    let labels = |bold: bool| {
        let texts = rows
            .iter()
            .filter(move |r| r.kind == Kind::Table && r.bold == bold);
        widest(m, texts.map(move |r| (r.label.as_str(), bold)))
    };
    let label = labels(false)
        .min(positive(plot.label_width, "the label width")?)
        .max(labels(true))
        .max(text_width(label_heading(plot), m.font, true));

    let mut data: Vec<f64> = groups
        .iter()
        .flat_map(|g| g.columns.iter())
        .enumerate()
        .map(|(i, c)| {
            let cells = rows
                .iter()
                .filter_map(|r| r.data.get(i).map(|d| (d.as_str(), r.bold)));
            widest(m, cells.chain([(c.heading, true)]))
        })
        .collect();
    widen_for_group_headings(groups, &mut data, m);

    // The statistics lines run under the label and data columns: widen the
    // label column until they fit there, clear of the plot.
    let notes = rows
        .iter()
        .filter(|r| r.kind == Kind::Note)
        .map(|r| text_width(&r.label, m.note, false))
        .fold(0.0, f64::max);
    let left = label + data.iter().map(|w| w + m.gap).sum::<f64>();
    let label = label + (notes - left).max(0.0);

    let heads = effect_headings(plot);
    let effect = plot.columns.effect.then(|| {
        let cells = rows.iter().map(|r| (r.effect.as_str(), r.bold));
        widest(m, cells.chain(heads.iter().map(|h| (h.as_str(), true))))
    });
    // A GLMM has no weights to show.
    let weighted = plot.analysis.model.kind() != crate::model::ModelKind::Glmm;
    let weight = (plot.columns.weight && weighted).then(|| {
        let cells = rows.iter().map(|r| (r.weight.as_str(), r.bold));
        widest(m, cells.chain([(weight_heading(plot), true)]))
    });
    Ok(Widths {
        label,
        data,
        effect,
        weight,
    })
}

/// Places the columns left to right. With a set overall width the plot column
/// takes what the text leaves, down to a minimum; text is never squeezed, so
/// only then is the image wider than asked.
fn grid(plot: &ForestPlot, m: &Metrics, w: Widths) -> Result<Grid> {
    let text_w = 2.0 * m.margin
        + w.label
        + w.data.iter().map(|d| d + m.gap).sum::<f64>()
        + 4.0 * m.gap
        + w.effect.unwrap_or(0.0)
        + w.weight.map_or(0.0, |x| x + m.gap);
    let plot_w = match plot.width {
        Some(total) => (positive(total, "the width")? - text_w).max(m.font * 8.0),
        None => positive(plot.plot_width, "the plot width")?,
    };

    let mut x = m.margin;
    let mut take = |width: f64, before: f64| {
        x += before;
        let span = Span { x, w: width };
        x += width;
        span
    };
    let label = take(w.label, 0.0);
    let data = w.data.iter().map(|&d| take(d, m.gap)).collect();
    let plot_span = take(plot_w, 2.0 * m.gap);
    let effect = w.effect.map(|e| take(e, 2.0 * m.gap));
    let weight = w.weight.map(|e| take(e, m.gap));
    let needed = x + m.margin;
    Ok(Grid {
        label,
        data,
        plot: plot_span,
        effect,
        weight,
        width: plot.width.map_or(needed, |total| total.max(needed)),
    })
}

/// Spreads a group heading's excess width over its columns so it never overhangs.
fn widen_for_group_headings(groups: &[ColumnGroup], widths: &mut [f64], m: &Metrics) {
    let mut start = 0;
    for group in groups {
        let n = group.columns.len();
        let span: f64 = widths[start..start + n].iter().sum::<f64>() + m.gap * (n as f64 - 1.0);
        let extra = text_width(&group.heading, m.font, true) - span;
        if extra > 0.0 {
            widths[start..start + n]
                .iter_mut()
                .for_each(|w| *w += extra / n as f64);
        }
        start += n;
    }
}

/// "Risk Ratio" over "IV, Random, 95% CI", as RevMan heads the effect columns.
fn effect_headings(plot: &ForestPlot) -> [String; 2] {
    let glmm = plot.analysis.model.glmm().map(|g| g.fit.random);
    let (pooling, model) = match (plot.analysis.fit().map(|f| f.method), glmm) {
        (_, Some(true)) => ("GLMM", "Random"),
        (_, Some(false)) => ("GLMM", "Common"),
        (None, _) => ("IV", "Three-level"),
        (Some(Method::Random(_)), _) => ("IV", "Random"),
        (Some(Method::MantelHaenszel), _) => ("M-H", "Fixed"),
        (Some(Method::Peto), _) => ("Peto", "Fixed"),
        (Some(_), _) => ("IV", "Common"),
    };
    let level = crate::report::number::trimmed(plot.analysis.model.level(), 1);
    [
        natural_title(plot.analysis.measure).to_string(),
        format!("{pooling}, {model}, {level}% CI"),
    ]
}

/// "Study", or what a refit row's study is.
fn label_heading(plot: &ForestPlot) -> &'static str {
    plot.refits.map_or("Study", |r| r.label_heading())
}

/// "Weight", or "I²" for refits.
fn weight_heading(plot: &ForestPlot) -> &'static str {
    if plot.refits.is_some() {
        "I²"
    } else {
        "Weight"
    }
}

fn headings(
    scene: &mut Scene,
    plot: &ForestPlot,
    grid: &Grid,
    groups: &[ColumnGroup],
    m: &Metrics,
    top: f64,
) {
    let (line1, line2) = (top + m.row * 0.5, top + m.row * 1.5);
    let bold = |x: f64, y: f64, text: &str, align: Align| {
        Text::new(x, y, text, m.font).bold(true).align(align)
    };
    scene.text(bold(grid.label.x, line2, label_heading(plot), Align::Left));
    let mut spans = grid.data.iter();
    for group in groups {
        let members: Vec<Span> = spans.by_ref().take(group.columns.len()).copied().collect();
        if let (Some(first), Some(last)) = (members.first(), members.last()) {
            let center = (first.x + last.right()) / 2.0;
            scene.text(bold(center, line1, &group.heading, Align::Center));
        }
        for (span, column) in members.iter().zip(&group.columns) {
            scene.text(bold(span.right(), line2, column.heading, Align::Right));
        }
    }
    let [name, model] = effect_headings(plot);
    for span in std::iter::once(grid.plot).chain(grid.effect) {
        scene.text(bold(span.center(), line1, &name, Align::Center));
        scene.text(bold(span.center(), line2, &model, Align::Center));
    }
    if let Some(span) = grid.weight {
        scene.text(bold(
            span.right(),
            line2,
            weight_heading(plot),
            Align::Right,
        ));
    }
}

fn row_text(scene: &mut Scene, row: &Row, grid: &Grid, m: &Metrics, y: f64) {
    match row.kind {
        Kind::Blank => {}
        Kind::Note => {
            let text = truncate(&row.label, grid.left().w, m.note, false);
            scene.text(Text::new(grid.label.x, y, text, m.note));
        }
        Kind::Heading => {
            let text = truncate(&row.label, grid.left().w, m.font, true);
            scene.text(Text::new(grid.label.x, y, text, m.font).bold(true));
        }
        Kind::Table => {
            let cell = |x: f64, text: &str, align: Align| {
                Text::new(x, y, text, m.font).bold(row.bold).align(align)
            };
            let label = truncate(&row.label, grid.label.w, m.font, row.bold);
            scene.text(cell(grid.label.x, &label, Align::Left));
            for (span, value) in grid.data.iter().zip(&row.data) {
                scene.text(cell(span.right(), value, Align::Right));
            }
            if let Some(span) = grid.effect {
                scene.text(cell(span.right(), &row.effect, Align::Right));
            }
            if let Some(span) = grid.weight {
                scene.text(cell(span.right(), &row.weight, Align::Right));
            }
        }
    }
}

fn mark(scene: &mut Scene, mark: Mark, axis: &Axis, m: &Metrics, y: f64, max_weight: f64) {
    match mark {
        Mark::None => {}
        Mark::Square {
            estimate,
            lower,
            upper,
            weight,
        } => {
            whisker(scene, axis, lower, upper, y, BLACK, 1.2);
            if axis.contains(estimate) && max_weight > 0.0 {
                let side = (m.row * 0.72 * (weight / max_weight).sqrt()).max(3.0);
                let x = axis.px(estimate);
                scene.rect(
                    (x - side / 2.0, y - side / 2.0),
                    (x + side / 2.0, y + side / 2.0),
                    SQUARE,
                );
            }
        }
        Mark::Point {
            estimate,
            lower,
            upper,
        } => {
            whisker(scene, axis, lower, upper, y, BLACK, 1.2);
            if axis.contains(estimate) {
                let (x, half) = (axis.px(estimate), m.row * 0.2);
                scene.rect((x - half, y - half), (x + half, y + half), SQUARE);
            }
        }
        Mark::Diamond {
            estimate,
            lower,
            upper,
        } => {
            let h = m.row * 0.36;
            let [l, e, u] = [lower, estimate, upper].map(|v| axis.px(axis.clamp(v)));
            scene.polygon(vec![(l, y), (e, y - h), (u, y), (e, y + h)], DIAMOND);
        }
        Mark::Interval { lower, upper } => {
            whisker(scene, axis, lower, upper, y, PREDICTION, 3.0);
        }
    }
}

/// A horizontal interval, clipped to the axis, with an arrowhead where it runs past.
fn whisker(scene: &mut Scene, axis: &Axis, lower: f64, upper: f64, y: f64, color: Rgb, width: f64) {
    let (l, u) = (axis.px(axis.clamp(lower)), axis.px(axis.clamp(upper)));
    scene.line(vec![(l, y), (u, y)], color, width);
    let head = 7.0;
    if lower < axis.lo {
        scene.polygon(
            vec![
                (l, y),
                (l + head, y - head / 2.0),
                (l + head, y + head / 2.0),
            ],
            color,
        );
    }
    if upper > axis.hi {
        scene.polygon(
            vec![
                (u, y),
                (u - head, y - head / 2.0),
                (u - head, y + head / 2.0),
            ],
            color,
        );
    }
}

fn axis_below(scene: &mut Scene, plot: &ForestPlot, axis: &Axis, m: &Metrics, y: f64) {
    scene.line(
        vec![(axis.px(axis.lo), y), (axis.px(axis.hi), y)],
        BLACK,
        1.0,
    );
    for tick in axis.ticks_that_fit(m.note) {
        let x = axis.px(tick);
        scene.line(vec![(x, y), (x, y + 5.0)], BLACK, 1.0);
        scene.text(
            Text::new(x, y + 5.0 + m.row * 0.45, axis.label(tick), m.note).align(Align::Center),
        );
    }
    // A single group's proportion, mean or rate favours nobody.
    if !has_null(plot) && plot.favours.is_none() {
        return;
    }
    let (left, right) = plot
        .favours
        .clone()
        .unwrap_or_else(|| plot.default_favours());
    let null = axis.px(axis.clamp(0.0));
    let fy = y + 5.0 + m.row * 1.45;
    // Nothing else is drawn at this height, so the words may run to the margins.
    let room_left = null - m.gap / 2.0 - m.margin;
    let room_right = scene.width - m.margin - null - m.gap / 2.0;
    let left = truncate(&left, room_left, m.font, false);
    let right = truncate(&right, room_right, m.font, false);
    scene.text(Text::new(null - m.gap / 2.0, fy, left, m.font).align(Align::Right));
    scene.text(Text::new(null + m.gap / 2.0, fy, right, m.font).align(Align::Left));
}

/// The measure's back-transformation with the harmonic mean size it needs.
pub(super) fn back_transform(plot: &ForestPlot) -> Option<(BackTransform, f64)> {
    let size = plot
        .analysis
        .model
        .back_transformed()
        .and_then(|b| b.harmonic_mean)
        .unwrap_or(f64::NAN);
    plot.analysis.measure.back_transform().map(|b| (b, size))
}

/// Whether the plot is drawn on the natural scale rather than the analysis
/// scale: a GLMM's proportions, whose exact intervals and observed
/// proportions reach 0 and 1 (±∞ on the logit scale).
fn drawn_natural(plot: &ForestPlot) -> bool {
    plot.analysis.model.kind() == crate::model::ModelKind::Glmm
        && plot.analysis.measure.design() == Design::Proportion
}

/// Whether 0 on the analysis scale means no effect: a difference or ratio of
/// two groups or times, or a correlation; not a single group's proportion,
/// mean or rate.
pub(super) fn has_null(plot: &ForestPlot) -> bool {
    !matches!(
        plot.analysis.measure.design(),
        Design::Proportion | Design::SingleMean | Design::IncidenceRate
    )
}

/// The axis: given limits, or one that covers the estimates, the pooled intervals
/// and no effect, reaching out to study intervals only so far that a single very
/// wide interval cannot squash the rest. Ratios (and other log-scale measures)
/// get log ticks, other transformed measures ticks at round natural values.
fn axis(plot: &ForestPlot, rows: &[Row]) -> Result<Axis> {
    let back = back_transform(plot).filter(|_| !drawn_natural(plot));
    let log = matches!(back, Some((BackTransform::Exp, _)));
    let natural = back.filter(|_| !log);
    if let Some((lo, hi)) = plot.x_limits {
        let forward = |x: f64| match back {
            Some((b, size)) => b.forward(x, size),
            None => x,
        };
        let (lo, hi) = (forward(lo), forward(hi));
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            let units = if back.is_some() {
                " on the measure's natural scale"
            } else {
                ""
            };
            return Err(ErrorKind::InvalidSetting(format!(
                "the axis limits must be two increasing numbers{units}"
            ))
            .into());
        }
        return Ok(match natural {
            Some((b, size)) => {
                let mut axis = Axis::natural(lo, hi, b, size);
                (axis.lo, axis.hi) = (lo, hi);
                axis.ticks.retain(|t| (lo - 1e-9..=hi + 1e-9).contains(t));
                axis
            }
            None => Axis::exact(lo, hi, log),
        });
    }
    // Ranges start at 0 so that the line of no effect is always on the axis
    // (where the measure has one).
    let start = if has_null(plot) {
        (0.0_f64, 0.0_f64)
    } else {
        (f64::INFINITY, f64::NEG_INFINITY)
    };
    let (mut core, mut far) = (start, start);
    let widen = |range: &mut (f64, f64), v: f64| {
        if v.is_finite() {
            *range = (range.0.min(v), range.1.max(v));
        }
    };
    for row in rows {
        match row.mark {
            Mark::Square {
                estimate,
                lower,
                upper,
                ..
            }
            | Mark::Point {
                estimate,
                lower,
                upper,
            } => {
                widen(&mut core, estimate);
                widen(&mut far, lower);
                widen(&mut far, upper);
            }
            Mark::Diamond { lower, upper, .. } | Mark::Interval { lower, upper } => {
                widen(&mut core, lower);
                widen(&mut core, upper);
            }
            Mark::None => {}
        }
    }
    // Without a pooled result (one study) the studies' intervals are the core.
    let pooled = rows
        .iter()
        .any(|r| matches!(r.mark, Mark::Diamond { .. } | Mark::Interval { .. }));
    if !pooled {
        core = (core.0.min(far.0), core.1.max(far.1));
    }
    let (core_lo, core_hi) = core;
    let (far_lo, far_hi) = (far.0.min(core_lo), far.1.max(core_hi));
    let reach = (core_hi - core_lo).max(0.2);
    let lo = far_lo.max(core_lo - reach);
    let hi = far_hi.min(core_hi + reach);
    Ok(match natural {
        Some((b, size)) => Axis::natural(lo, hi, b, size),
        None => Axis::covering(lo, hi, log),
    })
}
