//! `deletion_policy` on `parallel_api_key` (the app's is in `app.rs`), and
//! states written before the attribute existed.

use crate::harness::Scenario;
use parallel_emulator::Method;
use serde_json::Value;

fn key_block(app_id: &str, extra: &str) -> String {
    format!(
        "resource \"parallel_api_key\" \"main\" {{\n  app_id       = \"{app_id}\"\n  \
         api_key_name = \"migrating\"\n{extra}}}\n"
    )
}

#[test]
fn abandon_leaves_the_key_live_and_a_policy_change_makes_no_api_call() {
    let s = Scenario::new();
    s.config(&key_block(&s.app_id(), ""));
    s.apply();
    let key = s.only_live_key();
    s.emulator.clear_requests();
    s.config(&key_block(&s.app_id(), "  deletion_policy = \"ABANDON\"\n"));
    s.apply().assert_contains("0 added, 1 changed, 0 destroyed");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.plan_empty();
    let destroyed = s.destroy();
    assert_eq!(
        s.emulator.live_keys().first().map(|k| k.api_key_id.clone()),
        Some(key.api_key_id.clone()),
        "ABANDON must leave the key live"
    );
    destroyed.assert_contains("Warning: API key left live (deletion_policy = \"ABANDON\")");
    destroyed.assert_contains(&format!(
        "Terraform removed API key \"migrating\" (ID {}) of app {}",
        key.api_key_id,
        s.app_id()
    ));
    destroyed.assert_contains("revoke it in the Parallel platform");
    assert!(
        !s.emulator
            .requests()
            .iter()
            .any(|r| r.method == Method::DELETE),
        "{:?}",
        s.request_summary()
    );
    // Revoked by hand, as the docs ask, so the scenario ends clean.
    assert!(s.emulator.revoke_out_of_band(&key.api_key_id));
    s.finish();
}

#[test]
fn an_invalid_policy_fails_validate_with_no_api_call() {
    let s = Scenario::new();
    s.config(&key_block(&s.app_id(), "  deletion_policy = \"KEEP\"\n"));
    let failed = s.terraform_fails(&["validate", "-no-color"]);
    failed.assert_contains("Invalid deletion_policy");
    failed.assert_contains("deletion_policy");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn a_key_stored_before_deletion_policy_existed_shows_no_change() {
    let s = Scenario::new();
    s.config(&key_block(&s.app_id(), ""));
    s.apply();
    // Rewrite the state as the previous provider version stored it:
    // schema version 0, no deletion_policy.
    let path = s.work_dir().join("terraform.tfstate");
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("state")).expect("JSON");
    let instance = &mut state["resources"][0]["instances"][0];
    instance["schema_version"] = 0.into();
    instance["attributes"]
        .as_object_mut()
        .expect("attributes")
        .remove("deletion_policy");
    std::fs::write(&path, serde_json::to_vec_pretty(&state).expect("JSON")).expect("write");
    s.plan_empty();
    // A plan does not save the upgraded state; a refresh-only apply does.
    s.terraform_ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(
        s.resource("parallel_api_key.main")["values"]["deletion_policy"],
        "DELETE"
    );
    s.finish();
}

#[test]
fn a_replacement_follows_the_policy_in_state_and_says_the_old_key_stays_live() {
    let s = Scenario::new();
    s.config(&key_block(&s.app_id(), "  deletion_policy = \"ABANDON\"\n"));
    s.apply();
    let old = s.only_live_key();
    // One apply that both switches to DELETE and replaces the key (keepers):
    // the old key's destroy sees only the state, whose policy is ABANDON.
    s.config(&key_block(
        &s.app_id(),
        "  deletion_policy = \"DELETE\"\n  keepers = { rotation = \"2\" }\n",
    ));
    let planned = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    planned.assert_contains("Warning: The object being replaced will be left alive");
    planned.assert_contains(&format!(
        "This plan replaces API key \"migrating\" (ID {})",
        old.api_key_id
    ));
    planned.assert_contains("apply deletion_policy = \"DELETE\" alone first");
    let applied = s.apply();
    applied.assert_contains("1 added, 0 changed, 1 destroyed");
    applied.assert_contains("Warning: API key left live");
    applied.assert_contains(&format!("(ID {})", old.api_key_id));
    assert!(
        s.requests_matching("DELETE", "/keys/").is_empty(),
        "{:?}",
        s.request_summary()
    );
    assert_eq!(
        s.emulator.live_keys().len(),
        2,
        "the old key is live, as said"
    );
    // The new key follows DELETE: finish revokes it; the old one by hand.
    assert!(s.emulator.revoke_out_of_band(&old.api_key_id));
    s.finish();
}
