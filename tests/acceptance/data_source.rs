//! `data "parallel_app"`: find an app by name and use its ID.

use crate::harness::Scenario;

#[test]
fn an_app_found_by_name_feeds_a_key() {
    let s = Scenario::new();
    s.config(
        r#"
data "parallel_app" "ci" {
  app_name = "acceptance"
}

resource "parallel_api_key" "main" {
  app_id       = data.parallel_app.ci.app_id
  api_key_name = "from-data-source"
}

output "org_id" {
  value = data.parallel_app.ci.org_id
}
"#,
    );
    s.apply();
    let key = s.only_live_key();
    assert_eq!(key.app_id, s.app.app_id);
    let outputs = s.outputs_json();
    assert_eq!(
        outputs["org_id"]["value"].as_str(),
        Some(s.app.org_id.to_string().as_str())
    );
    s.finish();
}

#[test]
fn an_unknown_app_name_lists_the_apps_there_are() {
    let s = Scenario::new();
    s.config(
        r#"
data "parallel_app" "missing" {
  app_name = "no-such-app"
}
"#,
    );
    let planned = s.plan_fails();
    planned.assert_contains("App not found");
    planned.assert_contains("acceptance");
    s.config("");
    s.finish();
}

#[test]
fn name_and_id_together_fail_validation_without_api_calls() {
    let s = Scenario::new();
    s.config(&format!(
        r#"
data "parallel_app" "both" {{
  app_name = "acceptance"
  app_id   = "{}"
}}
"#,
        s.app_id()
    ));
    let validated = s.terraform_fails(&["validate", "-no-color"]);
    validated.assert_contains("Set exactly one of app_name and app_id");
    assert!(
        s.emulator.requests().is_empty(),
        "validate must not call the API"
    );
    s.config("");
    s.finish();
}

#[test]
fn an_app_id_that_is_no_uuid_fails_validation_without_api_calls() {
    let s = Scenario::new();
    s.config(
        r#"
data "parallel_app" "bad" {
  app_id = "nope"
}
"#,
    );
    let validated = s.terraform_fails(&["validate", "-no-color"]);
    validated.assert_contains("Invalid app_id");
    // The diagnostic points at the attribute, so Terraform quotes its line.
    validated.assert_contains(r#"app_id = "nope""#);
    let planned = s.plan_fails();
    planned.assert_contains("Invalid app_id");
    assert!(
        s.emulator.requests().is_empty(),
        "neither validate nor plan may call the API"
    );
    s.config("");
    s.finish();
}
