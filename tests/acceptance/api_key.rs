//! The life of `parallel_api_key` through real terraform: create, read,
//! hand the secret on, replace, rotate, destroy, validate, scale, import.

use crate::harness::{Scenario, describe_request, terraform_version};
use serde_json::Value;
use std::collections::BTreeSet;

/// A `parallel_api_key` resource block.
fn key_resource(label: &str, app_id: &str, api_key_name: &str, extra: &str) -> String {
    format!(
        r#"
resource "parallel_api_key" "{label}" {{
  app_id       = "{app_id}"
  api_key_name = "{api_key_name}"
{extra}
}}
"#
    )
}

#[test]
fn create_records_every_attribute_and_plan_and_refresh_make_no_api_call() {
    let s = Scenario::new();
    s.config(&key_resource("main", &s.app_id(), "ci-deploy", ""));
    s.apply();

    let key = s.only_live_key();
    assert_eq!(key.api_key_name, "ci-deploy");
    assert_eq!(key.app_id, s.app.app_id);
    let user_agent = s.emulator.requests()[0]
        .user_agent
        .clone()
        .unwrap_or_default();
    // The Terraform version is the one the running terraform announced in
    // ConfigureProvider.
    assert_eq!(
        user_agent,
        format!(
            "terraform-provider-parallel/{} terraform/{}",
            env!("CARGO_PKG_VERSION"),
            terraform_version()
        ),
        "the User-Agent should name the provider and Terraform versions"
    );
    assert_eq!(
        s.request_summary(),
        [format!("POST /service/v1/apps/{}/keys -> 200", s.app_id())],
        "one apply must create the key with one request"
    );

    let resource = s.resource("parallel_api_key.main");
    let values = &resource["values"];
    let expected_strings = [
        ("id", key.api_key_id.as_str()),
        ("api_key_id", key.api_key_id.as_str()),
        ("app_id", &s.app_id()),
        ("api_key_name", "ci-deploy"),
        ("app_name", key.app_name.as_str()),
        ("created_by_user_id", key.created_by_user_id.as_str()),
        ("created_by_user_email", key.created_by_user_email.as_str()),
        ("display_value", key.display_value.as_str()),
        ("raw_api_key", key.raw_api_key.as_str()),
    ];
    for (attribute, expected) in expected_strings {
        assert_eq!(
            values[attribute].as_str(),
            Some(expected),
            "state attribute {attribute} (state: {values:#})"
        );
    }
    assert_eq!(
        values["created_at"].as_i64(),
        Some(key.created_at),
        "created_at in state"
    );
    assert!(
        values["keepers"].is_null(),
        "keepers was not configured: {values:#}"
    );
    assert_eq!(
        resource["sensitive_values"]["raw_api_key"],
        Value::Bool(true),
        "raw_api_key must be marked sensitive: {resource:#}"
    );
    for public in [
        "api_key_id",
        "display_value",
        "app_name",
        "created_by_user_email",
    ] {
        assert!(
            resource["sensitive_values"][public].is_null(),
            "{public} must not be sensitive: {resource:#}"
        );
    }

    // The API cannot read a key back, so plan and refresh must be served
    // from state alone.
    s.emulator.clear_requests();
    s.plan_empty();
    s.terraform_ok(&["refresh", "-input=false", "-no-color"]);
    s.terraform_ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert!(
        s.emulator.requests().is_empty(),
        "plan/refresh called the API: {:?}",
        s.request_summary()
    );
    assert_eq!(
        s.resource("parallel_api_key.main")["values"],
        *values,
        "refresh changed the state"
    );

    s.finish();
}

const TEAM_MODULE: &str = r#"
terraform {
  required_providers {
    parallel = {
      source = "parallel-web/parallel"
    }
  }
}

variable "app_id" {
  type = string
}

variable "names" {
  type = set(string)
}

resource "parallel_api_key" "member" {
  for_each     = var.names
  app_id       = var.app_id
  api_key_name = each.key
}

output "keys" {
  value     = { for name, key in parallel_api_key.member : name => key.raw_api_key }
  sensitive = true
}
"#;

#[test]
fn the_secret_reaches_outputs_terraform_data_and_module_outputs_but_is_never_shown() {
    // terraform_data's own `output` attribute is Terraform's leak, not ours.
    let s = Scenario::new().tolerate_terraform_data_output_leak();
    s.write("modules/team/main.tf", TEAM_MODULE);
    s.config(&format!(
        r#"
{key}

resource "terraform_data" "consumer" {{
  input = parallel_api_key.main.raw_api_key
}}

module "team" {{
  source = "./modules/team"
  app_id = "{app_id}"
  names  = ["alpha", "beta"]
}}

output "main_key" {{
  value     = parallel_api_key.main.raw_api_key
  sensitive = true
}}

output "consumer_saw" {{
  value     = terraform_data.consumer.output
  sensitive = true
}}

output "team_keys" {{
  value     = module.team.keys
  sensitive = true
}}

output "main_display" {{
  value = parallel_api_key.main.display_value
}}
"#,
        key = key_resource("main", &s.app_id(), "main", ""),
        app_id = s.app_id(),
    ));
    s.terraform_ok(&["get", "-no-color"]);
    let applied = s.apply();

    // In the plan the secret is "(sensitive value)", among the outputs
    // "<sensitive>"; the harness already checked no raw key was printed.
    applied.assert_contains("raw_api_key = (sensitive value)");
    applied.assert_contains("main_key = <sensitive>");
    applied.assert_contains("team_keys = <sensitive>");

    let keys = s.emulator.live_keys();
    let raw_of = |name: &str| {
        keys.iter()
            .find(|k| k.api_key_name == name)
            .map(|k| k.raw_api_key.clone())
            .unwrap_or_else(|| panic!("no live key named {name}: {keys:?}"))
    };
    assert_eq!(keys.len(), 3, "main + alpha + beta: {keys:?}");

    let outputs = s.outputs_json();
    assert_eq!(outputs["main_key"]["sensitive"], Value::Bool(true));
    assert_eq!(
        outputs["main_key"]["value"].as_str(),
        Some(raw_of("main").as_str())
    );
    assert_eq!(
        outputs["consumer_saw"]["value"].as_str(),
        Some(raw_of("main").as_str())
    );
    assert_eq!(
        outputs["team_keys"]["value"]["alpha"].as_str(),
        Some(raw_of("alpha").as_str())
    );
    assert_eq!(
        outputs["team_keys"]["value"]["beta"].as_str(),
        Some(raw_of("beta").as_str())
    );
    assert_eq!(outputs["main_display"]["sensitive"], Value::Bool(false));

    let consumer = s.resource("terraform_data.consumer");
    assert_eq!(
        consumer["sensitive_values"]["input"],
        Value::Bool(true),
        "sensitivity must follow the key into terraform_data: {consumer:#}"
    );
    let member = s.resource("module.team.parallel_api_key.member[\"alpha\"]");
    assert_eq!(member["values"]["api_key_name"], "alpha");

    // The raw value on its own is printed only when asked for by name.
    let raw = s.terraform_ok(&["output", "-raw", "-no-color", "main_key"]);
    assert_eq!(raw.stdout, raw_of("main"));

    s.finish();
}

#[test]
fn renaming_a_key_replaces_it() {
    let s = Scenario::new();
    s.config(&key_resource("main", &s.app_id(), "before", ""));
    s.apply();
    let old = s.only_live_key();

    s.config(&key_resource("main", &s.app_id(), "after", ""));
    s.emulator.clear_requests();
    let applied = s.apply();
    applied.assert_contains("must be replaced");
    applied.assert_contains("1 added, 0 changed, 1 destroyed");

    let new = s.only_live_key();
    assert_eq!(new.api_key_name, "after");
    assert_ne!(
        new.api_key_id, old.api_key_id,
        "the old key must be revoked, not kept"
    );
    assert_eq!(
        s.request_summary(),
        [
            format!(
                "DELETE /service/v1/apps/{}/keys/{} -> 200",
                s.app_id(),
                old.api_key_id
            ),
            format!("POST /service/v1/apps/{}/keys -> 200", s.app_id()),
        ],
        "without create_before_destroy the old key goes first"
    );
    assert_eq!(
        s.resource("parallel_api_key.main")["values"]["api_key_id"].as_str(),
        Some(new.api_key_id.as_str())
    );
    s.finish();
}

#[test]
fn changing_only_timeouts_updates_in_place_without_touching_the_key() {
    let s = Scenario::new();
    let with_timeouts = |create: &str| {
        key_resource(
            "main",
            &s.app_id(),
            "timed",
            &format!("  timeouts {{\n    create = \"{create}\"\n  }}"),
        )
    };
    s.config(&with_timeouts("1m"));
    s.apply();
    let key = s.only_live_key();

    s.config(&with_timeouts("2m"));
    s.emulator.clear_requests();
    let applied = s.apply();
    applied.assert_contains("updated in-place");
    applied.assert_contains("0 added, 1 changed, 0 destroyed");
    assert!(
        s.request_summary().is_empty(),
        "a timeouts change must not call the API"
    );
    assert_eq!(s.only_live_key().api_key_id, key.api_key_id);
    s.finish();
}

#[test]
fn keepers_rotation_with_create_before_destroy_creates_the_new_key_first() {
    let s = Scenario::new();
    let config = |rotation: &str| {
        key_resource(
            "main",
            &s.app_id(),
            "rotated",
            &format!(
                "  keepers = {{\n    rotation = \"{rotation}\"\n  }}\n  lifecycle {{\n    create_before_destroy = true\n  }}"
            ),
        )
    };
    s.config(&config("2024-01"));
    s.apply();
    let old = s.only_live_key();
    assert_eq!(
        s.resource("parallel_api_key.main")["values"]["keepers"]["rotation"],
        "2024-01"
    );

    s.config(&config("2024-02"));
    s.emulator.clear_requests();
    let applied = s.apply();
    applied.assert_contains("must be replaced");

    let new = s.only_live_key();
    assert_ne!(new.api_key_id, old.api_key_id);
    let requests = s.emulator.requests();
    let summary: Vec<String> = requests.iter().map(describe_request).collect();
    let [create, revoke] = requests.as_slice() else {
        panic!("expected one create and one revoke, got {summary:?}");
    };
    assert_eq!(create.method.as_str(), "POST", "{summary:?}");
    assert_eq!(revoke.method.as_str(), "DELETE", "{summary:?}");
    assert!(revoke.path.ends_with(&old.api_key_id), "{summary:?}");
    assert!(
        create.finished <= revoke.started,
        "the new key must exist before the old one is revoked: {summary:?}"
    );
    assert_eq!(
        s.resource("parallel_api_key.main")["values"]["keepers"]["rotation"],
        "2024-02"
    );
    s.finish();
}

#[test]
fn destroy_revokes_keys_even_those_already_revoked_out_of_band() {
    let s = Scenario::new();
    s.config(&format!(
        "{}{}",
        key_resource("kept", &s.app_id(), "kept", ""),
        key_resource("gone", &s.app_id(), "gone", "")
    ));
    s.apply();
    let keys = s.emulator.live_keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let gone = keys
        .iter()
        .find(|k| k.api_key_name == "gone")
        .expect("the key named gone");
    assert!(s.emulator.revoke_out_of_band(&gone.api_key_id));

    s.emulator.clear_requests();
    let destroyed = s.destroy();
    destroyed.assert_contains("2 destroyed");
    let deletes: BTreeSet<String> = s
        .requests_matching("DELETE", "/keys/")
        .iter()
        .map(describe_request)
        .collect();
    let kept_id = &keys
        .iter()
        .find(|k| k.api_key_name == "kept")
        .expect("kept")
        .api_key_id;
    let expected: BTreeSet<String> = [
        format!(
            "DELETE /service/v1/apps/{}/keys/{kept_id} -> 200",
            s.app_id()
        ),
        format!(
            "DELETE /service/v1/apps/{}/keys/{} -> 404",
            s.app_id(),
            gone.api_key_id
        ),
    ]
    .into();
    assert_eq!(
        deletes, expected,
        "one revoke per key, the vanished one answering 404"
    );
    assert!(s.emulator.live_keys().is_empty());
    s.finish();
}

#[test]
fn invalid_arguments_fail_validate_and_plan_naming_the_attribute_without_api_calls() {
    let s = Scenario::new();
    s.config(&format!(
        "{}{}",
        key_resource("bad_app", "not-a-uuid", "fine", ""),
        key_resource("bad_name", &s.app_id(), "", "")
    ));
    for output in [
        s.terraform_fails(&["validate", "-no-color"]),
        s.plan_fails(),
    ] {
        output.assert_contains("Invalid app_id");
        output.assert_contains("is not a UUID");
        output.assert_contains(r#""parallel_app""#);
        // Terraform quotes the configuration line of the attribute the
        // diagnostic points at; without an attribute path it would quote
        // the resource header instead.
        output.assert_contains(r#"app_id       = "not-a-uuid""#);
        output.assert_contains("Invalid api_key_name");
        output.assert_contains(r#"api_key_name = """#);
    }
    assert!(
        s.emulator.requests().is_empty(),
        "validation must not call the API: {:?}",
        s.request_summary()
    );
    // Destroy validates the configuration too.
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn sixty_keys_are_created_concurrently_and_all_distinct() {
    let s = Scenario::new();
    // A little latency makes overlapping requests observable.
    s.emulator
        .set_latency(std::time::Duration::from_millis(100));
    s.config(&format!(
        r#"
resource "parallel_api_key" "fleet" {{
  count        = 60
  app_id       = "{}"
  api_key_name = "fleet-${{count.index}}"
}}
"#,
        s.app_id()
    ));
    s.apply_with(&["-parallelism=10"]);

    let keys = s.emulator.live_keys();
    assert_eq!(keys.len(), 60, "one key per instance");
    let ids: BTreeSet<&str> = keys.iter().map(|k| k.api_key_id.as_str()).collect();
    let raws: BTreeSet<&str> = keys.iter().map(|k| k.raw_api_key.as_str()).collect();
    let names: BTreeSet<&str> = keys.iter().map(|k| k.api_key_name.as_str()).collect();
    assert_eq!(
        (ids.len(), raws.len(), names.len()),
        (60, 60, 60),
        "keys must be distinct"
    );
    assert_eq!(
        s.requests_matching("POST", "/keys").len(),
        60,
        "no create retried or repeated"
    );
    let concurrency = s.emulator.max_concurrent_requests();
    assert!(
        (2..=10).contains(&concurrency),
        "with -parallelism=10 the creates must overlap, at most 10 at once; saw {concurrency}"
    );

    let show = s.show_json();
    let in_state: BTreeSet<String> = show["values"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["values"]["api_key_id"].as_str().map(str::to_owned))
        .collect();
    let live: BTreeSet<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    assert_eq!(
        in_state, live,
        "the state must hold exactly the emulator's keys"
    );

    s.emulator.clear_requests();
    s.terraform_ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-parallelism=10",
    ]);
    s.finish();
}

#[test]
fn import_is_refused_with_an_explanation() {
    let s = Scenario::new();
    s.config(&key_resource("main", &s.app_id(), "imported", ""));
    let imported = s.terraform_fails(&[
        "import",
        "-input=false",
        "-no-color",
        "parallel_api_key.main",
        "0b7f3c1e-1d2a-4a53-9b7e-0d5f2d6c9a10",
    ]);
    imported.assert_contains("parallel_api_key cannot be imported");
    imported.assert_contains("returns a key's secret only once");

    // The same through an `import` block (Terraform 1.5+).
    s.config(&format!(
        "{}\nimport {{\n  to = parallel_api_key.main\n  id = \"0b7f3c1e-1d2a-4a53-9b7e-0d5f2d6c9a10\"\n}}\n",
        key_resource("main", &s.app_id(), "imported", "")
    ));
    s.plan_fails()
        .assert_contains("parallel_api_key cannot be imported");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );

    s.write("main.tf", "");
    s.finish();
}
