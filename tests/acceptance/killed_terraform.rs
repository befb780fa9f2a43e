//! Terraform killed (SIGKILL, or a second Ctrl-C) in the middle of an
//! apply, while the API has created a key and not yet answered: the
//! provider must not outlive Terraform, and every key created must be
//! either in state or named by the next run, from the journal (never its
//! secret), with how to revoke it.

use crate::harness::Scenario;
use parallel_emulator::{Fault, FaultKind, Method};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The emulator acts, then holds its answer this long: Terraform is killed
/// inside this window.
const HELD_ANSWER: Duration = Duration::from_secs(3);
/// A functional bound on events, not a performance target: generous for a
/// loaded machine, short enough that a hang fails the test.
const EVENTUALLY: Duration = Duration::from_secs(60);

#[track_caller]
pub(crate) fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < EVENTUALLY,
            "gave up after {EVENTUALLY:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// PIDs of the provider processes whose parent is `parent`, from /proc.
pub(crate) fn providers_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent) && is_provider(*pid))
        .collect()
}

/// The parent PID in /proc/<pid>/stat (the field after the state, which
/// follows the parenthesised command name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

fn is_provider(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        String::from_utf8_lossy(&cmdline).contains("terraform-provider-parallel")
    })
}

/// Alive: it exists, is no zombie (exited, waiting for a reaper), and is
/// still the provider (not a new process with a recycled PID).
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|end| stat[end + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X")) && is_provider(pid)
}

fn journal_file(s: &Scenario) -> PathBuf {
    s.home()
        .join(".local/state/terraform-provider-parallel/journal.jsonl")
}

/// The journal's entries, one JSON object a line.
fn journal_entries(s: &Scenario) -> Vec<serde_json::Value> {
    let file = journal_file(s);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|err| panic!("no journal at {}: {err}", file.display()));
    s.assert_no_secrets("the journal", &text);
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_key_created_after_terraform_is_killed_is_recorded_and_reported_once() {
    let s = Scenario::new();
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "orphan"
}}
"#,
        s.app_id()
    ));
    s.emulator
        .push_fault(Fault::new(FaultKind::HoldAfterActing(HELD_ANSWER)).on(Method::POST, "/keys"));
    let running = s.spawn_terraform(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let terraform = running.pid();
    wait_until("the emulator to create the key", || {
        !s.emulator.live_keys().is_empty()
    });
    let providers = providers_of(terraform);
    assert!(
        !providers.is_empty(),
        "no provider process found under terraform (PID {terraform})"
    );
    let killed = s.kill(running);
    assert_eq!(killed.code, None, "terraform died of the signal");

    // Without the fix the provider ran on for good; with it, it exits once
    // the held answer has come (a few seconds).
    wait_until(
        "the provider processes of the killed terraform to exit",
        || !providers.iter().any(|pid| alive(*pid)),
    );

    let key = s.only_live_key();
    assert_eq!(key.api_key_name, "orphan");
    assert_eq!(mode(&journal_file(&s)), 0o600);
    let entries = journal_entries(&s);
    let event = |name: &str| entries.iter().find(|e| e["event"] == name).cloned();
    let sent = event("key_create_sent").expect("the create was journaled before it was sent");
    assert_eq!(sent["api_key_name"], "orphan", "{entries:?}");
    assert_eq!(sent["app_id"], s.app_id().as_str(), "{entries:?}");
    let created = event("key_created").expect("the answer was journaled");
    assert_eq!(
        created["api_key_id"],
        key.api_key_id.as_str(),
        "{entries:?}"
    );
    assert_eq!(created["display_value"], key.display_value.as_str());
    assert!(event("handed").is_none(), "{entries:?}");

    // The next run warns, with the command that revokes the key.
    let revoke_url = format!(
        "{}/service/v1/apps/{}/keys/{}",
        s.emulator.base_url(),
        s.app_id(),
        key.api_key_id
    );
    let plan = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    plan.assert_contains("API key \"orphan\" created while Terraform was interrupted");
    plan.assert_contains(&format!("API key \"orphan\" (ID {}", key.api_key_id));
    plan.assert_contains(&format!(
        "curl -X DELETE -H \"Authorization: Bearer $PARALLEL_ACCESS_TOKEN\" '{revoke_url}'"
    ));
    // Once.
    let again = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    again.assert_not_contains("created while Terraform was interrupted");
    assert!(
        journal_entries(&s).is_empty(),
        "reported entries are compacted away"
    );

    // What the warning says to do.
    assert!(s.emulator.revoke_out_of_band(&key.api_key_id));
    s.finish();
}

/// Two Ctrl-C during slow creates: Terraform kills its provider about 2 s
/// after the second, before the held answers come, so only the journal's
/// entries written before each create was sent know of the keys.
#[test]
fn keys_created_during_two_interrupts_are_in_state_or_named_by_the_next_run() {
    const KEYS: usize = 3;
    let s = Scenario::new();
    s.config(&format!(
        r#"
resource "parallel_api_key" "held" {{
  count        = {KEYS}
  app_id       = "{}"
  api_key_name = "held-${{count.index}}"
}}
"#,
        s.app_id()
    ));
    let held = Fault::new(FaultKind::HoldAfterActing(Duration::from_secs(5)))
        .on(Method::POST, "/keys")
        .times(KEYS as u32);
    s.emulator.push_fault(held);
    let running = s.spawn_terraform(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let terraform = running.pid();
    wait_until("the emulator to create every key", || {
        s.emulator.live_keys().len() == KEYS
    });
    let providers = providers_of(terraform);
    running.interrupt();
    std::thread::sleep(Duration::from_millis(400));
    running.interrupt();
    let interrupted = s.wait_for(running);
    assert!(!interrupted.success(), "{}", interrupted.report());
    wait_until("the provider processes to exit", || {
        !providers.iter().any(|pid| alive(*pid))
    });

    let in_state: Vec<String> = s
        .terraform_ok(&["state", "list"])
        .stdout
        .lines()
        .map(str::to_owned)
        .collect();
    let live = s.emulator.live_keys();
    let plan = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    let mut named = 0;
    for key in &live {
        let index = key.api_key_name.trim_start_matches("held-");
        if in_state.contains(&format!("parallel_api_key.held[{index}]")) {
            continue;
        }
        plan.assert_contains(&format!(
            "API key {:?} created while Terraform was interrupted",
            key.api_key_name
        ));
        named += 1;
    }
    assert!(named > 0, "every key reached the state: {in_state:?}");
    plan.assert_contains(&s.app_id());
    // Once.
    let again = s.terraform_ok(&["plan", "-input=false", "-no-color"]);
    again.assert_not_contains("created while Terraform was interrupted");

    // What the warning says to do, for the keys no state has.
    for key in live {
        let index = key.api_key_name.trim_start_matches("held-");
        if !in_state.contains(&format!("parallel_api_key.held[{index}]")) {
            assert!(s.emulator.revoke_out_of_band(&key.api_key_id));
        }
    }
    s.apply();
    s.finish();
}

/// The journal stays bounded: what reached Terraform is dropped by the next
/// configure.
#[test]
fn a_run_that_finishes_leaves_nothing_in_the_journal() {
    let s = Scenario::new();
    s.config(&format!(
        r#"
resource "parallel_api_key" "main" {{
  app_id       = "{}"
  api_key_name = "settled"
}}
"#,
        s.app_id()
    ));
    // Applies, then plans twice: the plans' configures compact.
    s.apply();
    let entries = journal_entries(&s);
    assert!(entries.is_empty(), "{entries:?}");
    s.finish();
}
