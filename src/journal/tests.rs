use super::*;
use std::os::unix::fs::PermissionsExt;

fn entry(op: &str) -> Entry {
    Entry::now(op, Event::Handed)
}

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().expect("dir");
    let journal = Journal::at(dir.path().join("state/journal.jsonl"));
    (dir, journal)
}

#[test]
fn the_location_is_the_override_then_xdg_state_then_home() {
    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }
    assert_eq!(
        location(env(&[
            (ENV_JOURNAL_FILE, "/tmp/j.jsonl"),
            ("HOME", "/home/u")
        ])),
        Some(PathBuf::from("/tmp/j.jsonl"))
    );
    assert_eq!(
        location(env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "/state")])),
        Some(PathBuf::from(
            "/state/terraform-provider-parallel/journal.jsonl"
        ))
    );
    assert_eq!(
        location(env(&[("HOME", "/home/u"), ("XDG_STATE_HOME", "relative")])),
        Some(PathBuf::from(
            "/home/u/.local/state/terraform-provider-parallel/journal.jsonl"
        ))
    );
    assert_eq!(location(env(&[(ENV_JOURNAL_FILE, "")])), None);
}

#[test]
fn the_file_and_its_directory_are_private() {
    let (_dir, journal) = journal();
    journal.append(&entry("a")).expect("append");
    let mode = |path: &Path| fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(journal.path()), 0o600);
    assert_eq!(mode(journal.path().parent().expect("dir")), 0o700);
    fs::set_permissions(journal.path(), fs::Permissions::from_mode(0o644)).expect("chmod");
    journal.append(&entry("b")).expect("append");
    assert_eq!(
        mode(journal.path()),
        0o600,
        "a file left open is closed again"
    );
    journal
        .compact(|contents| (contents.entries[1..].to_vec(), ()))
        .expect("compact");
    assert_eq!(mode(journal.path()), 0o600, "the compacted file too");
}

#[test]
fn a_torn_last_line_is_skipped_and_not_glued_to_the_next_entry() {
    let (_dir, journal) = journal();
    journal.append(&entry("before")).expect("append");
    let mut file = OpenOptions::new()
        .append(true)
        .open(journal.path())
        .expect("open");
    file.write_all(br#"{"op":"torn","pid":1,"at":"2026-"#)
        .expect("tear");
    drop(file);
    let torn = journal.read().expect("read");
    assert_eq!(torn.entries.len(), 1);
    assert_eq!(torn.unreadable, 1);

    journal.append(&entry("after")).expect("append");
    let contents = journal.read().expect("read");
    let ops: Vec<&str> = contents.entries.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops, ["before", "after"]);
    assert_eq!(contents.unreadable, 1);

    // Compaction drops the torn line for good.
    journal
        .compact(|contents| (contents.entries, ()))
        .expect("compact");
    let compacted = journal.read().expect("read");
    assert_eq!(compacted.entries.len(), 2);
    assert_eq!(compacted.unreadable, 0);
}

#[test]
fn no_file_reads_as_empty_and_compacts_to_nothing() {
    let (_dir, journal) = journal();
    assert!(journal.read().expect("read").entries.is_empty());
    let seen = journal
        .compact(|contents| (Vec::new(), contents.entries.len()))
        .expect("compact");
    assert_eq!(seen, 0);
}

#[test]
fn a_compaction_keeps_the_lines_of_a_newer_version_and_drops_torn_ones() {
    let (_dir, journal) = journal();
    journal.append(&entry("dropped")).expect("append");
    let newer = r#"{"op":"x","event":"from_the_future","at":"2027-01-01T00:00:00Z"}"#;
    let path = journal.path().to_owned();
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str(newer);
    text.push_str("\n{\"torn\n");
    std::fs::write(&path, text).expect("write");
    let seen = journal
        .compact(|contents| {
            assert_eq!(contents.foreign, [newer]);
            assert_eq!(contents.unreadable, 1);
            (Vec::new(), contents.entries.len())
        })
        .expect("compact");
    assert_eq!(seen, 1);
    let after = std::fs::read_to_string(&path).expect("read");
    assert_eq!(
        after,
        format!("{newer}\n"),
        "only the newer version's line is left"
    );
}

/// Writers on their own file descriptors (as separate processes have)
/// append while another compacts, dropping the `drop-` operations: every
/// kept entry survives, whole, and none is written into a replaced file.
#[test]
fn concurrent_writers_and_compactions_lose_and_tear_nothing() {
    const WRITERS: usize = 6;
    const EACH: usize = 60;
    let (_dir, journal) = journal();
    let compactions = std::sync::atomic::AtomicBool::new(true);
    std::thread::scope(|scope| {
        let compactor = scope.spawn(|| {
            let mut runs = 0;
            while compactions.load(std::sync::atomic::Ordering::SeqCst) {
                journal
                    .compact(|contents| {
                        assert_eq!(contents.unreadable, 0, "a torn line");
                        let keep = contents
                            .entries
                            .into_iter()
                            .filter(|e| !e.op.starts_with("drop-"))
                            .collect();
                        (keep, ())
                    })
                    .expect("compact");
                runs += 1;
            }
            runs
        });
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let journal = journal.clone();
                scope.spawn(move || {
                    for i in 0..EACH {
                        journal
                            .append(&entry(&format!("keep-{w}-{i}")))
                            .expect("append");
                        journal
                            .append(&entry(&format!("drop-{w}-{i}")))
                            .expect("append");
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer");
        }
        compactions.store(false, std::sync::atomic::Ordering::SeqCst);
        assert!(compactor.join().expect("compactor") > 0);
    });
    journal
        .compact(|contents| {
            let keep = contents
                .entries
                .into_iter()
                .filter(|e| !e.op.starts_with("drop-"))
                .collect();
            (keep, ())
        })
        .expect("compact");
    let contents = journal.read().expect("read");
    assert_eq!(contents.unreadable, 0);
    let mut ops: Vec<String> = contents.entries.into_iter().map(|e| e.op).collect();
    ops.sort();
    let mut expected: Vec<String> = (0..WRITERS)
        .flat_map(|w| (0..EACH).map(move |i| format!("keep-{w}-{i}")))
        .collect();
    expected.sort();
    assert_eq!(ops, expected);
}

#[test]
fn an_entry_reads_back_as_written() {
    let (_dir, journal) = journal();
    let sent = Entry::now(
        "op-1",
        Event::KeyCreateSent {
            app_id: "app".into(),
            api_key_name: "ci".into(),
            working_directory: Some("/work".into()),
        },
    );
    journal.append(&sent).expect("append");
    let text = fs::read_to_string(journal.path()).expect("read");
    assert!(text.contains(r#""event":"key_create_sent""#), "{text}");
    assert_eq!(journal.read().expect("read").entries, [sent]);
}
