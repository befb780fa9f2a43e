//! Section 3: apply time against N for the provider and terraform_data,
//! fitted with straight lines, and the plot.

use serde::Serialize;

use super::{Bench, progress};
use crate::error::Result;
use crate::plot::{self, PlotSeries};
use crate::report::{self, Target};
use crate::stats::{LinearFit, Samples, Summary, linear_fit};
use crate::terraform::{Launch, Series, Verb};

const TARGET_SLOPE_RATIO: f64 = 1.5;
/// "Linear" is judged against Terraform itself, whose apply is not linear
/// in N (Terraform 1.11 rewrites the whole state file after every resource,
/// so its own cost grows like N²): the provider's curve must be as straight
/// as terraform_data's, within this much R².
const R_SQUARED_ALLOWANCE: f64 = 0.01;

#[derive(Debug, Serialize)]
pub struct ScalingPoint {
    pub n: usize,
    pub provider_s: Summary,
    pub terraform_data_s: Summary,
}

#[derive(Debug, Serialize)]
pub struct ScalingReport {
    pub runs: usize,
    pub points: Vec<ScalingPoint>,
    pub provider_fit: Option<LinearFit>,
    pub terraform_data_fit: Option<LinearFit>,
    pub slope_ratio: Option<f64>,
    /// Fit of the provider's time minus terraform_data's at each N: what
    /// the provider adds on top of Terraform.
    pub excess_fit: Option<LinearFit>,
    pub plot_path: Option<String>,
    /// Whether the plot has text (a font was found) or only lines.
    pub plot_labelled: bool,
    pub plot_error: Option<String>,
    /// Grid spacing (N, seconds) of an unlabelled plot.
    pub grid_steps: (f64, f64),
}

pub fn run(bench: &mut Bench) -> Result<ScalingReport> {
    let ns = bench.options.scaling_ns.clone();
    let runs = bench.options.runs;
    let mut samples: Vec<[Samples; 2]> = ns.iter().map(|_| Default::default()).collect();
    for run in 0..runs {
        let app_id = bench.emulator.create_app(&format!("bench-scaling-{run}"))?;
        for (index, &n) in ns.iter().enumerate() {
            for series in Series::interleaved(run + index) {
                let dir = bench.harness.workdir(series, n, &app_id, "scaling")?;
                let outcome = bench.harness.run(&dir, Verb::Apply, Launch::Direct)?;
                samples[index][usize::from(series == Series::Data)].push(outcome.seconds());
                progress(
                    "scaling",
                    format!(
                        "run {}/{runs}: {series} apply x{n}: {:.2} s",
                        run + 1,
                        outcome.seconds()
                    ),
                );
                // States are thrown away rather than destroyed: only apply
                // is measured here, and the scratch directory goes anyway.
                let _ = std::fs::remove_dir_all(&dir.path);
            }
        }
    }
    let points: Vec<ScalingPoint> = ns
        .iter()
        .zip(samples)
        .map(|(&n, [provider, data])| ScalingPoint {
            n,
            provider_s: provider.summary(),
            terraform_data_s: data.summary(),
        })
        .collect();
    let series_points = |pick: fn(&ScalingPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|p| pick(p).map(|t| (p.n as f64, t)))
            .collect()
    };
    let provider_points = series_points(|p| p.provider_s.median);
    let data_points = series_points(|p| p.terraform_data_s.median);
    let provider_fit = linear_fit(&provider_points);
    let excess_points: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| {
            let (provider, data) = p.provider_s.median.zip(p.terraform_data_s.median)?;
            Some((p.n as f64, provider - data))
        })
        .collect();
    let excess_fit = linear_fit(&excess_points);
    let terraform_data_fit = linear_fit(&data_points);
    let slope_ratio = provider_fit
        .zip(terraform_data_fit)
        .filter(|(_, d)| d.slope > 0.0)
        .map(|(p, d)| p.slope / d.slope);

    let path = bench.options.out_dir.join("scaling.png");
    let plotted = [
        PlotSeries {
            name: "parallel_api_key",
            points: provider_points,
            fit: provider_fit,
            colour: plot::PROVIDER_COLOUR,
        },
        PlotSeries {
            name: "terraform_data",
            points: data_points,
            fit: terraform_data_fit,
            colour: plot::DATA_COLOUR,
        },
    ];
    let grid_steps = plot::grid_steps(&plotted);
    let drawn = plot::scaling_png(&path, &plotted, bench.options.font.as_deref());
    let (plot_path, plot_labelled, plot_error) = match drawn {
        Ok(labelled) => (Some(path.display().to_string()), labelled, None),
        Err(e) => (None, false, Some(e.to_string())),
    };
    Ok(ScalingReport {
        runs,
        points,
        provider_fit,
        terraform_data_fit,
        slope_ratio,
        excess_fit,
        plot_path,
        plot_labelled,
        plot_error,
        grid_steps,
    })
}

impl ScalingReport {
    /// Seconds per resource between the two largest N: where a curve that
    /// is not a straight line shows it.
    fn last_segment(&self, pick: impl Fn(&ScalingPoint) -> Option<f64>) -> Option<f64> {
        let [.., before, last] = self.points.as_slice() else {
            return None;
        };
        let (t0, t1) = pick(before).zip(pick(last))?;
        let dn = last.n as f64 - before.n as f64;
        (dn > 0.0).then(|| (t1 - t0) / dn)
    }

    pub fn targets(&self) -> Vec<Target> {
        vec![
            Target::at_most(
                "scaling: provider slope / terraform_data slope",
                self.slope_ratio,
                TARGET_SLOPE_RATIO,
                "×",
            ),
            Target::at_least(
                format!(
                    "scaling: provider as linear as terraform_data (R², limit = its R² - {R_SQUARED_ALLOWANCE})"
                ),
                self.provider_fit.map(|f| f.r_squared),
                self.terraform_data_fit
                    .map_or(f64::NAN, |f| f.r_squared - R_SQUARED_ALLOWANCE),
                "",
            ),
        ]
    }

    pub fn render(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .points
            .iter()
            .map(|p| {
                vec![
                    p.n.to_string(),
                    report::seconds(p.provider_s.median),
                    report::seconds(p.terraform_data_s.median),
                    report::ratio(
                        p.provider_s
                            .median
                            .zip(p.terraform_data_s.median)
                            .map(|(a, b)| a / b),
                    ),
                ]
            })
            .collect();
        let fit_row = |name: &str, fit: Option<LinearFit>, last_segment: Option<f64>| {
            let last = last_segment.map_or_else(|| "—".into(), |s| format!("{:.2} ms", s * 1e3));
            match fit {
                Some(f) => vec![
                    name.to_owned(),
                    format!("{:.2} ms", f.slope * 1e3),
                    format!("{:.2} s", f.intercept),
                    format!("{:.4}", f.r_squared),
                    last,
                ],
                None => vec![name.to_owned(), "—".into(), "—".into(), "—".into(), last],
            }
        };
        let fits = report::table(
            &[
                "fit t = a + b·N",
                "b (per resource)",
                "a (fixed)",
                "R²",
                "slope between the two largest N",
            ],
            &[
                fit_row(
                    "parallel_api_key",
                    self.provider_fit,
                    self.last_segment(|p| p.provider_s.median),
                ),
                fit_row(
                    "terraform_data",
                    self.terraform_data_fit,
                    self.last_segment(|p| p.terraform_data_s.median),
                ),
                fit_row(
                    "difference (provider's own)",
                    self.excess_fit,
                    self.last_segment(|p| {
                        p.provider_s
                            .median
                            .zip(p.terraform_data_s.median)
                            .map(|(a, b)| a - b)
                    }),
                ),
            ],
        );
        let plot = match (&self.plot_path, &self.plot_error) {
            (Some(path), _) if self.plot_labelled => format!("Plot: {path}"),
            (Some(path), _) => format!(
                "Plot: {path} (no font found, so no text: red = parallel_api_key, blue = \
                 terraform_data, dashed = fits; axes from 0, grid every {} resources and \
                 every {} s)",
                self.grid_steps.0, self.grid_steps.1
            ),
            (None, Some(error)) => format!("Plot not written: {error}"),
            (None, None) => "Plot not written".to_owned(),
        };
        format!(
            "3. Scaling of apply (zero latency, median of {} runs)\n{}\n\n{fits}\n  slope ratio: {}  (target ≤ {TARGET_SLOPE_RATIO:.2}×)\n  {plot}",
            self.runs,
            report::table(&["N", "parallel_api_key", "terraform_data", "ratio"], &rows),
            report::ratio(self.slope_ratio),
        )
    }
}
