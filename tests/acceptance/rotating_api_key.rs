//! `parallel_rotating_api_key` through real terraform: rotation when due and
//! when a keeper changes, the overlap window, and nothing lost when the
//! API fails. Durations are seconds, and a test waits for the time the
//! state names (`rotates_at`, `previous_revoke_at`), never for a guess;
//! nothing here bounds how long a step may take.

use crate::harness::{Output, Scenario, describe_request};
use parallel_emulator::{Fault, FaultKind, KeyRecord, Method, RequestRecord};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

const ADDRESS: &str = "parallel_rotating_api_key.main";

/// The resource, with `settings` inside its block, and a consumer that is
/// replaced whenever the secret changes (as a pod reading its secret at
/// start would be restarted); the new consumer comes before the old one
/// goes, so an apply that fails leaves the old one in place.
fn config(s: &Scenario, settings: &str) {
    s.config(&format!(
        r#"{}
resource "terraform_data" "consumer" {{
  triggers_replace = parallel_rotating_api_key.main.raw_api_key

  lifecycle {{
    create_before_destroy = true
  }}
}}
"#,
        resource(s, settings)
    ));
}

/// The resource alone: Terraform's own TRACE log prints what
/// terraform_data holds, so the tests that search that log for secrets
/// have no consumer.
fn config_alone(s: &Scenario, settings: &str) {
    s.config(&resource(s, settings));
}

fn resource(s: &Scenario, settings: &str) -> String {
    format!(
        r#"
resource "parallel_rotating_api_key" "main" {{
  app_id      = "{}"
{settings}
}}
"#,
        s.app_id()
    )
}

/// The settings of a key named `svc-…` rotated by changing `generation`
/// (rotate_after 720h), with `more` attribute lines (such as the overlap).
fn keyed(generation: &str, more: &str) -> String {
    format!(
        r#"  name_prefix  = "svc"
  rotate_after = "720h"
  keepers      = {{ generation = "{generation}" }}
{more}"#
    )
}

fn values(s: &Scenario) -> Value {
    s.resource(ADDRESS)["values"].clone()
}

fn text<'a>(values: &'a Value, name: &str) -> &'a str {
    values[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not a string in state: {values:#}"))
}

/// The secret the consumer was last created with.
fn consumer_secret(s: &Scenario) -> String {
    s.resource("terraform_data.consumer")["values"]["triggers_replace"]
        .as_str()
        .expect("the consumer holds the secret")
        .to_owned()
}

/// Sleeps until the time an RFC 3339 attribute of the state names.
fn wait_for(values: &Value, attribute: &str) {
    let at = humantime::parse_rfc3339(text(values, attribute))
        .unwrap_or_else(|err| panic!("{attribute} is no RFC 3339 time ({err}): {values:#}"));
    if let Ok(left) = at.duration_since(SystemTime::now()) {
        std::thread::sleep(left);
    }
}

fn live(s: &Scenario) -> Vec<KeyRecord> {
    s.emulator.live_keys()
}

fn live_ids(s: &Scenario) -> Vec<String> {
    let mut ids: Vec<String> = live(s).into_iter().map(|k| k.api_key_id).collect();
    ids.sort();
    ids
}

fn key(s: &Scenario, id: &str) -> KeyRecord {
    s.emulator
        .issued_keys()
        .into_iter()
        .find(|k| k.api_key_id == id)
        .unwrap_or_else(|| panic!("the emulator never issued key {id}"))
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

fn creates(s: &Scenario) -> Vec<RequestRecord> {
    s.requests_matching("POST", "/keys")
}

fn deletes(s: &Scenario) -> Vec<RequestRecord> {
    s.requests_matching("DELETE", "/keys/")
}

fn summary(s: &Scenario) -> Vec<String> {
    s.emulator.requests().iter().map(describe_request).collect()
}

/// The state's current key must be exactly as before (the secret too).
#[track_caller]
fn assert_current_unchanged(before: &Value, after: &Value) {
    for name in [
        "api_key_id",
        "api_key_name",
        "raw_api_key",
        "display_value",
        "created_at",
        "rotates_at",
    ] {
        assert_eq!(before[name], after[name], "{name} changed: {after:#}");
    }
}

#[test]
fn a_due_key_rotates_in_place_both_keys_live_for_the_overlap_then_only_the_previous_is_revoked() {
    let s = Scenario::new().tolerate_terraform_data_output_leak();
    config(
        &s,
        r#"  name_prefix  = "search"
  rotate_after = "30s"
  overlap      = "10s""#,
    );
    s.apply();
    let first = values(&s);
    let k1 = key(&s, text(&first, "api_key_id"));
    assert!(k1.api_key_name.starts_with("search-"), "{k1:?}");
    assert_eq!(text(&first, "api_key_name"), k1.api_key_name);
    assert_eq!(text(&first, "raw_api_key"), k1.raw_api_key);
    let created = SystemTime::UNIX_EPOCH + Duration::from_secs(k1.created_at as u64);
    assert_eq!(
        text(&first, "rotates_at"),
        humantime::format_rfc3339_seconds(created + Duration::from_secs(30)).to_string(),
        "rotates_at = created_at + rotate_after"
    );
    assert!(first["previous_api_key_id"].is_null(), "{first:#}");
    assert!(first["previous_revoke_at"].is_null(), "{first:#}");
    assert_eq!(consumer_secret(&s), k1.raw_api_key);

    wait_for(&first, "rotates_at");
    s.emulator.clear_requests();
    let rotated = s.apply();
    rotated.assert_contains("parallel_rotating_api_key.main will be updated in-place");
    let second = values(&s);
    let k2 = key(&s, text(&second, "api_key_id"));
    assert_ne!(k1.api_key_id, k2.api_key_id);
    assert_eq!(
        live_ids(&s),
        sorted(&[&k1.api_key_id, &k2.api_key_id]),
        "both keys are live during the overlap"
    );
    assert_eq!(text(&second, "raw_api_key"), k2.raw_api_key);
    assert_eq!(
        consumer_secret(&s),
        k2.raw_api_key,
        "the consumer got the new secret in the same apply"
    );
    assert_eq!(text(&second, "previous_api_key_id"), k1.api_key_id);
    assert_eq!(text(&second, "previous_api_key_name"), k1.api_key_name);
    assert_eq!(text(&second, "previous_display_value"), k1.display_value);
    assert_eq!(creates(&s).len(), 1, "{:?}", summary(&s));
    assert!(
        deletes(&s).is_empty(),
        "nothing revoked yet: {:?}",
        summary(&s)
    );

    wait_for(&second, "previous_revoke_at");
    s.emulator.clear_requests();
    s.apply();
    let third = values(&s);
    assert_eq!(
        summary(&s),
        [format!(
            "DELETE /service/v1/apps/{}/keys/{} -> 200",
            s.app_id(),
            k1.api_key_id
        )],
        "only the previous key is revoked"
    );
    assert_eq!(live_ids(&s), sorted(&[&k2.api_key_id]));
    assert_current_unchanged(&second, &third);
    for name in [
        "previous_api_key_id",
        "previous_api_key_name",
        "previous_display_value",
        "previous_revoke_at",
    ] {
        assert!(third[name].is_null(), "{name}: {third:#}");
    }
    assert_eq!(
        consumer_secret(&s),
        k2.raw_api_key,
        "the consumer is untouched"
    );
    s.finish();
}

#[test]
fn a_keeper_change_rotates_now_and_with_no_overlap_the_create_comes_before_the_revoke() {
    let s = Scenario::new();
    let settings = |generation: &str, prefix: &str| {
        format!(
            r#"  name_prefix  = "{prefix}"
  rotate_after = "720h"
  keepers      = {{ generation = "{generation}" }}"#
        )
    };
    config(&s, &settings("1", "ci"));
    s.apply();
    let first = values(&s);
    assert_eq!(first["overlap"], "0s", "the default overlap");

    for (generation, prefix) in [("2", "ci"), ("2", "deploy")] {
        let before = values(&s);
        let old = text(&before, "api_key_id").to_owned();
        config(&s, &settings(generation, prefix));
        s.emulator.clear_requests();
        s.apply();
        let after = values(&s);
        let new = text(&after, "api_key_id").to_owned();
        assert_ne!(old, new, "rotated for {generation}/{prefix}");
        assert!(
            text(&after, "api_key_name").starts_with(&format!("{prefix}-")),
            "{after:#}"
        );
        let (created, revoked) = (creates(&s), deletes(&s));
        assert_eq!(created.len(), 1, "{:?}", summary(&s));
        assert_eq!(revoked.len(), 1, "{:?}", summary(&s));
        assert!(
            revoked[0].path.ends_with(&format!("/keys/{old}")),
            "{:?}",
            summary(&s)
        );
        assert!(
            created[0].finished <= revoked[0].started,
            "the new key is created before the old one is revoked: {:?}",
            summary(&s)
        );
        assert_eq!(live_ids(&s), sorted(&[&new]));
        assert!(after["previous_api_key_id"].is_null(), "{after:#}");
        assert_eq!(consumer_secret(&s), key(&s, &new).raw_api_key);
    }
    s.finish();
}

#[test]
fn a_saved_plan_is_applied_as_planned_whatever_the_time_at_apply() {
    let s = Scenario::new().tolerate_terraform_data_output_leak();
    let settings = |generation: &str| {
        format!(
            r#"  name_prefix  = "svc"
  rotate_after = "15s"
  overlap      = "5s"
  keepers      = {{ generation = "{generation}" }}"#
        )
    };
    config(&s, &settings("1"));
    s.apply();
    config(&s, &settings("2"));
    s.apply();
    let rotated = values(&s);

    // Planned when only the previous key is due; applied once the current
    // key is due too.
    wait_for(&rotated, "previous_revoke_at");
    let planned = s.terraform_ok(&["plan", "-out=tfplan", "-input=false", "-no-color"]);
    planned.assert_contains("Plan: 0 to add, 1 to change, 0 to destroy");
    wait_for(&rotated, "rotates_at");
    s.emulator.clear_requests();
    s.terraform_ok(&["apply", "-input=false", "-no-color", "tfplan"]);
    assert_eq!(
        summary(&s),
        [format!(
            "DELETE /service/v1/apps/{}/keys/{} -> 200",
            s.app_id(),
            text(&rotated, "previous_api_key_id")
        )],
        "the saved plan revokes the previous key and rotates nothing"
    );
    let after = values(&s);
    assert_current_unchanged(&rotated, &after);
    assert!(after["previous_api_key_id"].is_null(), "{after:#}");

    // Now due, the next plan rotates.
    s.emulator.clear_requests();
    s.apply();
    assert_ne!(values(&s)["api_key_id"], rotated["api_key_id"]);
    assert_eq!(creates(&s).len(), 1, "{:?}", summary(&s));
    s.finish();
}

#[test]
fn a_failed_create_leaves_state_and_the_live_key_unchanged_and_the_next_apply_rotates() {
    let s = Scenario::new().with_trace_log();
    let settings = |generation: &str| keyed(generation, r#"  overlap      = "1h""#);
    config_alone(&s, &settings("1"));
    s.apply();
    let before = values(&s);

    config_alone(&s, &settings("2"));
    s.emulator
        .push_fault(Fault::new(FaultKind::status(500)).on(Method::POST, "/keys"));
    s.emulator.clear_requests();
    let failed = s.apply_fails();
    failed.assert_contains("API key may have been created");
    failed.assert_contains("nothing was revoked");
    assert!(deletes(&s).is_empty(), "{:?}", summary(&s));
    let after = values(&s);
    assert_eq!(after, before, "the state is exactly as before");
    assert_eq!(live_ids(&s), sorted(&[text(&before, "api_key_id")]));

    s.apply();
    let rotated = values(&s);
    assert_ne!(rotated["api_key_id"], before["api_key_id"]);
    assert_eq!(rotated["previous_api_key_id"], before["api_key_id"]);
    assert_eq!(rotated["keepers"]["generation"], "2");
    assert_eq!(live(&s).len(), 2, "the overlap keeps the old key");
    s.finish();
}

/// Rotates by a keeper change with `overlap`, then waits for the previous
/// key's time: the next apply is due to revoke it.
fn rotated_with_previous_due(s: &Scenario, overlap: &str) -> Value {
    let overlap = format!("  overlap      = \"{overlap}\"");
    let settings = |generation: &str| keyed(generation, &overlap);
    config(s, &settings("1"));
    s.apply();
    config(s, &settings("2"));
    s.apply();
    let rotated = values(s);
    wait_for(&rotated, "previous_revoke_at");
    rotated
}

#[track_caller]
fn assert_previous_kept(s: &Scenario, rotated: &Value, failed: &Output) {
    let previous = text(rotated, "previous_api_key_id");
    failed.assert_contains(&format!("previous_api_key_id = \"{previous}\""));
    failed.assert_contains("the next apply tries to revoke it again");
    let after = values(s);
    assert_eq!(text(&after, "previous_api_key_id"), previous, "{after:#}");
    assert_current_unchanged(rotated, &after);
    assert_eq!(
        live_ids(s),
        sorted(&[previous, text(rotated, "api_key_id")]),
        "the previous key is still live"
    );
}

#[test]
fn a_refused_revoke_keeps_the_previous_key_in_state_and_the_next_apply_revokes_it() {
    let s = Scenario::new().tolerate_terraform_data_output_leak();
    let rotated = rotated_with_previous_due(&s, "2s");
    s.emulator
        .push_fault(Fault::new(FaultKind::status(403)).on(Method::DELETE, "/keys/"));
    let failed = s.apply_fails();
    failed.assert_contains("Parallel access token rejected");
    assert_previous_kept(&s, &rotated, &failed);

    s.emulator.clear_requests();
    s.apply();
    assert_eq!(deletes(&s).len(), 1, "{:?}", summary(&s));
    assert_eq!(live_ids(&s), sorted(&[text(&rotated, "api_key_id")]));
    assert!(values(&s)["previous_api_key_id"].is_null());
    s.finish();
}

#[test]
fn a_revoke_unavailable_past_the_retries_keeps_the_replaced_key_and_the_next_apply_revokes_it() {
    let s = Scenario::new().with_trace_log();
    let settings = |generation: &str| keyed(generation, "");
    s.write(
        "provider.tf",
        "provider \"parallel\" {\n  max_retries = 1\n}\n",
    );
    config_alone(&s, &settings("1"));
    s.apply();
    let before = values(&s);
    // With no overlap the rotating apply revokes the replaced key itself.
    s.emulator.push_fault(
        Fault::new(FaultKind::status(503))
            .on(Method::DELETE, "/keys/")
            .times(2),
    );
    config_alone(&s, &settings("2"));
    let failed = s.apply_fails();
    let rotated = values(&s);
    assert_ne!(
        rotated["api_key_id"], before["api_key_id"],
        "the rotation stands"
    );
    assert_eq!(rotated["previous_api_key_id"], before["api_key_id"]);
    assert_eq!(rotated["keepers"]["generation"], "2");
    assert_previous_kept(&s, &rotated, &failed);

    wait_for(&rotated, "previous_revoke_at");
    s.emulator.clear_requests();
    s.apply();
    assert_eq!(deletes(&s).len(), 1, "{:?}", summary(&s));
    assert!(
        creates(&s).is_empty(),
        "no second rotation: {:?}",
        summary(&s)
    );
    assert_eq!(live_ids(&s), sorted(&[text(&rotated, "api_key_id")]));
    s.finish();
}

#[test]
fn a_rotation_revokes_a_pending_previous_key_and_keeps_it_in_state_when_that_fails() {
    let s = Scenario::new().with_trace_log();
    let settings = |generation: &str| keyed(generation, r#"  overlap      = "1h""#);
    config_alone(&s, &settings("1"));
    s.apply();
    let k1 = text(&values(&s), "api_key_id").to_owned();
    config_alone(&s, &settings("2"));
    s.apply();
    let k2 = text(&values(&s), "api_key_id").to_owned();

    // A third key while k1 is still pending: k1 must go in this apply, and
    // the API refuses.
    s.emulator
        .push_fault(Fault::new(FaultKind::status(403)).on(Method::DELETE, "/keys/"));
    config_alone(&s, &settings("3"));
    let failed = s.apply_fails();
    failed.assert_contains(&format!("unrevoked_api_key_ids = \"{k1}\""));
    let after = values(&s);
    let k3 = text(&after, "api_key_id").to_owned();
    assert!(k3 != k1 && k3 != k2, "{after:#}");
    assert_eq!(text(&after, "previous_api_key_id"), k2);
    assert_eq!(after["unrevoked_api_key_ids"], serde_json::json!([k1]));
    assert_eq!(
        live_ids(&s),
        sorted(&[&k1, &k2, &k3]),
        "no key lost track of"
    );

    s.emulator.clear_requests();
    s.apply();
    assert_eq!(
        summary(&s),
        [format!(
            "DELETE /service/v1/apps/{}/keys/{k1} -> 200",
            s.app_id()
        )]
    );
    let settled = values(&s);
    assert!(settled["unrevoked_api_key_ids"].is_null(), "{settled:#}");
    assert_eq!(text(&settled, "previous_api_key_id"), k2);
    assert_current_unchanged(&after, &settled);

    // Without a failure, a rotation revokes the pending previous key itself.
    config_alone(&s, &settings("4"));
    s.emulator.clear_requests();
    s.apply();
    let deleted: Vec<String> = deletes(&s).into_iter().map(|r| r.path).collect();
    assert_eq!(deleted.len(), 1, "{:?}", summary(&s));
    assert!(deleted[0].ends_with(&k2), "{deleted:?}");
    assert!(creates(&s)[0].finished <= deletes(&s)[0].started);
    assert_eq!(text(&values(&s), "previous_api_key_id"), k3);
    s.finish();
}

#[test]
fn a_new_key_without_its_secret_leaves_the_current_key_and_is_revoked() {
    let s = Scenario::new();
    let settings = |generation: &str| keyed(generation, "");
    config_alone(&s, &settings("1"));
    s.apply();
    let before = values(&s);
    s.emulator.push_fault(
        Fault::new(FaultKind::OmitFieldAfterActing {
            field: "raw_api_key".to_owned(),
        })
        .on(Method::POST, "/keys"),
    );
    config_alone(&s, &settings("2"));
    s.emulator.clear_requests();
    let failed = s.apply_fails();
    failed.assert_contains("Rotation failed: the new key's answer was incomplete");
    failed.assert_contains("It was revoked at once");
    assert_eq!(values(&s), before, "the state is as it was");
    assert_eq!(live_ids(&s), sorted(&[text(&before, "api_key_id")]));
    assert_eq!(deletes(&s).len(), 1, "{:?}", summary(&s));

    // The keeper change still stands: the next apply rotates.
    s.apply();
    assert_ne!(values(&s)["api_key_id"], before["api_key_id"]);
    s.finish();
}

#[test]
fn each_bad_setting_fails_validate_naming_it_without_an_api_call() {
    let s = Scenario::new();
    let cases = [
        (
            r#"  name_prefix  = "x"
  rotate_after = "1h"
  overlap      = "1h""#,
            "Invalid overlap",
            r#"overlap      = "1h""#,
        ),
        (
            r#"  name_prefix  = "x"
  rotate_after = "1h"
  overlap      = "-5m""#,
            "Invalid duration",
            r#"overlap      = "-5m""#,
        ),
        (
            r#"  name_prefix  = "x"
  rotate_after = "monthly""#,
            "Invalid duration",
            r#"rotate_after = "monthly""#,
        ),
        (
            r#"  name_prefix  = "x"
  rotate_after = "-1h""#,
            "Invalid duration",
            r#"rotate_after = "-1h""#,
        ),
        (
            r#"  name_prefix  = ""
  rotate_after = "1h""#,
            "Invalid name_prefix",
            r#"name_prefix  = """#,
        ),
    ];
    for (settings, summary, line) in cases {
        config(&s, settings);
        for output in [
            s.terraform_fails(&["validate", "-no-color"]),
            s.plan_fails(),
        ] {
            output.assert_contains(summary);
            // Terraform quotes the line of the attribute the error names.
            output.assert_contains(line);
        }
    }
    assert!(
        s.emulator.requests().is_empty(),
        "validation must not call the API: {:?}",
        s.request_summary()
    );
    s.write("main.tf", "");
    s.finish();
}

#[test]
fn destroy_revokes_the_current_and_the_previous_key_or_abandons_both() {
    for policy in ["DELETE", "ABANDON"] {
        let s = Scenario::new().tolerate_terraform_data_output_leak();
        let settings = |generation: &str| {
            format!(
                r#"  name_prefix     = "svc"
  rotate_after    = "720h"
  overlap         = "1h"
  deletion_policy = "{policy}"
  keepers         = {{ generation = "{generation}" }}"#
            )
        };
        config(&s, &settings("1"));
        s.apply();
        config(&s, &settings("2"));
        s.apply();
        let both = live_ids(&s);
        assert_eq!(both.len(), 2);
        s.emulator.clear_requests();
        let destroyed = s.destroy();
        if policy == "DELETE" {
            assert_eq!(deletes(&s).len(), 2, "{:?}", summary(&s));
            assert!(live(&s).is_empty());
        } else {
            assert!(deletes(&s).is_empty(), "{:?}", summary(&s));
            assert_eq!(live_ids(&s), both, "both keys are left live");
            // The destroy says what it left alive, naming both keys.
            destroyed.assert_contains("API keys left live");
            for id in &both {
                destroyed.assert_contains(id);
            }
            for id in &both {
                assert!(s.emulator.revoke_out_of_band(id));
            }
        }
        s.finish();
    }
}

#[test]
fn import_is_refused_with_the_reason() {
    let s = Scenario::new();
    config(
        &s,
        r#"  name_prefix  = "x"
  rotate_after = "1h""#,
    );
    let refused = s.terraform_fails(&["import", "-no-color", ADDRESS, "key_1"]);
    refused.assert_contains("parallel_rotating_api_key cannot be imported");
    refused.assert_contains("secret only once");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );
    s.finish();
}

/// Guards against a hang only: the events awaited take seconds.
const HANG_GUARD: Duration = Duration::from_secs(120);

#[track_caller]
fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < HANG_GUARD, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn journal_file(s: &Scenario) -> PathBuf {
    s.home()
        .join(".local/state/terraform-provider-parallel/journal.jsonl")
}

#[test]
fn a_new_key_whose_answer_is_lost_to_a_killed_terraform_is_recorded() {
    let s = Scenario::new().tolerate_terraform_data_output_leak();
    let settings = |generation: &str| keyed(generation, "");
    config(&s, &settings("1"));
    s.apply();
    let before = values(&s);
    config(&s, &settings("2"));
    s.emulator.push_fault(
        Fault::new(FaultKind::HoldAfterActing(Duration::from_secs(3))).on(Method::POST, "/keys"),
    );
    let running = s.spawn_terraform(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    wait_until("the emulator to create the new key", || live(&s).len() == 2);
    let killed = s.kill(running);
    assert_eq!(killed.code, None, "terraform died of the signal");
    let new = live(&s)
        .into_iter()
        .find(|k| k.api_key_id != text(&before, "api_key_id"))
        .expect("the new key");
    let file = journal_file(&s);
    // The create was journaled before it was sent; its answer follows once
    // the held answer comes.
    wait_until("the journal to record the new key", || {
        std::fs::read_to_string(&file).is_ok_and(|text| text.contains(&new.api_key_id))
    });
    let record = std::fs::read_to_string(&file).expect("the journal");
    s.assert_no_secrets("the journal", &record);
    assert_eq!(values(&s), before, "Terraform kept the state it had");

    let plan = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    plan.assert_contains("created while Terraform was interrupted");
    plan.assert_contains(&format!("(ID {}", new.api_key_id));
    assert!(s.emulator.revoke_out_of_band(&new.api_key_id));
    // The keeper change still stands, so the next apply rotates.
    s.apply();
    assert_ne!(values(&s)["api_key_id"], before["api_key_id"]);
    s.finish();
}
