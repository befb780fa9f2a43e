//! Terraform runs: one working directory per measured configuration, the
//! provider wired in through `dev_overrides` (no `terraform init`, which
//! would ask the registry), everything inside the scratch directory.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::emulator::Token;
use crate::error::{BenchError, IoContext, Result};
use crate::process::{self, Finished};

/// The same for both series, and Terraform's default.
pub const PARALLELISM: usize = 10;
pub const PROVIDER_SOURCE: &str = "parallel-web/parallel";
pub const PROVIDER_FILE_NAME: &str = "terraform-provider-parallel";
const PLAN_FILE: &str = "bench.tfplan";
const TAIL_LINES: usize = 25;
/// What the floor provider changes in its declarations (bench/floor).
pub const FLOOR_VARIANT_ENV: &str = "PARALLEL_BENCH_FLOOR";
/// tfplugin's opt-in per-RPC profile.
pub const PROFILE_ENV: &str = "TFPLUGIN_RPC_PROFILE";

/// What is being measured: the provider; the floor for its schema (the
/// bench-only provider in `bench/floor`, same schema, no API); or
/// Terraform's built-in resource doing nothing, the floor Terraform itself
/// sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Series {
    #[serde(rename = "parallel_api_key")]
    Provider,
    #[serde(rename = "floor")]
    Floor,
    #[serde(rename = "terraform_data")]
    Data,
}

impl Series {
    pub fn name(self) -> &'static str {
        match self {
            Series::Provider => "parallel_api_key",
            Series::Floor => "floor",
            Series::Data => "terraform_data",
        }
    }

    /// The three series, rotated by `run` so each takes each place in turn.
    pub fn rotated(run: usize) -> [Series; 3] {
        let mut all = [Series::Provider, Series::Floor, Series::Data];
        all.rotate_left(run % 3);
        all
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Apply,
    /// With refresh, which is Terraform's default.
    Plan,
    Destroy,
    /// `plan -out`, the first half of a split apply.
    PlanToFile,
    /// `apply <planfile>`, the second half.
    ApplyPlanFile,
    /// `plan -refresh-only`: reads every resource, proposes no change.
    RefreshOnly,
}

impl Verb {
    pub fn name(self) -> &'static str {
        match self {
            Verb::Apply => "apply",
            Verb::Plan => "plan",
            Verb::Destroy => "destroy",
            Verb::PlanToFile => "plan -out",
            Verb::ApplyPlanFile => "apply planfile",
            Verb::RefreshOnly => "plan -refresh-only",
        }
    }

    fn args(self) -> Vec<String> {
        let common = ["-input=false", "-no-color"].map(String::from);
        let parallelism = format!("-parallelism={PARALLELISM}");
        let mut args: Vec<String> = match self {
            Verb::Apply => vec!["apply".into(), "-auto-approve".into()],
            // Exit code 2 means "changes": a provider whose plan is not
            // empty right after apply has a bug worth reporting.
            Verb::Plan => vec!["plan".into(), "-detailed-exitcode".into()],
            Verb::Destroy => vec!["destroy".into(), "-auto-approve".into()],
            Verb::PlanToFile => vec!["plan".into(), format!("-out={PLAN_FILE}")],
            Verb::ApplyPlanFile => vec!["apply".into()],
            // Exit code 2 would mean the refresh found drift.
            Verb::RefreshOnly => vec![
                "plan".into(),
                "-refresh-only".into(),
                "-detailed-exitcode".into(),
            ],
        };
        args.extend(common);
        args.push(parallelism);
        if self == Verb::ApplyPlanFile {
            args.push(PLAN_FILE.into());
        }
        args
    }
}

/// How the provider binary is launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    Direct,
    /// Through the peak-RSS wrapper (see `rss.rs`).
    MeasuringRss,
    /// Under `valgrind --tool=callgrind`, which counts every instruction
    /// the process runs into one file per process in `Harness::callgrind_dir`.
    CountingInstructions,
}

/// A working directory with one configuration of `n` resources.
#[derive(Debug)]
pub struct Workdir {
    pub path: PathBuf,
    pub series: Series,
    pub n: usize,
    /// Set for every command run here (for the floor's variants).
    pub env: Vec<(String, String)>,
}

/// A finished Terraform command.
#[derive(Debug, Clone, Copy)]
pub struct TfRun {
    pub finished: Finished,
    /// Only for `plan` and `plan -refresh-only`: whether it proposed
    /// changes (exit code 2).
    pub had_changes: bool,
}

impl TfRun {
    pub fn seconds(&self) -> f64 {
        self.finished.elapsed.as_secs_f64()
    }
}

pub struct Harness {
    terraform: PathBuf,
    scratch: PathBuf,
    cli_config: PathBuf,
    rss_cli_config: PathBuf,
    floor_cli_config: PathBuf,
    floor_rss_cli_config: PathBuf,
    /// The provider's and the floor's callgrind configurations; None when
    /// valgrind is not on PATH.
    callgrind_cli_configs: Option<(PathBuf, PathBuf)>,
    api_url: String,
    token: Token,
    command_timeout: Duration,
    deadline: Instant,
    next_dir: usize,
}

pub struct HarnessSetup<'a> {
    pub terraform: &'a Path,
    pub scratch: &'a Path,
    pub provider_binary: &'a Path,
    /// The floor provider (`terraform-provider-parallel-floor`).
    pub floor_binary: &'a Path,
    /// This very program, which doubles as the RSS wrapper.
    pub bench_binary: &'a Path,
    pub api_url: &'a str,
    pub token: &'a Token,
    pub command_timeout: Duration,
    pub deadline: Instant,
}

impl Harness {
    pub fn new(setup: HarnessSetup<'_>) -> Result<Harness> {
        let scratch = setup.scratch;
        let direct_dir = make_dir(&scratch.join("provider"))?;
        let copy = direct_dir.join(PROVIDER_FILE_NAME);
        fs::copy(setup.provider_binary, &copy)
            .context(|| format!("copying the provider to {}", copy.display()))?;

        let rss_dir = make_dir(&scratch.join("provider-rss"))?;
        make_dir(&scratch.join("rss"))?;
        write_rss_wrapper(
            &rss_dir.join(PROVIDER_FILE_NAME),
            setup.bench_binary,
            &scratch.join("rss"),
            &copy,
        )?;

        // The floor takes the provider's file name in a directory of its own.
        let floor_dir = make_dir(&scratch.join("floor"))?;
        let floor_copy = floor_dir.join(PROVIDER_FILE_NAME);
        fs::copy(setup.floor_binary, &floor_copy)
            .context(|| format!("copying the floor provider to {}", floor_copy.display()))?;
        let floor_cli_config = scratch.join("floor.tfrc");
        write_file(&floor_cli_config, &cli_config_text(&floor_dir))?;
        let floor_rss_dir = make_dir(&scratch.join("floor-rss"))?;
        write_rss_wrapper(
            &floor_rss_dir.join(PROVIDER_FILE_NAME),
            setup.bench_binary,
            &scratch.join("rss"),
            &floor_copy,
        )?;
        let floor_rss_cli_config = scratch.join("floor-rss.tfrc");
        write_file(&floor_rss_cli_config, &cli_config_text(&floor_rss_dir))?;

        let cli_config = scratch.join("direct.tfrc");
        write_file(&cli_config, &cli_config_text(&direct_dir))?;
        let rss_cli_config = scratch.join("rss.tfrc");
        write_file(&rss_cli_config, &cli_config_text(&rss_dir))?;
        let callgrind_cli_configs = match find_on_path("valgrind") {
            Some(valgrind) => {
                let out_dir = make_dir(&scratch.join("callgrind"))?;
                let mut configs = Vec::new();
                for (name, binary) in [("provider", &copy), ("floor", &floor_copy)] {
                    let dir = make_dir(&scratch.join(format!("{name}-callgrind")))?;
                    write_callgrind_wrapper(
                        &dir.join(PROVIDER_FILE_NAME),
                        &valgrind,
                        &out_dir,
                        binary,
                    )?;
                    let config = scratch.join(format!("{name}-callgrind.tfrc"));
                    write_file(&config, &cli_config_text(&dir))?;
                    configs.push(config);
                }
                let floor = configs.pop();
                configs.pop().zip(floor)
            }
            None => None,
        };
        make_dir(&scratch.join("tmp"))?;
        make_dir(&scratch.join("runs"))?;
        Ok(Harness {
            terraform: setup.terraform.to_owned(),
            scratch: scratch.to_owned(),
            cli_config,
            rss_cli_config,
            floor_cli_config,
            floor_rss_cli_config,
            callgrind_cli_configs,
            api_url: setup.api_url.to_owned(),
            token: setup.token.clone(),
            command_timeout: setup.command_timeout,
            deadline: setup.deadline,
            next_dir: 0,
        })
    }

    /// Points later runs at another emulator (after a restart).
    pub fn set_api(&mut self, api_url: &str, token: &Token) {
        self.api_url = api_url.to_owned();
        self.token = token.clone();
    }

    /// Where the RSS wrapper leaves one `<pid>.kib` file per provider process.
    pub fn rss_dir(&self) -> PathBuf {
        self.scratch.join("rss")
    }

    /// Where callgrind leaves one `callgrind.<pid>` file per provider
    /// process run with `Launch::CountingInstructions`.
    pub fn callgrind_dir(&self) -> PathBuf {
        self.scratch.join("callgrind")
    }

    /// The provider's and the floor's callgrind configurations, or an
    /// error naming valgrind, which was not on PATH when the harness was
    /// made.
    pub fn require_valgrind(&self) -> Result<&(PathBuf, PathBuf)> {
        self.callgrind_cli_configs
            .as_ref()
            .ok_or_else(|| BenchError::Missing {
                what: "valgrind, which counts instructions (apt-get install valgrind)",
                path: PathBuf::from("valgrind (PATH)"),
            })
    }

    pub fn workdir(
        &mut self,
        series: Series,
        n: usize,
        app_id: &str,
        label: &str,
    ) -> Result<Workdir> {
        self.workdir_with(series, n, label, &configuration(series, n, app_id))
    }

    /// A working directory with a configuration of our own making, of `n`
    /// resources run as `series`.
    pub fn workdir_with(
        &mut self,
        series: Series,
        n: usize,
        label: &str,
        main_tf: &str,
    ) -> Result<Workdir> {
        self.next_dir += 1;
        let path = self.scratch.join("runs").join(format!(
            "{:04}-{label}-{}-{n}",
            self.next_dir,
            series.name()
        ));
        make_dir(&path)?;
        write_file(&path.join("main.tf"), main_tf)?;
        Ok(Workdir {
            path,
            series,
            n,
            env: Vec::new(),
        })
    }

    pub fn run(&self, dir: &Workdir, verb: Verb, launch: Launch) -> Result<TfRun> {
        self.run_with(dir, verb, launch, None)
    }

    /// `run`, with the provider writing its per-RPC profile to `profile`
    /// (see tfplugin's `profile.rs`).
    pub fn run_with(
        &self,
        dir: &Workdir,
        verb: Verb,
        launch: Launch,
        profile: Option<&Path>,
    ) -> Result<TfRun> {
        let step = verb.name().replace(' ', "-");
        let label = format!("terraform {} ({} x{})", verb.name(), dir.series, dir.n);
        let stdout_path = dir.path.join(format!("{step}.out"));
        let stderr_path = dir.path.join(format!("{step}.err"));
        let create =
            |path: &Path| fs::File::create(path).context(|| format!("creating {}", path.display()));
        let mut command = Command::new(&self.terraform);
        command
            .arg(format!("-chdir={}", dir.path.display()))
            .args(verb.args())
            .stdin(Stdio::null())
            .stdout(create(&stdout_path)?)
            .stderr(create(&stderr_path)?);
        self.set_environment(&mut command, dir.series, launch)?;
        if let Some(profile) = profile {
            command.env(PROFILE_ENV, profile);
        }
        command.envs(dir.env.iter().map(|(k, v)| (k, v)));

        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(BenchError::OutOfTime);
        }
        let finished = process::run_bounded(&label, &mut command, self.command_timeout.min(left))?;
        let code = finished.status.code();
        let had_changes = matches!(verb, Verb::Plan | Verb::RefreshOnly) && code == Some(2);
        if finished.status.success() || had_changes {
            Ok(TfRun {
                finished,
                had_changes,
            })
        } else {
            Err(BenchError::CommandFailed {
                label,
                status: finished.status.to_string(),
                tail: tail_of(&[&stdout_path, &stderr_path]),
            })
        }
    }

    /// A clean, explicit environment: nothing from the caller's shell (a
    /// TF_LOG, a plugin cache, CLI args) may change what is measured.
    fn set_environment(&self, command: &mut Command, series: Series, launch: Launch) -> Result<()> {
        let cli_config = match (series, launch) {
            (Series::Floor, Launch::Direct) => &self.floor_cli_config,
            (Series::Floor, Launch::MeasuringRss) => &self.floor_rss_cli_config,
            (_, Launch::Direct) => &self.cli_config,
            (_, Launch::MeasuringRss) => &self.rss_cli_config,
            (series, Launch::CountingInstructions) => {
                let (provider, floor) = self.require_valgrind()?;
                if series == Series::Floor {
                    floor
                } else {
                    provider
                }
            }
        };
        command.env_clear();
        for inherited in ["PATH", "HOME", "LANG", "LC_ALL"] {
            if let Some(value) = std::env::var_os(inherited) {
                command.env(inherited, value);
            }
        }
        command
            .env("TF_CLI_CONFIG_FILE", cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            // Plugin sockets and temp files land in the scratch directory,
            // so a killed run leaves nothing behind.
            .env("TMPDIR", self.scratch.join("tmp"))
            .env("PARALLEL_SERVICE_API_URL", &self.api_url)
            .env("PARALLEL_ACCESS_TOKEN", self.token.expose());
        Ok(())
    }

    pub fn version(&self) -> Result<String> {
        let output = Command::new(&self.terraform)
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null())
            .output()
            .context(|| format!("running {} version", self.terraform.display()))?;
        let text = String::from_utf8_lossy(&output.stdout);
        Ok(text.lines().next().unwrap_or("unknown").trim().to_owned())
    }
}

/// The configuration measured. Both series get the same count, the same
/// values and the same shape of expressions.
pub fn configuration(series: Series, n: usize, app_id: &str) -> String {
    let app_id = hcl_string(app_id);
    match series {
        Series::Provider | Series::Floor => format!(
            "terraform {{\n  required_providers {{\n    parallel = {{\n      source = \"{PROVIDER_SOURCE}\"\n    }}\n  }}\n}}\n\n\
             provider \"parallel\" {{}}\n\n\
             resource \"parallel_api_key\" \"bench\" {{\n  count        = {n}\n  app_id       = \"{app_id}\"\n  \
             api_key_name = \"bench-${{count.index}}\"\n}}\n"
        ),
        Series::Data => format!(
            "resource \"terraform_data\" \"bench\" {{\n  count = {n}\n  input = {{\n    app_id       = \"{app_id}\"\n    \
             api_key_name = \"bench-${{count.index}}\"\n  }}\n}}\n"
        ),
    }
}

fn cli_config_text(provider_dir: &Path) -> String {
    let dir = hcl_string(&provider_dir.display().to_string());
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{dir}\"\n  }}\n  direct {{}}\n}}\n"
    )
}

/// Escapes text for the inside of an HCL quoted string.
fn hcl_string(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// Quotes a word for sh.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The provider as Terraform sees it in the RSS configuration: a script
/// that execs this program's wrapper, which runs the real provider and
/// records its peak RSS when it exits.
fn write_rss_wrapper(path: &Path, bench: &Path, out_dir: &Path, provider: &Path) -> Result<()> {
    write_exec_script(
        path,
        &[
            bench.display().to_string(),
            "rss-wrap".to_owned(),
            out_dir.display().to_string(),
            provider.display().to_string(),
        ],
    )
}

/// The provider as Terraform sees it in the callgrind configuration: a
/// script that runs the real provider under callgrind. `%p` is the
/// process id, so each of Terraform's provider processes gets its own file;
/// the process's threads are counted together.
fn write_callgrind_wrapper(
    path: &Path,
    valgrind: &Path,
    out_dir: &Path,
    provider: &Path,
) -> Result<()> {
    let out_file = out_dir.join("callgrind.%p");
    write_exec_script(
        path,
        &[
            valgrind.display().to_string(),
            "--tool=callgrind".to_owned(),
            format!("--callgrind-out-file={}", out_file.display()),
            "-q".to_owned(),
            provider.display().to_string(),
        ],
    )
}

/// An executable sh script that execs `command`, passing on its arguments
/// (Terraform gives the provider none, but a wrapper must not drop them).
fn write_exec_script(path: &Path, command: &[String]) -> Result<()> {
    let words: Vec<String> = command.iter().map(|word| sh_quote(word)).collect();
    write_executable(
        path,
        &format!("#!/bin/sh\nexec {} \"$@\"\n", words.join(" ")),
    )
}

fn write_executable(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_file(path, text)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .context(|| format!("making {} executable", path.display()))
}

/// The first `name` in PATH's directories.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn make_dir(path: &Path) -> Result<PathBuf> {
    fs::create_dir_all(path).context(|| format!("creating {}", path.display()))?;
    Ok(path.to_owned())
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).context(|| format!("writing {}", path.display()))
}

/// The last lines of a failed run's output, for the error message.
/// Terraform never prints the token (it is only in the environment) and
/// shows raw_api_key as "(sensitive value)".
fn tail_of(paths: &[&Path]) -> String {
    let mut lines = Vec::new();
    for path in paths {
        if let Ok(text) = fs::read_to_string(path) {
            lines.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned),
            );
        }
    }
    let skip = lines.len().saturating_sub(TAIL_LINES);
    lines[skip..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_have_the_same_count_and_values() {
        let provider = configuration(Series::Provider, 200, "app");
        let data = configuration(Series::Data, 200, "app");
        for text in [&provider, &data] {
            assert!(text.contains("count") && text.contains("= 200"));
            assert!(text.contains("\"bench-${count.index}\""));
            assert!(text.contains("\"app\""));
        }
        assert!(provider.contains("source = \"parallel-web/parallel\""));
        assert!(!data.contains("required_providers"));
    }

    #[test]
    fn hcl_and_shell_quoting() {
        assert_eq!(hcl_string(r#"a"b\c${d}"#), r#"a\"b\\c$${d}"#);
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn wrapper_scripts_exec_the_quoted_command() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wrapper");
        write_callgrind_wrapper(
            &path,
            Path::new("/usr/bin/valgrind"),
            Path::new("/tmp/it's"),
            Path::new("/p/provider"),
        )
        .unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "#!/bin/sh\nexec '/usr/bin/valgrind' '--tool=callgrind' \
             '--callgrind-out-file=/tmp/it'\\''s/callgrind.%p' '-q' '/p/provider' \"$@\"\n"
        );
    }

    #[test]
    fn verbs_use_the_same_parallelism() {
        for verb in [
            Verb::Apply,
            Verb::Plan,
            Verb::Destroy,
            Verb::PlanToFile,
            Verb::ApplyPlanFile,
            Verb::RefreshOnly,
        ] {
            assert!(
                verb.args().contains(&"-parallelism=10".to_owned()),
                "{verb:?}"
            );
        }
        assert_eq!(
            Verb::ApplyPlanFile.args().last().map(String::as_str),
            Some(PLAN_FILE)
        );
    }

    #[test]
    fn series_order_rotates() {
        let orders: Vec<[Series; 3]> = (0..3).map(Series::rotated).collect();
        for place in 0..3 {
            let mut seen: Vec<Series> = orders.iter().map(|o| o[place]).collect();
            seen.dedup();
            assert_eq!(seen.len(), 3, "each series takes place {place} once");
        }
        assert_eq!(Series::rotated(3), Series::rotated(0));
    }

    #[test]
    fn the_floor_runs_the_providers_configuration() {
        assert_eq!(
            configuration(Series::Floor, 5, "app"),
            configuration(Series::Provider, 5, "app")
        );
    }

    #[test]
    fn cli_config_points_dev_overrides_at_the_directory() {
        let text = cli_config_text(Path::new("/tmp/x/provider"));
        assert!(text.contains("\"parallel-web/parallel\" = \"/tmp/x/provider\""));
    }
}
