//! `examples/modules/service-keys` ships `terraform test` files, as users'
//! module tests would run in their CI (docs/guides/testing-modules-offline.md):
//! `service_keys.tftest.hcl` applies against the emulator,
//! `mocked.tftest.hcl` plans with a mocked provider and needs no API. They
//! run here on every Terraform the acceptance tests run on (mock_provider
//! arrived in 1.7; both of ours have it).

use crate::harness::Scenario;
use std::path::Path;

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the module copy");
    for entry in std::fs::read_dir(from).expect("read the module") {
        let entry = entry.expect("a module entry");
        let name = entry.file_name();
        // Leftovers of someone running terraform in examples/.
        if name.to_string_lossy().starts_with(".terraform") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy a module file");
        }
    }
}

/// Whether `text` holds something shaped like the emulator's raw keys
/// (`sk-` and then letters or digits; masked values are `sk-***…`). The
/// harness checks for the keys it saw live, but `terraform test` creates
/// and revokes them all within one command.
pub fn contains_raw_key(text: &str) -> bool {
    text.match_indices("sk-")
        .any(|(at, _)| text[at + 3..].starts_with(|c: char| c.is_ascii_alphanumeric()))
}

/// The example module, copied into `dir`.
pub fn copy_example_module(dir: &Path) {
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/modules/service-keys"),
        dir,
    );
}

/// How many `run` blocks the example module's test files hold together.
pub const EXAMPLE_MODULE_RUNS: usize = 3 + MOCKED_RUNS;
const MOCKED_RUNS: usize = 4;

#[test]
fn the_example_modules_terraform_tests_pass_against_the_emulator() {
    let s = Scenario::new();
    copy_example_module(s.work_dir());
    let app_id = format!("app_id={}", s.app_id());
    // -verbose prints each run's plan or state: the secrets must show as
    // sensitive there too.
    let tested = s.terraform_ok(&[
        "test",
        "-filter=tests/service_keys.tftest.hcl",
        "-verbose",
        "-no-color",
        "-var",
        &app_id,
    ]);
    tested.assert_contains("Success! 3 passed, 0 failed.");
    tested.assert_contains("(sensitive value)");
    assert!(
        !contains_raw_key(&format!("{}\n{}", tested.stdout, tested.stderr)),
        "terraform test printed a raw key"
    );

    // Created for real (2 keys, 2 rotated, 1 renamed), and all revoked.
    let created = s.requests_matching("POST", "/keys");
    let revoked = s.requests_matching("DELETE", "/keys/");
    assert_eq!(created.len(), 5, "{:?}", s.request_summary());
    assert_eq!(revoked.len(), 5, "{:?}", s.request_summary());
    assert!(
        s.emulator.live_keys().is_empty(),
        "terraform test left keys"
    );
    // No finish(): terraform test keeps its state in memory, so there is
    // nothing here to destroy.
}

#[test]
fn the_mocked_tests_need_no_api_and_no_token() {
    // No token, and an API address where nothing listens: a call would fail.
    let s = Scenario::new()
        .without_token()
        .with_env("PARALLEL_SERVICE_API_URL", "http://127.0.0.1:9");
    copy_example_module(s.work_dir());
    let tested = s.terraform_ok(&[
        "test",
        "-filter=tests/mocked.tftest.hcl",
        "-verbose",
        "-no-color",
    ]);
    tested.assert_contains(&format!("Success! {MOCKED_RUNS} passed, 0 failed."));
    assert!(
        s.request_summary().is_empty(),
        "a mocked test reached the API: {:?}",
        s.request_summary()
    );
}

#[test]
fn raw_keys_are_recognised() {
    assert!(contains_raw_key("x sk-Ab3 y"));
    assert!(!contains_raw_key("display sk-***WXYZ"));
    assert!(!contains_raw_key("sk-"));
}
