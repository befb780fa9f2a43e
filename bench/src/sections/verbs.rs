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

#[derive(Debug, Serialize)]
pub struct VerbRow {
    pub verb: &'static str,
    pub n: usize,
    pub provider_s: Summary,
    pub terraform_data_s: Summary,
    pub ratio: Option<f64>,
    pub target_ratio: f64,
}

#[derive(Debug, Serialize)]
pub struct VerbsReport {
    pub n: usize,
    pub runs: usize,
    pub rows: Vec<VerbRow>,
    /// Plans that proposed changes right after apply (a provider bug).
    pub non_empty_plans: usize,
}

pub fn run(bench: &mut Bench) -> Result<VerbsReport> {
    let n = bench.options.verbs_n;
    let runs = bench.options.runs;
    // [verb][series] samples, verbs in TARGETS order, series Provider, Data.
    let mut samples: Vec<[Samples; 2]> = TARGETS.iter().map(|_| Default::default()).collect();
    let mut non_empty_plans = 0;
    for run in 0..runs {
        let app_id = bench.emulator.create_app(&format!("bench-verbs-{run}"))?;
        let order = Series::interleaved(run);
        let mut dirs = Vec::new();
        for series in order {
            dirs.push(bench.harness.workdir(series, n, &app_id, "verbs")?);
        }
        // Apply first (plan and destroy need state), then plan, then destroy.
        for verb in [Verb::Apply, Verb::Plan, Verb::Destroy] {
            let index = TARGETS
                .iter()
                .position(|(v, _)| *v == verb)
                .unwrap_or_default();
            for dir in &dirs {
                let outcome = bench.harness.run(dir, verb, Launch::Direct)?;
                non_empty_plans += usize::from(outcome.had_changes);
                let slot = usize::from(dir.series == Series::Data);
                samples[index][slot].push(outcome.seconds());
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
            let expected = match verb {
                Verb::Destroy => 0,
                _ => n,
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
    let rows = TARGETS
        .iter()
        .zip(samples)
        .map(|((verb, target), [provider, data])| VerbRow {
            verb: verb.name(),
            n,
            ratio: provider.median().zip(data.median()).map(|(p, d)| p / d),
            provider_s: provider.summary(),
            terraform_data_s: data.summary(),
            target_ratio: *target,
        })
        .collect();
    Ok(VerbsReport {
        n,
        runs,
        rows,
        non_empty_plans,
    })
}

impl VerbsReport {
    pub fn targets(&self) -> Vec<Target> {
        self.rows
            .iter()
            .map(|row| {
                Target::at_most(
                    format!("{} x{}: provider / terraform_data", row.verb, row.n),
                    row.ratio,
                    row.target_ratio,
                    "×",
                )
            })
            .collect()
    }

    pub fn render(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let target = Target::at_most("", row.ratio, row.target_ratio, "×");
                vec![
                    row.verb.to_owned(),
                    report::seconds(row.provider_s.median),
                    report::seconds(row.terraform_data_s.median),
                    report::ratio(row.ratio),
                    format!("≤ {:.2}×", row.target_ratio),
                    target.verdict.label().to_owned(),
                ]
            })
            .collect();
        let mut text = format!(
            "1. Verbs, N = {} (zero latency, -parallelism=10, median of {} runs)\n{}",
            self.n,
            self.runs,
            report::table(
                &[
                    "verb",
                    "parallel_api_key",
                    "terraform_data",
                    "ratio",
                    "target",
                    ""
                ],
                &rows
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
