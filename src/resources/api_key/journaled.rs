//! A key's creates and revokes in the write-ahead journal (see
//! `crate::journal`): what is about to be sent, what Parallel answered,
//! and whether the outcome reached Terraform. Built from [`KeyFacts`],
//! which holds no secret, so the secret cannot end up there.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use tfplugin::Context;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::facts::KeyFacts;
use crate::client::{AccountClient, ApiError, Deletion};
use crate::journal::report::{UnfinishedRevoke, revoked_keys};
use crate::journal::{Event, Journal, Operation, working_directory};
use crate::toolkit;

/// Recorded before a create (of a key or an ephemeral key) is sent.
pub fn create_sent(app_id: &str, api_key_name: &str, ephemeral: bool) -> Operation {
    let (app_id, api_key_name) = (app_id.to_owned(), api_key_name.to_owned());
    let working_directory = working_directory();
    Operation::begin(if ephemeral {
        Event::EphemeralOpenSent {
            app_id,
            api_key_name,
            working_directory,
        }
    } else {
        Event::KeyCreateSent {
            app_id,
            api_key_name,
            working_directory,
        }
    })
}

/// Where a DELETE revokes the key, when the configured client says.
pub fn revoke_url(ctx: &Context, key: &KeyFacts) -> Option<String> {
    let api = toolkit::api(ctx).ok()?;
    let app_id = Uuid::parse_str(key.app_id.as_deref()?).ok()?;
    api.client.key_url(app_id, key.id.as_deref()?)
}

/// Parallel answered a create: the key exists (its ID, if the answer had
/// one).
pub fn created(ctx: &Context, operation: &Operation, key: &KeyFacts) {
    let Some(api_key_id) = key.id.clone() else {
        return;
    };
    operation.record(Event::KeyCreated {
        api_key_id,
        display_value: key.display_value.clone(),
        revoke_url: revoke_url(ctx, key),
    });
}

/// The operation is Terraform's once its answer is handed to Terraform's
/// connection (`Event::Handed`: handed, not known to be saved in its
/// state); undelivered, it stays open for the next configure on this
/// machine to name.
pub fn handed_when_delivered(ctx: &Context, operation: Operation) {
    ctx.delivery.on_delivery(move |delivered| {
        if delivered {
            operation.record(Event::Handed);
        }
    });
}

/// Terraform was gone when Parallel created this key: said on stderr at
/// once (the journal keeps the record for the next run). Never fails: this
/// runs on the way to the process's exit, with nobody to tell but stderr.
pub fn say_undelivered(ctx: &Context, key: &KeyFacts) {
    let journal = Journal::from_env().map_or_else(
        || "no journal could be written: set HOME".to_owned(),
        |journal| {
            format!(
                "the journal {} keeps it for the next run on this machine to name",
                journal.path().display()
            )
        },
    );
    let how = match revoke_url(ctx, key) {
        Some(url) => {
            format!("curl -X DELETE -H \"Authorization: Bearer $PARALLEL_ACCESS_TOKEN\" '{url}'")
        }
        None => format!("revoke it in the Parallel platform ({})", key.finding_aid()),
    };
    tracing::error!(key = %key.label(), "created while Terraform was gone");
    // Not eprintln!, which panics when stderr's reader (Terraform) is gone.
    let _ = writeln!(
        std::io::stderr(),
        "terraform-provider-parallel: Terraform was gone when Parallel created {}; the key is \
         live and in no Terraform state ({journal}). To remove it: {how}.",
        key.label()
    );
}

/// Recorded before a revoke is sent.
pub fn revoke_sent(ctx: &Context, key: &KeyFacts, app_id: Uuid, api_key_id: &str) -> Operation {
    Operation::begin(Event::RevokeSent {
        app_id: app_id.to_string(),
        api_key_id: api_key_id.to_owned(),
        revoke_url: revoke_url(ctx, key),
    })
}

/// Whether the journal shows this key revoked by a run whose outcome never
/// reached Terraform: its state is stale. Read once per process (a plan
/// reads every key), after configure has finished what it could.
pub fn revoked_unbeknown_to_state(ctx: &Context, key: &KeyFacts) -> bool {
    let revoked = revoked_unbeknown();
    // Nearly always empty: then a read costs no URL building.
    !revoked.is_empty() && revoke_url(ctx, key).is_some_and(|url| revoked.contains(&url))
}

fn revoked_unbeknown() -> &'static BTreeSet<String> {
    static REVOKED: OnceLock<BTreeSet<String>> = OnceLock::new();
    REVOKED.get_or_init(|| {
        Journal::from_env()
            .map(|journal| revoked_keys(&journal))
            .unwrap_or_default()
    })
}

/// The next configure: sends again the revokes an ended process sent and
/// never read the answer of (a DELETE is idempotent), so that reads can
/// tell whether the key is gone. Only to the API they were sent to.
pub async fn finish_revokes(
    client: &AccountClient,
    journal: &Journal,
    revokes: Vec<UnfinishedRevoke>,
) {
    for revoke in revokes {
        let Ok(app_id) = Uuid::parse_str(&revoke.app_id) else {
            continue;
        };
        if revoke.revoke_url.is_none()
            || client.key_url(app_id, &revoke.api_key_id) != revoke.revoke_url
        {
            continue;
        }
        match revoke_again(client, &revoke.app_id, &revoke.api_key_id, FINISH_LIMIT).await {
            Ok(true) => Operation::resume(journal.clone(), &revoke.op).record(Event::Revoked),
            Ok(false) => tracing::info!(
                api_key_id = %revoke.api_key_id,
                "an interrupted revoke's app is not this token's to see; left for its own"
            ),
            Err(err) => tracing::warn!(
                api_key_id = %revoke.api_key_id,
                "cannot finish an interrupted revoke: {err}"
            ),
        }
    }
}

/// How long configure waits for one interrupted revoke to finish.
const FINISH_LIMIT: Duration = Duration::from_secs(30);

/// A revoke sent again by a later configure, maybe with another
/// organization's token. `Ok(true)`: the key is revoked. `Ok(false)`:
/// nothing learnt, because Parallel said "no such key" and this token
/// cannot see the key's app (another organization's token gets that
/// answer for a live key too).
pub async fn revoke_again(
    client: &AccountClient,
    app_id: &str,
    api_key_id: &str,
    limit: Duration,
) -> Result<bool, ApiError> {
    match revoke_within(client, app_id, api_key_id, limit).await? {
        Deletion::Revoked => Ok(true),
        Deletion::AlreadyGone => {
            let Ok(app) = Uuid::parse_str(app_id) else {
                return Ok(false);
            };
            let cancel = CancellationToken::new();
            match tokio::time::timeout(limit, client.list_apps(&cancel)).await {
                Ok(Ok(apps)) => Ok(apps.iter().any(|a| a.has_id(app))),
                Ok(Err(err)) => Err(err),
                Err(_) => Err(ApiError::Timeout { after: limit }),
            }
        }
    }
}

/// Revokes a key on a token of its own (the stop that led here, if any,
/// cancelled the call's), within `limit`.
pub async fn revoke_within(
    client: &AccountClient,
    app_id: &str,
    api_key_id: &str,
    limit: Duration,
) -> Result<Deletion, ApiError> {
    let app_id = Uuid::parse_str(app_id).map_err(|_| ApiError::InvalidInput {
        problem: format!("{app_id:?} is not a UUID"),
    })?;
    // Not the call's token: the stop that led here cancelled that one.
    let cancel = CancellationToken::new();
    let revoke = client.delete_key(app_id, api_key_id, &cancel);
    match tokio::time::timeout(limit, revoke).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::Timeout { after: limit }),
    }
}
