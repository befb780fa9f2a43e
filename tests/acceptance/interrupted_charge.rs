//! Ctrl-C while `parallel_add_balance` waits for Parallel's answer
//! (Terraform 1.14 and later). Terraform 1.15 crashes when a provider
//! streams progress after StopProvider, so after a stop the action sends
//! nothing more; and a charge whose outcome Terraform never showed is
//! named by the next run, with its idempotency key, from the journal.

use crate::harness::{Running, Scenario, require_terraform};
use crate::killed_terraform::{alive, providers_of, wait_until};
use parallel_emulator::{Fault, FaultKind, Method};
use std::time::Duration;

const KEY: &str = "held-charge-0001";

/// Starts an invocation whose charge Parallel makes, then holds the answer
/// of; returns once the charge is made.
fn invoke_held(s: &Scenario) -> Running {
    s.config(&format!(
        r#"
action "parallel_add_balance" "topup" {{
  config {{
    amount_cents    = 500
    idempotency_key = "{KEY}"
  }}
}}
"#
    ));
    let held = Fault::new(FaultKind::HoldAfterActing(Duration::from_secs(5)))
        .on(Method::POST, "/balance/add");
    s.emulator.push_fault(held);
    let running = s.spawn_terraform(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-invoke=action.parallel_add_balance.topup",
    ]);
    wait_until("the emulator to make the charge", || {
        !s.emulator.charges().is_empty()
    });
    running
}

#[test]
fn one_ctrl_c_during_a_charge_does_not_crash_terraform_and_charges_once() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new();
    let running = invoke_held(&s);
    running.interrupt();
    let interrupted = s.wait_for(running);
    interrupted.assert_not_contains("TERRAFORM CRASH");
    assert_ne!(interrupted.code, Some(11), "{}", interrupted.report());
    assert_eq!(s.emulator.charges().len(), 1);

    // Whether or not Terraform showed the outcome, the user learns it, with
    // the key that makes asking again safe.
    let next = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    let shown = interrupted.flat().contains(KEY) || next.flat().contains(KEY);
    assert!(shown, "{}\n{}", interrupted.report(), next.report());
    s.config("");
    s.finish();
}

#[test]
fn a_charge_whose_answer_two_ctrl_c_lost_is_named_by_the_next_run() {
    if !require_terraform("1.14", "actions") {
        return;
    }
    let s = Scenario::new();
    let running = invoke_held(&s);
    let providers = providers_of(running.pid());
    running.interrupt();
    std::thread::sleep(Duration::from_millis(400));
    running.interrupt();
    let interrupted = s.wait_for(running);
    interrupted.assert_not_contains("TERRAFORM CRASH");
    wait_until("the provider processes to exit", || {
        !providers.iter().any(|pid| alive(*pid))
    });
    assert_eq!(s.emulator.charges().len(), 1);

    let next = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    next.assert_contains(&format!(
        "Charge \"{KEY}\" whose outcome never reached Terraform"
    ));
    next.assert_contains("$5.00 (500 cents)");
    next.assert_contains(&format!(
        "Invoking the action again with idempotency_key = \"{KEY}\" is safe"
    ));
    let again = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    again.assert_not_contains("whose outcome never reached Terraform");
    s.config("");
    s.finish();
}
