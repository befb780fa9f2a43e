//! The release files `scripts/release.sh` writes, and the install path a
//! user of a registry release takes: the zip in a packed filesystem mirror,
//! `terraform init` pinning it in the lock file, apply, destroy.
//!
//! The script packages the debug binaries cargo built for these tests
//! (`--binary`, and the `parallel-emulator` beside it); the release
//! workflow runs the same packaging on release builds.

use crate::harness::{
    PROVIDER_BINARY, PROVIDER_VERSION, Scenario, report_skip, terraform_platform,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NAME: &str = "terraform-provider-parallel";
pub const EMULATOR: &str = "parallel-emulator";

/// The `parallel-emulator` cargo built beside the provider (`cargo test
/// --workspace` builds it).
#[track_caller]
pub fn emulator_binary() -> PathBuf {
    let emulator = Path::new(PROVIDER_BINARY).with_file_name(EMULATOR);
    assert!(
        emulator.is_file(),
        "{} is missing: `cargo test --workspace` builds it (or `cargo build -p parallel-emulator`)",
        emulator.display()
    );
    emulator
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty directory under cargo's scratch space for tests.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    dir
}

/// `bash scripts/release.sh ARGS` with this environment; must succeed.
/// Returns its stdout.
#[track_caller]
fn release(args: &[&str], env: &[(&str, &Path)]) -> String {
    let mut command = Command::new("bash");
    command
        .arg(repo().join("scripts/release.sh"))
        .args(args)
        .env_remove("PARALLEL_RELEASE_GPG_KEY")
        .env_remove("PARALLEL_RELEASE_BINARY");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run bash scripts/release.sh");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "scripts/release.sh {args:?} failed ({})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The files of one packaging of the debug binary, made once per test run.
pub struct Artifacts {
    pub dir: PathBuf,
    pub zip_name: String,
    pub emulator_zip_name: String,
    pub stdout: String,
}

impl Artifacts {
    pub fn zip(&self) -> PathBuf {
        self.dir.join(&self.zip_name)
    }

    pub fn emulator_zip(&self) -> PathBuf {
        self.dir.join(&self.emulator_zip_name)
    }

    pub fn sums_name(&self) -> String {
        format!("{NAME}_{PROVIDER_VERSION}_SHA256SUMS")
    }

    pub fn emulator_sums_name(&self) -> String {
        format!("{EMULATOR}_{PROVIDER_VERSION}_SHA256SUMS")
    }

    /// The SHA-256 that the provider's SHA256SUMS gives for `file`.
    #[track_caller]
    pub fn listed_sha256(&self, file: &str) -> String {
        let sums = std::fs::read_to_string(self.dir.join(self.sums_name())).expect("SHA256SUMS");
        sums.lines()
            .find_map(|line| {
                let (hash, name) = line.split_once("  ")?;
                (name == file).then(|| hash.to_owned())
            })
            .unwrap_or_else(|| panic!("SHA256SUMS does not list {file}:\n{sums}"))
    }
}

pub fn artifacts() -> &'static Artifacts {
    static BUILT: OnceLock<Artifacts> = OnceLock::new();
    BUILT.get_or_init(|| package_into(&scratch_dir("release-first")))
}

fn package_into(dir: &Path) -> Artifacts {
    let stdout = release(
        &[
            "--binary",
            PROVIDER_BINARY,
            "--emulator-binary",
            &emulator_binary().display().to_string(),
            "--out",
            &dir.display().to_string(),
        ],
        &[],
    );
    Artifacts {
        dir: dir.to_owned(),
        zip_name: format!("{NAME}_{PROVIDER_VERSION}_{}.zip", terraform_platform()),
        emulator_zip_name: format!("{EMULATOR}_{PROVIDER_VERSION}_{}.zip", terraform_platform()),
        stdout,
    }
}

/// The entries of a zip as `name mode`, read by python3's zipfile (which
/// release.sh needs anyway).
pub fn zip_entries(zip: &Path) -> Vec<String> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, oct(i.external_attr >> 16), i.date_time)",
        ])
        .arg(zip)
        .output()
        .expect("run python3");
    assert!(output.status.success(), "cannot list {}", zip.display());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// `sha256sum -c SUMS` in `dir`, as users verify a download; must pass.
#[track_caller]
pub fn sha256sum_check(dir: &Path, sums: &str) {
    let check = Command::new("sha256sum")
        .args(["-c", sums])
        .current_dir(dir)
        .output()
        .expect("run sha256sum");
    assert!(
        check.status.success(),
        "sha256sum -c {sums} failed:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `sha256sum`'s hex digest of a file, by python3's hashlib.
fn sha256_hex(file: &Path) -> String {
    python(
        "import hashlib, sys\nprint(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())",
        file,
    )
}

/// Terraform's `h1:` hash of a provider package, computed from the zip:
/// base64 of the SHA-256 of the lines `<sha256 hex>  <name>\n`, one per
/// file, sorted by name (Go's dirhash.Hash1).
fn h1_of_zip(zip: &Path) -> String {
    python(
        "import base64, hashlib, sys, zipfile\n\
         z = zipfile.ZipFile(sys.argv[1])\n\
         lines = ''.join(f'{hashlib.sha256(z.read(n)).hexdigest()}  {n}\\n' for n in sorted(z.namelist()))\n\
         print('h1:' + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode())",
        zip,
    )
}

fn python(program: &str, file: &Path) -> String {
    let output = Command::new("python3")
        .args(["-c", program])
        .arg(file)
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "python3 failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn release_files_are_checksummed_and_the_zips_reproducible() {
    let first = artifacts();
    let files: Vec<String> = std::fs::read_dir(&first.dir)
        .expect("the release directory")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let manifest = format!("{NAME}_{PROVIDER_VERSION}_manifest.json");
    for expected in [
        &first.zip_name,
        &manifest,
        &first.sums_name(),
        &first.emulator_zip_name,
        &first.emulator_sums_name(),
    ] {
        assert!(
            files.contains(expected),
            "{expected} missing from {files:?}"
        );
    }
    assert_eq!(files.len(), 5, "unexpected files: {files:?}");
    assert!(
        first.stdout.contains("unsigned"),
        "without a key the script must say the sums are unsigned:\n{}",
        first.stdout
    );
    assert_eq!(
        std::fs::read(first.dir.join(&manifest)).expect("the manifest"),
        std::fs::read(repo().join("terraform-registry-manifest.json")).expect("the manifest")
    );

    // The zip holds the binary alone, executable, under the registry's name.
    let entries = zip_entries(&first.zip());
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0].starts_with(&format!("{NAME}_v{PROVIDER_VERSION} 0o100755 ")),
        "{entries:?}"
    );

    // The emulator's zip: the binary alone, executable, as `parallel-emulator`.
    let entries = zip_entries(&first.emulator_zip());
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0].starts_with(&format!("{EMULATOR} 0o100755 ")),
        "{entries:?}"
    );

    // Each zip is listed in its own sums only: the registry reads the
    // provider's, which must name provider packages alone.
    let provider_sums =
        std::fs::read_to_string(first.dir.join(first.sums_name())).expect("provider sums");
    assert!(!provider_sums.contains(EMULATOR), "{provider_sums}");
    let emulator_sums =
        std::fs::read_to_string(first.dir.join(first.emulator_sums_name())).expect("emulator sums");
    assert_eq!(
        emulator_sums.lines().count(),
        1,
        "only the emulator zip: {emulator_sums}"
    );
    assert!(emulator_sums.ends_with(&format!("  {}\n", first.emulator_zip_name)));

    sha256sum_check(&first.dir, &first.sums_name());
    sha256sum_check(&first.dir, &first.emulator_sums_name());

    // A second run of the same commit gives the same bytes.
    let second = package_into(&scratch_dir("release-second"));
    assert!(
        std::fs::read(first.zip()).expect("first zip")
            == std::fs::read(second.zip()).expect("second zip"),
        "two packagings of the same binary differ"
    );
    assert!(
        std::fs::read(first.emulator_zip()).expect("first emulator zip")
            == std::fs::read(second.emulator_zip()).expect("second emulator zip"),
        "two packagings of the same emulator binary differ"
    );
    for sums in [first.sums_name(), first.emulator_sums_name()] {
        assert_eq!(
            std::fs::read(first.dir.join(&sums)).expect("first sums"),
            std::fs::read(second.dir.join(&sums)).expect("second sums"),
            "{sums} differs between two runs"
        );
    }
    let _ = std::fs::remove_dir_all(&second.dir);
}

#[test]
fn sums_are_signed_when_a_gpg_key_is_configured() {
    let gpg_works = Command::new("gpg")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !gpg_works {
        report_skip("SKIPPED sums_are_signed_when_a_gpg_key_is_configured: gpg is not installed");
        return;
    }
    let home = scratch_dir("release-gnupg");
    let gpg = |args: &[&str]| {
        let output = Command::new("gpg")
            .args(["--batch", "--homedir"])
            .arg(&home)
            .args(args)
            .output()
            .expect("run gpg");
        assert!(
            output.status.success(),
            "gpg {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let user = "Release Test <release-test@example.invalid>";
    gpg(&[
        "--passphrase",
        "",
        "--quick-gen-key",
        user,
        "ed25519",
        "sign",
        "never",
    ]);

    let dir = scratch_dir("release-signed");
    std::fs::copy(artifacts().zip(), dir.join(&artifacts().zip_name)).expect("copy the zip");
    std::fs::copy(
        artifacts().emulator_zip(),
        dir.join(&artifacts().emulator_zip_name),
    )
    .expect("copy the emulator zip");
    // --sums-only: what the release workflow runs over the merged zips.
    let stdout = release(
        &["--sums-only", "--out", &dir.display().to_string()],
        &[
            ("GNUPGHOME", &home),
            (
                "PARALLEL_RELEASE_GPG_KEY",
                Path::new("release-test@example.invalid"),
            ),
        ],
    );
    assert!(stdout.contains("signed"), "{stdout}");
    for sums_name in [artifacts().sums_name(), artifacts().emulator_sums_name()] {
        let sums = dir.join(&sums_name);
        let signature = PathBuf::from(format!("{}.sig", sums.display()));
        gpg(&[
            "--verify",
            &signature.display().to_string(),
            &sums.display().to_string(),
        ]);
        assert_eq!(
            std::fs::read(&sums).expect("sums"),
            std::fs::read(artifacts().dir.join(&sums_name)).expect("sums"),
            "--sums-only over the same files must give the same {sums_name}"
        );
    }
    // gpg left an agent running for that home.
    let _ = Command::new("gpgconf")
        .args(["--kill", "all"])
        .env("GNUPGHOME", &home)
        .status();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_target_without_its_toolchain_fails_clearly() {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .expect("run rustc");
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    let Some(missing) = [
        "aarch64-apple-darwin",
        "aarch64-pc-windows-msvc",
        "x86_64-apple-darwin",
    ]
    .into_iter()
    .find(|triple| {
        !sysroot
            .join("lib/rustlib")
            .join(triple)
            .join("lib")
            .is_dir()
    }) else {
        report_skip(
            "SKIPPED a_target_without_its_toolchain_fails_clearly: every candidate target is installed",
        );
        return;
    };
    let out = scratch_dir("release-missing-target");
    let output = Command::new("bash")
        .arg(repo().join("scripts/release.sh"))
        .args(["--target", missing, "--out"])
        .arg(&out)
        .output()
        .expect("run scripts/release.sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "building for {missing} succeeded?"
    );
    assert!(
        stderr.contains(&format!("rustup target add {missing}")),
        "the failure must say how to add the target:\n{stderr}"
    );
}

/// A packed filesystem mirror, `HOST/NAMESPACE/TYPE/<the release zip>`,
/// holding the provider zip of [`artifacts`], in a fresh scratch directory.
pub fn packed_mirror(name: &str) -> PathBuf {
    let built = artifacts();
    let root = scratch_dir(&format!("{name}-{}", std::process::id()));
    let package_dir = root.join("registry.terraform.io/parallel-web/parallel");
    std::fs::create_dir_all(&package_dir).expect("create the mirror");
    let zip_in_mirror = package_dir.join(&built.zip_name);
    std::fs::hard_link(built.zip(), &zip_in_mirror)
        .or_else(|_| std::fs::copy(built.zip(), &zip_in_mirror).map(|_| ()))
        .expect("put the zip in the mirror");
    root
}

#[test]
fn terraform_init_installs_the_release_zip_from_a_packed_mirror() {
    let built = artifacts();
    let root = packed_mirror("release-mirror");
    let zip_in_mirror = root
        .join("registry.terraform.io/parallel-web/parallel")
        .join(&built.zip_name);

    let s = Scenario::with_mirror(&root);
    s.write(
        "main.tf",
        &format!(
            r#"
terraform {{
  required_providers {{
    parallel = {{
      source  = "parallel-web/parallel"
      version = "{PROVIDER_VERSION}"
    }}
  }}
}}

provider "parallel" {{}}

resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "from-release-zip"
}}
"#,
            s.app_id()
        ),
    );
    let init = s.terraform_ok(&["init", "-input=false", "-no-color"]);
    init.assert_contains(&format!(
        "Installed parallel-web/parallel v{PROVIDER_VERSION}"
    ));
    init.assert_not_contains("Provider development overrides are in effect");

    // Terraform records a zip's own SHA-256 (`zh:`) only from a registry's
    // signed SHA256SUMS; from a filesystem mirror, 1.11 and 1.15 alike
    // record `h1:`, the hash of the zip's contents. So: the zip in the
    // mirror is the one SHA256SUMS lists, and the lock file pins its
    // contents.
    assert_eq!(
        sha256_hex(&zip_in_mirror),
        built.listed_sha256(&built.zip_name),
        "the mirror's zip is not the one SHA256SUMS lists"
    );
    let lock = std::fs::read_to_string(s.work_dir().join(".terraform.lock.hcl"))
        .expect("terraform init writes .terraform.lock.hcl");
    let hashes: Vec<&str> = lock
        .split('"')
        .filter(|quoted| quoted.starts_with("h1:") || quoted.starts_with("zh:"))
        .collect();
    let expected = h1_of_zip(&zip_in_mirror);
    assert_eq!(
        hashes,
        [expected.as_str()],
        "the lock file must pin the zip's contents:\n{lock}"
    );

    s.apply();
    assert_eq!(s.only_live_key().api_key_name, "from-release-zip");
    s.finish();
    let _ = std::fs::remove_dir_all(&root);
}
