//! Ephemeral keys nobody closed. Terraform skips `CloseEphemeralResource`
//! whenever anything upstream of the close failed (a `local-exec` that
//! exits non-zero, a later ephemeral resource that fails, Ctrl-C, a kill),
//! so a key opened for one run may outlive it. Two nets catch it: the
//! process that opened it revokes what is still open when its run ends
//! (StopProvider, Shutdown, Terraform gone), and when that process did not
//! live to do so, the next configure on this machine revokes the keys the
//! journal shows open by a process that no longer exists.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tfplugin::{Diagnostic, Diagnostics};
use uuid::Uuid;

use crate::client::AccountClient;
use crate::journal::report::OpenEphemeral;
use crate::journal::{Event, Journal, Operation, claim};
use crate::resources::api_key::journaled::{revoke_again, revoke_within};

/// How long a revoke of a key left open may take at the end of a run:
/// go-plugin kills a provider about 2 s after Shutdown.
const END_OF_RUN_LIMIT: Duration = Duration::from_secs(2);
/// At configure, which waits for it, a revoke may take longer.
const AT_CONFIGURE_LIMIT: Duration = Duration::from_secs(30);

/// A key this process opened and has not closed.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenKey {
    pub app_id: String,
    pub api_key_id: String,
    pub label: String,
    pub journal_op: Option<String>,
}

/// The keys this process holds open, by key ID.
#[derive(Debug, Default)]
pub struct OpenKeys(Mutex<BTreeMap<String, OpenKey>>);

impl OpenKeys {
    pub fn opened(&self, key: OpenKey) {
        self.map().insert(key.api_key_id.clone(), key);
    }

    pub fn closed(&self, api_key_id: &str) {
        self.map().remove(api_key_id);
    }

    pub fn is_empty(&self) -> bool {
        self.map().is_empty()
    }

    pub fn take_all(&self) -> Vec<OpenKey> {
        std::mem::take(&mut *self.map()).into_values().collect()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, OpenKey>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Records that the key of `journal_op` is closed.
pub fn journal_closed(journal_op: Option<&str>) {
    if let (Some(op), Some(journal)) = (journal_op, Journal::from_env()) {
        Operation::resume(journal, op).record(Event::Closed);
    }
}

/// The end of this process's run: revokes every key it still holds open.
/// All at once, each within [`END_OF_RUN_LIMIT`]: after a second Ctrl-C
/// Terraform kills the plugin about 2 s later, so one revoke after another
/// would reach only the first key or two. Nobody is left to read a
/// diagnostic, so failures go to stderr and the log; the journal keeps
/// them open for the next configure.
pub async fn revoke_at_end_of_run(client: &AccountClient, keys: &OpenKeys) {
    let mut revokes = tokio::task::JoinSet::new();
    for key in keys.take_all() {
        let client = client.clone();
        revokes.spawn(async move { revoke_one_at_end_of_run(&client, key).await });
    }
    // A revoke that panicked has said nothing: its key stays in the
    // journal for the next configure.
    while revokes.join_next().await.is_some() {}
}

async fn revoke_one_at_end_of_run(client: &AccountClient, key: OpenKey) {
    match revoke_within(client, &key.app_id, &key.api_key_id, END_OF_RUN_LIMIT).await {
        Ok(_) => {
            tracing::info!(key = %key.label, "revoked an ephemeral key Terraform did not close");
            journal_closed(key.journal_op.as_deref());
        }
        Err(err) => {
            tracing::warn!(key = %key.label, "cannot revoke an ephemeral key left open: {err}");
            let _ = writeln!(
                std::io::stderr(),
                "terraform-provider-parallel: Terraform did not close the ephemeral {}, and \
                 revoking it failed ({err}); the next run on this machine tries again.",
                key.label
            );
        }
    }
}

/// The next configure: revokes the keys an ended process left open, when
/// this configuration talks to the API they were made with and no other
/// configure has claimed them (see `journal::claim`).
pub async fn revoke_left_open(
    client: &AccountClient,
    journal: &Journal,
    keys: Vec<OpenEphemeral>,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for key in keys {
        let same_api = Uuid::parse_str(&key.app_id)
            .ok()
            .and_then(|app_id| client.key_url(app_id, &key.api_key_id));
        if key.revoke_url.is_none() || same_api != key.revoke_url {
            // Another base URL (or one not known): a 404 here would say
            // nothing about that key.
            continue;
        }
        // Another configure (of this process or another) revokes it, and
        // says so: once is enough.
        if !claim::claim(journal, &key.op) {
            continue;
        }
        let name = &key.api_key_name;
        let what = format!(
            "ephemeral API key {name:?} (ID {}) of app {}, opened at {}",
            key.api_key_id, key.app_id, key.opened_at
        );
        match revoke_again(client, &key.app_id, &key.api_key_id, AT_CONFIGURE_LIMIT).await {
            // Another organization's token: the key is left for a
            // configuration, or a run, that can see its app.
            Ok(false) => claim::release(journal, &key.op),
            Ok(true) => {
                Operation::resume(journal.clone(), &key.op).record(Event::Closed);
                diags.push(Diagnostic::warning(
                    format!("Revoked ephemeral API key {name:?} left open by an earlier run"),
                    format!(
                        "An earlier Terraform run on this machine ended without closing the \
                         {what} (Terraform skips closing an ephemeral resource when something \
                         before the close failed). It has been revoked now; nothing is left to \
                         do."
                    ),
                ));
            }
            Err(err) => diags.push(Diagnostic::warning(
                format!("Ephemeral API key {name:?} left open by an earlier run"),
                format!(
                    "An earlier Terraform run on this machine ended without closing the {what}, \
                     and revoking it now failed: {err}. The next run tries again; or revoke it \
                     in the Parallel platform."
                ),
            )),
        }
    }
    diags
}

#[cfg(test)]
#[path = "abandoned_tests.rs"]
mod tests;
