//! The emulator as a module author downloads it from a release
//! (docs/guides/testing-modules-offline.md): the zip and its SHA256SUMS that
//! `scripts/release.sh` writes, checked, unzipped into an empty folder,
//! started with `--seed-app`, and `terraform test` run on the example
//! module against it; the guide's shell recipe itself, as written, against
//! a local copy of the release. And a release whose emulator cannot be
//! built stops before writing any zip.

use crate::harness::{PROVIDER_VERSION, Scenario, report_skip, terraform_binary};
use crate::module_tests::{EXAMPLE_MODULE_RUNS, contains_raw_key, copy_example_module};
use crate::readme::write_executable;
use crate::release::{EMULATOR, artifacts, packed_mirror, scratch_dir, sha256sum_check};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The downloaded emulator, stopped (SIGTERM) when dropped.
struct RunningEmulator {
    child: Child,
    url: String,
    token: String,
    app_id: String,
}

impl RunningEmulator {
    /// Starts `binary --seed-app ci` and reads the `export NAME=value`
    /// lines it prints (the last one is the app's ID).
    fn start(binary: &Path) -> RunningEmulator {
        let mut child = Command::new(binary)
            .args(["--seed-app", "ci"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut exports = std::collections::HashMap::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line from the emulator");
            if let Some((name, value)) = line
                .strip_prefix("export ")
                .and_then(|rest| rest.split_once('='))
            {
                exports.insert(name.to_owned(), value.to_owned());
            }
            if exports.contains_key("PARALLEL_APP_ID") {
                break;
            }
        }
        let get = |name: &str| {
            exports
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("the emulator printed no {name}: {exports:?}"))
        };
        RunningEmulator {
            url: get("PARALLEL_SERVICE_API_URL"),
            token: get("PARALLEL_ACCESS_TOKEN"),
            app_id: get("PARALLEL_APP_ID"),
            child,
        }
    }

    /// The body of `GET /_emulator/keys`: the live keys, as JSON.
    fn live_keys(&self) -> serde_json::Value {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to the emulator");
        write!(
            stream,
            "GET /_emulator/keys HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        )
        .expect("send the request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body)
            .unwrap_or_default();
        serde_json::from_str(body).unwrap_or_else(|err| panic!("{err}: {answer}"))
    }

    /// SIGTERM, as the guide's `kill`, and a clean exit.
    fn stop(mut self) {
        let status = Command::new("kill")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for the emulator");
        assert!(exit.success(), "the emulator exited with {exit}");
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_released_emulator_runs_the_example_modules_tests() {
    if Command::new("unzip").arg("-v").output().is_err() {
        report_skip(
            "SKIPPED the_released_emulator_runs_the_example_modules_tests: unzip is not installed",
        );
        return;
    }
    let built = artifacts();
    // The download: the zip and its sums, in an empty folder.
    let download = scratch_dir("emulator-download");
    for file in [&built.emulator_zip_name, &built.emulator_sums_name()] {
        std::fs::copy(built.dir.join(file), download.join(file)).expect("download a file");
    }
    sha256sum_check(&download, &built.emulator_sums_name());
    let unzip = Command::new("unzip")
        .arg("-q")
        .arg(&built.emulator_zip_name)
        .current_dir(&download)
        .output()
        .expect("run unzip");
    assert!(
        unzip.status.success(),
        "unzip failed: {}",
        String::from_utf8_lossy(&unzip.stderr)
    );
    let emulator = RunningEmulator::start(&download.join(EMULATOR));

    // The provider under test talks to the downloaded emulator, not to the
    // scenario's own.
    let s = Scenario::new()
        .with_env("PARALLEL_SERVICE_API_URL", &emulator.url)
        .with_env("PARALLEL_PLATFORM_URL", &emulator.url)
        .with_env("PARALLEL_ACCESS_TOKEN", &emulator.token);
    copy_example_module(s.work_dir());
    let app_id = format!("app_id={}", emulator.app_id);
    let tested = s.terraform_ok(&["test", "-no-color", "-var", &app_id]);
    tested.assert_contains(&format!("Success! {EXAMPLE_MODULE_RUNS} passed, 0 failed."));
    assert!(
        !contains_raw_key(&format!("{}\n{}", tested.stdout, tested.stderr)),
        "terraform test printed a raw key"
    );
    assert!(
        s.request_summary().is_empty(),
        "the scenario's own emulator was called: {:?}",
        s.request_summary()
    );
    assert_eq!(
        emulator.live_keys(),
        serde_json::json!([]),
        "terraform test left keys on the downloaded emulator"
    );
    emulator.stop();
    let _ = std::fs::remove_dir_all(&download);
}

#[test]
fn a_release_whose_emulator_cannot_be_built_names_the_target_and_writes_no_zip() {
    // A stand-in cargo: building the provider "succeeds" at once (the debug
    // build is already there), building the emulator fails as a broken
    // cross toolchain would; everything else is the real cargo.
    let root = scratch_dir("release-emulator-fails");
    let bin = root.join("bin");
    let out = root.join("dist");
    std::fs::create_dir_all(&bin).expect("create bin");
    write_executable(
        &bin.join("cargo"),
        &format!(
            "#!/bin/sh\n\
             case \" $* \" in\n\
             *\" build \"*\"{EMULATOR}\"*) echo 'error: could not compile `{EMULATOR}` (stand-in)' >&2; exit 101 ;;\n\
             *\" build \"*) exit 0 ;;\n\
             esac\n\
             exec '{}' \"$@\"\n",
            env!("CARGO")
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/release.sh"))
        .args(["--profile", "debug", "--out"])
        .arg(&out)
        .env("PATH", path)
        .env_remove("PARALLEL_RELEASE_BINARY")
        .env_remove("PARALLEL_RELEASE_EMULATOR_BINARY")
        .output()
        .expect("run scripts/release.sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the release succeeded?\n{stderr}");
    let host = String::from_utf8_lossy(
        &Command::new("rustc")
            .arg("-vV")
            .output()
            .expect("run rustc")
            .stdout,
    )
    .lines()
    .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
    .expect("rustc names its host");
    assert!(
        stderr.contains(&format!("building {EMULATOR} for {host} failed")),
        "the failure must name the emulator and the target:\n{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|entries| entries.flatten().map(|entry| entry.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "the failed release left {left:?}");
    let _ = std::fs::remove_dir_all(&root);
}

/// The first ```` ```sh ```` block of the offline-testing guide: download,
/// check, unzip, start, `terraform init`, `terraform test`.
fn guide_recipe() -> String {
    let guide = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/guides/testing-modules-offline.md"),
    )
    .expect("read the guide");
    let mut lines = guide.lines().skip_while(|line| *line != "```sh");
    lines.next();
    lines
        .take_while(|line| !line.starts_with("```"))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn the_guides_download_recipe_works_as_written() {
    if Command::new("unzip").arg("-v").output().is_err() {
        report_skip("SKIPPED the_guides_download_recipe_works_as_written: unzip is not installed");
        return;
    }
    let built = artifacts();
    let recipe = guide_recipe();
    // Two lines change: the release is this build's, served from a folder
    // instead of GitHub (curl reads file:// URLs the same way).
    let mut replaced = 0;
    let recipe: String = recipe
        .lines()
        .map(|line| {
            if line.starts_with("version=") {
                replaced += 1;
                format!("version={PROVIDER_VERSION}\n")
            } else if line.starts_with("base=https://github.com/") {
                replaced += 1;
                format!("base=file://{}\n", built.dir.display())
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert_eq!(
        replaced, 2,
        "the recipe lost its version= or base= line:\n{recipe}"
    );
    for step in [
        "curl",
        "shasum -a 256 -c",
        "unzip",
        "--seed-app",
        "terraform test",
    ] {
        assert!(recipe.contains(step), "the recipe lost `{step}`:\n{recipe}");
    }

    // terraform init installs the provider from the release zip, as from
    // the registry; the module is the example.
    let mirror = packed_mirror("recipe-mirror");
    let s = Scenario::with_mirror(&mirror);
    copy_example_module(s.work_dir());
    let bin = scratch_dir("recipe-bin");
    write_executable(
        &bin.join("terraform"),
        &format!(
            "#!/bin/sh\nexec '{}' \"$@\"\n",
            terraform_binary().display()
        ),
    );
    let terraform = s.command_in(s.work_dir(), &[]);
    let mut bash = Command::new("bash");
    bash.env_clear();
    for (name, value) in terraform.get_envs() {
        if let Some(value) = value {
            bash.env(name, value);
        }
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Stop the emulator even when a step fails.
    let script =
        format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{recipe}");
    let output = bash
        .args(["-c", &script])
        .current_dir(s.work_dir())
        .env("PATH", path)
        .output()
        .expect("run bash");
    // The recipe runs terraform as a person would, in colour.
    let stdout = without_colours(&String::from_utf8_lossy(&output.stdout));
    let stderr = without_colours(&String::from_utf8_lossy(&output.stderr));
    let report =
        format!("--- script ---\n{script}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    assert!(output.status.success(), "the recipe failed\n{report}");
    for expected in [
        ": OK",
        "Installed parallel-web/parallel",
        &format!("Success! {EXAMPLE_MODULE_RUNS} passed, 0 failed."),
    ] {
        assert!(stdout.contains(expected), "missing {expected:?}\n{report}");
    }
    assert!(
        !contains_raw_key(&format!("{stdout}\n{stderr}")),
        "the recipe printed a raw key"
    );
    let _ = std::fs::remove_dir_all(&bin);
    let _ = std::fs::remove_dir_all(&mirror);
}

/// `text` without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colours_are_removed() {
    assert_eq!(
        without_colours("\u{1b}[32mSuccess!\u{1b}[0m\u{1b}[0m 7 passed"),
        "Success! 7 passed"
    );
}
