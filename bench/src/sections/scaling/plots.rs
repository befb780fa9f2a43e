//! scaling.png and memory.png, drawn from the scaling reports.

use super::*;

fn colour(series: Series) -> plotters::style::RGBColor {
    match series {
        Series::Provider => plot::PROVIDER_COLOUR,
        Series::Floor => plot::FLOOR_COLOUR,
        Series::Data => plot::DATA_COLOUR,
    }
}

/// Draws scaling.png (time against N, apply and plan) and memory.png (peak
/// RSS against N), one row per Terraform version, and records the paths
/// (or the error) in every report.
pub fn plot(
    reports: &mut [&mut ScalingReport],
    out_dir: &std::path::Path,
    font: Option<&std::path::Path>,
) {
    let mut time_rows = Vec::new();
    let mut memory_rows = Vec::new();
    for report in reports.iter() {
        let time_panel = |verb: Verb| Panel {
            title: format!("{}: terraform {} time", report.terraform, verb.name()),
            y_label: "seconds",
            series: SERIES
                .iter()
                .map(|&series| PlotSeries {
                    name: series.name().to_owned(),
                    points: report.curve(verb, series, |m| m.wall_s.median),
                    fit: report.fit(verb, series),
                    colour: colour(series),
                    stroke: Stroke::Solid,
                })
                .collect(),
            legend_at: SeriesLabelPosition::UpperLeft,
        };
        time_rows.push(vec![time_panel(Verb::Apply), time_panel(Verb::Plan)]);
        let to_mb = |curve: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
            curve
                .into_iter()
                .map(|(n, kib)| (n, kib * 1024.0 / MB))
                .collect()
        };
        let memory_series = |series: Series, verb: Verb, terraform: bool| {
            let pick = |m: &Measured| {
                if terraform {
                    m.terraform_peak_rss_kib.median
                } else {
                    m.provider_peak_rss_kib.median
                }
            };
            PlotSeries {
                name: if terraform {
                    format!("terraform with {series}, {}", verb.name())
                } else {
                    format!("{series}, {}", verb.name())
                },
                points: to_mb(report.curve(verb, series, pick)),
                fit: None,
                colour: colour(series),
                stroke: if verb == Verb::Apply {
                    Stroke::Solid
                } else {
                    Stroke::Dashed
                },
            }
        };
        let mut providers = Vec::new();
        let mut terraforms = Vec::new();
        for verb in VERBS {
            for series in [Series::Provider, Series::Floor] {
                providers.push(memory_series(series, verb, false));
            }
            for series in SERIES {
                terraforms.push(memory_series(series, verb, true));
            }
        }
        memory_rows.push(vec![
            Panel {
                title: format!("{}: peak RSS of the provider process", report.terraform),
                y_label: "MB",
                series: providers,
                // The lines run along the top: flat memory.
                legend_at: SeriesLabelPosition::LowerRight,
            },
            Panel {
                title: format!("{}: peak RSS of Terraform itself", report.terraform),
                y_label: "MB",
                series: terraforms,
                legend_at: SeriesLabelPosition::LowerRight,
            },
        ]);
    }
    let time_path = out_dir.join("scaling.png");
    let memory_path = out_dir.join("memory.png");
    let drawn = plot::panels_png(
        &time_path,
        "Time against N (zero latency, medians; dashed: least-squares fits)",
        &time_rows,
        font,
    )
    .and_then(|labelled| {
        plot::panels_png(
            &memory_path,
            "Peak RSS against N (solid: apply, dashed: plan)",
            &memory_rows,
            font,
        )
        .map(|_| labelled)
    });
    for report in reports.iter_mut() {
        match &drawn {
            Ok(labelled) => {
                report.plot_path = Some(time_path.display().to_string());
                report.memory_plot_path = Some(memory_path.display().to_string());
                report.plot_labelled = *labelled;
            }
            Err(e) => report.plot_error = Some(e.to_string()),
        }
    }
}
