//! Command line and environment.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{BenchError, Result};

pub const USAGE: &str = "\
usage: parallel-bench [--runs N] [--quick] [--only SECTIONS] [--bin-dir DIR] [--out-dir DIR]
                      [--terraform PATH]... [--scaling-ns LIST] [--timeout SECS]
                      [--max-minutes M] [--font PATH] [--floor-binary PATH]

  --runs N         runs per figure, each figure is their median (default 5; 1 with --quick)
  --quick          smoke run: small N, one run
  --only LIST      comma-separated subset of: verbs,latency,scaling,process,profile,
                   variants,instructions (instructions needs valgrind)
  --bin-dir DIR    where the release binaries are (default: next to this program)
  --out-dir DIR    where results.json, scaling.png and memory.png go
                   (default: <bin-dir>/../bench)
  --terraform PATH terraform binary (default: PATH, then /usr/local/bin/terraform);
                   give it more than once to run every section on each, in one report
  --scaling-ns LIST comma-separated resource counts of the scaling section
                   (default 10,100,1000,3000; 10,50,100 with --quick)
  --timeout SECS   limit per terraform command (default 600)
  --max-minutes M  limit for the whole benchmark (default 90)
  --font PATH      TrueType font for the plot's text
                   (default /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf)
  --floor-binary PATH
                   measure this provider binary in the floor's place, e.g. an
                   earlier build of terraform-provider-parallel: every
                   floor figure and provider / floor ratio is then
                   this build against that one, measured side by side
                   (verbs section only: give it with --only verbs)

Environment (flags win): BENCH_RUNS, BENCH_QUICK=1, BENCH_ONLY, BENCH_BIN_DIR,
BENCH_OUT_DIR, TERRAFORM (one path), BENCH_SCALING_NS, BENCH_TIMEOUT_SECS,
BENCH_MAX_MINUTES, BENCH_FONT, BENCH_FLOOR_BINARY.";

const DEFAULT_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Verbs,
    Latency,
    Scaling,
    Process,
    Profile,
    Variants,
    Instructions,
}

impl Section {
    pub const ALL: [Section; 7] = [
        Section::Verbs,
        Section::Latency,
        Section::Scaling,
        Section::Process,
        Section::Profile,
        Section::Variants,
        Section::Instructions,
    ];

    fn parse(name: &str) -> Option<Section> {
        match name.trim() {
            "verbs" => Some(Section::Verbs),
            "latency" => Some(Section::Latency),
            "scaling" => Some(Section::Scaling),
            "process" => Some(Section::Process),
            "profile" => Some(Section::Profile),
            "variants" => Some(Section::Variants),
            "instructions" => Some(Section::Instructions),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub runs: usize,
    pub quick: bool,
    pub sections: Vec<Section>,
    /// None: next to this program.
    pub bin_dir: Option<PathBuf>,
    /// None: `<bin-dir>/../bench`.
    pub out_dir_flag: Option<PathBuf>,
    /// Resolved by `main` from the flag and the binary directory.
    pub out_dir: PathBuf,
    /// Every terraform to measure, in order; empty: the one on PATH.
    pub terraform: Vec<PathBuf>,
    pub command_timeout: Duration,
    pub max_duration: Duration,
    pub font: Option<PathBuf>,
    /// Measured in the floor's place (a before/after run); None: the
    /// bench-only floor provider.
    pub floor_binary: Option<PathBuf>,
    pub verbs_n: usize,
    pub latency_n: usize,
    pub scaling_ns: Vec<usize>,
    /// Apps refreshed in the scaling section's refresh measurement.
    pub refresh_apps: usize,
    pub rss_n: usize,
    pub handshake_count: usize,
}

/// `Ok(None)` means --help.
pub fn parse(args: Vec<String>, env: impl Fn(&str) -> Option<String>) -> Result<Option<Options>> {
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "--quick" => flags.push((name, None)),
            "--runs" | "--only" | "--bin-dir" | "--out-dir" | "--terraform" | "--timeout"
            | "--max-minutes" | "--font" | "--scaling-ns" | "--floor-binary" => {
                let value = inline
                    .or_else(|| args.next())
                    .ok_or_else(|| BenchError::Usage(format!("{name} needs a value")))?;
                flags.push((name, Some(value)));
            }
            _ => return Err(BenchError::Usage(format!("unknown argument {arg:?}"))),
        }
    }
    let flag = |name: &str| {
        flags
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    };
    let setting = |name: &str, var: &str| flag(name).or_else(|| env(var).filter(|v| !v.is_empty()));

    let quick = flags.iter().any(|(n, _)| n == "--quick")
        || env("BENCH_QUICK").is_some_and(|v| !v.is_empty() && v != "0");
    let runs = match setting("--runs", "BENCH_RUNS") {
        Some(text) => positive(&text, "--runs")?,
        None if quick => 1,
        None => 5,
    };
    let sections = match setting("--only", "BENCH_ONLY") {
        None => Section::ALL.to_vec(),
        Some(list) => list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                Section::parse(s).ok_or_else(|| BenchError::Usage(format!("unknown section {s:?}")))
            })
            .collect::<Result<Vec<_>>>()?,
    };
    let command_timeout = match setting("--timeout", "BENCH_TIMEOUT_SECS") {
        Some(text) => Duration::from_secs(positive(&text, "--timeout")? as u64),
        None => Duration::from_secs(600),
    };
    let max_duration = match setting("--max-minutes", "BENCH_MAX_MINUTES") {
        Some(text) => Duration::from_secs(positive(&text, "--max-minutes")? as u64 * 60),
        None => Duration::from_secs(90 * 60),
    };
    let font = Some(PathBuf::from(
        setting("--font", "BENCH_FONT").unwrap_or_else(|| DEFAULT_FONT.to_owned()),
    ));
    let (verbs_n, latency_n, mut scaling_ns, refresh_apps, rss_n, handshake_count) = if quick {
        (20, 50, vec![10, 50, 100], 50, 100, 5)
    } else {
        (200, 500, vec![10, 100, 1000, 3000], 500, 1000, 20)
    };
    if let Some(list) = setting("--scaling-ns", "BENCH_SCALING_NS") {
        scaling_ns = list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| positive(s, "--scaling-ns"))
            .collect::<Result<Vec<_>>>()?;
        scaling_ns.sort_unstable();
        scaling_ns.dedup();
        if scaling_ns.len() < 2 {
            return Err(BenchError::Usage(
                "--scaling-ns needs at least two different counts to fit a line".into(),
            ));
        }
    }
    // Every --terraform, in order; TERRAFORM only when there is none.
    let mut terraform: Vec<PathBuf> = flags
        .iter()
        .filter(|(n, _)| n == "--terraform")
        .filter_map(|(_, v)| v.clone().map(PathBuf::from))
        .collect();
    if terraform.is_empty() {
        terraform.extend(
            env("TERRAFORM")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        );
    }
    let floor_binary = setting("--floor-binary", "BENCH_FLOOR_BINARY").map(PathBuf::from);
    // Only the verbs section compares like with like when the floor is a
    // real provider: scaling counts one series' keys, variants and the
    // profile change the bench floor itself.
    if floor_binary.is_some() && sections != [Section::Verbs] {
        return Err(BenchError::Usage(
            "--floor-binary measures the verbs section only: add --only verbs".into(),
        ));
    }
    Ok(Some(Options {
        runs,
        quick,
        sections,
        bin_dir: setting("--bin-dir", "BENCH_BIN_DIR").map(PathBuf::from),
        out_dir_flag: setting("--out-dir", "BENCH_OUT_DIR").map(PathBuf::from),
        out_dir: PathBuf::new(),
        terraform,
        command_timeout,
        max_duration,
        font,
        floor_binary,
        verbs_n,
        latency_n,
        scaling_ns,
        refresh_apps,
        rss_n,
        handshake_count,
    }))
}

fn positive(text: &str, flag: &str) -> Result<usize> {
    match text.trim().parse::<usize>() {
        Ok(n) if n > 0 && n <= 1_000_000 => Ok(n),
        _ => Err(BenchError::Usage(format!(
            "{flag} needs a positive whole number, got {text:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_with(args: &[&str], env: &[(&str, &str)]) -> Result<Option<Options>> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse(args.iter().map(|a| a.to_string()).collect(), move |key| {
            env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn defaults_are_the_full_benchmark() {
        let options = parse_with(&[], &[]).expect("parses").expect("not help");
        assert_eq!(options.runs, 5);
        assert!(!options.quick);
        assert_eq!(options.sections, Section::ALL.to_vec());
        assert_eq!(
            (options.verbs_n, options.latency_n, options.rss_n),
            (200, 500, 1000)
        );
        assert_eq!(options.scaling_ns, vec![10, 100, 1000, 3000]);
        assert_eq!(options.refresh_apps, 500);
        assert_eq!(options.handshake_count, 20);
        assert!(options.terraform.is_empty());
    }

    #[test]
    fn terraform_can_be_given_more_than_once() {
        let options = parse_with(
            &["--terraform", "/a/terraform", "--terraform=/b/terraform"],
            &[("TERRAFORM", "/c/terraform")],
        )
        .expect("parses")
        .expect("not help");
        assert_eq!(
            options.terraform,
            vec![PathBuf::from("/a/terraform"), PathBuf::from("/b/terraform")]
        );
        let from_env = parse_with(&[], &[("TERRAFORM", "/c/terraform")])
            .expect("parses")
            .expect("not help");
        assert_eq!(from_env.terraform, vec![PathBuf::from("/c/terraform")]);
    }

    #[test]
    fn another_build_can_stand_in_for_the_floor() {
        let old = "/old/terraform-provider-parallel";
        let options = parse_with(&["--only", "verbs", "--floor-binary", old], &[])
            .expect("parses")
            .expect("not help");
        assert_eq!(
            options.floor_binary,
            Some(PathBuf::from("/old/terraform-provider-parallel"))
        );
        let default = parse_with(&[], &[]).expect("parses").expect("not help");
        assert_eq!(default.floor_binary, None);
        assert!(
            parse_with(&["--floor-binary", old], &[]).is_err(),
            "the other sections cannot take a real provider as their floor"
        );
    }

    #[test]
    fn scaling_counts_can_be_chosen() {
        let options = parse_with(&["--scaling-ns", "100,10,100,30"], &[])
            .expect("parses")
            .expect("not help");
        assert_eq!(options.scaling_ns, vec![10, 30, 100]);
        assert!(parse_with(&["--scaling-ns", "10"], &[]).is_err());
        assert!(parse_with(&["--scaling-ns", "10,x"], &[]).is_err());
    }

    #[test]
    fn quick_mode_and_flags_over_environment() {
        let options = parse_with(
            &["--quick", "--runs=2", "--only", "verbs,process"],
            &[("BENCH_RUNS", "9")],
        )
        .expect("parses")
        .expect("not help");
        assert!(options.quick);
        assert_eq!(options.runs, 2);
        assert_eq!(options.sections, vec![Section::Verbs, Section::Process]);
        let from_env = parse_with(&[], &[("BENCH_QUICK", "1"), ("BENCH_RUNS", "3")])
            .expect("parses")
            .expect("not help");
        assert!(from_env.quick);
        assert_eq!(from_env.runs, 3);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(parse_with(&["--runs", "0"], &[]).is_err());
        assert!(parse_with(&["--runs"], &[]).is_err());
        assert!(parse_with(&["--only", "nope"], &[]).is_err());
        assert!(parse_with(&["--frobnicate"], &[]).is_err());
        assert!(parse_with(&["--help"], &[]).expect("help").is_none());
    }
}
