//! Section 1: plan, apply and destroy of N resources against the emulator
//! with no latency, each next to the same verb on N terraform_data.

use serde::Serialize;

use super::{Bench, progress};
use crate::error::{BenchError, Result};
use crate::report::{self, Target};
use crate::stats::{Samples, Summary};
use crate::terraform::{Launch, Series, Verb};

/// Limits on provider time / terraform_data time. Terraform's own cost per
/// gRPC call puts a do-nothing provider at about 1.6× on plan and 1.1× on
/// apply and destroy, so these leave the provider a little room.
const TARGETS: [(Verb, f64); 3] = [(Verb::Plan, 1.7), (Verb::Apply, 1.5), (Verb::Destroy, 1.5)];
/// Limit on provider time / floor time (the same schema with no API): what
/// the provider itself may add on top of what its schema costs.
const FLOOR_TARGET: f64 = 1.05;
const SERIES: [Series; 3] = [Series::Provider, Series::Floor, Series::Data];

/// The median of one series for one verb: wall time and where the CPU went.
#[derive(Debug, Serialize)]
pub struct SeriesFigures {
    pub wall_s: Summary,
    /// Terraform's own CPU (user + system), median.
    pub terraform_cpu_s: Option<f64>,
    /// The provider processes' CPU (Terraform's waited-for children), median.
    pub provider_cpu_s: Option<f64>,
    /// The emulator's CPU during the command, median.
    pub emulator_cpu_s: Option<f64>,
    /// Terraform's and the provider processes' CPU together, median of the
    /// per-run sums: all the work on this machine but the API's.
    pub client_cpu_s: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct VerbRow {
    pub verb: &'static str,
    pub n: usize,
    pub provider: SeriesFigures,
    pub floor: SeriesFigures,
    pub terraform_data: SeriesFigures,
    /// provider / terraform_data
    pub ratio: Option<f64>,
    /// provider / floor
    pub provider_over_floor: Option<f64>,
    /// floor / terraform_data
    pub floor_over_data: Option<f64>,
    /// provider / floor in CPU (Terraform's and the provider processes'),
    /// which moves much less with the machine's load than wall time.
    pub cpu_provider_over_floor: Option<f64>,
    pub target_ratio: f64,
    pub target_over_floor: f64,
}

#[derive(Debug, Serialize)]
pub struct VerbsReport {
    pub n: usize,
    /// What the floor column measured: the bench-only floor, or the
    /// binary given as --floor-binary.
    pub floor: String,
    pub runs: usize,
    pub rows: Vec<VerbRow>,
    /// Plans that proposed changes right after apply (a provider bug).
    pub non_empty_plans: usize,
}

/// Samples of one series for one verb.
#[derive(Default)]
struct Collected {
    wall: Samples,
    terraform_cpu: Samples,
    provider_cpu: Samples,
    emulator_cpu: Samples,
    client_cpu: Samples,
}

impl Collected {
    fn figures(&self) -> SeriesFigures {
        SeriesFigures {
            wall_s: self.wall.summary(),
            terraform_cpu_s: self.terraform_cpu.median(),
            provider_cpu_s: self.provider_cpu.median(),
            emulator_cpu_s: self.emulator_cpu.median(),
            client_cpu_s: self.client_cpu.median(),
        }
    }
}

fn slot(series: Series) -> usize {
    SERIES.iter().position(|s| *s == series).unwrap_or_default()
}

pub fn run(bench: &mut Bench) -> Result<VerbsReport> {
    let n = bench.options.verbs_n;
    let runs = bench.options.runs;
    // [verb][series] samples, verbs in TARGETS order, series in SERIES order.
    let mut samples: Vec<[Collected; 3]> = TARGETS.iter().map(|_| Default::default()).collect();
    let mut non_empty_plans = 0;
    for run in 0..runs {
        let app_id = bench.emulator.create_app(&format!("bench-verbs-{run}"))?;
        let mut dirs = Vec::new();
        for series in Series::rotated(run) {
            dirs.push(bench.harness.workdir(series, n, &app_id, "verbs")?);
        }
        // Apply first (plan and destroy need state), then plan, then destroy.
        for verb in [Verb::Apply, Verb::Plan, Verb::Destroy] {
            let index = TARGETS
                .iter()
                .position(|(v, _)| *v == verb)
                .unwrap_or_default();
            for dir in &dirs {
                let emulator_before = bench.emulator.cpu_so_far();
                let outcome = bench.harness.run(dir, verb, Launch::Direct)?;
                let emulator_after = bench.emulator.cpu_so_far();
                non_empty_plans += usize::from(outcome.had_changes);
                let collected = &mut samples[index][slot(dir.series)];
                collected.wall.push(outcome.seconds());
                if let Some(cpu) = outcome.finished.cpu {
                    collected.terraform_cpu.push(cpu.own.as_secs_f64());
                    collected.provider_cpu.push(cpu.children.as_secs_f64());
                    collected
                        .client_cpu
                        .push((cpu.own + cpu.children).as_secs_f64());
                }
                if let (Some(before), Some(after)) = (emulator_before, emulator_after) {
                    collected
                        .emulator_cpu
                        .push(after.saturating_sub(before).as_secs_f64());
                }
                progress(
                    "verbs",
                    format!(
                        "run {}/{runs}: {} {} x{n}: {:.2} s",
                        run + 1,
                        dir.series,
                        verb.name(),
                        outcome.seconds()
                    ),
                );
            }
            // A build given as --floor-binary makes keys of its own.
            let series_with_keys = if bench.options.floor_binary.is_some() {
                2
            } else {
                1
            };
            let expected = match verb {
                Verb::Destroy => 0,
                _ => n * series_with_keys,
            };
            let live = bench.emulator.live_keys_of(&app_id)?;
            if live != expected {
                return Err(BenchError::Unexpected(format!(
                    "after {} the emulator holds {live} keys of the run's app, expected {expected}",
                    verb.name()
                )));
            }
        }
    }
    let ratio =
        |a: &Collected, b: &Collected| a.wall.median().zip(b.wall.median()).map(|(a, b)| a / b);
    let cpu_ratio = |a: &Collected, b: &Collected| {
        a.client_cpu
            .median()
            .zip(b.client_cpu.median())
            .map(|(a, b)| a / b)
    };
    let rows = TARGETS
        .iter()
        .zip(samples)
        .map(|((verb, target), [provider, floor, data])| VerbRow {
            verb: verb.name(),
            n,
            ratio: ratio(&provider, &data),
            provider_over_floor: ratio(&provider, &floor),
            floor_over_data: ratio(&floor, &data),
            cpu_provider_over_floor: cpu_ratio(&provider, &floor),
            provider: provider.figures(),
            floor: floor.figures(),
            terraform_data: data.figures(),
            target_ratio: *target,
            target_over_floor: FLOOR_TARGET,
        })
        .collect();
    let floor = match &bench.options.floor_binary {
        Some(path) => format!("{} (--floor-binary)", path.display()),
        None => "parallel_api_key's schema with no API, bench/floor".to_owned(),
    };
    Ok(VerbsReport {
        n,
        floor,
        runs,
        rows,
        non_empty_plans,
    })
}

fn cpu_ms(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "—".to_owned(), |s| format!("{:.0}", s * 1e3))
}

impl VerbsReport {
    pub fn targets(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        for row in &self.rows {
            targets.push(Target::at_most(
                format!("{} x{}: provider / floor", row.verb, row.n),
                row.provider_over_floor,
                row.target_over_floor,
                "×",
            ));
            targets.push(Target::at_most(
                format!("{} x{}: provider / floor, CPU", row.verb, row.n),
                row.cpu_provider_over_floor,
                row.target_over_floor,
                "×",
            ));
            targets.push(Target::at_most(
                format!("{} x{}: provider / terraform_data", row.verb, row.n),
                row.ratio,
                row.target_ratio,
                "×",
            ));
        }
        targets
    }

    pub fn render(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let over_floor =
                    Target::at_most("", row.provider_over_floor, row.target_over_floor, "×");
                let over_data = Target::at_most("", row.ratio, row.target_ratio, "×");
                vec![
                    row.verb.to_owned(),
                    report::seconds(row.provider.wall_s.median),
                    report::seconds(row.floor.wall_s.median),
                    report::seconds(row.terraform_data.wall_s.median),
                    format!(
                        "{} {}",
                        report::ratio(row.provider_over_floor),
                        over_floor.verdict.label()
                    ),
                    report::ratio(row.floor_over_data),
                    format!("{} {}", report::ratio(row.ratio), over_data.verdict.label()),
                ]
            })
            .collect();
        let cpu_rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                vec![
                    row.verb.to_owned(),
                    cpu_ms(row.provider.terraform_cpu_s),
                    cpu_ms(row.floor.terraform_cpu_s),
                    cpu_ms(row.terraform_data.terraform_cpu_s),
                    cpu_ms(row.provider.provider_cpu_s),
                    cpu_ms(row.floor.provider_cpu_s),
                    cpu_ms(row.provider.emulator_cpu_s),
                    format!(
                        "{} {}",
                        report::ratio(row.cpu_provider_over_floor),
                        Target::at_most(
                            "",
                            row.cpu_provider_over_floor,
                            row.target_over_floor,
                            "×"
                        )
                        .verdict
                        .label()
                    ),
                ]
            })
            .collect();
        let mut text = format!(
            "1. Verbs, N = {} (zero latency, -parallelism=10, median of {} runs; floor = \
             {})\n{}\n\n  CPU, ms (median; \
             Terraform's own, the provider processes', the API emulator's; provider/floor \
             compares Terraform's and the provider processes' CPU together, the API's left \
             out)\n{}",
            self.n,
            self.runs,
            self.floor,
            report::table(
                &[
                    "verb",
                    "parallel_api_key",
                    "floor",
                    "terraform_data",
                    "provider/floor ≤ 1.05×",
                    "floor/data",
                    "provider/data",
                ],
                &rows
            ),
            report::table(
                &[
                    "verb",
                    "terraform (provider)",
                    "terraform (floor)",
                    "terraform (data)",
                    "provider",
                    "floor",
                    "emulator (provider)",
                    "provider/floor ≤ 1.05×",
                ],
                &cpu_rows
            )
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
