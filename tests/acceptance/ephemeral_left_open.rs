//! Ephemeral keys Terraform never closes. Terraform skips
//! `CloseEphemeralResource` when anything upstream of the close failed,
//! and a kill or Ctrl-C ends the run before it: in every case no ephemeral
//! key may be live after the run, or at the latest after the next run on
//! the same machine (which revokes what the journal shows left open).

use crate::harness::{Running, Scenario, require_terraform};
use crate::killed_terraform::{alive, providers_of, wait_until};
use parallel_emulator::{Fault, FaultKind, Method};
use std::time::Duration;

const PREFIX: &str = "left-open";

fn skip() -> bool {
    !require_terraform("1.10", "ephemeral resources")
}

fn ephemeral_block(s: &Scenario, label: &str) -> String {
    format!(
        r#"
ephemeral "parallel_api_key" "{label}" {{
  app_id       = "{}"
  api_key_name = "{PREFIX}-{label}"
}}
"#,
        s.app_id()
    )
}

fn live_ephemeral_keys(s: &Scenario) -> Vec<String> {
    s.emulator
        .live_keys()
        .into_iter()
        .filter(|key| key.api_key_name.starts_with(PREFIX))
        .map(|key| format!("{} ({})", key.api_key_name, key.api_key_id))
        .collect()
}

/// The configuration of a next run that succeeds: one ephemeral key used
/// by a local, closed as usual.
fn healthy_config(s: &Scenario) {
    s.config(&format!(
        "{}\nlocals {{\n  key = ephemeral.parallel_api_key.ok.raw_api_key\n}}\n",
        ephemeral_block(s, "ok")
    ));
}

/// No ephemeral key live now; or, failing that, after the next run.
#[track_caller]
fn assert_none_live_after_at_most_the_next_run(s: &Scenario, what: &str) {
    if live_ephemeral_keys(s).is_empty() {
        return;
    }
    healthy_config(s);
    let next = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    let left = live_ephemeral_keys(s);
    assert!(
        left.is_empty(),
        "after {what} and the next run, ephemeral keys are live: {left:?}\n{}",
        next.report()
    );
}

/// Waits for the provider processes of a terraform that ended.
fn wait_for_providers(providers: &[u32]) {
    wait_until("the provider processes to exit", || {
        !providers.iter().any(|pid| alive(*pid))
    });
}

#[test]
fn a_local_exec_that_fails_after_using_the_key_leaves_no_key() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    s.config(&format!(
        r#"{}
resource "terraform_data" "use" {{
  input = "x"
  provisioner "local-exec" {{
    command     = "test -n \"$KEY\"; exit 3"
    environment = {{ KEY = ephemeral.parallel_api_key.ci.raw_api_key }}
  }}
}}
"#,
        ephemeral_block(&s, "ci")
    ));
    let failed = s.apply_fails();
    failed.assert_contains("exit status 3");
    assert_none_live_after_at_most_the_next_run(&s, "a failed local-exec");
    s.config("");
    s.finish();
}

#[test]
fn a_later_ephemeral_resource_that_fails_leaves_no_key() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    s.config(&format!(
        r#"{}
ephemeral "parallel_api_key" "bad" {{
  app_id       = "00000000-0000-4000-8000-000000000000"
  api_key_name = "{PREFIX}-bad-${{length(ephemeral.parallel_api_key.ci.api_key_id)}}"
}}

locals {{
  key = ephemeral.parallel_api_key.bad.raw_api_key
}}
"#,
        ephemeral_block(&s, "ci")
    ));
    s.plan_fails().assert_contains("App not found");
    assert_none_live_after_at_most_the_next_run(&s, "a failed ephemeral resource");
    s.config("");
    s.finish();
}

/// A plan whose ephemeral key Parallel creates, then holds the answer of;
/// returns once the key exists.
fn plan_with_held_open(s: &Scenario) -> (Running, Vec<u32>) {
    s.config(&format!(
        "{}\nlocals {{\n  key = ephemeral.parallel_api_key.slow.raw_api_key\n}}\n",
        ephemeral_block(s, "slow")
    ));
    let held =
        Fault::new(FaultKind::HoldAfterActing(Duration::from_secs(3))).on(Method::POST, "/keys");
    s.emulator.push_fault(held);
    let running = s.spawn_terraform(&["plan", "-input=false", "-no-color"]);
    wait_until("the emulator to create the key", || {
        !live_ephemeral_keys(s).is_empty()
    });
    let providers = providers_of(running.pid());
    (running, providers)
}

#[test]
fn one_ctrl_c_during_a_slow_open_leaves_no_key() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    let (running, providers) = plan_with_held_open(&s);
    running.interrupt();
    s.wait_for(running);
    wait_for_providers(&providers);
    assert_none_live_after_at_most_the_next_run(&s, "a Ctrl-C during open");
    s.config("");
    s.finish();
}

#[test]
fn a_sigkill_during_a_slow_open_leaves_no_key() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    let (running, providers) = plan_with_held_open(&s);
    s.kill(running);
    wait_for_providers(&providers);
    assert_none_live_after_at_most_the_next_run(&s, "a SIGKILL during open");
    s.config("");
    s.finish();
}

#[test]
fn two_ctrl_c_while_the_key_is_in_use_leave_no_key() {
    if skip() {
        return;
    }
    let s = Scenario::new();
    let started = s.work_dir().join("started");
    s.config(&format!(
        r#"{}
resource "terraform_data" "use" {{
  input = "x"
  provisioner "local-exec" {{
    command     = "test -n \"$KEY\" && touch '{}' && sleep 20"
    environment = {{ KEY = ephemeral.parallel_api_key.ci.raw_api_key }}
  }}
}}
"#,
        ephemeral_block(&s, "ci"),
        started.display()
    ));
    let running = s.spawn_terraform(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    wait_until("the local-exec to use the key", || started.exists());
    let providers = providers_of(running.pid());
    running.interrupt();
    std::thread::sleep(Duration::from_millis(400));
    running.interrupt();
    s.wait_for(running);
    wait_for_providers(&providers);
    assert_none_live_after_at_most_the_next_run(&s, "two Ctrl-C");
    s.config("");
    s.finish();
}
