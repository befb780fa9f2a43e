//! The warning Terraform prints when a rotation feeds the new key to a
//! consumer ("this attribute value will no longer be marked as sensitive
//! after applying this change"), and why it is harmless; the guide
//! templates/guides/sensitive-value-warning.md tells users the same.

use crate::harness::Scenario;
use serde_json::Value;

fn consumer_config(s: &Scenario, generation: &str) {
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "rotated"
  keepers      = {{ generation = "{generation}" }}

  lifecycle {{
    create_before_destroy = true
  }}
}}

resource "terraform_data" "consumer" {{
  triggers_replace = {{
    api_key = parallel_api_key.main.raw_api_key
  }}
}}
"#,
        s.app_id()
    ));
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|change| change["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
}

#[test]
fn the_rotation_warning_drops_no_mark_from_the_state() {
    let s = Scenario::new();
    consumer_config(&s, "1");
    s.apply();

    consumer_config(&s, "2");
    let plan = s.terraform_ok(&["plan", "-input=false", "-no-color", "-out=rotation.tfplan"]);
    plan.assert_contains("this attribute value will no longer be marked as sensitive");
    let shown = s.terraform_ok(&["show", "-json", "-no-color", "rotation.tfplan"]);
    let plan_json: Value = serde_json::from_str(&shown.stdout).expect("plan JSON");

    // 1. The provider's plan marks the new, unknown secret sensitive.
    let key = change(&plan_json, "parallel_api_key.main");
    assert_eq!(key["change"]["after_unknown"]["raw_api_key"], true);
    assert_eq!(key["change"]["after_sensitive"]["raw_api_key"], true);
    // 2. Terraform drops the mark only on the consumer's unknown nested
    //    value, which is what the warning is about.
    let consumer = change(&plan_json, "terraform_data.consumer");
    assert_eq!(
        consumer["change"]["before_sensitive"]["triggers_replace"]["api_key"],
        true
    );
    assert_ne!(
        consumer["change"]["after_sensitive"]["triggers_replace"]["api_key"],
        true
    );

    // 3. Once applied, the value is sensitive in the state again, and the
    //    next plan has nothing to warn about.
    s.terraform_ok(&["apply", "-input=false", "-no-color", "rotation.tfplan"]);
    s.plan_empty();
    let consumer = s.resource("terraform_data.consumer");
    assert_eq!(
        consumer["sensitive_values"]["triggers_replace"]["api_key"],
        true
    );
    s.finish();
}
