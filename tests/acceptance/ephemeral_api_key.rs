//! `ephemeral "parallel_api_key"` (Terraform 1.10 and later): a key for one
//! run. Terraform opens it in plan and again in apply, so each phase makes
//! (and revokes) its own key; no secret reaches a state or plan file.

use crate::harness::{Scenario, require_terraform};
use parallel_emulator::{Fault, FaultKind, KeyRecord, Method};

const NAME: &str = "smoke-test";

/// An ephemeral key whose secret feeds a local (so Terraform opens it),
/// next to a managed object so there is a state to search.
fn ephemeral_config(s: &Scenario, provider_block: &str) {
    s.config(&format!(
        r#"
{provider_block}

ephemeral "parallel_api_key" "ci" {{
  app_id       = "{}"
  api_key_name = "{NAME}"
}}

locals {{
  key = ephemeral.parallel_api_key.ci.raw_api_key
}}

resource "terraform_data" "marker" {{
  input = "kept"
}}
"#,
        s.app_id()
    ));
}

fn ephemeral_keys(s: &Scenario) -> Vec<KeyRecord> {
    s.emulator
        .issued_keys()
        .into_iter()
        .filter(|key| key.api_key_name == NAME)
        .collect()
}

fn statuses(s: &Scenario, method: &str, fragment: &str) -> Vec<Option<u16>> {
    s.requests_matching(method, fragment)
        .iter()
        .map(|r| r.status)
        .collect()
}

#[track_caller]
fn assert_no_ephemeral_secret(s: &Scenario, what: &str, text: &str) {
    let keys = ephemeral_keys(s);
    assert!(!keys.is_empty(), "no ephemeral key was made");
    for key in keys {
        assert!(
            !text.contains(&key.raw_api_key),
            "{what} holds the secret of ephemeral key {}",
            key.api_key_id
        );
    }
    s.assert_no_secrets(what, text);
}

fn skip() -> bool {
    !require_terraform("1.10", "ephemeral resources")
}

#[test]
fn a_key_is_opened_in_plan_and_in_apply_and_revoked_at_close() {
    if skip() {
        return;
    }
    let s = Scenario::new().with_trace_log();
    ephemeral_config(&s, "");
    let planned = s.terraform_ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    planned.assert_contains("ephemeral.parallel_api_key.ci: Closing complete");
    assert_eq!(ephemeral_keys(&s).len(), 1, "plan made its own key");
    assert!(s.emulator.live_keys().is_empty(), "and revoked it");

    s.terraform_ok(&["apply", "-input=false", "-no-color", "tfplan"]);
    assert_eq!(ephemeral_keys(&s).len(), 2, "apply made another");
    assert!(
        s.emulator.live_keys().is_empty(),
        "no live key after apply: {:?}",
        s.request_summary()
    );
    assert_eq!(
        statuses(&s, "DELETE", "/keys/"),
        [Some(200), Some(200)],
        "each key revoked at close"
    );
    s.plan_empty();

    let state = std::fs::read_to_string(s.work_dir().join("terraform.tfstate"))
        .expect("the apply wrote a state file");
    assert!(state.contains("terraform_data"), "{state}");
    assert_no_ephemeral_secret(&s, "the state file", &state);

    s.terraform_ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    let plan_file = std::fs::read(s.work_dir().join("tfplan")).expect("plan file");
    assert_no_ephemeral_secret(&s, "the plan file", &String::from_utf8_lossy(&plan_file));
    let shown = s.terraform_ok(&["show", "-json", "-no-color", "tfplan"]);
    assert_no_ephemeral_secret(&s, "`terraform show -json` of the plan", &shown.stdout);
    assert!(s.emulator.live_keys().is_empty());
    s.finish();
}

#[test]
fn close_retries_a_failed_revocation() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    ephemeral_config(&s, "");
    s.emulator
        .push_fault(Fault::new(FaultKind::status(500)).on(Method::DELETE, "/keys/"));
    let planned = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    planned.assert_not_contains("not revoked");
    assert_eq!(statuses(&s, "DELETE", "/keys/"), [Some(500), Some(200)]);
    assert!(s.emulator.live_keys().is_empty());
    s.finish();
}

#[test]
fn a_key_close_cannot_revoke_is_named_in_a_warning() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    ephemeral_config(&s, "provider \"parallel\" {\n  max_retries = 1\n}");
    s.emulator.push_fault(
        Fault::new(FaultKind::status(500))
            .on(Method::DELETE, "/keys/")
            .times(2),
    );
    let planned = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    let key = ephemeral_keys(&s).pop().expect("plan made a key");
    planned.assert_contains("Warning: Ephemeral API key not revoked");
    planned.assert_contains(&format!(
        "revoke it by hand in the Parallel platform: app {}, key ID {}",
        s.app_id(),
        key.api_key_id
    ));
    planned.assert_contains("HTTP 500");
    // What the warning promises: the provider tries again as the run ends.
    crate::killed_terraform::wait_until("the end of the run to revoke the key", || {
        s.emulator.live_keys().is_empty()
    });
    assert_eq!(
        statuses(&s, "DELETE", "/keys/"),
        [Some(500), Some(500), Some(200)],
        "retried, given up at close, revoked at the end of the run"
    );
    s.finish();
}

#[test]
fn an_incomplete_create_answer_is_revoked_rather_than_lost() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    ephemeral_config(&s, "");
    s.emulator.push_fault(
        Fault::new(FaultKind::OmitFieldAfterActing {
            field: "created_at".to_owned(),
        })
        .on(Method::POST, "/keys"),
    );
    let failed = s.plan_fails();
    failed.assert_contains("API key created, but Parallel's answer was incomplete");
    failed.assert_contains("Terraform revoked the key rather than hand out an incomplete one");
    assert_eq!(ephemeral_keys(&s).len(), 1);
    assert!(s.emulator.live_keys().is_empty(), "revoked at once");
    s.finish();
}

#[test]
fn an_answer_without_a_key_id_names_the_key_to_revoke_by_hand() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    ephemeral_config(&s, "");
    s.emulator.push_fault(
        Fault::new(FaultKind::OmitFieldAfterActing {
            field: "api_key_id".to_owned(),
        })
        .on(Method::POST, "/keys"),
    );
    let failed = s.plan_fails();
    let key = s.only_live_key();
    failed.assert_contains("holds no usable api_key_id");
    failed.assert_contains(&format!("key named \"{NAME}\""));
    failed.assert_contains(&format!("shown as \"{}\"", key.display_value));
    assert!(s.emulator.revoke_out_of_band(&key.api_key_id));
    s.finish();
}
