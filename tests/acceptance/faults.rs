//! The API misbehaving, through the emulator's fault injection and real
//! terraform. Every scenario logs at TRACE, and `finish` checks that the
//! log holds neither the access token nor any raw key.
//!
//! Creating a key is not idempotent and its secret is shown once, so the
//! rule under test is: a create is retried only when the API certainly did
//! not act (429, 503); otherwise the user is told a key may exist, and no
//! duplicate is ever made. Deletes are idempotent and retried freely.

use crate::harness::{Scenario, describe_request};
use parallel_emulator::{Fault, FaultKind, Method, RequestRecord};
use std::time::Duration;

fn key_config(s: &Scenario, provider_block: &str) {
    s.config(&format!(
        r#"
{provider_block}

resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "faulty"
}}
"#,
        s.app_id()
    ));
}

fn creates(s: &Scenario) -> Vec<RequestRecord> {
    s.requests_matching("POST", "/keys")
}

fn deletes(s: &Scenario) -> Vec<RequestRecord> {
    s.requests_matching("DELETE", "/keys/")
}

fn statuses(records: &[RequestRecord]) -> Vec<Option<u16>> {
    records.iter().map(|r| r.status).collect()
}

fn on_create(kind: FaultKind) -> Fault {
    Fault::new(kind).on(Method::POST, "/keys")
}

fn on_delete(kind: FaultKind) -> Fault {
    Fault::new(kind).on(Method::DELETE, "/keys/")
}

/// A key the API made although Terraform could not learn of it: the error
/// told the user to look for it and revoke it, which the test does here.
#[track_caller]
fn revoke_the_orphan(s: &Scenario) {
    let orphan = s.only_live_key();
    assert_eq!(orphan.api_key_name, "faulty");
    let listed = s.terraform(&["state", "list"]);
    assert!(
        listed.stdout.trim().is_empty(),
        "a key whose creation failed must not be in state:\n{}",
        listed.report()
    );
    assert!(s.emulator.revoke_out_of_band(&orphan.api_key_id));
}

#[track_caller]
fn assert_may_have_been_created(output: &crate::harness::Output) {
    output.assert_contains("API key may have been created");
    output.assert_contains("It was not retried after this failure, so no duplicate was made");
}

#[test]
fn rate_limited_creates_wait_for_retry_after_and_make_one_key() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    s.emulator.push_fault(
        on_create(FaultKind::Status {
            code: 429,
            retry_after: Some("1".to_owned()),
            body: None,
        })
        .times(2),
    );
    s.apply();
    s.only_live_key();
    let creates = creates(&s);
    assert_eq!(statuses(&creates), [Some(429), Some(429), Some(200)]);
    for pair in creates.windows(2) {
        let waited = pair[1].started.saturating_duration_since(pair[0].finished);
        // Retry-After: 1 was honoured (a little slack for clock rounding).
        assert!(
            waited >= Duration::from_millis(900),
            "retried after only {waited:?}"
        );
    }
    s.finish();
}

#[test]
fn an_unavailable_create_is_retried_and_makes_one_key() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    s.emulator.push_fault(on_create(FaultKind::status(503)));
    s.apply();
    s.only_live_key();
    assert_eq!(statuses(&creates(&s)), [Some(503), Some(200)]);
    s.finish();
}

#[test]
fn a_server_error_on_create_is_not_retried_and_warns_that_a_key_may_exist() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    s.emulator.push_fault(on_create(FaultKind::status(500)));
    let applied = s.apply_fails();
    assert_may_have_been_created(&applied);
    applied.assert_contains("HTTP 500");
    assert_eq!(statuses(&creates(&s)), [Some(500)], "exactly one POST");
    assert!(
        s.emulator.live_keys().is_empty(),
        "no duplicate, and this 500 did not act"
    );
    s.finish();
}

#[test]
fn a_create_slower_than_request_timeout_fails_with_a_timeout_error() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "provider \"parallel\" {\n  request_timeout = \"1s\"\n}");
    s.emulator
        .push_fault(on_create(FaultKind::Latency(Duration::from_secs(3))));
    let applied = s.apply_fails();
    assert_may_have_been_created(&applied);
    applied.assert_contains("did not answer completely within 1s");
    applied.assert_contains("request_timeout");

    // The emulator finishes (or abandons) the slow request on its own time;
    // only then is it known whether it made a key.
    let record = wait_for_one_create(&s);
    match record.status {
        // The request ran to completion: the key exists although Terraform
        // gave up, exactly the case the error message warned about.
        Some(200) => revoke_the_orphan(&s),
        _ => assert!(s.emulator.live_keys().is_empty()),
    }
    assert_eq!(
        creates(&s).len(),
        1,
        "a timed-out create must not be retried"
    );
    s.finish();
}

/// Waits until the emulator has logged the (single) create request.
fn wait_for_one_create(s: &Scenario) -> RequestRecord {
    // Not a performance bound: only a guard against waiting forever.
    for _ in 0..1200 {
        if let Some(record) = creates(s).into_iter().next() {
            return record;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "the emulator never logged the create: {:?}",
        s.request_summary()
    );
}

#[test]
fn a_connection_dropped_before_the_api_acted_makes_no_key_and_no_duplicate() {
    // From the client's side a connection closed after the request was
    // written looks the same whether or not the server acted, so a create
    // cannot be retried safely; the user is warned and applies again.
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    s.emulator
        .push_fault(on_create(FaultKind::DropBeforeActing));
    let applied = s.apply_fails();
    assert_may_have_been_created(&applied);
    assert_eq!(
        statuses(&creates(&s)),
        [None],
        "exactly one POST, unanswered"
    );
    assert!(s.emulator.live_keys().is_empty());

    // Applying again, as the message says, gives exactly one key.
    s.apply();
    s.only_live_key();
    assert_eq!(statuses(&creates(&s)), [None, Some(200)]);
    s.finish();
}

#[test]
fn a_connection_dropped_after_the_api_acted_warns_that_a_key_may_exist() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    s.emulator.push_fault(on_create(FaultKind::DropAfterActing));
    let applied = s.apply_fails();
    assert_may_have_been_created(&applied);
    applied.assert_contains("connection to Parallel broke");
    assert_eq!(
        statuses(&creates(&s)),
        [None],
        "exactly one POST, unanswered"
    );
    revoke_the_orphan(&s);
    s.finish();
}

#[test]
fn a_non_json_success_answer_is_a_clear_error_without_secrets() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    // A broken middlebox page that even echoes the request's credentials:
    // the error excerpt must not repeat them (the harness checks the token
    // is absent from all output and from the log).
    let page = format!(
        "<html><body><h1>Gateway says OK</h1><pre>Authorization: Bearer {}</pre></body></html>",
        s.emulator.token()
    );
    s.emulator
        .push_fault(on_create(FaultKind::MalformedBodyAfterActing {
            body: page,
            status: 200,
        }));
    let applied = s.apply_fails();
    assert_may_have_been_created(&applied);
    applied.assert_contains("HTTP 200 but the answer could not be read");
    applied.assert_contains("Gateway says OK");
    assert_eq!(statuses(&creates(&s)), [Some(200)], "exactly one POST");
    revoke_the_orphan(&s);
    s.finish();
}

#[test]
fn an_incomplete_success_answer_saves_the_key_tainted_and_destroy_revokes_it() {
    let s = Scenario::new().with_trace_log();
    s.emulator.push_fault(
        Fault::new(FaultKind::OmitFieldAfterActing {
            field: "created_at".into(),
        })
        .on(Method::POST, "/keys"),
    );
    key_config(&s, "");

    let applied = s.apply_fails();
    applied.assert_contains("API key created, but Parallel's answer was incomplete");
    applied.assert_contains("`created_at` is missing");
    let key = s.only_live_key();

    let resource = s.resource("parallel_api_key.main");
    assert_eq!(
        resource["tainted"],
        serde_json::Value::Bool(true),
        "{resource:#}"
    );
    let values = &resource["values"];
    assert_eq!(values["api_key_id"].as_str(), Some(key.api_key_id.as_str()));
    assert_eq!(
        values["raw_api_key"].as_str(),
        Some(key.raw_api_key.as_str())
    );
    assert!(values["created_at"].is_null(), "{values:#}");

    let planned = s.terraform(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(
        planned.code,
        Some(2),
        "a tainted key must be replaced\n{}",
        planned.report()
    );
    planned.assert_contains("is tainted, so must be replaced");

    s.emulator.clear_requests();
    s.destroy();
    assert_eq!(
        deletes(&s).iter().map(describe_request).collect::<Vec<_>>(),
        [format!(
            "DELETE /service/v1/apps/{}/keys/{} -> 200",
            s.app_id(),
            key.api_key_id
        )],
        "destroy must revoke the key saved from the incomplete answer"
    );
    s.finish();
}

#[test]
fn a_delete_is_retried_through_unavailable() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    s.apply();
    s.emulator.clear_requests();
    s.emulator.push_fault(on_delete(FaultKind::status(503)));
    s.destroy();
    assert_eq!(statuses(&deletes(&s)), [Some(503), Some(200)]);
    s.finish();
}

#[test]
fn a_delete_whose_connection_dropped_is_retried() {
    for kind in [FaultKind::DropBeforeActing, FaultKind::DropAfterActing] {
        let s = Scenario::new().with_trace_log();
        key_config(&s, "");
        s.apply();
        s.emulator.clear_requests();
        s.emulator.push_fault(on_delete(kind.clone()));
        s.destroy();
        // After acting, the retry finds the key gone (404), which is success.
        let expected_retry = match kind {
            FaultKind::DropAfterActing => Some(404),
            _ => Some(200),
        };
        assert_eq!(
            statuses(&deletes(&s)),
            [None, expected_retry],
            "{}: {:?}",
            kind.name(),
            s.request_summary()
        );
        s.finish();
    }
}

#[test]
fn timed_out_deletes_name_their_keys() {
    let s = Scenario::new().with_trace_log();
    s.config(&format!(
        r#"
resource "parallel_api_key" "many" {{
  count        = 3
  app_id       = "{}"
  api_key_name = "faulty-${{count.index}}"
  timeouts {{
    delete = "1s"
  }}
}}
"#,
        s.app_id()
    ));
    s.apply();
    let keys = s.emulator.live_keys();
    assert_eq!(keys.len(), 3);
    s.emulator
        .push_fault(on_delete(FaultKind::Latency(Duration::from_secs(3))).times(3));
    let destroyed = s.terraform_fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    for key in &keys {
        destroyed.assert_contains(&format!(
            "Revoking API key \"{}\" (ID {}) of app {} (\"{}\"): the operation did not finish \
             within its timeout (1s)",
            key.api_key_name,
            key.api_key_id,
            s.app_id(),
            key.app_name
        ));
    }
    // The slow deletes may still have acted; either way a second destroy
    // leaves nothing.
    s.finish();
}

#[test]
fn an_oversized_success_answer_shows_its_beginning() {
    let s = Scenario::new().with_trace_log();
    key_config(&s, "");
    let body = format!("{{\"pad\":\"{}\"}}", "x".repeat((1 << 20) + 100));
    s.emulator
        .push_fault(on_create(FaultKind::MalformedBodyAfterActing {
            body,
            status: 200,
        }));
    let applied = s.apply_fails();
    assert_may_have_been_created(&applied);
    applied.assert_contains("the answer is larger than 1024 KiB");
    applied.assert_contains("it begins with: {\"pad\":");
    applied.assert_not_contains("begins with: .");
    revoke_the_orphan(&s);
    s.finish();
}
