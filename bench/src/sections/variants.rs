//! Section 6: what each part of our declarations costs in Terraform. The
//! floor runs as it is and with one part changed (bench/floor's
//! `PARALLEL_BENCH_FLOOR`), side by side in rotated order; each change is
//! reported as its time over the plain floor's.

use serde::Serialize;

use super::{Bench, progress};
use crate::error::Result;
use crate::report;
use crate::stats::{Samples, Summary};
use crate::terraform::{FLOOR_VARIANT_ENV, Launch, Series, Verb};

/// `""` is the plain floor, the base of every ratio.
const VARIANTS: [&str; 6] = [
    "",
    "all-objects",
    "no-descriptions",
    "no-timeouts",
    "no-identity",
    "api-wait",
];
const VERBS: [Verb; 3] = [Verb::Plan, Verb::Apply, Verb::Destroy];

#[derive(Debug, Serialize)]
pub struct VariantRow {
    pub verb: &'static str,
    pub variant: &'static str,
    pub wall_s: Summary,
    /// This variant / the plain floor, medians.
    pub ratio: Option<f64>,
    /// Terraform's own CPU, median; steadier than wall time on a shared
    /// machine.
    pub terraform_cpu_s: Option<f64>,
    /// This variant's Terraform CPU / the plain floor's, medians.
    pub cpu_ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct VariantsReport {
    pub n: usize,
    pub runs: usize,
    pub rows: Vec<VariantRow>,
}

pub fn run(bench: &mut Bench) -> Result<VariantsReport> {
    let n = bench.options.verbs_n;
    let runs = bench.options.runs;
    // [verb][variant]: wall time, Terraform's CPU
    let mut samples: Vec<Vec<(Samples, Samples)>> = VERBS
        .iter()
        .map(|_| VARIANTS.iter().map(|_| Default::default()).collect())
        .collect();
    for run in 0..runs {
        // The floor never calls the API: any app ID will do.
        let app_id = format!("00000000-0000-4000-8000-{run:012}");
        let mut order: Vec<usize> = (0..VARIANTS.len()).collect();
        order.rotate_left(run % VARIANTS.len());
        let mut dirs = Vec::new();
        for &index in &order {
            let mut dir = bench
                .harness
                .workdir(Series::Floor, n, &app_id, "variant")?;
            dir.env
                .push((FLOOR_VARIANT_ENV.to_owned(), VARIANTS[index].to_owned()));
            dirs.push((index, dir));
        }
        for verb in [Verb::Apply, Verb::Plan, Verb::Destroy] {
            let verb_index = VERBS.iter().position(|v| *v == verb).unwrap_or_default();
            for (index, dir) in &dirs {
                let outcome = bench.harness.run(dir, verb, Launch::Direct)?;
                let (wall, cpu) = &mut samples[verb_index][*index];
                wall.push(outcome.seconds());
                if let Some(times) = outcome.finished.cpu {
                    cpu.push(times.own.as_secs_f64());
                }
                progress(
                    "variants",
                    format!(
                        "run {}/{runs}: floor {} {} x{n}: {:.2} s",
                        run + 1,
                        label(VARIANTS[*index]),
                        verb.name(),
                        outcome.seconds()
                    ),
                );
            }
        }
    }
    let mut rows = Vec::new();
    for (verb, per_variant) in VERBS.iter().zip(&samples) {
        let base = per_variant[0].0.median();
        let base_cpu = per_variant[0].1.median();
        for (variant, (wall, cpu)) in VARIANTS.iter().zip(per_variant) {
            rows.push(VariantRow {
                verb: verb.name(),
                variant: label(variant),
                ratio: wall.median().zip(base).map(|(v, b)| v / b),
                wall_s: wall.summary(),
                terraform_cpu_s: cpu.median(),
                cpu_ratio: cpu.median().zip(base_cpu).map(|(v, b)| v / b),
            });
        }
    }
    Ok(VariantsReport { n, runs, rows })
}

fn label(variant: &'static str) -> &'static str {
    if variant.is_empty() { "as is" } else { variant }
}

impl VariantsReport {
    pub fn render(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                vec![
                    row.verb.to_owned(),
                    row.variant.to_owned(),
                    report::seconds(row.wall_s.median),
                    report::ratio(row.ratio),
                    row.terraform_cpu_s
                        .map_or_else(|| "—".to_owned(), |s| format!("{:.0}", s * 1e3)),
                    report::ratio(row.cpu_ratio),
                ]
            })
            .collect();
        format!(
            "6. What parts of our answers cost, N = {} (the floor with one part changed, median \
             of {} runs)\n{}",
            self.n,
            self.runs,
            report::table(
                &[
                    "verb",
                    "floor",
                    "time",
                    "/ floor as is",
                    "terraform CPU ms",
                    "/ floor as is",
                ],
                &rows
            )
        )
    }
}
