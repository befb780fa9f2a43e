//! Logging in once: the provider reads the Parallel CLI's saved login from
//! HOME, refreshes its access token through the (emulated) platform, and
//! saves the rotated tokens back, also with several terraforms at once.

use crate::harness::{Scenario, describe_request};
use parallel_emulator::{Fault, FaultKind, Login, LoginSpec, Method};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const TOKEN_PATH: &str = "/getServiceKeys/token";

/// Reading it lists the apps: an Account API call at plan time.
const APPS_DATA_SOURCE: &str = "data \"parallel_apps\" \"all\" {}\n";

fn keys(app_id: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|name| {
            format!(
                "resource \"parallel_api_key\" \"{name}\" {{\n  app_id       = \"{app_id}\"\n  api_key_name = \"{name}\"\n}}\n"
            )
        })
        .collect()
}

/// A scenario with no access token in the environment and a CLI login in
/// its HOME.
fn logged_in(spec: &LoginSpec) -> (Scenario, Login, PathBuf) {
    let s = Scenario::new().without_token();
    let (login, path) = s
        .emulator
        .write_cli_login(&s.home(), spec)
        .expect("save the CLI login");
    (s, login, path)
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).expect("read auth.json");
    serde_json::from_slice(&bytes).expect("auth.json is JSON")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn token_calls(s: &Scenario) -> usize {
    s.requests_matching("POST", TOKEN_PATH).len()
}

#[test]
fn the_cli_login_alone_suffices_and_a_valid_token_is_not_refreshed() {
    let (s, _login, path) = logged_in(&LoginSpec::default());
    let before = std::fs::read(&path).expect("read");
    s.config(&keys(&s.app_id(), &["one"]));
    s.apply();
    assert_eq!(s.only_live_key().api_key_name, "one");
    assert_eq!(token_calls(&s), 0, "{:?}", s.request_summary());
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "the file is untouched"
    );
    s.finish();
}

#[test]
fn an_expired_access_token_is_refreshed_and_saved_with_everything_else_kept() {
    let (s, login, path) = logged_in(&LoginSpec::access_token_expired());
    // Things the provider must carry over untouched.
    let mut file = read_json(&path);
    file["written_by_a_newer_cli"] = json!({"nested": [1, "two"]});
    file["orgs"]["other-org"] = json!({
        "api_key": "data-api-key-of-another-org",
        "org_name": "Other",
        "control_api": {"access_token": "other-at", "refresh_token": "other-rt"}
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&file).expect("json")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    s.config(&format!(
        "{APPS_DATA_SOURCE}{}",
        keys(&s.app_id(), &["one", "two"])
    ));
    s.apply();
    assert_eq!(s.emulator.live_keys().len(), 2);
    assert_eq!(s.emulator.refresh_count(), 1, "{:?}", s.request_summary());
    let first = s.emulator.requests();
    assert_eq!(
        first[0].path, TOKEN_PATH,
        "the refresh comes before any API call"
    );

    let after = read_json(&path);
    let control = &after["orgs"][&login.org_id]["control_api"];
    assert_ne!(control["access_token"], login.access_token.as_str());
    assert_ne!(control["refresh_token"], login.refresh_token.as_str());
    assert!(control["access_token_expires_at"].as_i64() > Some(parallel_emulator::unix_now()));
    let mut expected = file;
    for (name, value) in control.as_object().expect("control_api") {
        expected["orgs"][&login.org_id]["control_api"][name] = value.clone();
    }
    assert_eq!(after, expected, "only the refreshed token fields change");
    assert_eq!(mode(&path), 0o600);

    // The rotated refresh token saved is the live one: refreshing again
    // with it (after the plan's list of apps is answered 401) works; the
    // old one would be invalid_grant.
    s.emulator.revoke_access_tokens();
    s.plan_empty();
    assert_eq!(s.emulator.refresh_count(), 2);
    s.finish();
}

#[test]
fn a_token_revoked_mid_apply_is_refreshed_once_and_no_key_is_duplicated() {
    let (s, _login, _path) = logged_in(&LoginSpec::default());
    let names = ["a", "b", "c", "d", "e"];
    s.config(&keys(&s.app_id(), &names));
    s.terraform_ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    // The token the apply process reads is still in date, but the platform
    // no longer accepts it: every create is answered 401 first.
    assert_eq!(s.emulator.revoke_access_tokens(), 1);
    s.terraform_ok(&["apply", "-input=false", "-no-color", "tfplan"]);
    s.plan_empty();

    assert_eq!(s.emulator.refresh_count(), 1, "{:?}", s.request_summary());
    let live = s.emulator.live_keys();
    assert_eq!(live.len(), names.len(), "{live:?}");
    let created: Vec<_> = s
        .emulator
        .requests()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.path.ends_with("/keys"))
        .map(describe_request)
        .collect();
    let ok = created.iter().filter(|r| r.ends_with("-> 200")).count();
    assert_eq!(ok, names.len(), "exactly one key per resource: {created:?}");
    s.finish();
}

#[test]
fn an_expired_login_fails_before_any_api_call_and_says_to_log_in() {
    let (s, _login, path) = logged_in(&LoginSpec {
        authorization_expires_in: -10,
        ..LoginSpec::access_token_expired()
    });
    s.config(&format!(
        "{APPS_DATA_SOURCE}{}",
        keys(&s.app_id(), &["one"])
    ));
    let failed = s.plan_fails();
    failed.assert_contains("The saved Parallel CLI login has expired");
    failed.assert_contains(&path.display().to_string());
    failed.assert_contains("Run `parallel-cli login` to log in again");
    assert!(
        s.emulator.requests().is_empty(),
        "{:?}",
        s.request_summary()
    );

    // A refresh token the platform refuses (spent elsewhere) is the same.
    let (s, _login, path) = logged_in(&LoginSpec::access_token_expired());
    s.emulator.revoke_access_tokens();
    let saved = std::fs::read(&path).expect("read");
    s.config(&format!(
        "{APPS_DATA_SOURCE}{}",
        keys(&s.app_id(), &["one"])
    ));
    s.apply();
    std::fs::write(&path, saved).expect("restore the spent login");
    s.emulator.revoke_access_tokens();
    let failed = s.plan_fails();
    failed.assert_contains("has expired");
    failed.assert_contains("invalid_grant");
    failed.assert_contains("parallel-cli login");
    let after_refresh: Vec<_> = s.emulator.requests().into_iter().rev().take(1).collect();
    assert_eq!(
        after_refresh[0].path, TOKEN_PATH,
        "no API call after the refusal"
    );
}

#[test]
fn an_explicit_token_wins_over_the_file_and_leaves_it_untouched() {
    // The emulator's own token is in PARALLEL_ACCESS_TOKEN.
    let s = Scenario::new();
    let (_, path) = s
        .emulator
        .write_cli_login(&s.home(), &LoginSpec::access_token_expired())
        .expect("save the CLI login");
    let before = std::fs::read(&path).expect("read");
    s.config(&keys(&s.app_id(), &["one"]));
    s.apply();
    assert_eq!(token_calls(&s), 0);
    assert_eq!(std::fs::read(&path).expect("read"), before);

    // And a token that is rejected is not refreshed: the error says so.
    let rejected = Scenario::new().with_token("not-a-valid-token");
    rejected.config(&keys(&rejected.app_id(), &["one"]));
    let failed = rejected.apply_fails();
    failed.assert_contains("never refreshed");
    assert_eq!(token_calls(&rejected), 0);
    s.finish();
}

#[test]
fn a_login_elsewhere_is_found_through_the_environment_and_trace_logs_hold_no_token() {
    let s = Scenario::new().without_token().with_trace_log();
    let elsewhere = s.home().join("elsewhere").join("login.json");
    let (login, default_path) = s
        .emulator
        .write_cli_login(&s.home(), &LoginSpec::access_token_expired())
        .expect("save the CLI login");
    std::fs::create_dir_all(elsewhere.parent().expect("dir")).expect("mkdir");
    std::fs::rename(&default_path, &elsewhere).expect("move the login");
    let s = s.with_env("PARALLEL_CLI_AUTH_FILE", &elsewhere.display().to_string());
    s.config(&keys(&s.app_id(), &["one"]));
    s.apply();
    assert_eq!(s.emulator.refresh_count(), 1);
    assert!(!default_path.exists());
    let saved = read_json(&elsewhere);
    assert_ne!(
        saved["orgs"][&login.org_id]["control_api"]["access_token"],
        login.access_token.as_str()
    );
    let log = s.log_text();
    assert!(
        log.contains("refreshing the saved Parallel CLI login"),
        "the log shows the refresh"
    );
    // `finish` searches the TRACE log for every token the emulator issued.
    s.finish();
}

#[test]
fn four_applies_at_once_on_one_home_refresh_once() {
    let (s, login, path) = logged_in(&LoginSpec::access_token_expired());
    let dirs: Vec<PathBuf> = (0..4)
        .map(|n| {
            let dir = s.work_dir().join(format!("stack-{n}"));
            let body = keys(&s.app_id(), &[&format!("stack{n}")]);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(
                dir.join("main.tf"),
                format!("{}\n{body}", crate::harness::REQUIRED_PROVIDERS),
            )
            .expect("write main.tf");
            dir
        })
        .collect();
    let apply = ["apply", "-auto-approve", "-input=false", "-no-color"];
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let running: Vec<_> = dirs
            .iter()
            .map(|dir| {
                let mut command = s.command_in(dir, &apply);
                scope.spawn(move || command.output())
            })
            .collect();
        running
            .into_iter()
            .map(|thread| thread.join().expect("thread"))
            .collect()
    });
    for output in outputs {
        let output = s.output_of(&apply, output);
        s.check_output(&apply, &output);
        assert!(output.success(), "{}", output.report());
    }
    assert_eq!(s.emulator.live_keys().len(), 4);
    assert_eq!(
        s.emulator.refresh_count(),
        1,
        "one refresh for four terraforms: {:?}",
        s.request_summary()
    );
    assert_eq!(token_calls(&s), 1);
    let saved = read_json(&path);
    let control = &saved["orgs"][&login.org_id]["control_api"];
    assert!(control["access_token"].is_string() && control["refresh_token"].is_string());
    assert_ne!(control["refresh_token"], login.refresh_token.as_str());
    assert_eq!(mode(&path), 0o600);

    let destroy = ["destroy", "-auto-approve", "-input=false", "-no-color"];
    for dir in &dirs {
        let output = s.output_of(&destroy, s.command_in(dir, &destroy).output());
        s.check_output(&destroy, &output);
        assert!(output.success(), "{}", output.report());
    }
    s.finish();
}

/// The platform rotates the refresh token, then holds its answer this
/// long: the window in which Terraform is interrupted. Not a bound on the
/// test, which waits for the rotation itself.
const HELD_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

fn hold_the_refresh(s: &Scenario, kind: FaultKind) {
    s.emulator
        .push_fault(Fault::new(kind).on(Method::POST, TOKEN_PATH));
}

/// Waits until the platform has taken the refresh grant (its answer may
/// still be held).
fn until_rotated(s: &Scenario, grants: usize) {
    while s.emulator.refresh_count() < grants {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn saved_refresh_token(path: &Path, org_id: &str) -> Value {
    read_json(path)["orgs"][org_id]["control_api"]["refresh_token"].clone()
}

/// After the interruption: the saved login is the rotated one, and it
/// works, also for a refresh (the old refresh token would be invalid_grant)
/// when the plan's read of the apps is answered 401.
fn the_login_works_next_run(s: &Scenario, login: &Login, path: &Path) {
    assert_ne!(
        saved_refresh_token(path, &login.org_id),
        login.refresh_token.as_str(),
        "the rotated refresh token is saved"
    );
    s.apply();
    assert_eq!(s.emulator.live_keys().len(), 1);
    s.emulator.revoke_access_tokens();
    let grants = s.emulator.refresh_count();
    s.plan_empty();
    assert_eq!(s.emulator.refresh_count(), grants + 1);
}

#[test]
fn a_refresh_interrupted_by_ctrl_c_is_saved_and_the_login_works_next_run() {
    let (s, login, path) = logged_in(&LoginSpec::default());
    s.config(&format!(
        "{APPS_DATA_SOURCE}{}",
        keys(&s.app_id(), &["one"])
    ));
    // Terraform stops its providers (StopProvider) only while applying: the
    // refresh must happen then. The plan uses the saved token; the platform
    // then revokes it, so the create is answered 401 and refreshes.
    s.terraform_ok(&["plan", "-input=false", "-no-color", "-out=tfplan"]);
    s.emulator.revoke_access_tokens();
    hold_the_refresh(&s, FaultKind::HoldAfterActing(HELD_REFRESH));
    let running = s.spawn_terraform(&["apply", "-input=false", "-no-color", "tfplan"]);
    until_rotated(&s, 1);
    let interrupted = s.interrupt(running);
    assert!(!interrupted.success(), "{}", interrupted.report());
    interrupted.assert_contains("Interrupt received");
    // Stopped before the create was sent, and the login was not lost.
    assert!(
        s.emulator.live_keys().is_empty(),
        "{:?}",
        s.request_summary()
    );
    the_login_works_next_run(&s, &login, &path);
    s.finish();
}

#[test]
fn a_refresh_cut_off_by_killing_terraform_is_saved_before_the_provider_exits() {
    let (s, login, path) = logged_in(&LoginSpec::access_token_expired());
    s.config(&format!(
        "{APPS_DATA_SOURCE}{}",
        keys(&s.app_id(), &["one"])
    ));
    hold_the_refresh(&s, FaultKind::HoldAfterActing(HELD_REFRESH));
    let running = s.spawn_terraform(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    until_rotated(&s, 1);
    // SIGKILL: the provider's calls are cut off with their connection, and
    // nobody tells it to exit; it must still save what the platform sends.
    s.kill(running);
    let spent = Value::from(login.refresh_token.as_str());
    let started = std::time::Instant::now();
    // A functional bound, not a performance target: the held answer comes
    // after HELD_REFRESH; a provider that exits without saving never
    // changes the file.
    while saved_refresh_token(&path, &login.org_id) == spent {
        assert!(
            started.elapsed() < HELD_REFRESH * 12,
            "the rotated login was never saved: {:?}",
            s.request_summary()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    the_login_works_next_run(&s, &login, &path);
    s.finish();
}

#[test]
fn a_refresh_answer_lost_after_rotation_says_the_login_may_be_spent() {
    let (s, _login, path) = logged_in(&LoginSpec::access_token_expired());
    s.config(APPS_DATA_SOURCE);
    hold_the_refresh(&s, FaultKind::DropAfterActing);
    let failed = s.plan_fails();
    assert_eq!(s.emulator.refresh_count(), 1, "the platform rotated it");
    failed.assert_contains("may have rotated the login's refresh token");
    failed.assert_contains("if it then fails with invalid_grant");
    failed.assert_contains("`parallel-cli login`");
    failed.assert_not_contains("may still be good");
    // What it said: the next run meets the spent refresh token.
    let next = s.plan_fails();
    next.assert_contains("invalid_grant");
    next.assert_contains(&path.display().to_string());
    next.assert_contains("parallel-cli login");
    // As the user would: log in again.
    s.emulator
        .write_cli_login(&s.home(), &LoginSpec::default())
        .expect("log in again");
    s.finish();
}

/// `terraform <args>` with `dir` read-only: a private mount namespace
/// (`unshare --mount`) in which `dir` is bind-mounted read-only, so that
/// terraform and the provider it starts see a read-only file system there.
/// The tests run as root, for whom permission bits do not stop a write; a
/// read-only mount does (EROFS), for root too, and only inside the
/// namespace: nothing outside it changes.
fn terraform_with_read_only(s: &Scenario, dir: &Path, args: &[&str]) -> crate::harness::Output {
    let inner = s.command_in(s.work_dir(), args);
    let mut outer = std::process::Command::new("unshare");
    outer
        .args(["--mount", "--", "sh", "-c"])
        .arg(r#"mount --bind -o ro "$1" "$1" && shift && exec "$@""#)
        .arg("sh")
        .arg(dir)
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear()
        .current_dir(s.work_dir());
    for (name, value) in inner.get_envs() {
        if let Some(value) = value {
            outer.env(name, value);
        }
    }
    let output = s.output_of(args, outer.output());
    s.check_output(args, &output);
    output
}

#[test]
fn a_refreshed_login_that_cannot_be_saved_is_a_visible_warning() {
    let (s, login, path) = logged_in(&LoginSpec::access_token_expired());
    let dir = path.parent().expect("the login's directory").to_owned();
    // Left by an earlier run; a lock file cannot be created in a read-only
    // directory (the refresh is then refused before anything is spent).
    std::fs::write(dir.join("auth.json.lock"), b"").expect("the lock file");
    s.config(APPS_DATA_SOURCE);
    let plan = terraform_with_read_only(&s, &dir, &["plan", "-input=false", "-no-color"]);
    assert!(plan.success(), "{}", plan.report());
    assert_eq!(s.emulator.refresh_count(), 1, "{:?}", s.request_summary());
    plan.assert_contains("Warning: The refreshed Parallel CLI login could not be saved");
    plan.assert_contains("written back to it: Read-only file system");
    plan.assert_contains(&path.display().to_string());
    plan.assert_contains("fails with invalid_grant");
    plan.assert_contains("run `parallel-cli login`");
    assert_eq!(
        saved_refresh_token(&path, &login.org_id),
        login.refresh_token.as_str(),
        "the file is as it was"
    );
    // What the warning said: the login left in the file is spent.
    s.plan_fails().assert_contains("invalid_grant");
    s.emulator
        .write_cli_login(&s.home(), &LoginSpec::default())
        .expect("log in again");
    s.finish();
}
