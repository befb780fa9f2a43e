//! Section 3: plan and apply time against N for the provider, the floor
//! and terraform_data, fitted with straight lines; the peak memory of the
//! provider processes at each N; a refresh of many `parallel_app`s,
//! counting API calls (`refresh.rs`); and the plots.

mod plots;
mod render;

pub use plots::plot;

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
