//! Which configure revokes an ephemeral key an ended run left open. Every
//! configure reads the journal, and several run at once: one process per
//! provider configuration, or several configures in one process. Each
//! would revoke the key and warn about it; instead the first to claim it,
//! under the journal's lock, does, and the others leave it while that
//! process lives. A claimant that ends without closing the key (killed)
//! leaves its claim void, so the key is never stranded by it.

use super::{Entry, Event, Journal, Operation, ProcessId};

/// Claims the key of operation `op` for this process, unless it is closed
/// or a live process holds it. A journal that cannot be used claims
/// nothing and stops nothing: the key is revoked, as before claims were.
pub fn claim(journal: &Journal, op: &str) -> bool {
    let entry = Entry::now(op, Event::RevokeClaimed);
    let free =
        |contents: &super::Contents| is_free(&contents.entries, op, |process| process.has_ended());
    journal.append_if(&entry, free).unwrap_or_else(|err| {
        tracing::warn!(path = %journal.path().display(), "cannot claim a key in the journal: {err}");
        true
    })
}

/// Gives the claim up: this configuration cannot act on the key (another
/// API or organization), another may.
pub fn release(journal: &Journal, op: &str) {
    Operation::resume(journal.clone(), op).record(Event::RevokeUnclaimed);
}

/// Whether `op` is open and unclaimed. A claim is only appended when none
/// holds, so the last claim or release is the holder's.
fn is_free(entries: &[Entry], op: &str, ended: impl Fn(&ProcessId) -> bool) -> bool {
    let mut entries = entries.iter().filter(|entry| entry.op == op);
    if entries.clone().any(|entry| entry.event.settles()) {
        return false;
    }
    let last_claim =
        entries.rfind(|entry| matches!(entry.event, Event::RevokeClaimed | Event::RevokeUnclaimed));
    match last_claim {
        Some(entry) => entry.event == Event::RevokeUnclaimed || ended(&entry.process),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: u32 = 2;
    const DEAD: u32 = 1;

    fn by(pid: u32, event: Event) -> Entry {
        Entry {
            process: ProcessId { pid, started: None },
            ..Entry::now("eph", event)
        }
    }

    fn free(entries: &[Entry]) -> bool {
        is_free(entries, "eph", |process| process.pid == DEAD)
    }

    #[test]
    fn a_key_is_free_until_a_live_process_claims_it_and_again_once_released() {
        assert!(free(&[]));
        let claimed = by(LIVE, Event::RevokeClaimed);
        assert!(!free(std::slice::from_ref(&claimed)));
        assert!(free(&[claimed.clone(), by(LIVE, Event::RevokeUnclaimed)]));
        assert!(
            free(&[by(DEAD, Event::RevokeClaimed)]),
            "its claimant ended"
        );
        assert!(
            !free(&[by(LIVE, Event::Closed)]),
            "closed: nothing to revoke"
        );
        assert!(!free(&[by(DEAD, Event::RevokeClaimed), claimed]));
    }

    #[test]
    fn of_two_claims_in_one_process_one_holds() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = Journal::at(dir.path().join("journal.jsonl"));
        assert!(claim(&journal, "eph"));
        assert!(!claim(&journal, "eph"), "held by this live process");
        release(&journal, "eph");
        assert!(claim(&journal, "eph"));
        assert!(claim(&journal, "other"), "claims are per key");
    }
}
