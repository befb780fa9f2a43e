//! Section 3: plan and apply time against N for the provider, the floor
//! and terraform_data, fitted with straight lines; the peak memory of the
//! provider processes at each N; a refresh of many `parallel_app`s,
//! counting API calls (`refresh.rs`); and the plots.

use serde::Serialize;

use super::refresh::{self, RefreshReport};
use super::{Bench, progress};
use crate::error::{BenchError, Result};
use crate::plot::{self, Panel, PlotSeries, Stroke};
use crate::report::{self, Target};
use crate::rss;
use crate::stats::{LinearFit, Samples, Summary, linear_fit};
use crate::terraform::{Launch, Series, Verb};
use plotters::chart::SeriesLabelPosition;

const SERIES: [Series; 3] = [Series::Provider, Series::Floor, Series::Data];
/// Apply first: plan needs the state it leaves.
const VERBS: [Verb; 2] = [Verb::Apply, Verb::Plan];
/// Limits on the provider's slope over terraform_data's, per verb: the
/// same as the verbs section's limits on whole commands.
const TARGET_SLOPE_RATIO: [(Verb, f64); 2] = [(Verb::Apply, 1.5), (Verb::Plan, 1.7)];
/// Limit on the provider's slope over the floor's.
const TARGET_FLOOR_SLOPE_RATIO: f64 = 1.05;
/// "Flat" memory: the provider's peak at the largest N over its peak at
/// the smallest, at most this.
const TARGET_FLAT_RSS: f64 = 1.25;
/// "Linear" is judged against Terraform itself, whose apply is not linear
/// in N (Terraform 1.11 rewrites the whole state file after every resource,
/// so its own cost grows like N²): the provider's curve must be as straight
/// as terraform_data's, within this much R².
const R_SQUARED_ALLOWANCE: f64 = 0.01;
/// Decimal megabytes, as in the process section.
const MB: f64 = 1e6;

/// One series, one verb, one N: the medians over the runs.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub n: usize,
    pub verb: &'static str,
    pub series: Series,
    pub wall_s: Summary,
    /// Terraform's own CPU (user + system), median.
    pub terraform_cpu_s: Option<f64>,
    /// Peak RSS of the largest provider process Terraform launched for
    /// the command, per run (none for terraform_data).
    pub provider_peak_rss_kib: Summary,
    /// Provider processes Terraform launched for the command (last run).
    pub provider_processes: usize,
    /// Terraform's own peak RSS, per run.
    pub terraform_peak_rss_kib: Summary,
}

#[derive(Debug, Serialize)]
pub struct SeriesFit {
    pub verb: &'static str,
    pub series: Series,
    /// Seconds = intercept + slope · N, through the medians.
    pub fit: Option<LinearFit>,
    /// Seconds per resource between the two largest N: where a curve that
    /// is not a straight line shows it.
    pub last_segment_s: Option<f64>,
    /// The same fit of Terraform's own CPU seconds, which a shared machine
    /// disturbs much less than wall time.
    pub terraform_cpu_fit: Option<LinearFit>,
}

#[derive(Debug, Serialize)]
pub struct SlopeRatios {
    pub verb: &'static str,
    pub provider_over_floor: Option<f64>,
    pub floor_over_data: Option<f64>,
    pub provider_over_data: Option<f64>,
    /// The same ratios of the slopes of Terraform's CPU.
    pub cpu_provider_over_floor: Option<f64>,
    pub cpu_floor_over_data: Option<f64>,
    pub cpu_provider_over_data: Option<f64>,
}

/// Whether one process's peak memory stays flat as N grows.
#[derive(Debug, Serialize)]
pub struct Flatness {
    /// "parallel_api_key", "floor", or "terraform (with …)".
    pub process: String,
    pub verb: &'static str,
    pub smallest_n: usize,
    pub largest_n: usize,
    pub at_smallest_mb: Option<f64>,
    pub at_largest_mb: Option<f64>,
    /// Largest N's peak / smallest N's.
    pub ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct ScalingReport {
    pub terraform: String,
    pub runs: usize,
    pub ns: Vec<usize>,
    pub points: Vec<Measured>,
    pub fits: Vec<SeriesFit>,
    pub slope_ratios: Vec<SlopeRatios>,
    pub memory: Vec<Flatness>,
    /// Plans that proposed changes right after apply (a provider bug).
    pub non_empty_plans: usize,
    pub refresh: Option<RefreshReport>,
    pub refresh_error: Option<String>,
    /// Set by `plot` once every Terraform version has run.
    pub plot_path: Option<String>,
    pub memory_plot_path: Option<String>,
    /// Whether the plots have text (a font was found) or only lines.
    pub plot_labelled: bool,
    pub plot_error: Option<String>,
}

/// Samples of one (N, verb, series).
#[derive(Default)]
struct Collected {
    wall: Samples,
    terraform_cpu: Samples,
    provider_peak: Samples,
    provider_processes: usize,
    terraform_peak: Samples,
}

fn slot(verb: Verb, series: Series) -> usize {
    let v = VERBS.iter().position(|x| *x == verb).unwrap_or_default();
    let s = SERIES.iter().position(|x| *x == series).unwrap_or_default();
    v * SERIES.len() + s
}

pub fn run(bench: &mut Bench, terraform: &str) -> Result<ScalingReport> {
    let ns = bench.options.scaling_ns.clone();
    let runs = bench.options.runs;

    // The refresh first: it is short, and its failure costs only itself.
    let (refresh, refresh_error) = match refresh::run(bench) {
        Ok(report) => (Some(report), None),
        Err(BenchError::Interrupted) => return Err(BenchError::Interrupted),
        Err(BenchError::OutOfTime) => return Err(BenchError::OutOfTime),
        Err(e) => {
            progress("scaling", format!("refresh of parallel_app failed: {e}"));
            (None, Some(e.to_string()))
        }
    };

    let rss_dir = bench.harness.rss_dir();
    let mut samples: Vec<Vec<Collected>> = ns
        .iter()
        .map(|_| {
            (0..VERBS.len() * SERIES.len())
                .map(|_| Collected::default())
                .collect()
        })
        .collect();
    let mut non_empty_plans = 0;
    for run in 0..runs {
        for (index, &n) in ns.iter().enumerate() {
            // An app per N, so the keys of one apply can be counted.
            let app_id = bench
                .emulator
                .create_app(&format!("bench-scaling-{run}-{n}"))?;
            for series in Series::rotated(run + index) {
                let dir = bench.harness.workdir(series, n, &app_id, "scaling")?;
                // The provider and the floor both run through the RSS
                // wrapper, which adds the same fixed cost per provider
                // process to both, none per resource.
                let launch = match series {
                    Series::Data => Launch::Direct,
                    _ => Launch::MeasuringRss,
                };
                for verb in VERBS {
                    rss::clear(&rss_dir)?;
                    let outcome = bench.harness.run(&dir, verb, launch)?;
                    non_empty_plans += usize::from(outcome.had_changes);
                    let peaks = rss::collected(&rss_dir)?;
                    let collected = &mut samples[index][slot(verb, series)];
                    collected.wall.push(outcome.seconds());
                    if let Some(cpu) = outcome.finished.cpu {
                        collected.terraform_cpu.push(cpu.own.as_secs_f64());
                    }
                    if let Some(peak) = peaks.iter().max() {
                        collected.provider_peak.push(*peak as f64);
                    }
                    collected.provider_processes = peaks.len();
                    if let Some(kib) = outcome.finished.peak_rss_kib {
                        collected.terraform_peak.push(kib as f64);
                    }
                    if series == Series::Provider && verb == Verb::Apply {
                        let live = bench.emulator.live_keys_of(&app_id)?;
                        if live != n {
                            return Err(BenchError::Unexpected(format!(
                                "after apply x{n} the emulator holds {live} keys of the \
                                 run's app, expected {n}"
                            )));
                        }
                    }
                    let peak = peaks.iter().max().map_or_else(String::new, |kib| {
                        format!(", provider peak {:.1} MB", *kib as f64 * 1024.0 / MB)
                    });
                    progress(
                        "scaling",
                        format!(
                            "run {}/{runs}: {series} {} x{n}: {:.2} s{peak}",
                            run + 1,
                            verb.name(),
                            outcome.seconds()
                        ),
                    );
                }
                // States are thrown away rather than destroyed: destroy is
                // not measured here, and the scratch directory goes anyway.
                let _ = std::fs::remove_dir_all(&dir.path);
            }
        }
    }

    let mut points = Vec::new();
    for (&n, per_n) in ns.iter().zip(&samples) {
        for verb in VERBS {
            for series in SERIES {
                let c = &per_n[slot(verb, series)];
                points.push(Measured {
                    n,
                    verb: verb.name(),
                    series,
                    wall_s: c.wall.summary(),
                    terraform_cpu_s: c.terraform_cpu.median(),
                    provider_peak_rss_kib: c.provider_peak.summary(),
                    provider_processes: c.provider_processes,
                    terraform_peak_rss_kib: c.terraform_peak.summary(),
                });
            }
        }
    }
    let mut report = ScalingReport {
        terraform: terraform.to_owned(),
        runs,
        ns,
        points,
        fits: Vec::new(),
        slope_ratios: Vec::new(),
        memory: Vec::new(),
        non_empty_plans,
        refresh,
        refresh_error,
        plot_path: None,
        memory_plot_path: None,
        plot_labelled: false,
        plot_error: None,
    };
    for verb in VERBS {
        for series in SERIES {
            let curve = report.curve(verb, series, |m| m.wall_s.median);
            let cpu_curve = report.curve(verb, series, |m| m.terraform_cpu_s);
            report.fits.push(SeriesFit {
                verb: verb.name(),
                series,
                fit: linear_fit(&curve),
                last_segment_s: last_segment(&curve),
                terraform_cpu_fit: linear_fit(&cpu_curve),
            });
        }
        let slopes = |cpu: bool| {
            SERIES.map(|series| {
                report
                    .fits
                    .iter()
                    .find(|f| f.verb == verb.name() && f.series == series)
                    .and_then(|f| if cpu { f.terraform_cpu_fit } else { f.fit })
                    .map(|f| f.slope)
                    .filter(|s| *s > 0.0)
            })
        };
        let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
        let [provider, floor, data] = slopes(false);
        let [cpu_provider, cpu_floor, cpu_data] = slopes(true);
        report.slope_ratios.push(SlopeRatios {
            verb: verb.name(),
            provider_over_floor: ratio(provider, floor),
            floor_over_data: ratio(floor, data),
            provider_over_data: ratio(provider, data),
            cpu_provider_over_floor: ratio(cpu_provider, cpu_floor),
            cpu_floor_over_data: ratio(cpu_floor, cpu_data),
            cpu_provider_over_data: ratio(cpu_provider, cpu_data),
        });
    }
    for verb in VERBS {
        for series in [Series::Provider, Series::Floor] {
            let curve = report.curve(verb, series, |m| m.provider_peak_rss_kib.median);
            report
                .memory
                .push(flatness(series.name().to_owned(), verb, &curve));
        }
        for series in SERIES {
            let curve = report.curve(verb, series, |m| m.terraform_peak_rss_kib.median);
            report
                .memory
                .push(flatness(format!("terraform (with {series})"), verb, &curve));
        }
    }
    Ok(report)
}

fn flatness(process: String, verb: Verb, curve: &[(f64, f64)]) -> Flatness {
    let first = curve.first().copied();
    let last = curve.last().copied();
    let mb = |kib: f64| kib * 1024.0 / MB;
    Flatness {
        process,
        verb: verb.name(),
        smallest_n: first.map_or(0, |p| p.0 as usize),
        largest_n: last.map_or(0, |p| p.0 as usize),
        at_smallest_mb: first.map(|p| mb(p.1)),
        at_largest_mb: last.map(|p| mb(p.1)),
        ratio: first
            .zip(last)
            .filter(|(a, b)| a.0 < b.0 && a.1 > 0.0)
            .map(|(a, b)| b.1 / a.1),
    }
}

/// Slope between the two largest N of a curve.
fn last_segment(curve: &[(f64, f64)]) -> Option<f64> {
    let [.., before, last] = curve else {
        return None;
    };
    let dn = last.0 - before.0;
    (dn > 0.0).then(|| (last.1 - before.1) / dn)
}

/// The targets the section reports, for a run whose section failed.
pub fn failed_targets() -> Vec<Target> {
    let mut targets = Vec::new();
    for (verb, limit) in TARGET_SLOPE_RATIO {
        targets.push(Target::errored(
            format!(
                "scaling {}: provider slope / terraform_data slope",
                verb.name()
            ),
            limit,
            "×",
        ));
        targets.push(Target::errored(
            format!("scaling {}: provider slope / floor slope", verb.name()),
            TARGET_FLOOR_SLOPE_RATIO,
            "×",
        ));
        targets.push(Target::errored(
            format!(
                "scaling {}: provider as linear as terraform_data (R²)",
                verb.name()
            ),
            f64::NAN,
            "",
        ));
    }
    targets.push(Target::errored(
        "scaling: provider peak RSS, largest N / smallest N",
        TARGET_FLAT_RSS,
        "×",
    ));
    targets.push(Target::errored(
        "refresh of parallel_app: list calls per refresh",
        1.0,
        "",
    ));
    targets
}

impl ScalingReport {
    fn point(&self, n: usize, verb: Verb, series: Series) -> Option<&Measured> {
        self.points
            .iter()
            .find(|m| m.n == n && m.verb == verb.name() && m.series == series)
    }

    /// (N, value) of one series and verb, in N order, where measured.
    fn curve(
        &self,
        verb: Verb,
        series: Series,
        pick: impl Fn(&Measured) -> Option<f64>,
    ) -> Vec<(f64, f64)> {
        self.ns
            .iter()
            .filter_map(|&n| {
                let value = pick(self.point(n, verb, series)?)?;
                Some((n as f64, value))
            })
            .collect()
    }

    fn fit(&self, verb: Verb, series: Series) -> Option<LinearFit> {
        self.fits
            .iter()
            .find(|f| f.verb == verb.name() && f.series == series)
            .and_then(|f| f.fit)
    }

    fn ratios(&self, verb: Verb) -> Option<&SlopeRatios> {
        self.slope_ratios.iter().find(|r| r.verb == verb.name())
    }

    /// The provider's worst flatness ratio over both verbs.
    fn provider_flatness(&self) -> Option<f64> {
        self.memory
            .iter()
            .filter(|f| f.process == Series::Provider.name())
            .filter_map(|f| f.ratio)
            .max_by(f64::total_cmp)
    }

    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        for (verb, limit) in TARGET_SLOPE_RATIO {
            let ratios = self.ratios(verb);
            targets.push(Target::at_most(
                format!(
                    "scaling {}: provider slope / terraform_data slope",
                    verb.name()
                ),
                ratios.and_then(|r| r.provider_over_data),
                limit,
                "×",
            ));
            targets.push(Target::at_most(
                format!("scaling {}: provider slope / floor slope", verb.name()),
                ratios.and_then(|r| r.provider_over_floor),
                TARGET_FLOOR_SLOPE_RATIO,
                "×",
            ));
            targets.push(Target::at_least(
                format!(
                    "scaling {}: provider as linear as terraform_data (R², limit = its R² - \
                     {R_SQUARED_ALLOWANCE})",
                    verb.name()
                ),
                self.fit(verb, Series::Provider).map(|f| f.r_squared),
                self.fit(verb, Series::Data)
                    .map_or(f64::NAN, |f| f.r_squared - R_SQUARED_ALLOWANCE),
                "",
            ));
        }
        targets.push(Target::at_most(
            format!(
                "scaling: provider peak RSS, N = {} / N = {} (apply and plan)",
                self.ns.last().copied().unwrap_or_default(),
                self.ns.first().copied().unwrap_or_default()
            ),
            self.provider_flatness(),
            TARGET_FLAT_RSS,
            "×",
        ));
        targets.push(Target::at_most(
            format!(
                "refresh of {} parallel_app: list calls per refresh (most of any)",
                self.refresh.as_ref().map_or(0, |r| r.apps)
            ),
            self.refresh
                .as_ref()
                .and_then(|r| r.max_list_calls_per_refresh)
                .map(|calls| calls as f64),
            1.0,
            "",
        ));
        targets
    }

    pub fn render(&self) -> String {
        let median = |n, verb, series| self.point(n, verb, series).and_then(|m| m.wall_s.median);
        let mut time_rows = Vec::new();
        for verb in VERBS {
            for &n in &self.ns {
                let [p, f, d] = SERIES.map(|s| median(n, verb, s));
                let ratio =
                    |a: Option<f64>, b: Option<f64>| report::ratio(a.zip(b).map(|(a, b)| a / b));
                time_rows.push(vec![
                    verb.name().to_owned(),
                    n.to_string(),
                    report::seconds(p),
                    report::seconds(f),
                    report::seconds(d),
                    ratio(p, f),
                    ratio(f, d),
                    ratio(p, d),
                ]);
            }
        }
        let fit_rows: Vec<Vec<String>> = self
            .fits
            .iter()
            .map(|f| {
                let last = f
                    .last_segment_s
                    .map_or_else(|| "—".into(), |s| format!("{:.2} ms", s * 1e3));
                let cpu = f
                    .terraform_cpu_fit
                    .map_or_else(|| "—".into(), |c| format!("{:.2} ms", c.slope * 1e3));
                match f.fit {
                    Some(fit) => vec![
                        f.verb.to_owned(),
                        f.series.name().to_owned(),
                        format!("{:.2} ms", fit.slope * 1e3),
                        format!("{:.2} s", fit.intercept),
                        format!("{:.4}", fit.r_squared),
                        last,
                        cpu,
                    ],
                    None => vec![
                        f.verb.to_owned(),
                        f.series.name().to_owned(),
                        "—".into(),
                        "—".into(),
                        "—".into(),
                        last,
                        cpu,
                    ],
                }
            })
            .collect();
        let ratio_rows: Vec<Vec<String>> = self
            .slope_ratios
            .iter()
            .map(|r| {
                vec![
                    r.verb.to_owned(),
                    report::ratio(r.provider_over_floor),
                    report::ratio(r.floor_over_data),
                    report::ratio(r.provider_over_data),
                    report::ratio(r.cpu_provider_over_floor),
                    report::ratio(r.cpu_floor_over_data),
                    report::ratio(r.cpu_provider_over_data),
                ]
            })
            .collect();
        let mb = |kib: Option<f64>| {
            kib.map_or_else(|| "—".to_owned(), |k| format!("{:.1}", k * 1024.0 / MB))
        };
        let mut memory_rows = Vec::new();
        for verb in VERBS {
            for &n in &self.ns {
                let provider = |series| {
                    mb(self
                        .point(n, verb, series)
                        .and_then(|m| m.provider_peak_rss_kib.median))
                };
                let terraform = |series| {
                    mb(self
                        .point(n, verb, series)
                        .and_then(|m| m.terraform_peak_rss_kib.median))
                };
                let processes = self
                    .point(n, verb, Series::Provider)
                    .map_or(0, |m| m.provider_processes);
                memory_rows.push(vec![
                    verb.name().to_owned(),
                    n.to_string(),
                    provider(Series::Provider),
                    processes.to_string(),
                    provider(Series::Floor),
                    terraform(Series::Provider),
                    terraform(Series::Floor),
                    terraform(Series::Data),
                ]);
            }
        }
        let flat_rows: Vec<Vec<String>> = self
            .memory
            .iter()
            .map(|f| {
                let opt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"));
                vec![
                    f.process.clone(),
                    f.verb.to_owned(),
                    opt(f.at_smallest_mb),
                    opt(f.at_largest_mb),
                    report::ratio(f.ratio),
                ]
            })
            .collect();
        let plot = match (&self.plot_path, &self.plot_error) {
            (Some(path), _) => {
                let memory = self.memory_plot_path.as_deref().unwrap_or("—");
                if self.plot_labelled {
                    format!("Plots: {path} (time), {memory} (peak RSS)")
                } else {
                    format!(
                        "Plots: {path} (time), {memory} (peak RSS); no font found, so no \
                         text: red = parallel_api_key, orange = floor, blue = terraform_data; \
                         time: apply left, plan right, thin dashed = fits; memory: provider \
                         processes left, Terraform right, solid = apply, dashed = plan; one row \
                         per Terraform version; axes from 0, grid at round steps"
                    )
                }
            }
            (None, Some(error)) => format!("Plots not written: {error}"),
            (None, None) => "Plots not written".to_owned(),
        };
        let refresh = match (&self.refresh, &self.refresh_error) {
            (Some(r), _) => r.render(),
            (None, Some(e)) => format!("  Refresh of parallel_app failed: {e}"),
            (None, None) => String::new(),
        };
        let mut text = format!(
            "3. Scaling, N = {} (zero latency, -parallelism=10, median of {} run(s); the provider \
             and the floor run through the peak-RSS wrapper)\n{}\n\n  Fits t = a + b·N (wall; last column: \
             the same fit of Terraform's own CPU)\n{}\n\n  Slope ratios (b over b; wall, then \
             Terraform's CPU)\n{}\n\n  Peak RSS, MB (median of the runs; provider: the \
             largest of the processes Terraform launched for the command)\n{}\n\n  Does it stay \
             flat? (peak at the largest N / at the smallest; target for the provider ≤ \
             {TARGET_FLAT_RSS:.2}×)\n{}\n\n{refresh}\n  {plot}",
            self.ns
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            self.runs,
            report::table(
                &[
                    "verb",
                    "N",
                    "parallel_api_key",
                    "floor",
                    "terraform_data",
                    "provider/floor",
                    "floor/data",
                    "provider/data",
                ],
                &time_rows
            ),
            report::table(
                &[
                    "verb",
                    "series",
                    "b (per resource)",
                    "a (fixed)",
                    "R²",
                    "slope between the two largest N",
                    "Terraform CPU b",
                ],
                &fit_rows
            ),
            report::table(
                &[
                    "verb",
                    "provider/floor",
                    "floor/data",
                    "provider/data",
                    "CPU: provider/floor",
                    "floor/data",
                    "provider/data",
                ],
                &ratio_rows
            ),
            report::table(
                &[
                    "verb",
                    "N",
                    "parallel_api_key",
                    "its processes",
                    "floor",
                    "terraform (provider)",
                    "terraform (floor)",
                    "terraform (terraform_data)",
                ],
                &memory_rows
            ),
            report::table(
                &["process", "verb", "smallest N", "largest N", "ratio"],
                &flat_rows
            ),
        );
        if self.non_empty_plans > 0 {
            text.push_str(&format!(
                "\n  NOTE: {} plan(s) right after apply proposed changes.",
                self.non_empty_plans
            ));
        }
        text
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatness_compares_the_ends() {
        let f = flatness(
            "parallel_api_key".into(),
            Verb::Apply,
            &[(10.0, 10_000.0), (100.0, 10_100.0), (3000.0, 11_000.0)],
        );
        assert_eq!((f.smallest_n, f.largest_n), (10, 3000));
        assert!((f.ratio.expect("ratio") - 1.1).abs() < 1e-9);
        assert!(
            flatness("x".into(), Verb::Plan, &[(10.0, 1.0)])
                .ratio
                .is_none()
        );
    }

    #[test]
    fn last_segment_is_the_slope_between_the_two_largest() {
        assert_eq!(
            last_segment(&[(10.0, 1.0), (100.0, 2.0), (300.0, 6.0)]),
            Some(0.02)
        );
        assert_eq!(last_segment(&[(10.0, 1.0)]), None);
    }

    #[test]
    fn slots_are_distinct() {
        let mut all: Vec<usize> = VERBS
            .iter()
            .flat_map(|&v| SERIES.iter().map(move |&s| slot(v, s)))
            .collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), VERBS.len() * SERIES.len());
    }
}
