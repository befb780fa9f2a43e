//! Which Terraform the suite drives (the one on PATH, or
//! $PARALLEL_TEST_TERRAFORM), and what only newer ones can do: tests of a
//! newer Terraform's features start with `require_terraform`.

use crate::harness::{
    Scenario, TERRAFORM_ENV, TerraformVersion, require_terraform, terraform_binary,
    terraform_version,
};

#[test]
fn scenarios_run_the_terraform_the_suite_was_given() {
    // Which binary the suite was given, found here without the harness:
    // $PARALLEL_TEST_TERRAFORM, else `terraform` on PATH.
    let given = std::env::var_os(TERRAFORM_ENV)
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "terraform".into());
    let reported = std::process::Command::new(&given)
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run the given terraform");
    let reported = String::from_utf8_lossy(&reported.stdout);
    let first_line = reported.lines().next().unwrap_or_default();
    // As a scenario runs it (its own environment and CLI configuration),
    // the binary is that one, and the version the harness skips by is its.
    let s = Scenario::new();
    let version = s.terraform_ok(&["version"]);
    assert_eq!(
        version.stdout.lines().next(),
        Some(first_line),
        "the scenario did not run {given:?}\n{}",
        version.report()
    );
    assert_eq!(
        first_line,
        format!("Terraform v{}", terraform_version()),
        "the harness skips by another version than the one it runs"
    );
    if std::env::var_os(TERRAFORM_ENV).is_some_and(|value| !value.is_empty()) {
        let chosen = std::path::absolute(&given).expect("an absolute path");
        assert_eq!(terraform_binary(), chosen, "{TERRAFORM_ENV} is not used");
    }
}

#[test]
fn versions_compare_by_number_not_by_text() {
    let v = |text: &str| TerraformVersion::parse(text).expect(text);
    assert!(v("1.11.4").at_least(&v("1.9")), "1.11 is newer than 1.9");
    assert!(v("1.15.5").at_least(&v("1.14")));
    assert!(v("1.14.0-rc1").at_least(&v("1.14")));
    assert!(!v("1.11.4").at_least(&v("1.12")));
    assert!(!v("1.9.8").at_least(&v("1.10")));
    for bad in ["", "one", "1.2.3.4", "1..2"] {
        assert!(TerraformVersion::parse(bad).is_none(), "{bad:?}");
    }
    // Every Terraform the suite supports has what 1.0 has. (A refusal is
    // not tried here: it would print a SKIPPED line, which CI counts.)
    assert!(require_terraform("1.0", "anything"));
}

#[test]
fn terraform_query_says_keys_have_no_list_resource() {
    if !require_terraform("1.14", "terraform query") {
        return;
    }
    let s = Scenario::new();
    s.config("");
    s.write(
        "keys.tfquery.hcl",
        "list \"parallel_api_key\" \"all\" {\n  provider = parallel\n}\n",
    );
    // The API has no call that lists keys (nor reads one), so the provider
    // offers no list resource, and Terraform says so before any API call.
    let query = s.terraform_fails(&["query", "-no-color"]);
    query.assert_contains("Invalid list resource");
    query.assert_contains(
        "The provider parallel-web/parallel does not support list resource \"parallel_api_key\"",
    );
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.finish();
}
