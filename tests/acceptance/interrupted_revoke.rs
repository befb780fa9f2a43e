//! Ctrl-C during a slow revoke: Parallel revokes the key, but Terraform
//! may never hear it. A state that kept the revoked key planned "No
//! changes" while its consumers held a dead key; now the revoke runs to
//! its answer, and when that answer is lost anyway, the journal tells the
//! next read that the key is gone, so the next plan creates it again.

use crate::harness::{Running, Scenario};
use crate::killed_terraform::{alive, providers_of, wait_until};
use parallel_emulator::{Fault, FaultKind, Method};
use std::time::Duration;

/// Creates a key, then starts a destroy whose revoke Parallel performs and
/// holds the answer of; returns once the key is revoked.
fn destroy_with_held_revoke(s: &Scenario) -> (Running, Vec<u32>) {
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "revoked-slowly"
}}
"#,
        s.app_id()
    ));
    s.apply();
    let held =
        Fault::new(FaultKind::HoldAfterActing(Duration::from_secs(5))).on(Method::DELETE, "/keys/");
    s.emulator.push_fault(held);
    let running = s.spawn_terraform(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    wait_until("the emulator to revoke the key", || {
        s.emulator.live_keys().is_empty()
    });
    let providers = providers_of(running.pid());
    (running, providers)
}

/// The next plan must create the key again (exit code 2: changes).
#[track_caller]
fn assert_planned_again(s: &Scenario) {
    let plan = s.terraform(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(plan.code, Some(2), "{}", plan.report());
    plan.assert_contains("parallel_api_key.main will be created");
}

#[test]
fn one_ctrl_c_during_a_revoke_lets_it_reach_the_state() {
    let s = Scenario::new();
    let (running, providers) = destroy_with_held_revoke(&s);
    running.interrupt();
    s.wait_for(running);
    wait_until("the provider processes to exit", || {
        !providers.iter().any(|pid| alive(*pid))
    });
    assert_planned_again(&s);
    s.apply();
    s.finish();
}

#[test]
fn a_revoke_whose_answer_two_ctrl_c_lost_is_planned_again() {
    let s = Scenario::new();
    let (running, providers) = destroy_with_held_revoke(&s);
    running.interrupt();
    std::thread::sleep(Duration::from_millis(400));
    running.interrupt();
    s.wait_for(running);
    wait_until("the provider processes to exit", || {
        !providers.iter().any(|pid| alive(*pid))
    });
    let listed = s.terraform_ok(&["state", "list"]);
    assert!(
        listed.stdout.contains("parallel_api_key.main"),
        "the interrupted destroy kept the key in state (the case this test is about)\n{}",
        listed.report()
    );
    assert_planned_again(&s);
    s.apply();
    s.finish();
}
