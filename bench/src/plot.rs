//! The scaling plots: panels of measured points against N, each series with
//! its fitted line when it has one, one row of panels per Terraform version.
//!
//! plotters renders text with ab_glyph from a font we register, not with
//! the system's font machinery (fontconfig/freetype), so it works offline
//! with any TrueType file, e.g. DejaVu Sans from Debian's fonts-dejavu-core.
//! Without a font the panels are drawn without text and the report says
//! which colour is which.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{BenchError, Result};
use crate::stats::LinearFit;

pub const PROVIDER_COLOUR: RGBColor = RGBColor(214, 39, 40);
pub const FLOOR_COLOUR: RGBColor = RGBColor(255, 127, 14);
pub const DATA_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// One panel's size; a plot is a grid of them.
const PANEL: (u32, u32) = (760, 520);
const CAPTION_HEIGHT: u32 = 50;
const FAMILY: &str = "sans-serif";

/// How a series' line is drawn, so two series of one colour can share a
/// panel (e.g. a provider's peak memory during apply and during plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stroke {
    Solid,
    Dashed,
}

pub struct PlotSeries {
    pub name: String,
    /// (N, y)
    pub points: Vec<(f64, f64)>,
    /// Drawn as a thin dashed line across the panel.
    pub fit: Option<LinearFit>,
    pub colour: RGBColor,
    pub stroke: Stroke,
}

pub struct Panel {
    pub title: String,
    pub y_label: &'static str,
    pub series: Vec<PlotSeries>,
    /// Where the legend goes: where it hides no line.
    pub legend_at: SeriesLabelPosition,
}

/// Registers the font once per process; true when text can be drawn.
fn font_ready(font: Option<&Path>) -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let Some(bytes) = font.and_then(|path| std::fs::read(path).ok()) else {
            return false;
        };
        // plotters keeps fonts for the life of the process, so it wants
        // 'static bytes: leaking the one file we load is exactly that.
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok()
    })
}

/// The axes' ends: a little beyond the largest point.
fn bounds(series: &[PlotSeries]) -> (f64, f64) {
    let max_n = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0_f64, f64::max);
    let max_y = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.1_f64, f64::max);
    (max_n * 1.05, max_y * 1.15)
}

/// Draws `rows` of panels (all rows as wide as the widest) under one
/// caption; returns whether the plot has text.
pub fn panels_png(
    path: &Path,
    caption: &str,
    rows: &[Vec<Panel>],
    font: Option<&Path>,
) -> Result<bool> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::Plot(format!("creating {}: {e}", dir.display())))?;
    }
    let labelled = font_ready(font);
    draw(path, caption, rows, labelled).map_err(|e| BenchError::Plot(e.to_string()))?;
    Ok(labelled)
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw(path: &Path, caption: &str, rows: &[Vec<Panel>], labelled: bool) -> DrawResult {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let row_count = rows.len().max(1);
    let caption_height = if labelled { CAPTION_HEIGHT } else { 0 };
    let size = (
        PANEL.0 * u32::try_from(columns)?,
        PANEL.1 * u32::try_from(row_count)? + caption_height,
    );
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let body = if labelled {
        let (top, body) = root.split_vertically(caption_height);
        top.titled(caption, (FAMILY, 26))?;
        body
    } else {
        root.clone()
    };
    let areas = body.split_evenly((row_count, columns));
    for (row_index, row) in rows.iter().enumerate() {
        for (column, panel) in row.iter().enumerate() {
            draw_panel(&areas[row_index * columns + column], panel, labelled)?;
        }
    }
    root.present()?;
    Ok(())
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    panel: &Panel,
    labelled: bool,
) -> DrawResult {
    let (x_max, y_max) = bounds(&panel.series);
    let mut builder = ChartBuilder::on(area);
    builder.margin(16);
    if labelled {
        builder
            .caption(&panel.title, (FAMILY, 20))
            .x_label_area_size(44)
            .y_label_area_size(64);
    } else {
        builder.x_label_area_size(0).y_label_area_size(0);
    }
    let mut chart = builder.build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    if labelled {
        chart
            .configure_mesh()
            .x_desc("N (resources)")
            .y_desc(panel.y_label)
            .x_label_formatter(&|n| format!("{n:.0}"))
            .label_style((FAMILY, 15))
            .draw()?;
    } else {
        // The mesh would need a font for its tick labels: draw a plain
        // grid instead, at round steps.
        let grid = BLACK.mix(0.15);
        let (x_step, y_step) = (nice_step(x_max), nice_step(y_max));
        for x in multiples(x_step, x_max) {
            chart.draw_series(LineSeries::new([(x, 0.0), (x, y_max)], grid))?;
        }
        for y in multiples(y_step, y_max) {
            chart.draw_series(LineSeries::new([(0.0, y), (x_max, y)], grid))?;
        }
        chart.draw_series(LineSeries::new(
            [(0.0, y_max), (0.0, 0.0), (x_max, 0.0)],
            BLACK.stroke_width(2),
        ))?;
    }

    for s in &panel.series {
        let colour = s.colour;
        let pieces: Vec<Vec<(f64, f64)>> = match s.stroke {
            Stroke::Solid => vec![s.points.clone()],
            // An odd number of pieces, so each segment's dashes start and
            // end on its points.
            Stroke::Dashed => s
                .points
                .windows(2)
                .flat_map(|pair| dashed(pair[0], pair[1], 13))
                .collect(),
        };
        let mut first = true;
        for piece in pieces {
            let drawn = chart.draw_series(LineSeries::new(piece, colour.stroke_width(3)))?;
            if labelled && std::mem::take(&mut first) {
                let stroke = s.stroke;
                drawn.label(s.name.as_str()).legend(move |(x, y)| {
                    let style = colour.stroke_width(3);
                    // Two pieces either way, so both strokes are one type.
                    let (first_end, second_start) = match stroke {
                        Stroke::Solid => (10, 10),
                        Stroke::Dashed => (7, 13),
                    };
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (first_end, 0)], style)
                        + PathElement::new(vec![(second_start, 0), (20, 0)], style)
                });
            }
        }
        chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, colour.filled())))?;
        if let Some(fit) = s.fit {
            let line = dashed(
                (0.0, fit.intercept),
                (x_max, fit.intercept + fit.slope * x_max),
                60,
            );
            for segment in line {
                chart.draw_series(LineSeries::new(segment, colour.mix(0.5).stroke_width(1)))?;
            }
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .position(panel.legend_at.clone())
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font((FAMILY, 14))
            .draw()?;
    }
    Ok(())
}

/// A round grid step (1, 2 or 5 times a power of ten) giving at most
/// about ten lines up to `max`.
pub fn nice_step(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let rough = max / 10.0;
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power)
}

fn multiples(step: f64, max: f64) -> impl Iterator<Item = f64> {
    (1..)
        .map(move |i| f64::from(i) * step)
        .take_while(move |v| *v <= max)
}

/// A straight line cut into `pieces` dashes (every other piece is drawn).
fn dashed(from: (f64, f64), to: (f64, f64), pieces: usize) -> Vec<Vec<(f64, f64)>> {
    let at = |i: usize| {
        let t = i as f64 / pieces as f64;
        (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t)
    };
    (0..pieces)
        .step_by(2)
        .map(|i| vec![at(i), at(i + 1)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashes_alternate() {
        let dashes = dashed((0.0, 0.0), (10.0, 10.0), 10);
        assert_eq!(dashes.len(), 5);
        assert_eq!(dashes[0], vec![(0.0, 0.0), (1.0, 1.0)]);
        assert_eq!(dashes[4], vec![(8.0, 8.0), (9.0, 9.0)]);
    }

    #[test]
    fn grid_steps_are_round() {
        assert_eq!(nice_step(1050.0), 200.0);
        assert_eq!(nice_step(13.2), 2.0);
        assert_eq!(nice_step(0.8), 0.1);
        assert_eq!(nice_step(0.0), 1.0);
        assert_eq!(multiples(2.0, 7.0).collect::<Vec<_>>(), vec![2.0, 4.0, 6.0]);
    }

    #[test]
    fn draws_a_grid_of_panels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scaling.png");
        let panel = |stroke| Panel {
            title: "apply".into(),
            y_label: "seconds",
            series: vec![PlotSeries {
                name: "terraform_data".into(),
                points: vec![(10.0, 0.5), (100.0, 1.0), (1000.0, 6.0)],
                fit: Some(LinearFit {
                    intercept: 0.4,
                    slope: 0.0055,
                    r_squared: 0.99,
                }),
                colour: DATA_COLOUR,
                stroke,
            }],
            legend_at: SeriesLabelPosition::UpperLeft,
        };
        let rows = vec![
            vec![panel(Stroke::Solid), panel(Stroke::Dashed)],
            vec![panel(Stroke::Solid)],
        ];
        // Whether or not the machine has the default font, a PNG results.
        let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        panels_png(&path, "test", &rows, Some(font)).expect("plot");
        let bytes = std::fs::read(&path).expect("png written");
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
