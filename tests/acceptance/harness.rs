//! The acceptance harness: every scenario gets its own directory, its own
//! emulator and its own Terraform CLI configuration, and drives the real
//! `terraform` binary, which launches the provider binary cargo built.
//! Which terraform: $PARALLEL_TEST_TERRAFORM, else the one on PATH; tests of
//! a newer Terraform's features skip on older ones (`require_terraform`).
//!
//! Checks made on every scenario, so that no test can forget them: after
//! each successful apply the plan is empty (with and without refresh), the
//! access token, every raw key the emulator issued and every token of a
//! saved login never appear in terraform's human output nor in a TF_LOG
//! file, and `finish` destroys and then requires that the emulator has no
//! live key left.

use parallel_emulator::{App, Emulator, KeyRecord, RequestRecord};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use tempfile::TempDir;

pub const PROVIDER_BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-parallel");
pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const PROVIDER_SOURCE: &str = "parallel-web/parallel";

/// The `terraform { required_providers … }` block every configuration needs.
pub const REQUIRED_PROVIDERS: &str = r#"
terraform {
  required_providers {
    parallel = {
      source = "parallel-web/parallel"
    }
  }
}
"#;

/// The Terraform to test with, when not the one on PATH: an absolute path,
/// or one relative to the repository root (where cargo runs the tests).
pub const TERRAFORM_ENV: &str = "PARALLEL_TEST_TERRAFORM";

/// A file to which [`require_terraform`] appends each skip line, so that CI
/// can list the skipped tests after the run.
pub const SKIP_LOG_ENV: &str = "PARALLEL_TEST_SKIP_LOG";

const INSTALL_HELP: &str = "the acceptance tests drive the real `terraform` binary, which was \
     found neither on PATH nor at /usr/local/bin/terraform. Install Terraform (1.4 or \
     later; CI uses 1.11.4 and 1.15.5): download the archive for your platform from \
     https://releases.hashicorp.com/terraform/, unzip it and put `terraform` on PATH \
     (or use HashiCorp's apt repository: `apt-get install terraform`), or set \
     PARALLEL_TEST_TERRAFORM to a terraform binary, such as the one \
     `bash scripts/install-terraform.sh` installs and prints.";

/// Where `terraform` is: $PARALLEL_TEST_TERRAFORM when set, else the first
/// one on PATH, else /usr/local/bin.
pub fn terraform_binary() -> &'static Path {
    static FOUND: OnceLock<PathBuf> = OnceLock::new();
    FOUND.get_or_init(|| {
        if let Some(chosen) = std::env::var_os(TERRAFORM_ENV).filter(|value| !value.is_empty()) {
            // Absolute: every scenario runs terraform in its own directory.
            let chosen = std::path::absolute(&chosen).unwrap_or_else(|_| PathBuf::from(&chosen));
            assert!(
                is_executable(&chosen),
                "{TERRAFORM_ENV}={} is not an executable file",
                chosen.display()
            );
            return chosen;
        }
        let on_path = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|dir| dir.join("terraform"))
            .find(|candidate| is_executable(candidate));
        let fallback = PathBuf::from("/usr/local/bin/terraform");
        match on_path {
            Some(found) => found,
            None if is_executable(&fallback) => fallback,
            None => panic!("{INSTALL_HELP}"),
        }
    })
}

/// A Terraform version: `major.minor.patch` and what follows (`-beta1`),
/// ordered by the numbers alone.
#[derive(Debug, Clone)]
pub struct TerraformVersion {
    /// As Terraform reports it, e.g. `1.15.5`.
    pub text: String,
    numbers: [u64; 3],
}

impl TerraformVersion {
    /// `1.12`, `1.15.5` or `1.15.0-rc1`; missing parts count as 0.
    pub fn parse(text: &str) -> Option<TerraformVersion> {
        let release = text.split(['-', '+']).next()?;
        let mut numbers = [0; 3];
        let mut parts = release.split('.');
        for slot in &mut numbers {
            match parts.next() {
                Some(part) => *slot = part.parse().ok()?,
                None => break,
            }
        }
        if parts.next().is_some() {
            return None;
        }
        Some(TerraformVersion {
            text: text.to_owned(),
            numbers,
        })
    }

    pub fn at_least(&self, minimum: &TerraformVersion) -> bool {
        self.numbers >= minimum.numbers
    }
}

impl std::fmt::Display for TerraformVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The version of [`terraform_binary`], from `terraform version -json`,
/// asked once per test run.
pub fn terraform_version() -> &'static TerraformVersion {
    static VERSION: OnceLock<TerraformVersion> = OnceLock::new();
    VERSION.get_or_init(|| {
        let binary = terraform_binary();
        let output = Command::new(binary)
            .args(["version", "-json"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", binary.display()));
        let stdout = String::from_utf8_lossy(&output.stdout);
        serde_json::from_str::<Value>(&stdout)
            .ok()
            .and_then(|json| {
                json["terraform_version"]
                    .as_str()
                    .and_then(TerraformVersion::parse)
            })
            .unwrap_or_else(|| {
                panic!(
                    "`{} version -json` did not report a version (exit {:?})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
                    binary.display(),
                    output.status.code(),
                    String::from_utf8_lossy(&output.stderr)
                )
            })
    })
}

/// Whether the Terraform under test is `minimum` or newer, for a test of
/// `feature` that older ones lack. When it is older the test is skipped:
///
/// ```ignore
/// if !require_terraform("1.14", "terraform query") {
///     return;
/// }
/// ```
///
/// cargo's test runner has no "skipped" result, so such a test counts as
/// passed; to keep that visible, a line
/// `SKIPPED <test>: needs Terraform >= <minimum> for <feature> (running <version>)`
/// goes straight to the process's stderr, past the runner's output capture
/// (so it shows without `--nocapture`), and is appended to the file named by
/// $PARALLEL_TEST_SKIP_LOG when that is set (.ci/run lists and counts them).
#[track_caller]
pub fn require_terraform(minimum: &str, feature: &str) -> bool {
    let wanted = TerraformVersion::parse(minimum)
        .unwrap_or_else(|| panic!("require_terraform: {minimum:?} is not a version"));
    let running = terraform_version();
    if running.at_least(&wanted) {
        return true;
    }
    // The test runner names each test's thread after the test.
    let test = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .map_or_else(|| std::panic::Location::caller().to_string(), str::to_owned);
    report_skip(&format!(
        "SKIPPED {test}: needs Terraform >= {minimum} for {feature} (running {running})"
    ));
    false
}

/// Prints (and logs, as [`require_terraform`] does) that a test skipped.
pub fn report_skip(line: &str) {
    use std::io::Write;
    // io::stderr(), unlike eprintln!, is not captured by the test runner.
    // Failing to report is not worth failing the test over.
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Some(log) = std::env::var_os(SKIP_LOG_ENV).filter(|value| !value.is_empty()) {
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            // One write per line: tests run on parallel threads.
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
        if let Err(err) = appended {
            let _ = writeln!(
                std::io::stderr(),
                "cannot append to {SKIP_LOG_ENV}={}: {err}",
                Path::new(&log).display()
            );
        }
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// `GOOS_GOARCH` of this machine, as Terraform names platforms.
pub fn terraform_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

/// How Terraform finds the provider.
enum Installation {
    /// `dev_overrides`: no `terraform init`, like a provider developer.
    DevOverride,
    /// An unpacked `filesystem_mirror` and `terraform init`, like a user.
    FilesystemMirror,
    /// A `filesystem_mirror` the test laid out (packed: the release zips).
    Mirror(PathBuf),
}

/// Which access token terraform's environment carries.
#[derive(Clone)]
enum Token {
    Emulator,
    Missing,
    Other(String),
}

/// One finished terraform command.
#[derive(Debug)]
pub struct Output {
    pub command: String,
    /// `None` when terraform was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// stdout and stderr with Terraform's line wrapping and box drawing
    /// undone, so a sentence can be searched whatever the terminal width.
    pub fn flat(&self) -> String {
        flatten(&format!("{}\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) {
        assert!(
            self.flat().contains(&flatten(needle)),
            "expected the output of `{}` to contain {needle:?}\n{}",
            self.command,
            self.report()
        );
    }

    #[track_caller]
    pub fn assert_not_contains(&self, needle: &str) {
        assert!(
            !self.flat().contains(&flatten(needle)),
            "expected the output of `{}` NOT to contain {needle:?}\n{}",
            self.command,
            self.report()
        );
    }

    /// The whole output, for failure messages.
    pub fn report(&self) -> String {
        format!(
            "--- terraform {} (exit {}) ---\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- end ---",
            self.command,
            self.code
                .map_or_else(|| "by signal".to_owned(), |c| c.to_string()),
            self.stdout,
            self.stderr
        )
    }
}

/// A terraform command still running (see [`Scenario::spawn_terraform`]).
pub struct Running {
    child: std::process::Child,
    args: Vec<String>,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGINT, as a Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("a child PID");
        rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT terraform");
    }
}

/// A test that fails before [`Scenario::kill`] leaves no terraform behind.
/// (After a kill this finds the child already reaped and does nothing.)
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collapses whitespace and drops the diagnostic frame characters.
pub fn flatten(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || matches!(c, '│' | '╷' | '╵' | '─') {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// One acceptance scenario: a directory, an emulator with one app, and
/// terraform configured to use the provider under test against it.
pub struct Scenario {
    root: TempDir,
    pub emulator: Emulator,
    pub app: App,
    work_dir: PathBuf,
    cli_config: PathBuf,
    base_url: String,
    token: Token,
    log_file: Option<PathBuf>,
    /// TF_REATTACH_PROVIDERS: attach to a provider already running.
    reattach: Option<String>,
    /// More environment for terraform (and so the provider).
    extra_env: Vec<(String, String)>,
    /// Every raw key the emulator ever issued; none may leak.
    raw_keys_seen: RefCell<BTreeSet<String>>,
    /// See [`Scenario::tolerate_terraform_data_output_leak`].
    terraform_data_output_leak_tolerated: bool,
}

impl Scenario {
    /// A scenario using `dev_overrides` (no `terraform init`).
    pub fn new() -> Scenario {
        Scenario::create(Installation::DevOverride)
    }

    /// A scenario where the provider is installed from a filesystem mirror
    /// by `terraform init`, as users install it.
    pub fn with_filesystem_mirror() -> Scenario {
        Scenario::create(Installation::FilesystemMirror)
    }

    /// A scenario where `terraform init` installs the provider from this
    /// mirror directory, such as a packed one holding the release zips.
    pub fn with_mirror(mirror: &Path) -> Scenario {
        Scenario::create(Installation::Mirror(mirror.to_owned()))
    }

    fn create(installation: Installation) -> Scenario {
        // Resolve terraform first so a missing binary fails with the install
        // help, not with a confusing spawn error later.
        terraform_binary();
        let root = tempfile::Builder::new()
            .prefix("tf-acceptance-")
            .tempdir()
            .expect("create the scenario directory");
        let emulator = Emulator::start().expect("start the Account API emulator");
        let app = emulator.create_app("acceptance");
        let work_dir = root.path().join("work");
        let home = root.path().join("home");
        for dir in [&work_dir, &home] {
            std::fs::create_dir_all(dir).expect("create scenario directories");
        }
        let cli_config = root.path().join("terraform.tfrc");
        let installation_block = match installation {
            Installation::DevOverride => dev_override_block(root.path()),
            Installation::FilesystemMirror => {
                filesystem_mirror_block(&copy_into_mirror(root.path()))
            }
            Installation::Mirror(mirror) => filesystem_mirror_block(&mirror),
        };
        write_file(
            &cli_config,
            &format!("disable_checkpoint = true\n\n{installation_block}"),
        );
        Scenario {
            base_url: emulator.base_url(),
            root,
            emulator,
            app,
            work_dir,
            cli_config,
            token: Token::Emulator,
            log_file: None,
            reattach: None,
            extra_env: Vec::new(),
            raw_keys_seen: RefCell::new(BTreeSet::new()),
            terraform_data_output_leak_tolerated: false,
        }
    }

    /// Terraform's environment carries no access token at all.
    pub fn without_token(mut self) -> Scenario {
        self.token = Token::Missing;
        self
    }

    /// Terraform's environment carries this (wrong) token.
    pub fn with_token(mut self, token: &str) -> Scenario {
        self.token = Token::Other(token.to_owned());
        self
    }

    /// Terraform's environment also holds `name=value`.
    pub fn with_env(mut self, name: &str, value: &str) -> Scenario {
        self.extra_env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The HOME terraform runs with, where the Parallel CLI would save its
    /// login (`.config/parallel-web-tools/auth.json`).
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// Terraform attaches to a provider process started elsewhere (with
    /// `--debug`) instead of launching one.
    pub fn with_reattach(mut self, reattach_json: String) -> Scenario {
        self.reattach = Some(reattach_json);
        self
    }

    /// Every command logs at TRACE into one file (TF_LOG_PATH appends), which
    /// `finish` then searches for secrets.
    pub fn with_trace_log(mut self) -> Scenario {
        self.log_file = Some(self.root.path().join("terraform-trace.log"));
        self
    }

    /// Terraform itself prints `terraform_data`'s `output` attribute in
    /// clear even when its `input` is sensitive (hashicorp/terraform#35609,
    /// #38133), e.g. in a destroy plan. That line, and only that line, is
    /// then left out of the secret check; the provider's own attributes are
    /// still checked everywhere.
    pub fn tolerate_terraform_data_output_leak(mut self) -> Scenario {
        self.terraform_data_output_leak_tolerated = true;
        self
    }

    pub fn app_id(&self) -> String {
        self.app.app_id.to_string()
    }

    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// Writes a file below the working directory, creating directories.
    pub fn write(&self, relative: &str, content: &str) {
        write_file(&self.work_dir.join(relative), content);
    }

    /// Writes `main.tf`: the required_providers block plus `body`.
    pub fn config(&self, body: &str) {
        self.write("main.tf", &format!("{REQUIRED_PROVIDERS}\n{body}"));
    }

    /// Runs `terraform <args>` in the working directory. Never fails by
    /// itself; commands whose output is meant for people are checked for
    /// secrets.
    pub fn terraform(&self, args: &[&str]) -> Output {
        self.remember_raw_keys();
        let output = self.command_in(&self.work_dir, args).output();
        let output = self.output_of(args, output);
        self.remember_raw_keys();
        self.check_output(args, &output);
        output
    }

    /// The command `terraform` runs, in `dir` (for several terraforms at
    /// once; [`Scenario::output_of`] and [`Scenario::check_output`] then
    /// make and check its [`Output`]).
    pub fn command_in(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(terraform_binary());
        command
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("HOME", self.home())
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("PARALLEL_SERVICE_API_URL", &self.base_url)
            // The token endpoint of a saved login: never the real platform.
            .env("PARALLEL_PLATFORM_URL", &self.base_url);
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        if let Some(token) = self.token_value() {
            command.env("PARALLEL_ACCESS_TOKEN", token);
        }
        if let Some(log_file) = &self.log_file {
            command.env("TF_LOG", "TRACE").env("TF_LOG_PATH", log_file);
        }
        if let Some(reattach) = &self.reattach {
            command.env("TF_REATTACH_PROVIDERS", reattach);
        }
        for (name, value) in &self.extra_env {
            command.env(name, value);
        }
        command
    }

    /// `terraform <args>` in the working directory, with the scenario's
    /// environment and nothing else.
    fn command(&self, args: &[&str]) -> Command {
        self.command_in(&self.work_dir, args)
    }

    /// Checks a finished command's output for secrets and hands it back.
    #[track_caller]
    fn checked(&self, args: &[&str], output: Output) -> Output {
        self.remember_raw_keys();
        self.check_output(args, &output);
        output
    }

    /// The [`Output`] of a finished `terraform <args>`.
    pub fn output_of(
        &self,
        args: &[&str],
        output: std::io::Result<std::process::Output>,
    ) -> Output {
        let output = output
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", terraform_binary().display()));
        Output {
            command: args.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The secret checks every command's output gets.
    #[track_caller]
    pub fn check_output(&self, args: &[&str], output: &Output) {
        // `output`, `show` and `state` print the secret on purpose, to
        // whoever asks for it explicitly.
        let reveals_on_purpose = matches!(args.first(), Some(&("output" | "show" | "state")));
        if !reveals_on_purpose {
            self.assert_no_secrets(
                &format!("the output of `terraform {}`", output.command),
                &format!("{}\n{}", output.stdout, output.stderr),
            );
        }
    }

    /// Starts `terraform <args>` without waiting for it; its output goes to
    /// files (not pipes, which a killed process's children could hold
    /// open) and is read by [`Scenario::kill`].
    pub fn spawn_terraform(&self, args: &[&str]) -> Running {
        self.remember_raw_keys();
        let stdout = self.root.path().join("spawned.stdout");
        let stderr = self.root.path().join("spawned.stderr");
        let file = |path: &Path| {
            std::fs::File::create(path)
                .unwrap_or_else(|err| panic!("cannot create {}: {err}", path.display()))
        };
        let child = self
            .command(args)
            .stdin(std::process::Stdio::null())
            .stdout(file(&stdout))
            .stderr(file(&stderr))
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", terraform_binary().display()));
        Running {
            child,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            stdout,
            stderr,
        }
    }

    /// SIGKILLs a terraform started by [`Scenario::spawn_terraform`] and
    /// returns what it printed (checked for secrets) before it died.
    pub fn kill(&self, mut running: Running) -> Output {
        // Child::kill is SIGKILL: Terraform gets no chance to stop anything.
        running.child.kill().expect("SIGKILL terraform");
        self.wait_for(running)
    }

    /// Waits for a terraform started by [`Scenario::spawn_terraform`] to
    /// end and returns what it printed (checked for secrets).
    pub fn wait_for(&self, mut running: Running) -> Output {
        let status = running.child.wait().expect("reap terraform");
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        let args: Vec<&str> = running.args.iter().map(String::as_str).collect();
        let output = Output {
            command: args.join(" "),
            code: status.code(),
            stdout: read(&running.stdout),
            stderr: read(&running.stderr),
        };
        self.checked(&args, output)
    }

    /// Interrupts a terraform started by [`Scenario::spawn_terraform`] as
    /// one Ctrl-C would (SIGINT: Terraform stops its providers and waits
    /// for their calls), waits for it to exit and returns what it printed
    /// (checked for secrets).
    pub fn interrupt(&self, running: Running) -> Output {
        running.interrupt();
        self.wait_for(running)
    }

    /// Runs a command that must succeed.
    #[track_caller]
    pub fn terraform_ok(&self, args: &[&str]) -> Output {
        let output = self.terraform(args);
        assert!(
            output.success(),
            "terraform {} failed\n{}",
            output.command,
            output.report()
        );
        output
    }

    /// Runs a command that must fail.
    #[track_caller]
    pub fn terraform_fails(&self, args: &[&str]) -> Output {
        let output = self.terraform(args);
        assert!(
            !output.success(),
            "terraform {} succeeded but was expected to fail\n{}",
            output.command,
            output.report()
        );
        output
    }

    /// `terraform apply`, which must succeed and leave an empty plan.
    #[track_caller]
    pub fn apply(&self) -> Output {
        self.apply_with(&[])
    }

    #[track_caller]
    pub fn apply_with(&self, extra: &[&str]) -> Output {
        let output = self.terraform_ok(&apply_args(extra));
        self.plan_empty();
        output
    }

    /// `terraform apply` that must fail; the plan is not checked.
    #[track_caller]
    pub fn apply_fails(&self) -> Output {
        self.terraform_fails(&apply_args(&[]))
    }

    /// The plan must be empty both with and without refreshing.
    #[track_caller]
    pub fn plan_empty(&self) {
        for refresh in [&[][..], &["-refresh=false"][..]] {
            let mut args = vec!["plan", "-detailed-exitcode", "-input=false", "-no-color"];
            args.extend_from_slice(refresh);
            let output = self.terraform(&args);
            match output.code {
                Some(0) => {}
                Some(2) => panic!(
                    "terraform {} found changes right after an apply; the plan must be empty\n{}",
                    output.command,
                    output.report()
                ),
                _ => panic!("terraform {} failed\n{}", output.command, output.report()),
            }
        }
    }

    /// `terraform plan` that must fail.
    #[track_caller]
    pub fn plan_fails(&self) -> Output {
        self.terraform_fails(&["plan", "-input=false", "-no-color"])
    }

    /// `terraform show -json` of the state.
    #[track_caller]
    pub fn show_json(&self) -> Value {
        let output = self.terraform_ok(&["show", "-json", "-no-color"]);
        serde_json::from_str(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "`terraform show -json` is not JSON ({err})\n{}",
                output.report()
            )
        })
    }

    /// The state entry of one resource (root module or child modules), as in
    /// `terraform show -json`; panics when it is not in state.
    #[track_caller]
    pub fn resource(&self, address: &str) -> Value {
        let show = self.show_json();
        find_resource(&show["values"]["root_module"], address).unwrap_or_else(|| {
            panic!("{address} is not in the state; terraform show -json gave:\n{show:#}")
        })
    }

    /// `terraform output -json`.
    #[track_caller]
    pub fn outputs_json(&self) -> Value {
        let output = self.terraform_ok(&["output", "-json", "-no-color"]);
        serde_json::from_str(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "`terraform output -json` is not JSON ({err})\n{}",
                output.report()
            )
        })
    }

    /// `terraform destroy`, which must succeed.
    #[track_caller]
    pub fn destroy(&self) -> Output {
        self.terraform_ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Every scenario ends here: destroy, then nothing may be left on the
    /// emulator nor in the state, and no secret may be in the log file.
    #[track_caller]
    pub fn finish(self) {
        self.destroy();
        let left = self.emulator.live_keys();
        assert!(
            left.is_empty(),
            "destroy left live keys on the emulator: {left:?}"
        );
        // Without any state file `state list` fails; either way it must
        // list nothing.
        let listed = self.terraform(&["state", "list"]);
        assert!(
            listed.stdout.trim().is_empty(),
            "destroy left resources in the state:\n{}",
            listed.stdout
        );
        if self.log_file.is_some() {
            let log = self.log_text();
            self.assert_no_secrets("the TF_LOG=TRACE file", &log);
        }
    }

    /// The TF_LOG file written so far (empty if logging is off).
    pub fn log_text(&self) -> String {
        self.log_file
            .as_ref()
            .map(|path| std::fs::read_to_string(path).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The one live key on the emulator; panics unless there is exactly one.
    #[track_caller]
    pub fn only_live_key(&self) -> KeyRecord {
        let keys = self.emulator.live_keys();
        assert_eq!(
            keys.len(),
            1,
            "expected exactly one live key, found {keys:?}"
        );
        keys.into_iter().next().expect("one key")
    }

    /// API requests the emulator received, as `METHOD path -> status`, for
    /// assertions and failure messages.
    pub fn request_summary(&self) -> Vec<String> {
        self.emulator
            .requests()
            .iter()
            .map(describe_request)
            .collect()
    }

    /// Requests with this method whose path contains `fragment`.
    pub fn requests_matching(&self, method: &str, fragment: &str) -> Vec<RequestRecord> {
        self.emulator
            .requests()
            .into_iter()
            .filter(|r| r.method.as_str() == method && r.path.contains(fragment))
            .collect()
    }

    /// The access token and all raw keys seen must be absent from `text`.
    #[track_caller]
    pub fn assert_no_secrets(&self, what: &str, text: &str) {
        let text = if self.terraform_data_output_leak_tolerated {
            without_terraform_data_output_lines(text)
        } else {
            text.to_owned()
        };
        let mut secrets: Vec<(&str, String)> = self
            .raw_keys_seen
            .borrow()
            .iter()
            .map(|key| ("a raw API key", key.clone()))
            .collect();
        if let Some(token) = self.token_value() {
            secrets.push(("the access token", token));
        }
        // Tokens and data-API keys of saved Parallel CLI logins.
        for secret in self.emulator.login_secrets() {
            secrets.push(("a secret of a saved login", secret));
        }
        for (kind, secret) in &secrets {
            if text.contains(secret.as_str()) {
                // Show where, without printing the secret itself.
                let masked = secrets.iter().fold(text.to_owned(), |acc, (_, s)| {
                    acc.replace(s.as_str(), "<LEAKED SECRET>")
                });
                panic!("{what} contains {kind}:\n{masked}");
            }
        }
    }

    fn token_value(&self) -> Option<String> {
        match &self.token {
            Token::Emulator => Some(self.emulator.token()),
            Token::Missing => None,
            Token::Other(token) => Some(token.clone()),
        }
    }

    fn remember_raw_keys(&self) {
        let mut seen = self.raw_keys_seen.borrow_mut();
        // Revoked ones too: an ephemeral key lives only within one command.
        for key in self.emulator.issued_keys() {
            seen.insert(key.raw_api_key);
        }
    }
}

/// Drops the plan-diff lines of an attribute named `output`, such as
/// `- output = "…" -> null`.
fn without_terraform_data_output_lines(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let trimmed = line
                .trim_start()
                .trim_start_matches(['+', '-', '~'])
                .trim_start();
            !trimmed.starts_with("output ") && !trimmed.starts_with("output=")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn describe_request(record: &RequestRecord) -> String {
    let status = record
        .status
        .map_or_else(|| "no answer".to_owned(), |s| s.to_string());
    match record.fault {
        Some(fault) => format!(
            "{} {} -> {status} (fault {fault})",
            record.method, record.path
        ),
        None => format!("{} {} -> {status}", record.method, record.path),
    }
}

fn apply_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    args.extend_from_slice(extra);
    args
}

fn find_resource(module: &Value, address: &str) -> Option<Value> {
    let here = module["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|resource| resource["address"] == address)
        .cloned();
    here.or_else(|| {
        module["child_modules"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|child| find_resource(child, address))
    })
}

fn write_file(path: &Path, content: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", parent.display()));
    }
    std::fs::write(path, content)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
}

/// HCL string literal of a path (backslashes and quotes escaped).
fn hcl_string(path: &Path) -> String {
    serde_json::Value::String(path.display().to_string()).to_string()
}

/// A directory holding only the provider binary (as a link), for
/// dev_overrides: cargo's target directory holds other files Terraform
/// should not have to sort through.
fn dev_override_block(root: &Path) -> String {
    let plugin_dir = root.join("provider-bin");
    std::fs::create_dir_all(&plugin_dir).expect("create the dev_overrides directory");
    std::os::unix::fs::symlink(
        PROVIDER_BINARY,
        plugin_dir.join("terraform-provider-parallel"),
    )
    .expect("link the provider binary");
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = {}\n  }}\n  direct {{}}\n}}\n",
        hcl_string(&plugin_dir)
    )
}

/// An unpacked filesystem mirror holding a copy of the binary.
fn copy_into_mirror(root: &Path) -> PathBuf {
    let mirror = root.join("mirror");
    let package_dir = mirror
        .join("registry.terraform.io")
        .join(PROVIDER_SOURCE)
        .join(PROVIDER_VERSION)
        .join(terraform_platform());
    std::fs::create_dir_all(&package_dir).expect("create the mirror directory");
    std::fs::copy(
        PROVIDER_BINARY,
        package_dir.join(format!("terraform-provider-parallel_v{PROVIDER_VERSION}")),
    )
    .expect("copy the provider binary into the mirror");
    mirror
}

/// The mirror, and nothing else to install from: `terraform init` works
/// offline.
fn filesystem_mirror_block(mirror: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/{PROVIDER_SOURCE}\"]\n  }}\n}}\n",
        hcl_string(mirror)
    )
}

#[cfg(test)]
mod tests {
    use super::{TerraformVersion, flatten};

    #[test]
    fn versions_compare_by_their_numbers() {
        let version = |text| TerraformVersion::parse(text).expect("a version");
        assert!(version("1.15.5").at_least(&version("1.12")));
        assert!(version("1.12.0").at_least(&version("1.12")));
        assert!(!version("1.11.4").at_least(&version("1.12")));
        assert!(version("1.15.0-rc1").at_least(&version("1.15")));
        assert!(!version("1.9.8").at_least(&version("1.10")));
        assert_eq!(version("1.15.0-rc1").to_string(), "1.15.0-rc1");
        for bad in ["", "v1.2", "1.x", "1.2.3.4"] {
            assert!(TerraformVersion::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn flatten_undoes_wrapping_and_frames() {
        let text = "╷\n│ Error: Missing token\n│ \n│ Set access_token\n│ or the variable.\n╵";
        assert_eq!(
            flatten(text),
            "Error: Missing token Set access_token or the variable."
        );
    }
}
