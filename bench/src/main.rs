//! `parallel-bench`: measures terraform-provider-parallel next to Terraform's
//! built-in `terraform_data`, against the local emulator, and prints a table
//! of targets; writes `results.json` and `scaling.png`.
//!
//! `parallel-bench rss-wrap ...` is internal: Terraform runs it in place of
//! the provider when peak memory is measured.

mod emulator;
mod error;
mod handshake;
mod http;
mod interrupt;
mod options;
mod plot;
mod process;
mod report;
mod rss;
mod sections;
mod stats;
mod terraform;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::emulator::Emulator;
use crate::error::{BenchError, IoContext, Result};
use crate::options::{Options, Section};
use crate::report::{Target, Verdict};
use crate::sections::Bench;
use crate::sections::footprint::FootprintReport;
use crate::sections::latency::LatencyReport;
use crate::sections::profile::ProfileReport;
use crate::sections::scaling::ScalingReport;
use crate::sections::variants::VariantsReport;
use crate::sections::verbs::VerbsReport;
use crate::terraform::{Harness, HarnessSetup};

#[derive(Debug, Serialize)]
struct Meta {
    terraform: String,
    runs: usize,
    quick: bool,
    cpus: usize,
    unix_time: u64,
    wall_seconds: f64,
    /// The machine is shared: its load says how much to trust the figures.
    load_average_start: String,
    load_average_end: String,
}

#[derive(Debug, Serialize)]
struct Results {
    meta: Meta,
    verbs: Option<VerbsReport>,
    latency: Option<LatencyReport>,
    scaling: Option<ScalingReport>,
    process: Option<FootprintReport>,
    profile: Option<ProfileReport>,
    variants: Option<VariantsReport>,
    errors: Vec<String>,
    targets: Vec<Target>,
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "rss-wrap") {
        return rss::wrap(args.skip(1).collect());
    }
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let options = match options::parse(args, |key| std::env::var(key).ok()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", options::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("parallel-bench: {e}\n{}", options::USAGE);
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("parallel-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Ok(false) when some measurement failed (the others are still reported).
fn run(mut options: Options) -> Result<bool> {
    let began = Instant::now();
    interrupt::install()?;
    let this_program = std::env::current_exe().context(|| "locating this program".into())?;
    let bin_dir = match &options.bin_dir {
        Some(dir) => dir.clone(),
        None => this_program
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| BenchError::Unexpected("this program has no directory".into()))?,
    };
    options.out_dir = match &options.out_dir_flag {
        Some(dir) => dir.clone(),
        None => bin_dir.join("..").join("bench"),
    };
    std::fs::create_dir_all(&options.out_dir)
        .context(|| format!("creating {}", options.out_dir.display()))?;
    let provider_binary = existing(
        bin_dir.join("terraform-provider-parallel"),
        "the provider binary",
    )?;
    let floor_binary = existing(
        bin_dir.join("terraform-provider-parallel-floor"),
        "the floor provider binary (cargo build --release -p parallel-bench-floor)",
    )?;
    let emulator_binary = existing(bin_dir.join("parallel-emulator"), "the emulator binary")?;
    let terraform = find_terraform(options.terraform.as_deref())?;

    // Removed when dropped, which also happens on error and on Ctrl-C (the
    // signal only sets a flag); children die with us via PDEATHSIG.
    let scratch = tempfile::Builder::new()
        .prefix("parallel-bench-")
        .tempdir()
        .context(|| "creating the scratch directory".into())?;
    let emulator = Emulator::start(&emulator_binary, &scratch.path().join("emulator.err"))?;
    let harness = Harness::new(HarnessSetup {
        terraform: &terraform,
        scratch: scratch.path(),
        provider_binary: &provider_binary,
        floor_binary: &floor_binary,
        bench_binary: &this_program,
        api_url: &emulator.base_url,
        token: &emulator.token,
        command_timeout: options.command_timeout,
        deadline: began + options.max_duration,
    })?;
    let terraform_version = harness.version()?;
    eprintln!(
        "parallel-bench: {terraform_version}, {} run(s) per figure{}, emulator at {}",
        options.runs,
        if options.quick { " (quick)" } else { "" },
        emulator.base_url
    );
    let mut bench = Bench {
        options,
        harness,
        emulator,
        scratch: scratch.path().to_owned(),
        provider_binary,
        emulator_binary,
        emulator_restarts: 0,
    };

    let mut errors = Vec::new();
    let mut results = Results {
        meta: Meta {
            terraform: terraform_version,
            runs: bench.options.runs,
            quick: bench.options.quick,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            unix_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            wall_seconds: 0.0,
            load_average_start: load_average(),
            load_average_end: String::new(),
        },
        verbs: None,
        latency: None,
        scaling: None,
        process: None,
        profile: None,
        variants: None,
        errors: Vec::new(),
        targets: Vec::new(),
    };
    let mut rendered = Vec::new();
    let mut targets = Vec::new();
    for section in bench.options.sections.clone() {
        if let Some(why) = bench.revive_emulator()? {
            eprintln!("parallel-bench: started a new emulator: {why}");
            errors.push(format!("emulator restarted before {section:?}: {why}"));
        }
        let outcome = match section {
            Section::Verbs => sections::verbs::run(&mut bench).map(|r| {
                rendered.push(r.render());
                targets.extend(r.targets());
                results.verbs = Some(r);
            }),
            Section::Latency => sections::latency::run(&mut bench).map(|r| {
                rendered.push(r.render());
                targets.extend(r.targets());
                results.latency = Some(r);
            }),
            Section::Scaling => sections::scaling::run(&mut bench).map(|r| {
                rendered.push(r.render());
                targets.extend(r.targets());
                results.scaling = Some(r);
            }),
            Section::Process => sections::footprint::run(&mut bench).map(|r| {
                rendered.push(r.render());
                targets.extend(r.targets());
                results.process = Some(r);
            }),
            Section::Profile => sections::profile::run(&mut bench).map(|r| {
                rendered.push(r.render());
                results.profile = Some(r);
            }),
            Section::Variants => sections::variants::run(&mut bench).map(|r| {
                rendered.push(r.render());
                results.variants = Some(r);
            }),
        };
        match outcome {
            Ok(()) => {}
            Err(BenchError::Interrupted) => return Err(BenchError::Interrupted),
            Err(e) => {
                let mut error = format!("{section:?}: {e}");
                if let Some(why) = bench.emulator.failure() {
                    error.push_str(&format!("\n  and {why}"));
                }
                eprintln!("parallel-bench: {error}");
                errors.push(error);
                targets.extend(failed_targets(section));
            }
        }
    }

    results.meta.wall_seconds = began.elapsed().as_secs_f64();
    results.meta.load_average_end = load_average();
    results.errors = errors.clone();
    results.targets = targets.clone();
    let json_path = bench.options.out_dir.join("results.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&results)?)
        .context(|| format!("writing {}", json_path.display()))?;

    println!();
    for text in &rendered {
        println!("{text}\n");
    }
    for error in &errors {
        println!("ERROR {error}\n");
    }
    println!("Summary");
    let rows: Vec<Vec<String>> = targets.iter().map(Target::row).collect();
    println!(
        "{}",
        report::table(&["target", "limit", "measured", ""], &rows)
    );
    let missed = targets
        .iter()
        .filter(|t| t.verdict == Verdict::Miss)
        .count();
    let passed = targets
        .iter()
        .filter(|t| t.verdict == Verdict::Pass)
        .count();
    println!(
        "\n{passed} PASS, {missed} MISS, {} ERROR in {:.0} s (load average {} at the start, {} at \
         the end). Results: {}",
        targets.len() - passed - missed,
        results.meta.wall_seconds,
        results.meta.load_average_start,
        results.meta.load_average_end,
        json_path.display()
    );
    drop(bench);
    scratch
        .close()
        .context(|| "removing the scratch directory".into())?;
    Ok(errors.is_empty())
}

/// The targets a failed section would have reported, marked ERROR, so the
/// summary always has the same rows.
fn failed_targets(section: Section) -> Vec<Target> {
    match section {
        Section::Verbs => vec![
            Target::errored("plan: provider / floor", 1.05, "×"),
            Target::errored("apply: provider / floor", 1.05, "×"),
            Target::errored("destroy: provider / floor", 1.05, "×"),
            Target::errored("plan: provider / terraform_data", 1.7, "×"),
            Target::errored("apply: provider / terraform_data", 1.5, "×"),
            Target::errored("destroy: provider / terraform_data", 1.5, "×"),
        ],
        Section::Latency => vec![Target::errored(
            "apply at 50 ms latency: time / ideal",
            1.5,
            "×",
        )],
        Section::Scaling => vec![
            Target::errored("scaling: provider slope / terraform_data slope", 1.5, "×"),
            Target::errored(
                "scaling: provider as linear as terraform_data (R²)",
                f64::NAN,
                "",
            ),
        ],
        Section::Process => vec![
            Target::errored("provider start-up: exec to handshake (median)", 10.0, "ms"),
            Target::errored("provider peak RSS", 20.0, "MB"),
            Target::errored("provider binary size, stripped", 15.0, "MB"),
        ],
        // Reports figures, sets no target.
        Section::Profile | Section::Variants => Vec::new(),
    }
}

/// The 1, 5 and 15 minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn existing(path: PathBuf, what: &'static str) -> Result<PathBuf> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(BenchError::Missing { what, path })
    }
}

fn find_terraform(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = flag {
        return existing(path.to_owned(), "terraform");
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("terraform"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/local/bin/terraform")])
        .find(|candidate| candidate.is_file())
        .ok_or(BenchError::Missing {
            what: "terraform",
            path: PathBuf::from("terraform (PATH or /usr/local/bin)"),
        })
}
