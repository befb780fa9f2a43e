use super::*;
use crate::journal::ProcessId;

const DEAD: u32 = 1;
const LIVE: u32 = 2;

fn at(op: &str, pid: u32, event: Event) -> Entry {
    Entry {
        op: op.to_owned(),
        process: ProcessId { pid, started: None },
        at: "2026-12-06T22:00:00Z".to_owned(),
        event,
    }
}

fn create_sent(op: &str, pid: u32) -> Entry {
    at(
        op,
        pid,
        Event::KeyCreateSent {
            app_id: "app-1".into(),
            api_key_name: "ci".into(),
            working_directory: Some("/work/infra".into()),
        },
    )
}

fn created(op: &str, pid: u32) -> Entry {
    at(
        op,
        pid,
        Event::KeyCreated {
            api_key_id: "key_1".into(),
            display_value: Some("par_…6789".into()),
            revoke_url: Some("http://api/service/v1/apps/app-1/keys/key_1".into()),
        },
    )
}

/// An hour after the entries' time (`at`).
fn now() -> SystemTime {
    humantime::parse_rfc3339("2026-12-06T23:00:00Z").expect("a time")
}

fn run(entries: Vec<Entry>) -> (Vec<Entry>, Findings) {
    run_at(entries, now())
}

fn run_at(entries: Vec<Entry>, now: SystemTime) -> (Vec<Entry>, Findings) {
    decide(
        Contents {
            entries,
            ..Contents::default()
        },
        now,
        |entry| entry.process.pid == DEAD,
    )
}

fn details(findings: &Findings) -> Vec<String> {
    findings
        .diagnostics
        .iter()
        .map(|d| d.detail.clone())
        .collect()
}

#[test]
fn settled_operations_are_dropped_and_live_ones_kept_untouched() {
    let (keep, findings) = run(vec![
        create_sent("handed", DEAD),
        created("handed", DEAD),
        at("handed", DEAD, Event::Handed),
        create_sent("refused", DEAD),
        at("refused", DEAD, Event::NothingDone),
        create_sent("running", LIVE),
        created("running", LIVE),
    ]);
    assert!(findings.diagnostics.is_empty(), "{:?}", details(&findings));
    let ops: Vec<&str> = keep.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops, ["running", "running"]);
}

#[test]
fn a_created_key_that_never_reached_terraform_is_named_once() {
    let (keep, findings) = run(vec![create_sent("lost", DEAD), created("lost", DEAD)]);
    let details = details(&findings);
    assert_eq!(details.len(), 1);
    let detail = &details[0];
    for part in [
        "API key \"ci\" (ID key_1, shown as \"par_…6789\") of app app-1",
        "2026-12-06T22:00:00Z",
        "/work/infra",
        "curl -X DELETE -H \"Authorization: Bearer $PARALLEL_ACCESS_TOKEN\" \
         'http://api/service/v1/apps/app-1/keys/key_1'",
    ] {
        assert!(detail.contains(part), "{part}\n{detail}");
    }
    assert!(keep.is_empty(), "reported, so dropped");
}

#[test]
fn a_create_whose_answer_never_came_may_have_made_a_key() {
    let (keep, findings) = run(vec![create_sent("held", DEAD)]);
    let details = details(&findings);
    assert_eq!(details.len(), 1);
    assert!(
        details[0].contains("may have created the key"),
        "{}",
        details[0]
    );
    assert!(details[0].contains("key named \"ci\""), "{}", details[0]);
    assert!(keep.is_empty());
}

#[test]
fn a_charge_whose_outcome_was_lost_is_named_with_its_key() {
    let sent = at(
        "charge",
        DEAD,
        Event::ChargeSent {
            idempotency_key: "topup-0001".into(),
            amount_cents: 500,
            working_directory: None,
        },
    );
    let (_, findings) = run(vec![sent.clone()]);
    let unknown = &details(&findings)[0];
    assert!(
        unknown.contains("unknown whether the charge was made"),
        "{unknown}"
    );
    let (keep, findings) = run(vec![
        sent,
        at(
            "charge",
            DEAD,
            Event::ChargeAnswered {
                credit_balance_cents: Some(1500.0),
            },
        ),
    ]);
    let answered = &details(&findings)[0];
    for part in [
        "$5.00 (500 cents)",
        "idempotency key \"topup-0001\"",
        "the charge was made",
        "Invoking the action again with idempotency_key = \"topup-0001\" is safe",
    ] {
        assert!(answered.contains(part), "{part}\n{answered}");
    }
    assert!(keep.is_empty());
    // Two days on, Parallel may have forgotten the key: no replay advice.
    let later = now() + std::time::Duration::from_secs(48 * 3600);
    let (_, findings) = run_at(vec![sent_again()], later);
    let stale = &details(&findings)[0];
    assert!(!stale.contains("is safe"), "{stale}");
    assert!(stale.contains("do not invoke the action again"), "{stale}");
}

fn sent_again() -> Entry {
    at(
        "charge",
        DEAD,
        Event::ChargeSent {
            idempotency_key: "topup-0001".into(),
            amount_cents: 500,
            working_directory: None,
        },
    )
}

#[test]
fn an_open_ephemeral_key_of_an_ended_run_is_handed_back_to_revoke() {
    let sent = at(
        "eph",
        DEAD,
        Event::EphemeralOpenSent {
            app_id: "app-1".into(),
            api_key_name: "tmp".into(),
            working_directory: None,
        },
    );
    let (keep, findings) = run(vec![sent.clone(), created("eph", DEAD)]);
    assert!(findings.diagnostics.is_empty());
    assert_eq!(findings.open_ephemerals.len(), 1);
    assert_eq!(findings.open_ephemerals[0].api_key_id, "key_1");
    assert_eq!(keep.len(), 2, "kept until it is closed");
    let (keep, findings) = run(vec![
        sent,
        created("eph", DEAD),
        at("eph", DEAD, Event::Closed),
    ]);
    assert!(findings.open_ephemerals.is_empty());
    assert!(keep.is_empty());
}

#[test]
fn a_confirmed_revoke_that_never_reached_terraform_is_kept_for_reads() {
    let dir = tempfile::tempdir().expect("dir");
    let journal = Journal::at(dir.path().join("journal.jsonl"));
    let sent = Entry::now(
        "rev",
        Event::RevokeSent {
            app_id: "app-1".into(),
            api_key_id: "key_9".into(),
            revoke_url: Some("http://127.0.0.1:9/service/v1/apps/app-1/keys/key_9".into()),
        },
    );
    for entry in [sent.clone(), Entry::now("rev", Event::Revoked)] {
        journal.append(&entry).expect("append");
    }
    // By where the key lived, not by its ID alone.
    assert_eq!(
        revoked_keys(&journal).into_iter().collect::<Vec<_>>(),
        ["http://127.0.0.1:9/service/v1/apps/app-1/keys/key_9"]
    );
    let (keep, findings) = run(journal.read().expect("read").entries);
    assert!(findings.diagnostics.is_empty());
    assert_eq!(keep.len(), 2);
    journal
        .append(&Entry::now("rev", Event::Handed))
        .expect("append");
    assert!(
        revoked_keys(&journal).is_empty(),
        "handed: Terraform has it"
    );
    // An old one is dropped.
    let old = Entry {
        at: "2020-01-01T00:00:00Z".into(),
        process: ProcessId {
            pid: DEAD,
            started: None,
        },
        ..sent
    };
    let (keep, _) = run(vec![
        old.clone(),
        Entry {
            event: Event::Revoked,
            ..old
        },
    ]);
    assert!(keep.is_empty());
}

#[test]
fn a_journal_that_cannot_be_used_says_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    // A directory where the file should be: it cannot be opened for appending.
    let path = dir.path().join("journal.jsonl");
    std::fs::create_dir(&path).expect("dir");
    let findings = at_configure(&Journal::at(&path));
    let details = details(&findings);
    assert_eq!(details.len(), 1);
    assert!(
        details[0].contains("PARALLEL_RECOVERY_FILE"),
        "{}",
        details[0]
    );
    // `handed` is what the journal knows; whether Terraform then saved its
    // state, it cannot.
    assert!(
        details[0].contains("handed to Terraform, not that Terraform saved it"),
        "{}",
        details[0]
    );
}
