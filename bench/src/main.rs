//! `parallel-bench`: measures terraform-provider-parallel next to Terraform's
//! built-in `terraform_data`, against the local emulator, and prints a table
//! of targets; writes `results.json`, `scaling.png` and `memory.png`.
//! Given several `--terraform`, it runs every section on each, one after
//! the other, and reports them together.
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
use crate::sections::instructions::InstructionsReport;
use crate::sections::latency::LatencyReport;
use crate::sections::profile::ProfileReport;
use crate::sections::scaling::ScalingReport;
use crate::sections::variants::VariantsReport;
use crate::sections::verbs::VerbsReport;
use crate::terraform::{Harness, HarnessSetup};

#[derive(Debug, Serialize)]
struct Meta {
    /// `terraform version`'s first line of each Terraform measured.
    terraform: Vec<String>,
    runs: usize,
    quick: bool,
    cpus: usize,
    unix_time: u64,
    wall_seconds: f64,
    /// The machine is shared: its load says how much to trust the figures.
    load_average_start: String,
    load_average_end: String,
}

/// Every section's report on one Terraform.
#[derive(Debug, Serialize)]
struct VersionResults {
    terraform: String,
    terraform_path: String,
    wall_seconds: f64,
    verbs: Option<VerbsReport>,
    latency: Option<LatencyReport>,
    scaling: Option<ScalingReport>,
    process: Option<FootprintReport>,
    profile: Option<ProfileReport>,
    variants: Option<VariantsReport>,
    instructions: Option<InstructionsReport>,
    errors: Vec<String>,
    targets: Vec<Target>,
}

#[derive(Debug, Serialize)]
struct Results {
    meta: Meta,
    /// One entry per `--terraform`, in the order given.
    versions: Vec<VersionResults>,
    /// Errors outside any one version (the plots).
    errors: Vec<String>,
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

/// The binaries every version runs.
struct Binaries {
    this_program: PathBuf,
    provider: PathBuf,
    floor: PathBuf,
    emulator: PathBuf,
}

/// Ok(false) when some measurement failed (the others are still reported).
fn run(mut options: Options) -> Result<bool> {
    let began = Instant::now();
    let deadline = began + options.max_duration;
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
    let binaries = Binaries {
        provider: existing(
            bin_dir.join("terraform-provider-parallel"),
            "the provider binary",
        )?,
        floor: match &options.floor_binary {
            Some(path) => existing(path.clone(), "the provider given as --floor-binary")?,
            None => existing(
                bin_dir.join("terraform-provider-parallel-floor"),
                "the floor provider binary (cargo build --release -p parallel-bench-floor)",
            )?,
        },
        emulator: existing(bin_dir.join("parallel-emulator"), "the emulator binary")?,
        this_program,
    };
    let terraforms = if options.terraform.is_empty() {
        vec![find_terraform(None)?]
    } else {
        options
            .terraform
            .iter()
            .map(|path| find_terraform(Some(path)))
            .collect::<Result<Vec<_>>>()?
    };

    // Removed when dropped, which also happens on error and on Ctrl-C (the
    // signal only sets a flag); children die with us via PDEATHSIG.
    let scratch = tempfile::Builder::new()
        .prefix("parallel-bench-")
        .tempdir()
        .context(|| "creating the scratch directory".into())?;
    let load_average_start = load_average();
    let mut versions = Vec::new();
    for (index, terraform) in terraforms.iter().enumerate() {
        // Short: plugin sockets go under it, and a Unix socket's path may
        // be at most 107 bytes.
        let version_scratch = scratch.path().join(format!("tf{index}"));
        std::fs::create_dir_all(&version_scratch)
            .context(|| format!("creating {}", version_scratch.display()))?;
        versions.push(run_version(
            &options,
            &binaries,
            terraform,
            &version_scratch,
            deadline,
        )?);
    }

    let mut errors = Vec::new();
    let mut scaling: Vec<&mut ScalingReport> = versions
        .iter_mut()
        .filter_map(|v| v.scaling.as_mut())
        .collect();
    if !scaling.is_empty() {
        sections::scaling::plot(&mut scaling, &options.out_dir, options.font.as_deref());
        if let Some(error) = scaling.first().and_then(|r| r.plot_error.clone()) {
            errors.push(format!("plots: {error}"));
        }
    }

    let results = Results {
        meta: Meta {
            terraform: versions.iter().map(|v| v.terraform.clone()).collect(),
            runs: options.runs,
            quick: options.quick,
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            unix_time: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            wall_seconds: began.elapsed().as_secs_f64(),
            load_average_start,
            load_average_end: load_average(),
        },
        versions,
        errors,
    };
    let json_path = options.out_dir.join("results.json");
    std::fs::write(&json_path, serde_json::to_string_pretty(&results)?)
        .context(|| format!("writing {}", json_path.display()))?;

    let several = results.versions.len() > 1;
    println!();
    for version in &results.versions {
        if several {
            println!(
                "=== {} ({}) ===\n",
                version.terraform, version.terraform_path
            );
        }
        for text in version.rendered() {
            println!("{text}\n");
        }
        for error in &version.errors {
            println!("ERROR {error}\n");
        }
    }
    for error in &results.errors {
        println!("ERROR {error}\n");
    }
    println!("Summary");
    let mut header = vec!["target", "limit", "measured", ""];
    if several {
        header.insert(0, "terraform");
    }
    let rows: Vec<Vec<String>> = results
        .versions
        .iter()
        .flat_map(|version| {
            version.targets.iter().map(move |target| {
                let mut row = target.row();
                if several {
                    row.insert(0, short_version(&version.terraform));
                }
                row
            })
        })
        .collect();
    println!("{}", report::table(&header, &rows));
    let targets = || results.versions.iter().flat_map(|v| v.targets.iter());
    let missed = targets().filter(|t| t.verdict == Verdict::Miss).count();
    let passed = targets().filter(|t| t.verdict == Verdict::Pass).count();
    println!(
        "\n{passed} PASS, {missed} MISS, {} ERROR in {:.0} s (load average {} at the start, {} at \
         the end). Results: {}",
        targets().count() - passed - missed,
        results.meta.wall_seconds,
        results.meta.load_average_start,
        results.meta.load_average_end,
        json_path.display()
    );
    scratch
        .close()
        .context(|| "removing the scratch directory".into())?;
    let clean = results.errors.is_empty() && results.versions.iter().all(|v| v.errors.is_empty());
    Ok(clean)
}

/// "1.11.4" from "Terraform v1.11.4".
fn short_version(line: &str) -> String {
    line.rsplit(' ')
        .next()
        .unwrap_or(line)
        .trim_start_matches('v')
        .to_owned()
}

/// Every chosen section on one Terraform, with an emulator of its own.
/// Only an interrupt or the time limit stops it early: a failed section
/// is reported and the next one runs.
fn run_version(
    options: &Options,
    binaries: &Binaries,
    terraform: &Path,
    scratch: &Path,
    deadline: Instant,
) -> Result<VersionResults> {
    let began = Instant::now();
    let emulator = Emulator::start(&binaries.emulator, &scratch.join("emulator.err"))?;
    let harness = Harness::new(HarnessSetup {
        terraform,
        scratch,
        provider_binary: &binaries.provider,
        floor_binary: &binaries.floor,
        bench_binary: &binaries.this_program,
        api_url: &emulator.base_url,
        token: &emulator.token,
        command_timeout: options.command_timeout,
        deadline,
    })?;
    let terraform_version = harness.version()?;
    eprintln!(
        "parallel-bench: {terraform_version} ({}), {} run(s) per figure{}, emulator at {}",
        terraform.display(),
        options.runs,
        if options.quick { " (quick)" } else { "" },
        emulator.base_url
    );
    let mut bench = Bench {
        options: options.clone(),
        harness,
        emulator,
        scratch: scratch.to_owned(),
        provider_binary: binaries.provider.clone(),
        emulator_binary: binaries.emulator.clone(),
        emulator_restarts: 0,
    };
    let mut results = VersionResults {
        terraform: terraform_version.clone(),
        terraform_path: terraform.display().to_string(),
        wall_seconds: 0.0,
        verbs: None,
        latency: None,
        scaling: None,
        process: None,
        profile: None,
        variants: None,
        instructions: None,
        errors: Vec::new(),
        targets: Vec::new(),
    };
    for section in options.sections.clone() {
        if let Some(why) = bench.revive_emulator()? {
            eprintln!("parallel-bench: started a new emulator: {why}");
            results
                .errors
                .push(format!("emulator restarted before {section:?}: {why}"));
        }
        let outcome = match section {
            Section::Verbs => sections::verbs::run(&mut bench).map(|r| {
                results.targets.extend(r.targets());
                results.verbs = Some(r);
            }),
            Section::Latency => sections::latency::run(&mut bench).map(|r| {
                results.targets.extend(r.targets());
                results.latency = Some(r);
            }),
            Section::Scaling => sections::scaling::run(&mut bench, &terraform_version).map(|r| {
                results.targets.extend(r.targets());
                results.scaling = Some(r);
            }),
            Section::Process => sections::footprint::run(&mut bench).map(|r| {
                results.targets.extend(r.targets());
                results.process = Some(r);
            }),
            Section::Profile => sections::profile::run(&mut bench).map(|r| {
                results.profile = Some(r);
            }),
            Section::Variants => sections::variants::run(&mut bench).map(|r| {
                results.variants = Some(r);
            }),
            Section::Instructions => sections::instructions::run(&mut bench).map(|r| {
                results.instructions = Some(r);
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
                results.errors.push(error);
                results.targets.extend(failed_targets(section));
            }
        }
    }
    results.wall_seconds = began.elapsed().as_secs_f64();
    Ok(results)
}

impl VersionResults {
    /// Each section's text, in the benchmark's order.
    fn rendered(&self) -> Vec<String> {
        let mut texts = Vec::new();
        texts.extend(self.verbs.as_ref().map(VerbsReport::render));
        texts.extend(self.latency.as_ref().map(LatencyReport::render));
        texts.extend(self.scaling.as_ref().map(ScalingReport::render));
        texts.extend(self.process.as_ref().map(FootprintReport::render));
        texts.extend(self.profile.as_ref().map(ProfileReport::render));
        texts.extend(self.variants.as_ref().map(VariantsReport::render));
        texts.extend(self.instructions.as_ref().map(InstructionsReport::render));
        texts
    }
}

/// The targets a failed section would have reported, marked ERROR, so the
/// summary always has the same rows.
fn failed_targets(section: Section) -> Vec<Target> {
    match section {
        Section::Verbs => vec![
            Target::errored("plan: provider / floor", 1.05, "×"),
            Target::errored("apply: provider / floor", 1.05, "×"),
            Target::errored("destroy: provider / floor", 1.05, "×"),
            Target::errored("plan: provider / floor, CPU", 1.05, "×"),
            Target::errored("apply: provider / floor, CPU", 1.05, "×"),
            Target::errored("destroy: provider / floor, CPU", 1.05, "×"),
            Target::errored("plan: provider / terraform_data", 1.7, "×"),
            Target::errored("apply: provider / terraform_data", 1.5, "×"),
            Target::errored("destroy: provider / terraform_data", 1.5, "×"),
        ],
        Section::Latency => vec![Target::errored(
            "apply at 50 ms latency: time / ideal",
            1.5,
            "×",
        )],
        Section::Scaling => sections::scaling::failed_targets(),
        Section::Process => vec![
            Target::errored("provider start-up: exec to handshake (median)", 10.0, "ms"),
            Target::errored("provider peak RSS", 20.0, "MB"),
            Target::errored("provider binary size, stripped", 15.0, "MB"),
        ],
        // Reports figures, sets no target.
        Section::Profile | Section::Variants | Section::Instructions => Vec::new(),
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
