//! README.md's "Using it" walk-through, run as written: its blocks marked
//! `<!-- walkthrough -->` (shell) and `<!-- walkthrough: FILE -->` (a file
//! to write) become one bash script, run in a scratch copy of the files the
//! walk-through reads from a clone. Two stand-ins, both also documented in
//! the README: `PARALLEL_RELEASE_BINARY` makes `scripts/release.sh` package
//! the debug build instead of making a release build, and the
//! `parallel-emulator` that `cargo install` would put on PATH is the one
//! cargo built. HOME is the scratch directory's, so the walk-through's
//! `~/.terraform.d/plugins` is too.

use crate::harness::{PROVIDER_BINARY, terraform_binary};
use crate::module_tests::contains_raw_key;
use crate::release::scratch_dir;
use std::path::Path;
use std::process::Command;

const MARK: &str = "<!-- walkthrough";

/// The marked blocks as one bash script.
fn walkthrough_script(readme: &str) -> String {
    let mut script = String::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.trim().strip_prefix(MARK) else {
            continue;
        };
        let file = rest
            .trim_end_matches("-->")
            .trim()
            .strip_prefix(':')
            .map(|name| name.trim().to_owned());
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "README.md: {line:?} must be followed by a fenced block, not {fence:?}"
        );
        let body: Vec<&str> = lines
            .by_ref()
            .take_while(|l| !l.starts_with("```"))
            .collect();
        match file {
            Some(file) => {
                script.push_str(&format!("cat >{file} <<'WALKTHROUGH_EOF'\n"));
                script.push_str(&body.join("\n"));
                script.push_str("\nWALKTHROUGH_EOF\n");
            }
            None => {
                assert!(
                    fence == "```sh",
                    "README.md: a walkthrough block without a file must be ```sh"
                );
                script.push_str(&body.join("\n"));
                script.push('\n');
            }
        }
    }
    script
}

pub fn write_executable(path: &Path, content: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, content).expect("write a wrapper");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn the_readme_walkthrough_works_as_written() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let walk = walkthrough_script(&readme);
    for step in [
        "scripts/release.sh",
        "terraform init",
        "terraform apply",
        "terraform destroy",
    ] {
        assert!(
            walk.contains(step),
            "the walk-through lost `{step}`:\n{walk}"
        );
    }

    let root = scratch_dir(&format!("readme-{}", std::process::id()));
    // What the walk-through reads from a clone of the repository.
    let clone = root.join("clone");
    std::fs::create_dir_all(clone.join("scripts")).expect("create the clone");
    for file in [
        "Cargo.toml",
        "terraform-registry-manifest.json",
        "scripts/release.sh",
    ] {
        std::fs::copy(repo.join(file), clone.join(file)).expect("copy into the clone");
    }
    let bin = root.join("bin");
    let home = root.join("home");
    std::fs::create_dir_all(&bin).expect("create bin");
    std::fs::create_dir_all(&home).expect("create home");
    let emulator = Path::new(PROVIDER_BINARY).with_file_name("parallel-emulator");
    assert!(
        emulator.is_file(),
        "{} is missing: `cargo test --workspace` builds it (or `cargo build -p parallel-emulator`)",
        emulator.display()
    );
    for (name, target) in [
        ("parallel-emulator", emulator.as_path()),
        ("terraform", terraform_binary()),
    ] {
        write_executable(
            &bin.join(name),
            &format!("#!/bin/sh\nexec '{}' \"$@\"\n", target.display()),
        );
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Stop the emulator even when a step fails.
    let script =
        format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{walk}");
    let output = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&clone)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .env("PARALLEL_RELEASE_BINARY", PROVIDER_BINARY)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report =
        format!("--- script ---\n{script}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    assert!(output.status.success(), "the walk-through failed\n{report}");
    for expected in [
        ": OK",
        "Installed parallel-web/parallel",
        "Incomplete lock file information for providers",
        "api_keys = <sensitive>",
        "credit_balance_cents = ",
        "Destroy complete! Resources: 3 destroyed.",
    ] {
        assert!(
            stdout.contains(expected) || stderr.contains(expected),
            "the walk-through's output lacks {expected:?}\n{report}"
        );
    }
    assert!(
        !contains_raw_key(&format!("{stdout}\n{stderr}")),
        "the walk-through printed a raw key"
    );
    assert!(
        clone
            .join("parallel-quickstart/.terraform.lock.hcl")
            .is_file(),
        "terraform init wrote no lock file\n{report}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
