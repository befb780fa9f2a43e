//! A saved login against the emulator's token endpoint: refresh before use,
//! after a 401, once per process, and not at all when another process did.

use std::sync::Arc;
use std::time::Duration;

use parallel_emulator::{Emulator, LoginSpec, Options};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::file::AuthFile;
use super::*;
use crate::client::{PlatformConfig, TokenSource};

fn emulator() -> Emulator {
    Emulator::start_with(Options {
        access_token_lifetime: Duration::from_secs(600),
        ..Options::default()
    })
    .expect("emulator")
}

fn saved_login(emulator: &Emulator, path: &std::path::Path) -> SavedLogin {
    let bytes = std::fs::read(path).expect("auth.json");
    let login = AuthFile::parse(&bytes).unwrap().select(None).unwrap();
    let platform = PlatformClient::new(PlatformConfig {
        platform_url: emulator.base_url(),
        max_retries: 0,
        request_timeout: Duration::from_secs(10),
        ca_cert_pem: None,
        user_agent: "test".into(),
    })
    .unwrap();
    SavedLogin::new(path.to_path_buf(), login, platform, Surroundings::default())
}

fn saved(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_for_many_callers_and_saved() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (login, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::access_token_expired())
        .unwrap();
    let source = Arc::new(saved_login(&emulator, &path));
    let cancel = CancellationToken::new();
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (source, cancel) = (source.clone(), cancel.clone());
        callers.spawn(async move { source.token(&cancel).await });
    }
    let mut tokens = Vec::new();
    while let Some(token) = callers.join_next().await {
        tokens.push(token.unwrap().unwrap().expose().to_owned());
    }
    assert_eq!(emulator.refresh_count(), 1);
    assert!(
        tokens
            .iter()
            .all(|t| t == &tokens[0] && t != &login.access_token)
    );

    let file = saved(&path);
    let control = &file["orgs"][&login.org_id]["control_api"];
    assert_eq!(control["access_token"], tokens[0].as_str());
    assert_ne!(control["refresh_token"], login.refresh_token.as_str());
    assert_eq!(
        file["orgs"][&login.org_id]["api_key"],
        login.api_key.as_str()
    );
    let known: Vec<_> = source
        .known_secrets()
        .iter()
        .map(|s| s.expose().to_owned())
        .collect();
    assert!(known.contains(&login.refresh_token) && known.contains(&tokens[0]));
}

#[tokio::test]
async fn a_rejected_token_is_renewed_once_and_a_valid_one_reused() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (login, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::default())
        .unwrap();
    let source = saved_login(&emulator, &path);
    let cancel = CancellationToken::new();
    let first = source.token(&cancel).await.unwrap();
    assert_eq!(first.expose(), login.access_token);
    assert_eq!(
        emulator.refresh_count(),
        0,
        "a valid token is used as saved"
    );

    let renewed = source.renew(&first, &cancel).await.unwrap().unwrap();
    assert_ne!(renewed.expose(), first.expose());
    // Another request rejected with the same old token shares the renewal.
    let shared = source.renew(&first, &cancel).await.unwrap().unwrap();
    assert_eq!(shared.expose(), renewed.expose());
    assert_eq!(emulator.refresh_count(), 1);
}

#[tokio::test]
async fn a_token_another_process_saved_is_used_instead_of_refreshing() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (_, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::access_token_expired())
        .unwrap();
    let ours = saved_login(&emulator, &path);
    let theirs = saved_login(&emulator, &path);
    let cancel = CancellationToken::new();
    let their_token = theirs.token(&cancel).await.unwrap();
    let our_token = ours.token(&cancel).await.unwrap();
    assert_eq!(our_token.expose(), their_token.expose());
    assert_eq!(emulator.refresh_count(), 1);
}

#[tokio::test]
async fn a_spent_refresh_token_is_an_expired_login() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (login, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::access_token_expired())
        .unwrap();
    // Someone spends the refresh token without saving the new one.
    let other = saved_login(&emulator, &path);
    let before = std::fs::read(&path).unwrap();
    other.token(&CancellationToken::new()).await.unwrap();
    std::fs::write(&path, before).unwrap();

    let source = saved_login(&emulator, &path);
    let err = source.token(&CancellationToken::new()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("has expired") && text.contains("invalid_grant"),
        "{text}"
    );
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("parallel-cli login"), "{text}");
    assert!(!text.contains(&login.refresh_token), "{text}");
    assert!(!err.transient);
}

fn hold_the_refresh_answer(emulator: &Emulator, kind: parallel_emulator::FaultKind) {
    emulator.push_fault(
        parallel_emulator::Fault::new(kind).on(parallel_emulator::Method::POST, "/token"),
    );
}

/// Waits until the platform has taken `grants` refresh grants (their
/// answers may still be held).
async fn until_refreshed(emulator: &Emulator, grants: usize) {
    while emulator.refresh_count() < grants {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_refresh_sent_runs_to_its_answer_and_is_saved_whatever_becomes_of_its_caller() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (login, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::access_token_expired())
        .unwrap();
    let held = parallel_emulator::FaultKind::HoldAfterActing(Duration::from_millis(300));

    // Stopped (Ctrl-C) once the platform has rotated the token: the caller
    // still gets the new token, and the file holds the new refresh token.
    hold_the_refresh_answer(&emulator, held.clone());
    let source = Arc::new(saved_login(&emulator, &path));
    let cancel = CancellationToken::new();
    let caller = {
        let (source, cancel) = (source.clone(), cancel.clone());
        tokio::spawn(async move { source.token(&cancel).await })
    };
    until_refreshed(&emulator, 1).await;
    cancel.cancel();
    let token = caller
        .await
        .unwrap()
        .expect("the refresh ran to its answer");
    let control = saved(&path)["orgs"][&login.org_id]["control_api"].clone();
    assert_eq!(control["access_token"], token.expose());
    assert_ne!(control["refresh_token"], login.refresh_token.as_str());

    // The caller dropped altogether (its connection closed): the refresh
    // runs on its own task and saves all the same.
    let spent = saved(&path);
    let mut expired = spent.clone();
    expired["orgs"][&login.org_id]["control_api"]["access_token_expires_at"] = Value::from(0);
    std::fs::write(&path, expired.to_string()).unwrap();
    hold_the_refresh_answer(&emulator, held);
    let source = saved_login(&emulator, &path);
    let keep_alive = source.keep_alive.clone();
    let caller = tokio::spawn(async move { source.token(&CancellationToken::new()).await });
    until_refreshed(&emulator, 2).await;
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    // Nothing else awaits the refresh task; the file changing shows it ran.
    drop(keep_alive);
    while saved(&path)["orgs"][&login.org_id]["control_api"]["refresh_token"]
        == spent["orgs"][&login.org_id]["control_api"]["refresh_token"]
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_failed_refresh_says_whether_the_login_may_be_spent() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (login, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::access_token_expired())
        .unwrap();
    let source = saved_login(&emulator, &path);

    // Refused before acting: nothing spent.
    hold_the_refresh_answer(&emulator, parallel_emulator::FaultKind::status(503));
    let text = source
        .token(&CancellationToken::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(text.contains("unchanged and still good"), "{text}");
    assert!(!text.contains("may have"), "{text}");

    // The platform rotated the token and the connection dropped: the text
    // says so, and what the next run will show.
    hold_the_refresh_answer(&emulator, parallel_emulator::FaultKind::DropAfterActing);
    let text = source
        .token(&CancellationToken::new())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(emulator.refresh_count(), 1);
    assert!(text.contains("may have rotated"), "{text}");
    assert!(text.contains("invalid_grant"), "{text}");
    assert!(text.contains("`parallel-cli login`"), "{text}");
    assert!(!text.contains("may still be good"), "{text}");
    assert!(!text.contains(&login.refresh_token), "{text}");

    // Stopped before anything was sent: nothing spent either.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let text = source.token(&cancel).await.unwrap_err().to_string();
    assert!(text.contains("Nothing was sent"), "{text}");
}

#[test]
fn a_failed_save_is_a_warning_that_says_what_the_next_run_needs() {
    let emulator = emulator();
    let home = tempfile::tempdir().unwrap();
    let (_, path) = emulator
        .write_cli_login(home.path(), &LoginSpec::default())
        .unwrap();
    let source = saved_login(&emulator, &path);
    let error = std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem);
    source.shared.not_saved(&error, true);
    source.shared.not_saved(&error, false);
    let warnings = source.shared.notices.take();
    assert_eq!(warnings.len(), 2);
    let rotated = format!("{:?}", warnings[0]);
    assert!(rotated.contains("could not be saved"), "{rotated}");
    assert!(rotated.contains(&path.display().to_string()), "{rotated}");
    assert!(rotated.contains("invalid_grant"), "{rotated}");
    assert!(rotated.contains("parallel-cli login"), "{rotated}");
    let kept = format!("{:?}", warnings[1]);
    assert!(kept.contains("still works"), "{kept}");
}
