//! One line of the journal: which operation, which process, when, and what
//! happened to it. Every field is something a person may read; none is a
//! secret (the types that build these hold no `Secret`).

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::process::ProcessId;

/// One record. The entries of one operation share its `op`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Names one operation: `<pid>-<unix nanos>-<sequence>`.
    pub op: String,
    /// The provider process that wrote this entry.
    #[serde(flatten)]
    pub process: ProcessId,
    /// RFC 3339, seconds.
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened. The first entry of an operation says what was about to
/// be sent; later ones its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// About to ask Parallel to create a key (a `parallel_api_key`).
    KeyCreateSent {
        app_id: String,
        api_key_name: String,
        /// Terraform's working directory, to find the configuration.
        working_directory: Option<String>,
    },
    /// About to ask for an ephemeral key (`ephemeral "parallel_api_key"`).
    EphemeralOpenSent {
        app_id: String,
        api_key_name: String,
        working_directory: Option<String>,
    },
    /// Parallel answered a create: the key exists.
    KeyCreated {
        api_key_id: String,
        display_value: Option<String>,
        /// Where a DELETE revokes it.
        revoke_url: Option<String>,
    },
    /// About to revoke a key.
    RevokeSent {
        app_id: String,
        api_key_id: String,
        /// Where the DELETE went, so that only a configuration talking to
        /// the same API finishes it.
        revoke_url: Option<String>,
    },
    /// Parallel answered that the key is revoked (or was already gone).
    Revoked,
    /// About to add balance.
    ChargeSent {
        idempotency_key: String,
        amount_cents: u64,
        working_directory: Option<String>,
    },
    /// Parallel answered the charge.
    ChargeAnswered {
        /// The balance the answer reported, in cents.
        credit_balance_cents: Option<f64>,
    },
    /// Parallel answered that it did nothing (an error before acting): the
    /// operation is settled.
    NothingDone,
    /// The answer was handed to the connection to Terraform while the call
    /// still waited for it. Not known: that it arrived, nor that Terraform
    /// then saved its state (a provider sees neither, and no later run can
    /// tell: a key missing from state is never read). A Terraform killed in
    /// that instant loses the key with the journal saying `handed`, so texts
    /// say "handed to Terraform", never "saved in state".
    Handed,
    /// An ephemeral key was closed (revoked).
    Closed,
    /// A configure took on revoking an ephemeral key an ended run left
    /// open: other configures, of this process or another, leave it to
    /// this one while this process lives (see `claim`).
    RevokeClaimed,
    /// That configure gave the key up (it talks to another API or
    /// organization): another configure may claim it.
    RevokeUnclaimed,
}

impl Event {
    /// The events that end an operation: nothing is left to say about it.
    pub fn settles(&self) -> bool {
        matches!(self, Event::NothingDone | Event::Handed | Event::Closed)
    }
}

impl Entry {
    /// An entry of operation `op`, written now by this process.
    pub fn now(op: &str, event: Event) -> Entry {
        Entry {
            op: op.to_owned(),
            process: ProcessId::current(),
            at: rfc3339_now(),
            event,
        }
    }
}

/// A fresh operation ID, unique on this machine: the PID tells processes
/// apart, the time a PID reused, the sequence the operations of one process.
pub fn new_op() -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{sequence}", std::process::id())
}

pub fn rfc3339_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// The working directory as text, for entries that help find a
/// configuration.
pub fn working_directory() -> Option<String> {
    std::env::current_dir()
        .ok()
        .map(|dir| dir.display().to_string())
}
