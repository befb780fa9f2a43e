//! Section 7: the provider's own work counted in instructions. Apply, plan
//! and destroy of N keys with the provider and with the floor, every
//! provider process Terraform launches run under `valgrind
//! --tool=callgrind`. Instruction counts do not move with the machine's
//! load, which on a shared machine spreads one wall-clock ratio wider than
//! the 5% the provider may add to the floor; callgrind runs each process
//! about 50× slower, so it counts the provider's work, not the timing.
//! Terraform itself runs normally and is not counted.

use std::path::Path;

use serde::Serialize;

use super::{Bench, progress};
use crate::error::{BenchError, IoContext, Result};
use crate::report;
use crate::terraform::{Launch, Series, Verb};

/// One series' count for one command.
#[derive(Debug, Serialize)]
pub struct Counted {
    /// Instructions, all of its provider processes together.
    pub instructions: u64,
    pub processes: usize,
    /// API requests the emulator served during the command.
    pub api_requests: usize,
}

#[derive(Debug, Serialize)]
pub struct InstructionRow {
    pub verb: &'static str,
    pub provider: Counted,
    pub floor: Counted,
    /// provider / floor, in instructions.
    pub provider_over_floor: Option<f64>,
    /// (provider - floor) / API requests: what each request costs the
    /// provider, when the difference is the requests.
    pub extra_per_api_request: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct InstructionsReport {
    pub n: usize,
    pub rows: Vec<InstructionRow>,
}

const VERBS: [Verb; 3] = [Verb::Apply, Verb::Plan, Verb::Destroy];

pub fn run(bench: &mut Bench) -> Result<InstructionsReport> {
    bench.harness.require_valgrind()?;
    let n = bench.options.verbs_n;
    let app_id = bench.emulator.create_app("bench-instructions")?;
    // [series][verb], series as below, verbs in VERBS order.
    let mut counted: Vec<Vec<Counted>> = Vec::new();
    for series in [Series::Provider, Series::Floor] {
        let dir = bench.harness.workdir(series, n, &app_id, "instructions")?;
        let mut of_series = Vec::new();
        for verb in VERBS {
            let out_dir = bench.harness.callgrind_dir();
            clear(&out_dir)?;
            bench.emulator.clear_requests()?;
            let outcome = bench
                .harness
                .run(&dir, verb, Launch::CountingInstructions)?;
            if outcome.had_changes {
                return Err(BenchError::Unexpected(format!(
                    "the plan of {series} x{n} right after apply proposed changes, so it \
                     counted other work than the floor's"
                )));
            }
            let api_requests = bench.emulator.requests()?.len();
            let (instructions, processes) = count_dir(&out_dir)?;
            progress(
                "instructions",
                format!(
                    "{series} {} x{n}: {:.1}M instructions in {} processes ({:.1} s under callgrind)",
                    verb.name(),
                    instructions as f64 / 1e6,
                    processes,
                    outcome.seconds()
                ),
            );
            of_series.push(Counted {
                instructions,
                processes,
                api_requests,
            });
        }
        counted.push(of_series);
    }
    let floor = counted.pop().unwrap_or_default();
    let provider = counted.pop().unwrap_or_default();
    let rows = VERBS
        .iter()
        .zip(provider.into_iter().zip(floor))
        .map(|(verb, (provider, floor))| row(verb.name(), provider, floor))
        .collect();
    Ok(InstructionsReport { n, rows })
}

fn row(verb: &'static str, provider: Counted, floor: Counted) -> InstructionRow {
    let provider_over_floor =
        (floor.instructions > 0).then(|| provider.instructions as f64 / floor.instructions as f64);
    let extra = provider.instructions as f64 - floor.instructions as f64;
    let extra_per_api_request =
        (provider.api_requests > 0).then(|| extra / provider.api_requests as f64);
    InstructionRow {
        verb,
        provider,
        floor,
        provider_over_floor,
        extra_per_api_request,
    }
}

/// Removes the files of the previous command.
fn clear(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .context(|| format!("reading {}", dir.display()))?
            .path();
        std::fs::remove_file(&path).context(|| format!("removing {}", path.display()))?;
    }
    Ok(())
}

/// Adds up the `callgrind.<pid>` files of one command: the instructions
/// and the number of processes.
fn count_dir(dir: &Path) -> Result<(u64, usize)> {
    let (mut instructions, mut processes) = (0, 0);
    let entries = std::fs::read_dir(dir).context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .context(|| format!("reading {}", dir.display()))?
            .path();
        let text =
            std::fs::read_to_string(&path).context(|| format!("reading {}", path.display()))?;
        instructions += totals(&text).ok_or_else(|| {
            BenchError::Unexpected(format!(
                "{} has no instruction total: did the provider process end early?",
                path.display()
            ))
        })?;
        processes += 1;
    }
    if processes == 0 {
        return Err(BenchError::Unexpected(format!(
            "callgrind wrote nothing to {}",
            dir.display()
        )));
    }
    Ok((instructions, processes))
}

/// The `totals:` line of a callgrind file (the only event is Ir,
/// instructions executed; `summary:` is the same figure in older files).
fn totals(text: &str) -> Option<u64> {
    text.lines()
        .filter_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .find_map(|value| value.split_whitespace().next()?.parse().ok())
}

fn millions(value: u64) -> String {
    format!("{:.1}M", value as f64 / 1e6)
}

impl InstructionsReport {
    pub fn render(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                vec![
                    row.verb.to_owned(),
                    row.provider.processes.to_string(),
                    millions(row.provider.instructions),
                    millions(row.floor.instructions),
                    report::ratio(row.provider_over_floor),
                    row.provider.api_requests.to_string(),
                    row.extra_per_api_request
                        .map_or_else(|| "—".to_owned(), |v| format!("{:.0}k", v / 1e3)),
                ]
            })
            .collect();
        format!(
            "7. Instructions, N = {} (valgrind --tool=callgrind on every provider process, one \
             run; Terraform not counted)\n{}",
            self.n,
            report::table(
                &[
                    "verb",
                    "processes",
                    "parallel_api_key",
                    "floor",
                    "provider/floor",
                    "API requests",
                    "extra / request",
                ],
                &rows
            )
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_reads_the_callgrind_total() {
        let text = "version: 1\ncmd: /x/terraform-provider-parallel\nevents: Ir\n\
                    summary: 8022791\ntotals: 8022791\n";
        assert_eq!(totals(text), Some(8_022_791));
        assert_eq!(totals("events: Ir\nsummary: 12\n"), Some(12));
        assert_eq!(totals("events: Ir\n"), None);
    }

    #[test]
    fn extra_per_request_is_the_difference_over_the_requests() {
        let counted = |instructions, api_requests| Counted {
            instructions,
            processes: 4,
            api_requests,
        };
        let apply = row("apply", counted(300, 200), counted(100, 0));
        assert_eq!(apply.provider_over_floor, Some(3.0));
        assert_eq!(apply.extra_per_api_request, Some(1.0));
        let plan = row("plan", counted(104, 0), counted(100, 0));
        assert_eq!(plan.extra_per_api_request, None);
    }
}
