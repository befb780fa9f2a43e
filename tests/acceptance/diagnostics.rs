//! What a user reads when the token, the app or the request is wrong.

use crate::harness::Scenario;
use parallel_emulator::{Fault, FaultKind, Method};

fn one_key(s: &Scenario, app_id: &str) {
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{app_id}"
  api_key_name = "diagnosed"
}}
"#
    ));
}

#[test]
fn a_missing_token_names_both_the_variable_and_the_attribute() {
    let s = Scenario::new().without_token();
    one_key(&s, &s.app_id());
    let planned = s.plan_fails();
    planned.assert_contains("Missing Parallel access token");
    planned.assert_contains("PARALLEL_ACCESS_TOKEN");
    planned.assert_contains("access_token");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    // Destroying nothing needs no token either.
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn a_wrong_token_says_how_to_get_a_new_one() {
    // The harness also checks that this (wrong) token is never printed.
    let s = Scenario::new().with_token("emu-wrong-token-0123456789abcdef");
    one_key(&s, &s.app_id());
    let applied = s.apply_fails();
    applied.assert_contains("Parallel access token rejected");
    applied.assert_contains("HTTP 401");
    applied.assert_contains("parallel-cli login");
    applied.assert_contains("PARALLEL_ACCESS_TOKEN");
    assert!(s.emulator.live_keys().is_empty());
    s.finish();
}

#[test]
fn an_unknown_app_is_named_in_the_error() {
    let s = Scenario::new();
    let unknown = "5d1c9a1e-3b0f-4c7e-8a51-2f9d6e4b7c30";
    one_key(&s, unknown);
    let applied = s.apply_fails();
    applied.assert_contains("App not found");
    applied.assert_contains(unknown);
    // The diagnostic points at the attribute, so Terraform quotes its line.
    applied.assert_contains(&format!("app_id = \"{unknown}\""));
    assert_eq!(
        s.requests_matching("POST", "/keys").len(),
        1,
        "a 404 is not retried"
    );
    s.finish();
}

#[test]
fn a_validation_error_from_the_api_reaches_the_user() {
    let s = Scenario::new();
    one_key(&s, &s.app_id());
    let body = r#"{"detail":[{"type":"string_too_long","loc":["body","api_key_name"],"msg":"String should have at most 9 characters","input":"diagnosed","ctx":{"max_length":9}}]}"#;
    s.emulator.push_fault(
        Fault::new(FaultKind::Status {
            code: 422,
            retry_after: None,
            body: Some(body.to_owned()),
        })
        .on(Method::POST, "/keys"),
    );
    let applied = s.apply_fails();
    applied.assert_contains("Parallel rejected the request");
    applied.assert_contains("String should have at most 9 characters");
    // It is about api_key_name, so Terraform quotes that line.
    applied.assert_contains("api_key_name = \"diagnosed\"");
    assert_eq!(
        s.requests_matching("POST", "/keys").len(),
        1,
        "a 422 is not retried"
    );
    assert!(s.emulator.live_keys().is_empty());
    s.finish();
}

/// A provider block with `setting` and a key using it (Terraform validates
/// only providers something uses).
fn provider_and_key(setting: &str, app_id: &str) -> String {
    format!(
        r#"
provider "parallel" {{
  {setting}
}}

resource "parallel_api_key" "main" {{
  app_id       = "{app_id}"
  api_key_name = "diagnosed"
}}
"#
    )
}

#[test]
fn base_url_mistakes_are_caught_by_validate() {
    let s = Scenario::new();
    for (base_url, said) in [
        ("https://", "base_url is not a valid URL"),
        ("ftp://x", "uses the `ftp` scheme"),
        ("", "base_url is not a valid URL"),
    ] {
        s.config(&provider_and_key(
            &format!("base_url = \"{base_url}\""),
            &s.app_id(),
        ));
        let validated = s.terraform_fails(&["validate", "-no-color"]);
        validated.assert_contains("Invalid provider configuration");
        validated.assert_contains(said);
    }
    assert!(s.emulator.requests().is_empty());
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn localhost_with_a_trailing_dot_is_not_taken_for_loopback() {
    let s = Scenario::new();
    let port = s
        .emulator
        .base_url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    s.config(&provider_and_key(
        &format!("base_url = \"http://localhost.:{port}\""),
        &s.app_id(),
    ));
    let validated = s.terraform_fails(&["validate", "-no-color"]);
    validated.assert_contains("plain http to the non-loopback host `localhost.`");
    assert!(s.emulator.requests().is_empty());
    s.write("main.tf", "");
    s.finish();
}
