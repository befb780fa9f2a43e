//! scaling.png: apply time against N, both series, with their fitted lines.
//!
//! plotters renders text with ab_glyph from a font we register, not with
//! the system's font machinery (fontconfig/freetype), so it works offline
//! with any TrueType file, e.g. DejaVu Sans from Debian's fonts-dejavu-core.
//! Without a font the plot is drawn without text and the table says which
//! colour is which.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{BenchError, Result};
use crate::stats::LinearFit;

pub const PROVIDER_COLOUR: RGBColor = RGBColor(214, 39, 40);
pub const DATA_COLOUR: RGBColor = RGBColor(31, 119, 180);
const SIZE: (u32, u32) = (960, 640);
const FAMILY: &str = "sans-serif";

pub struct PlotSeries {
    pub name: &'static str,
    /// (N, seconds)
    pub points: Vec<(f64, f64)>,
    pub fit: Option<LinearFit>,
    pub colour: RGBColor,
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
    let max_t = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.1_f64, f64::max);
    (max_n * 1.05, max_t * 1.1)
}

/// Grid spacing (N, seconds) of the plot when it has no text.
pub fn grid_steps(series: &[PlotSeries]) -> (f64, f64) {
    let (x_max, y_max) = bounds(series);
    (nice_step(x_max), nice_step(y_max))
}

/// Draws the plot; returns whether it has text.
pub fn scaling_png(path: &Path, series: &[PlotSeries], font: Option<&Path>) -> Result<bool> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| BenchError::Plot(format!("creating {}: {e}", dir.display())))?;
    }
    let labelled = font_ready(font);
    draw(path, series, labelled).map_err(|e| BenchError::Plot(e.to_string()))?;
    Ok(labelled)
}

fn draw(
    path: &Path,
    series: &[PlotSeries],
    labelled: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let (x_max, y_max) = bounds(series);

    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder.margin(20);
    if labelled {
        builder
            .caption("terraform apply time vs N (zero latency)", (FAMILY, 24))
            .x_label_area_size(50)
            .y_label_area_size(70);
    } else {
        builder.x_label_area_size(0).y_label_area_size(0);
    }
    let mut chart = builder.build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
    if labelled {
        chart
            .configure_mesh()
            .x_desc("N (resources)")
            .y_desc("seconds")
            .x_label_formatter(&|n| format!("{n:.0}"))
            .label_style((FAMILY, 16))
            .draw()?;
    } else {
        // The mesh would need a font for its tick labels: draw a plain
        // grid instead, at steps the report states.
        let grid = BLACK.mix(0.15);
        let (x_step, y_step) = grid_steps(series);
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

    for s in series {
        let colour = s.colour;
        let drawn = chart.draw_series(LineSeries::new(
            s.points.iter().copied(),
            colour.stroke_width(3),
        ))?;
        if labelled {
            drawn.label(s.name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
            });
        }
        chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 5, colour.filled())))?;
        if let Some(fit) = s.fit {
            let line = dashed(
                (0.0, fit.intercept),
                (x_max, fit.intercept + fit.slope * x_max),
                40,
            );
            for segment in line {
                chart.draw_series(LineSeries::new(segment, colour.mix(0.6).stroke_width(1)))?;
            }
        }
    }
    if labelled {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font((FAMILY, 16))
            .draw()?;
    }
    root.present()?;
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
    fn draws_a_png() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("scaling.png");
        let series = [PlotSeries {
            name: "terraform_data",
            points: vec![(10.0, 0.5), (100.0, 1.0), (1000.0, 6.0)],
            fit: Some(LinearFit {
                intercept: 0.4,
                slope: 0.0055,
                r_squared: 0.99,
            }),
            colour: DATA_COLOUR,
        }];
        // Whether or not the machine has the default font, a PNG results.
        let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        scaling_png(&path, &series, Some(font)).expect("plot");
        let bytes = std::fs::read(&path).expect("png written");
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
