//! Section 2: apply of N keys with 50 ms of API latency and
//! -parallelism=10, against the ideal N / 10 × 50 ms, and where the rest
//! of the time goes.

use std::time::Duration;

use serde::Serialize;

use super::{Bench, progress};
use crate::emulator::Timeline;
use crate::error::{BenchError, Result};
use crate::report::{self, Target};
use crate::stats::{Samples, Summary};
use crate::terraform::{Launch, PARALLELISM, Series, TfRun, Verb, Workdir};

pub const LATENCY: Duration = Duration::from_millis(50);
const TARGET_RATIO: f64 = 1.5;

#[derive(Debug, Default)]
struct Phases {
    before_first_request: Samples,
    request_window: Samples,
    after_last_request: Samples,
    mean_concurrency: Samples,
    max_concurrency: Vec<usize>,
    requests: Vec<usize>,
    unsuccessful: Vec<usize>,
}

/// One Terraform run split at its first and last API request.
#[derive(Debug, Serialize)]
pub struct PhasesSummary {
    /// Terraform start, provider launches and configuration, plan phase.
    pub before_first_request_s: Summary,
    /// First request sent to last answer received.
    pub request_window_s: Summary,
    /// Last answer to exit: state write, provider shutdown.
    pub after_last_request_s: Summary,
    /// Mean requests in flight during the window (ideal: the parallelism).
    pub mean_concurrency: Summary,
    pub max_concurrency: Vec<usize>,
    pub requests_per_run: Vec<usize>,
    /// Non-2xx or unanswered requests per run (retries, errors).
    pub unsuccessful_per_run: Vec<usize>,
}

impl Phases {
    fn summary(&self) -> PhasesSummary {
        PhasesSummary {
            before_first_request_s: self.before_first_request.summary(),
            request_window_s: self.request_window.summary(),
            after_last_request_s: self.after_last_request.summary(),
            mean_concurrency: self.mean_concurrency.summary(),
            max_concurrency: self.max_concurrency.clone(),
            requests_per_run: self.requests.clone(),
            unsuccessful_per_run: self.unsuccessful.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LatencyReport {
    pub n: usize,
    pub runs: usize,
    pub latency_ms: u64,
    pub parallelism: usize,
    pub ideal_s: f64,
    /// `terraform apply -auto-approve`: the measured figure.
    pub apply_s: Summary,
    pub ratio: Option<f64>,
    pub apply_phases: PhasesSummary,
    /// The same work split in two commands.
    pub plan_out_s: Summary,
    pub apply_planfile_s: Summary,
    pub apply_planfile_phases: PhasesSummary,
    /// terraform_data, same N and split: Terraform's own floor.
    pub terraform_data_plan_out_s: Summary,
    pub terraform_data_apply_planfile_s: Summary,
}

pub fn run(bench: &mut Bench) -> Result<LatencyReport> {
    bench.emulator.set_latency(LATENCY)?;
    let result = measure(bench);
    // Whatever happened, later sections expect a fast emulator.
    let reset = bench.emulator.set_latency(Duration::ZERO);
    let report = result?;
    reset?;
    Ok(report)
}

fn measure(bench: &mut Bench) -> Result<LatencyReport> {
    let n = bench.options.latency_n;
    let runs = bench.options.runs;
    let ideal_s = n as f64 / PARALLELISM as f64 * LATENCY.as_secs_f64();
    let mut apply = Samples::default();
    let mut apply_phases = Phases::default();
    let mut plan_out = Samples::default();
    let mut apply_planfile = Samples::default();
    let mut planfile_phases = Phases::default();
    let mut data_plan_out = Samples::default();
    let mut data_apply_planfile = Samples::default();
    for run in 0..runs {
        let step = |what: &str, seconds: f64| {
            progress(
                "latency",
                format!("run {}/{runs}: {what} x{n}: {seconds:.2} s", run + 1),
            );
        };
        let app_id = bench.emulator.create_app(&format!("bench-latency-{run}"))?;

        let dir = bench
            .harness
            .workdir(Series::Provider, n, &app_id, "latency")?;
        let outcome = timed_against_emulator(bench, &dir, Verb::Apply, &mut apply_phases)?;
        apply.push(outcome.seconds());
        step("parallel_api_key apply", outcome.seconds());

        let dir = bench
            .harness
            .workdir(Series::Provider, n, &app_id, "latency-split")?;
        let outcome = bench.harness.run(&dir, Verb::PlanToFile, Launch::Direct)?;
        plan_out.push(outcome.seconds());
        step("parallel_api_key plan -out", outcome.seconds());
        let outcome =
            timed_against_emulator(bench, &dir, Verb::ApplyPlanFile, &mut planfile_phases)?;
        apply_planfile.push(outcome.seconds());
        step("parallel_api_key apply planfile", outcome.seconds());

        let dir = bench
            .harness
            .workdir(Series::Data, n, &app_id, "latency-split")?;
        let outcome = bench.harness.run(&dir, Verb::PlanToFile, Launch::Direct)?;
        data_plan_out.push(outcome.seconds());
        step("terraform_data plan -out", outcome.seconds());
        let outcome = bench
            .harness
            .run(&dir, Verb::ApplyPlanFile, Launch::Direct)?;
        data_apply_planfile.push(outcome.seconds());
        step("terraform_data apply planfile", outcome.seconds());
    }
    Ok(LatencyReport {
        n,
        runs,
        latency_ms: u64::try_from(LATENCY.as_millis()).unwrap_or(u64::MAX),
        parallelism: PARALLELISM,
        ideal_s,
        ratio: apply.median().map(|m| m / ideal_s),
        apply_s: apply.summary(),
        apply_phases: apply_phases.summary(),
        plan_out_s: plan_out.summary(),
        apply_planfile_s: apply_planfile.summary(),
        apply_planfile_phases: planfile_phases.summary(),
        terraform_data_plan_out_s: data_plan_out.summary(),
        terraform_data_apply_planfile_s: data_apply_planfile.summary(),
    })
}

/// Runs `verb` with a fresh request log and splits its time at the first
/// and last API request.
fn timed_against_emulator(
    bench: &Bench,
    dir: &Workdir,
    verb: Verb,
    phases: &mut Phases,
) -> Result<TfRun> {
    bench.emulator.clear_requests()?;
    let marker = bench.emulator.mark_clock()?;
    let outcome = bench.harness.run(dir, verb, Launch::Direct)?;
    let records = bench.emulator.requests()?;
    let timeline = Timeline::new(&records, marker, outcome.finished.started)?;
    let (Some(first), Some(last)) = (timeline.first_start(), timeline.last_end()) else {
        return Err(BenchError::Unexpected(format!(
            "{} of {} keys made no API request",
            verb.name(),
            dir.n
        )));
    };
    phases.before_first_request.push(first);
    phases.request_window.push(last - first);
    phases.after_last_request.push(outcome.seconds() - last);
    if let Some(mean) = timeline.mean_concurrency() {
        phases.mean_concurrency.push(mean);
    }
    phases
        .max_concurrency
        .push(bench.emulator.max_concurrent_requests()?);
    phases.requests.push(timeline.requests.len());
    phases.unsuccessful.push(timeline.unsuccessful);
    Ok(outcome)
}

impl LatencyReport {
    pub fn targets(&self) -> Vec<Target> {
        vec![Target::at_most(
            format!(
                "apply x{} at {} ms, -parallelism={}: time / ideal {:.2} s",
                self.n, self.latency_ms, self.parallelism, self.ideal_s
            ),
            self.ratio,
            TARGET_RATIO,
            "×",
        )]
    }

    pub fn render(&self) -> String {
        let verdict = Target::at_most("", self.ratio, TARGET_RATIO, "×")
            .verdict
            .label();
        let headline = report::table(
            &["", "median", "ideal", "ratio", "target", ""],
            &[vec![
                "apply".into(),
                report::seconds(self.apply_s.median),
                format!("{:.2} s", self.ideal_s),
                report::ratio(self.ratio),
                format!("≤ {TARGET_RATIO:.2}×"),
                verdict.into(),
            ]],
        );
        let phase_row = |name: &str, total: &Summary, phases: &PhasesSummary| {
            vec![
                name.to_owned(),
                report::seconds(total.median),
                report::seconds(phases.before_first_request_s.median),
                report::seconds(phases.request_window_s.median),
                report::seconds(phases.after_last_request_s.median),
                phases
                    .mean_concurrency
                    .median
                    .map_or_else(|| "—".into(), |c| format!("{c:.1}")),
                phases
                    .max_concurrency
                    .iter()
                    .max()
                    .map_or_else(|| "—".into(), ToString::to_string),
                phases
                    .requests_per_run
                    .iter()
                    .max()
                    .map_or_else(|| "—".into(), ToString::to_string),
                phases
                    .unsuccessful_per_run
                    .iter()
                    .max()
                    .map_or_else(|| "—".into(), ToString::to_string),
            ]
        };
        let breakdown = report::table(
            &[
                "command",
                "total",
                "start→1st req",
                "1st→last req",
                "last req→exit",
                "mean conc.",
                "max conc.",
                "requests",
                "not 2xx",
            ],
            &[
                phase_row("apply (one command)", &self.apply_s, &self.apply_phases),
                vec![
                    "plan -out".into(),
                    report::seconds(self.plan_out_s.median),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "0".into(),
                    "—".into(),
                ],
                phase_row(
                    "apply planfile",
                    &self.apply_planfile_s,
                    &self.apply_planfile_phases,
                ),
            ],
        );
        let floor = report::table(
            &["terraform_data (same N)", "median"],
            &[
                vec![
                    "plan -out".into(),
                    report::seconds(self.terraform_data_plan_out_s.median),
                ],
                vec![
                    "apply planfile".into(),
                    report::seconds(self.terraform_data_apply_planfile_s.median),
                ],
            ],
        );
        format!(
            "2. Apply of N = {} keys, {} ms per API request, -parallelism={} (median of {} runs)\n{headline}\n\n\
             Where the time goes (medians; request times from the emulator's log):\n{breakdown}\n\n\
             Terraform's own floor for the same N:\n{floor}",
            self.n, self.latency_ms, self.parallelism, self.runs
        )
    }
}
