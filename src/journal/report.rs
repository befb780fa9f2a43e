//! What the next configure on this machine does with the journal: the
//! operations of processes that have ended and never settled are named to
//! the user once (or, for ephemeral keys, handed back to be revoked), and
//! every settled or reported operation is dropped, which keeps the file to
//! the few operations still open.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use tfplugin::{Diagnostic, Diagnostics};

use super::{Contents, Entry, Event, Journal};

/// How long an entry that later runs act on is kept: a revoke that never
/// reached Terraform, for reads to drop its key from state (a plan's
/// refresh is not saved, so the entry must outlive several runs; nothing
/// tells when the state has caught up), and an ephemeral key left open,
/// for configures to revoke.
const KEPT_FOR_RETRIES: Duration = Duration::from_secs(7 * 24 * 3600);

/// An ephemeral key whose run is over and whom nobody closed.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenEphemeral {
    pub op: String,
    pub app_id: String,
    pub api_key_name: String,
    pub api_key_id: String,
    pub revoke_url: Option<String>,
    pub opened_at: String,
}

/// What one configure found.
#[derive(Debug, Default)]
pub struct Findings {
    pub diagnostics: Diagnostics,
    /// To revoke now; their entries stay until a `Closed` follows.
    pub open_ephemerals: Vec<OpenEphemeral>,
    /// Revokes sent by an ended process that never learnt the outcome: to
    /// send again (a DELETE is idempotent), so that reads can drop the key.
    pub unfinished_revokes: Vec<UnfinishedRevoke>,
}

/// A revoke whose answer its process never read.
#[derive(Debug, Clone, PartialEq)]
pub struct UnfinishedRevoke {
    pub op: String,
    pub app_id: String,
    pub api_key_id: String,
    pub revoke_url: Option<String>,
}

/// Reads and compacts the journal once, under its lock, so that of several
/// provider processes configuring at once only one names each operation.
pub fn at_configure(journal: &Journal) -> Findings {
    let now = SystemTime::now();
    let result =
        journal.compact(|contents| decide(contents, now, |entry| entry.process.has_ended()));
    match result {
        Ok(findings) => findings,
        Err(err) => Findings {
            diagnostics: Diagnostic::warning(
                "Cannot use the provider's journal",
                format!(
                    "{}: {err}. The journal is how a later run names keys and charges whose \
                     outcome an interrupted run never handed to Terraform, and revokes \
                     ephemeral keys it left open; without it, an interrupted run can leave \
                     either unnoticed. Make that directory writable, or set {} to a writable \
                     file. If the file exists, read it yourself: each `key_created` or \
                     `charge_sent` line without a later `handed` names a key or charge to check \
                     in the Parallel platform. A `handed` line says the answer was handed to \
                     Terraform, not that Terraform saved it: if Terraform was killed right \
                     after, check that key in the state too.",
                    journal.path().display(),
                    super::ENV_JOURNAL_FILE
                ),
            )
            .into(),
            open_ephemerals: Vec::new(),
            unfinished_revokes: Vec::new(),
        },
    }
}

/// The keys whose revoke Parallel confirmed but whose outcome never reached
/// Terraform, by the URL they were revoked at (an ID alone could be another
/// API's key): their state is stale, and a read removes them from it.
pub fn revoked_keys(journal: &Journal) -> BTreeSet<String> {
    let Ok(contents) = journal.read() else {
        return BTreeSet::new();
    };
    by_operation(&contents.entries)
        .into_values()
        .filter(|entries| {
            entries.iter().any(|e| e.event == Event::Revoked)
                && !entries.iter().any(|e| e.event.settles())
        })
        .filter_map(|entries| match &entries.first()?.event {
            Event::RevokeSent { revoke_url, .. } => revoke_url.clone(),
            _ => None,
        })
        .collect()
}

fn by_operation(entries: &[Entry]) -> BTreeMap<&str, Vec<&Entry>> {
    let mut ops: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        ops.entry(entry.op.as_str()).or_default().push(entry);
    }
    ops
}

/// What to keep, and what to say, at `now`: `ended` tells whether the
/// process that began an operation is gone.
fn decide(
    contents: Contents,
    now: SystemTime,
    ended: impl Fn(&Entry) -> bool,
) -> (Vec<Entry>, Findings) {
    let mut findings = Findings::default();
    let mut keep_ops = BTreeSet::new();
    for (op, entries) in by_operation(&contents.entries) {
        if entries.iter().any(|e| e.event.settles()) {
            continue;
        }
        let Some(first) = entries.first() else {
            continue;
        };
        if !ended(first) {
            keep_ops.insert(op.to_owned());
            continue;
        }
        let created = entries.iter().find_map(|e| match &e.event {
            Event::KeyCreated {
                api_key_id,
                display_value,
                revoke_url,
            } => Some((api_key_id, display_value, revoke_url)),
            _ => None,
        });
        match &first.event {
            Event::KeyCreateSent {
                app_id,
                api_key_name,
                working_directory,
            } => {
                let key = LostKey {
                    app_id,
                    api_key_name,
                    sent_at: &first.at,
                    working_directory: working_directory.as_deref(),
                    created: created
                        .map(|(id, shown, url)| (id.as_str(), shown.as_deref(), url.as_deref())),
                };
                findings.diagnostics.push(key.warning());
            }
            Event::EphemeralOpenSent {
                app_id,
                api_key_name,
                working_directory,
            } => match created {
                // Revoked at configure when the configuration talks to the
                // API it was made with; a week of trying is enough.
                Some((api_key_id, _, revoke_url))
                    if younger_than(&first.at, KEPT_FOR_RETRIES, now) =>
                {
                    keep_ops.insert(op.to_owned());
                    findings.open_ephemerals.push(OpenEphemeral {
                        op: op.to_owned(),
                        app_id: app_id.clone(),
                        api_key_name: api_key_name.clone(),
                        api_key_id: api_key_id.clone(),
                        revoke_url: revoke_url.clone(),
                        opened_at: first.at.clone(),
                    });
                }
                _ => {
                    let key = LostKey {
                        app_id,
                        api_key_name,
                        sent_at: &first.at,
                        working_directory: working_directory.as_deref(),
                        created: created.map(|(id, shown, url)| {
                            (id.as_str(), shown.as_deref(), url.as_deref())
                        }),
                    };
                    findings.diagnostics.push(key.warning());
                }
            },
            Event::ChargeSent {
                idempotency_key,
                amount_cents,
                working_directory,
            } => {
                let answered = entries.iter().find_map(|e| match &e.event {
                    Event::ChargeAnswered {
                        credit_balance_cents,
                    } => Some(*credit_balance_cents),
                    _ => None,
                });
                // Only a charge whose time is known and recent can be replayed
                // safely; past that, the key may charge again.
                let replay_safe = humantime::parse_rfc3339(&first.at)
                    .ok()
                    .and_then(|at| now.duration_since(at).ok())
                    .is_some_and(|elapsed| elapsed < REPLAY_SAFE_FOR);
                findings.diagnostics.push(lost_charge(
                    idempotency_key,
                    *amount_cents,
                    &first.at,
                    working_directory.as_deref(),
                    answered,
                    replay_safe,
                ));
            }
            Event::RevokeSent {
                app_id,
                api_key_id,
                revoke_url,
            } => {
                if !younger_than(&first.at, KEPT_FOR_RETRIES, now) {
                    continue;
                }
                keep_ops.insert(op.to_owned());
                if !entries.iter().any(|e| e.event == Event::Revoked) {
                    findings.unfinished_revokes.push(UnfinishedRevoke {
                        op: op.to_owned(),
                        app_id: app_id.clone(),
                        api_key_id: api_key_id.clone(),
                        revoke_url: revoke_url.clone(),
                    });
                }
            }
            // Outcomes without their beginning: nothing to act on.
            _ => {}
        }
    }
    if contents.unreadable > 0 {
        tracing::warn!(
            lines = contents.unreadable,
            "dropped journal lines that are not entries (torn by a killed process)"
        );
    }
    let keep = contents
        .entries
        .into_iter()
        .filter(|entry| keep_ops.contains(&entry.op))
        .collect();
    (keep, findings)
}

/// Whether `at` is less than `age` before `now`; a time that cannot be read
/// counts as young (kept, rather than dropped unreported).
fn younger_than(at: &str, age: Duration, now: SystemTime) -> bool {
    humantime::parse_rfc3339(at)
        .ok()
        .and_then(|at| now.duration_since(at).ok())
        .is_none_or(|elapsed| elapsed < age)
}

/// How long Parallel is known to de-duplicate charges on one idempotency
/// key (at least 24 hours), less an hour for clocks that disagree.
const REPLAY_SAFE_FOR: Duration = Duration::from_secs(23 * 3600);

fn where_run(at: &str, working_directory: Option<&str>) -> String {
    match working_directory {
        Some(dir) => format!("at {at}, in {dir}"),
        None => format!("at {at}"),
    }
}

/// A key whose create was sent by a run that ended before Terraform had
/// its outcome.
struct LostKey<'a> {
    app_id: &'a str,
    api_key_name: &'a str,
    sent_at: &'a str,
    working_directory: Option<&'a str>,
    /// ID, display value and revoke URL, when Parallel's answer came.
    created: Option<(&'a str, Option<&'a str>, Option<&'a str>)>,
}

impl LostKey<'_> {
    fn warning(&self) -> Diagnostic {
        let (name, app) = (self.api_key_name, self.app_id);
        let when = where_run(self.sent_at, self.working_directory);
        let platform = format!(
            "revoke it in the Parallel platform (app {app}, key named {name:?}, created around \
             {})",
            self.sent_at
        );
        let (what, how) = match self.created {
            Some((id, shown, url)) => {
                let shown = shown
                    .map(|s| format!(", shown as {s:?}"))
                    .unwrap_or_default();
                let how = match url {
                    Some(url) => format!(
                        "{platform}, or with the Account API: curl -X DELETE -H \
                         \"Authorization: Bearer $PARALLEL_ACCESS_TOKEN\" '{url}'"
                    ),
                    None => platform,
                };
                (
                    format!(
                        "Parallel created API key {name:?} (ID {id}{shown}) of app {app}, but \
                         the run ended before Terraform had it, so no Terraform state records \
                         it and it is still live"
                    ),
                    how,
                )
            }
            None => (
                format!(
                    "the request to create API key {name:?} in app {app} was sent, but the run \
                     ended before its answer came, so Parallel may have created the key (its \
                     ID is unknown) and no Terraform state records it"
                ),
                platform,
            ),
        };
        // Terraform folds warnings of one summary into "and N more similar
        // warnings": each key gets its own, so every one is read.
        Diagnostic::warning(
            format!("API key {name:?} created while Terraform was interrupted"),
            format!(
                "An earlier Terraform run on this machine was interrupted ({when}): {what}. To \
                 remove it, {how}. If its resource is still in the configuration, apply creates \
                 another key for it; the one named here is not used by Terraform. This warning \
                 is shown once."
            ),
        )
    }
}

fn dollars(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

fn lost_charge(
    idempotency_key: &str,
    amount_cents: u64,
    sent_at: &str,
    working_directory: Option<&str>,
    answered: Option<Option<f64>>,
    replay_safe: bool,
) -> Diagnostic {
    let when = where_run(sent_at, working_directory);
    let amount = dollars(amount_cents);
    let next = if replay_safe {
        format!(
            "Invoking the action again with idempotency_key = {idempotency_key:?} is safe \
             until 24 hours after {sent_at}: Parallel de-duplicates charges on that key for at \
             least 24 hours, so it charges at most once and reports the balance."
        )
    } else {
        format!(
            "More than a day has passed (or the time is unknown), so Parallel may no longer \
             de-duplicate on {idempotency_key:?}: do not invoke the action again to find out. \
             Check the organization's balance (data \"parallel_balance\") or its billing in \
             the Parallel platform first."
        )
    };
    let outcome = match answered {
        Some(_) => "Parallel answered that the charge was made, but the run ended before \
                    Terraform showed it"
            .to_owned(),
        None => "the run ended before Parallel's answer came, so it is unknown whether the \
                 charge was made"
            .to_owned(),
    };
    Diagnostic::warning(
        format!("Charge {idempotency_key:?} whose outcome never reached Terraform"),
        format!(
            "An earlier Terraform run on this machine was interrupted ({when}) while \
             parallel_add_balance added {amount} ({amount_cents} cents) with idempotency key \
             {idempotency_key:?}: {outcome}. {next} This warning is shown once."
        ),
    )
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
