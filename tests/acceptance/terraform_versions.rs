//! Which Terraform the suite drives (the one on PATH, or
//! $PARALLEL_TEST_TERRAFORM), and what only newer ones can do: tests of a
//! newer Terraform's features start with `require_terraform`.

use crate::harness::{
    Scenario, TERRAFORM_ENV, require_terraform, terraform_binary, terraform_version,
};

#[test]
fn scenarios_run_the_terraform_the_suite_was_given() {
    if let Some(chosen) = std::env::var_os(TERRAFORM_ENV).filter(|value| !value.is_empty()) {
        let chosen = std::path::absolute(&chosen).expect("an absolute path");
        assert_eq!(terraform_binary(), chosen, "{TERRAFORM_ENV} is not used");
    }
    // As a scenario runs it (its own environment and CLI configuration),
    // the binary is the version the harness read and skips by.
    let s = Scenario::new();
    let version = s.terraform_ok(&["version"]);
    assert_eq!(
        version.stdout.lines().next(),
        Some(format!("Terraform v{}", terraform_version()).as_str()),
        "{}",
        version.report()
    );
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
