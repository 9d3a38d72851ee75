//! The plot area of the x–y plots (funnel, bubble): two placed axes and the
//! pixel box between them, drawn the same way for each.

use super::axis::Axis;
use super::scene::{Align, BLACK, Scene, Text};

/// The plot area in pixels and the two axes placed on it.
pub(crate) struct Frame {
    pub x: Axis,
    pub y: Axis,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    /// The axis lines, ticks, tick labels and the two axis titles.
    pub fn draw_axes(&self, scene: &mut Scene, font: f64, x_title: &str, y_title: &str) {
        let small = font * 0.88;
        scene.line(
            vec![
                (self.left, self.top),
                (self.left, self.bottom),
                (self.right, self.bottom),
            ],
            BLACK,
            1.0,
        );
        self.x_ticks(scene, font);
        for &t in &self.y.ticks {
            let y = self.y.px(t);
            scene.line(vec![(self.left - 5.0, y), (self.left, y)], BLACK, 1.0);
            scene.text(Text::new(self.left - 8.0, y, self.y.label(t), small).align(Align::Right));
        }
        self.x_title(scene, font, x_title);
        let mid_y = (self.top + self.bottom) / 2.0;
        scene.text(
            Text::new(font, mid_y, y_title, font)
                .align(Align::Center)
                .vertical(),
        );
    }

    /// The x axis alone: its line, ticks, tick labels and title (for plots
    /// whose rows are labelled instead of a y axis).
    pub fn draw_x_axis(&self, scene: &mut Scene, font: f64, x_title: &str) {
        scene.line(
            vec![(self.left, self.bottom), (self.right, self.bottom)],
            BLACK,
            1.0,
        );
        self.x_ticks(scene, font);
        self.x_title(scene, font, x_title);
    }

    fn x_ticks(&self, scene: &mut Scene, font: f64) {
        let small = font * 0.88;
        for t in self.x.ticks_that_fit(small) {
            let x = self.x.px(t);
            scene.line(vec![(x, self.bottom), (x, self.bottom + 5.0)], BLACK, 1.0);
            scene.text(
                Text::new(x, self.bottom + 5.0 + small, self.x.label(t), small)
                    .align(Align::Center),
            );
        }
    }

    fn x_title(&self, scene: &mut Scene, font: f64, x_title: &str) {
        let small = font * 0.88;
        let mid_x = (self.left + self.right) / 2.0;
        scene.text(
            Text::new(mid_x, self.bottom + 5.0 + small * 2.0 + font, x_title, font)
                .align(Align::Center),
        );
    }
}
