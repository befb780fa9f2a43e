//! A state edited by hand, or carrying values an older provider accepted:
//! the provider says which key and that the value came from the state.

use crate::harness::Scenario;
use serde_json::Value;

fn key_config(s: &Scenario, app_id: &str) {
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{app_id}"
  api_key_name = "edited"
}}
"#
    ));
}

/// Rewrites the local state file's only resource instance, as a person
/// with an editor would.
fn edit_state(s: &Scenario, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let path = s.work_dir().join("terraform.tfstate");
    let text = std::fs::read_to_string(&path).expect("read the state file");
    let mut state: Value = serde_json::from_str(&text).expect("the state is JSON");
    let attributes = state["resources"][0]["instances"][0]["attributes"]
        .as_object_mut()
        .expect("one resource instance in state");
    edit(attributes);
    std::fs::write(&path, state.to_string()).expect("write the state file");
}

#[test]
fn a_secret_deleted_from_state_by_hand_is_warned_about() {
    let s = Scenario::new();
    key_config(&s, &s.app_id());
    s.apply();
    edit_state(&s, |attributes| {
        attributes.insert("raw_api_key".into(), Value::Null);
    });
    let planned = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    planned.assert_contains("API key secret missing from state");
    planned.assert_contains("The state holds no raw_api_key for API key \"edited\"");
    planned.assert_contains("No changes");
    s.plan_empty();
    s.finish();
}

#[test]
fn an_unusable_id_in_state_is_named_on_destroy_and_the_key_can_be_found() {
    for bad in ["", ".."] {
        let s = Scenario::new();
        key_config(&s, &s.app_id());
        s.apply();
        let key = s.only_live_key();
        edit_state(&s, |attributes| {
            attributes.insert("api_key_id".into(), Value::from(bad));
        });
        s.emulator.clear_requests();
        let destroyed = s.destroy();
        destroyed.assert_contains("API key not revoked");
        destroyed.assert_contains(&format!(
            "the api_key_id recorded in state, {bad:?}, cannot address a key"
        ));
        destroyed.assert_contains("came from the state, not from the configuration");
        destroyed.assert_contains(&format!(
            "key named \"edited\", shown as \"{}\"",
            key.display_value
        ));
        assert!(s.requests_matching("DELETE", "/keys").is_empty());
        assert!(s.emulator.revoke_out_of_band(&key.api_key_id));
        s.finish();
    }
}

#[test]
fn an_invalid_app_id_in_state_says_it_came_from_the_state() {
    let s = Scenario::new();
    key_config(&s, &s.app_id());
    s.apply();
    let key = s.only_live_key();
    edit_state(&s, |attributes| {
        attributes.insert("app_id".into(), Value::from("not-a-uuid"));
    });
    let destroyed = s.terraform_fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    destroyed.assert_contains("Invalid app_id in state");
    destroyed.assert_contains(&format!(
        "Terraform cannot revoke API key \"edited\" (ID {})",
        key.api_key_id
    ));
    destroyed.assert_contains("came from the state, not from the configuration");
    // The entry stays, so putting the UUID back lets destroy finish.
    let app_id = s.app_id();
    edit_state(&s, |attributes| {
        attributes.insert("app_id".into(), Value::from(app_id));
    });
    s.finish();
}

#[test]
fn the_same_uuid_spelled_another_way_does_not_replace_the_key() {
    let s = Scenario::new();
    let app_id = s.app_id();
    key_config(&s, &app_id);
    s.apply();
    let key = s.only_live_key();
    for spelling in [
        app_id.to_uppercase(),
        format!("{{{app_id}}}"),
        format!("urn:uuid:{app_id}"),
        app_id.clone(),
    ] {
        key_config(&s, &spelling);
        let planned = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
        planned.assert_not_contains("forces replacement");
        s.emulator.clear_requests();
        s.apply();
        assert!(
            s.emulator.requests().is_empty(),
            "{spelling}: {:?}",
            s.request_summary()
        );
        assert_eq!(s.only_live_key().api_key_id, key.api_key_id, "{spelling}");
        let values = &s.resource("parallel_api_key.main")["values"];
        assert_eq!(values["app_id"].as_str(), Some(spelling.as_str()));
        assert_eq!(
            values["raw_api_key"].as_str(),
            Some(key.raw_api_key.as_str())
        );
    }
    s.finish();
}

#[test]
fn an_api_key_id_that_is_no_id_is_refused_at_plan_and_the_key_stays() {
    let s = Scenario::new();
    key_config(&s, &s.app_id());
    s.apply();
    let key = s.only_live_key();
    let edited = format!("{} (the old one)", key.api_key_id);
    edit_state(&s, |attributes| {
        attributes.insert("api_key_id".into(), Value::from(edited.as_str()));
    });
    s.emulator.clear_requests();
    let planned = s.plan_fails();
    planned.assert_contains("Invalid api_key_id in state");
    planned.assert_contains("with parallel_api_key.main");
    planned.assert_contains(&format!("{edited:?}"));
    planned.assert_contains("came from the state, not from the configuration");
    // A destroy is refused the same way, before any request: the key is
    // neither revoked by a wrong ID nor dropped from state.
    let destroyed = s.terraform_fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    destroyed.assert_contains("Invalid api_key_id in state");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    assert_eq!(s.only_live_key().api_key_id, key.api_key_id);
    // What the error says to do.
    let id = key.api_key_id.clone();
    edit_state(&s, |attributes| {
        attributes.insert("api_key_id".into(), Value::from(id));
    });
    s.plan_empty();
    s.finish();
}
