//! `data "parallel_balance"` (any Terraform) and the
//! `parallel_add_balance` action (Terraform 1.14 and later): a charge is
//! real money, so an invocation charges at most once, whatever the API does.

use crate::harness::{Output, Scenario, require_terraform};
use parallel_emulator::{Fault, FaultKind, Method};

const INVOKE: &str = "-invoke=action.parallel_add_balance.topup";

fn action_config(s: &Scenario, arguments: &str) {
    s.config(&format!(
        r#"
action "parallel_add_balance" "topup" {{
  config {{
{arguments}
  }}
}}
"#
    ));
}

/// `terraform apply -invoke=…`, which must succeed and leave an empty plan.
#[track_caller]
fn invoke(s: &Scenario) -> Output {
    s.apply_with(&[INVOKE])
}

#[track_caller]
fn invoke_fails(s: &Scenario) -> Output {
    s.terraform_fails(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        INVOKE,
    ])
}

fn add_balance_calls(s: &Scenario) -> Vec<Option<u16>> {
    s.requests_matching("POST", "/balance/add")
        .iter()
        .map(|r| r.status)
        .collect()
}

#[test]
fn the_balance_data_source_reads_the_organization() {
    let s = Scenario::new().with_trace_log();
    s.config(
        r#"
data "parallel_balance" "org" {}

output "balance" {
  value = data.parallel_balance.org
}
"#,
    );
    s.apply();
    let balance = &s.outputs_json()["balance"]["value"];
    let expected = s.emulator.balance();
    assert_eq!(balance["org_id"].as_str(), Some(expected.org_id.as_str()));
    assert_eq!(balance["credit_balance_cents"].as_i64(), Some(1_000));
    assert_eq!(balance["pending_debit_balance_cents"].as_i64(), Some(0));
    assert_eq!(balance["will_invoice"].as_bool(), Some(false));
    s.config("");
    s.finish();
}

#[test]
fn an_invocation_charges_once_and_reports_the_new_balance() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new().with_trace_log();
    action_config(&s, "    amount_cents = 500");
    let invoked = invoke(&s);
    invoked.assert_contains("Charging $5.00 (500 cents)");
    invoked.assert_contains("(generated for this invocation)");
    invoked.assert_contains("Added $5.00.");
    invoked.assert_contains("is now $15.00 credit, $0.00 pending debits");
    assert_eq!(add_balance_calls(&s), [Some(200)]);
    let charges = s.emulator.charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].amount_cents, 500);
    assert_eq!(s.emulator.balance().credit_balance_cents, 1_500);

    // Each invocation without a configured key is a charge of its own.
    invoke(&s).assert_contains("is now $20.00 credit");
    let charges = s.emulator.charges();
    assert_eq!(charges.len(), 2);
    assert_ne!(charges[0].idempotency_key, charges[1].idempotency_key);
    s.finish();
}

#[test]
fn a_503_on_add_balance_makes_exactly_one_charge() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new().with_trace_log();
    action_config(&s, "    amount_cents = 250");
    s.emulator
        .push_fault(Fault::new(FaultKind::status(503)).on(Method::POST, "/balance/add"));
    invoke(&s).assert_contains("is now $12.50 credit");
    assert_eq!(add_balance_calls(&s), [Some(503), Some(200)]);
    assert_eq!(s.emulator.charges().len(), 1);
    assert_eq!(s.emulator.balance().credit_balance_cents, 1_250);
    s.finish();
}

#[test]
fn an_ambiguous_failure_shows_the_key_and_repeating_it_charges_nothing_more() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new().with_trace_log();
    action_config(&s, "    amount_cents = 500");
    s.emulator
        .push_fault(Fault::new(FaultKind::DropAfterActing).on(Method::POST, "/balance/add"));
    let failed = invoke_fails(&s);
    failed.assert_contains("Balance may have been added");
    failed.assert_contains("It was not retried after this failure");
    assert_eq!(add_balance_calls(&s), [None], "one attempt, not retried");
    let charges = s.emulator.charges();
    assert_eq!(charges.len(), 1, "the dropped request did charge");
    let key = charges[0].idempotency_key.clone();
    failed.assert_contains(&format!("set idempotency_key = \"{key}\""));

    // What the error says to do: invoke again with that key.
    action_config(
        &s,
        &format!("    amount_cents    = 500\n    idempotency_key = \"{key}\""),
    );
    let repeated = invoke(&s);
    repeated.assert_contains(&format!("idempotency key \"{key}\""));
    repeated.assert_contains("is now $15.00 credit");
    repeated.assert_contains("Nothing new was charged");
    repeated.assert_not_contains("Added $5.00");
    assert_eq!(s.emulator.charges().len(), 1, "no second charge");
    assert_eq!(s.emulator.balance().credit_balance_cents, 1_500);
    s.finish();
}

#[test]
fn an_invoice_billed_organization_is_refused_before_any_charge() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new();
    s.emulator.set_will_invoice(true);
    action_config(&s, "    amount_cents = 500");
    let refused = invoke_fails(&s);
    refused.assert_contains("Organization is billed by invoice");
    refused.assert_contains("Nothing was charged");
    assert!(
        add_balance_calls(&s).is_empty(),
        "no charge attempted: {:?}",
        s.request_summary()
    );
    assert!(s.emulator.charges().is_empty());
    s.finish();
}

#[test]
fn bad_amounts_and_keys_fail_at_validate_naming_the_attribute() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new();
    for (arguments, summary, quoted) in [
        (
            "    amount_cents = 0",
            "Invalid amount_cents",
            "amount_cents = 0",
        ),
        (
            "    amount_cents = 10001",
            "Invalid amount_cents",
            "amount_cents = 10001",
        ),
        (
            "    amount_cents    = 500\n    idempotency_key = \"short\"",
            "Invalid idempotency_key",
            "idempotency_key = \"short\"",
        ),
    ] {
        action_config(&s, arguments);
        let validated = s.terraform_fails(&["validate", "-no-color"]);
        validated.assert_contains(summary);
        // The diagnostic points at the attribute, so Terraform quotes its line.
        validated.assert_contains(quoted);
        invoke_fails(&s).assert_contains(summary);
    }
    assert!(
        s.emulator.requests().is_empty(),
        "neither validate nor plan may call the API: {:?}",
        s.request_summary()
    );
    s.config("");
    s.finish();
}

#[test]
fn a_key_reused_for_another_amount_says_so_not_to_check_the_arguments() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new();
    let key = "topup-2026-12";
    action_config(
        &s,
        &format!("    amount_cents    = 500\n    idempotency_key = \"{key}\""),
    );
    invoke(&s).assert_contains("Added $5.00.");
    action_config(
        &s,
        &format!("    amount_cents    = 300\n    idempotency_key = \"{key}\""),
    );
    let refused = invoke_fails(&s);
    refused.assert_contains("Idempotency key already used for another amount");
    refused.assert_contains("Nothing new was charged");
    refused.assert_not_contains("check the resource's arguments");
    assert_eq!(s.emulator.charges().len(), 1);
    s.finish();
}
