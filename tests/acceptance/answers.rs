//! A create answered 2xx, with the real key in it, but one part wrong
//! (issue 14). The key exists and its secret is never shown again, so
//! whatever can be read must reach the state; and what the user is told
//! about the key must be true.

use crate::harness::{Output, Scenario};
use parallel_emulator::{Fault, FaultKind, KeyRecord, Method};
use serde_json::Value;
use std::collections::BTreeMap;

fn key_config(s: &Scenario) {
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "faulty"
}}
"#,
        s.app_id()
    ));
}

/// The next create answers with `replace`'s fields written as raw text and
/// `append` after the JSON.
fn edit_create_answer(s: &Scenario, replace: &[(&str, &str)], append: &str) {
    let replace: BTreeMap<String, String> = replace
        .iter()
        .map(|(name, raw)| ((*name).to_owned(), (*raw).to_owned()))
        .collect();
    s.emulator.push_fault(
        Fault::new(FaultKind::EditBodyAfterActing {
            replace,
            append: append.to_owned(),
        })
        .on(Method::POST, "/keys"),
    );
}

/// The state entry's values, with the live key's secret and (if `with_id`)
/// its ID in them; and the entry is tainted.
#[track_caller]
fn assert_saved_tainted(s: &Scenario, key: &KeyRecord, with_id: bool) -> Value {
    let resource = s.resource("parallel_api_key.main");
    assert_eq!(resource["tainted"], Value::Bool(true), "{resource:#}");
    let values = resource["values"].clone();
    assert_eq!(
        values["raw_api_key"].as_str(),
        Some(key.raw_api_key.as_str()),
        "the secret must be in state"
    );
    let expected_id = with_id.then_some(key.api_key_id.as_str());
    assert_eq!(values["api_key_id"].as_str(), expected_id, "{values:#}");
    values
}

#[track_caller]
fn assert_incomplete(applied: &Output, problem: &str) {
    applied.assert_contains("API key created, but Parallel's answer was incomplete");
    applied.assert_contains(problem);
    applied.assert_not_contains("may have been created");
}

#[test]
fn each_malformation_keeps_the_key_in_state_and_destroy_revokes_it() {
    // (fields replaced by raw text, bytes appended, the problem reported)
    type Case = (
        &'static [(&'static str, &'static str)],
        &'static str,
        &'static str,
    );
    let cases: [Case; 3] = [
        (
            &[("created_at", "1e400")],
            "",
            "`created_at` could not be read (number out of range)",
        ),
        (
            &[],
            "{\"more\":1}",
            "10 unexpected byte(s) follow the JSON object",
        ),
        (
            &[("display_value", r#""par_\ud800""#)],
            "",
            "`display_value` could not be read",
        ),
    ];
    for (replace, append, problem) in cases {
        let s = Scenario::new().with_trace_log();
        key_config(&s);
        edit_create_answer(&s, replace, append);
        let applied = s.apply_fails();
        assert_incomplete(&applied, problem);
        applied.assert_contains("the secret included, was saved in state");
        applied.assert_contains("the next apply revokes it");
        let key = s.only_live_key();
        applied.assert_contains(&format!("API key \"faulty\" (ID {})", key.api_key_id));
        assert_saved_tainted(&s, &key, true);
        // finish: destroy revokes the key saved from the broken answer.
        s.finish();
    }
}

#[test]
fn nesting_deeper_than_serde_allows_in_an_unused_field_costs_nothing() {
    let s = Scenario::new().with_trace_log();
    key_config(&s);
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    edit_create_answer(&s, &[("extra", &deep)], "");
    s.apply();
    let key = s.only_live_key();
    let values = &s.resource("parallel_api_key.main")["values"];
    assert_eq!(values["api_key_id"].as_str(), Some(key.api_key_id.as_str()));
    assert_eq!(
        values["raw_api_key"].as_str(),
        Some(key.raw_api_key.as_str())
    );
    s.finish();
}

/// An answer whose api_key_id is absent, not a string, or not usable in a
/// request path: the key is saved (secret included) and the texts promise
/// no revocation; destroy drops it with a warning that says how to find it,
/// and the user revokes it in the platform, as told.
#[test]
fn an_answer_without_a_usable_id_keeps_the_secret_and_names_the_key() {
    let cases: [(Option<&str>, &str); 4] = [
        (None, "`api_key_id` is missing"),
        (Some("42"), "`api_key_id` is a number, expected a string"),
        (Some(r#""""#), "`api_key_id` is empty"),
        (Some("\"..\""), "`api_key_id` is `..`"),
    ];
    for (raw_id, problem) in cases {
        let s = Scenario::new().with_trace_log();
        key_config(&s);
        match raw_id {
            Some(raw) => edit_create_answer(&s, &[("api_key_id", raw)], ""),
            None => s.emulator.push_fault(
                Fault::new(FaultKind::OmitFieldAfterActing {
                    field: "api_key_id".into(),
                })
                .on(Method::POST, "/keys"),
            ),
        }
        let applied = s.apply_fails();
        assert_incomplete(&applied, problem);
        applied.assert_contains("Without its ID Terraform cannot revoke this key");
        applied.assert_contains("WITHOUT revoking it");
        applied.assert_not_contains("the next apply revokes it");
        let key = s.only_live_key();
        let finding = format!("key named \"faulty\", shown as \"{}\"", key.display_value);
        applied.assert_contains(&finding);
        applied.assert_contains(&format!("app {}", s.app_id()));
        assert_saved_tainted(&s, &key, false);

        let destroyed = s.destroy();
        destroyed.assert_contains("API key not revoked");
        destroyed.assert_contains(&finding);
        destroyed.assert_contains("created at");
        assert!(
            s.requests_matching("DELETE", "/keys").is_empty(),
            "{:?}",
            s.request_summary()
        );
        assert!(s.emulator.revoke_out_of_band(&key.api_key_id));
        s.finish();
    }
}
