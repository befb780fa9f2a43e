use std::time::{Duration, Instant};

use super::*;
use crate::client::test_server::{Reply, TestServer, response};

const APP: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

fn open_key(n: usize) -> OpenKey {
    OpenKey {
        app_id: APP.to_owned(),
        api_key_id: format!("key_{n}"),
        label: format!("API key \"tmp-{n}\""),
        journal_op: None,
    }
}

#[tokio::test]
async fn keys_left_open_at_the_end_of_a_run_are_revoked_together() {
    // Terraform kills the plugin about 2 s after a second Ctrl-C: with
    // revokes that take most of that, one after another reaches only the
    // first key.
    const KEYS: usize = 4;
    const ONE_REVOKE: Duration = Duration::from_millis(700);
    let slow_revoke = || Reply::Delayed(ONE_REVOKE, Box::new(response(204, &[], "")));
    let server = TestServer::start((0..KEYS).map(|_| slow_revoke()).collect()).await;
    let keys = OpenKeys::default();
    (0..KEYS).for_each(|n| keys.opened(open_key(n)));

    let started = Instant::now();
    revoke_at_end_of_run(&server.client(), &keys).await;
    let took = started.elapsed();

    let mut revoked: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    revoked.sort();
    let expected: Vec<String> = (0..KEYS)
        .map(|n| format!("/account/service/v1/apps/{APP}/keys/key_{n}"))
        .collect();
    assert_eq!(revoked, expected);
    assert!(keys.is_empty());
    assert!(
        took < ONE_REVOKE * 2,
        "{KEYS} revokes of {ONE_REVOKE:?} each took {took:?}: not at once"
    );
}

/// A process that has ended, as the journal sees it.
fn ended_process() -> crate::journal::ProcessId {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    crate::journal::ProcessId { pid, started: None }
}

/// What one configure does with the journal (`ParallelProvider::configure`):
/// names what ended runs left, then revokes the ephemeral keys they left
/// open.
async fn configure_replays(journal: Journal, client: AccountClient) -> Vec<Diagnostic> {
    let findings = crate::journal::report::at_configure(&journal);
    let mut diags = findings.diagnostics;
    diags.extend(revoke_left_open(&client, &journal, findings.open_ephemerals).await);
    diags.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_configures_of_one_process_warn_once_per_journal_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let journal = Journal::at(dir.path().join("journal.jsonl"));
    // The revoke is slow, so the other configure reads the journal while
    // it is under way; were it sent twice, the second would learn from
    // the app list that the key is gone, and say so again.
    let apps = format!(r#"{{"apps":[{{"app_id":"{APP}","app_name":"a","org_id":"o"}}]}}"#);
    let server = TestServer::start(vec![
        Reply::Delayed(Duration::from_millis(500), Box::new(response(204, &[], ""))),
        crate::client::test_server::json(404, r#"{"detail":"API key not found"}"#),
        crate::client::test_server::json(200, &apps),
    ])
    .await;
    let client = server.client();
    let dead = ended_process();
    let (lost, left_open) = (crate::journal::new_op(), crate::journal::new_op());
    let revoke_url = client.key_url(Uuid::parse_str(APP).expect("uuid"), "key_eph");
    for (op, event) in [
        (&lost, sent(false, "lost-key")),
        (&left_open, sent(true, "left-open")),
        (
            &left_open,
            Event::KeyCreated {
                api_key_id: "key_eph".into(),
                display_value: None,
                revoke_url,
            },
        ),
    ] {
        let entry = crate::journal::Entry {
            process: dead,
            ..crate::journal::Entry::now(op, event)
        };
        journal.append(&entry).expect("append");
    }

    let first = tokio::spawn(configure_replays(journal.clone(), client.clone()));
    let second = tokio::spawn(configure_replays(journal.clone(), client.clone()));
    let mut summaries: Vec<String> = [first.await, second.await]
        .into_iter()
        .flat_map(|diags| diags.expect("no panic"))
        .map(|diag| diag.summary)
        .collect();
    summaries.sort();

    assert_eq!(
        summaries,
        [
            "API key \"lost-key\" created while Terraform was interrupted",
            "Revoked ephemeral API key \"left-open\" left open by an earlier run",
        ]
    );
    let asked: Vec<String> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(asked, ["DELETE"], "revoked by one configure");
}

fn sent(ephemeral: bool, api_key_name: &str) -> Event {
    let (app_id, api_key_name) = (APP.to_owned(), api_key_name.to_owned());
    if ephemeral {
        Event::EphemeralOpenSent {
            app_id,
            api_key_name,
            working_directory: None,
        }
    } else {
        Event::KeyCreateSent {
            app_id,
            api_key_name,
            working_directory: None,
        }
    }
}
